"""JSON Schema for the fake's own dataclasses (its settings, fault rules, journal entries, clock
and ledger movements), read from their type hints: the document states what the code holds."""

from __future__ import annotations

import dataclasses
import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

Schema = dict[str, Any]

SCALARS: dict[object, Schema] = {
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    str: {"type": "string"},
    type(None): {"type": "null"},
}


def schema_of(kind: object) -> Schema:
    """The JSON Schema of a type hint, as the value serializes (`asdict`, then JSON)."""
    if kind in SCALARS:
        return dict(SCALARS[kind])
    if kind is Any or kind is object:
        return {}
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return dataclass_schema(kind)
    origin, args = get_origin(kind), get_args(kind)
    if origin is Literal:
        return {"enum": list(args)}
    if origin in (Union, types.UnionType):
        return {"anyOf": [schema_of(arg) for arg in args]}
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": schema_of(args[0])}
        return {
            "type": "array",
            "prefixItems": [schema_of(arg) for arg in args],
            "minItems": len(args),
            "maxItems": len(args),
        }
    if origin is list:
        return {"type": "array", "items": schema_of(args[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": schema_of(args[1])}
    raise TypeError(f"no JSON Schema for {kind!r}")


def dataclass_schema(cls: type) -> Schema:
    """Every field of a dataclass, all present (as `asdict` gives them), no others."""
    hints = get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if not f.name.startswith("_")]
    return {
        "type": "object",
        "properties": {name: schema_of(hints[name]) for name in names},
        "required": names,
        "additionalProperties": False,
    }
