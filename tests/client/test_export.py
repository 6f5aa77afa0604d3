"""Export: the render submit and polls, the download (credentials to the API host only)
and its proxy fallback, the claim link, and every documented render poll shape."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from nemo_client import REFERENCE_POLLING, SKILL_POLLING, RenderPolling
from tests.client.harness import (
    API,
    CDN,
    CLAIM,
    DRAFT,
    EMPTY_DRAFT,
    SID,
    TASK,
    TOKEN,
    WEB,
    Harness,
    fail,
    state,
)

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


@pytest.mark.parametrize(
    ("polling", "every", "polls"),
    [(SKILL_POLLING, 30, 10), (REFERENCE_POLLING, 10, 30)],  # the same five minutes
    ids=["skill-30s-x10", "reference-10s-x30"],
)
async def test_export_stops_after_its_polls_with_the_progress_reached(
    h: Harness, polling: RenderPolling, every: int, polls: int
) -> None:
    if polling is not SKILL_POLLING:  # the skill's cadence is the default
        h.assistant.render_polling = polling
    h.renders.steps = [("processing", 3 * n) for n in range(1, polls + 1)]
    assert not await h.handle("export")
    assert h.route("poll").call_count == polls
    assert h.timer.sleeps == [every] * polls
    assert h.said[-1] == f"⏳ The render is still at {3 * polls}%; try export again later."
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
