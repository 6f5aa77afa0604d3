"""The inspector in a real browser: headless Chromium (the OS package) driven by Playwright, on a
fake served on 127.0.0.1 that the reference client has used. Opt-in (`-m browser`); CI runs
them and fails, rather than skips, when the browser is missing (tests/browser.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from nemo_fake import FakeConfig, FaultRule, VirtualClock
from nemo_fake.testing import NemoServer
from tests.browser import chromium, client_of, quick_edit, require_browser, served_fake, tokens

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

pytestmark = [pytest.mark.browser, pytest.mark.anyio]

Server = NemoServer[VirtualClock]


# Tests ask for `server` before `browser`, so the browser closes first: an open journal feed
# would keep the server's shutdown waiting.
@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require_browser()
    async with chromium() as browser:
        yield browser


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    async with served_fake() as server:
        yield server


async def _open(browser: Browser, server: Server, path: str) -> Page:
    page = await browser.new_page()
    await page.goto(server.url + path)
    await _assert_no_token(page, server)
    return page


async def _assert_no_token(page: Page, server: Server) -> None:
    html = await page.content()
    leaked = [token for token in tokens(server) if token in html]
    assert not leaked, f"{page.url} shows a token"


async def _balance_code(server: Server, token: str) -> int:
    async with httpx.AsyncClient(base_url=server.url) as http:
        response = await http.get(
            "/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"}
        )
    code: int = response.json()["code"]
    return code


def _only_session(server: Server) -> str:
    (session_id,) = server.fake.backend.sessions
    return session_id


async def test_the_session_page_draws_the_quick_edits_timeline_and_its_five_clips(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    async with client_of(server, tmp_path) as client:
        await quick_edit(client, export=False)
    session_id = _only_session(server)
    state = server.fake.state(session_id)["state"]
    page = await _open(browser, server, f"/_fake/ui/sessions/{session_id}")
    tracks = state["draft"]["t"]
    assert await page.locator(".lane").count() == len(tracks) == 1
    assert await page.locator(".lane-video .segment").count() == len(tracks[0]["sg"])
    assert await page.locator(".tick").count() >= 2
    clips = page.locator(".clip")
    assert await clips.count() == 5
    scores = [float(text) for text in await page.locator(".clip .score-value").all_inner_texts()]
    expected = sorted((clip["virality_score"] for clip in state["generated_media"]), reverse=True)
    assert scores == expected
    assert await page.locator("meter.score").first.get_attribute("value") == str(expected[0])


async def test_the_conversation_marks_a_silent_edit_as_silent(
    browser: Browser, tmp_path: Path
) -> None:
    async with (
        served_fake(FakeConfig(render_fps=2, silent_edit_ratio=1)) as server,
        client_of(server, tmp_path) as client,
    ):
        await quick_edit(client, export=False)
        page = await _open(browser, server, f"/_fake/ui/sessions/{_only_session(server)}")
        message = page.locator("article.message")
        assert await message.count() == 1
        assert "silent" in (await message.get_attribute("class") or "")
        assert "silent edit" in await message.locator(".badge-silent").inner_text()
        assert await message.locator(".event-text").count() == 0
        assert await message.locator(".event-tool_call").count() == 2
        await page.close()


async def test_a_request_appears_in_the_open_journal_without_a_reload(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    async with client_of(server, tmp_path) as client:
        await client.upload(["https://example.com/talk.mp4"])
    page = await _open(browser, server, "/_fake/ui/journal")
    await page.wait_for_function("document.getElementById('journal-live').textContent === 'live'")
    await page.evaluate("window.sameDocument = true")
    (token,) = server.fake.backend.accounts.tokens
    assert await _balance_code(server, token) == 0
    row = page.locator('tr.entry[data-operation="balance"]')
    await row.wait_for()
    assert await page.evaluate("window.sameDocument") is True
    await row.get_by_text("curl", exact=True).click()  # open the row's curl line
    assert "$NEMO_TOKEN" in await row.locator("code.curl").inner_text()
    # The filters apply to the rows that arrive, too.
    await page.select_option("select[name=operation]", "upload")
    await row.wait_for(state="hidden")
    assert await page.locator("tr.entry:not([hidden])").count() == 1
    await _assert_no_token(page, server)
    await page.close()


async def test_a_fault_added_through_the_form_fails_the_next_matching_call(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    async with client_of(server, tmp_path) as client:
        await client.upload(["https://example.com/talk.mp4"])
    (token,) = server.fake.backend.accounts.tokens
    page = await _open(browser, server, "/_fake/ui/controls")
    form = page.locator("#fault-form")
    await form.locator("select[name=operation]").select_option("balance")
    # Refused with POST /_fake/faults's own message.
    await form.get_by_label("HTTP status").fill("200")
    await form.get_by_role("button", name="Add rule").click()
    await page.wait_for_function(
        "document.querySelector('#fault-form output').textContent.includes('400-599')"
    )
    assert (
        "http_status must be an error status, 400-599" in await form.locator("output").inner_text()
    )
    await form.get_by_label("HTTP status").fill("")
    await form.get_by_label("API code").fill("2001")
    await form.get_by_label("On call").fill("1")
    async with page.expect_navigation():
        await form.get_by_role("button", name="Add rule").click()
    assert await page.locator("tr.rule").count() == 1
    assert [rule.code for rule in server.fake.faults.rules] == [2001]
    assert await _balance_code(server, token) == 2001
    assert await _balance_code(server, token) == 0  # on_call 1: once
    async with page.expect_navigation():
        await page.get_by_role("button", name="Remove rule fault_1").click()
    assert server.fake.faults.rules == []
    await page.close()


async def test_advancing_the_clock_seven_days_from_the_page_expires_the_token(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    async with client_of(server, tmp_path) as client:
        await client.upload(["https://example.com/talk.mp4"])
    (token,) = server.fake.backend.accounts.tokens
    before = server.fake.now()
    page = await _open(browser, server, "/_fake/ui/controls")
    async with page.expect_navigation():
        await page.get_by_role("button", name="7 days").click()
    assert server.fake.now() == before + 7 * 86_400
    assert await _balance_code(server, token) == 1001
    await page.close()


async def test_snapshots_and_a_reset_that_asks_first(server: Server, browser: Browser) -> None:
    server.fake.faults.add(FaultRule("balance", code=2001))
    page = await _open(browser, server, "/_fake/ui/controls")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Take a snapshot").click()
    assert server.fake.backend.snapshot_ids() == ["snap_1"]
    page.once("dialog", lambda dialog: dialog.dismiss())
    await page.get_by_role("button", name="Reset the fake…").click()
    await page.wait_for_timeout(300)
    assert len(server.fake.faults.rules) == 1  # dismissed: nothing happened
    page.once("dialog", lambda dialog: dialog.accept())
    async with page.expect_navigation():
        await page.get_by_role("button", name="Reset the fake…").click()
    assert server.fake.faults.rules == []
    async with page.expect_navigation():
        await page.get_by_role("button", name="Restore snap_1").click()
    assert len(server.fake.faults.rules) == 1
    await page.close()


async def test_a_completed_render_plays_in_the_page(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    async with client_of(server, tmp_path) as client:
        await quick_edit(client)
    page = await _open(browser, server, f"/_fake/ui/sessions/{_only_session(server)}")
    assert await page.locator(".render-completed").count() == 1
    await page.wait_for_function("document.querySelector('video').readyState >= 2", timeout=20_000)
    await page.close()


async def test_no_token_is_ever_on_a_page(browser: Browser, tmp_path: Path) -> None:
    """With an admin token too: the browser sends it (as Basic auth), no page shows it."""
    admin = "adm1n-s3cret"
    async with (
        served_fake(admin_token=admin) as server,
        client_of(server, tmp_path) as client,
    ):
        await quick_edit(client)  # a token, a session, a render, and a claim link
        assert server.fake.backend.accounts.claims and tokens(server)
        context = await browser.new_context(http_credentials={"username": "me", "password": admin})
        page = await context.new_page()
        for path in ["", "/journal", "/ledger", "/controls"] + [
            f"/sessions/{session_id}" for session_id in server.fake.backend.sessions
        ]:
            await page.goto(f"{server.url}/_fake/ui{path}")
            html = await page.content()
            assert admin not in html, path
            await _assert_no_token(page, server)
        # And as the journal grows live.
        await page.goto(f"{server.url}/_fake/ui/journal")
        await page.wait_for_function(
            "document.getElementById('journal-live').textContent === 'live'"
        )
        async with client_of(server, tmp_path / "again") as again:
            await again.upload(["https://example.com/second.mp4"])
        await page.locator('tr.entry[data-operation="upload"]').nth(1).wait_for()
        assert admin not in await page.content()
        await _assert_no_token(page, server)
        await context.close()
