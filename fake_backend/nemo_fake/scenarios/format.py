"""The scenario file format: YAML read into typed steps and expectations, every problem reported
as `path:line: field: problem`.

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
it), status, export, credits, advance (API seconds), request (a raw call: method, path, json,
headers, auth, attribution). Expectations: ok, said, said_not, status and code (for request),
state (counts of video_infos, generated_media, tracks; duration_ms), ledger (available,
frozen, total), journal (operation, status, code, count).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal, TypeGuard, get_args

import yaml

from nemo_fake import yamlfile
from nemo_fake.clock import MAX_SPEED
from nemo_fake.config import FakeConfig, with_overrides
from nemo_fake.domain.faults import FaultRule
from nemo_fake.profiles import Reliance, check_reliance, incompatibility

Action = Literal["upload", "chat", "status", "export", "credits", "advance", "request"]
SimpleAction = Literal["status", "export", "credits"]

ACTIONS: tuple[str, ...] = get_args(Action)
EXPECTATIONS = ("ok", "said", "said_not", "status", "code", "state", "ledger", "journal")
TOP_LEVEL = (
    "name", "description", "seed", "speed", "settings", "faults", "incompatible", "steps"
)  # fmt: skip
STATE_COUNTS = ("video_infos", "generated_media", "tracks", "duration_ms")
LEDGER_FIELDS = ("available", "frozen", "total")
JOURNAL_FIELDS = ("operation", "status", "code", "count")
REQUEST_FIELDS = ("method", "path", "json", "headers", "auth", "attribution")


class ScenarioError(ValueError):
    """A scenario file that can't be used: says the file, the line and the field."""

    def __init__(self, path: Path, line: int, where: str, problem: str) -> None:
        super().__init__(f"{path}:{line}: {where}: {problem}")
        self.path, self.line, self.where, self.problem = path, line, where, problem


# -- steps ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """Upload files (paths) or links (URLs), as the client's `upload` does."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Chat:
    """Say a message; the client routes it (export, credits, status, upload, or the agent)."""

    message: str


@dataclass(frozen=True)
class Simple:
    """One of the client's own commands: status, export or credits."""

    action: SimpleAction


@dataclass(frozen=True)
class Advance:
    """Move the fake's clock on, in API seconds."""

    seconds: float


@dataclass(frozen=True)
class RawRequest:
    """A call the client would never make, to reach an error row directly. `{session_id}` in
    the path or body stands for the scenario's session."""

    path: str
    method: str = "GET"
    json: object = None
    headers: Mapping[str, str] = field(default_factory=dict)
    auth: bool = True
    attribution: bool = True


StepAction = Upload | Chat | Simple | Advance | RawRequest


@dataclass(frozen=True)
class JournalCheck:
    """How many journal entries match the filters; `count` None means at least one."""

    operation: str | None = None
    status: int | None = None
    code: int | None = None
    count: int | None = None

    def filters(self) -> dict[str, str | int]:
        found = {"operation": self.operation, "status": self.status, "code": self.code}
        return {key: value for key, value in found.items() if value is not None}


@dataclass(frozen=True)
class Expectations:
    """What must hold after a step; fields left None (or empty) are not checked."""

    ok: bool | None = None
    said: tuple[str, ...] = ()
    said_not: tuple[str, ...] = ()
    status: int | None = None
    code: int | None = None
    state: Mapping[str, int] = field(default_factory=dict)  # keys from STATE_COUNTS
    ledger: Mapping[str, int] = field(default_factory=dict)  # keys from LEDGER_FIELDS
    journal: JournalCheck | None = None


@dataclass(frozen=True)
class Step:
    """One action of a scenario, what must hold after it, and where it stands in the file."""

    action: StepAction
    expect: Expectations
    line: int
    index: int

    @property
    def name(self) -> str:
        action = self.action
        if isinstance(action, Upload):
            return "upload " + ", ".join(action.items)
        if isinstance(action, Chat):
            return f"chat {action.message}"
        if isinstance(action, Simple):
            return action.action
        if isinstance(action, Advance):
            return f"advance {action.seconds:g}"
        return f"request {action.method} {action.path}"

    @property
    def title(self) -> str:
        return f"step {self.index + 1} {self.name}"[:100]


@dataclass(frozen=True)
class Scenario:
    """A whole scenario file: the fake's seed, settings and fault rules, and the steps."""

    path: Path
    name: str
    description: str
    seed: int
    settings: Mapping[str, object]
    faults: tuple[FaultRule, ...]
    steps: tuple[Step, ...]
    # API seconds per wall second for `serve --scenario`; in-process runs use a virtual clock.
    speed: float | None = None
    # The settings it follows the current doc on (as the pytest marker nemo_incompatible):
    # under an era that changes one, the scenario is expected to fail.
    incompatible: Reliance = field(default_factory=dict)

    def in_era(self, era: str) -> Scenario:
        """The scenario under the protocol era `era`; its own settings still win."""
        return replace(self, settings={"profile": era, **self.settings})

    def expected_failure(self, era: str) -> str | None:
        """The fact of `era` that breaks this scenario, if it relies on one (`incompatible`)."""
        return incompatibility(era, self.incompatible, self.config())

    def overrides(self) -> dict[str, object]:
        """The settings the fake runs with, as `serve --set` and `PATCH /_fake/config` take."""
        return {"seed": self.seed, **self.settings}

    def config(self) -> FakeConfig:
        return with_overrides(FakeConfig(), self.overrides())

    def fault_rules(self) -> list[FaultRule]:
        """Fresh copies of the fault rules, unfired, to add to a fake."""
        return [replace(rule, id="", fired=0, seen=0) for rule in self.faults]


# -- loading -------------------------------------------------------------------------------------

Fail = Callable[[str, str], ScenarioError]


def load(path: Path) -> Scenario:
    """Read and check one scenario file; a ScenarioError names the line and field at fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ScenarioError(path, 1, "file", f"cannot be read: {error}") from None
    try:
        data, node = yamlfile.parse(text)
        lines = _lines(node)
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
    if not _is_int(seed):
        raise fail("seed", "must be an integer")
    speed = data.get("speed")
    if speed is not None and not (_is_number(speed) and 0 < speed <= MAX_SPEED):
        raise fail("speed", f"must be a number > 0 and <= {MAX_SPEED:g} (API s per wall s)")
    settings = _settings(data.get("settings"), seed, fail)
    faults = _faults(data.get("faults"), fail)
    incompatible = _incompatible(data.get("incompatible"), fail)
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise fail("steps", "required, a non-empty list")
    steps = tuple(_step(raw, i, lines, fail) for i, raw in enumerate(raw_steps))
    description = data.get("description")
    return Scenario(
        path=path,
        name=name,
        description="" if description is None else str(description),
        seed=seed,
        settings=settings,
        faults=faults,
        steps=steps,
        speed=float(speed) if speed is not None else None,
        incompatible=incompatible,
    )


def discover(target: Path) -> list[Path]:
    """The scenario files a path names: itself, or every *.yaml / *.yml in a folder."""
    if target.is_dir():
        return sorted(p for p in target.iterdir() if p.suffix in (".yaml", ".yml"))
    return [target]


def _settings(raw: object, seed: int, fail: Fail) -> dict[str, object]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(key, str) for key in raw):
        raise fail("settings", "must be a mapping of FakeConfig fields")
    settings: dict[str, object] = dict(raw)
    try:
        with_overrides(FakeConfig(), {"seed": seed, **settings})
    except ValueError as error:
        bad = next((k for k in settings if f"'{k}'" in str(error) or str(error).startswith(k)), "")
        raise fail(f"settings.{bad}" if bad else "settings", str(error)) from None
    return settings


def _incompatible(raw: object, fail: Fail) -> Reliance:
    """A list of settings (any other value breaks the scenario), or a mapping of each to the
    values that break it."""
    if raw is None:
        return {}
    relies_on: dict[str, tuple[object, ...] | None]
    if isinstance(raw, list) and all(isinstance(name, str) for name in raw):
        relies_on = dict.fromkeys(raw)
    elif isinstance(raw, dict) and all(
        isinstance(name, str) and (values is None or isinstance(values, list))
        for name, values in raw.items()
    ):
        # YAML lists are tuples in FakeConfig (anonymous_scopes): compare like with like.
        relies_on = {
            name: None if values is None else tuple(_tupled(v) for v in values)
            for name, values in raw.items()
        }
    else:
        raise fail(
            "incompatible",
            "a list of settings, or a mapping of each setting to the values that break it",
        )
    try:
        check_reliance(relies_on)
    except ValueError as error:
        raise fail("incompatible", str(error)) from None
    return relies_on


def _tupled(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value


def _faults(raw: object, fail: Fail) -> tuple[FaultRule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise fail("faults", "must be a list of fault rules")
    rules = []
    for i, rule in enumerate(raw):
        if not isinstance(rule, dict):
            raise fail(f"faults[{i}]", "a fault rule is a mapping, as POST /_fake/faults takes")
        try:
            rules.append(FaultRule(**rule))
        except (TypeError, ValueError) as error:
            raise fail(f"faults[{i}]", str(error)) from None
    return tuple(rules)


def _step(raw: object, index: int, lines: dict[str, int], fail: Fail) -> Step:
    where = f"steps[{index}]"
    if not isinstance(raw, dict):
        raise fail(where, f"a step is a mapping: one of {', '.join(ACTIONS)}, and expect")
    actions = [key for key in raw if key != "expect"]
    if len(actions) != 1 or actions[0] not in ACTIONS:
        raise fail(where, f"needs exactly one action of {', '.join(ACTIONS)}; got {actions}")
    name = actions[0]
    action = _action(name, raw[name])
    if isinstance(action, str):
        raise fail(f"{where}.{name}", action)
    return Step(action, _expectations(raw.get("expect"), where, fail), lines.get(where, 1), index)


def _action(name: str, argument: object) -> StepAction | str:
    """The step's action, or what is wrong with its argument."""
    if name == "upload":
        if isinstance(argument, str):
            return Upload((argument,))
        if isinstance(argument, list) and argument and all(isinstance(a, str) for a in argument):
            return Upload(tuple(argument))
        return "a URL or path, or a list of them"
    if name == "chat":
        if isinstance(argument, str) and argument.strip():
            return Chat(argument)
        return "a message"
    if name == "advance":
        if _is_number(argument) and argument >= 0:
            return Advance(float(argument))
        return "seconds, a number >= 0"
    if name == "request":
        return _raw_request(argument)
    if argument is not None:
        return "takes no value"
    if name == "status":
        return Simple("status")
    if name == "export":
        return Simple("export")
    return Simple("credits")


def _raw_request(argument: object) -> RawRequest | str:
    if not isinstance(argument, dict) or not isinstance(argument.get("path"), str):
        return "a mapping with at least path (and method, json, headers, auth, attribution)"
    unknown = set(argument) - set(REQUEST_FIELDS)
    if unknown:
        return f"unknown key(s) {', '.join(sorted(map(str, unknown)))}"
    method = argument.get("method", "GET")
    headers = argument.get("headers") or {}
    if not isinstance(method, str) or not method.strip():
        return "method must be an HTTP method name"
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        return "headers must map names to strings"
    flags = {key: argument.get(key, True) for key in ("auth", "attribution")}
    if not all(isinstance(value, bool) for value in flags.values()):
        return "auth and attribution are true or false"
    return RawRequest(
        path=argument["path"],
        method=method.strip().upper(),
        json=argument.get("json"),
        headers=dict(headers),
        auth=flags["auth"] is True,
        attribution=flags["attribution"] is True,
    )


def _expectations(raw: object, where: str, fail: Fail) -> Expectations:
    if raw is None:
        return Expectations()
    if not isinstance(raw, dict):
        raise fail(f"{where}.expect", "must be a mapping")
    for key in raw:
        if key not in EXPECTATIONS:
            raise fail(
                f"{where}.expect.{key}", f"unknown expectation; use {', '.join(EXPECTATIONS)}"
            )

    def bad(key: str, problem: str) -> ScenarioError:
        return fail(f"{where}.expect.{key}", problem)

    ok = raw.get("ok")
    if ok is not None and not isinstance(ok, bool):
        raise bad("ok", "true or false")
    said = {key: _strings(raw.get(key)) for key in ("said", "said_not")}
    for key, texts in said.items():
        if texts is None:
            raise bad(key, "a list of strings")
    numbers = {key: raw.get(key) for key in ("status", "code")}
    for key, number in numbers.items():
        if number is not None and not _is_int(number):
            raise bad(key, "an integer")
    state = _counts(raw.get("state"), STATE_COUNTS)
    if state is None:
        raise bad("state", f"a mapping of {', '.join(STATE_COUNTS)} to numbers")
    ledger = _counts(raw.get("ledger"), LEDGER_FIELDS)
    if ledger is None:
        raise bad("ledger", "a mapping of available, frozen, total")
    journal = _journal(raw.get("journal"))
    if isinstance(journal, str):
        raise bad("journal", journal)
    status, code = numbers["status"], numbers["code"]
    return Expectations(
        ok=ok,
        said=said["said"] or (),
        said_not=said["said_not"] or (),
        status=status if _is_int(status) else None,
        code=code if _is_int(code) else None,
        state=state,
        ledger=ledger,
        journal=journal,
    )


def _strings(raw: object) -> tuple[str, ...] | None:
    if raw is None:
        return ()
    if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        return tuple(raw)
    return None


def _counts(raw: object, keys: tuple[str, ...]) -> dict[str, int] | None:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not set(raw) <= set(keys):
        return None
    if not all(_is_int(value) for value in raw.values()):
        return None
    return {str(key): int(value) for key, value in raw.items()}


def _journal(raw: object) -> JournalCheck | str | None:
    if raw is None:
        return None
    problem = "a mapping of operation, status, code, count"
    if not isinstance(raw, dict) or not set(raw) <= set(JOURNAL_FIELDS):
        return problem
    operation = raw.get("operation")
    numbers = [raw.get(key) for key in ("status", "code", "count")]
    if (operation is not None and not isinstance(operation, str)) or not all(
        number is None or _is_int(number) for number in numbers
    ):
        return problem
    status, code, count = (n if _is_int(n) else None for n in numbers)
    return JournalCheck(operation, status, code, count)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
