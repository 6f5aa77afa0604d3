"""How steady the machine was while the figures were taken: a fixed workload timed between
parts, shown as the table's last row (never judged).

The machine these figures are taken on is shared, with slow spells lasting from seconds to
minutes in which everything runs up to twice as slow, the fake (with its larger working set)
more than bare Starlette: in one, a state read on 100,000 sessions read 1.33 of an empty fake's,
and 0.99 a few minutes later. Measuring a part again when the workload read slow was tried:
within one process the workload itself read 82 to 113 ms across a minute, so most parts ran
twice and the run took eight minutes, figures no steadier. A row that says how far the
machine's speed moved lets a reader tell a figure taken in a slow spell from a regression.
"""

from __future__ import annotations

import math
import time

from benchmarks.load import pinned
from benchmarks.table import Row

# The workload: bytecode over a dict larger than the caches, as the fake's work is.
KEYS = 200_000


def workload_seconds() -> float:
    """The best of three timings of a fixed workload, on core 0: where the in-process rounds and
    the served fakes run (the guest's two cores can slow down one at a time)."""
    best = math.inf
    with pinned(0):
        for _ in range(3):
            best = min(best, _workload())
    return best


def _workload() -> float:
    start = time.perf_counter()
    table = {key: str(key) for key in range(KEYS)}
    total = 0
    for key in range(0, KEYS * 7919, 7919):
        total += len(table[key % KEYS])
    return time.perf_counter() - start


def steadiness_row(readings: list[float]) -> Row:
    """The slowest reading against the fastest, in milliseconds, every reading in the note."""
    shown = ", ".join(f"{seconds * 1000:.0f}" for seconds in readings)
    return Row(
        "machine: a fixed workload, slowest vs fastest",
        max(readings) * 1000,
        min(readings) * 1000,
        "ms",
        "timed between parts, on core 0",
        0,
        sense="info",
        note=f"{len(readings)} readings, in order (ms): {shown}",
    )
