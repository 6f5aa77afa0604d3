"""The reference client's workflow, branch by branch, against respx mocks (no fake server).
The `h` fixture (conftest.py) and the response builders (harness.py) are shared."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from nemo_client.api import parse_event
from nemo_client.assistant import Project
from nemo_client.config import ClientConfig, detect_platform, persistent_client_id
from nemo_client.errors import SUPPORTED_FORMATS
from nemo_client.models import AgentEvent
from tests.client.harness import (
    API,
    ATTRIBUTION,
    CDN,
    CLAIM,
    CLIENT_ID,
    DRAFT,
    DRAFT_WITH_TITLE,
    EMPTY,
    EMPTY_DRAFT,
    HEARTBEAT,
    SID,
    SID_2,
    TASK,
    TOKEN,
    TOKEN_2,
    USER_ID,
    WEB,
    Harness,
    adk_call,
    adk_result,
    adk_text,
    broken_sse,
    fail,
    ok,
    sse,
    state,
    state_body,
    typed_text,
)

# -- the router ---------------------------------------------------------------------------------


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


# -- the error policy ---------------------------------------------------------------------------


async def test_1001_reauthenticates_with_the_same_client_id_and_retries_once(h: Harness) -> None:
    tokens = iter([TOKEN, TOKEN_2])
    h.route("token").side_effect = lambda request: ok({"token": next(tokens), "user_id": USER_ID})
    h.route("balance").side_effect = [
        fail(1001, 401, "Invalid or expired token"),
        ok({"available": 100, "frozen": 0, "total": 100}),
    ]
    assert await h.handle("credits")
    assert [c.request.headers["X-Client-Id"] for c in h.route("token").calls] == [CLIENT_ID] * 2
    auth = [c.request.headers["Authorization"] for c in h.route("balance").calls]
    assert auth == [f"Bearer {TOKEN}", f"Bearer {TOKEN_2}"]
    assert h.said[-1].startswith("💳 Credits: 100 available")


async def test_a_second_1001_is_reported_without_another_retry(h: Harness) -> None:
    h.route("balance").side_effect = lambda request: fail(1001, 401)
    assert not await h.handle("credits")
    assert h.route("balance").call_count == 2
    assert h.said[-1] == "❌ Your session token expired; reconnecting gets a new one."


async def test_1001_on_run_sse_reauthenticates_and_sends_once_more(h: Harness) -> None:
    h.route("sse").side_effect = [fail(1001, 401), sse(adk_text("Clips extracted."))]
    assert await h.handle("extract clips")
    assert h.route("sse").call_count == 2
    assert h.route("token").call_count == 2
    assert "Clips extracted." in h.said


async def test_1002_creates_a_new_session_and_retries(h: Harness) -> None:
    h.route("state").side_effect = lambda request: fail(1002, 404, "Session not found")
    h.router.get(f"{API}/api/state/nemo_agent/me/{SID_2}/latest", name="state2").mock(
        side_effect=lambda request: state(DRAFT, SID_2)
    )
    h.route("session").side_effect = [
        ok({"session_id": SID, "task_id": TASK}),
        ok({"session_id": SID_2, "task_id": "task_2"}),
    ]
    assert await h.handle("status")
    assert h.route("session").call_count == 2
    assert h.route("state").call_count == 1
    assert h.route("state2").call_count == 1
    assert h.assistant.project.session_id == SID_2
    assert h.said[-2] == "⚠️ That project session no longer exists; a new session was started."
    assert h.said[-1].startswith("Timeline (1 track)")


async def test_2001_gives_an_anonymous_user_the_registration_link(h: Harness) -> None:
    h.route("sse").side_effect = lambda request: fail(2001, 403, "Insufficient credits")
    assert not await h.handle("generate a 10 second city timelapse")
    assert h.route("sse").call_count == 1
    assert h.said[-1] == (
        f"❌ You're out of credits. Register to get more: {WEB}/register?bind={USER_ID}"
    )


async def test_2001_takes_the_user_id_from_the_state_when_the_token_has_none(
    h: Harness,
) -> None:
    h.route("token").side_effect = lambda request: ok({"token": TOKEN, "credits": 100})
    h.route("session").side_effect = lambda request: ok({"session_id": SID, "task_id": TASK})
    h.route("state").side_effect = lambda request: ok(
        {**state_body(DRAFT), "user_id": "anon_from_state"}
    )
    h.route("sse").side_effect = lambda request: fail(2001, 403)
    assert not await h.handle("generate a video")
    assert h.said[-1].endswith(f"{WEB}/register?bind=anon_from_state")


async def test_2001_tells_a_registered_user_to_top_up(h: Harness) -> None:
    h.api.token = TOKEN  # a registered user's NEMO_TOKEN
    h.assistant.project = Project(token=TOKEN, anonymous=False)
    h.route("sse").side_effect = lambda request: fail(2001, 403)
    assert not await h.handle("generate a video")
    assert h.said[-1] == "❌ You're out of credits. Top up credits in your account."
    assert "register" not in h.said[-1]


async def test_4001_lists_the_supported_formats(h: Harness) -> None:
    h.route("upload").side_effect = lambda request: fail(4001, 415, "Unsupported file type")
    assert not await h.handle("upload https://example.com/notes.pdf")
    assert h.route("upload").call_count == 1
    assert SUPPORTED_FORMATS in h.said[-1]
    assert "mp4, mov, avi, webm, mkv" in h.said[-1]


async def test_4002_suggests_compressing_or_trimming(h: Harness) -> None:
    h.route("upload").side_effect = lambda request: fail(4002, 413, "File too large")
    assert not await h.handle("upload https://example.com/huge.mp4")
    assert h.route("upload").call_count == 1
    assert "Compress or trim" in h.said[-1]
    assert "500 MB" in h.said[-1]


async def test_http_400_from_anonymous_token_makes_a_new_client_id_and_retries_once(
    h: Harness,
) -> None:
    h.route("token").side_effect = [
        httpx.Response(400, text="Missing X-Client-Id"),
        ok({"token": TOKEN, "user_id": USER_ID}),
    ]
    assert await h.handle("credits")
    first, second = (c.request.headers["X-Client-Id"] for c in h.route("token").calls)
    assert first == CLIENT_ID
    assert second != CLIENT_ID
    assert (h.config_dir / "client_id").read_text().strip() == second
    assert persistent_client_id(h.config_dir) == second


async def test_a_second_http_400_from_anonymous_token_gives_up(h: Harness) -> None:
    h.route("token").side_effect = lambda request: httpx.Response(400, text="Bad request")
    assert not await h.handle("credits")
    assert h.route("token").call_count == 2
    assert not h.route("balance").called
    assert h.said[-1].startswith("❌ The request was refused")


async def test_reauthentication_after_a_new_client_id_keeps_the_new_id(h: Harness) -> None:
    h.route("token").side_effect = [
        httpx.Response(400, text="Missing X-Client-Id"),
        ok({"token": TOKEN, "user_id": USER_ID}),
        ok({"token": TOKEN_2, "user_id": USER_ID}),
    ]
    h.route("balance").side_effect = [
        fail(1001, 401),
        ok({"available": 100, "frozen": 0, "total": 100}),
    ]
    assert await h.handle("credits")
    ids = [c.request.headers["X-Client-Id"] for c in h.route("token").calls]
    assert ids[0] == CLIENT_ID
    assert ids[1] == ids[2] != CLIENT_ID  # the rejected id is not used again


async def test_http_402_on_export_asks_to_register_or_upgrade_and_does_not_retry(
    h: Harness,
) -> None:
    h.route("submit").side_effect = lambda request: fail(402, 402, "Payment required")
    assert not await h.handle("export")
    assert h.route("submit").call_count == 1
    assert not h.route("poll").called
    assert "Register or upgrade your plan to unlock export." in h.said[-1]
    assert "credits" not in h.said[-1].lower()


async def test_http_429_is_retried_once_after_30_seconds(h: Harness) -> None:
    h.route("token").side_effect = [
        fail(429, 429, "Rate limit exceeded, retry in 30s"),
        ok({"token": TOKEN, "user_id": USER_ID}),
    ]
    assert await h.handle("credits")
    assert h.timer.sleeps == [30]
    assert h.route("token").call_count == 2


async def test_a_second_http_429_gives_up(h: Harness) -> None:
    h.route("token").side_effect = lambda request: fail(429, 429)
    assert not await h.handle("credits")
    assert h.timer.sleeps == [30]
    assert h.route("token").call_count == 2
    assert not h.route("balance").called
    assert "rate-limiting" in h.said[-1]


async def test_http_429_on_an_api_call_is_retried_once_after_30_seconds(h: Harness) -> None:
    h.route("balance").side_effect = [
        httpx.Response(429, text="Too Many Requests"),
        ok({"available": 1, "frozen": 0, "total": 1}),
    ]
    assert await h.handle("credits")
    assert h.timer.sleeps == [30]
    assert h.route("balance").call_count == 2


async def test_a_second_http_429_on_run_sse_gives_up(h: Harness) -> None:
    h.route("sse").side_effect = lambda request: fail(429, 429)
    assert not await h.handle("add background music")
    assert h.timer.sleeps == [30]
    assert h.route("sse").call_count == 2
    assert "rate-limiting" in h.said[-1]


# -- the SSE stream -----------------------------------------------------------------------------


async def test_gui_instructions_are_translated_before_being_said(h: Harness) -> None:
    h.route("sse").side_effect = lambda request: sse(
        adk_text("Your title is on the timeline. Click the Export button to download it.")
    )
    assert await h.handle("add a title Urban Dreams")
    assert "Your title is on the timeline." in h.said
    assert not any("Export button" in message for message in h.said)
    assert not any("click" in message.lower() for message in h.said)
    # "click Export" is the export workflow, which the client runs only when asked to.
    assert h.said[-1] == 'Say "export" when you want the MP4.'
    assert not h.route("submit").called


async def test_preview_in_timeline_says_the_timeline_summary(h: Harness) -> None:
    h.route("sse").side_effect = lambda request: sse(
        adk_text("Added the title. Preview in timeline to check it.")
    )
    h.route("state").side_effect = [state(DRAFT), state(DRAFT_WITH_TITLE)]
    assert await h.handle("add a title Urban Dreams")
    assert "Added the title." in h.said
    assert not any("Preview in timeline" in message for message in h.said)
    assert h.said[-1] == (
        'Timeline (2 tracks): 1. Video: podcast.mp4 (0-10s) 2. Title: "Urban Dreams" (0-3s)'
    )


async def test_tool_calls_and_results_are_not_said(h: Harness) -> None:
    h.route("sse").side_effect = lambda request: sse(
        adk_call("edit_multitrack", {"op": "add_title", "secret_arg": "xyzzy"}),
        {"type": "tool_call", "name": "generate_video_with_seedance", "args": {"p": "xyzzy"}},
        adk_result("edit_multitrack", {"ok": True, "detail": "xyzzy"}),
        {"type": "tool_result", "name": "generate_video_with_seedance", "result": {"x": "xyzzy"}},
        adk_text("Title added."),
    )
    assert await h.handle("add a title")
    assert "Title added." in h.said
    for message in h.said:
        assert "xyzzy" not in message
        assert "edit_multitrack" not in message
        assert "seedance" not in message


async def test_heartbeats_say_still_working_every_two_minutes(h: Harness) -> None:
    h.timer.tick = 60  # each stream event comes a minute after the one before
    h.route("sse").side_effect = lambda request: sse(
        EMPTY, HEARTBEAT, EMPTY, HEARTBEAT, EMPTY, adk_text("Your video is ready.")
    )
    assert await h.handle("generate a city timelapse")
    # Minutes 1..5 of heartbeats: a notice at minute 2 and at minute 4, none in between.
    assert h.said.count("⏳ Still working...") == 2
    assert h.said[-1] == "Your video is ready."
    assert h.timer.sleeps == []


async def test_a_heartbeat_right_after_text_says_nothing(h: Harness) -> None:
    h.timer.tick = 30
    h.route("sse").side_effect = lambda request: sse(
        adk_text("Working on it."), HEARTBEAT, HEARTBEAT, HEARTBEAT, adk_text("Done.")
    )
    assert await h.handle("generate a video")
    assert "⏳ Still working..." not in h.said


async def test_tool_calls_between_heartbeats_restart_the_ten_minute_clock(h: Harness) -> None:
    h.timer.tick = 60
    h.route("sse").side_effect = lambda request: sse(
        *[HEARTBEAT] * 8, adk_call("edit_multitrack", {}), *[HEARTBEAT] * 8, adk_text("Done.")
    )
    assert await h.handle("generate a video")
    assert h.said[-1] == "Done."
    assert h.timer.sleeps == []
    assert not any("connection dropped" in message for message in h.said)


async def test_ten_minutes_of_heartbeats_only_is_treated_as_a_disconnect(h: Harness) -> None:
    h.timer.tick = 60
    h.route("sse").side_effect = lambda request: sse(*[HEARTBEAT] * 12, adk_text("never read"))
    h.route("state").side_effect = [state(DRAFT), state(DRAFT_WITH_TITLE)]
    assert await h.handle("add a title Urban Dreams")
    assert h.route("sse").call_count == 1  # not re-sent
    assert h.route("sse").calls.last.response.is_closed  # and the stream is let go
    assert h.timer.sleeps == [30]
    assert "never read" not in h.said
    assert "⚠️ The connection dropped. Checking on the work (not re-sending)." in h.said
    assert h.said[-1] == '✅ Title added: "Urban Dreams" (0-3s)'


async def test_a_trailing_temporary_issue_after_a_reply_is_not_said(h: Harness) -> None:
    h.route("sse").side_effect = lambda request: sse(
        adk_text("BGM added at 35% volume."),
        adk_text("I encountered a temporary issue. Please try again."),
    )
    assert await h.handle("add lo-fi background music")
    assert "BGM added at 35% volume." in h.said
    assert not any("temporary issue" in message for message in h.said)


async def test_a_temporary_issue_that_is_the_only_reply_is_said(h: Harness) -> None:
    h.route("sse").side_effect = lambda request: sse(
        adk_text("I encountered a temporary issue. Please try again.")
    )
    assert await h.handle("add lo-fi background music")
    assert h.said[-1] == "I encountered a temporary issue. Please try again."


async def test_an_error_event_is_reported_and_the_chat_fails(h: Harness) -> None:
    h.route("sse").side_effect = lambda request: sse(
        adk_call("edit_multitrack", {}), {"error": "model overloaded"}, adk_text("not read")
    )
    assert not await h.handle("add a title")
    assert h.said[-1] == "❌ The backend reported an error: model overloaded"
    assert "not read" not in h.said
    assert h.route("state").call_count == 1  # no silent-edit report for a failed chat
    assert h.route("sse").calls.last.response.is_closed


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("", [AgentEvent("heartbeat")]),
        ("   ", [AgentEvent("heartbeat")]),
        (json.dumps(HEARTBEAT), [AgentEvent("heartbeat")]),
        (json.dumps(adk_text("hi")), [AgentEvent("text", text="hi")]),
        (json.dumps(typed_text("hi")), [AgentEvent("text", text="hi")]),
        (
            json.dumps(adk_call("edit_multitrack", {"a": 1})),
            [AgentEvent("tool_call", name="edit_multitrack", payload={"a": 1})],
        ),
        (
            json.dumps({"type": "tool_call", "name": "edit_multitrack", "args": {"a": 1}}),
            [AgentEvent("tool_call", name="edit_multitrack", payload={"a": 1})],
        ),
        (
            json.dumps(adk_result("edit_multitrack", {"ok": True})),
            [AgentEvent("tool_result", name="edit_multitrack", payload={"ok": True})],
        ),
        (
            json.dumps({"type": "tool_result", "name": "edit_multitrack", "result": {"ok": 1}}),
            [AgentEvent("tool_result", name="edit_multitrack", payload={"ok": 1})],
        ),
        (json.dumps({"error": "boom"}), [AgentEvent("error", text="boom")]),
        (
            json.dumps(
                {
                    "content": {
                        "parts": [
                            {"text": "Adding it."},
                            {"functionCall": {"name": "edit_multitrack", "args": {}}},
                        ]
                    }
                }
            ),
            [
                AgentEvent("text", text="Adding it."),
                AgentEvent("tool_call", name="edit_multitrack"),
            ],
        ),
        (json.dumps({"content": {"parts": [{"text": ""}]}, "partial": True}), []),
        ("[1, 2]", []),
        ("plain words", [AgentEvent("text", text="plain words")]),
    ],
)
def test_parse_event_reads_adk_and_typed_shapes(data: str, expected: list[AgentEvent]) -> None:
    assert parse_event(data) == expected


@pytest.mark.parametrize("shape", [adk_text, typed_text])
async def test_adk_and_typed_text_events_are_both_said(
    h: Harness, shape: Callable[[str], dict[str, Any]]
) -> None:
    h.route("sse").side_effect = lambda request: sse(shape("Here are your clips."))
    assert await h.handle("extract clips")
    assert h.said[-1] == "Here are your clips."


# -- the silent-edit fallback -------------------------------------------------------------------


async def test_a_stream_of_tool_calls_only_reports_the_change_from_the_state(h: Harness) -> None:
    h.route("sse").side_effect = lambda request: sse(
        adk_call("edit_multitrack", {"op": "add_title"}),
        adk_result("edit_multitrack", {"ok": True}),
    )
    h.route("state").side_effect = [state(DRAFT), state(DRAFT_WITH_TITLE)]
    assert await h.handle("add a title Urban Dreams")
    assert h.route("state").call_count == 2  # before and after
    assert h.said[-1] == '✅ Title added: "Urban Dreams" (0-3s)'


async def test_an_empty_stream_is_never_silence(h: Harness) -> None:
    h.route("sse").side_effect = lambda request: sse()
    assert await h.handle("do nothing much")
    assert h.route("state").call_count == 2
    assert h.said[-1] == "✅ Done. The timeline is unchanged."


# -- disconnect recovery (vendor §3.6) ----------------------------------------------------------


async def test_a_dropped_stream_is_not_resent_and_a_changed_state_is_reported(
    h: Harness,
) -> None:
    h.route("sse").side_effect = lambda request: broken_sse(adk_call("edit_multitrack", {}))
    h.route("state").side_effect = [state(DRAFT), state(DRAFT_WITH_TITLE)]
    assert await h.handle("add a title Urban Dreams")
    assert h.route("sse").call_count == 1
    assert h.timer.sleeps == [30]
    assert h.said[-1] == '✅ Title added: "Urban Dreams" (0-3s)'


async def test_recovery_waits_60_seconds_between_later_queries(h: Harness) -> None:
    h.route("sse").side_effect = lambda request: broken_sse()
    h.route("state").side_effect = [state(DRAFT)] * 3 + [state(DRAFT_WITH_TITLE)]
    assert await h.handle("add a title Urban Dreams")
    assert h.route("sse").call_count == 1
    assert h.timer.sleeps == [30, 60, 60]
    assert h.said[-1] == '✅ Title added: "Urban Dreams" (0-3s)'


async def test_a_dropped_stream_with_no_change_fails_after_five_queries(h: Harness) -> None:
    h.route("sse").side_effect = lambda request: broken_sse(adk_text("Starting the edit."))
    assert not await h.handle("add a title Urban Dreams")
    assert h.route("sse").call_count == 1
    assert h.timer.sleeps == [30, 60, 60, 60, 60]
    assert h.route("state").call_count == 1 + 5
    assert h.said[-1] == "❌ The backend didn't finish after 5 checks. Want me to try again?"


# -- export -------------------------------------------------------------------------------------


async def test_export_refuses_an_empty_draft_without_rendering(h: Harness) -> None:
    h.route("state").side_effect = lambda request: state(EMPTY_DRAFT)
    assert not await h.handle("export")
    assert not h.route("submit").called
    assert h.said[-1] == (
        "There's nothing to export yet: upload a video or ask me to generate one."
    )


async def test_export_refuses_a_draft_whose_tracks_have_no_segments(h: Harness) -> None:
    h.route("state").side_effect = lambda request: state({"t": [{"tt": 0, "sg": []}]})
    assert not await h.handle("export")
    assert not h.route("submit").called


async def test_export_submits_the_documented_body(h: Harness) -> None:
    assert await h.handle("export")
    (body,) = h.bodies("submit")
    assert body["id"].startswith("render_")
    assert body["sessionId"] == SID
    assert "session_id" not in body
    assert body["draft"] == DRAFT
    assert body["output"] == {"format": "mp4", "quality": "high"}


async def test_export_polls_every_30_seconds_and_says_the_progress(h: Harness) -> None:
    h.renders.steps = [("processing", 50), ("completed", 100)]
    assert await h.handle("export")
    assert h.timer.sleeps == [30, 30]
    rid = h.bodies("submit")[0]["id"]
    target = h.downloads / f"{rid}.mp4"
    assert h.said[1:] == [
        "⏳ Rendering ~30s",
        "⏳ 50%",
        f"✅ Video ready! {target}",
        f"Open the project in NemoVideo: {WEB}/workspace/claim?ct={CLAIM}",
    ]
    assert target.read_bytes() == b"cdn mp4"


async def test_export_stops_after_10_polls_with_the_progress_reached(h: Harness) -> None:
    h.renders.steps = [("processing", 7 * n) for n in range(1, 11)]
    assert not await h.handle("export")
    assert h.route("poll").call_count == 10
    assert h.timer.sleeps == [30] * 10
    assert h.said[-1] == "⏳ The render is still at 70%; try export again later."
    assert not h.route("cdn").called


async def test_download_from_another_host_carries_no_authorization(h: Harness) -> None:
    assert await h.handle("export")
    request = h.route("cdn").calls.last.request
    assert "Authorization" not in request.headers
    assert not h.route("fallback").called


@pytest.mark.parametrize(
    "host", ["https://api.test.evil.example", "https://api.testing.example", "http://api.test"]
)
async def test_download_sends_no_credentials_to_a_lookalike_host(h: Harness, host: str) -> None:
    h.renders.url = lambda rid: f"{host}/renders/{rid}.mp4"
    lookalike = h.router.get(url__startswith=f"{host}/renders/").mock(
        return_value=httpx.Response(200, content=b"mp4")
    )
    assert await h.handle("export")
    assert lookalike.called
    assert "Authorization" not in lookalike.calls.last.request.headers


async def test_download_from_the_api_host_carries_authorization(h: Harness) -> None:
    h.renders.url = lambda rid: f"{API}/cdn/renders/{rid}.mp4"
    own = h.router.get(url__startswith=f"{API}/cdn/renders/").mock(
        return_value=httpx.Response(200, content=b"mp4")
    )
    assert await h.handle("export")
    assert own.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    "broken",
    [
        httpx.Response(403, text="AccessDenied"),
        httpx.ConnectError("cdn unreachable"),
    ],
    ids=["http-403", "connect-error"],
)
async def test_a_failed_output_url_falls_back_to_the_proxy_download(
    h: Harness, broken: httpx.Response | Exception
) -> None:
    if isinstance(broken, Exception):
        h.route("cdn").side_effect = broken
    else:
        h.route("cdn").side_effect = lambda request, name: broken
    assert await h.handle("export")
    rid = h.bodies("submit")[0]["id"]
    request = h.route("fallback").calls.last.request
    assert request.url == f"{API}/api/render/proxy/{rid}/download"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert (h.downloads / f"{rid}.mp4").read_bytes() == b"proxied mp4"
    assert h.said[-2].startswith("✅ Video ready!")


async def test_a_completed_render_without_a_url_uses_the_proxy_download(h: Harness) -> None:
    h.renders.url = lambda rid: None
    assert await h.handle("export")
    assert not h.route("cdn").called
    assert h.route("fallback").call_count == 1


async def test_a_failed_render_is_retried_once_with_a_new_id(h: Harness) -> None:
    h.renders.steps = [("failed", 40), ("completed", 100)]
    assert await h.handle("export")
    first, second = (body["id"] for body in h.bodies("submit"))
    assert first.startswith("render_") and second.startswith("render_")
    assert first != second
    assert "⚠️ The render failed (render node crashed); retrying with a new id." in h.said
    assert h.said[-2].startswith("✅ Video ready!")


async def test_two_failed_renders_give_up(h: Harness) -> None:
    h.renders.steps = [("failed", 40), ("failed", 10)]
    assert not await h.handle("export")
    assert h.route("submit").call_count == 2
    assert h.said[-1] == "❌ The render failed twice: render node crashed"
    assert not h.route("cdn").called and not h.route("fallback").called


async def test_a_refused_submit_is_retried_once_with_a_new_id(h: Harness) -> None:
    submit = h.renders.submit
    answers = iter([fail(409, 409, "Render id already used")])
    h.route("submit").side_effect = lambda request: next(answers, None) or submit(request)
    assert await h.handle("export")
    first, second = (json.loads(c.request.content)["id"] for c in h.route("submit").calls)
    assert first != second
    assert h.said[-2].startswith("✅ Video ready!")


async def test_the_claim_link_uses_a_claim_token_never_the_bearer_token(h: Harness) -> None:
    assert await h.handle("export")
    assert h.bodies("claim") == [{"task_id": TASK, "session_id": SID}]
    assert h.said[-1] == f"Open the project in NemoVideo: {WEB}/workspace/claim?ct={CLAIM}"
    for call in h.router.calls:
        assert TOKEN not in str(call.request.url)


async def test_a_failed_claim_token_still_delivers_the_video(h: Harness) -> None:
    h.route("claim").side_effect = lambda request: fail(1001, 401)
    assert await h.handle("export")
    assert h.said[-1].startswith("✅ Video ready!")


# -- render poll shapes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {
            "code": 0,
            "id": "render_1",
            "sessionId": SID,
            "status": "completed",
            "progress": 100,
            "output": {"format": "mp4", "quality": "high", "url": f"{CDN}/r.mp4"},
        },
        {
            "success": True,
            "data": {
                "id": "render_1",
                "status": "completed",
                "progress": 100,
                "outputUrl": f"{CDN}/r.mp4",
                "createdAt": 1767225600000,
                "completedAt": 1767225660000,
            },
        },
        {
            "taskId": "render_1",
            "status": "completed",
            "progress": 100,
            "output": {"url": f"{CDN}/r.mp4", "duration": 10.0, "size": 12345},
        },
    ],
    ids=["current", "reference", "early"],
)
async def test_render_status_reads_every_documented_poll_shape(
    h: Harness, body: dict[str, Any]
) -> None:
    h.route("poll").side_effect = lambda request, rid: httpx.Response(200, json=body)
    h.api.token = TOKEN
    status = await h.api.render_status("render_1")
    assert (status.id, status.status, status.progress, status.url) == (
        "render_1",
        "completed",
        100,
        f"{CDN}/r.mp4",
    )
    assert status.finished


@pytest.mark.parametrize(
    "body",
    [
        {"code": 0, "id": "render_1", "status": "processing", "progress": 40, "output": {}},
        {
            "success": True,
            "data": {"id": "render_1", "status": "processing", "progress": 40, "outputUrl": None},
        },
        {"taskId": "render_1", "status": "processing", "progress": 40, "output": None},
    ],
    ids=["current", "reference", "early"],
)
async def test_render_status_reads_an_unfinished_render_in_every_shape(
    h: Harness, body: dict[str, Any]
) -> None:
    h.route("poll").side_effect = lambda request, rid: httpx.Response(200, json=body)
    h.api.token = TOKEN
    status = await h.api.render_status("render_1")
    assert (status.id, status.status, status.progress, status.url) == (
        "render_1",
        "processing",
        40,
        None,
    )
    assert not status.finished


# -- configuration and attribution --------------------------------------------------------------


def test_from_env_reads_the_vendor_variables(tmp_path: Path) -> None:
    config = ClientConfig.from_env(
        {
            "NEMO_API_URL": "https://api.example/",
            "NEMO_WEB_URL": "https://web.example/",
            "NEMO_TOKEN": "nmv_usr_env",
            "NEMO_CLIENT_ID": "client-from-env",
            "SKILL_SOURCE": "cursor",
        },
        config_dir=tmp_path,
    )
    assert config.api_url == "https://api.example"
    assert config.web_url == "https://web.example"
    assert config.token == "nmv_usr_env"
    assert config.client_id == "client-from-env"
    assert config.skill_platform == "cursor"
    assert config.attribution == {
        "X-Skill-Source": "opusclip",
        "X-Skill-Version": "1.0.0",
        "X-Skill-Platform": "cursor",
    }
    assert not (tmp_path / "client_id").exists()  # an id given is not stored over the kept one


def test_from_env_defaults(tmp_path: Path) -> None:
    config = ClientConfig.from_env({}, config_dir=tmp_path, install_path=tmp_path / "skill")
    assert config.api_url == "https://mega-api-prod.nemovideo.ai"
    assert config.web_url == "https://nemovideo.com"
    assert config.token is None
    assert config.skill_platform == "unknown"
    assert config.config_dir == tmp_path


def test_an_empty_nemo_token_counts_as_unset(tmp_path: Path) -> None:
    assert ClientConfig.from_env({"NEMO_TOKEN": ""}, config_dir=tmp_path).token is None


def test_the_client_id_is_persisted_in_the_config_dir_and_reused(tmp_path: Path) -> None:
    first = ClientConfig.from_env({}, config_dir=tmp_path / "cfg")
    second = ClientConfig.from_env({}, config_dir=tmp_path / "cfg")
    assert first.client_id
    assert first.client_id == second.client_id
    assert (tmp_path / "cfg" / "client_id").read_text().strip() == first.client_id
    other = ClientConfig.from_env({}, config_dir=tmp_path / "elsewhere")
    assert other.client_id != first.client_id


def test_renewing_the_client_id_replaces_the_kept_one(tmp_path: Path) -> None:
    kept = persistent_client_id(tmp_path)
    renewed = persistent_client_id(tmp_path, renew=True)
    assert renewed != kept
    assert persistent_client_id(tmp_path) == renewed


@pytest.mark.parametrize(
    ("relative", "platform"),
    [
        (".clawhub/skills/opusclip/client/config.py", "clawhub"),
        (".cursor/skills/opusclip/client/config.py", "cursor"),
        (".cursor/extensions/opusclip/config.py", "unknown"),
        ("projects/opusclip/client/config.py", "unknown"),
        (".clawhubx/opusclip/config.py", "unknown"),
    ],
)
def test_platform_is_detected_from_the_install_path(
    tmp_path: Path, relative: str, platform: str
) -> None:
    assert detect_platform(Path.home() / relative) == platform
    config = ClientConfig.from_env({}, config_dir=tmp_path, install_path=Path.home() / relative)
    assert config.skill_platform == platform


def test_platform_detection_expands_a_tilde() -> None:
    assert detect_platform(Path("~/.clawhub/skills/opusclip/SKILL.md")) == "clawhub"


def test_skill_source_overrides_the_install_path(tmp_path: Path) -> None:
    config = ClientConfig.from_env(
        {"SKILL_SOURCE": "clawhub"},
        config_dir=tmp_path,
        install_path=Path.home() / ".cursor/skills/opusclip/config.py",
    )
    assert config.skill_platform == "clawhub"


async def test_attribution_headers_are_on_every_api_request(h: Harness) -> None:
    h.route("sse").side_effect = [sse(adk_call("edit_multitrack", {}))]
    # chat (before, after), status, export
    h.route("state").side_effect = [state(DRAFT)] + [state(DRAFT_WITH_TITLE)] * 3
    h.renders.url = lambda rid: None
    for message in [
        "upload https://example.com/a.mp4",
        "add a title",
        "credits",
        "status",
        "export",
    ]:
        assert await h.handle(message)
    endpoints = ["token", "session", "upload", "sse", "state", "balance", "submit", "poll"]
    endpoints += ["fallback", "claim"]
    assert all(h.route(name).called for name in endpoints)
    api_calls = [c for c in h.router.calls if str(c.request.url).startswith(API + "/")]
    for call in api_calls:
        for name, value in ATTRIBUTION.items():
            assert call.request.headers[name] == value, (call.request.url, name)
    authed = [c for c in api_calls if "/api/auth/anonymous-token" not in str(c.request.url)]
    assert all(c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in authed)
