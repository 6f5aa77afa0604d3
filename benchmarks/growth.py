"""Flat with size: the same operations on a fake holding many sessions and on a nearly empty one.

Both fakes live side by side; their timings alternate in batches, so both meet the same
machine. Filling is timed per session, so a linear fill is a ratio near 1.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any, TypeVar

from benchmarks.table import Row
from nemo_fake import FakeConfig, NemoFake
from nemo_fake.domain.accounts import Account

SMALL = 10
BATCHES = 9
EXTRACT = "extract the top 3 viral clips"


def growth_rows(sessions: int) -> list[Row]:
    config = FakeConfig(tokens_per_address=None, tokens_per_client=None)
    # Filling is timed per session against a fill a tenth the size (at least 200 sessions:
    # ten alone time too little to compare), with CPython's collector paused: what the fake
    # itself does. With the collector running, each full collection walks the whole heap, and
    # the heap is the fill; that share is shown beside it, not judged (see docs/performance.md).
    # The paused fills alternate, small then big, twice, and each size's best counts: timed
    # once each, minutes apart, the ratio read anywhere from 0.63 to 1.18 across runs.
    fill_baseline = max(200, sessions // 10)
    fills: dict[int, list[float]] = {fill_baseline: [], sessions: []}
    for _ in range(2):
        for size in fills:
            fills[size].append(_filling(config, size, collector=False))
    small_fill, big_fill = min(fills[fill_baseline]), min(fills[sessions])
    small_fill_collected = _filling(config, fill_baseline, collector=True)
    big_fill_collected = _filling(config, sessions, collector=True)
    with NemoFake(config) as small, NemoFake(config) as big:
        _, small_last = _fill(small, SMALL)
        _, big_last = _paused(lambda: _fill(big, sessions))
        reads = _alternate({
            "small": lambda: small.backend.session(*small_last).state(),
            "big": lambda: big.backend.session(*big_last).state(),
        }, per_batch=100)  # fmt: skip
        extractions = _alternate(
            {"small": _extractions(small), "big": _extractions(big)}, per_batch=20
        )
        _fill_journal(small, 20)
        _fill_journal(big, big.backend.journal.limit)
        queries = _alternate(
            {"small": _newest_query(small), "big": _newest_query(big)}, per_batch=200
        )
    flat = "<= 1.15x an empty fake"
    return [
        Row(f"state read, {sessions} sessions vs {SMALL}", reads["big"] * 1e6,
            reads["small"] * 1e6, "us", flat, 1.15),
        Row(f"extraction, {sessions} sessions vs {SMALL}", extractions["big"] * 1e6,
            extractions["small"] * 1e6, "us", flat, 1.15),
        Row(f"filling, per session, {sessions} vs {fill_baseline}", big_fill * 1e6,
            small_fill * 1e6, "us", "linear: <= 1.15x", 1.15, note="collector paused"),
        Row("  the same with CPython's collector running", big_fill_collected * 1e6,
            small_fill_collected * 1e6, "us", "its full collections walk the whole heap",
            0, sense="info"),
        Row("journal query, 10000 entries vs 20", queries["big"] * 1e6, queries["small"] * 1e6,
            "us", "costs what it returns: <= 1.15x", 1.15),
    ]  # fmt: skip


def _filling(config: FakeConfig, sessions: int, *, collector: bool) -> float:
    with NemoFake(config) as fake:
        if collector:
            gc.collect()
            return _fill(fake, sessions)[0]
        return _paused(lambda: _fill(fake, sessions))[0]


T = TypeVar("T")


def _paused(work: Callable[[], T]) -> T:
    """`work()` with CPython's cyclic collector paused (then run once, to catch up)."""
    gc.collect()
    gc.disable()
    try:
        return work()
    finally:
        gc.enable()
        gc.collect()


def _alternate(runs: dict[str, Callable[[], Any]], *, per_batch: int) -> dict[str, float]:
    """The median time of one call of each, timed in alternating batches."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(BATCHES):
        for name, run in runs.items():
            start = time.perf_counter()
            for _ in range(per_batch):
                run()
            times[name].append((time.perf_counter() - start) / per_batch)
    return {name: statistics.median(found) for name, found in times.items()}


def _fill(fake: NemoFake[Any], count: int) -> tuple[float, tuple[Account, str]]:
    """Sessions across accounts, ten to an account, each with a message: the time per
    session (tokens included), and the last."""
    backend = fake.backend
    start = time.perf_counter()
    last: tuple[Account, str] | None = None
    account: Account | None = None
    for i in range(count):
        if i % 10 == 0:
            account = backend.issue_anonymous_token(f"c{i}", "127.0.0.1").account
        assert account is not None
        session = backend.create_session(account, "p", "en")
        backend.run_message(account, session.session_id, "hello")
        last = (account, session.session_id)
    assert last is not None
    return (time.perf_counter() - start) / count, last


def _extractions(fake: NemoFake[Any]) -> Callable[[], None]:
    """One extraction per call, each on a fresh session with a video (made beforehand, in
    a batch of its own, so only the extraction is timed)."""
    backend = fake.backend
    issued = backend.issue_anonymous_token("bench-extractions", "127.0.0.2")
    issued.account.ledger.grant(10**9, "bench", fake.now())
    ready: list[str] = []

    def prepare() -> None:
        for _ in range(20 * BATCHES + 20):
            session = backend.create_session(issued.account, "p", "en")
            backend.add_urls(issued.account, session.session_id, [
                "https://media.example.com/talk.mp4"], "http://fake/")  # fmt: skip
            ready.append(session.session_id)

    prepare()

    def extract() -> None:
        backend.run_message(issued.account, ready.pop(), EXTRACT)

    return extract


def _newest_query(fake: NemoFake[Any]) -> Callable[[], object]:
    """What an inspector or a test asks a journal: a filter over its newest entries."""
    journal = fake.backend.journal
    return lambda: journal.find(operation="balance", since=journal.recorded - 20, limit=5)


def _fill_journal(fake: NemoFake[Any], count: int) -> None:
    journal = fake.backend.journal
    for n in range(count):
        operation = "balance" if n % 4 == 0 else "state"
        journal.record("GET", "/api/x", 200, 0, operation, float(n), 0.1)
