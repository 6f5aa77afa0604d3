"""Every knob of the fake in one dataclass, with the vendor's documented values as defaults."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

DAY = 86_400.0
MB = 1024 * 1024
# The longest a time setting may be: far past any test, and short enough that API time plus it
# stays a date (the clock stops at the year 9000).
MAX_DURATION = 100 * 365 * DAY
# The settings that are durations in seconds.
DURATIONS = (
    "token_ttl", "rate_window", "claim_ttl", "render_seconds", "render_pending_seconds",
    "heartbeat_seconds", "stream_faults.stall_seconds", "stream_faults.event_latency",
)  # fmt: skip

PollShape = Literal["current", "reference", "early", "minimal"]
SubmitShape = Literal["current", "reference"]
AttributionRule = Literal["export", "all", "none", "session_and_run_sse"]
# The scopes of VH:27ce8fe's token table; "*" is all of them.
SCOPES = ("*", "read", "write", "upload", "render")
EventShape = Literal["adk", "typed"]
HeartbeatStyle = Literal["both", "empty", "event"]


class SettingError(ValueError):
    """A setting refused, with a message naming it; `key` is its name (`stream_faults.x` for
    a stream fault), for an answer that points at the field."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


@dataclass
class StreamFaults:
    """Ways a `/run_sse` stream can go wrong, all off by default."""

    # Cut the connection after this many events (the operation still completes server-side).
    drop_after_events: int | None = None
    # Send `{"error": ...}` after this many events and close; the operation fails, credits return.
    error_after_events: int | None = None
    # Heartbeats only, for `stall_seconds` of API time, then close: nothing changes.
    stall: bool = False
    stall_seconds: float = 11 * 60.0
    # Extra API seconds before each event.
    event_latency: float = 0.0
    # Send each event in three network writes, split inside its `data:` line and between its
    # two closing newlines, as real networks may: a parser that splits on chunks breaks.
    split_events: bool = False


@dataclass
class FakeConfig:
    """Every setting of the fake, the vendor's documented values as defaults; `serve --set`,
    `PATCH /_fake/config` and scenario `settings` change them by name.
    """

    seed: int = 0
    # The protocol era the settings came from (nemo_fake.profiles; `nemo-fake profiles` lists
    # them). Setting it sets the era's settings; later settings override those in turn.
    profile: str = "current"
    # Render poll body: "current" = vendor SKILL.md (top-level status, output.url),
    # "reference" = api-reference.md ({"success", "data": {..., "outputUrl"}}),
    # "early" = early SKILL.md ({"taskId", "status", "output": {"url", "duration", "size"}}),
    # "minimal" = the SKILL.md of VH:7fe0b89 ({"success", "data": {"status", "progress",
    # "outputUrl"}}).
    poll_shape: PollShape = "current"
    # Render submit answer: "current" = the same body as a poll (the fake's own choice where
    # V shows none), "reference" = api-reference.md ({"success": true, "data": {"id",
    # "status": "pending", "progress"}}).
    submit_shape: SubmitShape = "current"
    # Also serve the earliest docs' render paths: POST /api/render/proxy/draft (submit) and
    # GET /api/render/proxy/<id> (poll, in `poll_shape`), beside the /lambda ones.
    legacy_render_paths: bool = False
    # Which calls answer HTTP 402 without the X-Skill-* attribution headers. The docs only
    # say exports do; "all" makes every authenticated call strict; "session_and_run_sse" is
    # the era that sent them on those two calls only (X-Skill-Source alone is enough there:
    # the era's first docs sent only that one).
    attribution_required: AttributionRule = "export"
    # Key(s) the error message is sent under; the docs never show one, so both by default.
    message_keys: tuple[str, ...] = ("message", "msg")
    web_url: str = "https://nemovideo.com"

    anonymous_credits: int = 100
    # Anonymous tokens: how long one lasts (None: never expires, as one era's docs said), and
    # how many a client id and an address may get in `rate_window` (None: no limit). A client
    # id asking again once its token has expired or been revoked always gets one.
    token_ttl: float | None = 7 * DAY
    rate_window: float = 7 * DAY
    tokens_per_client: int | None = 1
    tokens_per_address: int | None = 10
    # X-Client-Id on the token request: required (400 without), or optional (early docs sent
    # none; each such request is then a new user).
    client_id_required: bool = True
    # What an anonymous token may do, enforced: a call outside them is a 1001 naming the scope
    # it needs (read: state, credits, render polls and downloads; write: sessions, /run_sse,
    # claim tokens, and renders too; upload; render: renders; "*": everything).
    anonymous_scopes: tuple[str, ...] = ("read", "write", "upload")
    claim_ttl: int = 604_800

    max_upload_bytes: int = 500 * MB
    max_urls_per_upload: int = 20
    # Uploads and rendered MP4s on disk together; past it, the oldest renders are deleted (they
    # are made again on download), and an upload that still cannot fit is refused (4002).
    max_storage_bytes: int = 2048 * MB

    render_seconds: tuple[float, float] = (30.0, 90.0)
    render_pending_seconds: float = 5.0
    render_failure_rate: float = 0.0
    render_fps: int = 10
    # Longest draft the fake will render; a longer one is refused rather than truncated.
    max_render_ms: int = 30 * 60 * 1000

    # /run_sse: wire shape ("adk" = Google ADK events, "typed" = api-reference.md's
    # {"type": ...} events), heartbeat cadence and form, and the agent's chances.
    event_shape: EventShape = "adk"
    heartbeat_seconds: float = 15.0
    heartbeat_style: HeartbeatStyle = "both"
    silent_edit_ratio: float = 0.3
    temporary_issue_rate: float = 0.05
    generation_cost: int = 100
    editing_cost: int = 50
    stream_faults: StreamFaults = field(default_factory=StreamFaults)

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Refuse settings no API could have, naming the field (`SettingError`)."""
        for name, value in _numbers(self):
            if not math.isfinite(value):
                raise SettingError(name, f"{name} must be a finite number")
        for name in DURATIONS:
            setting = _setting(self, name)
            longest = max(setting) if isinstance(setting, tuple) else setting
            if isinstance(longest, int | float) and longest > MAX_DURATION:
                raise SettingError(name, f"{name} must be at most {MAX_DURATION:g} s (a century)")
        # Heartbeats and stalls are planned as events up front: bound how many there can be.
        if self.heartbeat_seconds and not 1 <= self.heartbeat_seconds <= 3600:
            raise SettingError(
                "heartbeat_seconds", "heartbeat_seconds must be 0 (none) or from 1 to 3600"
            )
        for name, most in (("stall_seconds", DAY), ("event_latency", 3600.0)):
            if not 0 <= getattr(self.stream_faults, name) <= most:
                raise SettingError(
                    f"stream_faults.{name}", f"stream_faults.{name} must be from 0 to {most:g}"
                )
        for name in ("silent_edit_ratio", "temporary_issue_rate", "render_failure_rate"):
            if not 0 <= getattr(self, name) <= 1:
                raise SettingError(name, f"{name} must be between 0 and 1")
        low, high = self.render_seconds
        if not 0 < low <= high:
            raise SettingError(
                "render_seconds", "render_seconds must be (low, high) with 0 < low <= high"
            )
        if self.token_ttl is not None and self.token_ttl <= 0:
            raise SettingError("token_ttl", "token_ttl must be positive, or null (never expires)")
        for name in ("tokens_per_client", "tokens_per_address"):
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise SettingError(name, f"{name} must not be negative, or null (no limit)")
        for name in ("rate_window", "max_upload_bytes", "max_storage_bytes",
                     "render_fps", "max_render_ms"):  # fmt: skip
            if getattr(self, name) <= 0:
                raise SettingError(name, f"{name} must be positive")
        for name in ("heartbeat_seconds", "render_pending_seconds", "generation_cost",
                     "editing_cost", "anonymous_credits"):  # fmt: skip
            if getattr(self, name) < 0:
                raise SettingError(name, f"{name} must not be negative")
        if not self.message_keys:
            raise SettingError("message_keys", "message_keys needs at least one key")
        unknown_scopes = [scope for scope in self.anonymous_scopes if scope not in SCOPES]
        if unknown_scopes:
            raise SettingError(
                "anonymous_scopes",
                f"anonymous_scopes: unknown {', '.join(map(repr, unknown_scopes))}; "
                f"use {', '.join(SCOPES)}",
            )
        from nemo_fake.profiles import PROFILES  # profiles are built from this module's names

        if self.profile not in PROFILES:
            raise SettingError(
                "profile", f"unknown profile {self.profile!r}; one of {', '.join(PROFILES)}"
            )

    @classmethod
    def for_profile(cls, name: str, **overrides: Any) -> FakeConfig:
        """The settings of the era `name` (see nemo_fake.profiles), then `overrides`:
        `FakeConfig.for_profile("reference", seed=3)`. (`FakeConfig(profile=...)` only records
        a name.)"""
        return with_overrides(cls(), {"profile": name, **overrides})

    def to_dict(self) -> dict[str, Any]:
        """Every setting, as JSON has them: tuples as lists, `stream_faults` nested. What it
        returns is valid overrides (`with_overrides`, PATCH /_fake/config) as it stands."""
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in asdict(self).items()
        }


def _setting(config: FakeConfig, name: str) -> object:
    target: object = config
    for part in name.split("."):
        target = getattr(target, part)
    return target


def _numbers(config: FakeConfig) -> Iterator[tuple[str, float]]:
    """Every number in the settings, by its dotted name (a tuple's items by the tuple's)."""
    for key, value in config.to_dict().items():
        values = value.items() if isinstance(value, dict) else [(None, value)]
        for inner, item in values:
            name = f"{key}.{inner}" if inner else key
            items = item if isinstance(item, list) else [item]
            for number in items:
                if isinstance(number, float):
                    yield name, number


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(settings: type) -> dict[str, Any]:
    # Resolving the annotations compiles each one anew: once per class, not per setting.
    if settings not in _HINTS:
        _HINTS[settings] = get_type_hints(settings)
    return _HINTS[settings]


def with_overrides(config: FakeConfig, overrides: Mapping[str, Any]) -> FakeConfig:
    """A copy of `config` with fields set by name; `stream_faults.x` reaches into the faults,
    as does a nested `{"stream_faults": {"x": ...}}` (the form `FakeConfig.to_dict` gives).

    Values come from YAML, JSON or the command line, so lists become tuples and ints pass for
    floats; anything else of the wrong type is refused with a `SettingError` naming the field.
    """
    updated = replace(config, stream_faults=replace(config.stream_faults))
    for key, value in _with_profile(_dotted(overrides)).items():
        target: Any = updated
        *path, name = key.split(".")
        for part in path:
            if part != "stream_faults":
                raise SettingError(key, f"unknown setting {key!r}")
            target = target.stream_faults
        hints = _hints(type(target))
        known = {f.name for f in fields(target)} - {"stream_faults"}
        if name not in known:
            raise SettingError(key, f"unknown setting {key!r}; known: {', '.join(sorted(known))}")
        setattr(target, name, _coerce(key, hints[name], value))
    updated.check()
    return updated


def _with_profile(overrides: dict[str, Any]) -> dict[str, Any]:
    """A `profile` among the overrides stands for its era's settings, which the other
    overrides then override in turn."""
    if "profile" not in overrides:
        return overrides
    from nemo_fake.profiles import profile  # profiles are built from this module's names

    name = overrides["profile"]
    if not isinstance(name, str):
        raise SettingError("profile", "profile takes a profile name")
    try:
        bundle = profile(name).settings
    except ValueError as error:
        raise SettingError("profile", str(error)) from None
    return {**bundle, **overrides}


def update_in_place(config: FakeConfig, overrides: Mapping[str, Any]) -> list[str]:
    """Set `overrides` on `config` itself, checked exactly as `with_overrides` checks them;
    if any is refused, nothing changes. In place, because everything in a running fake holds
    this one object. Returns the names of the settings whose values changed."""
    updated = with_overrides(config, overrides)
    changed: list[str] = []
    pairs = ((config, updated, ""), (config.stream_faults, updated.stream_faults, "stream_faults."))
    for target, source, prefix in pairs:
        for setting in fields(target):
            value = getattr(source, setting.name)
            if setting.name != "stream_faults" and getattr(target, setting.name) != value:
                setattr(target, setting.name, value)
                changed.append(prefix + setting.name)
    return changed


def _dotted(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Overrides with a nested `stream_faults` mapping spelled out as `stream_faults.x` keys."""
    flat: dict[str, Any] = {}
    for key, value in overrides.items():
        if key != "stream_faults":
            flat[key] = value
        elif isinstance(value, Mapping):
            flat.update({f"stream_faults.{name}": item for name, item in value.items()})
        else:
            raise SettingError(key, f"stream_faults takes a mapping of its settings, not {value!r}")
    return flat


def _coerce(key: str, annotation: Any, value: Any) -> Any:
    if isinstance(value, list):
        value = tuple(value)
    if _fits(annotation, value):
        return float(value) if annotation is float and isinstance(value, int) else value
    raise SettingError(key, f"{key} takes {_describe(annotation)}, not {value!r}")


def _fits(annotation: Any, value: Any) -> bool:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return value in args
    if origin in (UnionType, Union):
        return any(_fits(arg, value) for arg in args)
    if origin is tuple:
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_fits(args[0], item) for item in value)
        return len(args) == len(value) and all(map(_fits, args, value))
    if annotation is type(None):
        return value is None
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, annotation)


def _describe(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(map(str, get_args(annotation)))
    return getattr(annotation, "__name__", None) or str(annotation)
