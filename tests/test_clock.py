from __future__ import annotations

import time

import pytest

from nemo_fake import ScaledClock, VirtualClock
from nemo_fake.clock import DEFAULT_EPOCH, isoformat


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
