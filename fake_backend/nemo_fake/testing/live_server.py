"""A real uvicorn server on a background thread, for tests that need actual sockets.

Same idea as moto's ThreadedMotoServer: the server gets its own event loop in a daemon thread,
so synchronous and asynchronous tests alike can talk to it over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from types import TracebackType
from typing import Self

import uvicorn
from starlette.types import ASGIApp

__all__ = ["LiveServer"]


class _Server(uvicorn.Server):
    """Signals readiness the moment the listening sockets exist, instead of being polled, and
    stops the moment it is told to, instead of at uvicorn's next 0.1 s tick, and without its
    0.1 s pause for connections when none is open: tests start and stop many servers."""

    def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
        super().__init__(config)
        self._ready = ready
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().startup(sockets=sockets)
        self._ready.set()

    async def main_loop(self) -> None:
        # uvicorn's own loop, but its 0.1 s sleep ends early when `exit()` wakes it.
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864_000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=0.1)
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.server_state.connections or self.server_state.tasks:
            # uvicorn's own: it asks each connection to close, gives them 0.1 s to take that
            # in, then waits for requests still in flight.
            await super().shutdown(sockets=sockets)
            return
        # Nothing open: the same steps, minus the pause, since no connection can be waiting.
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for server in self.servers:
            await server.wait_closed()
        if not self.force_exit:
            await self.lifespan.shutdown()

    def exit(self) -> None:
        """From any thread: stop serving now."""
        self.should_exit = True
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self._loop.call_soon_threadsafe(self._wake.set)


class LiveServer:
    """Serve `app` with uvicorn on `host`; `port=0` picks a free port, readable from `.url`."""

    #: Seconds `start()` waits for the server to accept connections.
    startup_timeout: float = 10.0
    #: Seconds uvicorn lets in-flight requests (say, an open SSE stream) finish on `stop()`.
    shutdown_timeout: int = 3

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None

    @property
    def port(self) -> int:
        """The port actually bound, which differs from the requested one when that was 0."""
        if self._port is None:
            raise RuntimeError("LiveServer is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("LiveServer is already running")
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self._requested_port,
            lifespan="auto",
            log_level="warning",
            access_log=False,
            # None leaves global logging alone: uvicorn's default dictConfig binds handlers to
            # whatever sys.stderr is now, which under pytest is a capture that later closes.
            log_config=None,
            timeout_graceful_shutdown=self.shutdown_timeout,
        )
        ready = threading.Event()
        server = _Server(config, ready)
        thread = threading.Thread(
            target=self._serve, args=(server, ready), name="LiveServer", daemon=True
        )
        self._failure = None
        thread.start()

        if not ready.wait(self.startup_timeout):
            server.exit()
            thread.join(self.startup_timeout)
            raise TimeoutError(f"LiveServer did not start within {self.startup_timeout} s")
        if not server.started:
            thread.join(self.startup_timeout)
            raise RuntimeError("LiveServer failed to start; uvicorn logged why") from self._failure

        # With port=0 the OS chose the port; the listening socket is the only place to learn it.
        self._port = server.servers[0].sockets[0].getsockname()[1]
        self._server = server
        self._thread = thread

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.exit()
        thread.join(self.shutdown_timeout + 5)
        if thread.is_alive():
            # Skips uvicorn's wait for connections and the lifespan shutdown.
            server.force_exit = True
            thread.join(5)
        self._server = None
        self._thread = None
        self._port = None
        if thread.is_alive():
            raise RuntimeError("LiveServer thread did not exit")

    def _serve(self, server: _Server, ready: threading.Event) -> None:
        try:
            server.run()
        except BaseException as exc:
            # uvicorn reports a failed bind or lifespan startup with sys.exit(); keep it so
            # start() can say why rather than let the thread die silently.
            self._failure = exc
        finally:
            ready.set()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
