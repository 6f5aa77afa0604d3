"""The one clock. Everything time-based reads API time from here, never from `time` directly.

API time is seconds since the Unix epoch as the fake's world sees it. A `VirtualClock` only
moves when a test advances it; a `ScaledClock` runs real time sped up by a factor, so a 90 s
render finishes in 1.5 s of wall time at the default speed of 60.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, Protocol

from nemo_fake.errors import ApiError, Code

# 2026-01-01T00:00:00Z: a fixed start so virtual runs are reproducible.
DEFAULT_EPOCH = 1_767_225_600.0


class AdvancingClock(Protocol):
    """What a test needs to move time: read it, and move it on. Both clocks fit, and so does
    anything that moves a fake's clock from afar (a `RemoteFake`)."""

    def now(self) -> float:
        """API time in seconds since the epoch."""
        ...

    def advance(self, seconds: float) -> float:
        """Move API time on by `seconds` (never back); returns the new API time."""
        ...


# API time stops short of what datetime can show (year 9999), with room for the longest
# duration a setting may add on top (a century; see FakeConfig.check).
LATEST_API_TIME = datetime(9000, 1, 1, tzinfo=UTC).timestamp()
# Faster than this, a second of wall time is over a week and a half of API time.
MAX_SPEED = 1_000_000.0


def _checked_step(now: float, seconds: float) -> float:
    """Where API time lands after `seconds` more, or ValueError naming the rule broken."""
    if not seconds >= 0:  # also refuses NaN
        raise ValueError("a clock cannot go backwards")
    if now + seconds > LATEST_API_TIME:
        raise ValueError("API time cannot go past the year 9000")
    return now + seconds


def _checked_speed(speed: float) -> float:
    if not 0 < speed <= MAX_SPEED:
        raise ValueError(f"speed must be positive and at most {MAX_SPEED:g}")
    return speed


class Clock(AdvancingClock, Protocol):
    """The fake's own clock: it can also be slept on, by streams waiting for their next event."""

    async def sleep_until(self, when: float) -> None:
        """Return once API time has reached `when`."""
        ...


# How often a non-jumping virtual sleeper looks at the clock, in wall seconds. Polling (not a
# condition) because tests advance the clock from another thread than a live server's loop.
_POLL_SECONDS = 0.002


class VirtualClock:
    """A clock that stands still until told to move.

    With `autojump` (the default) a sleeper moves the clock to its own deadline at once, like
    trio's MockClock: a 300 s generation streams in milliseconds and the clock ends 300 s on.
    Without it, sleepers wait until the test calls `advance` or `set`.
    """

    def __init__(self, start: float = DEFAULT_EPOCH, *, autojump: bool = True) -> None:
        self._now = start
        self.autojump = autojump

    def now(self) -> float:
        return self._now

    async def sleep_until(self, when: float) -> None:
        if self.autojump:
            # Yield before the jump, as any sleep does: a loop of nothing but sleeps must still
            # let other tasks run. (A stream moves the clock itself, without this yield: it
            # yields between its events already. See http/routes/agent.py.)
            await asyncio.sleep(0)
            self._now = max(self._now, when)
            return
        while self._now < when:
            await asyncio.sleep(_POLL_SECONDS)

    def advance(self, seconds: float) -> float:
        self._now = _checked_step(self._now, seconds)
        return self._now

    def set(self, when: float) -> None:
        _checked_step(self._now, when - self._now)
        self._now = when


class ScaledClock:
    """Real time, scaled: `speed` API seconds pass per wall-clock second."""

    def __init__(self, speed: float = 60.0, start: float | None = None) -> None:
        self.speed = _checked_speed(speed)
        self._start_api = time.time() if start is None else start
        self._start_wall = time.monotonic()
        self._offset = 0.0

    def now(self) -> float:
        elapsed = time.monotonic() - self._start_wall
        return self._start_api + elapsed * self.speed + self._offset

    def set_speed(self, speed: float) -> None:
        """Change the speed from now on, without a jump in API time."""
        _checked_speed(speed)
        self._start_api, self._start_wall, self._offset = self.now(), time.monotonic(), 0.0
        self.speed = speed

    async def sleep_until(self, when: float) -> None:
        # Re-check after waking: `advance` may have moved the deadline closer meanwhile.
        while (remaining := when - self.now()) > 0:
            await asyncio.sleep(min(remaining / self.speed, 1.0))

    def advance(self, seconds: float) -> float:
        _checked_step(self.now(), seconds)
        self._offset += seconds
        return self.now()


@dataclass(frozen=True)
class ClockInfo:
    """A clock at a glance, as GET /_fake/clock answers: API time (`now`, and as `iso`), the
    clock's kind, and a scaled clock's speed (None for a virtual one)."""

    now: float
    iso: str
    kind: Literal["virtual", "scaled"]
    speed: float | None


def clock_info(clock: Clock) -> ClockInfo:
    now = clock.now()
    if isinstance(clock, ScaledClock):
        return ClockInfo(now, isoformat(now), "scaled", clock.speed)
    return ClockInfo(now, isoformat(now), "virtual", None)


def set_speed(clock: Clock, speed: float) -> None:
    """Change a scaled clock's speed; a virtual clock has none (`ApiError` 409, as over HTTP)."""
    if not isinstance(clock, ScaledClock):
        raise ApiError(Code.CONFLICT, "A virtual clock has no speed: advance it instead")
    clock.set_speed(speed)


def isoformat(when: float) -> str:
    """API time as an ISO 8601 UTC string, e.g. `2026-01-08T00:00:00Z`."""
    return datetime.fromtimestamp(when, tz=UTC).isoformat().replace("+00:00", "Z")
