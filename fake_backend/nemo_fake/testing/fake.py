"""`NemoFake`: one fake NemoVideo API for one test, with the handles a test needs.

A facade, not a layer: every helper is a line or two over `NemoBackend`, and the backend, clock
and app stay public for anything the helpers don't cover. Its controls are the in-process
`FakeControl`; `RemoteFake` offers the same ones for a served fake.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Generic, Self, cast, overload

import httpx
from starlette.applications import Starlette
from typing_extensions import TypeVar

from nemo_fake.clock import Clock, ClockInfo, VirtualClock, clock_info, set_speed
from nemo_fake.config import FakeConfig
from nemo_fake.domain.backend import NemoBackend
from nemo_fake.domain.faults import Faults
from nemo_fake.domain.ledger import Movement
from nemo_fake.http.app import create_app
from nemo_fake.journal import Journal
from nemo_fake.testing.transport import StreamingASGITransport

__all__ = ["DEFAULT_BASE_URL", "REAL_API_URL", "NemoFake"]

#: Where `NemoFake.http()` clients point. A reserved TLD, so nothing real can ever answer.
DEFAULT_BASE_URL: Final = "http://nemo.test"
#: The real API's base URL, which `nemo_respx` routes to the fake.
REAL_API_URL: Final = "https://mega-api-prod.nemovideo.ai"


#: The kind of clock a fake runs on; `NemoFake` alone means one on a `VirtualClock`.
ClockT = TypeVar("ClockT", bound=Clock, default=VirtualClock)


class NemoFake(Generic[ClockT]):
    """A fresh fake API: its state (`backend`), time (`clock`), settings (`config`) and `app`.

    The clock is a `VirtualClock` unless one is given: with `autojump` (the default) anything
    sleeping on it (a stream's next event) jumps it forward at once; `advance` moves it for
    everything else, such as a render being polled. `nemo-fake serve` runs one on a
    `ScaledClock` (real time, sped up) with an `admin_token` for its control API.
    """

    @overload
    def __init__(
        self: NemoFake[VirtualClock],
        config: FakeConfig | None = None,
        *,
        clock: None = None,
        storage: Path | None = None,
        base_url: str = DEFAULT_BASE_URL,
        admin_token: str | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self,
        config: FakeConfig | None = None,
        *,
        clock: ClockT,
        storage: Path | None = None,
        base_url: str = DEFAULT_BASE_URL,
        admin_token: str | None = None,
    ) -> None: ...

    def __init__(
        self,
        config: FakeConfig | None = None,
        *,
        clock: ClockT | None = None,
        storage: Path | None = None,
        base_url: str = DEFAULT_BASE_URL,
        admin_token: str | None = None,
    ) -> None:
        # A copy: `configure` changes the fake's settings in place, never the caller's object
        # (a config shared by parametrized tests, say).
        self.config: FakeConfig = copy.deepcopy(config) if config else FakeConfig()
        # Without a clock the overloads make this a NemoFake[VirtualClock].
        self.clock: ClockT = clock if clock is not None else cast(ClockT, VirtualClock())
        # storage=None: the backend makes a temporary directory and `close()` deletes it.
        self.backend: NemoBackend = NemoBackend(self.config, clock=self.clock, storage=storage)
        self.app: Starlette = create_app(self.backend, admin_token=admin_token)
        self.base_url: str = base_url

    def http(self, **kwargs: Any) -> httpx.AsyncClient:
        """A new client for the app, in-process and streaming (SSE events arrive as sent).

        The caller owns it: `async with fake.http() as http: ...`. Keyword arguments go to
        `httpx.AsyncClient` (headers, timeout, ...). Asyncio only, like the transport.
        """
        return httpx.AsyncClient(
            transport=StreamingASGITransport(self.app), base_url=self.base_url, **kwargs
        )

    def now(self) -> float:
        """API time, in seconds since the epoch."""
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Move API time on (renders progress, tokens age); returns the new API time."""
        return self.clock.advance(seconds)

    def set_speed(self, speed: float) -> None:
        """A `ScaledClock`'s API seconds per wall second; a virtual clock has no speed and
        refuses (`ApiError`, 409 over HTTP): it moves by `advance` only."""
        set_speed(self.clock, speed)

    def clock_info(self) -> ClockInfo:
        return clock_info(self.clock)

    def configure(self, overrides: Mapping[str, object]) -> FakeConfig:
        """Change settings while the fake runs, as `NemoBackend.configure` does (`config` is
        the same object, changed in place); the settings now in force."""
        self.backend.configure(overrides)
        return self.config

    def ledger(self, token_or_user_id: str) -> list[Movement]:
        """Every credit movement of an account, oldest first, by a bearer token or user id."""
        accounts = self.backend.accounts
        token = accounts.tokens.get(token_or_user_id)
        user_id = token.user_id if token is not None else token_or_user_id
        account = accounts.by_user.get(user_id)
        if account is None:
            raise KeyError(f"no account for token or user id {token_or_user_id!r}")
        # Operations charge or release their credits lazily; bring them up to the clock first.
        self.backend.settle()
        return list(account.ledger.movements)

    def state(self, session_id: str) -> dict[str, Any]:
        """The `data` that `GET /api/state/nemo_agent/me/<session_id>/latest` would answer."""
        self.backend.settle()
        session = self.backend.sessions.get(session_id)
        if session is None:
            raise KeyError(f"no session {session_id!r}")
        return {**session.state(), "user_id": session.user_id}

    @property
    def faults(self) -> Faults:
        """Fault rules, as `/_fake/faults`: `fake.faults.add(FaultRule("render_poll", on_call=2,
        http_status=502))`."""
        return self.backend.faults

    @property
    def journal(self) -> Journal:
        """Requests answered, as `/_fake/journal`: `fake.journal.find(operation="run_sse")`."""
        return self.backend.journal

    def snapshot(self) -> str:
        """Remember the whole state; `restore(id)` goes back to it."""
        return self.backend.snapshot()

    def restore(self, snapshot_id: str) -> None:
        self.backend.restore(snapshot_id)

    def reset(self) -> None:
        """Forget every account, session, upload, render, fault rule and journal entry; the
        clock keeps its time."""
        self.backend.reset()

    def close(self) -> None:
        """Delete the uploads and renders on disk (when the backend made its own directory)."""
        self.backend.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
