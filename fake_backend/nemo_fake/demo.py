"""`nemo-fake serve --demo`: walk the quick-edit flow against the running fake over HTTP."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from httpx_sse import aconnect_sse

from nemo_fake.http.auth import attribution

ATTRIBUTION = attribution("nemo-fake-demo")
# The reference client polls a render every 30 s; the demo does the same in API time.
POLL_API_SECONDS = 30.0
MESSAGE = "extract the top 3 viral short clips from this long video"


async def run_demo(base_url: str, say: Callable[[str], None], *, speed: float) -> None:
    """Token -> session -> upload -> chat -> state -> render -> poll -> download, narrated;
    `speed` is the served fake's, so a poll every 30 API seconds is half a second at 60x.
    A step that fails (a fault rule, a setting) ends the demo with one line saying why."""
    try:
        await _walk(base_url, say, speed=speed)
    except (httpx.HTTPError, RuntimeError) as error:
        say(f"demo: stopped: {error or type(error).__name__}")


async def _walk(base_url: str, say: Callable[[str], None], *, speed: float) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        token = _data(
            await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": str(uuid.uuid4())})
        )
        say(f"demo: anonymous token for {token['user_id']} with {token['credits']} credits")
        headers = {"Authorization": f"Bearer {token['token']}", **ATTRIBUTION}
        session = _data(
            await http.post(
                "/api/tasks/me/with-session/nemo_agent",
                headers=headers,
                json={"task_name": "project", "language": "en"},
            )
        )
        sid = session["session_id"]
        say(f"demo: session {sid}")
        upload = _data(
            await http.post(
                f"/api/upload-video/nemo_agent/me/{sid}",
                headers=headers,
                json={"urls": ["https://example.com/podcast.mp4"], "source_type": "url"},
            )
        )
        video = upload["files"][0]
        say(f"demo: uploaded {video['filename']} ({video['duration']:g}s) -> {video['cdn_url']}")
        say(f"demo: you say: {MESSAGE}")
        await _chat(http, headers, sid, say)
        state = _data(await http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=headers))
        draft = state["state"]["draft"]
        say(f"demo: draft has {len(draft['t'])} track(s), {draft['d']} ms")
        render_id = f"render_{uuid.uuid4().hex[:12]}"
        job = (
            await http.post(
                "/api/render/proxy/lambda",
                headers=headers,
                json={"id": render_id, "sessionId": sid, "draft": draft},
            )
        ).json()
        while job.get("status") in ("pending", "processing"):
            say(f"demo: render {job['status']} {job['progress']}%")
            await asyncio.sleep(POLL_API_SECONDS / speed)
            job = (await http.get(f"/api/render/proxy/lambda/{render_id}", headers=headers)).json()
        url = (job.get("output") or {}).get("url")
        if job.get("status") != "completed" or not url:
            say(f"demo: render ended {job.get('status')}: {job.get('error')}")
            return
        size = len((await http.get(url)).content)
        say(f"demo: render completed, {size} bytes of MP4 at {url}")


async def _chat(
    http: httpx.AsyncClient, headers: dict[str, str], sid: str, say: Callable[[str], None]
) -> None:
    """One `/run_sse` message, its stream narrated as it comes: text, tool calls, errors."""
    body = {"app_name": "nemo_agent", "user_id": "me", "session_id": sid,
            "new_message": {"parts": [{"text": MESSAGE}]}}  # fmt: skip
    # X-Fake-Silent is the fake's own switch (real clients never send it): "false" keeps this
    # extraction from being one of the silent edits (silent_edit_ratio) that end with tool calls
    # only, so the demo always shows what the agent says, whatever the seed.
    chat_headers = {**headers, "Accept": "text/event-stream", "X-Fake-Silent": "false"}
    try:
        async with aconnect_sse(http, "POST", "/run_sse", headers=chat_headers, json=body) as sse:
            if sse.response.status_code != 200:
                await sse.response.aread()
                say(f"demo: /run_sse answered {sse.response.status_code}: {sse.response.text}")
                return
            async for event in sse.aiter_sse():
                for line in _narrate(json.loads(event.data) if event.data else {}):
                    say(f"demo: {line}")
    except httpx.HTTPError as error:
        say(f"demo: the stream broke off ({error or type(error).__name__})")


def _narrate(event: dict[str, Any]) -> list[str]:
    """What one event says, in either event shape (`adk` or `typed`); nothing for heartbeats
    and tool results."""
    if "error" in event:
        return [f"the agent failed: {event['error']}"]
    kind = event.get("type")
    if kind == "text":
        return [f"agent: {line}" for line in str(event["content"]).splitlines() if line.strip()]
    if kind == "tool_call":
        return [f"agent calls {event['name']}"]
    said: list[str] = []
    for part in (event.get("content") or {}).get("parts", []):
        if "text" in part:
            said += [f"agent: {line}" for line in part["text"].splitlines() if line.strip()]
        elif "functionCall" in part:
            said.append(f"agent calls {part['functionCall']['name']}")
    return said


def _data(response: httpx.Response) -> Any:
    body = response.json()
    if body.get("code") != 0:
        raise RuntimeError(f"{response.request.url.path} answered {body}")
    return body["data"]
