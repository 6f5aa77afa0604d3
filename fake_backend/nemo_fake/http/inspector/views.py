"""What each inspector page shows, read from the backend in one go under its lock and copied
into plain objects, so the templates draw a consistent moment and never touch live state."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nemo_fake.clock import ClockInfo, clock_info
from nemo_fake.domain.backend import NemoBackend
from nemo_fake.domain.faults import FaultRule
from nemo_fake.domain.ledger import Movement
from nemo_fake.domain.renders import RenderJob
from nemo_fake.http.inspector.chart import Chart, balance_chart
from nemo_fake.http.inspector.conversation import Message, conversation
from nemo_fake.http.inspector.timeline import Timeline, timeline


@dataclass(frozen=True)
class SessionRow:
    session_id: str
    task_name: str
    created_at: float
    last_active_at: float
    messages: int
    renders: int


@dataclass(frozen=True)
class AccountRow:
    user_id: str
    kind: str
    available: int
    frozen: int
    created_at: float
    last_active_at: float
    sessions: list[SessionRow]


@dataclass(frozen=True)
class RenderRow:
    id: str
    status: str
    progress: int
    submitted_at: float
    width: int
    height: int
    duration_s: float
    error: str | None
    url: str | None  # the MP4, once completed


@dataclass(frozen=True)
class SessionPage:
    session_id: str
    task_name: str
    user_id: str
    timeline: Timeline
    clips: list[dict[str, Any]]
    conversation: list[Message]
    renders: list[RenderRow]


@dataclass(frozen=True)
class LedgerAccount:
    user_id: str
    available: int
    frozen: int
    chart: Chart | None
    movements: list[Movement]


@dataclass(frozen=True)
class Controls:
    clock: ClockInfo
    rules: list[FaultRule]
    snapshots: list[str]


def accounts(backend: NemoBackend) -> list[AccountRow]:
    """Every account and its sessions, newest first."""
    renders_per_session: dict[str, int] = {}
    for job in backend.renders.jobs.values():
        renders_per_session[job.session_id] = renders_per_session.get(job.session_id, 0) + 1
    sessions: dict[str, list[SessionRow]] = {}
    # Reversed insertion order first, so sessions made in the same API second stay newest first.
    for session in reversed(list(backend.sessions.values())):
        sessions.setdefault(session.user_id, []).append(
            SessionRow(
                session.session_id,
                session.task_name,
                session.created_at,
                session.last_active_at,
                session.messages,
                renders_per_session.get(session.session_id, 0),
            )
        )
    rows = [
        AccountRow(
            account.user_id,
            account.kind,
            account.ledger.available,
            account.ledger.frozen,
            account.created_at,
            account.last_active_at,
            sorted(sessions.get(account.user_id, []), key=lambda row: -row.created_at),
        )
        for account in reversed(list(backend.accounts.by_user.values()))
    ]
    return sorted(rows, key=lambda row: -row.created_at)


def session_page(
    backend: NemoBackend, session_id: str, url_of: Callable[[RenderJob], str]
) -> SessionPage | None:
    """A session's timeline, clips, conversation and renders; `url_of` gives a render's MP4
    URL (the one the API hands out)."""
    session = backend.sessions.get(session_id)
    if session is None:
        return None
    now = backend.now()
    clips = sorted(
        (dict(media) for media in session.generated_media if media.get("type") == "clip"),
        key=lambda clip: -float(clip.get("virality_score") or 0),
    )
    jobs = [job for job in backend.renders.jobs.values() if job.session_id == session_id]
    return SessionPage(
        session_id=session.session_id,
        task_name=session.task_name,
        user_id=session.user_id,
        timeline=timeline(session.draft),
        clips=clips,
        conversation=conversation(
            [run for run in backend.agent_runs if run.session_id == session_id], now
        ),
        renders=[
            RenderRow(
                job.id,
                job.status(now),
                job.progress(now),
                job.submitted_at,
                job.width,
                job.height,
                job.duration_ms / 1000,
                job.error,
                url_of(job) if job.status(now) == "completed" else None,
            )
            for job in sorted(jobs, key=lambda job: -job.submitted_at)
        ],
    )


def ledger(backend: NemoBackend) -> list[LedgerAccount]:
    now = backend.now()
    return [
        LedgerAccount(
            account.user_id,
            account.ledger.available,
            account.ledger.frozen,
            balance_chart(account.ledger.movements, now),
            list(account.ledger.movements),
        )
        for account in reversed(list(backend.accounts.by_user.values()))
    ]


def controls(backend: NemoBackend) -> Controls:
    return Controls(
        clock_info(backend.clock),
        [copy.copy(rule) for rule in backend.faults.rules],
        backend.snapshot_ids(),
    )
