"""A part measured while the machine itself ran slow is measured again.

The machine these figures are taken on is shared, and has slow spells lasting minutes in which
everything runs up to twice as slow, the fake (with its larger working set) more than bare
Starlette: in one, a state read on 100,000 sessions read 1.33 of an empty fake's, and 0.99 a
few minutes later. A fixed workload is timed before and after each part; when either timing is
more than SLOW times the fastest this run has seen, the part runs again, up to `attempts` times
in all (3 at full size), and its rows' notes say what happened. Only the machine is judged this
way, never a figure: a part whose figures fail on a steady machine is not run again.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

from benchmarks.load import pinned
from benchmarks.table import Row, Skipped

SLOW = 1.2
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


class Steadiness:
    """Runs benchmark parts, each again while the machine reads slow (see the module's doc)."""

    def __init__(self, attempts: int, timing: Callable[[], float] = workload_seconds) -> None:
        self._attempts = attempts
        self._timing = timing
        self.fastest = math.inf

    def _timed(self) -> float:
        seconds = self._timing()
        self.fastest = min(self.fastest, seconds)
        return seconds

    def run(self, part: Callable[[], Sequence[Row | Skipped]]) -> list[Row | Skipped]:
        if self._attempts <= 1:  # nothing to do about a slow machine: no need to time it
            return list(part())
        slow_attempts: list[float] = []
        while True:
            before = self._timed()
            rows = list(part())
            slowdown = max(before, self._timed()) / self.fastest
            if slowdown <= SLOW or len(slow_attempts) + 1 == self._attempts:
                break
            slow_attempts.append(slowdown)
        if slowdown > SLOW:
            said = f"the machine ran slow in all {self._attempts} attempts (last {slowdown:.2f}x)"
        elif slow_attempts:
            shown = ", ".join(f"{each:.2f}x" for each in slow_attempts)
            said = f"measured again: the machine ran slow before ({shown})"
        else:
            return rows
        for row in rows:
            if isinstance(row, Row):
                row.note = f"{row.note}; {said}" if row.note else said
        return rows
