"""An agent run: the events a stream shows and the state changes it makes, on a schedule.

Everything is planned when the message arrives. A stream only paces the planned events by the
clock, and the effects land when the clock passes their time, read lazily by `settle`. So a
client that disconnects does not cancel anything: the run completes and the state shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from nemo_fake.domain.ledger import Ledger
from nemo_fake.domain.sessions import Session

EventKind = Literal["text", "tool_call", "tool_result", "heartbeat", "empty", "error"]
Outcome = Literal["completed", "failed"]


# Shared by every event without a payload (heartbeats, texts), and never changed: an empty
# dict of its own for each was a third of a heartbeat's memory, and 10,000 long streams hold
# hundreds of thousands of heartbeats.
_NO_PAYLOAD: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class AgentEvent:
    at: float  # API seconds after the run started
    kind: EventKind
    text: str = ""
    name: str = ""
    call_id: str = ""
    payload: dict[str, Any] = field(default_factory=lambda: _NO_PAYLOAD)


@dataclass(frozen=True)
class Effect:
    at: float
    apply: Callable[[Session], None]


@dataclass
class AgentRun:
    id: str
    user_id: str
    session_id: str
    kind: str
    started_at: float
    events: list[AgentEvent]
    effects: list[Effect]
    cost: int
    hold_ref: str | None
    outcome: Outcome = "completed"
    charges_editing_fee: bool = False
    _applied: int = 0
    settled: bool = False
    # What the inspector shows of a message: its text, whether the edit was silent (its text
    # events left out), and where a stream fault cut the connection (events sent before it).
    message: str = ""
    silent: bool = False
    stream_cut_after: int | None = None

    @property
    def ends_at(self) -> float:
        last = max((event.at for event in self.events), default=0.0)
        return self.started_at + last

    def cut_stream(self, after_events: int) -> None:
        """The stream was cut after this many events; the run itself goes on to its end."""
        self.stream_cut_after = after_events

    def running(self, now: float) -> bool:
        return now < self.ends_at

    def next_due(self) -> float:
        """When this run next has something to settle: its next effect, else its end."""
        if self._applied < len(self.effects):
            return self.started_at + self.effects[self._applied].at
        return self.ends_at

    def settle(self, now: float, session: Session, ledger: Ledger) -> None:
        """Apply every effect whose time has come; at the end, charge or refund the hold."""
        while self._applied < len(self.effects):
            effect = self.effects[self._applied]
            if self.started_at + effect.at > now:
                return
            effect.apply(session)
            self._applied += 1
        if self.settled or now < self.ends_at:
            return
        self.settled = True
        if self.hold_ref is not None:
            if self.outcome == "completed":
                ledger.charge(self.hold_ref, self.ends_at)
            else:
                ledger.release(self.hold_ref, self.ends_at)
        if self.outcome == "completed" and self.charges_editing_fee:
            session.editing_paid = True
