from __future__ import annotations

import asyncio
import json
import time

import pytest

from nemo_fake import FakeConfig, NemoFake, ScaledClock, VirtualClock
from nemo_fake.clock import DEFAULT_EPOCH, isoformat
from tests.support import ATTRIBUTION, sse_body


def test_virtual_clock_moves_only_when_advanced() -> None:
    clock = VirtualClock()
    assert clock.now() == DEFAULT_EPOCH
    time.sleep(0.01)
    assert clock.now() == DEFAULT_EPOCH
    assert clock.advance(90) == DEFAULT_EPOCH + 90


def test_clocks_never_go_backwards() -> None:
    clock = VirtualClock()
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        clock.set(DEFAULT_EPOCH - 1)
    with pytest.raises(ValueError):
        ScaledClock(60).advance(-1)


def test_scaled_clock_runs_speed_times_faster_than_the_wall() -> None:
    clock = ScaledClock(speed=1000, start=0)
    wall = time.monotonic()
    time.sleep(0.05)
    elapsed_api = clock.now()
    elapsed_wall = time.monotonic() - wall
    assert 1000 * 0.04 <= elapsed_api <= 1000 * (elapsed_wall + 0.01)
    assert clock.advance(3600) >= 3600 + elapsed_api


def test_scaled_clock_rejects_a_non_positive_speed() -> None:
    with pytest.raises(ValueError):
        ScaledClock(0)


def test_isoformat_is_utc_with_z() -> None:
    assert isoformat(DEFAULT_EPOCH) == "2026-01-01T00:00:00Z"


async def test_an_autojumping_stream_is_read_at_each_events_own_api_time() -> None:
    # The clock jumps to each event's time as the stream reaches it; a reader must see the
    # event at that time, not already at the next event's (a client judging a quiet stretch
    # by the clock would count one event's gap too many).
    with NemoFake(FakeConfig(silent_edit_ratio=0)) as fake:
        issued = fake.backend.issue_anonymous_token("c", "127.0.0.1")
        session = fake.backend.create_session(issued.account, "p", "en")
        headers = {"Authorization": f"Bearer {issued.token.value}", **ATTRIBUTION}
        seen: list[tuple[float, float]] = []
        async with (
            fake.http() as http,
            http.stream("POST", "/run_sse", headers=headers,
                        json=sse_body(session.session_id, "generate a video of a comet")) as stream,
        ):  # fmt: skip
            async for line in stream.aiter_lines():
                if line.startswith("data:") and "timestamp" in line:
                    seen.append((json.loads(line[5:])["timestamp"], fake.now()))
    assert len(seen) >= 2
    for due, read_at in seen:  # the event's timestamp is its due time, floored to the ms
        assert due <= read_at < due + 0.001, (due, read_at)


async def test_an_autojumping_sleep_still_lets_other_tasks_run() -> None:
    # A sleep is a yield to the event loop, as asyncio.sleep is: a loop of nothing but sleeps
    # on the fake's clock must not starve everything else. (Streams move the clock without
    # it; they yield between events already.)
    clock = VirtualClock()
    ran: list[str] = []

    async def other() -> None:
        ran.append("other")

    task = asyncio.create_task(other())
    await clock.sleep_until(clock.now() + 60)
    assert ran == ["other"]
    assert clock.now() == DEFAULT_EPOCH + 60
    await task
