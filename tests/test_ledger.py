"""Property: whatever happens to a ledger, total = available + frozen and nothing goes negative."""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from nemo_fake import ApiError, Code, FakeConfig, NemoFake
from nemo_fake.domain.ledger import Ledger


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.ledger = Ledger()
        self.clock = 0.0
        self.next_ref = 0
        self.granted = 0
        self.charged = 0

    def _tick(self) -> float:
        self.clock += 1
        return self.clock

    @rule(amount=st.integers(min_value=0, max_value=500))
    def grant(self, amount: int) -> None:
        self.ledger.grant(amount, "grant", self._tick())
        self.granted += amount

    @rule(amount=st.integers(min_value=0, max_value=300))
    def freeze(self, amount: int) -> None:
        ref = f"op{self.next_ref}"
        self.next_ref += 1
        before = (self.ledger.available, self.ledger.frozen)
        try:
            self.ledger.freeze(amount, ref, self._tick())
        except ApiError as error:
            assert error.code == Code.NO_CREDITS
            assert amount > before[0]
            assert (self.ledger.available, self.ledger.frozen) == before

    @precondition(lambda self: self.ledger.holds())
    @rule(data=st.data(), settle=st.booleans())
    def finish(self, data: st.DataObject, settle: bool) -> None:
        ref = data.draw(st.sampled_from(sorted(self.ledger.holds())))
        if settle:
            self.charged += self.ledger.charge(ref, self._tick())
        else:
            self.ledger.release(ref, self._tick())

    @invariant()
    def total_is_available_plus_frozen_and_nothing_is_negative(self) -> None:
        ledger = self.ledger
        assert ledger.total == ledger.available + ledger.frozen
        assert ledger.available >= 0 and ledger.frozen >= 0
        assert ledger.frozen == sum(ledger.holds().values())

    @invariant()
    def nothing_is_lost(self) -> None:
        assert self.ledger.total + self.charged == self.granted

    @invariant()
    def every_movement_records_the_balance_after_it(self) -> None:
        if self.ledger.movements:
            last = self.ledger.movements[-1]
            assert (last.available, last.frozen) == (self.ledger.available, self.ledger.frozen)


LedgerMachine.TestCase.settings = settings(stateful_step_count=25, deadline=None)
TestLedger = LedgerMachine.TestCase


def test_freezing_more_than_available_is_2001_and_changes_nothing() -> None:
    ledger = Ledger()
    ledger.grant(100, "signup", 0)
    with pytest.raises(ApiError) as raised:
        ledger.freeze(101, "gen", 1)
    assert raised.value.code == Code.NO_CREDITS
    assert (ledger.available, ledger.frozen, len(ledger.movements)) == (100, 0, 1)


def test_negative_or_non_integer_amounts_are_programming_errors() -> None:
    ledger = Ledger()
    for amount in (-1, 1.5, True):
        with pytest.raises(ValueError):
            ledger.grant(amount, "x", 0)  # type: ignore[arg-type]


def test_settling_looks_only_at_runs_that_are_due(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every request settles first: walking every run ever made slowed the fake as it filled
    # (quadratic to fill, a state read 1000x slower at 10,000 sessions).
    from nemo_fake.domain.agent.runs import AgentRun

    looked_at: list[str] = []
    original = AgentRun.next_due

    def counting(run: AgentRun) -> float:
        looked_at.append(run.id)
        return original(run)

    monkeypatch.setattr(AgentRun, "next_due", counting)
    with NemoFake(FakeConfig(tokens_per_address=None)) as fake:
        backend = fake.backend
        for n in range(50):
            account = backend.issue_anonymous_token(f"c{n}", "127.0.0.1").account
            session = backend.create_session(account, "p", "en")
            backend.run_message(account, session.session_id, "hello")
        looked_at.clear()
        backend.settle()
        assert looked_at == []  # nothing is due yet: no run is even looked at
        fake.advance(3600)
        backend.settle()
        assert all(run.settled for run in backend.agent_runs)
        looked_at.clear()
        backend.settle()
        assert looked_at == []  # settled runs are never looked at again
