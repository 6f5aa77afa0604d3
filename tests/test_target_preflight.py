"""`pytest --nemo-target URL` with nothing answering there: one error up front."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The discard port: nothing listens on it here.
DOWN = "http://127.0.0.1:9"


@pytest.mark.slow  # a whole pytest process: CI's slow step runs it
def test_a_nemo_target_that_does_not_answer_is_one_usage_error_before_any_test() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:xdist", "-q", "--nemo-target", DOWN,
         "tests/test_sessions.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output
    [error] = [line for line in output.splitlines() if line.startswith("ERROR:")]
    # The reason in parentheses, "[Errno 111] Connection refused", is the system's wording.
    assert error.startswith(f"ERROR: --nemo-target {DOWN} does not answer ("), error
    assert error.endswith(
        "): start a fake there (`nemo-fake serve --port PORT`) or pass the URL of one"
    )
    assert "Traceback" not in output and "ConnectError" not in output
    assert "passed" not in output and "failed" not in output
