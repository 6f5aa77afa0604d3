"""Every answer is journaled once, as it starts, wherever it was built: an API route's
envelope, the app's error handlers, a stream or a file, Starlette's own redirect, or no answer
at all when the fake failed."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Router
from starlette.types import Message, Scope

from nemo_fake import NemoBackend, NemoFake
from nemo_fake.domain.faults import FaultRule
from nemo_fake.http.api_route import ApiRoute
from nemo_fake.http.front import Front
from tests.support import ATTRIBUTION, sse_body

BALANCE = "/api/credits/balance/simple"


async def test_a_redirect_starlette_answers_itself_is_journaled_with_its_status() -> None:
    with NemoFake() as fake:
        async with fake.http() as http:
            answer = await http.get(BALANCE + "/")
        assert answer.status_code == 307
        assert [(e.path, e.status) for e in fake.journal.find()] == [(BALANCE + "/", 307)]


async def test_a_stream_a_fault_rule_slowed_names_the_rule_and_is_journaled_once() -> None:
    with NemoFake() as fake:
        issued = fake.backend.issue_anonymous_token("c", "127.0.0.1")
        session = fake.backend.create_session(issued.account, "p", "en")
        rule = fake.faults.add(FaultRule("run_sse", latency=0.01, times=1))
        headers = {"Authorization": f"Bearer {issued.token.value}", **ATTRIBUTION}
        async with (
            fake.http() as http,
            http.stream("POST", "/run_sse", headers=headers,
                        json=sse_body(session.session_id, "hello")) as stream,
        ):  # fmt: skip
            assert stream.headers["x-nemo-fake-fault"] == rule.id
            assert [(e.operation, e.status) for e in fake.journal.find()] == [("run_sse", 200)]
            await stream.aread()
        assert len(fake.journal.find()) == 1


async def test_a_request_the_fake_failed_on_is_journaled_as_status_0(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(backend: NemoBackend, *args: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(NemoBackend, "balance", broken)
    with NemoFake() as fake:
        issued = fake.backend.issue_anonymous_token("c", "127.0.0.1")
        headers = {"Authorization": f"Bearer {issued.token.value}"}
        async with fake.http() as http:
            # In process the app's exception reaches the caller, after its 500 was sent.
            with pytest.raises(RuntimeError, match="a bug"):
                await http.get(BALANCE, headers=headers)
        assert [(e.path, e.status) for e in fake.journal.find()] == [(BALANCE, 0)]


async def test_a_file_gone_from_disk_is_journaled_as_unanswered_not_as_sent(
    tmp_path: Path,
) -> None:
    # A file's answer is noted only when it starts: the file may be gone by then.
    async def gone(request: Request) -> Response:
        return FileResponse(tmp_path / "deleted.mp4")

    backend = NemoBackend()
    front = Front(Router([ApiRoute("/api/file", gone, methods=["GET"])]), backend)
    scope: Scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/api/file", "raw_path": b"/api/file", "query_string": b"",
        "headers": [], "client": ("127.0.0.1", 4000), "server": ("nemo.test", 80),
        "root_path": "",
    }  # fmt: skip

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(RuntimeError, match="does not exist"):
        await front(scope, receive, send)
    assert [(e.path, e.status) for e in backend.journal.find()] == [("/api/file", 0)]
    assert sent[0]["status"] == 500  # the fake's failure, said as one
