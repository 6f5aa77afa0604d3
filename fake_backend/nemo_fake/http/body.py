"""Reading request bodies: every malformed input becomes a 400 with a message naming the problem.

Each field of a documented body is a spec (`Text`, `TextList`, `Anything`) that both reads the
field and states it as JSON Schema, so the OpenAPI document says exactly what is checked.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from nemo_fake.config import FakeConfig
from nemo_fake.errors import ApiError, Code

MAX_JSON_BYTES = 16 * 1024 * 1024
# Far deeper than any documented body (a draft is about 5 levels), far shallower than the
# interpreter's recursion limit.
MAX_DEPTH = 64
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


async def json_object(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The body as a JSON object; an empty body is `{}` when the body is optional."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_JSON_BYTES:
        raise ApiError(Code.BAD_REQUEST, "JSON body too large")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_JSON_BYTES:
            raise ApiError(Code.BAD_REQUEST, "JSON body too large")
    if not raw.strip():
        if required:
            raise ApiError(Code.BAD_REQUEST, "Request body must be a JSON object")
        return {}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(Code.BAD_REQUEST, "Request body is not valid UTF-8") from None
    try:
        value = _DECODER.decode(text)
    except ValueError as exc:
        raise ApiError(Code.BAD_REQUEST, f"Malformed JSON: {exc}") from None
    except RecursionError:
        raise _too_deep("") from None
    if not isinstance(value, dict):
        raise ApiError(Code.BAD_REQUEST, "Request body must be a JSON object")
    if _may_be_unsound(text, value):
        _check_tree(value)
    return value


def _finite(text: str) -> float:
    # JSON has no infinity, but 1e999 parses as one; the fake would carry it into times.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


# Made once: json.loads with hooks makes a new decoder per call.
_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant)


def _may_be_unsound(text: str, body: dict[str, Any]) -> bool:
    """Whether `_check_tree` could refuse this body. Most bodies settle it from their text: a
    lone surrogate needs a `\\uD8..`-`\\uDF..` escape (UTF-8 itself cannot carry one), and
    nesting past MAX_DEPTH needs that many brackets. A walk naming every node's path cost a
    render's body more than the rest of its request."""
    if SURROGATE_ESCAPE.search(text):
        return True
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    return _depth(body) > MAX_DEPTH


def _depth(body: object) -> int:
    deepest = 0
    pending: list[tuple[object, int]] = [(body, 0)]
    while pending:
        value, depth = pending.pop()
        if depth > deepest:
            deepest = depth
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
    return deepest


def _check_tree(body: dict[str, Any]) -> None:
    """Refuse what JSON allows but the fake cannot keep: nesting deeper than MAX_DEPTH (later
    copies and encodings recurse), and text that is not valid Unicode (a lone surrogate such as
    "\\ud800" fails only when it is encoded again, in a later answer). Iterative, so the check
    itself cannot run out of stack."""
    pending: list[tuple[object, str, int]] = [(body, "", 0)]
    while pending:
        value, where, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise _too_deep(where)
        if isinstance(value, str):
            _check_text(value, where)
        elif isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else str(key)
                _check_text(key, path)
                pending.append((item, path, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))


def _check_text(text: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ApiError(
            Code.BAD_REQUEST,
            f"{_printable(where) or 'body'} is not valid Unicode text (a lone surrogate escape)",
            field=_printable(where),
        ) from None


def _too_deep(where: str) -> ApiError:
    return ApiError(
        Code.BAD_REQUEST,
        f"JSON nested deeper than {MAX_DEPTH} levels"
        + (f" at {_printable(where)}" if where else ""),
        **({"field": _printable(where)} if where else {}),
    )


def _printable(where: str) -> str:
    # The path names keys the client sent; a key with a lone surrogate can't go back as is.
    return where.encode("utf-8", "backslashreplace").decode("utf-8")


def string_field(
    body: dict[str, Any], name: str, *, default: str | None = None, max_length: int = 256
) -> str:
    value = body.get(name, default)
    if value is None:
        raise ApiError(Code.BAD_REQUEST, f"Missing field: {name}", field=name)
    if not isinstance(value, str) or not value.strip():
        raise ApiError(Code.BAD_REQUEST, f"{name} must be a non-empty string", field=name)
    if len(value) > max_length:
        raise ApiError(
            Code.BAD_REQUEST, f"{name} must be at most {max_length} characters", field=name
        )
    return value


def object_field(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is not None and not isinstance(value, dict):
        raise ApiError(Code.BAD_REQUEST, f"{name} must be an object", field=name)
    return value


def string_list_field(body: dict[str, Any], name: str, *, max_items: int) -> list[str]:
    value = body.get(name)
    if not isinstance(value, list) or not value:
        raise ApiError(Code.BAD_REQUEST, f"{name} must be a non-empty list", field=name)
    if len(value) > max_items:
        raise ApiError(Code.BAD_REQUEST, f"{name} takes at most {max_items} items", field=name)
    if not all(isinstance(item, str) and item for item in value):
        raise ApiError(Code.BAD_REQUEST, f"{name} must hold non-empty strings", field=name)
    return value


Schema = dict[str, Any]
# A string that is not only whitespace: what `string_field` calls non-empty.
NOT_BLANK = r"\S"


@dataclass(frozen=True)
class Text:
    """A string field, not blank, at most `max_length` characters; `default` when absent."""

    name: str
    default: str | None = None
    max_length: int = 256
    description: str = ""
    pattern: str | None = None  # checked by the domain (a render id), stated here
    choices: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is None

    def read(self, body: dict[str, Any]) -> str:
        value = string_field(body, self.name, default=self.default, max_length=self.max_length)
        if self.choices and value not in self.choices:
            raise ApiError(
                Code.BAD_REQUEST,
                f"{self.name} must be {' or '.join(map(repr, self.choices))}",
                field=self.name,
            )
        return value

    def schema(self, config: FakeConfig) -> Schema:
        found: Schema = {"type": "string"}
        if self.choices:
            found["enum"] = list(self.choices)
        else:
            found.update(minLength=1, maxLength=self.max_length, pattern=self.pattern or NOT_BLANK)
        if self.default is not None:
            found["default"] = self.default
        return _described(found, self.description)


@dataclass(frozen=True)
class TextList:
    """A non-empty list of non-empty strings, at most as many as a setting allows."""

    name: str
    most: Callable[[FakeConfig], int]
    description: str = ""
    required: bool = True

    def read(self, body: dict[str, Any], config: FakeConfig) -> list[str]:
        return string_list_field(body, self.name, max_items=self.most(config))

    def schema(self, config: FakeConfig) -> Schema:
        items = {"type": "string", "minLength": 1}
        found = {"type": "array", "minItems": 1, "maxItems": self.most(config), "items": items}
        return _described(found, self.description)


@dataclass(frozen=True)
class Anything:
    """A field read whole and checked by the domain (a draft, the render output, a message):
    its schema is the one the domain's checks enforce, kept beside them."""

    name: str
    shape: Callable[[FakeConfig], Schema]
    required: bool = True
    description: str = ""
    nullable: bool = False

    def read(self, body: dict[str, Any]) -> Any:
        if self.required and self.name not in body:
            raise ApiError(Code.BAD_REQUEST, f"Missing field: {self.name}", field=self.name)
        return body.get(self.name)

    def schema(self, config: FakeConfig) -> Schema:
        found = self.shape(config)
        if self.nullable:
            found = {"anyOf": [found, {"type": "null"}]}
        return _described(found, self.description)


FieldSpec = Text | TextList | Anything


@dataclass(frozen=True)
class JsonBody:
    """A documented JSON object body: its fields, each read and stated by one spec."""

    fields: tuple[FieldSpec, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)

    def schema(self, config: FakeConfig) -> Schema:
        return {
            "type": "object",
            "properties": {spec.name: spec.schema(config) for spec in self.fields},
            "required": [spec.name for spec in self.fields if spec.required],
            **self.extra,
        }


def _described(schema: Schema, description: str) -> Schema:
    return {**schema, "description": description} if description else schema
