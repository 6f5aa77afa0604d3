"""The seed's request router: export, credits, state and upload never reach the agent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nemo_client.router import Route, route


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        # The seed's table and examples.
        ("export", "export"),
        ("Export 1080p MP4", "export"),
        ("export 1080p MP4", "export"),
        ("EXPORT!", "export"),
        ("please download it", "export"),
        ("send me the video please", "export"),
        ("导出", "export"),
        ("credits", "credits"),
        ("what's my balance?", "credits"),
        ("积分还剩多少", "credits"),
        ("查一下余额", "credits"),
        ("status", "state"),
        ("show tracks", "state"),
        ("当前状态", "state"),
        ("upload", "upload"),
        ("上传视频", "upload"),
        ("extract the top 5 viral short clips from this long video", "sse"),
        ("add background music", "sse"),
        ("generate a city timelapse", "sse"),
        ("convert my long-form video", "sse"),
        ("", "sse"),
    ],
)
def test_seed_table(message: str, expected: Route) -> None:
    assert route(message) == expected


@pytest.mark.parametrize(
    "message",
    [
        "exports",
        "exporting now?",
        "I want it exported as MP4",
        "re-export it",
        "reexport",
        "Downloads",
        "downloading the mp4",
        "redownload",
        "Send me the video",
        "send  me\tthe\nvideo",
        "send me my video",
        "send me the videos",
        "请export视频",
        "把视频导出为MP4",
    ],
)
def test_export_forms(message: str) -> None:
    assert route(message) == "export"


@pytest.mark.parametrize(
    "message",
    [
        "Credit",
        "how many CREDITS do I have",
        "my credit balance",
        "balances",
        "spend credits wisely? what's left",
        "balance of my account",
    ],
)
def test_credits_forms(message: str) -> None:
    assert route(message) == "credits"


@pytest.mark.parametrize(
    "message",
    ["STATUS", "statuses", "show  tracks", "show\ttracks", "show me the tracks", "show track"],
)
def test_state_forms(message: str) -> None:
    assert route(message) == "state"


@pytest.mark.parametrize(
    "message", ["Upload", "uploads", "uploading podcast.mp4", "reupload it", "re-upload", "请上传"]
)
def test_upload_forms(message: str) -> None:
    assert route(message) == "upload"


@pytest.mark.parametrize(
    "message",
    [
        # Not whole words / other words sharing a stem.
        "the exporter settings",
        "downloader",
        "uploader",
        "statusbar",
        "showtracks",
        "send me a video of a cat",
        # A past upload is a reference, not a request.
        "extract the best moments from the video I uploaded",
        # Film credits and colour/audio balance are edits.
        "add end credits",
        "add opening credits with the cast",
        "roll the credits at 0:50",
        "fix the white balance",
        "color balance looks off",
        "balance the audio",
        "balance music and voice",
    ],
)
def test_not_routed(message: str) -> None:
    assert route(message) == "sse"


def test_a_file_is_an_upload() -> None:
    assert route("", has_file=True) == "upload"
    assert route("here's my podcast, extract the top 5 clips", has_file=True) == "upload"


def test_first_rule_wins() -> None:
    assert route("export", has_file=True) == "export"
    assert route("download it and tell me my balance") == "export"
    assert route("balance and status") == "credits"
    assert route("status of my upload") == "state"


@given(st.text())
def test_any_text_routes(message: str) -> None:
    assert route(message) in ("export", "credits", "state", "upload", "sse")
    assert route(message, has_file=True) != "sse"
