"""The schedule of a run's stream events: a plan's event list finished with silence, the
trailing hiccup, heartbeats and configured faults. (The draft's tracks are the "timeline".)"""

from __future__ import annotations

import random
from typing import NamedTuple

from nemo_fake.config import FakeConfig, HeartbeatStyle
from nemo_fake.domain.agent import replies
from nemo_fake.domain.agent.planner import Plan
from nemo_fake.domain.agent.runs import AgentEvent, Effect, Outcome

ERROR_MESSAGE = "Agent run failed: upstream model error"


class Finished(NamedTuple):
    events: list[AgentEvent]
    effects: list[Effect]
    outcome: Outcome
    silent: bool  # a silent edit: the plan's text events were left out


def finish(
    plan: Plan,
    config: FakeConfig,
    rng: random.Random,
    language: str,
    *,
    force_silent: bool | None,
) -> Finished:
    events = list(plan.events)
    silent = plan.may_be_silent and (
        force_silent if force_silent is not None else rng.random() < config.silent_edit_ratio
    )
    if silent:
        events = [event for event in events if event.kind != "text"]
    elif events and rng.random() < config.temporary_issue_rate:
        issue = replies.TEMPORARY_ISSUE[replies.pick_language(language)]
        events.append(AgentEvent(events[-1].at + 0.5, "text", text=issue))
    events = with_heartbeats(events, config.heartbeat_seconds, config.heartbeat_style)
    return Finished(*apply_faults(events, plan.effects, config), silent=silent)


def with_heartbeats(
    events: list[AgentEvent], every: float, style: HeartbeatStyle
) -> list[AgentEvent]:
    """Fill every quiet stretch longer than `every` API seconds with heartbeats."""
    if every <= 0:
        return events
    out: list[AgentEvent] = []
    last = 0.0
    beats = 0
    for event in sorted(events, key=lambda e: e.at):
        tick = last + every
        while tick < event.at:
            out.append(_heartbeat(tick, style, beats))
            beats += 1
            tick += every
        out.append(event)
        last = event.at
    return out


def _heartbeat(at: float, style: HeartbeatStyle, index: int) -> AgentEvent:
    if style == "empty" or (style == "both" and index % 2 == 0):
        return AgentEvent(at, "empty")
    return AgentEvent(at, "heartbeat")


def apply_faults(
    events: list[AgentEvent], effects: list[Effect], config: FakeConfig
) -> tuple[list[AgentEvent], list[Effect], Outcome]:
    faults = config.stream_faults
    if faults.stall:
        every = config.heartbeat_seconds if config.heartbeat_seconds > 0 else 15.0
        count = max(1, int(faults.stall_seconds // every))
        beats = [_heartbeat(every * (i + 1), config.heartbeat_style, i) for i in range(count)]
        return beats, [], "failed"
    cut = faults.error_after_events
    if cut is not None and cut < len(events):
        kept = events[:cut]
        at = (kept[-1].at if kept else 0.0) + 0.5
        error = AgentEvent(at, "error", text=ERROR_MESSAGE)
        return [*kept, error], [effect for effect in effects if effect.at < at], "failed"
    return events, effects, "completed"
