"""Many concurrent `/run_sse` streams on one fake process: errors, memory, event delivery lag.

The target (issue 13): 10,000 streams open at once on one `nemo-fake serve`, with no errors,
the server's resident memory under 600 MB, and, once all are open, events delivered within
100 ms of when they were due (p99).

How: the fake runs as a subprocess on core 0; this process drives it from core 1. Each stream
gets its own anonymous account (a generation costs exactly the 100 credits a new account brings)
and session, made beforehand over a bounded number of keep-alive connections. Then every stream
asks for a video generation ("generate a video of a comet": 100-300 s of API time, heartbeats in
between), opened in batches so the listen backlog never overflows. The speed of the fake's clock
is chosen so that the shortest generation outlasts opening them all plus the hold; heartbeats
keep their default interval (15 API seconds), so the memory figure is the fake's as it ships.

Lag: an ADK event's `timestamp` is the API time it was due (floored to the millisecond); API time
maps to wall time through one reading of `GET /_fake/clock` (same machine, same wall clock).
Heartbeats carry no timestamp, but their due time follows from the schedule (the fake fills a
quiet stretch after an event due at T with heartbeats at T + k * heartbeat_seconds), and since
the timestamped events of a generation all fall at its start and end, the heartbeats are nearly
all of the sample during the hold. The sample is the events due during the hold, which starts
a few seconds after the last stream opened: while the fake's heap grows by a few hundred objects
per stream, CPython runs full garbage collections that stall it for up to 1.5 s at 10,000
streams, and the last of them, set off by the last streams opened, can end just after they are
all open; that is the opening's cost, not delivery with all streams open. Events due near the
end are waited for a little past it, so a late one is counted, not lost. The client is a minimal
asyncio protocol per stream (httpx would not keep up with 10,000 streams), parsing the chunked
SSE body itself, with its own garbage collector off while it measures.

    .venv/bin/python -m benchmarks.streams [COUNT [HOLD_SECONDS]]
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import math
import re
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.load import free_port, on_core, wait_until_up
from benchmarks.table import Row

NEMO_FAKE = Path(sys.executable).with_name("nemo-fake")
HOST = "127.0.0.1"
SERVER_CORE, LOAD_CORE = 0, 1
MESSAGE = "generate a video of a comet"
ATTRIBUTION = {"X-Skill-Source": "bench", "X-Skill-Version": "1", "X-Skill-Platform": "bench"}
# The planner's shortest generation, in API seconds (docs/run-sse.md: 100-300 s).
SHORTEST_RUN_API = 100.0
# FakeConfig's default heartbeat_seconds, set explicitly: the due times of heartbeats follow
# from it. At the speeds used here each stream gets one or two during a 20 s hold.
HEARTBEAT_API = 15.0
# Wall seconds past the hold that events due in it are still waited for.
GRACE_SECONDS = 2.0
# Wall seconds from the last stream open to the hold: longer than a full collection of the
# fake's heap at 10,000 streams (1.5 s), so one set off by the opening is over.
SETTLE_SECONDS = 3.0
SETUP_CONCURRENCY = 200
# Connections opened at once: well under uvicorn's listen backlog (2048) and somaxconn (4096).
OPEN_BATCH = 500
# Wall seconds, per stream, that opening is allowed (and the clock's speed is planned for).
OPEN_SECONDS_PER_STREAM = 0.004
REQUEST_TIMEOUT = 30.0
STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3})")
CONTENT_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")


@dataclass
class StreamFigures:
    streams: int  # streams asked for
    held: int  # streams that were all open at once
    errors: int  # failed connects, non-200 answers, streams cut before their end
    rss_mb: float  # the server's peak resident memory while all were open
    baseline_rss_mb: float  # the server's RSS before the streams (after the setup requests)
    lag_p99_ms: float  # p99 of (arrival - due) over events due in the hold, all streams open
    lag_p50_ms: float
    events: int  # events counted in that lag sample
    open_seconds: float  # how long opening them all took


@dataclass(frozen=True)
class _Plan:
    """The fake's settings for a run of `count` streams held `hold_seconds`."""

    speed: float  # API seconds per wall second
    open_budget: float  # wall seconds allowed for opening every stream


def _plan(count: int, hold_seconds: float) -> _Plan:
    open_budget = max(10.0, count * OPEN_SECONDS_PER_STREAM)
    # The first stream opened must still be running when the grace after the hold ends, with
    # room to spare (a stream ending early is counted as an error).
    must_last = open_budget + SETTLE_SECONDS + hold_seconds + GRACE_SECONDS + 15.0
    return _Plan(SHORTEST_RUN_API / must_last, open_budget)


@dataclass
class _Calibration:
    """API time at one wall instant, and the clock's speed: due API time to wall time."""

    api: float
    wall: float
    speed: float

    def wall_of(self, api: float) -> float:
        return self.wall + (api - self.api) / self.speed


@dataclass
class _Window:
    """The hold, in wall time (time.time()): from all streams open to `end`; and the events
    that arrived from its start on, as (due, arrival) pairs."""

    start: float = math.inf
    end: float = math.inf
    events: list[tuple[float, float]] = field(default_factory=list)

    def lags(self) -> list[float]:
        """Arrival minus due, of the events due during the hold."""
        return [arrival - due for due, arrival in self.events if self.start <= due < self.end]


class _Stream(asyncio.Protocol):
    """One `/run_sse` stream: sends its request, reads the chunked SSE body, and notes when
    each event arrived against when it was due."""

    def __init__(self, request: bytes, calibration: _Calibration, window: _Window) -> None:
        self.request = request
        self.calibration = calibration
        self.window = window
        self.head: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.lines = bytearray()
        self.headed = False
        self.open = False
        self.finished = False  # the body ended with the last chunk: the run is over
        self.failed = False  # an error event, a malformed body, or a connection cut
        self.ended_at = math.inf
        self.last_text = False  # the last event was text (a generation ends with one)
        self.last_due: float | None = None  # API time of the last timestamped event
        self.beats_since = 0  # heartbeats since it

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.open = True
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self.ended_at = min(self.ended_at, time.time())
        if not self.finished:
            self.failed = True
        if not self.head.done():
            self.head.set_exception(ConnectionError("closed before the response head"))

    def data_received(self, data: bytes) -> None:
        # One arrival time for everything in this read: the events in it arrived together.
        now = time.time()
        self.buffer += data
        if not self.headed:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = STATUS_LINE.match(self.buffer)
            code = int(status.group(1)) if status else 0
            del self.buffer[: end + 4]
            self.headed = True
            if not self.head.done():
                self.head.set_result(code)
            if code != 200:
                self._fail()
                return
        self._chunks(now)

    def _chunks(self, now: float) -> None:
        while not self.finished:
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                return
            try:
                size = int(bytes(self.buffer[:line_end]).split(b";")[0], 16)
            except ValueError:
                self._fail()
                return
            if size == 0:
                self.finished = True
                self.ended_at = now
                return
            if len(self.buffer) < line_end + 2 + size + 2:
                return
            self.lines += self.buffer[line_end + 2 : line_end + 2 + size]
            del self.buffer[: line_end + 2 + size + 2]
            self._lines(now)

    def _lines(self, now: float) -> None:
        while (end := self.lines.find(b"\n")) >= 0:
            line = bytes(self.lines[:end]).rstrip(b"\r")
            del self.lines[: end + 1]
            if line.startswith(b"data:"):
                self._event(now, line[5:].strip())

    def _event(self, now: float, data: bytes) -> None:
        due: float | None = None
        if not data:
            due = self._heartbeat()
        else:
            try:
                event: Any = json.loads(data)
            except ValueError:
                self._fail()
                return
            if not isinstance(event, dict) or "error" in event:
                self._fail()
                return
            if event.get("type") == "heartbeat":
                due = self._heartbeat()
            elif isinstance(event.get("timestamp"), int | float):
                due = self.last_due = float(event["timestamp"])
                self.beats_since = 0
                parts = event.get("content", {}).get("parts") or [{}]
                self.last_text = "text" in parts[0]
        if due is not None and now >= self.window.start:
            self.window.events.append((self.calibration.wall_of(due), now))

    def _heartbeat(self) -> float | None:
        # The fake schedules the k-th heartbeat after an event due at T at T + k * interval.
        self.beats_since += 1
        self.last_text = False
        if self.last_due is None:
            return None
        return self.last_due + self.beats_since * HEARTBEAT_API

    def _fail(self) -> None:
        self.failed = True
        self.close()

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


class _Connection:
    """A keep-alive HTTP/1.1 connection for the setup requests (JSON in, JSON out)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: Any = None
    ) -> tuple[int, Any]:
        return await asyncio.wait_for(self._request(method, path, headers, body), REQUEST_TIMEOUT)

    async def _request(
        self, method: str, path: str, headers: dict[str, str], body: Any
    ) -> tuple[int, Any]:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        payload = b"" if body is None else json.dumps(body).encode()
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.writer.write(
            f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\n{lines}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = STATUS_LINE.match(head)
        length = CONTENT_LENGTH.search(head)
        data = await self.reader.readexactly(int(length.group(1)) if length else 0)
        if b"connection: close" in head.lower():
            self.close()
        return (int(status.group(1)) if status else 0), json.loads(data) if data else None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def _setup(port: int, count: int, deadline: float) -> tuple[list[tuple[str, str]], int]:
    """An account and a session per stream: (token, session id) each, and the failures."""
    made: list[tuple[str, str]] = []
    errors = 0
    todo = iter(range(count))

    async def worker() -> None:
        nonlocal errors
        connection = _Connection(port)
        try:
            for index in todo:
                if time.monotonic() > deadline:
                    errors += 1
                    continue
                try:
                    made.append(await _account(connection, index))
                except (TimeoutError, OSError, ValueError, KeyError, TypeError):
                    errors += 1
                    connection.close()
        finally:
            connection.close()

    await asyncio.gather(*(worker() for _ in range(min(SETUP_CONCURRENCY, count))))
    return made, errors


async def _account(connection: _Connection, index: int) -> tuple[str, str]:
    status, body = await connection.request(
        "POST", "/api/auth/anonymous-token", {"X-Client-Id": f"bench-streams-{index}"}
    )
    if status != 200:
        raise ValueError(f"token: {status}")
    token = body["data"]["token"]
    headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}
    status, body = await connection.request(
        "POST", "/api/tasks/me/with-session/nemo_agent", headers, {"task_name": "b"}
    )
    if status != 200:
        raise ValueError(f"session: {status}")
    return token, str(body["data"]["session_id"])


def _run_sse_request(token: str, session_id: str) -> bytes:
    body = json.dumps(
        {
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": session_id,
            "new_message": {"parts": [{"text": MESSAGE}]},
        }
    ).encode()
    headers = "".join(f"{name}: {value}\r\n" for name, value in ATTRIBUTION.items())
    return (
        f"POST /run_sse HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {token}\r\n{headers}"
        f"Accept: text/event-stream\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _calibrate(port: int) -> _Calibration:
    """API time against wall time: the reading with the shortest round trip of a few."""
    connection = _Connection(port)
    best: tuple[float, _Calibration] | None = None
    try:
        for _ in range(5):
            before = time.time()
            status, body = await connection.request("GET", "/_fake/clock", {})
            after = time.time()
            data = body["data"] if isinstance(body, dict) and "data" in body else body
            if status != 200 or not data.get("speed"):
                raise RuntimeError(f"GET /_fake/clock answered {status}: {body}")
            reading = _Calibration(float(data["now"]), (before + after) / 2, float(data["speed"]))
            if best is None or after - before < best[0]:
                best = (after - before, reading)
    finally:
        connection.close()
    assert best is not None
    return best[1]


async def _open(
    port: int,
    accounts: list[tuple[str, str]],
    make: Callable[[bytes], _Stream],
    deadline: float,
) -> tuple[list[_Stream], int]:
    """Open a stream per account, a batch at a time: the streams whose answer was a 200, and
    the failures (connect errors, other statuses, no answer in time)."""
    loop = asyncio.get_running_loop()
    opened: list[_Stream] = []
    errors = 0

    async def one(token: str, session_id: str) -> _Stream | None:
        stream = make(_run_sse_request(token, session_id))
        try:
            remaining = max(0.1, deadline - time.monotonic())
            await asyncio.wait_for(
                loop.create_connection(lambda: stream, HOST, port), min(remaining, 10)
            )
            status = await asyncio.wait_for(stream.head, max(0.1, deadline - time.monotonic()))
        except (TimeoutError, OSError, ConnectionError):
            stream.close()
            return None
        if status != 200:
            stream.close()
            return None
        return stream

    for start in range(0, len(accounts), OPEN_BATCH):
        if time.monotonic() > deadline:
            errors += len(accounts) - start
            break
        batch = accounts[start : start + OPEN_BATCH]
        results = await asyncio.gather(*(one(*account) for account in batch))
        opened += [stream for stream in results if stream is not None]
        errors += sum(1 for stream in results if stream is None)
    return opened, errors


def _rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024  # kB
    return 0.0


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


async def _drive(
    port: int, pid: int, count: int, hold_seconds: float, plan: _Plan
) -> StreamFigures:
    accounts, errors = await _setup(port, count, time.monotonic() + _setup_budget(count))
    baseline = _rss_mb(pid)
    calibration = await _calibrate(port)
    window = _Window()

    def make(request: bytes) -> _Stream:
        return _Stream(request, calibration, window)

    # A pause of this process's own collector would look like the server's lag.
    gc.disable()
    streams: list[_Stream] = []
    try:
        opening = time.monotonic()
        streams, failed = await _open(port, accounts, make, opening + plan.open_budget)
        errors += failed
        open_seconds = time.monotonic() - opening
        held = sum(1 for stream in streams if stream.open and not stream.failed)
        window.start = time.time() + SETTLE_SECONDS
        window.end = window.start + hold_seconds
        peak = 0.0
        # From the last stream open (the settling included): the memory of all of them.
        while (left := window.end + GRACE_SECONDS - time.time()) > 0:
            peak = max(peak, _rss_mb(pid))
            await asyncio.sleep(min(0.5, left))
        peak = max(peak, _rss_mb(pid), _rss_mb(pid, "VmHWM"))
        # Ended before the hold did: an error, unless the run itself was over (its last chunk
        # after its closing text), which the planned speed rules out.
        errors += sum(
            1
            for stream in streams
            if stream.failed or (stream.ended_at < window.end and not stream.last_text)
        )
    finally:
        for stream in streams:
            stream.close()
        gc.enable()
    lags = window.lags()
    return StreamFigures(
        streams=count,
        held=held,
        errors=errors,
        rss_mb=round(peak, 1),
        baseline_rss_mb=round(baseline, 1),
        lag_p99_ms=round(_percentile(lags, 0.99) * 1000, 1),
        lag_p50_ms=round(_percentile(lags, 0.50) * 1000, 1),
        events=len(lags),
        open_seconds=round(open_seconds, 2),
    )


def _setup_budget(count: int) -> float:
    """Wall seconds allowed for the setup requests, two per stream: a few times what they
    take (about 15 s for 10,000 streams)."""
    return 10 + count * 0.005


def _more_files() -> None:
    """As many open files as the hard limit allows: a socket per stream on either side."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _server_setup() -> None:
    on_core(SERVER_CORE)
    _more_files()


def streams(count: int, *, hold_seconds: float) -> StreamFigures:
    """Open `count` generation streams on one fake, hold them `hold_seconds`, and measure."""
    plan = _plan(count, hold_seconds)
    port = free_port()
    server = subprocess.Popen(
        [str(NEMO_FAKE), "serve", "--port", str(port), "--quiet", "--log-level", "warning",
         "--speed", f"{plan.speed:.6f}",
         "--set", "tokens_per_address=null", "--set", "tokens_per_client=null",
         "--set", f"heartbeat_seconds={HEARTBEAT_API:g}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=_server_setup,
    )  # fmt: skip
    try:
        wait_until_up(f"http://{HOST}:{port}/_fake/clock")
        on_core(LOAD_CORE)
        _more_files()
        budget = _setup_budget(count) + plan.open_budget + SETTLE_SECONDS + hold_seconds + 30
        return asyncio.run(
            asyncio.wait_for(_drive(port, server.pid, count, hold_seconds, plan), budget)
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=5)


def stream_rows(count: int, hold_seconds: float) -> list[Row]:
    """The figures as table rows: errors, memory and lag against their targets. The baseline
    column shows the server's memory before the streams, the p50 beside the p99."""
    figures = streams(count, hold_seconds=hold_seconds)
    return [
        Row(f"{count} concurrent /run_sse streams: errors", figures.errors, figures.held, "",
            "0 errors", 1, sense="under", note="baseline: streams held at once"),
        Row(f"{count} concurrent /run_sse streams: RSS", figures.rss_mb,
            figures.baseline_rss_mb, "MB", "< 600 MB", 600, sense="under",
            note="baseline: before the streams"),
        Row(f"{count} streams open: event lag p99", figures.lag_p99_ms, figures.lag_p50_ms,
            "ms", "< 100 ms", 100, sense="under",
            note=f"baseline: p50; {figures.events} events due during the hold"),
    ]  # fmt: skip


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    hold = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    began = time.monotonic()
    figures = streams(count, hold_seconds=hold)
    for name, value in asdict(figures).items():
        print(f"{name:16} {value}")
    print(f"{'run_seconds':16} {time.monotonic() - began:.1f}")
