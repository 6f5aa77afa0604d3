"""The benchmark suite runs and says what it measured: at a tiny size, a table and its JSON.
What the figures are is the suite's business (python -m benchmarks), never a timed test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from benchmarks.steady import steadiness_row

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow  # it starts servers and holds streams: CI's slow step runs it
def test_the_benchmark_command_prints_a_table_and_writes_its_json(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    # No Prism where it looks: at size tiny a comparison that cannot run is skipped, saying why.
    environment = {**os.environ, "NEMO_FAKE_PRISM_DIR": str(tmp_path / "no-prism")}
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--size", "tiny", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=180, check=False, env=environment,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    table, _, notes = result.stdout.partition("\n\nNotes:\n")
    lines = table.splitlines()
    assert lines[0].split()[:4] == ["figure", "measured", "baseline", "ratio"]
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert len(lines) == 2 + len(rows) and len(rows) >= 10
    for row in rows:  # what a baseline is, where the load came from: said under the table
        if row.get("note"):
            assert f"{row['figure'].strip()}: {row['note']}" in notes
    figures = {row["figure"].split(",")[0].split(":")[0] for row in rows}
    for part in ("in-process quick edit (URL upload)", "state read", "extraction", "filling",
                 "journal query", "render first download", "live GET balance (bearer)",
                 "20 concurrent /run_sse streams", "20 streams open"):  # fmt: skip
        assert any(figure.startswith(part) for figure in figures), part
    for row, line in zip(rows, lines[2:], strict=True):
        assert row["figure"] in line
        if "skipped" in row:
            assert "Prism" in row["figure"] and "not installed" in row["skipped"]
            assert f"skipped: {row['skipped']}" in line
            continue
        verdict = "info" if row["sense"] == "info" else "pass" if row["passed"] else "FAIL"
        assert line.endswith(verdict)
        assert row["baseline"] > 0 and row["ratio"] == row["measured"] / row["baseline"]


async def test_the_bare_baseline_gets_the_same_requests_and_streams_as_many_events() -> None:
    """The in-process ratio compares like with like: a round's event count depends on its
    session, and the bare app streams the fake's count for that round; its ids are as long as
    the fake's, so every URL and header the client sends is as long too."""
    from benchmarks.inprocess import bare_app, quick_edit
    from nemo_fake import FakeConfig, NemoFake, VirtualClock
    from nemo_fake.testing.transport import StreamingASGITransport

    sent: dict[str, list[tuple[str, int]]] = {"fake": [], "bare": []}

    def on_request(side: str) -> Callable[[httpx.Request], Awaitable[None]]:
        async def note(request: httpx.Request) -> None:
            length = sum(
                len(k) + len(v) for k, v in request.headers.raw if k.lower() != b"x-bench-events"
            )
            sent[side].append((request.url.path, len(str(request.url)) + length))

        return note

    config = FakeConfig(tokens_per_address=None, silent_edit_ratio=0)
    counts = set()
    with NemoFake(config, clock=VirtualClock(autojump=True)) as fake:
        async with (
            fake.http(event_hooks={"request": [on_request("fake")]}) as http,
            httpx.AsyncClient(
                transport=StreamingASGITransport(bare_app()),
                base_url=fake.base_url,
                event_hooks={"request": [on_request("bare")]},
            ) as bare,
        ):
            for n in range(8):
                events = await quick_edit(http, n)
                assert await quick_edit(bare, n, bare_events=events) == events
                counts.add(events)
    assert len(counts) > 1  # else this could not tell a count passed on from a fixed one
    assert [length for _, length in sent["fake"]] == [length for _, length in sent["bare"]]


def test_an_in_process_figure_is_the_process_with_the_median_ratio() -> None:
    from benchmarks.table import Row, median_row

    def process(measured: float, baseline: float) -> Row:
        return Row("in-process quick edit", measured, baseline, "ms", "<= 1.3x", 1.3)

    rows = [process(3.5, 2.5), process(3.0, 2.5), process(3.3, 2.4)]
    chosen = median_row(rows)
    # One process's pair, never a figure from one and a baseline from another.
    assert (chosen.measured, chosen.baseline) == (3.3, 2.4)
    assert chosen.note == "the median of 3 processes' ratios (1.20, 1.38, 1.40)"
    assert median_row([process(3.0, 2.5)]).note == ""


def test_the_steadiness_row_shows_the_slowest_reading_against_the_fastest_and_every_one() -> None:
    row = steadiness_row([0.105, 0.113, 0.082])
    assert (row.measured, row.baseline) == pytest.approx((113.0, 82.0))
    assert row.sense == "info" and row.passed  # context for the figures, never judged
    assert row.note == "3 readings, in order (ms): 105, 113, 82"
