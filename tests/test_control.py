"""The `/_fake/` control API and fault rules, over HTTP in-process and live."""

from __future__ import annotations

import logging

import httpx
import pytest
from starlette.types import Message, Scope

from nemo_fake import NemoBackend, NemoFake, VirtualClock
from nemo_fake.domain.faults import FaultRule, Faults
from nemo_fake.http.envelope import Envelope
from nemo_fake.http.faults import operation
from nemo_fake.testing import StreamingASGITransport
from tests.support import Api, chat, draft_of, error_code

pytestmark = pytest.mark.control_api


async def _add_fault(api: Api, **rule: object) -> dict[str, object]:
    response = await api.http.post("/_fake/faults", json=rule)
    assert response.status_code == 200, response.text
    added: dict[str, object] = response.json()["data"]
    return added


async def test_a_fault_rule_fails_the_nth_call_of_an_operation_with_a_code(api: Api) -> None:
    user = await api.new_user()
    await _add_fault(api, operation="balance", on_call=2, code=1001)
    first = await api.http.get("/api/credits/balance/simple", headers=user.headers)
    second = await api.http.get("/api/credits/balance/simple", headers=user.headers)
    third = await api.http.get("/api/credits/balance/simple", headers=user.headers)
    assert [first.status_code, second.status_code, third.status_code] == [200, 401, 200]
    assert error_code(second) == 1001
    listed = (await api.http.get("/_fake/faults")).json()["data"]
    assert listed["rules"][0]["fired"] == 1 and listed["calls"]["balance"] == 3


async def test_a_fault_rule_can_answer_a_bare_http_status(api: Api) -> None:
    user = await api.new_user()
    await _add_fault(api, operation="state", http_status=503)
    response = await api.http.get(
        f"/api/state/nemo_agent/me/{user.session_id}/latest", headers=user.headers
    )
    assert response.status_code == 503


@pytest.mark.nemo_incompatible(poll_shape=["reference", "minimal"])
async def test_a_fault_rule_fails_a_render(api: Api, clock: VirtualClock) -> None:
    user = await api.new_user()
    await _add_fault(api, operation="render_submit", fail_render=True, times=1)
    await api.submit_render(user, "render_1", draft_of())
    await api.submit_render(user, "render_2", draft_of())
    clock.advance(90)
    statuses = [(await api.poll(user, rid)).json()["status"] for rid in ("render_1", "render_2")]
    assert statuses == ["failed", "completed"]


async def test_a_fault_rule_cuts_one_stream(api: Api) -> None:
    user = await api.new_user()
    await _add_fault(api, operation="run_sse", drop_after_events=0, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        await chat(api.http, user, "hello")
    assert (await chat(api.http, user, "hello")).texts


async def test_a_rule_with_no_condition_fires_on_every_call_until_times_runs_out(api: Api) -> None:
    user = await api.new_user()
    await _add_fault(api, operation="balance", code=2001, times=2)
    codes = [
        error_code(await api.http.get("/api/credits/balance/simple", headers=user.headers))
        for _ in range(3)
    ]
    assert codes == [2001, 2001, 0]


async def test_bad_fault_rules_are_400_naming_the_problem(api: Api) -> None:
    for rule, message in [
        ({"operation": "teleport"}, "unknown operation"),
        ({"operation": "balance", "code": 9999}, "not in the error table"),
        ({"operation": "balance", "drop_after_events": 2}, "applies to run_sse"),
        ({"operation": "balance", "colour": "red"}, "Unknown fault field"),
    ]:
        response = await api.http.post("/_fake/faults", json=rule)
        assert response.status_code == 400 and message in response.json()["message"], rule


async def test_clearing_faults(api: Api) -> None:
    user = await api.new_user()
    added = await _add_fault(api, operation="balance", code=2001, probability=1.0)
    assert (await api.http.delete(f"/_fake/faults/{added['id']}")).status_code == 200
    assert (
        await api.http.get("/api/credits/balance/simple", headers=user.headers)
    ).status_code == 200
    await _add_fault(api, operation="balance", code=2001, probability=1.0)
    await api.http.delete("/_fake/faults")
    assert (
        await api.http.get("/api/credits/balance/simple", headers=user.headers)
    ).status_code == 200


def test_probability_rules_are_seeded() -> None:
    def fired(seed: int) -> list[bool]:
        backend = NemoBackend()
        backend.faults.seed = seed
        backend.faults.add(FaultRule("balance", probability=0.5))
        outcome = [backend.faults.check("balance") is not None for _ in range(40)]
        backend.close()
        return outcome

    assert fired(1) == fired(1)
    assert fired(1) != fired(2)
    assert 8 < sum(fired(1)) < 32


@pytest.mark.nemo_incompatible("token_ttl")
async def test_the_clock_reads_and_advances_over_http(api: Api, clock: VirtualClock) -> None:
    user = await api.new_user()
    before = (await api.http.get("/_fake/clock")).json()["data"]
    assert before["kind"] == "virtual" and before["now"] == clock.now()
    advanced = await api.http.post("/_fake/clock/advance", json={"seconds": 7 * 86_400})
    assert advanced.json()["data"]["now"] == before["now"] + 7 * 86_400
    expired = await api.http.get("/api/credits/balance/simple", headers=user.headers)
    assert error_code(expired) == 1001
    bad = await api.http.post("/_fake/clock/advance", json={"seconds": -1})
    assert bad.status_code == 400
    no_speed = await api.http.post("/_fake/clock/speed", json={"speed": 2})
    assert no_speed.status_code == 409


async def test_the_journal_records_every_api_request(api: Api) -> None:
    user = await api.new_user()
    await api.http.get("/api/credits/balance/simple", headers={})
    entries = (await api.http.get("/_fake/journal")).json()["data"]["entries"]
    assert [e["operation"] for e in entries] == ["anonymous_token", "create_session", "balance"]
    assert entries[-1]["status"] == 401 and entries[-1]["code"] == 1001
    assert entries[0]["code"] == 0 and entries[0]["method"] == "POST"
    failed = await api.http.get("/_fake/journal", params={"code": 1001})
    assert len(failed.json()["data"]["entries"]) == 1
    by_path = await api.http.get("/_fake/journal", params={"path": "/api/tasks"})
    assert [e["operation"] for e in by_path.json()["data"]["entries"]] == ["create_session"]
    assert user.token not in str(entries)
    await api.http.delete("/_fake/journal")
    assert (await api.http.get("/_fake/journal")).json()["data"]["entries"] == []


async def test_the_ledger_shows_every_movement(api: Api) -> None:
    user = await api.new_user()
    await chat(api.http, user, "generate a video of a comet")
    data = (await api.http.get("/_fake/ledger", params={"user_id": user.user_id})).json()["data"]
    (account,) = data["accounts"]
    assert [m["kind"] for m in account["movements"]] == ["grant", "freeze", "charge"]
    assert (account["available"], account["frozen"], account["total"]) == (0, 0, 0)


async def test_snapshot_and_restore(api: Api) -> None:
    user = await api.new_user()
    snapshot = (await api.http.post("/_fake/snapshots")).json()["data"]["id"]
    await api.upload_url(user, "https://example.com/talk.mp4")
    assert len((await api.state(user))["state"]["video_infos"]) == 1
    restored = await api.http.post(f"/_fake/snapshots/{snapshot}/restore")
    assert restored.status_code == 200
    assert (await api.state(user))["state"]["video_infos"] == []
    missing = await api.http.post("/_fake/snapshots/snap_99/restore")
    assert missing.status_code == 404


async def test_reset_forgets_everything(api: Api) -> None:
    user = await api.new_user()
    assert (await api.http.post("/_fake/reset")).json()["data"] == {"reset": True}
    response = await api.http.get("/api/credits/balance/simple", headers=user.headers)
    assert error_code(response) == 1001


async def test_the_control_api_is_loopback_only_by_default(nemo_fake: NemoFake) -> None:
    transport = StreamingASGITransport(nemo_fake.app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://nemo.test") as http:
        assert (await http.post("/_fake/reset")).status_code == 404
        # The API itself answers anyone.
        token = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c"})
        assert token.status_code == 200


async def test_an_admin_token_is_required_when_set() -> None:
    fake = NemoFake(admin_token="s3cret")
    transport = StreamingASGITransport(fake.app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://nemo.test") as http:
        assert error_code(await http.get("/_fake/clock")) == 1001
        wrong = await http.get("/_fake/clock", headers={"Authorization": "Bearer nope"})
        assert error_code(wrong) == 1001
        right = await http.get("/_fake/clock", headers={"Authorization": "Bearer s3cret"})
        assert right.status_code == 200
    fake.close()


async def test_the_admin_token_may_come_as_a_basic_auth_password_as_browsers_send_it() -> None:
    fake = NemoFake(admin_token="s3cret")
    transport = StreamingASGITransport(fake.app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://nemo.test") as http:
        right = await http.get("/_fake/clock", auth=("anyone", "s3cret"))
        assert right.status_code == 200
        assert error_code(await http.get("/_fake/clock", auth=("s3cret", "nope"))) == 1001
        garbled = await http.get("/_fake/clock", headers={"Authorization": "Basic !!!"})
        assert error_code(garbled) == 1001
    fake.close()


async def test_a_web_page_of_another_origin_cannot_drive_the_control_api(
    nemo_fake: NemoFake,
) -> None:
    # Any page a developer visits could make their browser POST to 127.0.0.1 (a loopback
    # caller needs no token) and reset the fake or add fault rules mid-test.
    async with nemo_fake.http() as http:
        user_token = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c"})
        for origin in ("http://evil.example", "null", "http://127.0.0.1:9999"):
            refused = await http.post("/_fake/reset", headers={"Origin": origin})
            assert (refused.status_code, error_code(refused)) == (400, 400), origin
            added = await http.post(
                "/_fake/faults", json={"operation": "balance", "code": 2001},
                headers={"Origin": origin},
            )  # fmt: skip
            assert added.status_code == 400
        assert nemo_fake.backend.faults.rules == []
        assert user_token.json()["data"]["token"] in nemo_fake.backend.accounts.tokens
        # The inspector's own page (same origin), scripts and curl (no Origin) pass.
        same = await http.post("/_fake/reset", headers={"Origin": str(http.base_url).rstrip("/")})
        assert same.status_code == 200
        assert (await http.post("/_fake/reset")).status_code == 200


async def test_a_rule_added_after_earlier_calls_counts_from_when_it_was_added(api: Api) -> None:
    user = await api.new_user()
    for _ in range(3):
        await api.http.get("/api/credits/balance/simple", headers=user.headers)
    await _add_fault(api, operation="balance", on_call=1, code=2001)
    codes = [
        error_code(await api.http.get("/api/credits/balance/simple", headers=user.headers))
        for _ in range(2)
    ]
    assert codes == [2001, 0]
    listed = (await api.http.get("/_fake/faults")).json()["data"]
    assert listed["calls"]["balance"] == 5
    assert (listed["rules"][0]["seen"], listed["rules"][0]["fired"]) == (2, 1)


async def test_a_rule_as_listed_can_be_posted_back_and_counts_afresh(api: Api) -> None:
    user = await api.new_user()
    await _add_fault(api, operation="balance", on_call=1, code=2001, id="mine")
    await api.http.get("/api/credits/balance/simple", headers=user.headers)
    (listed,) = (await api.http.get("/_fake/faults")).json()["data"]["rules"]
    await api.http.delete("/_fake/faults")
    again = await _add_fault(api, **listed)
    assert (again["id"], again["seen"], again["fired"]) == ("mine", 0, 0)


def test_each_rule_counts_the_calls_it_sees_from_when_it_was_added() -> None:
    faults = Faults()
    for _ in range(4):
        faults.check("balance")
    late = faults.add(FaultRule("balance", on_call=2, code=2001))
    anything = faults.add(FaultRule("*", on_call=3, http_status=502))
    assert faults.check("balance") is None  # late sees 1, anything sees 1
    assert faults.check("state") is None  # only anything sees it: 2
    assert faults.check("balance") is late  # late's 2nd; anything sees its 3rd, too
    assert (late.seen, anything.seen) == (2, 3)
    assert anything.fired == 0 and faults.check("state") is None  # its 3rd call has passed
    assert faults.calls == {"balance": 6, "state": 2}


def test_a_rule_added_again_starts_its_counts_afresh() -> None:
    faults = Faults()
    rule = faults.add(FaultRule("balance", on_call=1, code=2001))
    assert faults.check("balance") is rule
    faults.clear()
    faults.add(rule)
    assert (rule.seen, rule.fired) == (0, 0)
    assert faults.check("balance") is rule


async def test_the_ledger_finds_an_account_by_its_token_and_never_logs_it(
    api: Api, caplog: pytest.LogCaptureFixture, nemo_fake: NemoFake
) -> None:
    # Asks for nemo_fake: the fake's log is read here, so it must run in this process (the
    # test is skipped against --nemo-target).
    user = await api.new_user()
    other = await api.new_user()
    with caplog.at_level(logging.DEBUG, logger="nemo_fake"):
        by_token = await api.http.get("/_fake/ledger", params={"token": user.token})
    (account,) = by_token.json()["data"]["accounts"]
    assert account["user_id"] == user.user_id and account["available"] == 100
    # The fake's own log (the caller's httpx logs whole URLs: that is the caller's to set).
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("nemo_fake")]
    assert any("/_fake/ledger" in line for line in logged)
    assert not any(user.token in line for line in logged)
    for params in ({"token": "nmv_usr_unknown"}, {"token": user.token, "user_id": other.user_id}):
        answer = await api.http.get("/_fake/ledger", params=params)
        assert answer.json()["data"]["accounts"] == [], params


async def test_a_request_is_in_the_journal_before_its_answer_reaches_the_client() -> None:
    # A client holding its answer may read the journal at once (over a socket, before the
    # server has run another line): the entry must exist before the last byte is sent.
    fake = NemoFake()
    journaled_when_answered: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.body" and not message.get("more_body"):
            journaled_when_answered.append(len(fake.journal.find()))

    scope: Scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/api/credits/balance/simple",
        "raw_path": b"/api/credits/balance/simple", "query_string": b"", "headers": [],
        "client": ("127.0.0.1", 4000), "server": ("nemo.test", 80), "root_path": "",
    }  # fmt: skip
    await fake.app(scope, receive, send)
    fake.close()
    assert journaled_when_answered == [1]
    assert fake.journal.find()[0].code == 1001


@pytest.mark.control_api
async def test_a_fault_rule_can_name_the_claim_page(api: Api) -> None:
    # Every routed operation is one a rule can name (the claim page once was not).
    added = await api.http.post("/_fake/faults", json={"operation": "claim_page", "code": 1001})
    assert added.status_code == 200, added.text
    answer = await api.http.get("/workspace/claim", params={"ct": "clm_x"})
    assert answer.json()["code"] == 1001
    assert answer.headers["x-nemo-fake-fault"] == added.json()["data"]["id"]


def test_an_operation_no_fault_rule_could_name_is_refused_where_it_is_declared() -> None:
    with pytest.raises(ValueError, match=r"'claim_pages' is not in nemo_fake\.domain\.faults"):
        operation("claim_pages")


async def test_the_journal_has_each_answers_envelope_code_and_none_for_other_answers(
    api: Api,
) -> None:
    # The code comes from the answer as it is built (Envelope), never from parsing its body.
    user = await api.new_user()
    await api.http.get("/api/credits/balance/simple", headers=user.headers)
    await api.http.get("/api/credits/balance/simple", headers={"Authorization": "Bearer nope"})
    await _add_fault(api, operation="balance", http_status=503, times=1)
    await api.http.get("/api/credits/balance/simple", headers=user.headers)
    await api.http.get("/openapi.json")
    entries = (await api.http.get("/_fake/journal")).json()["data"]["entries"]
    balance = [(e["status"], e["code"]) for e in entries if e["operation"] == "balance"]
    assert balance == [(200, 0), (401, 1001), (503, 503)]
    assert [e["code"] for e in entries if e["path"] == "/openapi.json"] == [None]
    assert Envelope({"success": True, "data": {}}).code is None  # api-reference.md's shape


async def test_the_journal_pages_with_since_and_limit(api: Api) -> None:
    for n in range(5):
        await api.http.post("/api/auth/anonymous-token", headers={"X-Client-Id": f"page-{n}"})
    first = (await api.http.get("/_fake/journal", params={"limit": 2})).json()["data"]["entries"]
    assert [entry["seq"] for entry in first] == [1, 2]
    after = await api.http.get("/_fake/journal", params={"since": first[-1]["seq"], "limit": 2})
    assert [entry["seq"] for entry in after.json()["data"]["entries"]] == [3, 4]
    rest = await api.http.get("/_fake/journal", params={"since": 4, "operation": "anonymous_token"})
    assert [entry["seq"] for entry in rest.json()["data"]["entries"]] == [5]
    for bad in ({"since": "-1"}, {"limit": "ten"}):
        refused = await api.http.get("/_fake/journal", params=bad)
        assert (refused.status_code, refused.json()["field"]) == (400, next(iter(bad)))
