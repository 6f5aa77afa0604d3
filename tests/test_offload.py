"""Blocking work (probes, renders, storage walks) runs on one thread of the fake's own, not a
pool's, and freed memory is trimmed back to the system after it and when the fake goes quiet:
before, the server held six times its starting memory after 100 workflows, and kept it
(benchmarks/memory_after_workflows.py)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from nemo_fake import NemoFake
from nemo_fake.http import offload
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


async def test_memory_is_trimmed_when_blocking_work_is_done_and_again_once_the_fake_goes_quiet(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Freed memory goes back to the system only when trimmed: by the work thread as its
    # queue empties, and once more after the last request of the burst that followed.
    trims: list[str] = []
    monkeypatch.setattr(offload, "_trim", lambda: trims.append(threading.current_thread().name))
    monkeypatch.setattr(offload, "IDLE_SECONDS", 0.15)
    with NemoFake() as fake:
        async with fake.http() as http:
            await off_loop(sum, [1, 2])
            assert len(trims) == 1  # the work thread's, its queue empty
            for _ in range(5):  # requests keep coming: no quiet spell yet
                await http.get("/api/credits/balance/simple")
                await asyncio.sleep(0.01)
            assert len(trims) == 1
            await asyncio.sleep(0.45)
    assert len(trims) == 2 and all(name.startswith(offload.THREAD_NAME) for name in trims)


async def test_requests_alone_leave_nothing_to_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    # A request without blocking work frees what the interpreter keeps for the next one:
    # requests are only counted, with no timer or lock on their path.
    trims: list[str] = []
    monkeypatch.setattr(offload, "_trim", lambda: trims.append("trimmed"))
    monkeypatch.setattr(offload, "IDLE_SECONDS", 0.05)
    with NemoFake() as fake:
        async with fake.http() as http:
            seen = offload.requests_seen
            await asyncio.gather(*(http.get("/api/credits/balance/simple") for _ in range(5)))
            assert offload.requests_seen == seen + 5
            await asyncio.sleep(0.15)
    assert trims == []


async def test_a_burst_of_requests_waits_for_quiet_with_one_timer_not_one_each() -> None:
    # A timer per answered request was a fifth of a small request's cost in process.
    loop = asyncio.get_running_loop()
    scheduled: list[object] = []
    original = loop.call_later

    def counting(delay: float, callback: object, *args: object) -> asyncio.TimerHandle:
        if callback is offload._trim_if_idle:
            scheduled.append(args)
        return original(delay, callback, *args)  # type: ignore[arg-type]

    loop.call_later = counting  # type: ignore[method-assign,assignment]
    try:
        with NemoFake() as fake:
            async with fake.http() as http:
                for n in range(30):
                    await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": f"b{n}"})
    finally:
        del loop.call_later
    assert len(scheduled) <= 1
