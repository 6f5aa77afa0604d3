"""A `NemoFake` served over a real socket: `serve(fake)` gives one its own server; the pytest
plugin keeps one live server and plugs a fresh fake into it per test (the server is slow to
start, a fake is not).

`FakeSwitch` is the ASGI app the server runs; it forwards each request to whichever fake's app
is plugged in. Swapping the whole app (not just its backend) means anything the app carries
(middleware, state) is the test's own as well.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic

import httpx
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from nemo_fake.testing.fake import ClockT, NemoFake
from nemo_fake.testing.live_server import LiveServer
from nemo_fake.testing.tls import shared_tls_context

__all__ = ["FakeSwitch", "NemoServer", "serve"]


class FakeSwitch:
    """An ASGI app forwarding to `target`; with none plugged in, every request gets a 503."""

    def __init__(self) -> None:
        self.target: ASGIApp | None = None

    @contextmanager
    def serving(self, app: ASGIApp) -> Iterator[None]:
        """Plug `app` in for the duration of the block."""
        if self.target is not None:
            raise RuntimeError("FakeSwitch is already serving a fake")
        self.target = app
        try:
            yield
        finally:
            self.target = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # The server outlives every fake, so it has nothing to start or stop itself, and
            # the fakes' apps are built and closed by their owners.
            await _acknowledge_lifespan(receive, send)
            return
        target = self.target
        if target is None:
            body = {"code": 503, "message": "nemo-fake: no fake is plugged into this server"}
            await JSONResponse(body, status_code=503)(scope, receive, send)
            return
        await target(scope, receive, send)


async def _acknowledge_lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


@dataclass(frozen=True)
class NemoServer(Generic[ClockT]):
    """A `NemoFake` served over a real socket: `url` to point a client at, `fake` to drive it."""

    url: str
    fake: NemoFake[ClockT]

    def http(self, **kwargs: Any) -> httpx.AsyncClient:
        """A new plain httpx client for `url`, over the socket; the caller closes it."""
        return httpx.AsyncClient(base_url=self.url, **{"verify": shared_tls_context(), **kwargs})


@contextmanager
def serve(
    fake: NemoFake[ClockT], host: str = "127.0.0.1", port: int = 0
) -> Iterator[NemoServer[ClockT]]:
    """`fake` on a live server of its own (port 0: a free one) for the length of the block.
    The pytest plugin's `nemo_server` shares one server between tests instead."""
    with LiveServer(fake.app, host=host, port=port) as server:
        yield NemoServer(server.url, fake)
