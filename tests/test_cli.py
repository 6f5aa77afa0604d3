"""`nemo-fake serve` as a user runs it: a real process, its banner, its log, the demo flow."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from nemo_fake import media
from nemo_fake.cli import main

NEMO_FAKE = Path(sys.executable).with_name("nemo-fake")


def test_serve_prints_the_url_and_export_line_logs_requests_and_runs_the_demo() -> None:
    process = subprocess.Popen(
        [
            str(NEMO_FAKE),
            "serve",
            "--port",
            "0",
            "--speed",
            "600",
            "--demo",
            "--set",
            "render_fps=2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("demo: render completed") or len(lines) > 200:
                break
    finally:
        process.terminate()
        process.wait(timeout=10)
    output = "\n".join(lines)
    banner = re.search(r"serving the NemoVideo API at (http://127\.0\.0\.1:\d+)", output)
    assert banner, output
    assert f"export NEMO_API_URL={banner.group(1)}" in output
    assert re.search(r"POST /api/auth/anonymous-token -> 200 \(\d+\.\d ms\)", output)
    assert "demo: render completed" in output
    # Tokens never reach the log or the screen.
    assert "nmv_usr_" not in output


def test_sample_video_writes_a_real_mp4(tmp_path: Path) -> None:
    dest = tmp_path / "talk.mp4"
    result = CliRunner().invoke(main, ["sample-video", str(dest), "--duration", "1.5"])
    assert result.exit_code == 0, result.output
    info = media.probe(dest, "video")
    assert (info.width, info.height) == (640, 360)
    assert abs(info.duration - 1.5) < 0.1


def test_serve_help_lists_every_flag() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    flags = ("--host", "--port", "--seed", "--speed", "--poll-shape", "--event-shape",
             "--silent-ratio", "--set", "--demo")  # fmt: skip
    for flag in flags:
        assert flag in result.output
