"""The request journal: every request the fake answered, for tests to assert on."""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class JournalEntry:
    """One request the fake answered: what was asked, what came back, and when."""

    method: str
    path: str
    status: int
    code: int | None  # the envelope's `code`, when the answer had one
    operation: str | None
    at: float  # API time the request arrived
    duration_ms: float  # wall time to the response's start
    seq: int = 0  # its place in the journal, from 1: `since` pages on it

    def to_dict(self) -> dict[str, Any]:
        # By hand: asdict's deep copy is most of what a large journal query costs.
        return {
            "method": self.method, "path": self.path, "status": self.status, "code": self.code,
            "operation": self.operation, "at": self.at, "duration_ms": self.duration_ms,
            "seq": self.seq,
        }  # fmt: skip


@dataclass
class Journal:
    entries: list[JournalEntry] = field(default_factory=list)
    limit: int = 10_000  # oldest entries go first past this, so a long serve stays bounded

    recorded: int = 0  # entries ever recorded: the next one's seq is this plus one

    def record(
        self,
        *,
        method: str,
        path: str,
        status: int,
        code: int | None,
        operation: str | None,
        at: float,
        duration_ms: float,
    ) -> None:
        """Add the entry of a request answered, numbered next (made here, once: a hot path)."""
        self.recorded += 1
        self.entries.append(
            JournalEntry(method, path, status, code, operation, at, duration_ms, self.recorded)
        )
        if len(self.entries) > self.limit:
            del self.entries[: len(self.entries) - self.limit]

    def clear(self) -> None:
        self.entries.clear()

    def find(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        operation: str | None = None,
        status: int | None = None,
        code: int | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Entries matching every filter given, oldest first; `path` matches as a prefix.
        `since`: only entries after that seq; `limit`: at most that many (the oldest). A query
        costs the entries it reads from `since` on, not the whole journal."""
        start = bisect.bisect_right(self.entries, since or 0, key=lambda entry: entry.seq)
        found: list[JournalEntry] = []
        for entry in itertools.islice(self.entries, start, None):
            if limit is not None and len(found) >= limit:
                break
            if (
                (method is None or entry.method == method.upper())
                and (path is None or entry.path.startswith(path))
                and (operation is None or entry.operation == operation)
                and (status is None or entry.status == status)
                and (code is None or entry.code == code)
            ):
                found.append(entry)
        return found
