"""Blocking work (probes, renders, storage walks) runs on one thread of the fake's own, not a
pool's: each pool thread that ran the encoder kept its own malloc arena, and the server held
six times its starting memory after 100 workflows (benchmarks/memory_after_workflows.py)."""

from __future__ import annotations

import asyncio
import threading

from nemo_fake.http.offload import THREAD_NAME, off_loop


async def test_blocking_work_runs_on_one_thread_of_its_own() -> None:
    def whoami() -> str:
        return threading.current_thread().name

    names = await asyncio.gather(*(off_loop(whoami) for _ in range(8)))
    assert len(set(names)) == 1 and names[0].startswith(THREAD_NAME)
    assert names[0] != threading.current_thread().name


async def test_an_error_in_blocking_work_reaches_the_caller_and_the_thread_carries_on() -> None:
    def fail() -> None:
        raise ValueError("probe failed")

    try:
        await off_loop(fail)
    except ValueError as error:
        assert str(error) == "probe failed"
    else:
        raise AssertionError("the error was lost")
    assert await off_loop(sum, [1, 2, 3]) == 6
