"""`nemo-fake serve` as a user runs it: a real process, its banner, its log, the demo flow."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from nemo_fake import NemoFake, media
from nemo_fake.cli import main
from nemo_fake.testing import serve
from tests.support import ATTRIBUTION

NEMO_FAKE = Path(sys.executable).with_name("nemo-fake")


@dataclass
class Served:
    """A `nemo-fake serve` process, once its banner is out."""

    process: subprocess.Popen[str]
    banner: str
    url: str
    storage: Path

    def stop(self, sig: signal.Signals) -> tuple[int, str]:
        """Send `sig`; the exit status and everything printed after the banner."""
        self.process.send_signal(sig)
        rest, _ = self.process.communicate(timeout=15)
        return self.process.returncode, rest


@contextmanager
def served(*args: str) -> Iterator[Served]:
    process = subprocess.Popen(
        [str(NEMO_FAKE), "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        banner = _read_until(process, "Press Ctrl+C to stop.", timeout=15)
        url = re.search(r"serving the NemoVideo API at (http://\S+) ", banner)
        storage = re.search(r"Uploads and renders go to (.+) \(deleted on exit\)", banner)
        assert url and storage, banner
        yield Served(process, banner, url.group(1), Path(storage.group(1)))
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=10)


def _read_until(process: subprocess.Popen[str], last: str, *, timeout: float) -> str:
    """The process's output up to the line starting with `last`; fails (not hangs) when that
    line does not come within `timeout` seconds."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in iter(process.stdout.readline, ""):
            lines.put(line)
            if line.startswith(last):
                return

    threading.Thread(target=read, daemon=True).start()
    seen: list[str] = []
    while not seen or not seen[-1].startswith(last):
        try:
            seen.append(lines.get(timeout=timeout))
        except queue.Empty:
            pytest.fail(f"no line starting {last!r} within {timeout} s:\n{''.join(seen)}")
    return "".join(seen)


# One signal in the default run, both in CI's slow step: each case starts a real server.
@pytest.mark.parametrize(
    "sig",
    [signal.SIGINT, pytest.param(signal.SIGTERM, marks=pytest.mark.slow)],
    ids=["SIGINT", "SIGTERM"],
)
def test_serve_stopped_by_a_signal_says_so_exits_0_and_deletes_its_uploads_and_renders(
    sig: signal.Signals, tmp_path: Path
) -> None:
    video = tmp_path / "talk.mp4"
    media.make_sample_video(video, duration_s=0.5, width=64, height=64)
    with served() as server:
        assert "Press Ctrl+C to stop." in server.banner
        with httpx.Client(base_url=server.url) as http:
            token = http.post(
                "/api/auth/anonymous-token", headers={"X-Client-Id": str(uuid.uuid4())}
            ).json()["data"]["token"]
            headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}
            session = http.post(
                "/api/tasks/me/with-session/nemo_agent",
                headers=headers,
                json={"task_name": "project", "language": "en"},
            ).json()["data"]["session_id"]
            uploaded = http.post(
                f"/api/upload-video/nemo_agent/me/{session}",
                headers=headers,
                files=[("files", ("talk.mp4", video.read_bytes()))],
            )
            assert uploaded.status_code == 200, uploaded.text
        assert any(path.is_file() for path in server.storage.rglob("*"))
        status, rest = server.stop(sig)
    assert status == 0, rest
    assert f"nemo-fake shutting down ({sig.name})" in rest.splitlines()
    assert "Traceback" not in rest and "Aborted" not in rest
    assert not server.storage.exists()


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
            # Every extraction would be a silent edit (tool calls only, no text), but for the
            # demo's X-Fake-Silent: false.
            "--silent-ratio",
            "1",
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
    assert f"Watch it in the inspector: {banner.group(1)}/_fake/ui" in output
    assert re.search(r"POST /api/auth/anonymous-token -> 200 \(\d+\.\d ms\)", output)
    assert "demo: render completed" in output
    # The demo chats between the upload and the render, and shows the stream as it comes.
    demo = [line for line in lines if line.startswith("demo: ")]
    chat = demo.index("demo: you say: extract the top 3 viral short clips from this long video")
    assert demo[chat - 1].startswith("demo: uploaded ")
    said = demo[chat + 1 : chat + 8]
    assert said[:4] == [
        "demo: agent: Analyzing your video to find the most engaging moments...",
        "demo: agent calls analyze_video",
        "demo: agent calls extract_clips",
        "demo: agent: Here are your top 3 viral clips:",
    ], demo
    assert all(re.match(r"demo: agent: \d\. .*virality score", line) for line in said[4:]), demo
    # The render is of the draft the extraction left: its best clip, alone.
    assert re.search(r"demo: draft has 1 track\(s\)", output)
    assert re.search(r"POST /run_sse -> 200", output)
    assert "Traceback" not in output
    # Tokens never reach the log or the screen.
    assert "nmv_usr_" not in output


DEMO_FAULTS = """
name: demo-faults
description: the demo's stream drops, then its state request fails
settings: {stream_faults.drop_after_events: 2}
faults:
  - {operation: state, on_call: 1, code: 1002}
steps: [{credits: }]
"""


@pytest.mark.slow  # a real server and the whole demo: CI's slow step runs it
def test_serve_demo_says_in_one_line_where_the_stream_broke_and_why_it_stopped(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "demo-faults.yaml"
    scenario.write_text(DEMO_FAULTS)
    with served("--demo", "--speed", "600", "--quiet", "--scenario", str(scenario)) as server:
        output = _read_until(server.process, "demo: stopped", timeout=15)
        status, rest = server.stop(signal.SIGTERM)
    assert status == 0, rest
    demo = [line for line in output.splitlines() if line.startswith("demo: ")]
    broke = demo.index("demo: agent calls analyze_video") + 1
    assert demo[broke].startswith("demo: the stream broke off ("), demo
    assert re.match(
        r"demo: stopped: /api/state/nemo_agent/me/\d+/latest answered \{'code': 1002",
        output.splitlines()[-1],
    )
    assert "Traceback" not in output + rest


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["serve", "--port", "70000"], "Invalid value for '--port': 70000 is not in the range"),
        (["serve", "--port", "-1"], "Invalid value for '--port': -1 is not in the range"),
        (["serve", "--log-level", "loud"], "Invalid value for '--log-level': 'loud' is not one"),
        (["sample-video", "{tmp}/a.mp4", "--width", "641"], "'--width': 641 is not an even"),
        (["sample-video", "{tmp}/a.mp4", "--height", "0"], "'--height': 0 is not an even"),
        (["sample-video", "{tmp}/none/a.mp4"], "Invalid value for DEST: no folder {tmp}/none"),
        (["sample-video", "{tmp}/a.mp4", "--duration", "-1"], "'--duration': -1.0 is not in"),
        (["sample-video", "{tmp}/a.mp4", "--duration", "0"], "'--duration': 0.0 is not in"),
        (["sample-video", "{tmp}/a.mp4", "--duration", "1e9"], "'--duration': 1000000000.0 is"),
        (["serve", "--speed", "1e300"], "Invalid value for '--speed': 1e+300 is not in the range"),
    ],
)
def test_a_bad_value_is_one_line_of_error_not_a_traceback(
    args: list[str], error: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(main, [arg.format(tmp=tmp_path) for arg in args])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    last = result.output.splitlines()[-1]
    assert last.startswith("Error: ") and error.format(tmp=tmp_path) in last, result.output
    assert "Traceback" not in result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args", [["--quiet"], pytest.param(["--log-level", "WARNING"], marks=pytest.mark.slow)]
)
def test_serve_quiet_or_above_info_logs_no_requests(args: list[str]) -> None:
    with served(*args) as server:
        token = httpx.post(f"{server.url}/api/auth/anonymous-token", headers={"X-Client-Id": "q"})
        assert token.status_code == 200
        status, rest = server.stop(signal.SIGTERM)
    assert status == 0, rest
    assert rest.splitlines() == ["nemo-fake shutting down (SIGTERM)"]


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


def test_wait_returns_once_a_fake_answers_and_fails_in_one_line_when_none_does() -> None:
    # What a script does after `nemo-fake serve ... &`: wait, then go on.
    with NemoFake() as fake, serve(fake) as server:
        ready = subprocess.run(
            [str(NEMO_FAKE), "wait", server.url, "--timeout", "10"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
    assert (ready.returncode, ready.stdout) == (0, f"ready: {server.url}\n")
    down = CliRunner().invoke(main, ["wait", "http://127.0.0.1:9", "--timeout", "0.3"])
    assert down.exit_code == 1
    assert down.output.startswith("Error: nothing answered at http://127.0.0.1:9 within 0.3 s")
    assert len(down.output.splitlines()) == 1 and "Traceback" not in down.output


def test_wait_refuses_what_is_not_a_url() -> None:
    result = CliRunner().invoke(main, ["wait", "localhost:8787"])
    assert result.exit_code == 1
    assert result.output == "Error: localhost:8787 is not an http:// or https:// URL\n"


def test_serve_profile_reference_answers_a_render_submit_and_poll_as_r_shows() -> None:
    # The early profile's paths as served: tests/test_profiles.py (in process, the same app).
    draft = {"t": [{"tt": 0, "sg": [{"s": 0, "d": 1000}]}], "d": 1000}
    with served("--profile", "reference") as fake, httpx.Client(base_url=fake.url) as http:
        assert "profile reference: references/api-reference.md" in fake.banner
        token = http.post("/api/auth/anonymous-token").json()["data"]  # no X-Client-Id here
        auth = {"Authorization": f"Bearer {token['token']}", "X-Skill-Source": "cli-test"}
        sid = http.post(
            "/api/tasks/me/with-session/nemo_agent", headers=auth, json={"task_name": "p"}
        ).json()["data"]["session_id"]
        body = {"id": "render_1", "sessionId": sid, "draft": draft}
        submitted = http.post("/api/render/proxy/lambda", headers=auth, json=body).json()
        assert submitted == {
            "success": True, "data": {"id": "render_1", "status": "pending", "progress": 0}
        }  # fmt: skip
        polled = http.get("/api/render/proxy/lambda/render_1", headers=auth).json()
        assert polled["success"] is True and polled["data"]["status"] == "pending"
