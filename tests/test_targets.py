"""One suite, three targets: the contract tests also run against any base URL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nemo_fake import FakeConfig
from tests.support import served_fake

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_contract_suite_runs_against_a_served_fake_with_nemo_target(tmp_path: Path) -> None:
    config = FakeConfig(tokens_per_address=None)
    with served_fake(config, speed=6000, storage=tmp_path) as server:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", "-rs",
             "--nemo-target", server.url, "tests/test_sessions.py", "tests/test_control.py"],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary
    # Tests that need the in-process fake's internals are skipped, with the reason.
    assert "needs the in-process fake's clock, backend or config" in result.stdout
