"""A chat over /run_sse: which stream events are said, heartbeats, the report of a silent
edit from the state, and the recovery from a dropped stream (never re-sent)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from nemo_client.api import parse_event
from nemo_client.models import AgentEvent
from tests.client.harness import (
    DRAFT,
    DRAFT_WITH_TITLE,
    EMPTY,
    HEARTBEAT,
    Harness,
    adk_call,
    adk_result,
    adk_text,
    broken_sse,
    sse,
    state,
    typed_text,
)

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
