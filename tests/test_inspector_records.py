"""What the domain records for the inspector to draw: each message's text, silent edits, cut
streams, the operation behind each credit movement, and when accounts and sessions were last
used. Plain domain objects, read here without any web page."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from nemo_fake import FakeConfig, FaultRule, NemoFake
from nemo_fake.domain.ledger import Ledger
from tests.support import Api, chat

pytestmark = pytest.mark.anyio

EXTRACT = "extract the top 5 viral short clips from this long video"


@pytest.fixture
async def fake_and_api() -> AsyncIterator[tuple[NemoFake, Api]]:
    with NemoFake(FakeConfig(silent_edit_ratio=0)) as fake:
        async with fake.http() as http:
            yield fake, Api(http, "in-process")


async def test_a_run_keeps_its_message_and_whether_its_edit_was_silent(
    fake_and_api: tuple[NemoFake, Api],
) -> None:
    fake, api = fake_and_api
    user = await api.new_user()
    await api.upload_url(user, "https://example.com/talk.mp4")
    await chat(api.http, user, EXTRACT, headers={"X-Fake-Silent": "true"})
    await chat(api.http, user, "add background music", headers={"X-Fake-Silent": "false"})
    runs = fake.backend.agent_runs
    assert [run.message for run in runs] == [EXTRACT, "add background music"]
    assert [run.silent for run in runs] == [True, False]
    assert [run.stream_cut_after for run in runs] == [None, None]


async def test_a_run_whose_stream_a_fault_cut_says_after_how_many_events(
    fake_and_api: tuple[NemoFake, Api],
) -> None:
    fake, api = fake_and_api
    user = await api.new_user()
    await api.upload_url(user, "https://example.com/talk.mp4")
    fake.faults.add(FaultRule("run_sse", drop_after_events=2))
    with pytest.raises(httpx.RemoteProtocolError):
        await chat(api.http, user, EXTRACT)
    (run,) = fake.backend.agent_runs
    assert run.stream_cut_after == 2


async def test_each_credit_movement_names_the_operation_that_caused_it(
    fake_and_api: tuple[NemoFake, Api],
) -> None:
    fake, api = fake_and_api
    user = await api.new_user()
    await api.upload_url(user, "https://example.com/talk.mp4")
    await chat(api.http, user, EXTRACT)
    fake.advance(600)
    movements = fake.ledger(user.user_id)
    assert [(m.kind, m.operation) for m in movements] == [
        ("grant", "anonymous_token"),
        ("freeze", "run_sse"),
        ("charge", "run_sse"),
    ]
    ledger = (await api.http.get("/_fake/ledger", params={"user_id": user.user_id})).json()
    assert [m["operation"] for m in ledger["data"]["accounts"][0]["movements"]] == [
        "anonymous_token",
        "run_sse",
        "run_sse",
    ]


def test_a_release_names_the_operation_that_froze_the_credits() -> None:
    ledger = Ledger()
    ledger.grant(10, "gift", 0.0)
    ledger.freeze(4, "hold", 1.0, operation="render_submit")
    ledger.release("hold", 2.0)
    assert [m.operation for m in ledger.movements] == ["", "render_submit", "render_submit"]


async def test_accounts_and_sessions_remember_their_last_activity_in_api_time(
    fake_and_api: tuple[NemoFake, Api],
) -> None:
    fake, api = fake_and_api
    user = await api.new_user()
    account = fake.backend.accounts.by_user[user.user_id]
    session = fake.backend.sessions[user.session_id]
    created = session.created_at
    assert account.last_active_at == created and session.last_active_at == created
    fake.advance(120)
    await api.http.get("/api/credits/balance/simple", headers=user.headers)
    assert account.last_active_at == created + 120 and session.last_active_at == created
    fake.advance(60)
    await api.state(user)
    assert account.last_active_at == session.last_active_at == created + 180
