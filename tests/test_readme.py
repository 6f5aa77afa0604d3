"""README.md stays true: its curl walk-through runs, as written, against a live fake."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from nemo_fake import FakeConfig, NemoBackend, ScaledClock, create_app, media
from nemo_fake.testing import LiveServer

README = Path(__file__).resolve().parents[1] / "README.md"


def _bash_block(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split(heading, 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.DOTALL)
    assert match, f"README has no bash block under {heading!r}"
    return match.group(1)


def _run_against_a_served_fake(
    script: str, tmp_path: Path, speed: float, edit: Callable[[str, str], str]
) -> subprocess.CompletedProcess[str]:
    """Run a README bash block, as written but for `edit(script, url)`, against a live fake."""
    backend = NemoBackend(
        FakeConfig(render_fps=2), clock=ScaledClock(speed=speed), storage=tmp_path / "storage"
    )
    bin_dir = Path(sys.executable).parent
    try:
        with LiveServer(create_app(backend)) as server:
            return subprocess.run(
                ["bash", "-euo", "pipefail", "-c", edit(script, server.url)],
                cwd=tmp_path,
                env={"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(tmp_path)},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
    finally:
        backend.close()


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_curl_walk_through_ends_with_a_playable_mp4_then_chat_streams(tmp_path: Path) -> None:
    script = _bash_block("## Walk-through with curl") + _bash_block("## Chat with the agent")
    assert "API=http://127.0.0.1:8787" in script and ".venv/bin/nemo-fake" in script
    result = _run_against_a_served_fake(
        script,
        tmp_path,
        speed=1000,
        edit=lambda text, url: (
            text.replace("API=http://127.0.0.1:8787", f"API={url}")
            .replace(".venv/bin/nemo-fake", str(Path(sys.executable).with_name("nemo-fake")))
            .replace("sleep 2", "sleep 0.3")
        ),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert '"status":"completed"' in result.stdout
    assert "analyze_video" in result.stdout and "virality score" in result.stdout
    info = media.probe(tmp_path / "clip.mp4", "video")
    assert (info.width, info.height) == (1080, 1920)
    assert abs(info.duration - 4.0) < 0.2


def test_the_nemo_client_quick_edit_ends_with_a_playable_mp4(tmp_path: Path) -> None:
    script = _bash_block("## The reference client")
    assert "export NEMO_API_URL=http://127.0.0.1:8787" in script
    bin_dir = Path(sys.executable).parent
    result = _run_against_a_served_fake(
        script,
        tmp_path,
        speed=600,
        edit=lambda text, url: (
            text.replace("http://127.0.0.1:8787", url)
            .replace(".venv/bin/", f"{bin_dir}/")
            .replace("--speed 60", "--speed 600")
        ),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✅ Video ready!" in result.stdout
    assert result.stdout.count("Timeline (1 track): 1. Video: ") >= 1
    info = media.probe(tmp_path / "clip.mp4", "video")
    assert (info.width, info.height) == (1080, 1920)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = README.read_text(encoding="utf-8")
    command = re.search(r"^python3 -m venv .*?&& \.venv/bin/(python -m pytest.*)$", readme, re.M)
    assert command, "README has no test command"
    ci_steps = (README.parent / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    # The README command is the first test step; only CI-only steps may follow it.
    first_test_step = next(line for line in ci_steps if line.startswith("python -m pytest"))
    assert first_test_step == command.group(1)
