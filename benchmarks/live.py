"""Live throughput: requests per second of an authenticated JSON endpoint, the fake against a bare
Starlette route on the same uvicorn settings, measured in turns (fake, bare, fake, bare).

Each server runs in its own process on core 0; the load comes from this process on core 1 over
keep-alive connections, with a minimal HTTP/1.1 client (httpx would be the bottleneck).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PATH = "/api/credits/balance/simple"
NEMO_FAKE = Path(sys.executable).with_name("nemo-fake")


async def balance(request: Request) -> Response:
    """The bare baseline: a bearer checked, a small envelope answered."""
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return JSONResponse({"code": 1001, "message": "Missing bearer token"}, status_code=401)
    return JSONResponse({"code": 0, "data": {"available": 100, "frozen": 0, "total": 100}})


app = Starlette(routes=[Route(PATH, balance)])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _on_core(core: int) -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {core})


def _wait(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered at {url}")


async def _load(port: int, token: str, seconds: float, connections: int) -> float:
    request = (
        f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()
    done = 0
    stop = time.perf_counter() + seconds

    async def one() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length:\s*(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                done += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    return done / (time.perf_counter() - start)


def throughput(seconds: float = 2.0, turns: int = 2, connections: int = 16) -> tuple[float, float]:
    """Median requests per second of the fake and of the bare route."""
    fake_port, bare_port = _free_port(), _free_port()
    servers = [
        subprocess.Popen(
            [str(NEMO_FAKE), "serve", "--port", str(fake_port), "--quiet",
             "--set", "tokens_per_address=null"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=lambda: _on_core(0),
        ),
        subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "benchmarks.live:app", "--port", str(bare_port),
             "--log-level", "warning", "--no-access-log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=lambda: _on_core(0),
            cwd=Path(__file__).resolve().parents[1],
        ),
    ]  # fmt: skip
    try:
        _wait(f"http://127.0.0.1:{fake_port}/")
        _wait(f"http://127.0.0.1:{bare_port}{PATH}")
        issued = httpx.post(
            f"http://127.0.0.1:{fake_port}/api/auth/anonymous-token",
            headers={"X-Client-Id": "bench-live"},
        )
        token = issued.json()["data"]["token"]
        _on_core(1)
        fake, bare = [], []
        for _ in range(turns):
            fake.append(asyncio.run(_load(fake_port, token, seconds, connections)))
            bare.append(asyncio.run(_load(bare_port, token, seconds, connections)))
        return sorted(fake)[len(fake) // 2], sorted(bare)[len(bare) // 2]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
