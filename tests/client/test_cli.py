"""`nemo-client` against a live fake, as the README tells a new user to drive it."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nemo_client.assistant import Assistant, ChatResult
from nemo_client.cli import main
from nemo_client.models import ProjectState
from nemo_fake import FakeConfig, NemoBackend, media
from nemo_fake.config import StreamFaults
from tests.support import served_fake

SPEED = "600"
BIN = Path(sys.executable).parent
VIRAL = "extract the top 5 viral short clips from this long video"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, NemoBackend]]:
    config = FakeConfig(silent_edit_ratio=0.0)
    with served_fake(config, speed=600, storage=tmp_path / "s") as server:
        yield server.url, server.fake.backend


def _cli(url: str, config_dir: Path, *args: str) -> Result:
    runner = CliRunner()
    env = {"NEMO_API_URL": url, "NEMO_TOKEN": "", "NEMO_CLIENT_ID": ""}
    return runner.invoke(main, ["--config-dir", str(config_dir), "--speed", SPEED, *args], env=env)


def _env(url: str) -> dict[str, str]:
    """The environment of a `nemo-client` process pointed at `url`."""
    return {**os.environ, "NEMO_API_URL": url, "NEMO_TOKEN": "", "NEMO_CLIENT_ID": ""}


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def _failed_with(result: Result, message: str, exit_code: int = 1) -> str:
    """The one failure line of `result`, checked: the exit status, the line, no traceback."""
    assert result.exit_code == exit_code, result.output
    assert "Traceback" not in result.output, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("❌ " + message), result.output
    return last


def _json_error(result: Result) -> dict[str, object]:
    """The JSON error object a `--json` failure prints, the only thing on stdout."""
    answer = json.loads(result.stdout)
    assert answer["ok"] is False, answer
    error: dict[str, object] = answer["error"]
    return error


def _edited_project(url: str, config: Path, tmp_path: Path, *videos: str) -> None:
    """Upload a short sample video (or several) and have the agent cut it: ready to export."""
    for name in videos or ("talk.mp4",):
        media.make_sample_video(tmp_path / name, duration_s=1.0, width=160, height=120, fps=5)
    assert _cli(url, config, "upload", str(tmp_path / (videos or ("talk.mp4",))[0])).exit_code == 0
    assert _cli(url, config, "chat", VIRAL).exit_code == 0


def _in_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """`nemo-client ARGS` with a terminal (a pty) as stdout and stderr: its status and what
    the terminal received."""
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [str(BIN / "nemo-client"), *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env={**env, "COLUMNS": "100"},
        cwd=cwd,
    )
    os.close(slave)
    received = bytearray()
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the process closed the terminal
            break
        if not data:
            break
        received += data
    os.close(master)
    return process.wait(timeout=60), received.decode()


def _visible_lines(terminal: str) -> list[str]:
    """What stays on each line of a terminal: the text after a line's last carriage return."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal)  # colours, cursor, clear-line
    return [line.rstrip("\r").split("\r")[-1] for line in plain.split("\n")]


def test_quick_edit_with_nemo_client_ends_in_a_playable_mp4(
    served: tuple[str, NemoBackend], tmp_path: Path
) -> None:
    url, _ = served
    config = tmp_path / "config"
    video = tmp_path / "talk.mp4"
    media.make_sample_video(video, duration_s=2.0, width=320, height=240, fps=10)

    uploaded = _cli(url, config, "upload", str(video))
    assert uploaded.exit_code == 0, uploaded.output
    assert "✅ Uploaded talk.mp4 (2s, 320x240)" in uploaded.output
    chatted = _cli(url, config, "chat", "extract the top 5 viral short clips from this long video")
    assert chatted.exit_code == 0, chatted.output
    assert "virality score" in chatted.output
    status = _cli(url, config, "status")
    assert status.output.startswith("Timeline (1 track): 1. Video: ")
    out = tmp_path / "clip.mp4"
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        exported = _cli(url, config, "export", "--out", str(out))
    finally:
        os.chdir(cwd)
    assert exported.exit_code == 0, exported.output
    assert "⏳ Rendering ~30s" in exported.output and "✅ Video ready!" in exported.output
    assert "workspace/claim?ct=clm_" in exported.output
    info = media.probe(out, "video")
    assert (info.width, info.height) == (1080, 1920)
    # The token is kept for the next run, readable by its owner only, and never printed.
    project = json.loads((config / "project.json").read_text())
    assert (config / "project.json").stat().st_mode & 0o077 == 0
    for result in (uploaded, chatted, status, exported):
        assert project["token"] not in result.output


def test_json_output_and_credits(served: tuple[str, NemoBackend], tmp_path: Path) -> None:
    url, _ = served
    result = _cli(url, tmp_path / "c", "--json", "credits")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "available": 100,
        "frozen": 0,
        "total": 100,
    }


def test_chat_routes_export_to_the_export_flow(
    served: tuple[str, NemoBackend], tmp_path: Path
) -> None:
    url, backend = served
    result = _cli(url, tmp_path / "c", "chat", "export")
    assert result.exit_code == 1
    assert "nothing to export yet" in result.output
    assert backend.agent_runs == []  # "export" never went to the agent


def test_unsupported_upload_exits_non_zero_with_the_supported_formats(
    served: tuple[str, NemoBackend], tmp_path: Path
) -> None:
    url, _ = served
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    result = _cli(url, tmp_path / "c", "upload", str(notes))
    assert result.exit_code == 1
    assert "Supported formats: mp4" in result.output


@pytest.mark.parametrize(
    ("api_url", "message"),
    [
        ("closed", "cannot reach {url}: connection refused; is the API URL right?"),
        ("127.0.0.1:9", "cannot reach 127.0.0.1:9: not an http:// or https:// URL"),
    ],
)
def test_an_unreachable_api_is_one_line_naming_the_url(
    tmp_path: Path, api_url: str, message: str
) -> None:
    url = _closed_port() if api_url == "closed" else api_url
    config = tmp_path / "c"
    result = _cli(url, config, "credits")
    line = _failed_with(result, message.format(url=url))
    assert "(NEMO_API_URL / --api-url)" in line
    # A failed first start keeps nothing: no project.json with `"token": null`.
    assert not (config / "project.json").exists()


def test_the_server_dying_during_disconnect_recovery_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = FakeConfig(silent_edit_ratio=0.0, stream_faults=StreamFaults(drop_after_events=1))
    server = served_fake(config, speed=600, storage=tmp_path / "s")
    url = server.__enter__().url
    recover = Assistant._recover

    async def die_then_recover(
        self: Assistant, before: ProjectState, result: ChatResult
    ) -> ChatResult:
        server.__exit__(None, None, None)
        return await recover(self, before, result)

    monkeypatch.setattr(Assistant, "_recover", die_then_recover)
    video = tmp_path / "talk.mp4"
    media.make_sample_video(video, duration_s=1.0, width=160, height=120, fps=5)
    assert _cli(url, tmp_path / "c", "upload", str(video)).exit_code == 0
    result = _cli(url, tmp_path / "c", "chat", VIRAL)
    assert "The connection dropped" in result.output
    _failed_with(result, f"cannot reach {url}: connection refused")


@pytest.mark.parametrize(
    ("make", "code", "message"),
    [
        (lambda p: p, "no_such_file", "no such file: {item}"),
        (lambda p: p.mkdir() or p, "is_a_directory", "{item} is a directory, not a file"),
    ],
)
def test_upload_of_a_missing_file_or_a_directory_fails(
    tmp_path: Path, make: object, code: str, message: str
) -> None:
    item = str(make(tmp_path / "clips"))  # type: ignore[operator]
    # Checked before the API is asked anything: a closed port is never reached.
    url = _closed_port()
    _failed_with(_cli(url, tmp_path / "c", "upload", item), message.format(item=item))
    error = _json_error(_cli(url, tmp_path / "c", "--json", "upload", item))
    assert error == {"code": code, "message": message.format(item=item)}


def test_a_json_failure_is_a_json_error_object_on_stdout(
    served: tuple[str, NemoBackend], tmp_path: Path
) -> None:
    error = _json_error(_cli(_closed_port(), tmp_path / "c", "--json", "credits"))
    assert error["code"] == "unreachable"
    assert str(error["message"]).startswith("cannot reach http://127.0.0.1:")
    url, _ = served
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    result = _cli(url, tmp_path / "c", "--json", "upload", str(notes))
    assert result.exit_code == 1 and "Traceback" not in result.output
    error = _json_error(result)
    assert error["code"] == 4001 and "Supported formats: mp4" in str(error["message"])
    assert "Supported formats" in result.stderr  # the message itself, on stderr


def test_chat_json_includes_what_was_said(served: tuple[str, NemoBackend], tmp_path: Path) -> None:
    url, _ = served
    config = tmp_path / "c"
    media.make_sample_video(tmp_path / "talk.mp4", duration_s=1.0, width=160, height=120, fps=5)
    assert _cli(url, config, "upload", str(tmp_path / "talk.mp4")).exit_code == 0
    result = _cli(url, config, "--json", "chat", VIRAL)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["ok"] is True
    assert any("virality score" in line for line in answer["said"]), answer


def test_chat_json_failure_says_why(served: tuple[str, NemoBackend], tmp_path: Path) -> None:
    url, _ = served
    result = _cli(url, tmp_path / "c", "--json", "chat", "export")
    assert result.exit_code == 1 and "Traceback" not in result.output
    answer = json.loads(result.stdout)
    assert answer["ok"] is False
    assert answer["error"]["code"] == "failed"
    assert answer["error"]["message"].startswith("There's nothing to export yet")
    assert answer["said"][-1].startswith("There's nothing to export yet")


def test_a_token_is_never_sent_to_another_api_url(tmp_path: Path) -> None:
    config = tmp_path / "c"
    with served_fake(FakeConfig(), speed=600, storage=tmp_path / "a") as first:
        assert _cli(first.url, config, "credits").exit_code == 0
        saved = json.loads((config / "project.json").read_text())
    assert saved["api_url"] == first.url
    with served_fake(FakeConfig(seed=1), speed=600, storage=tmp_path / "b") as second:
        result = _cli(second.url, config, "credits")
        assert result.exit_code == 0, result.output
        journal = second.fake.journal
        # A fresh start: a token of its own, and never an unknown (the other API's) one.
        assert journal.find(path="/api/auth/anonymous-token", status=200)
        assert journal.find(code=1001) == []
        assert journal.entries[0].path == "/api/auth/anonymous-token"
    kept = json.loads((config / "project.json").read_text())
    assert kept["api_url"] == second.url and kept["token"] != saved["token"]


def test_version_and_help_list_the_environment() -> None:
    version = CliRunner().invoke(main, ["--version"])
    assert version.exit_code == 0 and version.output.startswith("nemo-client, version ")
    shown = CliRunner().invoke(main, ["--help"], env={"NEMO_API_URL": ""}).output
    for name in ("NEMO_API_URL", "NEMO_WEB_URL", "NEMO_TOKEN", "NEMO_CLIENT_ID", "SKILL_SOURCE"):
        assert name in shown
    assert "default: https://mega-api-prod.nemovideo.ai" in " ".join(shown.split())


@pytest.mark.slow  # two real client processes: CI's slow step runs it
def test_a_pipe_gets_no_progress_bars(served: tuple[str, NemoBackend], tmp_path: Path) -> None:
    url, _ = served
    config = tmp_path / "c"
    _edited_project(url, config, tmp_path)
    args = ["--config-dir", str(config), "--speed", SPEED]
    for command in (["upload", str(tmp_path / "talk.mp4")], ["export", "--out", "clip.mp4"]):
        done = subprocess.run(
            [str(BIN / "nemo-client"), *args, *command],
            capture_output=True,
            text=True,
            env=_env(url),
            cwd=tmp_path,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        lines = (done.stdout + done.stderr).splitlines()
        assert not [line for line in lines if line.startswith(("Uploading", "Rendering"))], lines


@pytest.mark.slow  # real client processes in a pseudo-terminal: CI's slow step runs it
def test_a_terminal_gets_one_bar_per_file_and_bars_apart_from_messages(
    served: tuple[str, NemoBackend], tmp_path: Path
) -> None:
    url, _ = served
    config = tmp_path / "c"
    _edited_project(url, config, tmp_path, "a.mp4", "b.mp4")
    args = ["--config-dir", str(config), "--speed", SPEED]
    status, shown = _in_terminal(
        [*args, "upload", str(tmp_path / "a.mp4"), str(tmp_path / "b.mp4")], _env(url), tmp_path
    )
    assert status == 0, shown
    assert len([line for line in shown.split("\n") if "Uploading" in line]) == 2, shown
    # The client polls 20 times a render's progress step, so several "⏳ N%" come with a bar.
    args = ["--config-dir", str(config), "--speed", "1200"]
    status, shown = _in_terminal([*args, "export", "--out", "clip.mp4"], _env(url), tmp_path)
    assert status == 0, shown
    visible = _visible_lines(shown)
    assert any(line.startswith("Rendering") for line in visible), visible
    assert any(line.startswith("⏳ ") and "%" in line for line in visible), visible
    assert not [line for line in visible if "Rendering  [" in line and "⏳" in line], visible


SLOW_DOWNLOAD = """
import asyncio, httpx
from nemo_client.cli import main
original = httpx.Response.aiter_bytes
async def slowly(self, chunk_size=None):
    video = "json" not in self.headers.get("content-type", "")
    async for chunk in original(self, 1024 if video else chunk_size):
        yield chunk
        if video:
            await asyncio.sleep(0.05)
httpx.Response.aiter_bytes = slowly
main()
"""


def test_ctrl_c_during_export_leaves_no_part_file(
    served: tuple[str, NemoBackend], tmp_path: Path
) -> None:
    url, _ = served
    config = tmp_path / "c"
    _edited_project(url, config, tmp_path)
    args = ["--config-dir", str(config), "--speed", SPEED, "export", "--out", "clip.mp4"]
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_DOWNLOAD, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(url),
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 30
    while not (tmp_path / "clip.mp4.part").exists():
        assert process.poll() is None and time.monotonic() < deadline, "no download started"
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 130, output
    assert "Traceback" not in output
    assert output.strip().splitlines()[-1] == "❌ interrupted", output
    assert not (tmp_path / "clip.mp4.part").exists() and not (tmp_path / "clip.mp4").exists()


def test_a_refused_token_request_keeps_no_project(tmp_path: Path) -> None:
    config = tmp_path / "c"
    with served_fake(FakeConfig(tokens_per_address=0), speed=600, storage=tmp_path / "s") as fake:
        result = _cli(fake.url, config, "credits")
    _failed_with(result, "The service is rate-limiting new connections.")
    assert not (config / "project.json").exists()
