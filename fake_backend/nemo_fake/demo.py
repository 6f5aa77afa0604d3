"""`nemo-fake serve --demo`: walk the quick-edit flow against the running fake over HTTP."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from nemo_fake.http.auth import attribution

ATTRIBUTION = attribution("nemo-fake-demo")
# The reference client polls a render every 30 s; the demo does the same in API time.
POLL_API_SECONDS = 30.0


async def run_demo(base_url: str, say: Callable[[str], None], *, speed: float) -> None:
    """Token -> session -> upload -> state -> render -> poll -> download, narrated; `speed` is
    the served fake's, so a poll every 30 API seconds is half a second at 60x."""
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


def _data(response: httpx.Response) -> Any:
    body = response.json()
    if body.get("code") != 0:
        raise RuntimeError(f"{response.request.url.path} answered {body}")
    return body["data"]
