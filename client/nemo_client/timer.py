"""The client's one clock. Every wait in the workflow goes through it, so tests of the
2-minute, 30-second and 60-second cadences take no time."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol


class Timer(Protocol):
    """The client's clock: every wait in the workflow goes through one."""

    def now(self) -> float:
        """Seconds on a monotonic scale."""
        ...

    def wall(self) -> float:
        """Seconds since the epoch, for ids like `render_<ts>`."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class RealTimer:
    """The wall clock, for use against the real API."""

    def now(self) -> float:
        return time.monotonic()

    def wall(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class ManualTimer:
    """A timer for tests: sleeping moves time at once and is recorded; `tick` moves time by a
    fixed step on every `now()`, to stand for time passing between stream events."""

    def __init__(self, start: float = 1_767_225_600.0, tick: float = 0.0) -> None:
        self.current = start
        self.tick = tick
        self.sleeps: list[float] = []

    def now(self) -> float:
        self.current += self.tick
        return self.current

    def wall(self) -> float:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.current += seconds
        await asyncio.sleep(0)


class ScaledTimer(RealTimer):
    """Real time sped up `speed` times, to match a fake served with the same `--speed`:
    the client's 30-second render polls become half a second at 60x."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed

    def now(self) -> float:
        return time.monotonic() * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)
