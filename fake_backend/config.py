"""Every knob of the fake in one dataclass, with the vendor's documented values as defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

DAY = 86_400.0
MB = 1024 * 1024

PollShape = Literal["current", "reference", "early"]
AttributionRule = Literal["export", "all", "none"]
EventShape = Literal["adk", "typed"]
HeartbeatStyle = Literal["both", "empty", "event"]


@dataclass
class StreamFaults:
    """Ways a `/run_sse` stream can go wrong, all off by default."""

    # Cut the connection after this many events (the operation still completes server-side).
    drop_after_events: int | None = None
    # Send `{"error": ...}` after this many events and close; the operation fails, credits return.
    error_after_events: int | None = None
    # Heartbeats only, for `stall_seconds` of API time, then close: nothing changes.
    stall: bool = False
    stall_seconds: float = 11 * 60.0
    # Extra API seconds before each event.
    event_latency: float = 0.0


@dataclass
class FakeConfig:
    seed: int = 0
    # Render poll body: "current" = vendor SKILL.md (top-level status, output.url),
    # "reference" = api-reference.md ({"success", "data": {..., "outputUrl"}}),
    # "early" = early SKILL.md ({"taskId", "status", "output": {"url", "duration", "size"}}).
    poll_shape: PollShape = "current"
    # Which calls answer HTTP 402 without the X-Skill-* attribution headers. The docs only
    # say exports do; "all" makes every authenticated call strict.
    attribution_required: AttributionRule = "export"
    # Key(s) the error message is sent under; the docs never show one, so both by default.
    message_keys: tuple[str, ...] = ("message", "msg")
    web_url: str = "https://nemovideo.com"

    anonymous_credits: int = 100
    token_ttl: float = 7 * DAY
    rate_window: float = 7 * DAY
    tokens_per_address: int | None = 10
    claim_ttl: int = 604_800

    max_upload_bytes: int = 500 * MB
    max_urls_per_upload: int = 20

    render_seconds: tuple[float, float] = (30.0, 90.0)
    render_pending_seconds: float = 5.0
    render_failure_rate: float = 0.0
    render_fps: int = 10
    # Longest draft the fake will render; a longer one is refused rather than truncated.
    max_render_ms: int = 30 * 60 * 1000

    # /run_sse: wire shape ("adk" = Google ADK events, "typed" = api-reference.md's
    # {"type": ...} events), heartbeat cadence and form, and the agent's chances.
    event_shape: EventShape = "adk"
    heartbeat_seconds: float = 15.0
    heartbeat_style: HeartbeatStyle = "both"
    silent_edit_ratio: float = 0.3
    temporary_issue_rate: float = 0.05
    generation_cost: int = 100
    editing_cost: int = 50
    stream_faults: StreamFaults = field(default_factory=StreamFaults)
