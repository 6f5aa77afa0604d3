"""Small helpers the contract tests share: a caller that knows the documented headers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

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
    _clients: int = field(default=0)

    async def new_user(self, *, with_session: bool = True) -> User:
        client_id = str(uuid.uuid4())
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
