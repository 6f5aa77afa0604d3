"""A session's conversation as the inspector shows it: each `/run_sse` message with the events
its stream carried, in order, quiet stretches of heartbeats folded into one line with a count."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from nemo_fake.domain.agent.runs import AgentEvent, AgentRun

LineKind = Literal["text", "tool_call", "tool_result", "heartbeats", "error"]
# A tool call's or result's payload, shown on one line, is cut to this many characters.
PAYLOAD_CHARS = 240


@dataclass(frozen=True)
class Line:
    kind: LineKind
    at: float  # API seconds after the message arrived
    text: str = ""
    name: str = ""
    count: int = 1  # heartbeats folded into this line
    delivered: bool = True  # False: after the point a fault cut the stream


@dataclass(frozen=True)
class Message:
    run_id: str
    text: str
    kind: str  # what the agent took it for: "extract", "edit", "chat", ...
    started_at: float
    took_s: float  # API seconds from the message to its stream's last event (so far)
    running: bool
    silent: bool
    cut_after: int | None
    outcome: str
    cost: int
    lines: list[Line]


def conversation(runs: list[AgentRun], now: float) -> list[Message]:
    """The messages of `runs` in the order they came; only the events due by `now`."""
    return [_message(run, now) for run in sorted(runs, key=lambda run: run.started_at)]


def _message(run: AgentRun, now: float) -> Message:
    due = [event for event in run.events if run.started_at + event.at <= now]
    lines: list[Line] = []
    for index, event in enumerate(due):
        delivered = run.stream_cut_after is None or index < run.stream_cut_after
        if event.kind in ("heartbeat", "empty"):
            last = lines[-1] if lines else None
            if last is not None and last.kind == "heartbeats" and last.delivered == delivered:
                lines[-1] = Line("heartbeats", last.at, count=last.count + 1, delivered=delivered)
                continue
            lines.append(Line("heartbeats", event.at, delivered=delivered))
            continue
        lines.append(_line(event, delivered))
    running = run.running(now)
    took = (min(now, run.ends_at) if running else run.ends_at) - run.started_at
    return Message(
        run_id=run.id,
        text=run.message,
        kind=run.kind,
        started_at=run.started_at,
        took_s=round(took, 1),
        running=running,
        silent=run.silent,
        cut_after=run.stream_cut_after,
        outcome=run.outcome,
        cost=run.cost,
        lines=lines,
    )


def _line(event: AgentEvent, delivered: bool) -> Line:
    if event.kind in ("tool_call", "tool_result"):
        payload = json.dumps(event.payload, ensure_ascii=False)
        if len(payload) > PAYLOAD_CHARS:
            payload = payload[: PAYLOAD_CHARS - 1] + "…"
        return Line(event.kind, event.at, payload, event.name, delivered=delivered)
    kind: LineKind = "error" if event.kind == "error" else "text"
    return Line(kind, event.at, event.text, delivered=delivered)
