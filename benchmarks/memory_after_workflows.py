"""Server memory before and after N full render workflows (token, session, URL upload,
stand-in download, render, poll, download), 20 at a time against a fake served on 127.0.0.1.

Prints resident memory at start, after one workflow (the encoder warmed up) and after N, and
the ratio of the last to the first. Linux only (/proc/self/status).

Run: .venv/bin/python benchmarks/memory_after_workflows.py [N]   (default 100)
"""

from __future__ import annotations

import asyncio
import gc
import sys

import httpx

from nemo_fake import FakeConfig, NemoFake, ScaledClock
from nemo_fake.testing import serve

ATTRIBUTION = {"X-Skill-Source": "bench", "X-Skill-Version": "1", "X-Skill-Platform": "bench"}
SIZES = ((1080, 1920), (720, 1280), (540, 960))


def rss_mb() -> int:
    with open("/proc/self/status", encoding="utf-8") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) // 1024
    return 0


async def workflow(http: httpx.AsyncClient, n: int) -> None:
    issued = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": f"c{n}"})
    headers = {"Authorization": f"Bearer {issued.json()['data']['token']}", **ATTRIBUTION}
    created = await http.post(
        "/api/tasks/me/with-session/nemo_agent", headers=headers, json={"task_name": "t"}
    )
    sid = created.json()["data"]["session_id"]
    url = f"https://media.example.com/v{n % 7}.mp4"
    await http.post(f"/api/upload-video/nemo_agent/me/{sid}", headers=headers, json={"urls": [url]})
    state = await http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=headers)
    body = state.json()["data"]["state"]
    for info in body["video_infos"]:
        await http.get(info["cdn_url"])
    draft = body["draft"]
    draft["d"] = 2000 + (n % 5) * 1000
    for track in draft["t"]:
        for segment in track["sg"]:
            segment["d"] = min(segment["d"], draft["d"])
    draft["m"]["width"], draft["m"]["height"] = SIZES[n % len(SIZES)]
    job = {"id": "r", "sessionId": sid, "draft": draft}
    await http.post("/api/render/proxy/lambda", headers=headers, json=job)
    for _ in range(500):
        poll = await http.get("/api/render/proxy/lambda/r", headers=headers)
        if poll.json()["status"] == "completed":
            break
        await asyncio.sleep(0.01)
    await http.get("/api/render/proxy/r/download", headers=headers)


async def main(count: int) -> None:
    config = FakeConfig(tokens_per_address=None)
    with NemoFake(config, clock=ScaledClock(speed=20_000)) as fake, serve(fake) as server:
        start = rss_mb()
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            await workflow(http, count)
            warm = rss_mb()
            for first in range(0, count, 20):
                await asyncio.gather(*(workflow(http, n) for n in range(first, first + 20)))
        gc.collect()
        await asyncio.sleep(1)
        after = rss_mb()
    print(f"{'workflows':>10} {'start MB':>9} {'warm MB':>8} {'after MB':>9} {'after/start':>12}")
    print(f"{count:>10} {start:>9} {warm:>8} {after:>9} {after / start:>11.2f}x")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
