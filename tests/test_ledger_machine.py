"""The credit ledger as a state machine over a whole fake: users, sessions, uploads, chats (read
to the end or hung up on), renders and the clock, driven through the HTTP API in-process.

After every step, for every account: total = available + frozen, nothing is negative, every
charge or release settles exactly one earlier freeze of the same amount, and no hold is settled
twice; the history is oldest first. Once all work is done (the clock far ahead), nothing is
frozen.

The default run is a few hundred steps (under a second). The long run, over 10,000 steps
(about 20 seconds; longer if it finds something and shrinks it):

    HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/test_ledger_machine.py
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from nemo_fake import FakeConfig, NemoFake
from nemo_fake.domain.ledger import Ledger
from tests.support import ATTRIBUTION, draft_of, sse_body

LONG_RUN = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
# Steps taken in this process (each checks the invariants), for a long run to report.
STEPS = Counter[str]()

MESSAGES = {
    "extraction": ["extract the top 3 viral clips", "find the best moments"],
    "generation": ["generate a video of a quiet harbour at dawn"],
    "edit": [
        'add a title "Urban Dreams"',
        "add subtitles",
        "trim it to 6 seconds",
        "add lo-fi background music at 30%",
    ],
    "chat": ["hello", "what can you do?"],
}
RENDER_STATUSES = {"pending", "processing", "completed", "failed", "cancelled"}
# Far past the longest run (a 300 s generation) and render (90 s).
ALL_DONE_SECONDS = 3600.0


@dataclass
class Caller:
    token: str
    user_id: str
    sessions: list[str] = field(default_factory=list)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **ATTRIBUTION}


@dataclass(frozen=True)
class Render:
    caller: Caller
    render_id: str


def check_ledger(ledger: Ledger) -> None:
    """The invariants of one account's ledger, over its balance and its whole history."""
    assert ledger.total == ledger.available + ledger.frozen
    assert ledger.available >= 0 and ledger.frozen >= 0
    frozen: dict[str, int] = {}
    settled: set[str] = set()
    for movement in ledger.movements:
        assert movement.amount >= 0 and movement.available >= 0 and movement.frozen >= 0
        if movement.kind == "freeze":
            assert movement.ref not in frozen and movement.ref not in settled, movement
            frozen[movement.ref] = movement.amount
        elif movement.kind in ("charge", "release"):
            assert movement.ref in frozen, f"{movement.kind} of {movement.ref!r}: no freeze open"
            assert frozen.pop(movement.ref) == movement.amount, movement
            settled.add(movement.ref)
    assert frozen == ledger.holds()
    # Oldest first, as `NemoFake.ledger` and GET /_fake/ledger promise.
    times = [movement.at for movement in ledger.movements]
    assert times == sorted(times), times
    assert ledger.frozen == sum(frozen.values())
    if ledger.movements:
        last = ledger.movements[-1]
        assert (last.available, last.frozen) == (ledger.available, ledger.frozen)


class LedgerMachine(RuleBasedStateMachine):
    callers = Bundle("callers")
    sessions = Bundle("sessions")
    renders = Bundle("renders")

    def __init__(self) -> None:
        super().__init__()
        self.fake = NemoFake(FakeConfig(tokens_per_address=None, render_fps=1))
        self.loop = asyncio.Runner()
        self.http = self.fake.http(timeout=10)
        self.accounts: dict[str, Caller] = {}
        self.topped_up: Counter[str] = Counter()

    def run(self, coroutine: Any) -> Any:
        return self.loop.run(asyncio.wait_for(coroutine, timeout=10))

    def teardown(self) -> None:
        try:
            self.all_work_done()
        finally:
            self.run(self.http.aclose())
            self.loop.close()
            self.fake.close()

    def ledger(self, caller: Caller) -> Ledger:
        return self.fake.backend.accounts.by_user[caller.user_id].ledger

    # -- users and sessions -------------------------------------------------------------------

    @initialize(target=sessions)
    def first_session(self) -> tuple[Caller, str]:
        session = self._new_session(self._new_user())
        self.upload_url(session)
        return session

    @rule(target=callers)
    def new_user(self) -> Caller:
        return self._new_user()

    def _new_user(self) -> Caller:
        response = self.run(
            self.http.post("/api/auth/anonymous-token", headers={"X-Client-Id": str(uuid.uuid4())})
        )
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        caller = Caller(data["token"], data["user_id"])
        self.accounts[caller.user_id] = caller
        assert (self.ledger(caller).available, self.ledger(caller).frozen) == (100, 0)
        return caller

    @rule(caller=callers, amount=st.integers(min_value=1, max_value=300))
    def top_up(self, caller: Caller, amount: int) -> None:
        """Credits bought elsewhere (the API has no top-up): more runs get past 2001. Settled
        first, as the fake does before any movement it records, to keep the ledger in order."""
        self.fake.backend.settle()
        self.ledger(caller).grant(amount, "test-topup", self.fake.now())
        self.topped_up[caller.user_id] += amount

    @rule(target=sessions, caller=callers)
    def new_session(self, caller: Caller) -> tuple[Caller, str]:
        return self._new_session(caller)

    def _new_session(self, caller: Caller) -> tuple[Caller, str]:
        response = self.run(
            self.http.post(
                "/api/tasks/me/with-session/nemo_agent",
                headers=caller.headers,
                json={"task_name": "project", "language": "en"},
            )
        )
        assert response.status_code == 200, response.text
        session_id: str = response.json()["data"]["session_id"]
        caller.sessions.append(session_id)
        return caller, session_id

    @rule(session=sessions)
    def upload_url(self, session: tuple[Caller, str]) -> None:
        caller, session_id = session
        response = self.run(
            self.http.post(
                f"/api/upload-video/nemo_agent/me/{session_id}",
                headers=caller.headers,
                json={"urls": ["https://media.example.com/talk.mp4"], "source_type": "url"},
            )
        )
        assert response.status_code == 200, response.text

    # -- chats --------------------------------------------------------------------------------

    @rule(
        session=sessions,
        kind=st.sampled_from(sorted(MESSAGES)),
        data=st.data(),
        hang_up_after=st.none() | st.integers(min_value=0, max_value=6),
    )
    def chat(
        self,
        session: tuple[Caller, str],
        kind: str,
        data: st.DataObject,
        hang_up_after: int | None,
    ) -> None:
        """One message; the client reads the stream to its end, or hangs up after a few
        events (the run still completes on the clock)."""
        caller, session_id = session
        text = data.draw(st.sampled_from(MESSAGES[kind]), label="message")
        ledger = self.ledger(caller)
        runs_before = len(self.fake.backend.agent_runs)
        freezes_before = sum(m.kind == "freeze" for m in ledger.movements)
        self.run(self._chat(caller, session_id, text, hang_up_after))
        new_runs = self.fake.backend.agent_runs[runs_before:]
        if not new_runs:  # refused with 2001 before any run: nothing was frozen
            assert sum(m.kind == "freeze" for m in ledger.movements) == freezes_before
            return
        (agent_run,) = new_runs
        event(f"{kind}, cost {agent_run.cost}, {'read' if hang_up_after is None else 'hung up'}")
        if hang_up_after is None:
            # The stream's end is the run's end: after a settle its hold is gone.
            self.fake.backend.settle()
            assert agent_run.settled
            assert agent_run.hold_ref is None or agent_run.hold_ref not in ledger.holds()

    @rule(
        session=sessions,
        kind=st.sampled_from(sorted(MESSAGES)),
        hang_ups=st.tuples(st.integers(0, 6), st.none() | st.integers(0, 6)),
    )
    def retry_after_hanging_up(
        self, session: tuple[Caller, str], kind: str, hang_ups: tuple[int, int | None]
    ) -> None:
        """A client whose connection dropped sends the same message again while the first run
        is still under way (the vendor warns this charges twice), and may drop again."""
        caller, session_id = session
        text = MESSAGES[kind][0]
        for hang_up_after in hang_ups:
            self.run(self._chat(caller, session_id, text, hang_up_after))

    async def _chat(
        self, caller: Caller, session_id: str, text: str, hang_up_after: int | None
    ) -> None:
        async with self.http.stream(
            "POST",
            "/run_sse",
            headers={**caller.headers, "Accept": "text/event-stream"},
            json=sse_body(session_id, text),
        ) as response:
            if response.status_code != 200:
                await response.aread()
                assert response.json()["code"] == 2001, response.text
                return
            assert response.headers["content-type"].startswith("text/event-stream")
            events = 0
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    events += 1
                    if hang_up_after is not None and events > hang_up_after:
                        return  # leaving the block closes the connection

    # -- renders ------------------------------------------------------------------------------

    @rule(target=renders, session=sessions)
    def submit_render(self, session: tuple[Caller, str]) -> Render:
        caller, session_id = session
        render = Render(caller, f"r-{uuid.uuid4().hex[:12]}")
        response = self.run(
            self.http.post(
                "/api/render/proxy/lambda",
                headers=caller.headers,
                json={"id": render.render_id, "sessionId": session_id, "draft": draft_of(2000)},
            )
        )
        assert response.status_code == 200, response.text
        return render

    @rule(render=renders)
    def poll_render(self, render: Render) -> None:
        response = self.run(
            self.http.get(
                f"/api/render/proxy/lambda/{render.render_id}", headers=render.caller.headers
            )
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] in RENDER_STATUSES

    @rule(render=renders)
    def cancel_render(self, render: Render) -> None:
        response = self.run(
            self.http.post(
                f"/api/render/proxy/lambda/{render.render_id}/cancel",
                headers=render.caller.headers,
            )
        )
        # A render that already ended cannot be cancelled: 409.
        assert response.status_code in (200, 409), response.text

    # -- faults ---------------------------------------------------------------------------------

    @rule(fault=st.sampled_from(["none", "error", "stall"]), after=st.integers(0, 8))
    def stream_fault(self, fault: str, after: int) -> None:
        """From the next message on, streams fail part way (an error event) or stall: the run
        fails and its credits go back."""
        faults = {"error_after_events": after if fault == "error" else None,
                  "stall": fault == "stall", "stall_seconds": 60}  # fmt: skip
        response = self.run(self.http.patch("/_fake/config", json={"stream_faults": faults}))
        assert response.status_code == 200, response.text

    # -- time ---------------------------------------------------------------------------------

    @rule(seconds=st.sampled_from([1.0, 10.0, 45.0, 120.0, 400.0]))
    def advance_clock(self, seconds: float) -> None:
        response = self.run(self.http.post("/_fake/clock/advance", json={"seconds": seconds}))
        assert response.status_code == 200, response.text

    @rule()
    def all_work_done(self) -> None:
        """Far enough ahead, every run has ended: nothing is frozen, as GET /_fake/ledger and
        each account's own balance say."""
        self.advance_clock(ALL_DONE_SECONDS)
        response = self.run(self.http.get("/_fake/ledger"))
        assert response.status_code == 200, response.text
        accounts = response.json()["data"]["accounts"]
        assert len(accounts) == len(self.accounts)
        for account in accounts:
            assert account["frozen"] == 0, account
            assert account["total"] == account["available"]
            caller = self.accounts[account["user_id"]]
            balance = self.run(
                self.http.get("/api/credits/balance/simple", headers=caller.headers)
            ).json()["data"]
            assert balance == {"available": account["available"], "frozen": 0,
                               "total": account["total"]}  # fmt: skip
            assert not self.ledger(caller).holds()

    # -- invariants ---------------------------------------------------------------------------

    @invariant()
    def every_ledger_is_sound(self) -> None:
        STEPS["steps"] += 1
        for caller in self.accounts.values():
            for kind in ("charge", "release"):
                if any(m.kind == kind for m in self.ledger(caller).movements):
                    event(f"a ledger with a {kind}")
            check_ledger(self.ledger(caller))

    @invariant()
    def no_credit_is_made_or_lost(self) -> None:
        for caller in self.accounts.values():
            ledger = self.ledger(caller)
            charged = sum(m.amount for m in ledger.movements if m.kind == "charge")
            assert ledger.total + charged == 100 + self.topped_up[caller.user_id]


LedgerMachine.TestCase.settings = settings(
    # Long run: over 10,000 steps (~20 s). Default: a few hundred (under a second).
    max_examples=300 if LONG_RUN else 10,
    stateful_step_count=50 if LONG_RUN else 30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLedgerMachine = LedgerMachine.TestCase


async def test_runs_that_end_together_are_charged_oldest_first() -> None:
    """Found by the machine: a message re-sent while the first run still ran, both settled by
    one later read, was charged in the order the runs started, not ended (seed 2: the second
    generation ends 114 s before the first), so the ledger was not oldest first."""
    with NemoFake(FakeConfig(seed=2)) as fake:
        backend = fake.backend
        issued = backend.issue_anonymous_token("c", "127.0.0.1")
        issued.account.ledger.grant(100, "test-topup", fake.now())
        session = backend.create_session(issued.account, "p", "en")
        caller = Caller(issued.token.value, issued.account.user_id, [session.session_id])
        async with fake.http() as http:
            for _ in range(2):  # each hangs up after the first event
                async with http.stream(
                    "POST", "/run_sse", headers=caller.headers,
                    json=sse_body(session.session_id, MESSAGES["generation"][0]),
                ) as response:  # fmt: skip
                    async for line in response.aiter_lines():
                        if line.startswith("data:"):
                            break
        first, second = backend.agent_runs
        assert second.ends_at < first.ends_at
        fake.advance(ALL_DONE_SECONDS)
        charges = [m for m in fake.ledger(caller.token) if m.kind == "charge"]
        assert [m.ref for m in charges] == [second.hold_ref, first.hold_ref]
        check_ledger(issued.account.ledger)
