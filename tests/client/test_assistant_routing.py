"""Which endpoint a message reaches (export, credits, status and upload never reach the
agent; anything else goes to /run_sse), and the first connection: token and session."""

from __future__ import annotations

import json

import pytest

from nemo_client.assistant import Project
from tests.client.harness import (
    CDN,
    CLIENT_ID,
    SID,
    TOKEN,
    TOKEN_2,
    Harness,
    ok,
)


@pytest.mark.parametrize("message", ["export", "导出", "download", "send me the video"])
async def test_export_words_never_reach_the_agent_and_run_the_export_flow(
    h: Harness, message: str
) -> None:
    assert await h.handle(message)
    assert not h.route("sse").called
    assert h.route("submit").call_count == 1
    assert h.said[-2].startswith("✅ Video ready!")


@pytest.mark.parametrize("message", ["credits", "余额", "balance", "积分"])
async def test_credit_words_call_the_balance_endpoint(h: Harness, message: str) -> None:
    assert await h.handle(message)
    assert not h.route("sse").called
    assert h.route("balance").call_count == 1
    assert h.said[-1] == "💳 Credits: 70 available (30 reserved for work in progress, 100 total)"


@pytest.mark.parametrize("message", ["status", "show tracks", "状态"])
async def test_status_words_fetch_the_state_and_say_the_timeline_summary(
    h: Harness, message: str
) -> None:
    assert await h.handle(message)
    assert not h.route("sse").called
    assert h.route("state").call_count == 1
    assert h.said[-1] == "Timeline (1 track): 1. Video: podcast.mp4 (0-10s)"


async def test_upload_with_a_url_posts_the_url_as_json(h: Harness) -> None:
    h.route("upload").side_effect = lambda request: ok(
        {
            "files": [
                {
                    "filename": "talk.mp4",
                    "file_type": "video",
                    "cdn_url": f"{CDN}/talk.mp4",
                    "duration": 2700,
                    "width": 1920,
                    "height": 1080,
                }
            ],
            "session_state_applied": True,
        }
    )
    assert await h.handle("upload https://example.com/talk.mp4")
    assert not h.route("sse").called
    assert h.bodies("upload") == [{"urls": ["https://example.com/talk.mp4"], "source_type": "url"}]
    assert h.said[-1] == "✅ Uploaded talk.mp4 (2700s, 1920x1080)"


async def test_anything_else_goes_to_run_sse(h: Harness) -> None:
    assert await h.handle("extract the top 5 viral short clips from this long video")
    assert h.route("sse").call_count == 1
    request = h.route("sse").calls.last.request
    assert request.headers["Accept"] == "text/event-stream"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.content) == {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": SID,
        "new_message": {
            "parts": [{"text": "extract the top 5 viral short clips from this long video"}]
        },
    }
    assert not h.route("submit").called and not h.route("balance").called


async def test_first_connection_says_setting_up_and_creates_one_session(h: Harness) -> None:
    assert await h.handle("credits")
    assert await h.handle("status")
    assert h.said[0] == "Setting up..."
    assert h.said.count("Setting up...") == 1
    assert h.route("token").call_count == 1
    assert h.route("session").call_count == 1
    assert h.bodies("session") == [{"task_name": "project", "language": "en"}]
    assert h.route("token").calls.last.request.headers["X-Client-Id"] == CLIENT_ID
    assert "Authorization" not in h.route("token").calls.last.request.headers


async def test_a_token_from_the_environment_skips_the_anonymous_token(h: Harness) -> None:
    h.api.token = TOKEN_2
    h.assistant.project = Project(token=TOKEN_2)
    assert await h.handle("credits")
    assert not h.route("token").called
    assert "Setting up..." not in h.said
    assert h.route("balance").calls.last.request.headers["Authorization"] == f"Bearer {TOKEN_2}"
