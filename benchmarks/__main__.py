"""The benchmark suite: each figure with its baseline measured in the same run, interleaved, as a
ratio against the target of the performance issue (#13). Prints a table and writes JSON.

    .venv/bin/python -m benchmarks [--size tiny|small|full] [--json FILE]

Measured so far:
- in-process quick edit (URL upload): the fake against a bare Starlette app answering the same
  round-trips (same paths, same SSE event count) through the same streaming transport;
- growth: a state read, and filling sessions, on a fake holding many sessions against an empty
  one (per session, so linear filling is a ratio near 1).

- live: requests per second of an authenticated JSON endpoint, the fake against a bare Starlette
  route on the same uvicorn settings (benchmarks/live.py).

Not measured yet (see the issue): Prism, 10,000 concurrent streams, render first-download time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
from sse_starlette import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from benchmarks.live import throughput
from nemo_fake import FakeConfig, NemoFake, VirtualClock
from nemo_fake.testing.transport import StreamingASGITransport

ATTRIBUTION = {"X-Skill-Source": "bench", "X-Skill-Version": "1", "X-Skill-Platform": "bench"}
SIZES: dict[str, dict[str, Any]] = {
    # The test suite's: that it runs, not what it says.
    "tiny": {"rounds": 1, "sessions": 20, "live_seconds": 0.3, "live_turns": 1},
    "small": {"rounds": 3, "sessions": 200, "live_seconds": 1.0, "live_turns": 1},
    "full": {"rounds": 30, "sessions": 100_000, "live_seconds": 3.0, "live_turns": 2},
}


@dataclass
class Row:
    figure: str
    measured: float
    baseline: float
    unit: str
    target: str
    limit: float
    # "at most": the ratio must stay at or under the limit; "at least": at or over it.
    sense: str = "at most"

    @property
    def ratio(self) -> float:
        return self.measured / self.baseline if self.baseline else float("inf")

    @property
    def passed(self) -> bool:
        return self.ratio <= self.limit if self.sense == "at most" else self.ratio >= self.limit


# -- in-process quick edit ---------------------------------------------------------------------


async def quick_edit(http: httpx.AsyncClient, n: int) -> int:
    """Token, session, URL upload, state, an extraction (streamed), state, render, poll; the
    number of stream events, for the baseline to send as many."""
    issued = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": f"b{n}"})
    headers = {"Authorization": f"Bearer {issued.json()['data']['token']}", **ATTRIBUTION}
    sid = (
        await http.post(
            "/api/tasks/me/with-session/nemo_agent", headers=headers, json={"task_name": "b"}
        )
    ).json()["data"]["session_id"]
    await http.post(
        f"/api/upload-video/nemo_agent/me/{sid}",
        headers=headers,
        json={"urls": ["https://media.example.com/talk.mp4"], "source_type": "url"},
    )
    await http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=headers)
    body = {"app_name": "nemo_agent", "user_id": "me", "session_id": sid,
            "new_message": {"parts": [{"text": "extract the top 3 viral clips"}]}}  # fmt: skip
    events = 0
    async with http.stream("POST", "/run_sse", headers=headers, json=body) as stream:
        async for line in stream.aiter_lines():
            events += line.startswith("data:")
    state = (await http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=headers)).json()
    draft = state["data"]["state"]["draft"] if "data" in state else {}
    render = {"id": f"render_{n}", "sessionId": sid, "draft": draft}
    await http.post("/api/render/proxy/lambda", headers=headers, json=render)
    await http.get(f"/api/render/proxy/lambda/render_{n}", headers=headers)
    return events


def bare_app(events: int) -> Starlette:
    """What a framework alone costs for the same round-trips: fixed answers, `events` events."""

    async def answer(request: Request) -> Response:
        await request.body()
        return JSONResponse({"code": 0, "data": {"token": "t", "session_id": "1", "state": {
            "draft": {"t": [{"tt": 0, "sg": [{"s": 0, "d": 1000}]}]}}}})  # fmt: skip

    async def stream(request: Request) -> Response:
        await request.body()

        async def produce() -> AsyncIterator[dict[str, str]]:
            for n in range(events):
                yield {"data": json.dumps({"content": {"parts": [{"text": f"{n}"}]}})}

        return EventSourceResponse(produce(), ping=0, sep="\n")

    paths = ["/api/auth/anonymous-token", "/api/tasks/me/with-session/nemo_agent",
             "/api/upload-video/nemo_agent/me/{sid}", "/api/state/nemo_agent/me/{sid}/latest",
             "/api/render/proxy/lambda", "/api/render/proxy/lambda/{rid}"]  # fmt: skip
    routes = [Route(path, answer, methods=["GET", "POST"]) for path in paths]
    return Starlette(routes=[*routes, Route("/run_sse", stream, methods=["POST"])])


async def _timed(run: Callable[[int], Awaitable[Any]], rounds: int) -> float:
    times = []
    for n in range(rounds):
        start = time.perf_counter()
        await run(n)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def in_process(rounds: int) -> Row:
    config = FakeConfig(tokens_per_address=None, silent_edit_ratio=0)
    with NemoFake(config, clock=VirtualClock(autojump=True)) as fake:
        async with fake.http() as http:
            events = await quick_edit(http, -1)  # warm up, and count the stream's events
            bare = bare_app(events)
            async with httpx.AsyncClient(
                transport=StreamingASGITransport(bare), base_url="http://bare"
            ) as baseline:
                fake_times, bare_times = [], []
                for n in range(rounds):  # interleaved, so both meet the same machine
                    fake_times.append(await _timed(lambda i, n=n: quick_edit(http, n), 1))
                    bare_times.append(await _timed(lambda i: quick_edit(baseline, i), 1))
    return Row(
        "in-process quick edit (URL upload)",
        statistics.median(fake_times) * 1000,
        statistics.median(bare_times) * 1000,
        "ms",
        "<= 1.3x bare Starlette",
        1.3,
    )


# -- growth ------------------------------------------------------------------------------------


def growth(sessions: int) -> list[Row]:
    """A small and a big fake side by side; their state reads timed in alternating batches."""
    config = FakeConfig(tokens_per_address=None, tokens_per_client=None)
    with NemoFake(config) as small, NemoFake(config) as big:
        small_fill, small_last = _fill(small, 10)
        big_fill, big_last = _fill(big, sessions)
        reads: dict[str, list[float]] = {"small": [], "big": []}
        for _ in range(9):
            for name, fake, last in (("small", small, small_last), ("big", big, big_last)):
                start = time.perf_counter()
                for _ in range(100):
                    fake.backend.session(*last).state()
                reads[name].append((time.perf_counter() - start) / 100)
    return [
        Row(f"state read, {sessions} sessions vs 10", statistics.median(reads["big"]) * 1e6,
            statistics.median(reads["small"]) * 1e6, "us", "<= 1.15x an empty fake", 1.15),
        Row(f"filling, per session, {sessions} vs 10", big_fill * 1e6, small_fill * 1e6, "us",
            "linear: <= 1.15x", 1.15),
    ]  # fmt: skip


def _fill(fake: NemoFake[Any], count: int) -> tuple[float, tuple[Any, str]]:
    """Sessions across accounts, each with a message: the time per session, and the last."""
    backend = fake.backend
    accounts = [
        backend.issue_anonymous_token(f"c{i}", "127.0.0.1").account
        for i in range(max(1, count // 10))
    ]
    start = time.perf_counter()
    last: tuple[Any, str] | None = None
    for i in range(count):
        account = accounts[i % len(accounts)]
        session = backend.create_session(account, "p", "en")
        backend.run_message(account, session.session_id, "hello")
        last = (account, session.session_id)
    assert last is not None
    return (time.perf_counter() - start) / count, last


# -- the table ---------------------------------------------------------------------------------


def table(rows: list[Row]) -> str:
    lines = [f"{'figure':<42} {'measured':>10} {'baseline':>10} {'ratio':>6}  target", "-" * 100]
    for row in rows:
        verdict = "pass" if row.passed else "FAIL"
        lines.append(
            f"{row.figure:<42} {row.measured:>8.2f}{row.unit:>2} {row.baseline:>8.2f}{row.unit:>2}"
            f" {row.ratio:>6.2f}  {row.target} {verdict}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--size", choices=list(SIZES), default="full")
    parser.add_argument("--json", type=Path, help="Also write the rows here.")
    options = parser.parse_args(argv)
    size = SIZES[options.size]
    rows = [asyncio.run(in_process(size["rounds"])), *growth(size["sessions"])]
    fake_rps, bare_rps = throughput(size["live_seconds"], size["live_turns"])
    rows.append(
        Row("live GET balance (bearer), requests/s", fake_rps, bare_rps, "/s",
            ">= 0.9x bare Starlette", 0.9, sense="at least")
    )  # fmt: skip
    print(table(rows))
    if options.json is not None:
        document = [{**asdict(row), "ratio": row.ratio, "passed": row.passed} for row in rows]
        options.json.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
