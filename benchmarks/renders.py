"""A render's first download, in process: what a client waits for once a render completes.

The first download of a render makes its MP4. Pictures repeat every LOOP_SECONDS, and a
process encodes that loop once per (size, fps); a later render of the same size only
assembles packets and writes them. The figures: the first download of a 60 s 1080x1920 render
once the loop is encoded (the baseline column: the download that encoded it), and how many
loop encodes three renders of that size cost.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from benchmarks.inprocess import ATTRIBUTION
from benchmarks.table import Row
from nemo_fake import FakeConfig, NemoFake, VirtualClock
from nemo_fake.media.make import loop_encodes

WIDTH, HEIGHT = 1080, 1920


async def render_rows() -> list[Row]:
    # A seed no other figure renders with: its picture's loop is not encoded yet.
    with NemoFake(FakeConfig(seed=7_000_007), clock=VirtualClock(autojump=True)) as fake:
        async with fake.http() as http:
            token = (
                await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "r"})
            ).json()["data"]["token"]
            headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}
            before = loop_encodes()
            # A first render as long as the loop (10 s) encodes all of it.
            encoding = await _first_download(fake, http, headers, "render_a", 10_000)
            first = await _first_download(fake, http, headers, "render_b", 60_000)
            await _first_download(fake, http, headers, "render_c", 30_000)
            encodes = loop_encodes() - before
    return [
        Row("render first download, 60 s 1080x1920", first * 1000, encoding * 1000, "ms",
            "< 300 ms with its loop encoded", 300, sense="under",
            note="baseline: the download that encoded the loop"),
        Row("loop encodes, 3 renders of one size", encodes, 1, "", "one per (size, fps)", 1.0,
            note="renders of 10 s (the loop's length), 60 s and 30 s"),
    ]  # fmt: skip


async def _first_download(
    fake: NemoFake[Any], http: httpx.AsyncClient, headers: dict[str, str], rid: str, ms: int
) -> float:
    session = (
        await http.post(
            "/api/tasks/me/with-session/nemo_agent", headers=headers, json={"task_name": "r"}
        )
    ).json()["data"]["session_id"]
    draft = {"t": [{"tt": 0, "sg": [{"s": 0, "d": ms, "n": "clip"}]}], "d": ms,
             "m": {"title": "t", "width": WIDTH, "height": HEIGHT}}  # fmt: skip
    submitted = await http.post(
        "/api/render/proxy/lambda", headers=headers,
        json={"id": rid, "sessionId": session, "draft": draft},
    )  # fmt: skip
    submitted.raise_for_status()
    fake.advance(3600)
    start = time.perf_counter()
    download = await http.get(f"/api/render/proxy/{rid}/download", headers=headers)
    elapsed = time.perf_counter() - start
    if download.status_code != 200 or not download.content:
        raise RuntimeError(f"the download of {rid} failed: {download.text[:200]}")
    return elapsed
