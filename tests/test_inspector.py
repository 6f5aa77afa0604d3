"""The inspector's pages in process (no browser): who may see them, what each draws, its live
journal feed, and the pieces they are drawn from (timeline, conversation, chart, curl line).
The same pages in headless Chromium: tests/test_inspector_browser.py."""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from httpx_sse import aconnect_sse

from nemo_fake import FakeConfig, NemoFake
from nemo_fake.domain.agent.runs import AgentEvent, AgentRun
from nemo_fake.domain.ledger import Ledger
from nemo_fake.http.inspector.chart import balance_chart
from nemo_fake.http.inspector.conversation import conversation
from nemo_fake.http.inspector.curl import curl_command
from nemo_fake.http.inspector.timeline import ruler, timeline
from nemo_fake.http.routes.control import RULE_FIELDS
from nemo_fake.journal import JournalEntry
from nemo_fake.testing import StreamingASGITransport
from tests.browser import require_browser
from tests.support import Api, User, chat

pytestmark = pytest.mark.anyio

PAGES = ["/_fake/ui", "/_fake/ui/journal", "/_fake/ui/ledger", "/_fake/ui/controls"]
EXTRACT = "extract the top 5 viral short clips from this long video"


@dataclass
class Inspected:
    fake: NemoFake
    api: Api
    user: User


@pytest.fixture
async def inspected() -> AsyncIterator[Inspected]:
    """A fake after a quick edit (upload, a silent extraction, music and a title, a render)."""
    with NemoFake(FakeConfig(render_fps=2, silent_edit_ratio=0)) as fake:
        async with fake.http() as http:
            api = Api(http, "in-process")
            user = await api.new_user()
            await api.upload_url(user, "https://example.com/podcast.mp4")
            await chat(http, user, EXTRACT, headers={"X-Fake-Silent": "true"})
            await chat(http, user, "add background music and a title")
            draft = (await api.state(user))["state"]["draft"]
            assert (await api.submit_render(user, "render_1", draft)).status_code == 200
            fake.advance(300)
            yield Inspected(fake, api, user)


async def test_every_page_answers_loopback_clients_without_a_token_in_it(
    inspected: Inspected,
) -> None:
    http, user = inspected.api.http, inspected.user
    for path in [*PAGES, f"/_fake/ui/sessions/{user.session_id}"]:
        page = await http.get(path)
        assert page.status_code == 200, path
        assert page.headers["content-type"].startswith("text/html")
        assert user.token not in page.text, path
        assert "<main" in page.text and 'aria-current="page"' in page.text


async def test_other_machines_get_a_404_as_from_the_control_api() -> None:
    with NemoFake() as fake:
        transport = StreamingASGITransport(fake.app, client=("203.0.113.9", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://nemo.test") as http:
            for path in [*PAGES, "/_fake/ui/static/inspector.js", "/_fake/ui/journal/stream"]:
                assert (await http.get(path)).status_code == 404, path


async def test_with_an_admin_token_a_browser_is_asked_for_it_as_a_basic_password() -> None:
    with NemoFake(admin_token="s3cret") as fake:
        transport = StreamingASGITransport(fake.app, client=("203.0.113.9", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://nemo.test") as http:
            refused = await http.get("/_fake/ui")
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"].startswith("Basic ")
            assert "s3cret" not in refused.text
            page = await http.get("/_fake/ui/controls", auth=("me", "s3cret"))
            assert page.status_code == 200 and "s3cret" not in page.text
            bearer = await http.get("/_fake/ui", headers={"Authorization": "Bearer s3cret"})
            assert bearer.status_code == 200
            wrong = base64.b64encode(b"me:nope").decode()
            again = await http.get("/_fake/ui", headers={"Authorization": f"Basic {wrong}"})
            assert again.status_code == 401


async def test_the_session_page_draws_lanes_clips_conversation_and_render(
    inspected: Inspected,
) -> None:
    fake, user = inspected.fake, inspected.user
    html = (await inspected.api.http.get(f"/_fake/ui/sessions/{user.session_id}")).text
    draft = fake.state(user.session_id)["state"]["draft"]
    lanes = re.findall(r'<div class="lane lane-(\w+)"', html)
    assert lanes == ["video", "bgm", "title"]
    assert html.count('<li class="segment"') == sum(len(t["sg"]) for t in draft["t"])
    scores = [float(s) for s in re.findall(r'<meter class="score"[^>]*value="([\d.]+)"', html)]
    assert len(scores) == 5 and scores == sorted(scores, reverse=True)
    assert html.count('<article class="message') == 2
    assert html.count("badge-silent") == 1  # the extraction, not the edit
    assert re.search(r"took [\d.]+ s of API time", html)
    assert re.search(
        r'<video controls preload="auto" src="http://[^"]+/cdn/renders/\w+/render_1\.mp4"', html
    )


async def test_an_unknown_session_is_a_404(inspected: Inspected) -> None:
    response = await inspected.api.http.get("/_fake/ui/sessions/nope")
    assert response.status_code == 404 and response.json()["code"] == 1002


async def test_the_sessions_page_lists_accounts_and_sessions_newest_first(
    inspected: Inspected,
) -> None:
    second = await inspected.api.new_user()
    inspected.fake.advance(5)
    await inspected.api.new_user(with_session=False)
    html = (await inspected.api.http.get("/_fake/ui")).text
    users = re.findall(r"<h2 id=\"account-\d+\">(\S+)", html)
    assert users[1:] == [second.user_id, inspected.user.user_id]
    assert f"/_fake/ui/sessions/{second.session_id}" in html
    assert "50</strong> available" in html  # the first user's extraction was charged


async def test_the_ledger_page_charts_each_account_and_names_each_movements_operation(
    inspected: Inspected,
) -> None:
    html = (await inspected.api.http.get("/_fake/ui/ledger")).text
    assert html.count('<svg class="chart"') == 1
    movements = re.findall(
        r'<tr class="movement movement-(\w+)">.*?<td>(\w*)</td><td><code>', html, re.S
    )
    assert movements == [
        ("grant", "anonymous_token"),
        ("freeze", "run_sse"),
        ("charge", "run_sse"),
    ]


async def test_the_fault_form_has_a_field_for_each_field_post_faults_takes(
    inspected: Inspected,
) -> None:
    http = inspected.api.http
    await http.post("/_fake/faults", json={"operation": "balance", "on_call": 1, "code": 2001})
    await http.post("/_fake/snapshots")
    html = (await http.get("/_fake/ui/controls")).text
    form = html[html.index('<form id="fault-form"') :]
    form = form[: form.index("</form>")]
    assert set(re.findall(r'name="(\w+)"', form)) == RULE_FIELDS
    assert 'data-path="/_fake/faults"' in form
    assert 'data-path="/_fake/faults/fault_1"' in html
    assert 'data-path="/_fake/snapshots/snap_1/restore"' in html
    assert "data-confirm=" in html[html.index('data-path="/_fake/reset"') - 200 :]


async def test_the_assets_are_served_by_name_only(inspected: Inspected) -> None:
    http = inspected.api.http
    script = await http.get("/_fake/ui/static/inspector.js")
    style = await http.get("/_fake/ui/static/inspector.css")
    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")
    assert (await http.get("/_fake/ui/static/..%2Fpages.py")).status_code == 404
    assert (await http.get("/_fake/ui/static/nope.js")).status_code == 404


async def test_the_journal_page_lists_requests_newest_first_with_curl_lines_without_tokens(
    inspected: Inspected,
) -> None:
    html = (await inspected.api.http.get("/_fake/ui/journal")).text
    seqs = [int(seq) for seq in re.findall(r'<tr class="entry" data-seq="(\d+)"', html)]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == len(inspected.fake.journal.entries)
    assert "Authorization: Bearer $NEMO_TOKEN" in html
    assert inspected.user.token not in html


async def test_the_journal_feed_sends_each_new_request_as_a_row(inspected: Inspected) -> None:
    http, user = inspected.api.http, inspected.user
    last = inspected.fake.journal.entries[-1].seq
    url = f"/_fake/ui/journal/stream?since={last}"
    async with aconnect_sse(http, "GET", url) as source:
        await http.get("/api/credits/balance/simple", headers=user.headers)
        event = await anext(source.aiter_sse())
    assert event.event == "entry" and event.id == str(last + 1)
    assert 'data-operation="balance"' in event.data and 'data-status="200"' in event.data


# -- the pieces the pages are drawn from ------------------------------------------------------


def test_a_timeline_puts_segments_to_scale_with_a_ruler_in_seconds() -> None:
    draft = {
        "d": 20_000,
        "t": [
            {"tt": 0, "n": "Video", "sg": [{"s": 0, "d": 20_000, "n": "talk.mp4"}]},
            {"tt": 7, "n": "Title", "sg": [{"s": 0, "d": 5_000, "text": "Hello"}]},
            {"tt": 7, "n": "Subtitles", "sg": [{"s": 5_000, "d": 10_000, "text": "line"}]},
            {"tt": 1, "sg": [{"s": 10_000, "d": 10_000}]},
        ],
    }
    drawn = timeline(draft)
    assert [(lane.name, lane.kind) for lane in drawn.lanes] == [
        ("Video", "video"), ("Title", "title"), ("Subtitles", "subtitles"), ("Bgm", "bgm"),
    ]  # fmt: skip
    subtitle = drawn.lanes[2].segments[0]
    assert (subtitle.label, subtitle.left, subtitle.width) == ("line", 25.0, 50.0)
    assert [tick.label for tick in drawn.ticks] == [f"{s} s" for s in range(0, 21, 2)]
    assert [tick.label for tick in ruler(95)][-1] == "90 s"
    assert timeline({"t": [], "d": 0}).lanes == []


def _run(events: list[AgentEvent], *, cut_after: int | None = None) -> AgentRun:
    run = AgentRun("run_1", "u", "s", "edit", 100.0, events, [], 0, None, message="hi")
    if cut_after is not None:
        run.cut_stream(cut_after)
    return run


def test_a_conversation_folds_heartbeats_marks_a_cut_and_shows_only_what_is_due() -> None:
    events = [
        AgentEvent(1, "text", text="Working"),
        AgentEvent(16, "heartbeat"),
        AgentEvent(31, "empty"),
        AgentEvent(40, "tool_call", name="edit", payload={"op": "x"}),
        AgentEvent(45, "heartbeat"),
        AgentEvent(50, "error", text="boom"),
    ]
    (message,) = conversation([_run(events, cut_after=4)], now=200.0)
    assert [(line.kind, line.count, line.delivered) for line in message.lines] == [
        ("text", 1, True),
        ("heartbeats", 2, True),
        ("tool_call", 1, True),
        ("heartbeats", 1, False),
        ("error", 1, False),
    ]
    assert message.took_s == 50 and not message.running and message.cut_after == 4
    (early,) = conversation([_run(events)], now=120.0)
    assert [line.kind for line in early.lines] == ["text", "heartbeats"]
    assert early.running and early.took_s == 20


def test_a_balance_chart_steps_from_movement_to_movement() -> None:
    ledger = Ledger()
    ledger.grant(100, "signup", 0.0)
    ledger.freeze(50, "hold", 10.0)
    ledger.charge("hold", 20.0)
    chart = balance_chart(ledger.movements, now=40.0)
    assert chart is not None and chart.top == 100
    assert chart.available == "0,0 80,0 80,40 160,40 160,40 320,40"
    assert chart.total == "0,0 80,0 80,0 160,0 160,40 320,40"
    assert balance_chart([], now=0.0) is None


def test_a_curl_line_names_the_readers_own_token_never_one_it_saw() -> None:
    def entry(method: str, path: str, operation: str | None) -> JournalEntry:
        return JournalEntry(method, path, 200, 0, operation, 0.0, 1.0, 1)

    base = "http://127.0.0.1:8787/"
    assert curl_command(entry("GET", "/api/credits/balance/simple", "balance"), base) == (
        "curl -s http://127.0.0.1:8787/api/credits/balance/simple "
        '-H "Authorization: Bearer $NEMO_TOKEN"'
    )
    assert curl_command(entry("POST", "/api/auth/anonymous-token", "anonymous_token"), base) == (
        "curl -s -X POST http://127.0.0.1:8787/api/auth/anonymous-token "
        '-H "X-Client-Id: $NEMO_CLIENT_ID"'
    )
    odd = curl_command(entry("GET", "/cdn/it's $HOME", None), base)
    assert odd == "curl -s 'http://127.0.0.1:8787/cdn/it'\"'\"'s $HOME'"


def test_browser_tests_that_cannot_run_skip_locally_and_fail_in_ci(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NEMO_CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Chromium at"):
        require_browser()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="cannot run in CI: no Chromium"):
        require_browser()


async def test_the_openapi_document_leaves_the_pages_for_people_out(inspected: Inspected) -> None:
    document = (await inspected.api.http.get("/openapi.json")).json()
    assert "/_fake/journal" in document["paths"]
    assert not [path for path in document["paths"] if path.startswith("/_fake/ui")]
