"""Front: where each request enters the app and an exception becomes an answer, in place of
Starlette's exception layer."""

from __future__ import annotations

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nemo_fake import NemoBackend, NemoFake
from nemo_fake.errors import ERROR_TABLE, ApiError, Code
from nemo_fake.http.front import Front
from nemo_fake.http.recorder import noting_send

SCOPE: Scope = {
    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
    "scheme": "http", "path": "/api/x", "raw_path": b"/api/x", "query_string": b"",
    "headers": [], "client": ("127.0.0.1", 4000), "server": ("nemo.test", 80), "root_path": "",
}  # fmt: skip


async def _receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _serve(front: Front) -> list[Message]:
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    await front(dict(SCOPE), _receive, send)
    return sent


async def test_an_api_error_before_any_answer_is_answered_with_its_envelope_and_journaled() -> None:
    async def refuses(scope: Scope, receive: Receive, send: Send) -> None:
        raise ApiError(Code.NO_CREDITS)

    backend = NemoBackend()
    sent = await _serve(Front(refuses, backend))
    status = ERROR_TABLE[Code.NO_CREDITS].http_status
    assert sent[0]["status"] == status
    assert b'"code":2001' in sent[1]["body"]
    assert [(e.status, e.code) for e in backend.journal.find()] == [(status, 2001)]


async def test_an_api_error_after_the_answer_started_is_not_answered_twice() -> None:
    async def fails_midway(scope: Scope, receive: Receive, send: Send) -> None:
        send = noting_send(scope, send)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ApiError(Code.NO_CREDITS)

    backend = NemoBackend()
    with pytest.raises(RuntimeError, match="already started"):
        await _serve(Front(fails_midway, backend))
    assert [e.status for e in backend.journal.find()] == [200]


async def test_any_other_error_is_a_500_when_nothing_was_sent_and_is_raised_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise KeyError("a bug")

    backend = NemoBackend()
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(KeyError):  # for the server to log, as Starlette does
        await Front(broken, backend)(dict(SCOPE), _receive, send)
    assert sent[0]["status"] == 500
    assert b"a bug: please report it" in sent[1]["body"]
    assert [e.status for e in backend.journal.find()] == [0]
    assert "internal error in the fake on GET /api/x" in caplog.text


async def test_middleware_a_user_adds_to_the_app_sees_every_answer() -> None:
    class Stamp:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            async def stamped(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), (b"x-stamp", b"1")]
                await send(message)

            await self.app(scope, receive, stamped)

    with NemoFake() as fake:
        fake.app.add_middleware(Stamp)
        async with fake.http() as http:
            paths = ("/openapi.json", "/api/credits/balance/simple", "/no/such/path")
            answers = [await http.get(path) for path in paths]
    assert [a.status_code for a in answers] == [200, 401, 404]
    assert all(a.headers["x-stamp"] == "1" for a in answers)
