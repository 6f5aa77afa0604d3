"""Small helpers the contract tests share: a caller that knows the documented headers."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import aconnect_sse

from nemo_fake import FakeConfig, NemoFake, ScaledClock
from nemo_fake.testing import NemoServer, serve


@contextmanager
def served_fake(
    config: FakeConfig | None = None, *, speed: float, storage: Path | None = None
) -> Iterator[NemoServer[ScaledClock]]:
    """A fake as `nemo-fake serve` runs one (a scaled real clock, a real socket), for tests of
    processes that reach it by URL."""
    with (
        NemoFake(config, clock=ScaledClock(speed=speed), storage=storage) as fake,
        serve(fake) as server,
    ):
        yield server


# (method, path) of every endpoint that reads a JSON body; {sid} is a live session's id.
# tests/test_hostile_input.py checks the app routes no other body-taking endpoint.
JSON_ENDPOINTS = [
    ("POST", "/api/auth/claim-token"),
    ("POST", "/api/tasks/me/with-session/nemo_agent"),
    ("POST", "/api/upload-video/nemo_agent/me/{sid}"),
    ("POST", "/api/render/proxy/lambda"),
    ("POST", "/api/render/proxy/draft"),  # with legacy_render_paths (ALL_PATHS below)
    ("POST", "/run_sse"),
    ("POST", "/_fake/faults"),
    ("POST", "/_fake/clock/advance"),
    ("POST", "/_fake/clock/speed"),
    ("PATCH", "/_fake/config"),
]
# Settings under which every endpoint above is served (some belong to one era only).
ALL_PATHS = FakeConfig(legacy_render_paths=True)
# POST endpoints that read no body at all.
BODILESS_POSTS = {
    "/api/auth/anonymous-token",
    "/api/render/proxy/lambda/{render_id}/cancel",
    "/_fake/reset",
    "/_fake/snapshots",
    "/_fake/snapshots/{snapshot_id}/restore",
    "/api/v1/generate",
}

ATTRIBUTION = {
    "X-Skill-Source": "opusclip",
    "X-Skill-Version": "1.0.0",
    "X-Skill-Platform": "unknown",
}


@dataclass
class User:
    token: str
    user_id: str
    client_id: str
    session_id: str = ""
    task_id: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **ATTRIBUTION}


@dataclass
class Api:
    """An httpx client pointed at a fake, with the steps every test repeats."""

    http: httpx.AsyncClient
    target: str
    # Against a real API, the tests share this token (NEMO_TOKEN) instead of minting
    # anonymous ones, which are rate-limited per address.
    token: str | None = None

    async def new_user(self, *, with_session: bool = True) -> User:
        client_id = str(uuid.uuid4())
        if self.token:
            user = User(self.token, "", client_id)
        else:
            response = await self.http.post(
                "/api/auth/anonymous-token", headers={"X-Client-Id": client_id}
            )
            assert response.status_code == 200, response.text
            data = response.json()["data"]
            user = User(data["token"], data["user_id"], client_id)
        if with_session:
            created = await self.http.post(
                "/api/tasks/me/with-session/nemo_agent",
                headers=user.headers,
                json={"task_name": "project", "language": "en"},
            )
            assert created.status_code == 200, created.text
            user.session_id = created.json()["data"]["session_id"]
            user.task_id = created.json()["data"]["task_id"]
        return user

    async def state(self, user: User) -> dict[str, Any]:
        response = await self.http.get(
            f"/api/state/nemo_agent/me/{user.session_id}/latest", headers=user.headers
        )
        assert response.status_code == 200, response.text
        state: dict[str, Any] = response.json()["data"]
        return state

    async def upload_url(self, user: User, *urls: str) -> httpx.Response:
        return await self.http.post(
            f"/api/upload-video/nemo_agent/me/{user.session_id}",
            headers=user.headers,
            json={"urls": list(urls), "source_type": "url"},
        )

    async def upload_files(
        self, user: User, *files: tuple[str, bytes], headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.post(
            f"/api/upload-video/nemo_agent/me/{user.session_id}",
            headers={**user.headers, **(headers or {})},
            files=[("files", (name, content)) for name, content in files],
        )

    async def submit_render(
        self, user: User, render_id: str, draft: dict[str, Any], **extra: Any
    ) -> httpx.Response:
        return await self.http.post(
            "/api/render/proxy/lambda",
            headers=user.headers,
            json={"id": render_id, "sessionId": user.session_id, "draft": draft, **extra},
        )

    async def poll(self, user: User, render_id: str) -> httpx.Response:
        return await self.http.get(f"/api/render/proxy/lambda/{render_id}", headers=user.headers)


@dataclass
class Stream:
    """What one `/run_sse` call streamed: raw data lines, parsed in order."""

    data: list[str]

    @property
    def events(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.data if line]

    @property
    def texts(self) -> list[str]:
        found = []
        for event in self.events:
            if "content" in event:
                found += [p["text"] for p in event["content"]["parts"] if "text" in p]
            elif event.get("type") == "text":
                found.append(event["content"])
        return found

    def parts(self, key: str) -> list[dict[str, Any]]:
        """ADK parts of one kind: "functionCall" or "functionResponse"."""
        return [
            part[key]
            for event in self.events
            if "content" in event
            for part in event["content"]["parts"]
            if key in part
        ]

    @property
    def empties(self) -> int:
        return sum(1 for line in self.data if not line)

    @property
    def heartbeats(self) -> int:
        return sum(1 for event in self.events if event.get("type") == "heartbeat")


def sse_body(session_id: str, text: str) -> dict[str, Any]:
    return {
        "app_name": "nemo_agent",
        "user_id": "me",
        "session_id": session_id,
        "new_message": {"parts": [{"text": text}]},
    }


async def chat(
    http: httpx.AsyncClient, user: User, text: str, headers: dict[str, str] | None = None
) -> Stream:
    """Send one message and read the stream to its end."""
    async with aconnect_sse(
        http,
        "POST",
        "/run_sse",
        headers={**user.headers, "Accept": "text/event-stream", **(headers or {})},
        json=sse_body(user.session_id, text),
    ) as source:
        assert source.response.status_code == 200
        assert source.response.headers["content-type"].startswith("text/event-stream")
        return Stream([event.data async for event in source.aiter_sse()])


def draft_of(duration_ms: int = 2000, width: int = 1080, height: int = 1920) -> dict[str, Any]:
    """A small exportable draft: one video segment."""
    return {
        "t": [{"tt": 0, "sg": [{"s": 0, "d": duration_ms, "n": "clip"}]}],
        "d": duration_ms,
        "m": {"title": "t", "width": width, "height": height},
    }


def error_code(response: httpx.Response) -> int:
    code: int = response.json()["code"]
    return code


def assert_valid_draft(draft: dict[str, Any]) -> None:
    """Every track has `tt` and `sg`; every segment lies inside `d`."""
    assert isinstance(draft["d"], int) and draft["d"] >= 0
    for track in draft["t"]:
        assert track["tt"] in (0, 1, 7)
        assert isinstance(track["sg"], list)
        for segment in track["sg"]:
            assert segment["s"] >= 0 and segment["d"] > 0
            assert segment["s"] + segment["d"] <= draft["d"], (segment, draft["d"])
