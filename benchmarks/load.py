"""Load for the live figures: requests per second of one GET, measured from another core.

wrk when it is installed (it is what the figures should be, since a Python client on one core
tops out near a bare Starlette route's rate); otherwise a minimal keep-alive HTTP/1.1 client
in asyncio (httpx would be the bottleneck). Every run is bounded by `seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator, Mapping

import httpx

LOAD_CORE = 1  # the servers run on core 0


def tool() -> str:
    """Which load generator the figures come from."""
    return "wrk" if shutil.which("wrk") else "asyncio client (wrk not installed)"


def requests_per_second(
    port: int,
    path: str,
    headers: Mapping[str, str],
    *,
    seconds: float,
    connections: int = 16,
) -> float:
    if shutil.which("wrk"):
        return _wrk(port, path, headers, seconds, connections)
    on_core(LOAD_CORE)
    return asyncio.run(_asyncio_load(port, path, headers, seconds, connections))


def _wrk(
    port: int, path: str, headers: Mapping[str, str], seconds: float, connections: int
) -> float:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        command = ["taskset", "-c", str(LOAD_CORE), *command]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30).stdout
    failures = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if failures:
        raise RuntimeError(f"{failures.group(1)} answers were errors: {out}")
    found = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if found is None:
        raise RuntimeError(f"wrk printed no rate: {out}")
    return float(found.group(1))


async def _asyncio_load(
    port: int, path: str, headers: Mapping[str, str], seconds: float, connections: int
) -> float:
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{lines}\r\n".encode()
    done = 0
    stop = time.perf_counter() + seconds

    async def one() -> None:
        nonlocal done
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < stop:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"answered {head[:40]!r}")
                length = re.search(rb"(?i)content-length:\s*(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                done += 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    return done / (time.perf_counter() - start)


def on_core(core: int) -> None:
    """Pin this process (a server, from preexec_fn; or the load) to one core."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {core})


@contextlib.contextmanager
def pinned(core: int) -> Iterator[None]:
    """This process on one core meanwhile: in-process rounds of the fake and of bare Starlette
    both run undisturbed by the scheduler moving them (measured: 1.36-1.38 pinned, 1.46-1.48
    not, the same code)."""
    if not hasattr(os, "sched_getaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    on_core(core)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered at {url}")
