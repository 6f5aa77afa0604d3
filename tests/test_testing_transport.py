"""StreamingASGITransport and LiveServer deliver streams as they are produced.

The same checks run in-process through the transport and over real sockets through LiveServer,
so the transport is held to what a real server does.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from httpx_sse import aconnect_sse
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nemo_fake.http.events import HANDOVER_EXTENSION
from nemo_fake.testing import LiveServer, StreamingASGITransport

pytestmark = pytest.mark.anyio

TIMEOUT = 5


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class Probe:
    """What the app saw, readable from the test whichever thread the app runs on."""

    # asyncio.Event binds to a loop on first wait, so it works on the server's loop too; only
    # the app itself (via /release) sets it, keeping it on one loop.
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    disconnect_seen: threading.Event = field(default_factory=threading.Event)
    stream_closed: threading.Event = field(default_factory=threading.Event)


def build_app() -> Starlette:
    def probe(request: Request) -> Probe:
        found: Probe = request.app.state.probe
        return found

    async def hello(request: Request) -> Response:
        return JSONResponse({"hello": "world", "q": request.query_params.get("q")})

    async def echo_length(request: Request) -> Response:
        chunks = size = 0
        async for chunk in request.stream():
            if chunk:  # Starlette ends every stream with an empty chunk
                chunks += 1
            size += len(chunk)
        return JSONResponse({"length": size, "chunks": chunks})

    async def release(request: Request) -> Response:
        probe(request).gate.set()
        return Response(status_code=204)

    async def gated_sse(request: Request) -> Response:
        gate = probe(request).gate

        async def events() -> AsyncIterator[ServerSentEvent]:
            yield ServerSentEvent(data="first")
            await gate.wait()
            yield ServerSentEvent(data="second")

        return EventSourceResponse(events())

    async def gated_raw(request: Request) -> Response:
        gate = probe(request).gate

        async def chunks() -> AsyncIterator[bytes]:
            yield b"first"
            await gate.wait()
            yield b"second"

        return StreamingResponse(chunks(), media_type="text/plain")

    async def endless(request: Request) -> Response:
        seen = probe(request)

        async def events() -> AsyncIterator[ServerSentEvent]:
            try:
                for n in count():
                    yield ServerSentEvent(data=str(n), id=str(n))
                    await anyio.sleep(0)  # a checkpoint, so the disconnect listener gets a turn
            finally:
                seen.stream_closed.set()

        async def on_disconnect(message: Message) -> None:
            seen.disconnect_seen.set()

        return EventSourceResponse(events(), client_close_handler_callable=on_disconnect)

    async def boom(request: Request) -> Response:
        raise Boom("route")

    app = Starlette(
        routes=[
            Route("/hello", hello),
            Route("/echo-length", echo_length, methods=["POST"]),
            Route("/release", release, methods=["POST"]),
            Route("/gated/sse", gated_sse),
            Route("/gated/raw", gated_raw),
            Route("/endless", endless),
            Route("/boom", boom),
        ]
    )
    app.state.probe = Probe()
    return app


class Boom(Exception):
    pass


@dataclass
class Target:
    """One way of reaching the app: in-process transport or real sockets."""

    kind: str
    probe: Probe
    app: Starlette | None = None
    url: str = "http://testserver"

    def client(self) -> httpx.AsyncClient:
        transport = StreamingASGITransport(self.app) if self.app is not None else None
        return httpx.AsyncClient(transport=transport, base_url=self.url, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def live_probe_app() -> Iterator[tuple[Starlette, LiveServer]]:
    # One server for the module: the tests share its app and reset its probe each time.
    app = build_app()
    with LiveServer(app) as server:
        yield app, server


@pytest.fixture(params=["transport", "live"])
def target(request: pytest.FixtureRequest) -> Target:
    probe = Probe()
    if request.param == "transport":
        app = build_app()
        app.state.probe = probe
        return Target("transport", probe, app=app)
    app, server = request.getfixturevalue("live_probe_app")
    app.state.probe = probe  # fresh state per test; the app reads it per request
    return Target("live", probe, url=server.url)


async def test_json_route(target: Target) -> None:
    async with target.client() as client:
        with anyio.fail_after(TIMEOUT):
            response = await client.get("/hello", params={"q": "a b"})
    assert response.status_code == 200
    assert response.json() == {"hello": "world", "q": "a b"}


async def test_request_body_is_streamed_to_the_app(target: Target) -> None:
    parts = [b"x" * 1000, b"y" * 2000, b"z" * 3000]

    async def body() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    async with target.client() as client:
        with anyio.fail_after(TIMEOUT):
            streamed = await client.post("/echo-length", content=body())
            big = await client.post("/echo-length", content=b"b" * (1 << 20))
    assert streamed.json()["length"] == 6000
    assert big.json()["length"] == 1 << 20
    if target.kind == "transport":
        # Chunks are passed through as produced, and a large body is sliced, not sent whole.
        assert streamed.json()["chunks"] == len(parts)
        assert big.json()["chunks"] > 1


async def test_sse_event_arrives_before_stream_ends(target: Target) -> None:
    async with target.client() as client:
        with anyio.fail_after(TIMEOUT):
            async with (
                aconnect_sse(client, "GET", "/gated/sse") as source,
                aclosing(source.aiter_sse()) as events,
            ):
                first = await anext(events)
                assert first.data == "first"
                # The app is parked on the gate, so this event cannot be a buffered tail.
                assert not target.probe.gate.is_set()
                await client.post("/release")
                rest = [event.data async for event in events]
    assert rest == ["second"]


async def test_raw_chunk_arrives_before_stream_ends(target: Target) -> None:
    async with target.client() as client:
        with anyio.fail_after(TIMEOUT):
            async with client.stream("GET", "/gated/raw") as response:
                chunks = response.aiter_bytes()
                assert await anext(chunks) == b"first"
                await client.post("/release")
                rest = b"".join([chunk async for chunk in chunks])
    assert rest == b"second"


async def test_client_closing_endless_stream_disconnects_app(target: Target) -> None:
    received: list[str] = []
    async with target.client() as client:
        with anyio.fail_after(TIMEOUT):
            async with (
                aconnect_sse(client, "GET", "/endless") as source,
                aclosing(source.aiter_sse()) as events,
            ):
                async for event in events:
                    received.append(event.data)
                    if len(received) == 3:
                        break
            probe = target.probe
            if target.kind == "transport":
                # Closing the response waits for the app, so its cleanup has already run.
                assert probe.disconnect_seen.is_set()
                assert probe.stream_closed.is_set()
            else:
                assert await anyio.to_thread.run_sync(probe.disconnect_seen.wait, TIMEOUT)
                assert await anyio.to_thread.run_sync(probe.stream_closed.wait, TIMEOUT)
    assert received == ["0", "1", "2"]


async def raises_before_start(scope: Scope, receive: Receive, send: Send) -> None:
    raise Boom("raw")


async def raises_mid_stream(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"partial", "more_body": True})
    raise Boom("mid-stream")


async def never_responds(scope: Scope, receive: Receive, send: Send) -> None:
    return None


def transport_client(app: ASGIApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=StreamingASGITransport(app), base_url="http://testserver")


async def test_exception_before_response_start_propagates() -> None:
    async with transport_client(raises_before_start) as client:
        with anyio.fail_after(TIMEOUT), pytest.raises(Boom, match="raw"):
            async with client.stream("GET", "/"):
                pass  # pragma: no cover - the request itself raises


async def test_exception_in_starlette_route_propagates() -> None:
    async with transport_client(build_app()) as client:
        with anyio.fail_after(TIMEOUT), pytest.raises(Boom, match="route"):
            await client.get("/boom")


async def test_exception_mid_stream_surfaces_while_reading() -> None:
    async with transport_client(raises_mid_stream) as client:
        with anyio.fail_after(TIMEOUT):
            async with client.stream("GET", "/") as response:
                chunks = response.aiter_bytes()
                assert await anext(chunks) == b"partial"
                with pytest.raises(Boom, match="mid-stream"):
                    await anext(chunks)


async def test_app_that_never_responds_is_an_error() -> None:
    async with transport_client(never_responds) as client:
        with anyio.fail_after(TIMEOUT), pytest.raises(RuntimeError, match="without sending"):
            await client.get("/")


async def test_final_chunk_with_data_is_not_lost(tmp_path: Path) -> None:
    # FileResponse puts data in its last message and cancels that send the moment receive()
    # reports a disconnect, so the transport must not report one before the send completes.
    payload = bytes(range(256)) * 600  # three 64 KiB file chunks, the last one partial
    path = tmp_path / "payload.bin"
    path.write_bytes(payload)
    async with transport_client(FileResponse(path)) as client:
        with anyio.fail_after(TIMEOUT):
            response = await client.get("/")
    assert response.content == payload


async def test_scope_matches_httpx_asgi_transport() -> None:
    seen: list[Scope] = []

    async def record(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(scope)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    url = "/a%20b/c?x=1&y=%20"
    headers = {"X-Thing": "yes"}
    for transport in (
        StreamingASGITransport(record, client=("10.0.0.1", 99), root_path="/api"),
        httpx.ASGITransport(record, client=("10.0.0.1", 99), root_path="/api"),
    ):
        async with httpx.AsyncClient(transport=transport, base_url="http://example.org") as c:
            assert (await c.get(url, headers=headers)).status_code == 204
    ours, theirs = seen
    # Besides the one extension it advertises: each send hands its message over, then yields.
    assert ours.pop("extensions") == {HANDOVER_EXTENSION: {}}
    assert ours == theirs


async def test_each_message_reaches_the_client_before_the_app_goes_on() -> None:
    # What HANDOVER_EXTENSION promises: a streaming app that never awaits anything but send()
    # is read chunk by chunk, in step, as a stream's events are over a socket.
    steps: list[str] = []

    async def stream(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for n in range(3):
            steps.append(f"sent {n}")
            await send({"type": "http.response.body", "body": f"{n}".encode(), "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async with (
        httpx.AsyncClient(transport=StreamingASGITransport(stream), base_url="http://t") as c,
        c.stream("GET", "/") as response,
    ):
        async for chunk in response.aiter_bytes():
            steps.append(f"read {chunk.decode()}")
    assert steps == ["sent 0", "read 0", "sent 1", "read 1", "sent 2", "read 2"]


def test_live_server_lifecycle() -> None:
    server = LiveServer(build_app())
    with pytest.raises(RuntimeError):
        _ = server.url
    with server:
        url = server.url
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.port != 0
        response = httpx.get(f"{server.url}/hello", timeout=TIMEOUT)
        assert response.json()["hello"] == "world"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/hello", timeout=1)


class LifespanApp:
    """`build_app()` behind a lifespan that notes its shutdown."""

    def __init__(self) -> None:
        self.app = build_app()
        self.shut_down = threading.Event()
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.loop = asyncio.get_running_loop()
                await send({"type": "lifespan.startup.complete"})
            else:
                self.shut_down.set()
                await send({"type": "lifespan.shutdown.complete"})
                return


@pytest.fixture
def uvicorn_shutdowns(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Each time uvicorn's own shutdown runs (with its fixed 0.1 s pause for connections),
    whether a connection was open then."""
    calls: list[bool] = []
    own = uvicorn.Server.shutdown

    async def noted(server: uvicorn.Server, sockets: Any = None) -> None:
        calls.append(bool(server.server_state.connections))
        await own(server, sockets=sockets)

    monkeypatch.setattr(uvicorn.Server, "shutdown", noted)
    return calls


def test_a_live_server_with_nothing_open_stops_without_uvicorns_pause(
    uvicorn_shutdowns: list[bool],
) -> None:
    app = LifespanApp()
    with LiveServer(app) as server:
        url = server.url
        assert httpx.get(f"{url}/hello", timeout=TIMEOUT).json()["hello"] == "world"
    # Stopped for real: the app's lifespan ended and the port no longer answers.
    assert app.shut_down.is_set()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/hello", timeout=1)
    assert uvicorn_shutdowns == []


def test_a_live_server_stopped_mid_stream_lets_the_stream_finish(
    uvicorn_shutdowns: list[bool],
) -> None:
    app = LifespanApp()
    server = LiveServer(app).__enter__()
    received: list[str] = []
    with httpx.stream("GET", f"{server.url}/gated/sse", timeout=TIMEOUT) as stream:
        lines = stream.iter_lines()
        received.append(next(line for line in lines if line.startswith("data:")))
        stopping = threading.Thread(target=server.stop)
        stopping.start()
        _until_refused(server.port)
        # The gate opens only once the server is stopping: the stream still gets its last event.
        assert app.loop is not None
        app.loop.call_soon_threadsafe(app.app.state.probe.gate.set)
        received.extend(line for line in lines if line.startswith("data:"))
    stopping.join(TIMEOUT)
    assert received == ["data: first", "data: second"]
    assert app.shut_down.is_set()
    assert uvicorn_shutdowns == [True]


def _until_refused(port: int) -> None:
    """Until the server on `port` stops accepting connections, as it does first when it stops."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()
        except ConnectionRefusedError:
            return
        time.sleep(0.005)
    raise AssertionError(f"port {port} still accepts connections after {TIMEOUT} s")
