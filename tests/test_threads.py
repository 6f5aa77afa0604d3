"""One lock over the fake's state: the event loop and worker threads (uploads are probed off the
loop, tests read state from their own thread) once settled the same due work together and
applied its effects twice (6 clips instead of 3), or released a hold already released."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from nemo_fake import FakeConfig, NemoFake, VirtualClock

THREADS = 8
ROUNDS = 30


@pytest.fixture
def switch_often() -> Iterator[None]:
    # Hand the GIL over every microsecond, so any unguarded read-then-write interleaves.
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _read_all(
    fake: NemoFake, session_id: str, token: str, start: threading.Barrier, failures: list[object]
) -> None:
    """What a test thread does: read the state and the ledger, each of which settles."""
    try:
        start.wait()
        fake.state(session_id)
        fake.ledger(token)
    except BaseException as error:  # reported by the test, not lost in the thread
        failures.append(error)


@pytest.mark.usefixtures("switch_often")
def test_threads_settling_at_once_apply_each_effect_once() -> None:
    failures: list[object] = []
    for round_ in range(ROUNDS):
        clock = VirtualClock(autojump=False)
        with NemoFake(FakeConfig(seed=round_, silent_edit_ratio=0), clock=clock) as fake:
            backend = fake.backend
            issued = backend.issue_anonymous_token("c", "127.0.0.1")
            account = issued.account
            session = backend.create_session(account, "p", "en")
            url = "https://media.example.com/talk.mp4"
            backend.add_urls(account, session.session_id, [url], "http://nemo.test")
            backend.run_message(account, session.session_id, "extract the top 3 viral clips")
            clock.advance(600)  # the extraction is due: whoever settles first applies it
            start = threading.Barrier(THREADS)
            reads = (fake, session.session_id, issued.token.value, start, failures)
            threads = [threading.Thread(target=_read_all, args=reads) for _ in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            state = fake.state(session.session_id)["state"]
            movements = [m.kind for m in fake.ledger(issued.token.value)]
        assert not failures, failures
        assert len(state["generated_media"]) == 3, round_
        assert len(state["video_analyses"]) == 1
        assert movements == ["grant", "freeze", "charge"]
