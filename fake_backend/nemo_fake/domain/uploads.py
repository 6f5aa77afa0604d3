"""Uploaded media: what a session's `video_infos` and `data.files[]` report about each file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class StoredFile:
    file_id: str
    user_id: str
    session_id: str
    filename: str
    file_type: str
    path: Path | None  # None until a stand-in is made for a URL upload
    size: int | None  # None for a URL upload until its stand-in is made
    sha256: str
    duration: float
    width: int | None
    height: int | None
    fps: float | None
    cdn_url: str
    source_url: str | None = None

    def info(self) -> dict[str, Any]:
        """The upload response's `data.files[]` entry, also kept in `video_infos`."""
        info: dict[str, Any] = {
            "file_id": self.file_id,
            "filename": self.filename,
            "file_type": self.file_type,
            "cdn_url": self.cdn_url,
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "hash": self.sha256,
            "size": self.size,
        }
        if self.source_url is not None:
            info["source_url"] = self.source_url
        return info
