"""Small typed views of API answers. Each keeps the raw dict for fields it doesn't name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class AnonymousToken:
    """A fresh anonymous token: `POST /api/auth/anonymous-token`."""

    token: str
    user_id: str | None
    credits: int | None
    expires_at: str | None


@dataclass(frozen=True)
class SessionInfo:
    """A new editing session and its task: `POST /api/tasks/me/with-session/nemo_agent`."""

    session_id: str
    task_id: str
    user_id: str | None = None


@dataclass(frozen=True)
class ClaimToken:
    """A one-off token for the web "claim your project" link, never an API credential."""

    claim_token: str
    expires_in: int


@dataclass(frozen=True)
class Balance:
    """Credits: `available` to spend, `frozen` by work in progress, `total` of the two."""

    available: int
    frozen: int
    total: int


@dataclass(frozen=True)
class ProjectState:
    """The session's project: the draft timeline and the media around it."""

    session_id: str | None
    task_id: str | None
    user_id: str | None
    draft: dict[str, Any]
    generated_media: list[dict[str, Any]]
    video_infos: list[dict[str, Any]]
    raw: dict[str, Any] = field(repr=False)

    @property
    def state(self) -> dict[str, Any]:
        """`data.state`, as the change report compares it."""
        inner: dict[str, Any] = self.raw.get("state", {})
        return inner

    @property
    def ready_for_export(self) -> bool:
        """At least one track with a non-empty `sg` (vendor doc)."""
        tracks = self.draft.get("t")
        return isinstance(tracks, list) and any(
            isinstance(track, dict) and track.get("sg") for track in tracks
        )


@dataclass(frozen=True)
class UploadedFile:
    """One uploaded file as the API describes it (`data.files[]`)."""

    filename: str
    file_type: str
    cdn_url: str
    duration: float | None
    width: int | None
    height: int | None
    raw: dict[str, Any] = field(repr=False)


RenderState = Literal["pending", "processing", "completed", "failed", "cancelled"]


@dataclass(frozen=True)
class RenderStatus:
    """A render job as a poll reports it, read from any documented poll shape."""

    id: str
    status: str
    progress: int
    url: str | None
    error: str | None

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")


EventKind = Literal["text", "tool_call", "tool_result", "heartbeat", "error"]


@dataclass(frozen=True)
class AgentEvent:
    """One `/run_sse` event, whichever wire shape it came in (ADK or typed)."""

    kind: EventKind
    text: str = ""
    name: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
