"""The `h` fixture: the reference client's workflow, branch by branch, against respx mocks
(no fake server); the mocked endpoints answer as harness.py builds them.

Each test names the behaviour the seed (../shared/seed/opusclip-skill.txt) or the vendor doc
quoted in ../shared/api-facts.md asks for. Every test goes through the `h` fixture, which at
teardown checks two rules that hold for the whole workflow: no message said to the user ever
contains a bearer token, and every request to the API carries the three attribution headers
(while no request to another host carries the token).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import respx

from nemo_client.api import NemoApi
from nemo_client.assistant import Assistant
from nemo_client.config import ClientConfig
from nemo_client.timer import ManualTimer
from nemo_fake.testing.tls import shared_tls_context
from tests.client.harness import (
    API,
    ATTRIBUTION,
    CDN,
    CLAIM,
    CLIENT_ID,
    DRAFT,
    SID,
    TASK,
    TOKEN,
    TOKENS,
    USER_ID,
    Harness,
    Renders,
    adk_text,
    ok,
    sse,
    state,
)


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    renders = Renders()
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{API}/api/auth/anonymous-token", name="token").mock(
            side_effect=lambda request: ok(
                {"token": TOKEN, "user_id": USER_ID, "credits": 100, "expires_at": "2026-01-08"}
            )
        )
        router.post(f"{API}/api/tasks/me/with-session/nemo_agent", name="session").mock(
            side_effect=lambda request: ok({"session_id": SID, "task_id": TASK, "user_id": USER_ID})
        )
        router.get(f"{API}/api/state/nemo_agent/me/{SID}/latest", name="state").mock(
            side_effect=lambda request: state(DRAFT)
        )
        router.get(f"{API}/api/credits/balance/simple", name="balance").mock(
            side_effect=lambda request: ok({"available": 70, "frozen": 30, "total": 100})
        )
        router.post(f"{API}/api/upload-video/nemo_agent/me/{SID}", name="upload").mock(
            side_effect=lambda request: ok({"files": [], "session_state_applied": True})
        )
        router.post(f"{API}/run_sse", name="sse").mock(
            side_effect=lambda request: sse(adk_text("Done."))
        )
        router.post(f"{API}/api/auth/claim-token", name="claim").mock(
            side_effect=lambda request: ok({"claim_token": CLAIM, "expires_in": 604800})
        )
        router.post(f"{API}/api/render/proxy/lambda", name="submit").mock(
            side_effect=renders.submit
        )
        router.get(url__regex=rf"^{API}/api/render/proxy/lambda/(?P<rid>[^/]+)$", name="poll").mock(
            side_effect=renders.poll
        )
        router.get(
            url__regex=rf"^{API}/api/render/proxy/(?P<rid>[^/]+)/download$", name="fallback"
        ).mock(side_effect=lambda request, rid: httpx.Response(200, content=b"proxied mp4"))
        router.get(url__regex=rf"^{CDN}/renders/(?P<name>[^/]+)$", name="cdn").mock(
            side_effect=lambda request, name: httpx.Response(200, content=b"cdn mp4")
        )
        said: list[str] = []
        timer = ManualTimer()
        http = httpx.AsyncClient(verify=shared_tls_context())
        api = NemoApi(
            ClientConfig(api_url=API, client_id=CLIENT_ID, config_dir=tmp_path), http=http
        )
        assistant = Assistant(api, say=said.append, timer=timer, downloads=tmp_path / "downloads")
        harness = Harness(
            router, api, assistant, timer, said, tmp_path, tmp_path / "downloads", renders
        )
        try:
            yield harness
        finally:
            await http.aclose()
        # Rules for every test (checked before respx forgets its calls): no token in anything
        # said; attribution on every API request; the bearer token only to the API's host.
        for message in said:
            assert "Bearer" not in message
            for token in TOKENS:
                assert token not in message, message
        assert router.calls  # the checks below have something to check
        for call in router.calls:
            request = call.request
            if str(request.url).startswith(API + "/"):
                for name, value in ATTRIBUTION.items():
                    assert request.headers.get(name) == value, (request.url, name)
            else:
                assert "Authorization" not in request.headers, request.url
