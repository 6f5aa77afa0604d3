"""`FakeControl`: the same tests drive a fake in process (`NemoFake`) and over HTTP (`RemoteFake`).

Both run on the fake that `nemo_server` serves, so the API is called over its socket either way
and only the controls differ.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette

from nemo_fake import FakeConfig, ScaledClock
from nemo_fake.domain.faults import FaultRule
from nemo_fake.errors import ApiError
from nemo_fake.journal import JournalEntry
from nemo_fake.testing import (
    ControlError,
    FakeClockTimer,
    FakeControl,
    LiveServer,
    NemoFake,
    NemoServer,
    RemoteFake,
    serve,
)

Refusal = type[Exception] | tuple[type[Exception], ...]


@pytest.fixture(params=["inprocess", "remote"])
def control(request: pytest.FixtureRequest, nemo_server: NemoServer) -> Iterator[FakeControl]:
    if request.param == "inprocess":
        yield nemo_server.fake
        return
    with RemoteFake(nemo_server.url) as remote:
        yield remote


@pytest.fixture
def refusal(control: FakeControl) -> Refusal:
    """What a refused call raises: each side reports in its own terms (see FakeControl)."""
    return (ValueError, ApiError) if isinstance(control, NemoFake) else ControlError


@pytest.fixture
def http(nemo_server: NemoServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=nemo_server.url) as client:
        yield client


def _new_user(http: httpx.Client) -> tuple[str, str]:
    issued = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": str(uuid.uuid4())})
    data = issued.json()["data"]
    return data["token"], data["user_id"]


def _balance(http: httpx.Client, token: str) -> httpx.Response:
    return http.get("/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"})


def _either(fake: NemoFake, remote: RemoteFake) -> list[FakeControl]:
    # Static conformance: mypy checks both implementations against the protocol here.
    return [fake, remote]


def test_both_implementations_are_fake_controls(
    control: FakeControl, nemo_server: NemoServer
) -> None:
    assert isinstance(control, FakeControl)
    with RemoteFake(nemo_server.url) as remote:
        assert all(isinstance(each, FakeControl) for each in _either(nemo_server.fake, remote))
    assert not isinstance(object(), FakeControl)


def test_fault_rules_are_added_listed_fired_and_removed(
    control: FakeControl, http: httpx.Client
) -> None:
    token, _ = _new_user(http)
    for _ in range(2):
        _balance(http, token)  # calls before a rule exists are not its calls
    rule = control.faults.add(FaultRule("balance", on_call=1, code=2001))
    assert rule.id and [listed.id for listed in control.faults.rules] == [rule.id]
    assert [_balance(http, token).json()["code"] for _ in range(2)] == [2001, 0]
    (listed,) = control.faults.rules
    assert (listed.seen, listed.fired) == (2, 1)
    control.faults.remove(rule.id)
    assert control.faults.rules == []
    control.faults.add(FaultRule("state", http_status=503))
    control.faults.add(FaultRule("*", probability=0.5))
    control.faults.clear()
    assert control.faults.rules == []


def test_the_journal_is_searched_and_cleared(control: FakeControl, http: httpx.Client) -> None:
    token, _ = _new_user(http)
    _balance(http, token)
    _balance(http, "nmv_usr_unknown")
    (refused,) = control.journal.find(status=401, code=1001)
    assert isinstance(refused, JournalEntry) and refused.operation == "balance"
    assert len(control.journal.find(method="get", path="/api/credits")) == 2
    assert [e.operation for e in control.journal.find()] == ["anonymous_token", *["balance"] * 2]
    (second,) = control.journal.find(since=1, limit=1)  # in process and remote alike
    assert (second.seq, second.operation) == (2, "balance")
    control.journal.clear()
    assert control.journal.find() == []
    _balance(http, token)
    assert [e.seq for e in control.journal.find()] == [4]  # seq goes on across a clear


def test_the_clock_is_read_and_advanced(control: FakeControl, refusal: Refusal) -> None:
    start = control.now()
    assert control.advance(60) == start + 60 == control.now()
    info = control.clock_info()
    assert (info.now, info.kind, info.speed) == (start + 60, "virtual", None)
    assert info.iso.endswith("Z")
    with pytest.raises(refusal, match="virtual clock has no speed"):
        control.set_speed(2)
    with pytest.raises(refusal):
        control.advance(-1)


def test_reset_forgets_accounts_and_rules(control: FakeControl, http: httpx.Client) -> None:
    token, _ = _new_user(http)
    control.faults.add(FaultRule("state", http_status=503))
    before = control.now()
    control.reset()
    assert _balance(http, token).json()["code"] == 1001
    assert control.faults.rules == [] and control.now() == before


def test_the_ledger_is_found_by_token_or_user_id(control: FakeControl, http: httpx.Client) -> None:
    token, user_id = _new_user(http)
    by_token = control.ledger(token)
    assert [(m.kind, m.amount, m.available) for m in by_token] == [("grant", 100, 100)]
    assert control.ledger(user_id) == by_token
    with pytest.raises(KeyError, match="no account"):
        control.ledger("anon_nobody")


def test_a_snapshot_is_restored(control: FakeControl, http: httpx.Client, refusal: Refusal) -> None:
    snapshot_id = control.snapshot()
    token, _ = _new_user(http)
    assert _balance(http, token).status_code == 200
    control.restore(snapshot_id)
    assert _balance(http, token).json()["code"] == 1001
    with pytest.raises(refusal, match="No snapshot 'snap_99'"):
        control.restore("snap_99")


def test_settings_are_read_and_changed(
    control: FakeControl,
    nemo_server: NemoServer,
    http: httpx.Client,
    refusal: Refusal,
    nemo_profile: str | None,
) -> None:
    # The settings it started with: the defaults, or the era's under --nemo-profiles.
    assert control.config == FakeConfig.for_profile(nemo_profile or "current")
    configured = control.configure({"silent_edit_ratio": 0, "stream_faults.drop_after_events": 3})
    assert configured.silent_edit_ratio == 0 and configured.stream_faults.drop_after_events == 3
    assert control.config == configured == nemo_server.fake.config
    nested = control.configure({"stream_faults": {"drop_after_events": None}})
    assert nested.stream_faults.drop_after_events is None
    assert control.configure(control.config.to_dict()) == nested
    control.configure({"message_keys": ["msg"]})
    assert set(_balance(http, "nmv_usr_unknown").json()) == {"code", "msg", "data"}
    with pytest.raises(refusal, match="unknown setting 'nope'"):
        control.configure({"nope": 1, "seed": 4})
    assert control.config.seed == 0


async def test_a_client_timer_runs_on_either(control: FakeControl) -> None:
    timer = FakeClockTimer(control)
    start = control.now()
    await timer.sleep(30)
    assert control.now() == timer.now() == start + 30 and timer.sleeps == [30]


# -- RemoteFake only: what a remote call adds (errors, reachability, admin token, speed) -------


def test_a_refused_remote_call_names_the_call_and_the_field(nemo_server: NemoServer) -> None:
    with RemoteFake(nemo_server.url) as remote:
        with pytest.raises(ControlError) as refused:
            remote.restore("snap_99")
        assert (refused.value.status, refused.value.code) == (404, 404)
        assert str(refused.value) == (
            "restore (POST /_fake/snapshots/snap_99/restore): HTTP 404: No snapshot 'snap_99'"
        )
        with pytest.raises(ControlError) as refused:
            remote.configure({"stream_faults": {"stall": "maybe"}})
        assert refused.value.field == "stream_faults.stall" and refused.value.status == 400
        assert remote.ping().kind == "virtual"


def test_ping_says_in_one_line_when_no_fake_answers() -> None:
    with LiveServer(Starlette()) as server, RemoteFake(server.url) as remote:
        with pytest.raises(ControlError) as not_a_fake:
            remote.ping()
        url = server.url
    assert not_a_fake.value.status == 404 and "serves no nemo-fake control API" in str(
        not_a_fake.value
    )
    # The server has stopped: nothing listens on its port now.
    with RemoteFake(url, timeout=2) as remote, pytest.raises(ControlError) as silent:
        remote.ping()
    assert silent.value.status is None and "\n" not in str(silent.value)
    assert str(silent.value).startswith("clock_info (GET /_fake/clock): no answer: ")


@pytest.fixture(scope="module")
def guarded_scaled_fake() -> Iterator[str]:
    """A fake on a scaled clock whose control API wants an admin token, as `serve` makes."""
    with NemoFake(clock=ScaledClock(speed=60), admin_token="s3cret") as fake, serve(fake) as server:
        yield server.url


def test_the_admin_token_goes_with_every_call(guarded_scaled_fake: str) -> None:
    with RemoteFake(guarded_scaled_fake) as anonymous, pytest.raises(ControlError) as refused:
        anonymous.ping()
    assert refused.value.code == 1001 and "admin token" in refused.value.message
    with RemoteFake(guarded_scaled_fake, admin_token="s3cret") as remote:
        assert remote.ping().kind == "scaled"


def test_a_scaled_clock_changes_speed(guarded_scaled_fake: str) -> None:
    with RemoteFake(guarded_scaled_fake, admin_token="s3cret") as remote:
        remote.set_speed(3600)
        assert remote.clock_info().speed == 3600
        with pytest.raises(ControlError, match="speed must be a number > 0"):
            remote.set_speed(0)
        remote.set_speed(60)


def test_configuring_a_fake_never_changes_the_config_it_was_given() -> None:
    # One FakeConfig often parametrizes many tests; a test that PATCHes its fake's settings
    # must not leak them into the next.
    given = FakeConfig(render_fps=2)
    with NemoFake(given) as fake:
        fake.configure({"render_fps": 5})
        assert fake.config.render_fps == 5
    assert given.render_fps == 2
