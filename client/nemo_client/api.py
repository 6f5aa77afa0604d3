"""One typed async method per NemoVideo endpoint, over httpx. No workflow here: see assistant.py."""

from __future__ import annotations

import functools
import json
import ssl
from collections.abc import AsyncGenerator, Callable
from pathlib import Path
from typing import Any, BinaryIO

import httpx
from httpx_sse import aconnect_sse

from nemo_client.config import ClientConfig
from nemo_client.errors import NemoApiError
from nemo_client.models import (
    AgentEvent,
    AnonymousToken,
    Balance,
    ClaimToken,
    ProjectState,
    RenderStatus,
    SessionInfo,
    UploadedFile,
)

APP = "nemo_agent"
SSE_TIMEOUT = httpx.Timeout(30.0, read=900.0)  # the vendor's 15-minute stream timeout
ProgressCallback = Callable[[int], None]


@functools.cache
def default_tls() -> ssl.SSLContext:
    """httpx's own default TLS settings, loaded once: reading the CA bundle costs each client
    tens of milliseconds, and a program may make many clients."""
    return httpx.create_ssl_context()


class NemoApi:
    """The NemoVideo HTTP API. `token` is set after authentication and sent on every call."""

    def __init__(self, config: ClientConfig, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.token = config.token
        self.http = http or httpx.AsyncClient(timeout=60.0, verify=default_tls())

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- auth and sessions --------------------------------------------------------------------

    async def anonymous_token(self, client_id: str) -> AnonymousToken:
        data = await self._call(
            "POST", "/api/auth/anonymous-token", headers={"X-Client-Id": client_id}, auth=False
        )
        return AnonymousToken(
            data["token"], data.get("user_id"), data.get("credits"), data.get("expires_at")
        )

    async def create_session(self, task_name: str = "project", language: str = "en") -> SessionInfo:
        data = await self._call(
            "POST",
            f"/api/tasks/me/with-session/{APP}",
            json={"task_name": task_name, "language": language},
        )
        return SessionInfo(str(data["session_id"]), str(data["task_id"]), data.get("user_id"))

    async def claim_token(self, task_id: str, session_id: str) -> ClaimToken:
        data = await self._call(
            "POST", "/api/auth/claim-token", json={"task_id": task_id, "session_id": session_id}
        )
        return ClaimToken(data["claim_token"], int(data.get("expires_in", 0)))

    # -- credits and state --------------------------------------------------------------------

    async def balance(self) -> Balance:
        data = await self._call("GET", "/api/credits/balance/simple")
        return Balance(int(data["available"]), int(data["frozen"]), int(data["total"]))

    async def state(self, session_id: str) -> ProjectState:
        data = await self._call("GET", f"/api/state/{APP}/me/{session_id}/latest")
        inner = data.get("state", {})
        return ProjectState(
            session_id=data.get("session_id"),
            task_id=data.get("task_id"),
            user_id=data.get("user_id"),
            draft=inner.get("draft") or {},
            generated_media=list(inner.get("generated_media") or []),
            video_infos=list(inner.get("video_infos") or []),
            raw=data,
        )

    # -- uploads ------------------------------------------------------------------------------

    async def upload_file(
        self, session_id: str, path: Path, progress: ProgressCallback | None = None
    ) -> list[UploadedFile]:
        with path.open("rb") as handle:
            body = _CountingReader(handle, progress) if progress else handle
            data = await self._call(
                "POST",
                f"/api/upload-video/{APP}/me/{session_id}",
                files=[("files", (path.name, body))],
                timeout=httpx.Timeout(60.0, write=None),
            )
        return [_uploaded(item) for item in data.get("files", [])]

    async def upload_urls(self, session_id: str, urls: list[str]) -> list[UploadedFile]:
        data = await self._call(
            "POST",
            f"/api/upload-video/{APP}/me/{session_id}",
            json={"urls": urls, "source_type": "url"},
        )
        return [_uploaded(item) for item in data.get("files", [])]

    # -- renders ------------------------------------------------------------------------------

    async def submit_render(
        self, render_id: str, session_id: str, draft: dict[str, Any]
    ) -> RenderStatus:
        body = {
            "id": render_id,
            "sessionId": session_id,  # the one camelCase field
            "draft": draft,
            "output": {"format": "mp4", "quality": "high"},
        }
        return _render_status(
            await self._call("POST", "/api/render/proxy/lambda", json=body, raw=True), render_id
        )

    async def render_status(self, render_id: str) -> RenderStatus:
        return _render_status(
            await self._call("GET", f"/api/render/proxy/lambda/{render_id}", raw=True), render_id
        )

    async def cancel_render(self, render_id: str) -> RenderStatus:
        return _render_status(
            await self._call("POST", f"/api/render/proxy/lambda/{render_id}/cancel", raw=True),
            render_id,
        )

    async def download(
        self, url: str, dest: Path, progress: ProgressCallback | None = None
    ) -> Path:
        """Fetch a finished file. Credentials go only to the API's own host, never a CDN's."""
        headers = self._headers() if self._is_api_origin(url) else {}
        async with self.http.stream("GET", url, headers=headers) as response:
            if response.status_code != 200:
                await response.aread()
                raise _error(response)
            part = dest.with_name(dest.name + ".part")
            try:
                with part.open("wb") as out:
                    async for chunk in response.aiter_bytes():
                        out.write(chunk)
                        if progress:
                            progress(len(chunk))
                part.replace(dest)
            except BaseException:
                # A broken connection, Ctrl-C or a cancelled task leaves no half file behind.
                part.unlink(missing_ok=True)
                raise
        return dest

    def fallback_download_url(self, render_id: str) -> str:
        return f"{self.config.api_url}/api/render/proxy/{render_id}/download"

    # -- the agent ----------------------------------------------------------------------------

    async def run_sse(self, session_id: str, text: str) -> AsyncGenerator[AgentEvent, None]:
        """Send one message; yield the agent's events as they arrive (ADK or typed shape)."""
        body = {
            "app_name": APP,
            "user_id": "me",
            "session_id": session_id,
            "new_message": {"parts": [{"text": text}]},
        }
        async with aconnect_sse(
            self.http,
            "POST",
            self._url("/run_sse"),
            headers={**self._headers(), "Accept": "text/event-stream"},
            json=body,
            timeout=SSE_TIMEOUT,
        ) as source:
            response = source.response
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                await response.aread()
                raise _error(response)
            async for sse in source.aiter_sse():
                for event in parse_event(sse.data):
                    yield event

    # -- plumbing -----------------------------------------------------------------------------

    def _is_api_origin(self, url: str) -> bool:
        """Same scheme, host and port as the API: a prefix test would also pass
        `https://api.host.evil.example` or `https://api.hostile.example`."""
        target, api = httpx.URL(url), httpx.URL(self.config.api_url)
        return (target.scheme, target.host, target.port) == (api.scheme, api.host, api.port)

    def _url(self, path: str) -> str:
        return f"{self.config.api_url}{path}"

    def _headers(self) -> dict[str, str]:
        headers = dict(self.config.attribution)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    async def _call(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        auth: bool = True,
        raw: bool = False,
        **kwargs: Any,
    ) -> Any:
        sent = {**(self._headers() if auth else self.config.attribution), **(headers or {})}
        response = await self.http.request(method, self._url(path), headers=sent, **kwargs)
        try:
            body = response.json()
        except ValueError:
            raise _error(response) from None
        if response.status_code >= 400 or not isinstance(body, dict):
            raise _error(response, body)
        if "code" in body and body["code"] != 0:
            raise _error(response, body)
        return body if raw else body.get("data", {})


def parse_event(data: str) -> list[AgentEvent]:
    """One SSE data line as events: empty data is a heartbeat; ADK events may hold several parts."""
    if not data.strip():
        return [AgentEvent("heartbeat")]
    try:
        event = json.loads(data)
    except ValueError:
        return [AgentEvent("text", text=data)]
    if not isinstance(event, dict):
        return []
    if "error" in event:
        return [AgentEvent("error", text=str(event["error"]))]
    kind = event.get("type")
    if kind == "heartbeat":
        return [AgentEvent("heartbeat")]
    if kind == "text":
        return [AgentEvent("text", text=str(event.get("content", "")))]
    if kind == "tool_call":
        return [
            AgentEvent("tool_call", name=event.get("name", ""), payload=event.get("args") or {})
        ]
    if kind == "tool_result":
        return [
            AgentEvent("tool_result", name=event.get("name", ""), payload=event.get("result") or {})
        ]
    parts = (event.get("content") or {}).get("parts") or []
    found = []
    for part in parts:
        if part.get("text"):
            found.append(AgentEvent("text", text=part["text"]))
        elif "functionCall" in part:
            call = part["functionCall"]
            found.append(
                AgentEvent("tool_call", name=call.get("name", ""), payload=call.get("args") or {})
            )
        elif "functionResponse" in part:
            result = part["functionResponse"]
            found.append(
                AgentEvent(
                    "tool_result", name=result.get("name", ""), payload=result.get("response") or {}
                )
            )
    return found


def _render_status(body: dict[str, Any], render_id: str) -> RenderStatus:
    """Every documented poll shape: top-level status (current doc), `data` with `outputUrl`
    (api-reference.md, and a minimal variant without the id), or `taskId` with `output.url`
    (early doc). A body without an id is about the render asked for, `render_id`."""
    job: dict[str, Any] = body["data"] if isinstance(body.get("data"), dict) else body
    output: dict[str, Any] = job["output"] if isinstance(job.get("output"), dict) else {}
    return RenderStatus(
        id=str(job.get("id") or job.get("taskId") or render_id),
        status=str(job.get("status", "pending")),
        progress=int(job.get("progress") or 0),
        url=output.get("url") or job.get("outputUrl"),
        error=job.get("error"),
    )


def _uploaded(item: dict[str, Any]) -> UploadedFile:
    return UploadedFile(
        filename=item.get("filename", ""),
        file_type=item.get("file_type", ""),
        cdn_url=item.get("cdn_url", ""),
        duration=item.get("duration"),
        width=item.get("width"),
        height=item.get("height"),
        raw=item,
    )


def _error(response: httpx.Response, body: Any = None) -> NemoApiError:
    if body is None:
        try:
            body = response.json()
        except ValueError:
            body = None
    if isinstance(body, dict) and isinstance(body.get("code"), int) and body["code"] != 0:
        message = body.get("message") or body.get("msg") or response.reason_phrase
        return NemoApiError(
            body["code"], str(message), http_status=response.status_code, field=body.get("field")
        )
    # No envelope: the HTTP status is the code (400, 402 and 429 are documented that way).
    return NemoApiError(
        response.status_code,
        response.reason_phrase or "HTTP error",
        http_status=response.status_code,
    )


class _CountingReader:
    """A file wrapper that reports bytes as httpx reads them, for an upload progress bar."""

    def __init__(self, handle: BinaryIO, progress: ProgressCallback) -> None:
        self._handle = handle
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        chunk = self._handle.read(size)
        self._progress(len(chunk))
        return chunk

    def __getattr__(self, name: str) -> Any:
        # fileno/seek/tell let httpx learn the length, so the upload keeps a Content-Length.
        return getattr(self._handle, name)
