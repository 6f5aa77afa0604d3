"""The error policy: what each documented error code or HTTP status makes the client do
(re-authenticate, start a new session, retry once, or stop) and say."""

from __future__ import annotations

import httpx

from nemo_client.assistant import Project
from nemo_client.config import persistent_client_id
from nemo_client.errors import SUPPORTED_FORMATS
from tests.client.harness import (
    API,
    CLIENT_ID,
    DRAFT,
    SID,
    SID_2,
    TASK,
    TOKEN,
    TOKEN_2,
    USER_ID,
    WEB,
    Harness,
    adk_text,
    fail,
    ok,
    sse,
    state,
    state_body,
)


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
