"""Agent events on the wire, in the shape the configuration picks.

"adk" (default): Google ADK api_server events, serialized camelCase, as `/run_sse` evidently is.
"typed": the `{"type": ...}` events illustrated by the vendor's api-reference.md.
Heartbeats are an empty `data:` line or `{"type": "heartbeat"}` in both shapes; a failure
mid-stream is ADK's `{"error": "..."}`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from nemo_fake.config import EventShape
from nemo_fake.domain.agent.runs import AgentEvent, AgentRun

#: An ASGI extension a server advertises when each send hands its message to the client and
#: yields before returning (nemo_fake.testing's in-process transport does). A stream served
#: elsewhere yields once per event itself, so its reader takes each event before the clock
#: moves to the next one's time.
HANDOVER_EXTENSION = "nemo_fake.handover"
SEPARATOR = "\n"
AUTHOR = "nemo_agent"
EMPTY_EVENT = f"data: {SEPARATOR}{SEPARATOR}".encode()
# Every ADK event's actions: shared, since an event is encoded at once and never kept.
NO_ACTIONS: dict[str, Any] = {"stateDelta": {}, "artifactDelta": {}, "requestedAuthConfigs": {}}
# json.dumps with any option makes a new encoder per call: one, made once, for every event.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def to_sse(event: AgentEvent, agent_run: AgentRun, index: int, shape: EventShape) -> bytes:
    """The event on the wire: one `data:` line, then a blank one.

    The bytes sse-starlette's ServerSentEvent would encode, built directly (a tenth of the
    cost): compact JSON never holds a line break, so the data is always one line."""
    if event.kind == "empty":
        return EMPTY_EVENT
    body = _typed(event) if shape == "typed" else _adk(event, agent_run, index)
    return f"data: {_ENCODER.encode(body)}{SEPARATOR}{SEPARATOR}".encode()


def _adk(event: AgentEvent, agent_run: AgentRun, index: int) -> dict[str, Any]:
    if event.kind == "heartbeat":
        return {"type": "heartbeat"}
    if event.kind == "error":
        return {"error": event.text}
    if event.kind == "text":
        part: dict[str, Any] = {"text": event.text}
        role = "model"
    elif event.kind == "tool_call":
        part = {"functionCall": {"id": event.call_id, "name": event.name, "args": event.payload}}
        role = "model"
    else:
        part = {
            "functionResponse": {
                "id": event.call_id,
                "name": event.name,
                "response": event.payload,
            }
        }
        role = "user"
    return {
        "content": {"parts": [part], "role": role},
        "invocationId": agent_run.id,
        "author": AUTHOR,
        "actions": NO_ACTIONS,
        "id": f"{agent_run.id[2:10]}-{index:04d}",
        # Whole milliseconds, rounded down: an event never claims a time still to come.
        "timestamp": math.floor((agent_run.started_at + event.at) * 1000) / 1000,
    }


def _typed(event: AgentEvent) -> dict[str, Any]:
    if event.kind == "text":
        return {"type": "text", "content": event.text}
    if event.kind == "tool_call":
        return {"type": "tool_call", "name": event.name, "args": event.payload}
    if event.kind == "tool_result":
        return {"type": "tool_result", "name": event.name, "result": event.payload}
    if event.kind == "error":
        return {"type": "error", "error": event.text}
    return {"type": "heartbeat"}
