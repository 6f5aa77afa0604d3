"""Uploaded media: the files store, and what a session's `video_infos` and `data.files[]`
report about each file."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from nemo_fake import media
from nemo_fake.config import FakeConfig
from nemo_fake.domain import draft as drafts
from nemo_fake.domain.ids import IdFactory, chance
from nemo_fake.domain.sessions import Session
from nemo_fake.domain.storage import Storage
from nemo_fake.errors import ApiError, Code

# How long a still image lasts when an upload places it on the draft.
STILL_IMAGE_MS = 3000


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


class ReceivedFile(Protocol):
    """A file already streamed to disk by the web layer."""

    @property
    def filename(self) -> str: ...
    @property
    def path(self) -> Path: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...


@contextmanager
def deleted_on_failure(received: Sequence[ReceivedFile]) -> Iterator[None]:
    """Delete the received files if the block fails: an upload is taken whole or not at all."""
    try:
        yield
    except BaseException:
        for item in received:
            item.path.unlink(missing_ok=True)
        raise


class Uploads:
    """Every uploaded file by id. Storing one also puts it on its session's draft."""

    def __init__(self, config: FakeConfig, ids: IdFactory, disk: Storage) -> None:
        self._config = config
        self._ids = ids
        self._disk = disk
        self._upload_dir = disk.uploads
        self.files: dict[str, StoredFile] = {}

    def add_files(
        self, session: Session, received: Sequence[ReceivedFile], base_url: str
    ) -> list[StoredFile]:
        """Take files the web layer streamed to disk; all of them or none (then deleted)."""
        with deleted_on_failure(received):
            probed = [
                (
                    item,
                    media.probe_content(item.path, media.file_type_for(item.filename), item.sha256),
                )
                for item in received
            ]
        return [
            self._store(
                session,
                filename=item.filename,
                info=info,
                path=item.path,
                size=item.size,
                sha256=item.sha256,
                base_url=base_url,
            )
            for item, info in probed
        ]

    def add_urls(self, session: Session, urls: list[str], base_url: str) -> list[StoredFile]:
        """Record URL uploads with plausible metadata. The fake never fetches the internet."""
        planned = [self._plan_url(url, base_url) for url in urls]
        return [
            self._store(session, base_url=base_url, source_url=url, **plan)
            for url, plan in zip(urls, planned, strict=True)
        ]

    def stored_file(self, file_id: str, filename: str) -> StoredFile:
        """An uploaded file by its cdn_url parts; a URL upload's stand-in is made here."""
        stored = self.files.get(file_id)
        if stored is None or stored.filename != filename:
            raise ApiError(Code.NOT_FOUND, "No such file")
        if stored.path is None:
            stored.path = self._make_stand_in(stored)
        return stored

    def _plan_url(self, url: str, base_url: str) -> dict[str, Any]:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ApiError(Code.BAD_REQUEST, f"Not an http(s) URL: {url[:200]!r}")
        filename = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1]) or parts.netloc
        file_type = media.file_type_for(filename)
        own = self._own_file(url, base_url)
        if own is not None:
            return {
                "filename": own.filename,
                "info": media.MediaInfo(
                    own.file_type, own.duration, own.width, own.height, own.fps
                ),
                "path": None,
                "size": own.size,
                "sha256": own.sha256,
                "copy_of": own,
            }
        rng = chance(self._config.seed, "url", url)
        info = {
            "video": media.MediaInfo("video", float(rng.randint(15, 60)), 1280, 720, 25.0),
            "image": media.MediaInfo("image", 0.0, 1280, 720, None),
            "audio": media.MediaInfo("audio", float(rng.randint(15, 60)), None, None, None),
        }[file_type]
        return {
            "filename": filename,
            "info": info,
            "path": None,
            "size": None,
            "sha256": hashlib.sha256(url.encode()).hexdigest(),
        }

    def _own_file(self, url: str, base_url: str) -> StoredFile | None:
        """A URL this fake handed out (a cdn_url) is read back from storage, not fetched."""
        if not url.startswith(base_url.rstrip("/") + "/cdn/uploads/"):
            return None
        file_id = url[len(base_url.rstrip("/") + "/cdn/uploads/") :].split("/", 1)[0]
        return self.files.get(file_id)

    def _store(
        self,
        session: Session,
        *,
        filename: str,
        info: media.MediaInfo,
        path: Path | None,
        size: int | None,
        sha256: str,
        base_url: str,
        source_url: str | None = None,
        copy_of: StoredFile | None = None,
    ) -> StoredFile:
        file_id = self._ids.file_id()
        if copy_of is not None and copy_of.path is not None:
            path = self._upload_dir / f"{file_id}{Path(copy_of.filename).suffix}"
            shutil.copyfile(copy_of.path, path)
            self._disk.added(path.stat().st_size)
        stored = StoredFile(
            file_id=file_id,
            user_id=session.user_id,
            session_id=session.session_id,
            filename=filename,
            file_type=info.file_type,
            path=path,
            size=size,
            sha256=sha256,
            duration=info.duration,
            width=info.width,
            height=info.height,
            fps=info.fps,
            cdn_url=f"{base_url.rstrip('/')}/cdn/uploads/{file_id}/{filename}",
            source_url=source_url,
        )
        self.files[file_id] = stored
        session.video_infos.append(stored.info())
        _place_on_timeline(session, stored)
        return stored

    def _make_stand_in(self, stored: StoredFile) -> Path:
        """Media for a URL upload, made on first download to match its recorded metadata."""
        path = self._upload_dir / f"{stored.file_id}{Path(stored.filename).suffix.lower()}"
        if stored.file_type == "video":
            media.render_mp4(
                path.with_suffix(".mp4"),
                width=stored.width or 1280,
                height=stored.height or 720,
                duration_ms=round(stored.duration * 1000),
                fps=round(stored.fps or 25),
                seed=self._config.seed,
                # A stand-in only has to be real media of the recorded shape: keep it cheap.
                loop_seconds=1,
            )
            path = path.with_suffix(".mp4")
        elif stored.file_type == "image":
            path = path.with_suffix(".png")
            media.make_sample_image(path, width=stored.width or 1280, height=stored.height or 720)
        else:
            path = path.with_suffix(".wav")
            media.make_sample_audio(path, duration_s=stored.duration)
        stored.size = path.stat().st_size
        self._disk.added(stored.size)
        return path


def _place_on_timeline(session: Session, stored: StoredFile) -> None:
    # `session_state_applied: true`: an upload lands on the draft, so the state is
    # exportable straight away (videos and stills on the video track, audio as BGM).
    length = STILL_IMAGE_MS if stored.file_type == "image" else round(stored.duration * 1000)
    segment: dict[str, Any] = {
        "d": max(length, 1),
        "n": stored.filename,
        "src": stored.cdn_url,
        "in": 0,
    }
    if stored.file_type == "audio":
        segment["v"] = 100
    track_type = drafts.AUDIO if stored.file_type == "audio" else drafts.VIDEO
    drafts.append_segment(session.draft, track_type, segment)
