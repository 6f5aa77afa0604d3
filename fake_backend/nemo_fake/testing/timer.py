"""A client-side timer that runs on the fake's clock.

A client waiting 30 s between render polls should see the render 30 s further on, without a
test waiting 30 s. This timer matches the reference client's `Timer` protocol structurally, so
nothing here imports the client (the fake must work for anyone's client, not just ours).
"""

from __future__ import annotations

import asyncio

from nemo_fake.clock import AdvancingClock

__all__ = ["FakeClockTimer"]


class FakeClockTimer:
    """The client's timer on the fake's clock: a client waiting 30 s moves API time 30 s.

    Any `AdvancingClock` will do: the fake's own clock in-process, or a `RemoteFake` moving a
    served fake's clock (its `advance` is a blocking HTTP call, fine against another thread or
    process, not against a server on this same event loop).
    """

    def __init__(self, clock: AdvancingClock) -> None:
        self.clock = clock
        #: Every sleep the client asked for, in order, for tests of its cadences.
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.clock.now()

    def wall(self) -> float:
        return self.clock.now()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock.advance(seconds)
        # Still a checkpoint, as a real sleep is: other tasks (a stream being read) get a turn.
        await asyncio.sleep(0)
