"""`POST /run_sse`: the agent's answer as a live Server-Sent Events stream.

Errors known before streaming (1001, 1002, 2001, a malformed body) are the usual JSON envelope;
a failure during the stream is an `{"error": ...}` event, then the stream closes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from sse_starlette import EventSourceResponse
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from nemo_fake.clock import Clock, VirtualClock
from nemo_fake.domain.agent.runs import AgentRun
from nemo_fake.domain.backend import NemoBackend
from nemo_fake.errors import ApiError, Code
from nemo_fake.http.api_route import ApiRoute
from nemo_fake.http.auth import authenticate, check_app_name, check_user_segment
from nemo_fake.http.body import Anything, JsonBody, Text, json_object
from nemo_fake.http.context import backend_of
from nemo_fake.http.events import HANDOVER_EXTENSION, to_sse
from nemo_fake.http.faults import fired_rule, operation

MAX_MESSAGE_CHARS = 20_000
# Test-only switch: force (true) or forbid (false) a silent edit for this one message.
SILENT_HEADER = "x-fake-silent"
CAMEL_CASE = {"appName": "app_name", "userId": "user_id", "sessionId": "session_id",
              "newMessage": "new_message"}  # fmt: skip


APP_NAME = Text("app_name", description="Always nemo_agent (another app is a 404)")
USER_ID = Text("user_id", default="me", description='"me", or the caller\'s own user id')
SESSION_ID = Text("session_id", description="One of the caller's sessions")
MESSAGE_SCHEMA = {
    "type": "object",
    "required": ["parts"],
    "properties": {
        "parts": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["text"],
                "properties": {"text": {"type": "string"}},
            },
        }
    },
}
NEW_MESSAGE = Anything(
    "new_message",
    lambda config: MESSAGE_SCHEMA,
    description=f"The message: its parts' texts, joined, not blank, at most {MAX_MESSAGE_CHARS}",
)
RUN_SSE_BODY = JsonBody((APP_NAME, USER_ID, SESSION_ID, NEW_MESSAGE))


@operation("run_sse")
async def run_sse(request: Request) -> Response:
    account = authenticate(request, call="run_sse")
    body = await json_object(request)
    for camel, snake in CAMEL_CASE.items():
        if camel in body and snake not in body:
            raise ApiError(
                Code.BAD_REQUEST, f"Fields are snake_case: send {snake}, not {camel}", field=snake
            )
    check_app_name(APP_NAME.read(body))
    check_user_segment(account, USER_ID.read(body))
    backend = backend_of(request)
    agent_run = backend.run_message(
        account,
        SESSION_ID.read(body),
        _message_text(body),
        force_silent=_silent_switch(request),
    )
    cut = _Cut()
    rule = fired_rule(request)
    drop_after = backend.config.stream_faults.drop_after_events
    if rule is not None and rule.drop_after_events is not None:
        drop_after = rule.drop_after_events
    handed_over = HANDOVER_EXTENSION in request.scope.get("extensions", {})
    return DroppableEventSource(
        _stream(backend, agent_run, cut, drop_after, handed_over=handed_over),
        cut,
        may_cut=drop_after is not None,
        split_events=backend.config.stream_faults.split_events,
        ping=0,
        sep="\n",
    )


def _message_text(body: dict[str, Any]) -> str:
    message = body.get("new_message")
    parts = message.get("parts") if isinstance(message, dict) else None
    if not isinstance(parts, list) or not parts:
        raise ApiError(
            Code.BAD_REQUEST, "new_message.parts must be a non-empty list", field="new_message"
        )
    if not all(isinstance(part, dict) and isinstance(part.get("text"), str) for part in parts):
        raise ApiError(
            Code.BAD_REQUEST,
            'each new_message.parts item must be {"text": "..."}',
            field="new_message.parts",
        )
    text = "\n".join(part["text"] for part in parts).strip()
    if not text:
        raise ApiError(Code.BAD_REQUEST, "the message is empty", field="new_message.parts")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ApiError(
            Code.BAD_REQUEST,
            f"the message is longer than {MAX_MESSAGE_CHARS} characters",
            field="new_message.parts",
        )
    return text


def _silent_switch(request: Request) -> bool | None:
    value = request.headers.get(SILENT_HEADER, "").strip().lower()
    if value in ("1", "true", "yes"):
        return True
    if value in ("0", "false", "no"):
        return False
    return None


class _Cut:
    """Set by the stream when a configured fault cuts the connection."""

    def __init__(self) -> None:
        self.cut = False


async def _stream(
    backend: NemoBackend,
    agent_run: AgentRun,
    cut: _Cut,
    drop_after: int | None,
    *,
    handed_over: bool,
) -> AsyncIterator[bytes]:
    latency = backend.config.stream_faults.event_latency
    for index, event in enumerate(agent_run.events):
        if drop_after is not None and index >= drop_after:
            cut.cut = True
            agent_run.cut_stream(index)
            return
        if index and not handed_over:
            # The reader takes the last event before the clock moves to this one's time (an
            # autojumping clock moves at once), and a disconnect is heard between events.
            await asyncio.sleep(0)
        delay = latency * (index + 1)
        await _until(backend.clock, agent_run.started_at + event.at + delay)
        yield to_sse(event, agent_run, index, backend.config.event_shape)


async def _until(clock: Clock, when: float) -> None:
    """Wait for API time `when`. An autojumping clock is moved there at once, without the
    yield its sleep_until makes first: the stream yields between events already (one pass
    of the event loop per event, not two: a twentieth of an in-process quick edit)."""
    if isinstance(clock, VirtualClock) and clock.autojump:
        if when > clock.now():
            clock.set(when)
        return
    await clock.sleep_until(when)


class DroppableEventSource(EventSourceResponse):
    """An EventSourceResponse that can end without finishing the body, as a cut connection
    does: the client sees the stream break, not a clean close."""

    def __init__(
        self,
        content: AsyncIterator[bytes],
        cut: _Cut,
        *,
        may_cut: bool = False,
        split_events: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(content, **kwargs)
        self._cut = cut
        self._may_cut = may_cut
        self._split_events = split_events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._may_cut and not self._split_events:  # no fault to act on: send as is
            await super().__call__(scope, receive, send)
            return

        async def guarded_send(message: Message) -> None:
            if not self._split_events and not self._cut.cut:
                await send(message)
                return
            ending = message["type"] == "http.response.body" and not message.get("more_body")
            if ending and self._cut.cut:
                return
            body = message.get("body", b"") if message["type"] == "http.response.body" else b""
            if self._split_events and len(body) > 2:
                for piece in _three_writes(body):
                    await send({"type": "http.response.body", "body": piece, "more_body": True})
                    await asyncio.sleep(0)  # each piece its own write on the wire
                if ending:
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                return
            await send(message)

        await super().__call__(scope, receive, guarded_send)


def _three_writes(event: bytes) -> list[bytes]:
    """An event as three writes: cut in the middle of its data line, and between its two
    closing newlines."""
    middle = len(event) // 2
    return [event[:middle], event[middle:-1], event[-1:]]


routes = [ApiRoute("/run_sse", run_sse, methods=["POST"])]
