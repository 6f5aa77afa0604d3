from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import settings
from starlette.applications import Starlette

from fake_backend import FakeConfig, NemoBackend, VirtualClock, create_app
from fake_backend.testing import LiveServer, StreamingASGITransport
from tests.support import Api, shared_ssl_context

# Property tests run 50 examples by default to keep the suite fast;
# HYPOTHESIS_PROFILE=thorough runs 1000 each.
settings.register_profile("default", max_examples=50, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def config() -> FakeConfig:
    """Override in a test module (or set fields in a test before using `api`)."""
    return FakeConfig()


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def backend(config: FakeConfig, clock: VirtualClock, tmp_path: Path) -> Iterator[NemoBackend]:
    backend = NemoBackend(config=config, clock=clock, storage=tmp_path / "storage")
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def live_app() -> Iterator[tuple[Starlette, LiveServer]]:
    """One live server for the whole run; each test swaps its own backend in."""
    app = create_app(NemoBackend())
    placeholder = app.state.backend
    with LiveServer(app) as server:
        yield app, server
    placeholder.close()


@pytest.fixture(params=["inprocess", "live"])
async def api(request: pytest.FixtureRequest, backend: NemoBackend) -> AsyncIterator[Api]:
    """The fake under test, reached in-process (streaming ASGI) or over a live socket."""
    if request.param == "inprocess":
        transport = StreamingASGITransport(create_app(backend))
        async with httpx.AsyncClient(transport=transport, base_url="http://nemo.test") as http:
            yield Api(http, "inprocess")
        return
    app, server = request.getfixturevalue("live_app")
    previous = app.state.backend
    app.state.backend = backend
    try:
        async with httpx.AsyncClient(base_url=server.url, verify=shared_ssl_context()) as http:
            yield Api(http, "live")
    finally:
        app.state.backend = previous
