"""Live throughput: requests per second of an authenticated JSON endpoint on a served fake,
against a bare Starlette route on the same uvicorn settings, and against Prism 5 mocking the
same endpoint from the fake's OpenAPI document (benchmarks/prism.py; skipped, saying why,
where it cannot run), measured in turns (fake, bare, Prism, fake, ...) after a warm-up each.

Each server runs in its own process on core 0; the load comes from core 1 (benchmarks/load.py:
wrk when installed).
"""

from __future__ import annotations

import contextlib
import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from benchmarks.load import free_port, on_core, requests_per_second, tool, wait_until_up
from benchmarks.prism import (
    PrismServer,
    check_answers,
    documented_example,
    prism_available,
    prism_mock,
)
from benchmarks.table import Row, Skipped, median_row

PATH = "/api/credits/balance/simple"
NEMO_FAKE = Path(sys.executable).with_name("nemo-fake")
WARM_UP = 4.0  # seconds of unmeasured load per server before its turns
ROOT = Path(__file__).resolve().parents[1]


async def balance(request: Request) -> Response:
    """The bare baseline: a bearer checked, a small envelope answered."""
    if not request.headers.get("authorization", "").startswith("Bearer "):
        return JSONResponse({"code": 1001, "message": "Missing bearer token"}, status_code=401)
    return JSONResponse({"code": 0, "data": {"available": 100, "frozen": 0, "total": 100}})


app = Starlette(routes=[Route(PATH, balance)])


def live_rows(
    seconds: float, turns: int, pairs: int, *, install_prism: bool
) -> list[Row | Skipped]:
    """The fake against bare Starlette and Prism in `pairs` runs, the fake and bare Starlette
    served afresh in each: each row is the run with the median ratio. Like the in-process
    figures: a process's own memory layout and hash seed moved its requests per second by up to
    5% (two fresh bare apps read 0.95 of each other), so one process of each is one draw. Prism,
    slow to start, is started once and takes its turns in every run."""
    settings = ["--set", "tokens_per_address=null"]
    prism_skipped = prism_available(install=install_prism)
    with contextlib.ExitStack() as stack:
        prism: PrismServer | None = None
        expected: Any = None
        if prism_skipped is None:
            document = stack.enter_context(_document(settings))
            prism = stack.enter_context(prism_mock(document))
            expected = documented_example(document)
        runs = [_served_pair(settings, seconds, turns, prism, expected) for _ in range(pairs)]
    against_bare = [
        Row("live GET balance (bearer), requests/s", rates["fake"], rates["bare"], "/s",
            ">= 0.9x bare Starlette", 0.9, sense="at least")
        for rates in runs
    ]  # fmt: skip
    row = median_row(against_bare, runs="runs of fresh servers")
    setup = f"load: {tool()}; both on uvicorn with {server_stack()}"
    row.note = f"{row.note}; {setup}" if row.note else setup
    rows: list[Row | Skipped] = [row]
    if prism_skipped is None:
        against_prism = median_row([
            Row("live GET balance (bearer) vs Prism 5", rates["fake"], rates["prism"], "/s",
                ">= 2.5x Prism", 2.5, sense="at least")
            for rates in runs
        ], runs="runs")  # fmt: skip
        against_prism.note = f"{against_prism.note}; Prism at --verboseLevel warn"
        rows.append(against_prism)
    else:
        rows.append(Skipped("live GET balance (bearer) vs Prism 5", prism_skipped))
    return rows


def _served_pair(
    settings: list[str], seconds: float, turns: int, prism: PrismServer | None, expected: Any
) -> dict[str, float]:
    """A fresh fake and a fresh bare app served, each one's best requests per second in turns
    (with Prism's, when given: it must answer `expected`, as the fake does), and both stopped."""
    fake_port, bare_port = free_port(), free_port()
    servers = [
        subprocess.Popen(
            [str(NEMO_FAKE), "serve", "--port", str(fake_port), "--quiet", *settings],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=lambda: on_core(0),
        ),
        subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "benchmarks.live:app", "--port", str(bare_port),
             "--log-level", "warning", "--no-access-log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=lambda: on_core(0),
            cwd=ROOT,
        ),
    ]  # fmt: skip
    try:
        wait_until_up(f"http://127.0.0.1:{fake_port}/openapi.json")
        wait_until_up(f"http://127.0.0.1:{bare_port}{PATH}")
        issued = httpx.post(
            f"http://127.0.0.1:{fake_port}/api/auth/anonymous-token",
            headers={"X-Client-Id": "bench-live"},
        )
        headers = {"Authorization": f"Bearer {issued.json()['data']['token']}"}
        ports = {"fake": fake_port, "bare": bare_port}
        if prism is not None:
            check_answers(fake_port, headers, expected)
            check_answers(prism.port, headers, expected)
            ports["prism"] = prism.port
        return _in_turns(ports, headers, seconds, turns)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)


def server_stack() -> str:
    """What uvicorn serves both with here: its pure-Python defaults, or uvicorn[standard]'s
    httptools and uvloop (`pip install nemo-fake[fast]`), which it picks when installed."""
    fast = all(importlib.util.find_spec(name) for name in ("httptools", "uvloop"))
    return "httptools and uvloop" if fast else "h11 and asyncio"


def _in_turns(
    ports: dict[str, int], headers: dict[str, str], seconds: float, turns: int
) -> dict[str, float]:
    """The best requests per second of each server's turns, measured in turns after a
    warm-up each (Prism runs ~40% slower in its first seconds under load, V8 still compiling).
    The best, as for every figure here: on a shared machine a slower turn measures the
    neighbours. Each turn starts with the next server: measured always first, the same bare
    app read 0.95 of itself."""
    for port in ports.values():
        requests_per_second(port, PATH, headers, seconds=min(seconds, WARM_UP))
    rates: dict[str, list[float]] = {name: [] for name in ports}
    order = list(ports)
    for turn in range(turns):
        for name in order[turn % len(order) :] + order[: turn % len(order)]:
            rates[name].append(requests_per_second(ports[name], PATH, headers, seconds=seconds))
    return {name: max(found) for name, found in rates.items()}


@contextlib.contextmanager
def _document(settings: list[str]) -> Iterator[Path]:
    """The fake's OpenAPI document, for Prism to mock."""
    with tempfile.TemporaryDirectory(prefix="nemo-bench-") as scratch:
        document = Path(scratch) / "nemo.json"
        subprocess.run(
            [str(NEMO_FAKE), "openapi", *settings, "--out", str(document)],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        yield document
