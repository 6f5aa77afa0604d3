"""`nemo-client` against a live fake, as the README tells a new user to drive it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nemo_client.cli import main
from nemo_fake import FakeConfig, NemoBackend, media
from tests.support import served_fake

SPEED = "600"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, NemoBackend]]:
    config = FakeConfig(silent_edit_ratio=0.0)
    with served_fake(config, speed=600, storage=tmp_path / "s") as server:
        yield server.url, server.fake.backend


def _cli(url: str, config_dir: Path, *args: str) -> Result:
    runner = CliRunner()
    env = {"NEMO_API_URL": url, "NEMO_TOKEN": "", "NEMO_CLIENT_ID": ""}
    return runner.invoke(main, ["--config-dir", str(config_dir), "--speed", SPEED, *args], env=env)


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
