"""Whole workflows at once against a live server: token, session, URL upload, extraction (the
stream read to its end), state, render, poll until completed, download. None may fail, and
afterwards every account's ledger shows exactly the one editing fee (renders are free).

5 at once in the default run; 100 behind the `slow` marker (`-m slow`). Every await has a
timeout, so a stuck workflow fails the test rather than hanging it.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable
from typing import Any, TypeVar

import httpx
import pytest
from httpx_sse import aconnect_sse

from nemo_fake import FakeConfig
from tests.support import ATTRIBUTION, Stream, served_fake, sse_body

T = TypeVar("T")

# API seconds per wall second: a 60-180 s extraction streams in 10-30 ms, a render in 5-15 ms.
SPEED = 6000
# Wall seconds any one request may take, and a whole run of workflows.
STEP_TIMEOUT = 30.0
RUN_TIMEOUT = 60.0
POLL_INTERVAL = 0.02


async def within(awaitable: Awaitable[T], timeout: float = STEP_TIMEOUT) -> T:
    return await asyncio.wait_for(awaitable, timeout)


async def workflow(http: httpx.AsyncClient) -> str:
    """One user from a token to a downloaded MP4; their user id."""
    created = await within(
        http.post("/api/auth/anonymous-token", headers={"X-Client-Id": str(uuid.uuid4())})
    )
    assert created.status_code == 200, created.text
    token, user_id = created.json()["data"]["token"], created.json()["data"]["user_id"]
    headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}

    session = await within(
        http.post(
            "/api/tasks/me/with-session/nemo_agent",
            headers=headers,
            json={"task_name": "project", "language": "en"},
        )
    )
    assert session.status_code == 200, session.text
    session_id = session.json()["data"]["session_id"]

    upload = await within(
        http.post(
            f"/api/upload-video/nemo_agent/me/{session_id}",
            headers=headers,
            json={"urls": ["https://media.example.com/talk.mp4"], "source_type": "url"},
        )
    )
    assert upload.status_code == 200, upload.text

    stream = await within(_extract(http, headers, session_id))
    assert any(call["name"] == "extract_clips" for call in stream.parts("functionResponse"))

    state = await within(http.get(f"/api/state/nemo_agent/me/{session_id}/latest", headers=headers))
    assert state.status_code == 200, state.text
    data = state.json()["data"]["state"]
    assert len(data["generated_media"]) == 3 and data["draft"]["d"] > 0

    render_id = f"w-{uuid.uuid4().hex[:12]}"
    submitted = await within(
        http.post(
            "/api/render/proxy/lambda",
            headers=headers,
            json={"id": render_id, "sessionId": session_id, "draft": data["draft"]},
        )
    )
    assert submitted.status_code == 200, submitted.text
    url = await within(_poll_until_done(http, headers, render_id))

    video = await within(http.get(url))
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert video.content[4:8] == b"ftyp", video.content[:16]  # an MP4 starts with its ftyp box
    return str(user_id)


async def _extract(http: httpx.AsyncClient, headers: dict[str, str], session_id: str) -> Stream:
    async with aconnect_sse(
        http,
        "POST",
        "/run_sse",
        headers={**headers, "Accept": "text/event-stream"},
        json=sse_body(session_id, "extract the top 3 viral clips"),
    ) as source:
        assert source.response.status_code == 200
        return Stream([event.data async for event in source.aiter_sse()])


async def _poll_until_done(http: httpx.AsyncClient, headers: dict[str, str], render_id: str) -> str:
    while True:
        polled = await within(http.get(f"/api/render/proxy/lambda/{render_id}", headers=headers))
        assert polled.status_code == 200, polled.text
        body: dict[str, Any] = polled.json()
        assert body["status"] in ("pending", "processing", "completed"), body
        if body["status"] == "completed":
            url: str = body["output"]["url"]
            return url
        await asyncio.sleep(POLL_INTERVAL)


@pytest.mark.parametrize(
    "count", [pytest.param(5, id="5"), pytest.param(100, id="100", marks=pytest.mark.slow)]
)
async def test_workflows_at_once_all_succeed_and_each_ledger_is_exact(count: int) -> None:
    config = FakeConfig(tokens_per_address=None, render_fps=2)
    with served_fake(config, speed=SPEED) as server:
        limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
        async with server.http(timeout=STEP_TIMEOUT, limits=limits) as http:
            started = time.monotonic()
            results = await within(
                asyncio.gather(*(workflow(http) for _ in range(count)), return_exceptions=True),
                RUN_TIMEOUT,
            )
            elapsed = time.monotonic() - started
            errors = [result for result in results if isinstance(result, BaseException)]
            assert not errors, f"{len(errors)} of {count} failed; first: {errors[0]!r}"
            users = {result for result in results if isinstance(result, str)}
            assert len(users) == count

            ledger = await within(http.get("/_fake/ledger"))
        assert ledger.status_code == 200, ledger.text
        accounts = {account["user_id"]: account for account in ledger.json()["data"]["accounts"]}
        assert set(accounts) == users
        for account in accounts.values():
            movements = [(m["kind"], m["amount"]) for m in account["movements"]]
            assert movements == [("grant", 100), ("freeze", 50), ("charge", 50)], account
            assert (account["available"], account["frozen"], account["total"]) == (50, 0, 50)
        # The same through the fake's own controls.
        for user_id in users:
            kinds = [movement.kind for movement in server.fake.ledger(user_id)]
            assert kinds == ["grant", "freeze", "charge"]
    assert elapsed < RUN_TIMEOUT
