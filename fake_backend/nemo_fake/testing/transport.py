"""An httpx transport that streams to and from an in-process ASGI app.

`httpx.ASGITransport` runs the app to completion and hands back one joined body, so an SSE
stream arrives all at once and an endless one never returns. `StreamingASGITransport` runs the
app in its own task instead, returns the response as soon as the app starts it, and passes body
chunks through as the app sends them.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final

import anyio
import anyio.lowlevel
import httpx
from starlette.types import ASGIApp, Message, Scope

from nemo_fake.http.events import HANDOVER_EXTENSION

__all__ = ["StreamingASGITransport"]

# A real server hands the app whatever arrived on the socket, so slicing large request bodies
# keeps apps that read `request.stream()` honest about chunk boundaries.
_REQUEST_CHUNK_SIZE: Final = 64 * 1024
# Small on purpose: an endless stream nobody reads should block the app's send(), as a full
# socket would, instead of growing memory.
_RESPONSE_BUFFER: Final = 16


class StreamingASGITransport(httpx.AsyncBaseTransport):
    """Drive an ASGI app in-process, streaming both request and response bodies.

    Asyncio only: the app runs in a detached `asyncio.Task`, because the response outlives
    `handle_async_request` and anyio has no way to spawn a task outside a task group.
    """

    #: Seconds an app gets to finish on its own after `http.disconnect` before it is cancelled.
    disconnect_grace: float = 0.25

    def __init__(
        self,
        app: ASGIApp,
        *,
        client: tuple[str, int] = ("127.0.0.1", 51234),
        root_path: str = "",
    ) -> None:
        self.app = app
        self.client = client
        self.root_path = root_path

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.AsyncByteStream):
            raise TypeError("StreamingASGITransport needs an httpx.AsyncClient request")
        exchange = _Exchange(
            self.app,
            self._scope(request),
            request.stream,
            is_head=request.method == "HEAD",
            grace=self.disconnect_grace,
        )
        status, headers = await exchange.start()
        return httpx.Response(status, headers=headers, stream=exchange)

    def _scope(self, request: httpx.Request) -> Scope:
        # Same as httpx.ASGITransport, so paths, queries and root_path behave identically. No
        # "spec_version" means ASGI 2.0: apps learn of a disconnect through receive(), which is
        # what Starlette's StreamingResponse and sse-starlette listen to.
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for (k, v) in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": self.client,
            "root_path": self.root_path,
            "extensions": {HANDOVER_EXTENSION: {}},
        }


class _Exchange(httpx.AsyncByteStream):
    """One request's run of the app; doubles as the response body stream handed to httpx."""

    def __init__(
        self,
        app: ASGIApp,
        scope: Scope,
        body: httpx.AsyncByteStream,
        *,
        is_head: bool,
        grace: float,
    ) -> None:
        self._app = app
        self._scope = scope
        self._is_head = is_head
        self._grace = grace

        self._request_body = body
        self._request_chunks = body.__aiter__()
        self._request_pending = memoryview(b"")
        self._request_done = False

        self._to_client, self._from_app = anyio.create_memory_object_stream[Message](
            _RESPONSE_BUFFER
        )
        self._started = False
        self._complete = False
        self._client_gone = False
        self._disconnected = anyio.Event()

        self._task: asyncio.Task[None] | None = None
        self._error: Exception | None = None
        self._closed = False

    # -- client side ---------------------------------------------------------------------------

    async def start(self) -> tuple[int, list[tuple[bytes, bytes]]]:
        """Launch the app and wait for `http.response.start`, or for its failure."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise RuntimeError("StreamingASGITransport runs only on asyncio") from None
        self._task = loop.create_task(self._run_app(), name=f"asgi {self._scope['path']}")
        try:
            message: Message | None = await self._from_app.receive()
        except anyio.EndOfStream:
            message = None
        except BaseException:
            # Reap the app but keep the original failure (often a cancellation) in charge.
            await self._stop()
            raise
        if message is None:
            await self.aclose()  # raises the app's exception, if it had one
            raise RuntimeError("ASGI app returned without sending http.response.start")
        return message["status"], [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]

    def __aiter__(self) -> _Exchange:
        return self

    async def __anext__(self) -> bytes:
        while True:
            try:
                message = await self._from_app.receive()
            except anyio.EndOfStream:
                break
            body: bytes = message["body"]
            if body:
                return body
        # The send side closes only once the app has returned, so anything it did after the
        # last body chunk (background tasks, late exceptions) is over by now, as with
        # httpx.ASGITransport.
        await self.aclose()
        if not self._complete:
            # What a client sees when a server drops the connection mid-body, so a test of a
            # dropped stream reads the same in-process as over a socket.
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body "
                "(ASGI app returned without completing the response)"
            )
        raise StopAsyncIteration

    async def aclose(self) -> None:
        await self._stop()
        error, self._error = self._error, None
        if error is not None:
            raise error

    async def _stop(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Shielded: a client that was cancelled mid-stream must still reap the app task.
        with anyio.CancelScope(shield=True):
            await self._reap_app()

    async def _reap_app(self) -> None:
        self._client_gone = True
        self._disconnected.set()
        # Unblocks an app stuck in send() on a full buffer; its later sends are dropped.
        self._from_app.close()
        task = self._task
        if task is not None and not task.done():
            await asyncio.wait({task}, timeout=self._grace)
            if not task.done():
                task.cancel()
                # Bounded too: an app that swallows cancellation must not hang the test.
                await asyncio.wait({task}, timeout=self._grace)
        self._to_client.close()
        if task is None or task.done():
            # Only now is nothing iterating the request body, so closing it cannot collide.
            await self._close_request_body()

    async def _close_request_body(self) -> None:
        # The app may have stopped reading mid-body; close the iterator here rather than leave
        # an async generator to the garbage collector's finaliser.
        close = getattr(self._request_chunks, "aclose", None)
        if close is not None:
            await close()
        await self._request_body.aclose()

    # -- app side ------------------------------------------------------------------------------

    async def _run_app(self) -> None:
        try:
            await self._app(self._scope, self._receive, self._send)
        except Exception as exc:
            # Kept for the client to raise; also spares asyncio's "exception never retrieved".
            self._error = exc
        finally:
            self._to_client.close()

    async def _receive(self) -> Message:
        # Checked before any await: Starlette's is_disconnected() polls receive() inside an
        # already-cancelled scope, so a known disconnect must come back without a checkpoint.
        if not self._disconnected.is_set():
            if not self._request_done:
                return await self._next_request_message()
            await self._disconnected.wait()
        return {"type": "http.disconnect"}

    async def _next_request_message(self) -> Message:
        if not self._request_pending:
            try:
                chunk = await self._request_chunks.__anext__()
            except StopAsyncIteration:
                self._request_done = True
                return {"type": "http.request", "body": b"", "more_body": False}
            self._request_pending = memoryview(chunk)
        piece = self._request_pending[:_REQUEST_CHUNK_SIZE]
        self._request_pending = self._request_pending[_REQUEST_CHUNK_SIZE:]
        return {"type": "http.request", "body": bytes(piece), "more_body": True}

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self._started:
                raise RuntimeError("ASGI app sent http.response.start twice")
            self._started = True
            outgoing: Message = {
                "type": kind,
                "status": message["status"],
                "headers": message.get("headers", []),
            }
        elif kind == "http.response.body":
            if not self._started:
                raise RuntimeError("ASGI app sent a body before http.response.start")
            if self._complete:
                raise RuntimeError("ASGI app sent a body after the response completed")
            more_body = bool(message.get("more_body", False))
            # bytes() because apps may pass a memoryview over a buffer they go on to reuse.
            body = b"" if self._is_head else bytes(message.get("body", b""))
            outgoing = {"type": kind, "body": body, "more_body": more_body}
            self._complete = not more_body
        else:
            # No extensions are advertised in the scope, so there is nothing else to honour.
            return

        if self._client_gone:
            # ASGI < 2.4 servers drop sends after a disconnect rather than raise. Still a
            # checkpoint: an app that never awaits anything else learns of the disconnect here.
            await anyio.lowlevel.checkpoint()
            return
        # The client may close the response while this send waits for room in the buffer.
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            try:
                self._to_client.send_nowait(outgoing)
            except anyio.WouldBlock:
                await self._to_client.send(outgoing)  # waits for room
            else:
                # Handed over, then a checkpoint: the client takes each message before the app
                # goes on (HANDOVER_EXTENSION), as a reader would from a socket.
                await anyio.lowlevel.checkpoint()
        if self._complete:
            # Like uvicorn, receive() reports a disconnect once the response is done. Not a
            # moment sooner: apps cancel their in-flight send() when they see a disconnect, and
            # the buffer's send() is a cancellation point even when it has room.
            self._disconnected.set()
