"""The request journal: every request the fake answered, for tests to assert on."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from typing import Any, Final


@dataclass(frozen=True)
class JournalEntry:
    """One request the fake answered: what was asked, what came back, and when."""

    method: str
    path: str
    status: int
    code: int | None  # the envelope's `code`, when the answer had one
    operation: str | None
    at: float  # API time the request arrived
    duration_ms: float  # wall time to the response's start, to the microsecond
    seq: int = 0  # its place in the journal, from 1: `since` pages on it

    def to_dict(self) -> dict[str, Any]:
        # By hand: asdict's deep copy is most of what a large journal query costs.
        return {
            "method": self.method, "path": self.path, "status": self.status, "code": self.code,
            "operation": self.operation, "at": self.at, "duration_ms": self.duration_ms,
            "seq": self.seq,
        }  # fmt: skip


# An entry as the journal keeps it: JournalEntry's fields in order. A request pays for a tuple
# (a frozen dataclass costs four times as much to make), a query for the entries it returns.
Row = tuple[str, str, int, "int | None", "str | None", float, float, int]
SEQ: Final = 7  # a Row's place of `seq`


def _entry(row: Row) -> JournalEntry:
    method, path, status, code, operation, at, duration_ms, seq = row
    return JournalEntry(method, path, status, code, operation, at, round(duration_ms, 3), seq)


@dataclass
class Journal:
    limit: int = 10_000  # entries kept: past this the oldest go, so a long serve stays bounded
    recorded: int = 0  # entries ever recorded: the next one's seq is this plus one
    # Up to twice `limit`, the oldest dropped in one batch: dropping one per request once the
    # journal was full moved the whole list each time (a fifth of a served request's cost).
    _rows: list[Row] = field(default_factory=list)

    @property
    def entries(self) -> list[JournalEntry]:
        """Every entry kept, oldest first."""
        return [_entry(row) for row in self._rows[self._first() :]]

    def record(
        self,
        method: str,
        path: str,
        status: int,
        code: int | None,
        operation: str | None,
        at: float,
        duration_ms: float,
    ) -> None:
        """Add the entry of a request answered, numbered next. `duration_ms` is rounded when
        the entry is read, not on every request."""
        self.recorded += 1
        rows = self._rows
        rows.append((method, path, status, code, operation, at, duration_ms, self.recorded))
        if len(rows) > 2 * self.limit:
            del rows[: len(rows) - self.limit]

    def clear(self) -> None:
        self._rows.clear()

    def _first(self) -> int:
        """Where the kept entries start in `_rows`."""
        return max(0, len(self._rows) - self.limit)

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
        rows = self._rows
        start = max(self._first(), bisect.bisect_right(rows, since or 0, key=lambda row: row[SEQ]))
        method = method.upper() if method is not None else None
        found: list[JournalEntry] = []
        # By index from `start`: islice would step over every row before it.
        for index in range(start, len(rows)):
            row = rows[index]
            if limit is not None and len(found) >= limit:
                break
            row_method, row_path, row_status, row_code, row_operation = row[:5]
            if (
                (method is None or row_method == method)
                and (path is None or row_path.startswith(path))
                and (operation is None or row_operation == operation)
                and (status is None or row_status == status)
                and (code is None or row_code == code)
            ):
                found.append(_entry(row))
        return found
