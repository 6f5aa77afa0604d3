"""What the inspector's browser tests (and the docs' screenshot) share: Debian's Chromium driven
by Playwright for Python, and a served fake on 127.0.0.1 that the reference client has used.

Playwright cannot download its own browsers here, so it drives the OS package's executable.
Where Chromium or Playwright is missing, the tests skip with the reason, except in CI (the
`CI` environment variable set), where a browser test that cannot run fails instead: CI must
never pass without having run them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from nemo_fake import FakeConfig, NemoFake, VirtualClock
from nemo_fake.testing import NemoClient, NemoServer, serve
from nemo_fake.testing.reference_client import reference_client

if TYPE_CHECKING:
    from playwright.async_api import Browser

EXTRACT = "extract the top 5 viral short clips from this long video"


def chromium_path() -> str:
    """Debian's Chromium, or the executable NEMO_CHROMIUM names."""
    return os.environ.get("NEMO_CHROMIUM", "/usr/bin/chromium")


# Headless, and nothing that reaches out to the network or asks the machine for more than a
# container has.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
Client = NemoClient[NemoFake[VirtualClock]]


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[test]')"
    if shutil.which(chromium_path()) is None:
        return (
            f"no Chromium at {chromium_path()} (Debian: apt-get install chromium; "
            "or set NEMO_CHROMIUM)"
        )
    return None


def require_browser() -> None:
    """Skip (locally) or fail (in CI) when the browser tests cannot run."""
    reason = missing_browser()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {reason}")
    pytest.skip(reason)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def served_fake(
    config: FakeConfig | None = None, *, admin_token: str | None = None
) -> AsyncIterator[NemoServer[VirtualClock]]:
    """A fake on a virtual clock that jumps to whatever a stream or the client waits for, served
    on 127.0.0.1 (its own server thread), so a browser can load its pages."""
    config = config or FakeConfig(render_fps=2, silent_edit_ratio=0)
    with NemoFake(config, admin_token=admin_token) as fake, serve(fake) as server:
        yield server


@asynccontextmanager
async def client_of(server: NemoServer[VirtualClock], folder: Path) -> AsyncIterator[Client]:
    """The reference client against the served fake, its waits on the fake's clock."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield reference_client(server.fake, http, folder, client_id=str(uuid.uuid4()))


async def quick_edit(client: Client, *, export: bool = True) -> None:
    """The seed's quick edit: upload a long video, extract the top 5 clips, (export)."""
    await client.upload(["https://media.example.com/podcast-episode-12.mp4"])
    assert not (await client.chat(EXTRACT)).failed
    if export:
        assert await client.export() is not None


def tokens(server: NemoServer[VirtualClock]) -> set[str]:
    """Every bearer and claim token the fake has issued."""
    accounts = server.fake.backend.accounts
    return {*accounts.tokens, *accounts.claims}
