"""Replaying a cassette against a target and comparing by contract, not by bytes: status and
`code`, the JSON structure (keys, types, which fields are absent), the render status
progression, the kinds and order of stream events, the facts of media. Placeholders are bound to
the target's own values as its answers come. Each drift names where it is, and the settings
that would remove it are suggested by trying the recorded answers against each one's document."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import aconnect_sse

from nemo_fake import media
from nemo_fake.config import FakeConfig, with_overrides
from nemo_fake.http.app import create_app
from nemo_fake.http.openapi import build
from nemo_fake.http.routes.contract import package_version
from nemo_fake.profiles import PROFILES
from nemo_fake.record.cassette import API, PLACEHOLDER, Cassette, Event, Exchange
from nemo_fake.record.proxy import event_kind, media_facts
from nemo_fake.testing.contract import Contract, ContractViolation
from nemo_fake.testing.fake import NemoFake

PROGRESSION = {"pending": 0, "processing": 1, "completed": 2, "failed": 2, "cancelled": 2}
# Stream events whose count depends on timing, not on the protocol.
TIMING_EVENTS = {"heartbeat", "empty"}
# Settings tried for a suggestion, each value on its own over the defaults.
SUGGESTIBLE = {
    "poll_shape": ("current", "reference", "early", "minimal"),
    "submit_shape": ("current", "reference"),
    "event_shape": ("adk", "typed"),
}
MEDIA_TOLERANCE_S = 0.5
MAX_POLL_CATCH_UP = 20


@dataclass
class Drift:
    index: int
    call: str
    where: str
    recorded: str
    got: str

    def __str__(self) -> str:
        return (
            f"#{self.index + 1} {self.call}: {self.where}: recorded {self.recorded}, got {self.got}"
        )


@dataclass
class Report:
    exchanges: int
    drifts: list[Drift] = field(default_factory=list)
    # Recorded answers the target's own OpenAPI document does not allow.
    document: list[str] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.drifts

    def lines(self) -> list[str]:
        found = [str(drift) for drift in self.drifts]
        found += [f"document: {problem}" for problem in self.document]
        found += [f"suggestion: {suggestion}" for suggestion in self.suggestions]
        verdict = "clean" if self.clean else f"{len(self.drifts)} drift(s)"
        return [*found, f"verify: {self.exchanges} exchanges, {verdict}"]


async def verify(
    cassette: Cassette, *, target: str | None = None, config: FakeConfig | None = None
) -> Report:
    """Replay against `target` (a base URL), or a fresh in-process fake with `config`."""
    report = Report(len(cassette.exchanges))
    if target is None:
        with NemoFake(config or FakeConfig()) as fake:
            async with fake.http(timeout=60) as http:
                await _replay(cassette, http, report, fake)
    else:
        async with httpx.AsyncClient(base_url=target, timeout=900) as http:
            await _replay(cassette, http, report, None)
    report.document = _answers_fit(cassette, config or FakeConfig())
    if not report.clean:
        report.suggestions = _suggestions(cassette, config or FakeConfig())
    return report


async def _replay(
    cassette: Cassette, http: httpx.AsyncClient, report: Report, fake: NemoFake[Any] | None
) -> None:
    bound: dict[str, str] = {API: str(http.base_url).rstrip("/")}
    for index, recorded in enumerate(cassette.exchanges):
        call = f"{recorded.method} {recorded.path}"
        got = await _send(http, recorded, bound)
        catch_up = 0
        while fake is not None and _behind(recorded, got) and catch_up < MAX_POLL_CATCH_UP:
            fake.advance(30)  # a render the upstream had finished by this poll: let it finish
            got = await _send(http, recorded, bound)
            catch_up += 1
        _bind(recorded.body, got.body, bound)
        report.drifts += [Drift(index, call, *difference) for difference in _compare(recorded, got)]


async def _send(http: httpx.AsyncClient, recorded: Exchange, bound: dict[str, str]) -> Exchange:
    path = _filled(recorded.path, bound)
    headers = {name: _filled(value, bound) for name, value in recorded.request_headers.items()}
    got = Exchange(recorded.method, path, 0.0)
    kwargs: dict[str, Any] = {"headers": headers}
    body = recorded.request_body
    if isinstance(body, dict) and "multipart" in body:
        headers.pop("content-type", None)
        kwargs["files"] = [("files", part) for part in _stand_ins(body["multipart"])]
    elif body is not None:
        kwargs["content"] = json.dumps(_filled_value(body, bound)).encode()
    if recorded.events is not None:
        async with aconnect_sse(http, recorded.method, path, **kwargs) as source:
            got.status = source.response.status_code
            if source.response.headers.get("content-type", "").startswith("text/event-stream"):
                got.events = []
                async for event in source.aiter_sse():
                    data: Any = event.data
                    if data:
                        data = json.loads(data)
                    got.events.append(Event(0.0, event_kind(data), data))
            else:
                got.body = json.loads(await source.response.aread())
        return got
    answer = await http.request(recorded.method, path, **kwargs)
    got.status = answer.status_code
    kind = answer.headers.get("content-type", "").split(";")[0]
    if kind == "application/json":
        got.body = answer.json()
    elif recorded.media is not None:
        got.media = _media_facts(kind, answer.content)
    return got


def _stand_ins(parts: list[dict[str, Any]]) -> Iterator[tuple[str, bytes]]:
    """A real file for each recorded upload part (the cassette keeps no bytes): a sample MP4
    for a video, else as many zero bytes as were sent."""
    for part in parts:
        name = str(part.get("filename", "file.bin"))
        if name.lower().endswith((".mp4", ".mov")):
            with tempfile.TemporaryDirectory() as folder:
                path = Path(folder) / "sample.mp4"
                media.make_sample_video(path, duration_s=2, width=320, height=240)
                yield name, path.read_bytes()
        else:
            yield name, bytes(int(part.get("size", 0)))


def _media_facts(kind: str, content: bytes) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "answer.media"
        path.write_bytes(content)
        return media_facts(path, kind, len(content))


def _behind(recorded: Exchange, got: Exchange) -> bool:
    """A render poll whose recorded answer is further along than the target's."""
    was, now = _render_status(recorded.body), _render_status(got.body)
    return was is not None and now is not None and PROGRESSION[now] < PROGRESSION[was]


def _render_status(body: Any) -> str | None:
    if isinstance(body, dict):
        inner = body.get("data") if isinstance(body.get("data"), dict) else body
        status = inner.get("status") if isinstance(inner, dict) else None
        if isinstance(status, str) and status in PROGRESSION:
            return status
    return None


# -- placeholders ------------------------------------------------------------------------------


def _filled(text: str, bound: dict[str, str]) -> str:
    for placeholder, value in bound.items():
        text = text.replace(placeholder, value)
    return text


def _filled_value(value: Any, bound: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _filled(value, bound)
    if isinstance(value, list):
        return [_filled_value(item, bound) for item in value]
    if isinstance(value, dict):
        return {key: _filled_value(item, bound) for key, item in value.items()}
    return value


def _bind(recorded: Any, got: Any, bound: dict[str, str]) -> None:
    """Learn what each placeholder in a recorded answer is on the target, from the same place
    in its answer (a whole value, or a part of a URL)."""
    if isinstance(recorded, dict) and isinstance(got, dict):
        for key, item in recorded.items():
            if key in got:
                _bind(item, got[key], bound)
    elif isinstance(recorded, list) and isinstance(got, list):
        for item, other in zip(recorded, got, strict=False):
            _bind(item, other, bound)
    elif isinstance(recorded, str) and isinstance(got, str) and "<" in recorded:
        pattern, names = _as_pattern(recorded)
        match = re.fullmatch(pattern, got)
        if match:
            for name, value in zip(names, match.groups(), strict=True):
                bound.setdefault(name, value)


def _as_pattern(recorded: str) -> tuple[str, list[str]]:
    names: list[str] = []
    pieces: list[str] = []
    last = 0
    for match in re.finditer(rf"{PLACEHOLDER.pattern}|{re.escape(API)}", recorded):
        pieces.append(re.escape(recorded[last : match.start()]))
        names.append(match.group(0))
        pieces.append("(.+?)")
        last = match.end()
    pieces.append(re.escape(recorded[last:]))
    return "".join(pieces), names


# -- comparing ---------------------------------------------------------------------------------


def _compare(recorded: Exchange, got: Exchange) -> Iterator[tuple[str, str, str]]:
    if recorded.status != got.status:
        yield "status", str(recorded.status), str(got.status)
    if recorded.body is not None or got.body is not None:
        yield from _structure("body", recorded.body, got.body)
    if recorded.events is not None:
        kinds = [e.kind for e in recorded.events if e.kind not in TIMING_EVENTS]
        now = [e.kind for e in got.events or [] if e.kind not in TIMING_EVENTS]
        if kinds != now:
            yield "events", ", ".join(kinds) or "none", ", ".join(now) or "none"
        # The wire shape of each kind (the dialect): its first event, field by field.
        firsts = {e.kind: e.data for e in reversed(recorded.events)}
        mine = {e.kind: e.data for e in reversed(got.events or [])}
        for kind in firsts.keys() & mine.keys() - {"empty"}:
            yield from _structure(f"events.{kind}", firsts[kind], mine[kind])
        for dialect_kind in ("heartbeat",):
            had = any(e.kind == dialect_kind for e in recorded.events)
            has = any(e.kind == dialect_kind for e in got.events or [])
            if had and not has:
                yield "events", f"{dialect_kind} events", f"no {dialect_kind} event"
    if recorded.media is not None:
        yield from _media(recorded.media, got.media or {})


def _structure(where: str, recorded: Any, got: Any) -> Iterator[tuple[str, str, str]]:
    if _kind(recorded) != _kind(got):
        yield where, _kind(recorded), _kind(got)
        return
    if isinstance(recorded, dict):
        for key in recorded.keys() - got.keys():
            yield f"{where}.{key}", "present", "absent"
        for key in got.keys() - recorded.keys():
            yield f"{where}.{key}", "absent", "present"
        for key in recorded.keys() & got.keys():
            if key == "code" and recorded[key] != got[key]:
                yield f"{where}.code", str(recorded[key]), str(got[key])
            elif key == "status" and recorded[key] in PROGRESSION and got[key] in PROGRESSION:
                if PROGRESSION[got[key]] < PROGRESSION[recorded[key]] or (
                    PROGRESSION[recorded[key]] == 2 and recorded[key] != got[key]
                ):
                    yield f"{where}.status", str(recorded[key]), str(got[key])
            else:
                yield from _structure(f"{where}.{key}", recorded[key], got[key])
    elif isinstance(recorded, list) and recorded and got:
        yield from _structure(f"{where}[0]", recorded[0], got[0])


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _media(recorded: dict[str, Any], got: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    for key in ("content_type", "width", "height"):
        if recorded.get(key) != got.get(key):
            yield f"media.{key}", str(recorded.get(key)), str(got.get(key))
    was, now = recorded.get("duration"), got.get("duration")
    if isinstance(was, int | float) and (
        not isinstance(now, int | float) or abs(was - now) > MEDIA_TOLERANCE_S
    ):
        yield "media.duration", f"{was} s", f"{now} s"


# -- the document, and suggestions ---------------------------------------------------------------

# A value of each kind as the API would give it, for checking a recorded answer's shape.
PLAUSIBLE = {
    "token": "nmv_usr_" + "0" * 32, "claim": "clm_" + "0" * 32, "session": "1" * 19,
    "task": "1" * 19, "user": "anon_" + "0" * 16, "file": "file_0", "secret": "0" * 32,
    "client": "client",
}  # fmt: skip


def _plausible(value: Any) -> Any:
    """A recorded value with each placeholder as a value of its kind."""
    if isinstance(value, str):
        value = value.replace(API, "http://recorded")
        return PLACEHOLDER.sub(lambda m: PLAUSIBLE.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_plausible(item) for item in value]
    if isinstance(value, dict):
        return {key: _plausible(item) for key, item in value.items()}
    return value


def _answers_fit(cassette: Cassette, config: FakeConfig) -> list[str]:
    """The recorded JSON answers that `config`'s document does not allow."""
    app = create_app(config=config)
    try:
        contract = Contract(build(app.routes, config, package_version()))
    finally:
        app.state.backend.close()
    problems = []
    for index, exchange in enumerate(cassette.exchanges):
        if exchange.body is None:
            continue
        request = httpx.Request(exchange.method, "http://recorded" + exchange.path.split("?")[0])
        answer = httpx.Response(
            exchange.status,
            headers=exchange.headers,
            json=_plausible(exchange.body),
            request=request,
        )
        try:
            contract.check(exchange.method, request.url.path, answer, answer.content)
        except ContractViolation as violation:
            problems.append(f"#{index + 1} {violation}")
    return problems


def _suggestions(cassette: Cassette, config: FakeConfig) -> list[str]:
    """What to change on the target to remove the drift: each single setting whose other value
    makes the document allow every recorded answer, and each profile that does."""
    found = []
    for setting, values in SUGGESTIBLE.items():
        for value in values:
            if value != getattr(config, setting) and not _answers_fit(
                cassette, with_overrides(config, {setting: value})
            ):
                found.append(f"--set {setting}={value}")
    dialect = _dialect(cassette)
    if dialect and dialect != config.event_shape:
        found.append(f"--set event_shape={dialect}")
    found += [
        f"--profile {name}"
        for name in PROFILES
        if FakeConfig.for_profile(name) != config
        and not _answers_fit(cassette, FakeConfig.for_profile(name))
    ]
    return list(dict.fromkeys(found))


def _dialect(cassette: Cassette) -> str | None:
    """The event dialect the recorded streams speak: typed events carry a `type` of their own."""
    for exchange in cassette.exchanges:
        for event in exchange.events or []:
            if event.kind in ("text", "tool_call", "tool_result"):
                return "typed" if isinstance(event.data, dict) and "type" in event.data else "adk"
    return None
