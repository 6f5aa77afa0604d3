"""The respx harness for the reference client's unit tests (no fake server): the constants,
the builders of the documented responses and stream events, scripted render jobs, and the
`Harness` that the `h` fixture (conftest.py) hands to each test."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import respx

from nemo_client.api import NemoApi
from nemo_client.assistant import Assistant
from nemo_client.timer import ManualTimer

API = "https://api.test"
CDN = "https://cdn.test"
WEB = "https://nemovideo.com"
CLIENT_ID = "cid"
TOKEN = "nmv_usr_first-secret-token"
TOKEN_2 = "nmv_usr_second-secret-token"
TOKENS = (TOKEN, TOKEN_2)
USER_ID = "anon_user_1"
SID = "5529798706024415232"
SID_2 = "5529798706024415999"
TASK = "task_1"
CLAIM = "clm_claim-token"
ATTRIBUTION = {
    "X-Skill-Source": "opusclip",
    "X-Skill-Version": "1.0.0",
    "X-Skill-Platform": "unknown",
}

VIDEO = {"tt": 0, "sg": [{"n": "podcast.mp4", "s": 0, "d": 10000}]}
TITLE = {"tt": 7, "sg": [{"text": "Urban Dreams", "s": 0, "d": 3000}]}
DRAFT = {"t": [VIDEO], "d": 10000}
DRAFT_WITH_TITLE = {"t": [VIDEO, TITLE], "d": 10000}
EMPTY_DRAFT: dict[str, Any] = {"t": []}

# -- responses --------------------------------------------------------------------------------


def ok(data: Any) -> httpx.Response:
    return httpx.Response(200, json={"code": 0, "data": data})


def fail(code: int, status: int, message: str = "failed") -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message, "data": None})


def state_body(draft: dict[str, Any], session_id: str = SID) -> dict[str, Any]:
    return {
        "session_id": session_id,
        "task_id": TASK,
        "user_id": USER_ID,
        "state": {"draft": draft, "video_infos": [], "generated_media": [], "canvas_config": {}},
    }


def state(draft: dict[str, Any], session_id: str = SID) -> httpx.Response:
    return ok(state_body(draft, session_id))


def adk_text(text: str) -> dict[str, Any]:
    return {
        "content": {"parts": [{"text": text}], "role": "model"},
        "author": "nemo_agent",
        "invocationId": "e-1",
        "id": "ev-1",
        "timestamp": 1743712255.31,
        "partial": False,
    }


def adk_call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    part = {"functionCall": {"id": "fc-1", "name": name, "args": args}}
    return {"content": {"parts": [part], "role": "model"}, "author": "nemo_agent"}


def adk_result(name: str, response: dict[str, Any]) -> dict[str, Any]:
    part = {"functionResponse": {"id": "fc-1", "name": name, "response": response}}
    return {"content": {"parts": [part], "role": "user"}, "author": "nemo_agent"}


def typed_text(text: str) -> dict[str, Any]:
    return {"type": "text", "content": text}


HEARTBEAT: dict[str, Any] = {"type": "heartbeat"}
EMPTY = ""  # an empty `data:` line, the other heartbeat


def _encode(events: tuple[object, ...]) -> list[bytes]:
    chunks = []
    for event in events:
        if event == EMPTY:
            chunks.append(b"data:\n\n")
        else:
            data = event if isinstance(event, str) else json.dumps(event, ensure_ascii=False)
            chunks.append(f"data: {data}\n\n".encode())
    return chunks


def sse(*events: object) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=b"".join(_encode(events))
    )


def broken_sse(*events: object) -> httpx.Response:
    """A stream that delivers `events` and then loses the connection."""

    async def body() -> AsyncIterator[bytes]:
        for chunk in _encode(events):
            yield chunk
        raise httpx.RemoteProtocolError("peer closed connection without a complete body")

    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body())


def render_body(rid: str, status: str, progress: int, url: str | None = None) -> dict[str, Any]:
    """The current doc's poll shape: status at the top level, the file at `output.url`."""
    body: dict[str, Any] = {
        "code": 0,
        "id": rid,
        "sessionId": SID,
        "status": status,
        "progress": progress,
        "output": {"format": "mp4", "quality": "high", "url": url},
    }
    if status == "failed":
        body["error"] = "render node crashed"
    return body


# -- the harness --------------------------------------------------------------------------------


@dataclass
class Renders:
    """Scripted render jobs: each submit answers `pending`; polls walk `steps` in order."""

    steps: list[tuple[str, int]] = field(default_factory=lambda: [("completed", 100)])
    url: Callable[[str], str | None] = lambda rid: f"{CDN}/renders/{rid}.mp4"

    def submit(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(200, json=render_body(body["id"], "pending", 0))

    def poll(self, request: httpx.Request, rid: str) -> httpx.Response:
        status, progress = self.steps.pop(0)
        url = self.url(rid) if status == "completed" else None
        return httpx.Response(200, json=render_body(rid, status, progress, url))


@dataclass
class Harness:
    router: respx.MockRouter
    api: NemoApi
    assistant: Assistant
    timer: ManualTimer
    said: list[str]
    config_dir: Path
    downloads: Path
    renders: Renders

    def route(self, name: str) -> respx.Route:
        return self.router.routes[name]

    async def handle(self, message: str) -> bool:
        with anyio.fail_after(5):  # a retry loop that never ends fails here, not in CI's timeout
            return await self.assistant.handle(message)

    def bodies(self, name: str) -> list[Any]:
        return [json.loads(call.request.content) for call in self.route(name).calls]
