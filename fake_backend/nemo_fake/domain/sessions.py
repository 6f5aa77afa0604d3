"""Editing sessions (tasks) and the project state each one carries."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from nemo_fake.domain.draft import DEFAULT_HEIGHT, DEFAULT_WIDTH, Draft, empty_draft


@dataclass
class Session:
    session_id: str
    task_id: str
    task_name: str
    language: str
    user_id: str
    created_at: float
    draft: Draft
    canvas_config: dict[str, Any]
    video_infos: list[dict[str, Any]] = field(default_factory=list)
    generated_media: list[dict[str, Any]] = field(default_factory=list)
    video_analyses: list[dict[str, Any]] = field(default_factory=list)
    # Editing is charged once per session (vendor: "~50/session"); see the agent planner.
    editing_paid: bool = False
    messages: int = 0
    last_active_at: float = 0.0  # API time of the latest call that named this session

    @classmethod
    def new(
        cls,
        session_id: str,
        task_id: str,
        task_name: str,
        language: str,
        user_id: str,
        now: float,
    ) -> Session:
        return cls(
            session_id=session_id,
            task_id=task_id,
            task_name=task_name,
            language=language,
            user_id=user_id,
            created_at=now,
            last_active_at=now,
            draft=empty_draft(task_name),
            canvas_config={"width": DEFAULT_WIDTH, "height": DEFAULT_HEIGHT, "ratio": "9:16"},
        )

    def state(self) -> dict[str, Any]:
        """The body of `GET /api/state/.../latest`: a deep copy, so callers can't mutate us."""
        return copy.deepcopy(self.state_view())

    def state_view(self) -> dict[str, Any]:
        """The same body over the live state, no copy: to read (serialise) at once, under the
        backend's lock, never to keep."""
        return {
            "session_id": self.session_id,
            "task_id": self.task_id,
            "task_name": self.task_name,
            "state": {
                "draft": self.draft,
                "video_infos": self.video_infos,
                "canvas_config": self.canvas_config,
                "generated_media": self.generated_media,
                "video_analyses": self.video_analyses,
            },
        }
