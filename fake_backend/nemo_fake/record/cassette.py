"""Cassettes: recorded exchanges with an API, as readable YAML, with no credential in them.

Every value that is a credential or an identity (tokens, claim tokens, client ids, the secret
in an output URL, session/task/user/file ids) becomes a placeholder such as `<token-1>`, the
same one wherever the value appears, so a later request that reuses it still points at the
answer it came from. `nemo-fake verify` binds each placeholder to the target's own value.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from nemo_fake import yamlfile

PLACEHOLDER = re.compile(r"<([a-z]+)-(\d+)>")
# Values to hide, by where they appear: JSON keys (anywhere in a body) and their kind.
SECRET_KEYS = {
    "token": "token",
    "claim_token": "claim",
    "session_id": "session",
    "sessionId": "session",
    "task_id": "task",
    "user_id": "user",
    "file_id": "file",
}
SECRET_HEADERS = {"authorization": "token", "x-client-id": "client"}
# Secrets inside strings: tokens and claim tokens wherever they are, a URL's secret segment.
SECRET_TEXT = [
    (re.compile(r"nmv_usr_[0-9A-Za-z]+"), "token"),
    (re.compile(r"clm_[0-9A-Za-z]+"), "claim"),
    (re.compile(r"(?<=/cdn/renders/)[^/\s\"]+"), "secret"),
]
API = "<api>"
# Shorter values are words like `me`, not identities.
MIN_IDENTITY = 6


@dataclass
class Event:
    """One Server-Sent Event as it passed: when (seconds after the answer began), its kind
    (text, tool_call, tool_result, heartbeat, empty, error) and its data."""

    at: float
    kind: str
    data: Any = None


@dataclass
class Exchange:
    """One request and its answer."""

    method: str
    path: str
    at: float  # seconds after the recording began
    template: str | None = None  # the documented path it matched, e.g. /run_sse
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: Any = None  # JSON as sent; for a multipart upload, the parts' names and sizes
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None  # JSON, or None for a stream or a file
    events: list[Event] | None = None  # a text/event-stream
    media: dict[str, Any] | None = None  # a file: its type and size, never its bytes


@dataclass
class Cassette:
    upstream: str
    exchanges: list[Exchange] = field(default_factory=list)

    def dump(self) -> str:
        return yaml.safe_dump(
            {"upstream": self.upstream, "exchanges": [_plain(asdict(e)) for e in self.exchanges]},
            sort_keys=False,
            allow_unicode=True,
            width=100,
        )

    def save(self, path: Path) -> None:
        """Whole or not at all: a reader (or a stop) never meets a half-written file."""
        part = path.with_name(f".{path.name}.part")
        part.write_text(self.dump(), encoding="utf-8")
        os.replace(part, path)

    @classmethod
    def load(cls, path: Path) -> Cassette:
        data = yamlfile.load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("exchanges"), list):
            raise ValueError(f"{path}: not a cassette (no `exchanges` list)")
        exchanges = []
        for raw in data["exchanges"]:
            events = raw.get("events")
            raw = {**raw, "events": None if events is None else [Event(**e) for e in events]}
            exchanges.append(Exchange(**raw))
        return cls(str(data.get("upstream", "")), exchanges)


class Redactor:
    """Replaces each credential or identity with its placeholder, the same one each time."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self._names: dict[str, str] = {}
        self._counts: dict[str, int] = {}

    def placeholder(self, value: str, kind: str) -> str:
        if value not in self._names:
            self._counts[kind] = self._counts.get(kind, 0) + 1
            self._names[value] = f"<{kind}-{self._counts[kind]}>"
        return self._names[value]

    def learn(self, value: Any) -> None:
        """Note every identity a body holds (by its key), before any text is redacted."""
        for key, item in _walk(value):
            kind = SECRET_KEYS.get(key)
            if kind and isinstance(item, str) and self._identity(item):
                self.placeholder(item, kind)

    def _hide(self, match: re.Match[str], *, kind: str) -> str:
        return self.placeholder(match.group(0), kind)

    @staticmethod
    def _identity(value: str) -> bool:
        """A value worth hiding: not `me` and its like, nor a placeholder already."""
        return len(value) >= MIN_IDENTITY and not PLACEHOLDER.fullmatch(value)

    def headers(self, headers: dict[str, str]) -> dict[str, str]:
        hidden = {}
        for name, value in headers.items():
            kind = SECRET_HEADERS.get(name.lower())
            if kind == "token":
                scheme, _, credential = value.partition(" ")
                value = f"{scheme} {self.placeholder(credential.strip(), kind)}"
            elif kind:
                value = self.placeholder(value, kind)
            hidden[name] = self.text(value)
        return hidden

    def text(self, text: str) -> str:
        text = text.replace(self.upstream, API)
        for pattern, kind in SECRET_TEXT:
            text = pattern.sub(functools.partial(self._hide, kind=kind), text)
        # Whole values only (never inside a longer word), the longest first.
        for value in sorted(self._names, key=len, reverse=True):
            if value in text:
                text = re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", self._names[value], text)
        return text

    def cassette(self, raw: Cassette) -> Cassette:
        """`raw` with every credential and identity replaced, consistently across the file:
        every identity the answers hold is learned first, so it is hidden wherever it is."""
        for exchange in raw.exchanges:
            self.learn(exchange.request_body)
            self.learn(exchange.body)
            for event in exchange.events or []:
                self.learn(event.data)
        return Cassette(raw.upstream, [self._exchange(e) for e in raw.exchanges])

    def _exchange(self, raw: Exchange) -> Exchange:
        """One exchange hidden, with what `cassette` learned (it learns first, then this)."""
        return replace(
            raw,
            path=self.text(raw.path),
            request_headers=self.headers(raw.request_headers),
            request_body=self._hidden(raw.request_body),
            headers={name: self.text(value) for name, value in raw.headers.items()},
            body=self._hidden(raw.body),
            events=None
            if raw.events is None
            else [replace(event, data=self._hidden(event.data)) for event in raw.events],
        )

    def value(self, value: Any) -> Any:
        """A JSON value with every secret and identity replaced."""
        self.learn(value)
        return self._hidden(value)

    def _hidden(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self._hidden(item) for item in value]
        if isinstance(value, dict):
            return {key: self._hidden(item) for key, item in value.items()}
        return value


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    yield key, value
    if isinstance(value, dict):
        for inner, item in value.items():
            yield from _walk(item, inner)
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, key)


def _plain(exchange: dict[str, Any]) -> dict[str, Any]:
    """An entry without its unused parts (no events for a JSON answer, say); bodies as they are."""
    return {key: value for key, value in exchange.items() if value is not None and value != {}}
