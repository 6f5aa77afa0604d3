"""The benchmark suite: each figure with its baseline measured in the same run, interleaved, as a
ratio against the target of the performance issue (#13). Prints a table and writes JSON.

    .venv/bin/python -m benchmarks [--size tiny|small|full] [--json FILE] [--only NAME ...]

- inprocess: the whole quick edit (URL upload; a real MP4 upload) against bare Starlette
  answering the same round-trips through the same streaming transport, in several fresh
  processes (the one with the median ratio is shown);
- growth: a state read, an extraction, filling and a journal query on a fake holding many
  sessions against a nearly empty one;
- renders: a render's first download once its picture's loop is encoded, and loop encodes;
- live: requests per second of an authenticated JSON endpoint, the fake against a bare
  Starlette route on the same uvicorn settings, in several runs of fresh servers (the one with
  the median ratio is shown), and against Prism mocking it;
- streams: many concurrent /run_sse streams on one served fake: errors, memory, event lag.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.growth import growth_rows
from benchmarks.inprocess import quick_edit_rows_across_processes
from benchmarks.live import live_rows
from benchmarks.renders import render_rows
from benchmarks.steady import steadiness_row, workload_seconds
from benchmarks.streams import stream_rows
from benchmarks.table import Row, Skipped, table

SIZES: dict[str, dict[str, Any]] = {
    # The test suite's: that it runs, not what it says. Heartbeats come every 15 API s: a
    # shorter hold sees none.
    "tiny": {"rounds": 1, "processes": 1, "sessions": 20, "live_seconds": 1, "live_turns": 1,
             "live_pairs": 1, "streams": 20, "hold_seconds": 6},
    "small": {"rounds": 30, "processes": 3, "sessions": 2_000, "live_seconds": 1,
              "live_turns": 1, "live_pairs": 1, "streams": 500, "hold_seconds": 5},
    "full": {"rounds": 200, "processes": 5, "sessions": 100_000, "live_seconds": 2,
             "live_turns": 2, "live_pairs": 5, "streams": 10_000, "hold_seconds": 20},
}  # fmt: skip
PARTS = ("inprocess", "growth", "renders", "live", "streams")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--size", choices=list(SIZES), default="full")
    parser.add_argument("--json", type=Path, help="Also write the rows here.")
    parser.add_argument("--only", choices=PARTS, nargs="+", help="Run only these parts.")
    options = parser.parse_args(argv)
    size = SIZES[options.size]
    chosen = options.only or PARTS
    # Prism is installed (from the npm registry) for a real run, not for a check that the
    # command works.
    install = options.size != "tiny"
    measure: dict[str, Callable[[], Sequence[Row | Skipped]]] = {
        "inprocess": lambda: quick_edit_rows_across_processes(size["rounds"], size["processes"]),
        "live": lambda: live_rows(
            size["live_seconds"], size["live_turns"], size["live_pairs"], install_prism=install
        ),
        "streams": lambda: stream_rows(size["streams"], size["hold_seconds"]),
        "growth": lambda: growth_rows(size["sessions"]),
        "renders": lambda: asyncio.run(render_rows()),
    }
    # The in-process quick edits first, on a fresh heap: after the 10,000 streams' load they
    # read 1.43 instead of 1.33-1.38. Then the served ones, while this process (their load) is
    # small: 100,000 sessions made in process leave a heap whose collections would slow the
    # load, not the fake. The live turns before the streams: right after 10,000 streams had
    # closed, the fake's turns read 0.87-0.89 of bare Starlette's, 0.94-0.95 on their own.
    # A fixed workload is timed before, between and after the parts: how steady the machine
    # was (benchmarks/steady.py).
    parts: dict[str, list[Row | Skipped]] = {}
    readings = [workload_seconds()]
    for part in measure:
        if part in chosen:
            parts[part] = [*measure[part]()]
            readings.append(workload_seconds())
    rows = [row for part in PARTS if part in parts for row in parts[part]]
    rows.append(steadiness_row(readings))
    print(table(rows))
    if options.json is not None:
        document = [row.to_json() for row in rows]
        options.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
