"""`FakeControl`: everything a test does to a fake other than call its API, as one interface.

Two implementations, as WireMock's `Admin` has: `NemoFake` does each thing in process, and
`RemoteFake` asks a served fake's `/_fake/` control API to. Code written against
`FakeControl` (a scenario runner, a CLI, a test helper) drives either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from nemo_fake.clock import ClockInfo
from nemo_fake.config import FakeConfig
from nemo_fake.domain.faults import FaultRule
from nemo_fake.domain.ledger import Movement
from nemo_fake.journal import JournalEntry

__all__ = ["ClockInfo", "FakeControl", "FaultControl", "JournalControl"]


class FaultControl(Protocol):
    """Fault rules, as `/_fake/faults`. The domain's own `Faults` is one."""

    @property
    def rules(self) -> list[FaultRule]:
        """The rules in force, with their counts (`seen`, `fired`)."""
        ...

    def add(self, rule: FaultRule) -> FaultRule:
        """Add a rule, which counts calls from now on; the rule as added, with its `id`."""
        ...

    def remove(self, rule_id: str) -> None: ...

    def clear(self) -> None:
        """Drop every rule, and the per-operation call counts."""
        ...


class JournalControl(Protocol):
    """The requests the fake answered, as `/_fake/journal`. The domain's `Journal` is one."""

    def find(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        operation: str | None = None,
        status: int | None = None,
        code: int | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Entries matching every filter given, oldest first; `path` matches as a prefix;
        `since` a seq (only later entries), `limit` at most that many."""
        ...

    def clear(self) -> None: ...


@runtime_checkable
class FakeControl(Protocol):
    """One fake's controls: faults, journal, clock, ledger, snapshots and settings.

    What a refused call raises differs by side, as each side's errors do: in process, the
    domain's own (`ValueError`, with `SettingError` for a setting; `ApiError` for a missing
    snapshot or a virtual clock's speed); remotely, `ControlError` with the HTTP status and
    the fake's message. An unknown account is a `KeyError` on both.

    `isinstance` checks the names only; on Python 3.11 it reads properties too, so checking
    a `RemoteFake` costs a request for its `config`.
    """

    @property
    def faults(self) -> FaultControl: ...

    @property
    def journal(self) -> JournalControl: ...

    @property
    def config(self) -> FakeConfig:
        """The settings in force."""
        ...

    def configure(self, overrides: Mapping[str, object]) -> FakeConfig:
        """Change settings by the names and with the checks of `serve --set` (a nested
        `{"stream_faults": {...}}` too, so `config.to_dict()` can be sent back); the settings
        now in force. A new `seed` reseeds ids and fault chances from the next `reset()`."""
        ...

    def reset(self) -> None:
        """Forget every account, session, upload, render, fault rule and journal entry; the
        clock keeps its time and the settings stay."""
        ...

    def now(self) -> float:
        """API time, in seconds since the epoch."""
        ...

    def advance(self, seconds: float) -> float:
        """Move API time on (renders progress, tokens age); the new API time."""
        ...

    def set_speed(self, speed: float) -> None:
        """A scaled clock's API seconds per wall second; a virtual clock has no speed."""
        ...

    def clock_info(self) -> ClockInfo: ...

    def ledger(self, token_or_user_id: str) -> list[Movement]:
        """Every credit movement of an account, oldest first, by a bearer token or user id."""
        ...

    def snapshot(self) -> str:
        """Remember the whole state; `restore(id)` goes back to it."""
        ...

    def restore(self, snapshot_id: str) -> None: ...
