"""Render jobs and their store. A job's status is derived from the clock at read time;
nothing runs in the background."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from nemo_fake import media
from nemo_fake.config import FakeConfig
from nemo_fake.domain import draft as drafts
from nemo_fake.domain.draft import MAX_SIDE, Draft
from nemo_fake.domain.ids import IdFactory, chance
from nemo_fake.errors import ApiError, Code

Status = Literal["pending", "processing", "completed", "failed", "cancelled"]
RENDER_ID = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")
OUTPUT_FORMATS = ("mp4",)
OUTPUT_QUALITIES = ("high", "medium", "low")
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
        return _at_resolution(self.draft["m"], self.output.get("resolution"))[0]

    @property
    def height(self) -> int:
        return _at_resolution(self.draft["m"], self.output.get("resolution"))[1]

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


def check_render_id(render_id: str) -> None:
    # An id of dots alone ("." or "..") is a path segment no HTTP client can poll.
    if not RENDER_ID.match(render_id) or not render_id.strip("."):
        raise ApiError(
            Code.BAD_REQUEST,
            "id must be 1-128 characters of letters, digits, '_', '-' or '.', not dots alone",
            field="id",
        )


class Renders:
    """Every render job, by (user, id) for the API and by file secret for its CDN URL."""

    def __init__(self, config: FakeConfig, ids: IdFactory, output_dir: Path) -> None:
        self._config = config
        self._ids = ids
        self._output_dir = output_dir
        self.jobs: dict[tuple[str, str], RenderJob] = {}
        self._by_secret: dict[str, RenderJob] = {}

    def submit(
        self,
        user_id: str,
        render_id: str,
        session_id: str,
        draft: object,
        output: dict[str, Any] | None,
        now: float,
        *,
        fails: bool = False,
    ) -> RenderJob:
        """A new job for an id that passed `check_render_id` and a session the user owns."""
        if (user_id, render_id) in self.jobs:
            raise ApiError(
                Code.CONFLICT, f"Render id {render_id!r} already used; retry with a new id"
            )
        checked = drafts.validate_for_render(draft)
        if checked["d"] > self._config.max_render_ms:
            raise ApiError(
                Code.BAD_REQUEST,
                f"Draft is {checked['d']} ms long; the fake renders at most "
                f"{self._config.max_render_ms} ms",
                field="draft.d",
            )
        output = _check_output(output)
        rng = chance(self._config.seed, "render", user_id, render_id)
        low, high = self._config.render_seconds
        total = rng.uniform(low, high)
        pending = min(self._config.render_pending_seconds, total / 2)
        job = RenderJob(
            id=render_id,
            user_id=user_id,
            session_id=session_id,
            draft=checked,
            output=output,
            submitted_at=now,
            pending_seconds=pending,
            processing_seconds=total - pending,
            file_secret=self._ids.secret(),
            fails=fails or rng.random() < self._config.render_failure_rate,
        )
        self.jobs[(user_id, render_id)] = job
        self._by_secret[job.file_secret] = job
        return job

    def find(self, user_id: str, render_id: str) -> RenderJob:
        job = self.jobs.get((user_id, render_id))
        if job is None:
            raise ApiError(Code.NOT_FOUND, f"No render {render_id!r}")
        return job

    def by_secret(self, secret: str) -> RenderJob:
        job = self._by_secret.get(secret)
        if job is None:
            raise ApiError(Code.NOT_FOUND, "No such file")
        return job

    def cancel(self, user_id: str, render_id: str, now: float) -> RenderJob:
        job = self.find(user_id, render_id)
        status = job.status(now)
        if status not in ("pending", "processing"):
            raise ApiError(
                Code.CONFLICT, f"Render is {status}; only a running render can be cancelled"
            )
        job.cancel(now)
        return job

    def fail(self, user_id: str, render_id: str, now: float, reason: str) -> RenderJob:
        job = self.find(user_id, render_id)
        job.fail(now, reason)
        return job

    def output_path(self, job: RenderJob) -> Path:
        """Where the job's MP4 is, once it has been made."""
        return self._output_dir / job.file_secret / f"{job.id}.mp4"

    def output_file(self, job: RenderJob, now: float) -> Path:
        """The finished MP4, rendered on first request. Blocking: call it off the event loop."""
        status = job.status(now)
        if status != "completed":
            raise ApiError(Code.CONFLICT, f"Render is {status}, not completed")
        path = self.output_path(job)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            media.render_mp4(
                path,
                width=job.width,
                height=job.height,
                duration_ms=job.duration_ms,
                fps=self._config.render_fps,
                seed=self._config.seed,
            )
        return path


# output.resolution: the short side of the MP4, the draft's aspect kept (VH:7fe0b89, R:
# "resolution/fps if supported").
RESOLUTIONS = {"480p": 480, "720p": 720, "1080p": 1080}


def _at_resolution(meta: dict[str, Any], resolution: object) -> tuple[int, int]:
    """The MP4's size: the draft's, or scaled so its short side is the resolution's, never
    past the fake's largest side (sides even, as H.264 wants them)."""
    width, height = int(meta["width"]), int(meta["height"])
    if not isinstance(resolution, str) or resolution not in RESOLUTIONS:
        return width, height
    scale = min(RESOLUTIONS[resolution] / min(width, height), MAX_SIDE / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


#: What `_check_output` checks, as JSON Schema.
OUTPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "format": {"enum": list(OUTPUT_FORMATS), "default": "mp4"},
        "quality": {"enum": list(OUTPUT_QUALITIES), "default": "high"},
        "resolution": {"enum": list(RESOLUTIONS)},
    },
}


def _check_output(output: dict[str, Any] | None) -> dict[str, Any]:
    checked = {"format": "mp4", "quality": "high", **(output or {})}
    if "resolution" in checked and checked["resolution"] not in RESOLUTIONS:
        raise ApiError(
            Code.BAD_REQUEST,
            f"output.resolution must be one of {', '.join(RESOLUTIONS)}",
            field="output.resolution",
        )
    if checked["format"] not in OUTPUT_FORMATS:
        raise ApiError(Code.BAD_REQUEST, "output.format must be 'mp4'", field="output.format")
    if checked["quality"] not in OUTPUT_QUALITIES:
        raise ApiError(
            Code.BAD_REQUEST,
            "output.quality must be one of high, medium, low",
            field="output.quality",
        )
    return checked
