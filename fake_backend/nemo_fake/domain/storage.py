"""The fake's files on disk, under one cap: uploads, and rendered MP4s.

A rendered MP4 can always be made again (it is rendered on first download), so when the files
outgrow the cap the oldest renders go first. Uploads are the client's data and are never
evicted: an upload that cannot fit even with every render gone is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

from nemo_fake.errors import ApiError, Code

MB = 1024 * 1024


class Storage:
    """Disk use under `root` (uploads in `uploads/`, renders in `renders/`), kept under the cap
    that `cap()` gives (read each time, so a changed setting applies at once)."""

    def __init__(self, root: Path, cap: Callable[[], int]) -> None:
        self.root = root
        self._cap = cap
        # Bytes under the root as the last walk found them, plus what the fake wrote since;
        # None until a walk. An upload is checked against it and walks only when it might not
        # fit: walking every file on every upload made uploads slower the more a fake held.
        self._tally: int | None = None

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    @property
    def renders(self) -> Path:
        return self.root / "renders"

    def used(self) -> int:
        """Bytes of every file under the root now (a walk)."""
        self._tally = sum(size for _, size, _ in _files(self.root))
        return self._tally

    def added(self, size: int) -> None:
        """The fake wrote `size` more bytes under the root. Every writer says so (or calls
        `forget`): the tally must never fall short of the files, or uploads could pass the
        cap. Falling over is harmless: a walk corrects it before anything is refused."""
        if self._tally is not None:
            self._tally += size

    def forget(self) -> None:
        """Files changed in ways not counted: the next check walks."""
        self._tally = None

    def room_if_clear(self, wanted: int) -> int | None:
        """The room left, when the tally shows `wanted` bytes fit without a walk; else None
        (then `room_for_upload` decides, off the event loop: it may walk the folder)."""
        if self._tally is None or self._tally + wanted > self._cap():
            return None
        return self._cap() - self._tally

    def room_for_upload(self, wanted: int) -> int:
        """Bytes an upload may still take; renders are evicted (oldest first) to make `wanted`
        bytes of room, as far as they can."""
        room = self.room_if_clear(wanted)
        if room is not None:
            return room
        used = self.used()
        if used + wanted > self._cap():
            used = self.evict_renders(until_free=wanted)
        return max(0, self._cap() - used)

    def refuse_upload(self, room: int) -> ApiError:
        """The error for an upload that outgrew the room left under the cap."""
        return ApiError(
            Code.FILE_TOO_LARGE,
            f"The fake's storage is full: {room // MB} MB left of its "
            f"{self._cap() // MB} MB cap (max_storage_bytes); rendered videos were evicted "
            "first. Reset the fake, or raise the cap.",
        )

    def evict_renders(self, *, until_free: int = 0, keep: Path | None = None) -> int:
        """Delete rendered MP4s, oldest first (never `keep`), until `until_free` bytes are free
        under the cap, or no render is left; the bytes then used."""
        used = self.used()
        renders = sorted(
            (when, size, path)
            for path, size, when in _files(self.renders)
            if path != keep and path.suffix == ".mp4"
        )
        for _, size, path in renders:
            if self._cap() - used >= until_free:
                break
            path.unlink(missing_ok=True)
            used -= size
            self._tally = used
        return used


def _files(root: Path) -> Iterator[tuple[Path, int, float]]:
    """(path, size, modified time) of every file below `root`; none if it does not exist."""
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            try:
                stat = path.stat()
            except OSError:  # removed meanwhile
                continue
            yield path, stat.st_size, stat.st_mtime
