"""Render jobs. Status is derived from the clock at read time; nothing runs in the background."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from nemo_fake.domain.draft import Draft

Status = Literal["pending", "processing", "completed", "failed", "cancelled"]
# A render that fails does so this far through its processing time.
FAIL_POINT = 0.6


@dataclass
class RenderJob:
    id: str
    user_id: str
    session_id: str
    draft: Draft
    output: dict[str, Any]
    submitted_at: float
    pending_seconds: float
    processing_seconds: float
    file_secret: str
    fails: bool = False
    failed_at: float | None = None
    cancelled_at: float | None = None
    error: str | None = None

    @property
    def width(self) -> int:
        return int(self.draft["m"]["width"])

    @property
    def height(self) -> int:
        return int(self.draft["m"]["height"])

    @property
    def duration_ms(self) -> int:
        return int(self.draft["d"])

    @property
    def finishes_at(self) -> float:
        return self.submitted_at + self.pending_seconds + self.processing_seconds

    def _natural_failure_at(self) -> float | None:
        if not self.fails:
            return None
        return self.submitted_at + self.pending_seconds + self.processing_seconds * FAIL_POINT

    def ended_at(self, now: float) -> float | None:
        """When the job reached a final state, if it has by `now`."""
        candidates = [
            t
            for t in (self.cancelled_at, self.failed_at, self._natural_failure_at())
            if t is not None
        ]
        candidates.append(self.finishes_at)
        first = min(candidates)
        return first if first <= now else None

    def status(self, now: float) -> Status:
        ended = self.ended_at(now)
        if ended is not None:
            if ended == self.cancelled_at:
                return "cancelled"
            if ended in (self.failed_at, self._natural_failure_at()):
                return "failed"
            return "completed"
        if now < self.submitted_at + self.pending_seconds:
            return "pending"
        return "processing"

    def progress(self, now: float) -> int:
        at = min(now, self.ended_at(now) or now)
        started = self.submitted_at + self.pending_seconds
        if at <= started:
            return 0
        if self.status(now) == "completed":
            return 100
        return min(99, int(100 * (at - started) / self.processing_seconds))

    def fail(self, now: float, reason: str) -> None:
        self.failed_at = now
        self.error = reason

    def cancel(self, now: float) -> None:
        self.cancelled_at = now
