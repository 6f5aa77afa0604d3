"""Scenario files: YAML that scripts a workflow and its faults, run by the reference client
against the fake, with expectations checked at every step.

    name: quick-edit
    description: Upload, extract the top 5 viral clips, export.
    seed: 1
    speed: 60                                 # for `serve --scenario`; runs use a virtual clock
    settings: {silent_edit_ratio: 0}          # FakeConfig fields, as `serve --set`
    faults:                                   # fault rules, as POST /_fake/faults
      - {operation: render_poll, on_call: 1, http_status: 502}
    steps:
      - upload: https://example.com/podcast.mp4
        expect: {ok: true, said: ["Uploaded podcast.mp4"]}
      - chat: extract the top 5 viral short clips from this long video
        expect: {said: ["virality score"], state: {generated_media: 5}}
      - export:
        expect: {ok: true, said: ["Video ready!"]}

Actions: upload (a URL or path, or a list), chat (any message, routed as the client routes
it), status, export, credits, advance (API seconds), request (a raw call: method, path,
json, headers, auth, attribution). Expectations: ok, said, said_not, status and code (for
request), state (counts of video_infos, generated_media, tracks; duration_ms), ledger
(available, frozen, total), journal (operation, status, code, count).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import tempfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from nemo_fake.clock import VirtualClock
from nemo_fake.config import FakeConfig, with_overrides
from nemo_fake.domain.backend import NemoBackend
from nemo_fake.domain.faults import FaultRule
from nemo_fake.http.app import create_app
from nemo_fake.http.auth import attribution
from nemo_fake.testing.timer import FakeClockTimer
from nemo_fake.testing.transport import StreamingASGITransport

ACTIONS = ("upload", "chat", "status", "export", "credits", "advance", "request")
EXPECTATIONS = ("ok", "said", "said_not", "status", "code", "state", "ledger", "journal")
TOP_LEVEL = ("name", "description", "seed", "speed", "settings", "faults", "steps")
STATE_COUNTS = ("video_infos", "generated_media", "tracks", "duration_ms")
ATTRIBUTION = attribution("nemo-scenario")


class ScenarioError(ValueError):
    """A scenario file that can't be used: says the file, the line and the field."""

    def __init__(self, path: Path, line: int, where: str, problem: str) -> None:
        super().__init__(f"{path}:{line}: {where}: {problem}")
        self.path, self.line, self.where, self.problem = path, line, where, problem


@dataclass
class Step:
    action: str
    argument: Any
    expect: dict[str, Any]
    line: int
    index: int

    @property
    def title(self) -> str:
        argument = "" if self.argument is None else f" {self.argument}"
        return f"step {self.index + 1} {self.action}{argument}"[:100]


@dataclass
class Scenario:
    path: Path
    name: str
    description: str
    seed: int
    settings: dict[str, Any]
    faults: list[FaultRule]
    steps: list[Step]
    # API seconds per wall second for `serve --scenario`; in-process runs use a virtual clock.
    speed: float | None = None

    def config(self) -> FakeConfig:
        return with_overrides(FakeConfig(), {"seed": self.seed, **self.settings})


@dataclass
class StepResult:
    step: Step
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


# -- loading -----------------------------------------------------------------------------------


def load(path: Path) -> Scenario:
    """Read and check one scenario file; a ScenarioError names the line and field at fault."""
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        lines = _lines(yaml.compose(text))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise ScenarioError(path, mark.line + 1 if mark else 1, "yaml", str(error)) from None

    def fail(where: str, problem: str) -> ScenarioError:
        return ScenarioError(path, lines.get(where, 1), where, problem)

    if not isinstance(data, dict):
        raise fail("", "a scenario is a mapping with name, steps, ...")
    for key in data:
        if key not in TOP_LEVEL:
            raise fail(str(key), f"unknown field; use {', '.join(TOP_LEVEL)}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail("name", "required, a non-empty string")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise fail("seed", "must be an integer")
    speed = data.get("speed")
    if speed is not None and (
        isinstance(speed, bool) or not isinstance(speed, int | float) or speed <= 0
    ):
        raise fail("speed", "must be a number > 0 (API seconds per wall second)")
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        raise fail("settings", "must be a mapping of FakeConfig fields")
    try:
        with_overrides(FakeConfig(), {"seed": seed, **settings})
    except ValueError as error:
        bad = next((k for k in settings if f"'{k}'" in str(error) or str(error).startswith(k)), "")
        raise fail(f"settings.{bad}" if bad else "settings", str(error)) from None
    faults = []
    for i, rule in enumerate(data.get("faults") or []):
        try:
            faults.append(FaultRule(**rule))
        except (TypeError, ValueError) as error:
            raise fail(f"faults[{i}]", str(error)) from None
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise fail("steps", "required, a non-empty list")
    steps = [_step(raw, i, lines, fail) for i, raw in enumerate(raw_steps)]
    return Scenario(
        path, name, str(data.get("description", "")), seed, settings, faults, steps,
        float(speed) if speed is not None else None,
    )  # fmt: skip


def _step(
    raw: Any, index: int, lines: dict[str, int], fail: Callable[[str, str], ScenarioError]
) -> Step:
    where = f"steps[{index}]"
    if not isinstance(raw, dict):
        raise fail(where, f"a step is a mapping: one of {', '.join(ACTIONS)}, and expect")
    actions = [key for key in raw if key != "expect"]
    if len(actions) != 1 or actions[0] not in ACTIONS:
        raise fail(where, f"needs exactly one action of {', '.join(ACTIONS)}; got {actions}")
    action = actions[0]
    argument = raw[action]
    problem = _check_argument(action, argument)
    if problem:
        raise fail(f"{where}.{action}", problem)
    expect = raw.get("expect") or {}
    if not isinstance(expect, dict):
        raise fail(f"{where}.expect", "must be a mapping")
    for key, value in expect.items():
        if key not in EXPECTATIONS:
            raise fail(
                f"{where}.expect.{key}", f"unknown expectation; use {', '.join(EXPECTATIONS)}"
            )
        problem = _check_expectation(key, value)
        if problem:
            raise fail(f"{where}.expect.{key}", problem)
    return Step(action, argument, expect, lines.get(where, 1), index)


def _check_argument(action: str, argument: Any) -> str | None:
    if action == "upload" and not (
        isinstance(argument, str)
        or (isinstance(argument, list) and all(isinstance(a, str) for a in argument))
    ):
        return "a URL or path, or a list of them"
    if action == "chat" and not (isinstance(argument, str) and argument.strip()):
        return "a message"
    if action in ("status", "export", "credits") and argument is not None:
        return "takes no value"
    if action == "advance" and (
        isinstance(argument, bool) or not isinstance(argument, int | float) or argument < 0
    ):
        return "seconds, a number >= 0"
    if action == "request":
        if not isinstance(argument, dict) or not isinstance(argument.get("path"), str):
            return "a mapping with at least path (and method, json, headers, auth, attribution)"
        unknown = set(argument) - {"method", "path", "json", "headers", "auth", "attribution"}
        if unknown:
            return f"unknown key(s) {', '.join(sorted(unknown))}"
    return None


def _check_expectation(key: str, value: Any) -> str | None:
    if key == "ok" and not isinstance(value, bool):
        return "true or false"
    if key in ("said", "said_not") and not (
        isinstance(value, list) and all(isinstance(v, str) for v in value)
    ):
        return "a list of strings"
    if key in ("status", "code") and (isinstance(value, bool) or not isinstance(value, int)):
        return "an integer"
    if key == "state" and not (isinstance(value, dict) and set(value) <= set(STATE_COUNTS)):
        return f"a mapping of {', '.join(STATE_COUNTS)} to numbers"
    if key == "ledger" and not (
        isinstance(value, dict) and set(value) <= {"available", "frozen", "total"}
    ):
        return "a mapping of available, frozen, total"
    if key == "journal" and not (
        isinstance(value, dict) and set(value) <= {"operation", "status", "code", "count"}
    ):
        return "a mapping of operation, status, code, count"
    return None


def _lines(node: yaml.Node | None, where: str = "") -> dict[str, int]:
    """Line numbers of every mapping key and list item, by dotted path."""
    found: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = f"{where}.{key.value}" if where else str(key.value)
            found[path] = key.start_mark.line + 1
            found.update(_lines(value, path))
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            path = f"{where}[{i}]"
            found[path] = item.start_mark.line + 1
            found.update(_lines(item, path))
    return found


def discover(target: Path) -> list[Path]:
    if target.is_dir():
        return sorted(p for p in target.iterdir() if p.suffix in (".yaml", ".yml"))
    return [target]


# -- running -----------------------------------------------------------------------------------


class _Fake:
    """The fake a scenario runs against: in-process, or a served one through `/_fake/`."""

    def __init__(self, scenario: Scenario, target: str | None) -> None:
        self.scenario = scenario
        self.target = target
        self.backend: NemoBackend | None = None

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[httpx.AsyncClient]:
        if self.target is None:
            self.backend = NemoBackend(self.scenario.config(), clock=VirtualClock())
            for rule in self.scenario.faults:
                self.backend.faults.add(FaultRule(**{**rule.to_dict(), "fired": 0, "id": ""}))
            transport = StreamingASGITransport(create_app(self.backend))
            async with httpx.AsyncClient(transport=transport, base_url="http://nemo.test") as http:
                yield http
            self.backend.close()
            return
        async with httpx.AsyncClient(base_url=self.target, timeout=60) as http:
            await _control(http, "POST", "/_fake/reset")
            for rule in self.scenario.faults:
                body = {k: v for k, v in rule.to_dict().items() if k not in ("id", "fired")}
                await _control(http, "POST", "/_fake/faults", json=body)
            yield http

    async def advance(self, http: httpx.AsyncClient, seconds: float) -> None:
        if self.backend is not None:
            self.backend.clock.advance(seconds)
        else:
            await _control(http, "POST", "/_fake/clock/advance", json={"seconds": seconds})

    async def journal(self, http: httpx.AsyncClient, **filters: Any) -> int:
        if self.backend is not None:
            return len(self.backend.journal.find(**filters))
        data = await _control(http, "GET", "/_fake/journal", params=filters)
        return len(data["entries"])


class _RemoteTimer:
    """The client's timer on a served fake's clock, moved through the control API."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.current = 0.0

    def now(self) -> float:
        return self.current

    def wall(self) -> float:
        return self.current

    async def sleep(self, seconds: float) -> None:
        self.current += seconds
        await _control(self.http, "POST", "/_fake/clock/advance", json={"seconds": seconds})


async def _control(http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Any:
    response = await http.request(method, path, **kwargs)
    if response.status_code != 200:
        raise RuntimeError(
            f"{method} {path} answered {response.status_code}: {response.text[:200]}"
        )
    return response.json()["data"]


async def run(
    scenario: Scenario,
    *,
    target: str | None = None,
    on_step: Callable[[StepResult], None] | None = None,
) -> list[StepResult]:
    """Play a scenario with the reference client; one result per step."""
    from nemo_client import Assistant, ClientConfig, NemoApi  # the fake itself never needs it

    fake = _Fake(scenario, target)
    results: list[StepResult] = []
    with tempfile.TemporaryDirectory(prefix="nemo-scenario-") as folder:
        async with fake.open() as http:
            said: list[str] = []
            config = ClientConfig(
                api_url=str(http.base_url).rstrip("/"),
                client_id=f"scenario-{scenario.name}",
                config_dir=Path(folder),
            )
            timer = FakeClockTimer(fake.backend.clock) if fake.backend else _RemoteTimer(http)
            assistant = Assistant(
                NemoApi(config, http=http), say=said.append, timer=timer, downloads=Path(folder)
            )
            for step in scenario.steps:
                said.clear()
                result = StepResult(step)
                try:
                    await _play(step, assistant, fake, http, said, result)
                except Exception as error:  # a step that crashes fails, the run goes on
                    result.failures.append(f"raised {type(error).__name__}: {error}")
                results.append(result)
                if on_step:
                    on_step(result)
    return results


async def _play(
    step: Step,
    assistant: Any,
    fake: _Fake,
    http: httpx.AsyncClient,
    said: list[str],
    result: StepResult,
) -> None:
    expect = step.expect
    ok: bool | None = None
    response: httpx.Response | None = None
    if step.action == "upload":
        items = [step.argument] if isinstance(step.argument, str) else list(step.argument)
        ok = await assistant.handle("upload", files=items)
    elif step.action == "chat":
        ok = await assistant.handle(step.argument)
    elif step.action in ("status", "export", "credits"):
        ok = await assistant.handle(step.action)
    elif step.action == "advance":
        await fake.advance(http, float(step.argument))
    else:
        response = await _raw(step.argument, assistant, http)
    check = result.failures.append
    if "ok" in expect and ok != expect["ok"]:
        check(f"ok was {ok}, expected {expect['ok']}; said {said}")
    for text in expect.get("said", []):
        if not any(text in line for line in said):
            check(f"nothing said contains {text!r}; said {said}")
    for text in expect.get("said_not", []):
        if any(text in line for line in said):
            check(f"something said contains {text!r}; said {said}")
    for key in ("status", "code"):
        if key in expect:
            if response is None:
                check(f"{key} is checked on request steps only")
                continue
            actual = response.status_code if key == "status" else _code(response)
            if actual != expect[key]:
                check(f"{key} was {actual}, expected {expect[key]}")
    if "state" in expect:
        state = await assistant.api.state(assistant.project.session_id)
        counts = {
            "video_infos": len(state.video_infos),
            "generated_media": len(state.generated_media),
            "tracks": len(state.draft.get("t", [])),
            "duration_ms": state.draft.get("d"),
        }
        for key, wanted in expect["state"].items():
            if counts[key] != wanted:
                check(f"state {key} was {counts[key]}, expected {wanted}")
    if "ledger" in expect:
        balance = await assistant.api.balance()
        for key, wanted in expect["ledger"].items():
            if getattr(balance, key) != wanted:
                check(f"ledger {key} was {getattr(balance, key)}, expected {wanted}")
    if "journal" in expect:
        filters = {k: v for k, v in expect["journal"].items() if k != "count"}
        count = await fake.journal(http, **filters)
        wanted = expect["journal"].get("count")
        if (wanted is None and count == 0) or (wanted is not None and count != wanted):
            check(f"journal has {count} matching {filters}, expected {wanted or 'some'}")


async def _raw(spec: dict[str, Any], assistant: Any, http: httpx.AsyncClient) -> httpx.Response:
    headers = dict(spec.get("headers") or {})
    if spec.get("attribution", True):
        headers = {**ATTRIBUTION, **headers}
    await assistant.connect()
    if spec.get("auth", True):
        headers.setdefault("Authorization", f"Bearer {assistant.project.token}")
    session_id = str(assistant.project.session_id)
    return await http.request(
        str(spec.get("method", "GET")).upper(),
        _fill(spec["path"], session_id),
        headers=headers,
        json=_fill(spec.get("json"), session_id),
    )


def _fill(value: Any, session_id: str) -> Any:
    """`{session_id}` anywhere in a raw request stands for the scenario's session."""
    if isinstance(value, str):
        return value.replace("{session_id}", session_id)
    if isinstance(value, list):
        return [_fill(item, session_id) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, session_id) for key, item in value.items()}
    return value


def _code(response: httpx.Response) -> int | None:
    try:
        code = response.json().get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, int) else None


def run_sync(scenario: Scenario, **kwargs: Any) -> list[StepResult]:
    return asyncio.run(run(scenario, **kwargs))


def describe(result: StepResult) -> str:
    mark = "✓" if result.passed else "✗"
    lines = [f"  {mark} {result.step.title}"]
    lines += ["      " + re.sub(r"\s+", " ", failure)[:400] for failure in result.failures]
    return "\n".join(lines)
