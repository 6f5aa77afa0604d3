"""Contract: `/run_sse` streams the agent's work live, changes the session, charges credits."""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest
from httpx_sse import aconnect_sse

from nemo_fake import FakeConfig, NemoBackend, VirtualClock
from nemo_fake.config import StreamFaults
from tests.support import Api, User, assert_valid_draft, chat, error_code, sse_body

pytestmark = pytest.mark.spends_credits

EXTRACT = "extract the top 5 viral short clips from this long video"


async def _user_with_video(api: Api, language: str = "en") -> User:
    user = await api.new_user(with_session=False)
    created = await api.http.post(
        "/api/tasks/me/with-session/nemo_agent",
        headers=user.headers,
        json={"task_name": "project", "language": language},
    )
    user.session_id = created.json()["data"]["session_id"]
    uploaded = await api.upload_url(user, "https://media.example.com/podcast-episode-12.mp4")
    assert uploaded.status_code == 200
    return user


async def _balance(api: Api, user: User) -> dict[str, int]:
    response = await api.http.get("/api/credits/balance/simple", headers=user.headers)
    data: dict[str, int] = response.json()["data"]
    return data


async def test_stream_is_data_lines_of_json_or_empty_and_ends_with_the_connection(
    api: Api,
) -> None:
    user = await _user_with_video(api)
    stream = await chat(api.http, user, EXTRACT, headers={"X-Fake-Silent": "false"})
    assert stream.data, "no events"
    for line in stream.data:
        assert line == "" or isinstance(json.loads(line), dict)
    assert stream.empties >= 1
    assert stream.heartbeats >= 1


@pytest.mark.nemo_incompatible("event_shape")
async def test_adk_events_carry_content_parts_role_author_invocation_id_and_timestamp(
    api: Api, clock: VirtualClock
) -> None:
    user = await _user_with_video(api)
    started = clock.now()
    stream = await chat(api.http, user, EXTRACT, headers={"X-Fake-Silent": "false"})
    adk = [event for event in stream.events if "content" in event]
    assert adk
    invocation = adk[0]["invocationId"]
    for event in adk:
        assert set(event) >= {"content", "author", "invocationId", "id", "timestamp"}
        assert event["invocationId"] == invocation
        assert event["content"]["role"] in ("model", "user")
        assert started <= event["timestamp"] <= clock.now()
    calls, results = stream.parts("functionCall"), stream.parts("functionResponse")
    assert [c["name"] for c in calls] == ["analyze_video", "extract_clips"]
    assert [r["id"] for r in results] == [c["id"] for c in calls]
    roles = {next(iter(event["content"]["parts"][0])): event["content"]["role"] for event in adk}
    assert roles == {"text": "model", "functionCall": "model", "functionResponse": "user"}


@pytest.mark.nemo_incompatible("event_shape")
async def test_extracting_top_5_viral_clips_fills_generated_media_and_puts_the_best_on_the_draft(
    api: Api, clock: VirtualClock
) -> None:
    user = await _user_with_video(api)
    started = clock.now()
    stream = await chat(api.http, user, EXTRACT, headers={"X-Fake-Silent": "false"})
    assert 60 <= clock.now() - started <= 180  # "about 1-3 minutes"
    state = (await api.state(user))["state"]
    clips = state["generated_media"]
    source = state["video_infos"][0]
    assert len(clips) == 5
    for clip in clips:
        assert 0 <= clip["start"] < clip["end"] <= source["duration"]
        assert clip["duration"] == pytest.approx(clip["end"] - clip["start"], abs=0.002)
        assert (clip["width"], clip["height"], clip["aspect_ratio"]) == (1080, 1920, "9:16")
        assert 0 <= clip["virality_score"] <= 100
    scores = [clip["virality_score"] for clip in clips]
    assert scores == sorted(scores, reverse=True)
    best = clips[0]
    (video,) = [track for track in state["draft"]["t"] if track["tt"] == 0]
    assert video["sg"][0]["d"] == round(best["duration"] * 1000)
    assert video["sg"][0]["in"] == round(best["start"] * 1000)
    assert state["video_analyses"] and state["video_analyses"][0]["file_id"] == source["file_id"]
    reply = stream.texts[-1]
    for clip in clips:
        assert clip["title"] in reply and str(clip["virality_score"]) in reply
    assert "click the Export button" in reply  # GUI phrasing for the client to translate
    assert_valid_draft(state["draft"])


@pytest.mark.parametrize(
    ("message", "count"),
    [
        ("extract the top 3 viral clips", 3),
        ("提取五个爆款短视频片段", 5),
        ("find two highlights", 2),
    ],
)
async def test_the_clip_count_is_read_from_the_message(api: Api, message: str, count: int) -> None:
    user = await _user_with_video(api)
    await chat(api.http, user, message)
    assert len((await api.state(user))["state"]["generated_media"]) == count


async def test_extraction_without_a_video_asks_for_an_upload_and_charges_nothing(
    api: Api,
) -> None:
    user = await api.new_user()
    stream = await chat(api.http, user, EXTRACT)
    assert "Upload" in stream.texts[-1]
    assert not stream.parts("functionCall")
    assert await _balance(api, user) == {"available": 100, "frozen": 0, "total": 100}


async def test_extraction_and_editing_cost_50_once_per_session(api: Api) -> None:
    user = await _user_with_video(api)
    await chat(api.http, user, EXTRACT)
    assert await _balance(api, user) == {"available": 50, "frozen": 0, "total": 50}
    await chat(api.http, user, "add lo-fi background music at 35%")
    await chat(api.http, user, 'add a title "Urban Dreams"')
    assert await _balance(api, user) == {"available": 50, "frozen": 0, "total": 50}


@pytest.mark.nemo_incompatible("event_shape")
async def test_generation_streams_heartbeats_then_raw_video_then_post_production(
    api: Api, clock: VirtualClock
) -> None:
    user = await api.new_user()
    started = clock.now()
    stream = await chat(api.http, user, "generate a video of a city timelapse at night")
    assert 100 <= clock.now() - started <= 300
    assert stream.empties >= 3 and stream.heartbeats >= 3
    names = [call["name"] for call in stream.parts("functionCall")]
    assert names == ["generate_video_with_seedance", "edit_multitrack"]
    texts = stream.texts
    assert "few minutes" in texts[0]
    assert any("raw video is ready" in text for text in texts)
    assert "Post-production done" in texts[-1]
    state = (await api.state(user))["state"]
    assert [t["n"] for t in state["draft"]["t"]] == ["Video", "BGM", "Title"]
    assert [t["tt"] for t in state["draft"]["t"]] == [0, 1, 7]
    assert state["generated_media"][0]["type"] == "video"
    assert_valid_draft(state["draft"])
    assert await _balance(api, user) == {"available": 0, "frozen": 0, "total": 0}


async def test_generation_without_enough_credits_is_2001_before_streaming(api: Api) -> None:
    user = await api.new_user()
    await chat(api.http, user, "generate a video of a sunset")
    response = await api.http.post(
        "/run_sse", headers=user.headers, json=sse_body(user.session_id, "generate a video of rain")
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/json")
    assert error_code(response) == 2001
    # The registration link VH:7fe0b89 says the backend provides, bound to this user.
    message = response.json()["message"]
    assert message.endswith(
        f"register to get more: https://nemovideo.com/register?bind={user.user_id}"
    )


async def test_edits_change_the_draft_as_described(api: Api) -> None:
    user = await _user_with_video(api)
    await chat(api.http, user, EXTRACT)
    before = (await api.state(user))["state"]["draft"]["d"]
    assert before > 5000
    await chat(api.http, user, "trim it to 5 seconds")
    await chat(api.http, user, "add jazz background music at 40%")
    await chat(api.http, user, 'add a title "Urban Dreams"')
    await chat(api.http, user, "add subtitles")
    draft = (await api.state(user))["state"]["draft"]
    tracks = {track["n"]: track for track in draft["t"]}
    assert set(tracks) == {"Video", "BGM", "Title", "Subtitles"}
    assert draft["d"] == 5000
    (bgm,) = tracks["BGM"]["sg"]
    assert (bgm["n"], bgm["v"], bgm["s"], bgm["d"]) == ("Jazz", 40, 0, 5000)
    (title,) = tracks["Title"]["sg"]
    assert (title["text"], title["pos"], title["s"], title["d"]) == (
        "Urban Dreams",
        "top-center",
        0,
        3000,
    )
    assert tracks["Subtitles"]["tt"] == 7 and len(tracks["Subtitles"]["sg"]) == 2
    assert_valid_draft(draft)


async def test_an_edit_on_an_empty_timeline_says_so(api: Api) -> None:
    user = await api.new_user()
    stream = await chat(api.http, user, "add background music")
    assert "timeline is empty" in stream.texts[-1]
    assert await _balance(api, user) == {"available": 100, "frozen": 0, "total": 100}


async def test_changing_the_aspect_ratio_is_answered_as_must_regenerate(api: Api) -> None:
    user = await _user_with_video(api)
    stream = await chat(api.http, user, "change the aspect ratio to 16:9")
    assert "regenerate" in stream.texts[-1]
    assert not stream.parts("functionCall")


async def test_a_chinese_session_gets_chinese_replies(api: Api) -> None:
    user = await _user_with_video(api, language="zh-CN")
    stream = await chat(api.http, user, "提取三个爆款短视频", headers={"X-Fake-Silent": "false"})
    assert "爆款指数" in stream.texts[-1]
    assert "点击导出" in stream.texts[-1]


@pytest.mark.nemo_incompatible("event_shape")
async def test_anything_else_gets_a_plain_text_reply(api: Api, clock: VirtualClock) -> None:
    user = await api.new_user()
    started = clock.now()
    stream = await chat(api.http, user, "hello, what can you do?")
    assert 5 <= clock.now() - started <= 16
    assert len(stream.texts) >= 1 and not stream.parts("functionCall")


async def test_a_silent_edit_has_tool_calls_only_and_the_state_shows_the_change(api: Api) -> None:
    user = await _user_with_video(api)
    stream = await chat(api.http, user, 'add a title "Quiet"', headers={"X-Fake-Silent": "true"})
    assert stream.texts == []
    assert [c["name"] for c in stream.parts("functionCall")] == ["edit_multitrack"]
    titles = [t for t in (await api.state(user))["state"]["draft"]["t"] if t["n"] == "Title"]
    assert titles[0]["sg"][0]["text"] == "Quiet"


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(temporary_issue_rate=1.0)])
async def test_a_trailing_temporary_issue_follows_a_normal_reply(api: Api) -> None:
    user = await api.new_user()
    stream = await chat(api.http, user, "hello")
    assert len(stream.texts) == 2
    assert stream.texts[-1].startswith("I encountered a temporary issue")


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(event_shape="typed")])
async def test_typed_event_shape(api: Api) -> None:
    user = await _user_with_video(api)
    stream = await chat(api.http, user, EXTRACT, headers={"X-Fake-Silent": "false"})
    types = {event["type"] for event in stream.events}
    assert types == {"text", "tool_call", "tool_result", "heartbeat"}
    calls = [e for e in stream.events if e["type"] == "tool_call"]
    assert calls[0]["name"] == "analyze_video" and "args" in calls[0]
    results = [e for e in stream.events if e["type"] == "tool_result"]
    assert "clips" in results[-1]["result"]


@pytest.mark.parametrize(
    "nemo_fake_config", [FakeConfig(heartbeat_style="empty"), FakeConfig(heartbeat_style="event")]
)
async def test_heartbeat_form_is_configurable(api: Api, nemo_fake_config: FakeConfig) -> None:
    user = await api.new_user()
    stream = await chat(api.http, user, "generate a video of waves")
    if nemo_fake_config.heartbeat_style == "empty":
        assert stream.empties > 0 and stream.heartbeats == 0
    else:
        assert stream.heartbeats > 0 and stream.empties == 0


# -- errors before and during the stream -------------------------------------------------------


async def test_errors_known_before_streaming_are_json_envelopes(api: Api) -> None:
    user = await api.new_user()
    cases: list[tuple[dict[str, str], dict[str, Any], int]] = [
        ({}, sse_body(user.session_id, "hi"), 1001),
        (user.headers, sse_body("999", "hi"), 1002),
        (user.headers, {**sse_body(user.session_id, "hi"), "app_name": "other"}, 404),
        (user.headers, {"appName": "nemo_agent", "sessionId": user.session_id}, 400),
        (user.headers, sse_body(user.session_id, "   "), 400),
        (user.headers, {**sse_body(user.session_id, "x"), "new_message": {"parts": "x"}}, 400),
    ]
    for headers, body, code in cases:
        response = await api.http.post("/run_sse", headers=headers, json=body)
        assert response.headers["content-type"].startswith("application/json"), body
        assert error_code(response) == code, (body, response.text)


async def test_camel_case_fields_are_refused_naming_the_snake_case_one(api: Api) -> None:
    user = await api.new_user()
    body = {"app_name": "nemo_agent", "user_id": "me", "sessionId": user.session_id,
            "new_message": {"parts": [{"text": "hi"}]}}  # fmt: skip
    response = await api.http.post("/run_sse", headers=user.headers, json=body)
    assert response.json()["field"] == "session_id"


@pytest.mark.parametrize(
    "nemo_fake_config", [FakeConfig(stream_faults=StreamFaults(error_after_events=3))]
)
async def test_an_error_mid_stream_is_an_error_event_and_nothing_is_charged(api: Api) -> None:
    user = await api.new_user()
    stream = await chat(api.http, user, "generate a video of a forest")
    assert len(stream.data) == 4
    assert stream.events[-1] == {"error": "Agent run failed: upstream model error"}
    assert await _balance(api, user) == {"available": 100, "frozen": 0, "total": 100}
    assert (await api.state(user))["state"]["draft"]["t"] == []


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(stream_faults=StreamFaults(stall=True))])
async def test_a_stalled_run_sends_heartbeats_only_for_over_10_minutes(
    api: Api, clock: VirtualClock
) -> None:
    user = await _user_with_video(api)
    started = clock.now()
    stream = await chat(api.http, user, EXTRACT)
    assert clock.now() - started > 600
    assert stream.texts == [] and not stream.parts("functionCall")
    assert stream.empties + stream.heartbeats == len(stream.data)
    assert await _balance(api, user) == {"available": 100, "frozen": 0, "total": 100}


@pytest.mark.parametrize(
    "nemo_fake_config", [FakeConfig(stream_faults=StreamFaults(event_latency=2.0))]
)
async def test_event_latency_delays_every_event(api: Api, clock: VirtualClock) -> None:
    user = await api.new_user()
    started = clock.now()
    stream = await chat(api.http, user, "hello")
    assert clock.now() - started >= 5 + 2.0 * len(stream.data)


@pytest.mark.parametrize(
    "nemo_fake_config", [FakeConfig(stream_faults=StreamFaults(drop_after_events=3))]
)
async def test_a_dropped_stream_breaks_but_the_operation_completes(
    api: Api, clock: VirtualClock
) -> None:
    user = await _user_with_video(api)
    received: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        async with aconnect_sse(
            api.http, "POST", "/run_sse", headers=user.headers,
            json=sse_body(user.session_id, EXTRACT),
        ) as source:  # fmt: skip
            async for event in source.aiter_sse():
                received.append(event.data)
    assert len(received) == 3
    assert (await api.state(user))["state"]["generated_media"] == []
    clock.advance(180)
    state = (await api.state(user))["state"]
    assert len(state["generated_media"]) == 5
    assert await _balance(api, user) == {"available": 50, "frozen": 0, "total": 50}


@pytest.mark.usefixtures("clock_stands_still")
@pytest.mark.nemo_incompatible("event_shape")
async def test_the_first_event_arrives_long_before_the_last_is_produced(
    api: Api, clock: VirtualClock
) -> None:
    user = await api.new_user()
    started = clock.now()
    async with aconnect_sse(
        api.http, "POST", "/run_sse", headers=user.headers,
        json=sse_body(user.session_id, "generate a video of a lighthouse"),
    ) as source:  # fmt: skip
        events = source.aiter_sse()
        clock.advance(2)
        with anyio.fail_after(5):
            first = await anext(events)
        assert "few minutes" in json.loads(first.data)["content"]["parts"][0]["text"]
        # The generation runs 100-300 s: the rest of the stream does not exist yet.
        assert clock.now() == started + 2
        clock.advance(400)
        with anyio.fail_after(5):
            rest = [event async for event in events]
    assert len(rest) > 5


@pytest.mark.usefixtures("clock_stands_still")
async def test_a_client_that_disconnects_does_not_cancel_the_operation(
    api: Api, clock: VirtualClock
) -> None:
    user = await _user_with_video(api)
    async with aconnect_sse(
        api.http, "POST", "/run_sse", headers=user.headers,
        json=sse_body(user.session_id, EXTRACT),
    ) as source:  # fmt: skip
        clock.advance(2)
        with anyio.fail_after(5):
            await anext(source.aiter_sse())
    # Recovery as the vendor doc says: wait, then query state.
    clock.advance(30)
    assert (await api.state(user))["state"]["generated_media"] == []
    frozen = await _balance(api, user)
    assert frozen == {"available": 50, "frozen": 50, "total": 100}
    clock.advance(180)
    assert len((await api.state(user))["state"]["generated_media"]) == 5


@pytest.mark.usefixtures("clock_stands_still")
async def test_re_sending_while_an_operation_runs_charges_again(
    api: Api, clock: VirtualClock, backend: NemoBackend
) -> None:
    user = await _user_with_video(api)
    for _ in range(2):
        async with api.http.stream(
            "POST", "/run_sse", headers=user.headers, json=sse_body(user.session_id, EXTRACT)
        ) as response:
            assert response.status_code == 200  # then hang up, as an impatient client would
    assert await _balance(api, user) == {"available": 0, "frozen": 100, "total": 100}
    clock.advance(400)
    assert await _balance(api, user) == {"available": 0, "frozen": 0, "total": 0}
    ledger = backend.authenticate(user.token).ledger
    assert [m.kind for m in ledger.movements] == ["grant", "freeze", "freeze", "charge", "charge"]


SPLIT = FakeConfig(stream_faults=StreamFaults(split_events=True))


@pytest.mark.parametrize("nemo_fake_config", [SPLIT])
async def test_split_events_arrive_in_pieces_cut_inside_data_lines_and_between_newlines(
    api: Api,
) -> None:
    user = await _user_with_video(api)
    pieces: list[bytes] = []
    async with api.http.stream(
        "POST", "/run_sse", headers=user.headers, json=sse_body(user.session_id, EXTRACT)
    ) as response:
        pieces = [piece async for piece in response.aiter_raw() if piece]
    whole = b"".join(pieces)
    events = [event for event in whole.split(b"\n\n") if event]
    if api.target == "inprocess":  # a socket may join writes again on the way in
        assert len(pieces) >= 3 * len(events)  # no event arrived in one piece
        assert any(piece.startswith(b"data: ") and not piece.endswith(b"\n") for piece in pieces)
        assert b"\n" in pieces  # the second newline of an event, on its own
    # A parser that reads lines, as httpx-sse does, gets every event whole.
    parsed = await chat(api.http, user, "add a title 'Split'", {"X-Fake-Silent": "false"})
    assert parsed.texts and all(json.loads(line) for line in parsed.data if line)
