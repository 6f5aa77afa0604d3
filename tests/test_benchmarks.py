"""The benchmark suite runs and says what it measured: at a tiny size, a table and its JSON.
What the figures are is the suite's business (python -m benchmarks), never a timed test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
