"""The request journal: every request the fake answered, for tests to assert on."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Journal:
    entries: list[JournalEntry] = field(default_factory=list)
    limit: int = 10_000  # oldest entries go first past this, so a long serve stays bounded

    def record(self, entry: JournalEntry) -> None:
        self.entries.append(entry)
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
    ) -> list[JournalEntry]:
        """Entries matching every filter given; `path` matches as a prefix."""
        return [
            entry
            for entry in self.entries
            if (method is None or entry.method == method.upper())
            and (path is None or entry.path.startswith(path))
            and (operation is None or entry.operation == operation)
            and (status is None or entry.status == status)
            and (code is None or entry.code == code)
        ]
