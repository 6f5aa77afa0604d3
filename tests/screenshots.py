"""Remake the docs' picture of the inspector: `.venv/bin/python -m tests.screenshots`.

A quick edit by the reference client (upload, the top 5 clips, music and a title, subtitles,
an export) against a served fake, then the session page in headless Chromium, saved as
docs/images/inspector-session.png. Needs what the browser tests need (tests/browser.py)."""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from tests.browser import chromium, client_of, missing_browser, quick_edit, served_fake

OUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "inspector-session.png"


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with served_fake() as server, client_of(server, Path(folder)) as client:
            await quick_edit(client, export=False)
            for message in ("add background music and a title", "add subtitles"):
                await client.chat(message)
            assert await client.export() is not None
            (session_id,) = server.fake.backend.sessions
            async with chromium() as browser:
                page = await browser.new_page(viewport={"width": 1280, "height": 900})
                await page.goto(f"{server.url}/_fake/ui/sessions/{session_id}")
                await page.wait_for_function(
                    "document.querySelector('video').readyState >= 2", timeout=30_000
                )
                OUT.parent.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(OUT), full_page=True)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    if reason := missing_browser():
        sys.exit(f"cannot make screenshots: {reason}")
    asyncio.run(main())
