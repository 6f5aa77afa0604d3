"""Agent events on the wire: built as bytes directly, exactly as sse-starlette's
ServerSentEvent would encode them."""

from __future__ import annotations

import json

import pytest
from sse_starlette import ServerSentEvent

from nemo_fake.config import EventShape
from nemo_fake.domain.agent.runs import AgentEvent, AgentRun
from nemo_fake.http.events import SEPARATOR, to_sse

EVENTS = [
    AgentEvent(1.0, "text", text="line one\nline two \u2028 \r done"),
    AgentEvent(2.0, "tool_call", name="edit", call_id="adk-1", payload={"op": "cut"}),
    AgentEvent(3.0, "tool_result", name="edit", call_id="adk-1", payload={"ok": True}),
    AgentEvent(4.0, "heartbeat"),
    AgentEvent(5.0, "empty"),
    AgentEvent(6.0, "error", text="Temporary issue"),
]


@pytest.mark.parametrize("shape", ["adk", "typed"])
def test_each_event_is_the_bytes_a_server_sent_event_encodes(shape: EventShape) -> None:
    run = AgentRun("e-0123456789abcdef01234567", "u", "s", "edit", 100.0, EVENTS, [], 0, None)
    for index, event in enumerate(EVENTS):
        wire = to_sse(event, run, index, shape)
        data = wire.decode().removeprefix("data: ").removesuffix(SEPARATOR * 2)
        assert wire == ServerSentEvent(data=data, sep=SEPARATOR).encode()
        assert wire.count(b"\n") == 2  # one data line, whatever the text holds
        if event.kind != "empty":
            json.loads(data)
