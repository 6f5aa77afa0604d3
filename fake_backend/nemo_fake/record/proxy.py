"""The recording proxy: forwards every request to the upstream and hands its answer back as it
comes (streams event by event, files in chunks, nothing held whole), noting each exchange in a
cassette on the way."""

from __future__ import annotations

import contextlib
import functools
import json
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from httpx_sse._decoders import SSEDecoder, SSELineDecoder  # the parser httpx-sse itself uses
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from nemo_fake import media
from nemo_fake.config import FakeConfig
from nemo_fake.http.app import create_app
from nemo_fake.record.cassette import Cassette, Event, Exchange, Redactor
from nemo_fake.testing.contract import Contract, contract_of

MAX_RECORDED_JSON = 16 * 1024 * 1024
HOP_BY_HOP = {"host", "connection", "keep-alive", "transfer-encoding", "te", "upgrade",
              "proxy-connection", "content-length"}  # fmt: skip
KEPT_REQUEST_HEADERS = ("authorization", "x-client-id", "x-skill-source", "x-skill-version",
                        "x-skill-platform", "content-type", "accept")  # fmt: skip
KEPT_RESPONSE_HEADERS = ("content-type", "retry-after", "allow")
MEDIA = ("video/", "audio/", "image/")


@dataclass
class Recorder:
    """The cassette being written: saved after every exchange, so nothing is lost on a stop.

    Exchanges are kept as they were, and the whole cassette is redacted at each save: a client
    may use a session id before the answer that gave it has been noted, and the file must still
    never hold it."""

    raw: Cassette
    out: Path
    redactor: Redactor
    started: float = field(default_factory=time.monotonic)

    def now(self) -> float:
        return round(time.monotonic() - self.started, 3)

    def add(self, exchange: Exchange) -> None:
        operation = _documented().operation(exchange.method, exchange.path.split("?")[0])
        exchange.template = operation.template if operation is not None else None
        self.raw.exchanges.append(exchange)
        self.redactor.cassette(self.raw).save(self.out)


@functools.cache
def _documented() -> Contract:
    """The fake's document with every path it knows (the earliest render paths too)."""
    config = FakeConfig(legacy_render_paths=True)
    app = create_app(config=config)
    try:
        return contract_of(app, config)
    finally:
        app.state.backend.close()


def recording_proxy(upstream: str, out: Path, *, timeout: float = 900.0) -> Starlette:
    """A Starlette app forwarding to `upstream`, recording into the cassette `out`."""
    upstream = upstream.rstrip("/")
    recorder = Recorder(Cassette(upstream), out, Redactor(upstream))
    recorder.raw.save(out)
    client = httpx.AsyncClient(base_url=upstream, timeout=httpx.Timeout(timeout, connect=30))

    async def forward(request: Request) -> Response:
        at = recorder.now()
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        exchange = Exchange(
            method=request.method,
            path=path,
            at=at,
            request_headers={
                k: v for k, v in request.headers.items() if k.lower() in KEPT_REQUEST_HEADERS
            },
        )
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type == "application/json":
            raw = await request.body()
            content: bytes | AsyncIterator[bytes] = raw
            exchange.request_body = _json(raw)
        elif media_type == "multipart/form-data":
            parts: list[dict[str, Any]] = []
            content = _parts(request.stream(), request.headers["content-type"], parts)
            exchange.request_body = {"multipart": parts}
        else:
            content = request.stream()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        answer = await client.send(
            client.build_request(request.method, path, headers=headers, content=content),
            stream=True,
        )
        exchange.status = answer.status_code
        exchange.headers = {k: v for k, v in answer.headers.items() if k in KEPT_RESPONSE_HEADERS}
        kind = answer.headers.get("content-type", "").split(";")[0].strip().lower()
        note = _note_for(kind, exchange, recorder)
        back = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
        if "content-length" in answer.headers:
            back["content-length"] = answer.headers["content-length"]

        async def relay() -> AsyncIterator[bytes]:
            async for chunk in answer.aiter_raw():
                note.feed(chunk)
                yield chunk

        async def done() -> None:
            await answer.aclose()
            note.finish()
            recorder.add(exchange)

        return StreamingResponse(
            relay(), status_code=answer.status_code, headers=back, background=BackgroundTask(done)
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    app = Starlette(
        routes=[Route("/{path:path}", forward, methods=list(METHODS))], lifespan=lifespan
    )
    app.state.recorder = recorder
    return app


METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw.strip() else None
    except ValueError:
        return {"unparsed": len(raw)}


async def _parts(
    stream: AsyncIterator[bytes], content_type: str, parts: list[dict[str, Any]]
) -> AsyncIterator[bytes]:
    """The upload as it comes, with each part's name, file name and size noted on the way."""
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary", b"")
    headers: dict[str, bytes] = {}
    name = b""

    def begin() -> None:
        headers.clear()
        parts.append({"size": 0})

    def header_field(data: bytes, start: int, end: int) -> None:
        nonlocal name
        name = data[start:end].lower()

    def header_value(data: bytes, start: int, end: int) -> None:
        headers[name.decode("latin-1")] = headers.get(name.decode("latin-1"), b"") + data[start:end]

    def headers_done() -> None:
        _, disposition = parse_options_header(headers.get("content-disposition", b""))
        for key in (b"name", b"filename"):
            if key in disposition:
                parts[-1][key.decode()] = disposition[key].decode("utf-8", "replace")

    def data(chunk: bytes, start: int, end: int) -> None:
        parts[-1]["size"] += end - start

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": begin,
            "on_header_field": header_field,
            "on_header_value": header_value,
            "on_headers_finished": headers_done,
            "on_part_data": data,
        },
    )
    async for chunk in stream:
        parser.write(chunk)
        yield chunk


class _Note:
    """What an answer's body leaves in the cassette, taken from the chunks as they pass."""

    def feed(self, chunk: bytes) -> None: ...

    def finish(self) -> None: ...


class _JsonNote(_Note):
    def __init__(self, exchange: Exchange) -> None:
        self.exchange, self.raw = exchange, bytearray()

    def feed(self, chunk: bytes) -> None:
        if len(self.raw) < MAX_RECORDED_JSON:
            self.raw += chunk

    def finish(self) -> None:
        self.exchange.body = _json(bytes(self.raw))


class _StreamNote(_Note):
    def __init__(self, exchange: Exchange, now: Callable[[], float]) -> None:
        self.exchange, self.now = exchange, now
        self.began = now()
        self.lines, self.events = SSELineDecoder(), SSEDecoder()
        exchange.events = []

    def feed(self, chunk: bytes) -> None:
        for line in self.lines.decode(chunk.decode("utf-8", "replace")):
            event = self.events.decode(line)
            if event is not None:
                data = _json(event.data.encode()) if event.data else ""
                assert self.exchange.events is not None
                at = round(self.now() - self.began, 3)
                self.exchange.events.append(Event(at, event_kind(data), data))


class _MediaNote(_Note):
    def __init__(self, exchange: Exchange, kind: str) -> None:
        self.exchange, self.kind, self.size = exchange, kind, 0
        self.file = tempfile.NamedTemporaryFile(suffix=".media", delete=False)  # noqa: SIM115

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self.file.write(chunk)

    def finish(self) -> None:
        self.file.close()
        path = Path(self.file.name)
        try:
            self.exchange.media = media_facts(path, self.kind, self.size)
        finally:
            path.unlink(missing_ok=True)


def media_facts(path: Path, content_type: str, size: int) -> dict[str, Any]:
    """What a cassette keeps of a file, and what verify compares: its type and size, and the
    duration and dimensions the prober reads (`probed: false` where it cannot)."""
    facts: dict[str, Any] = {"content_type": content_type, "size": size}
    try:
        info = media.probe(path, content_type.split("/")[0])
        facts.update(duration=round(info.duration, 3), width=info.width, height=info.height)
    except Exception:  # a file the prober cannot read is still a fact to keep
        facts["probed"] = False
    return facts


def _note_for(kind: str, exchange: Exchange, recorder: Recorder) -> _Note:
    if kind == "application/json":
        return _JsonNote(exchange)
    if kind == "text/event-stream":
        return _StreamNote(exchange, recorder.now)
    if kind.startswith(MEDIA):
        return _MediaNote(exchange, kind)
    return _Note()


def event_kind(data: Any) -> str:
    """An SSE event's kind, in either dialect: text, tool_call, tool_result, heartbeat, empty,
    error."""
    if data == "":
        return "empty"
    if not isinstance(data, dict):
        return "other"
    if "error" in data:
        return "error"
    if isinstance(data.get("type"), str):
        return str(data["type"])
    parts = (data.get("content") or {}).get("parts") or [{}]
    first = parts[0] if isinstance(parts[0], dict) else {}
    if "functionCall" in first:
        return "tool_call"
    if "functionResponse" in first:
        return "tool_result"
    return "text" if "text" in first else "other"
