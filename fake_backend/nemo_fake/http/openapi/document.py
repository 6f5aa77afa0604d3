"""The OpenAPI 3.1 document of a running fake, built from its route table, its error table, the
body specs its handlers read with, and its settings (the profile decides the render bodies, the
event dialect, which calls need attribution and whether the earliest render paths exist)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from starlette.routing import BaseRoute, Route

from nemo_fake.config import FakeConfig
from nemo_fake.errors import ERROR_TABLE, Code
from nemo_fake.http.auth import ATTRIBUTED_CALLS, ATTRIBUTION_HEADERS, HEADERS_REQUIRED
from nemo_fake.http.envelope import RETRY_AFTER_SECONDS
from nemo_fake.http.openapi import bodies
from nemo_fake.http.openapi.operations import (
    OPERATIONS,
    PATH_PARAMETERS,
    Operation,
    Query,
    control_id,
)

Schema = dict[str, Any]

TITLE = "NemoVideo API (nemo-fake)"
PATH_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
TAGS = [
    {"name": "auth", "description": "Anonymous tokens and claim tokens"},
    {"name": "sessions", "description": "Sessions, their state, credits"},
    {"name": "uploads", "description": "Media into a session"},
    {"name": "renders", "description": "Export: render jobs and their MP4"},
    {"name": "agent", "description": "/run_sse, the agent's Server-Sent Events"},
    {"name": "files", "description": "The URLs the fake hands out"},
    {"name": "contract", "description": "This document"},
    {"name": "other", "description": "Calls clients make that no vendor document describes"},
    {"name": "fake control", "description": "/_fake/: the fake's own control API, not NemoVideo's"},
]


#: Real answers of the fake (current profile), recorded by tests/test_openapi.py: by operationId,
#: then status. An answer goes into the document where it fits the settings' schema.
EXAMPLES = Path(__file__).with_name("examples.json")


@cache
def recorded_examples() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    return found


#: A path item's extension: the methods it allows, as a 405's Allow header names them.
ALLOW = "x-allow"


class UndocumentedRoute(LookupError):
    """A route the document has no operation for: every route must be described."""


#: Routes for people, not programs: the inspector's HTML pages (and its endless journal feed,
#: which a fuzzer would wait on forever) are no part of the API the document describes.
FOR_PEOPLE = "/_fake/ui"


def routed(routes: Iterable[BaseRoute]) -> Iterator[tuple[str, str]]:
    """(method, path) of every API route, HEAD aside (Starlette adds it to every GET)."""
    for route in routes:
        if isinstance(route, Route) and not route.path.startswith(FOR_PEOPLE):
            for method in sorted(route.methods or ()):
                if method != "HEAD":
                    yield method, route.path


def build(routes: Iterable[BaseRoute], config: FakeConfig, version: str) -> dict[str, Any]:
    """The document for a fake with these routes and settings; UndocumentedRoute if a route
    has no operation."""
    components: dict[str, Schema] = {}
    paths: dict[str, dict[str, Any]] = {}
    for method, path in routed(routes):
        operation = OPERATIONS.get((method, path))
        if operation is None:
            raise UndocumentedRoute(f"{method} {path} has no entry in openapi/operations.py")
        if operation.served(config):
            paths.setdefault(path, {})[method.lower()] = _operation(
                method, path, operation, config, components
            )
    _add_examples(paths, components)
    for item in paths.values():
        # Any other method is a 405 naming these in Allow (HEAD wherever GET is).
        methods = {method.upper() for method in item} | ({"HEAD"} if "get" in item else set())
        item[ALLOW] = ", ".join(sorted(methods))
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": version,
            "description": (
                f"What this fake serves, profile {config.profile!r}. NemoVideo publishes no "
                "OpenAPI document; this one states the fake's reading of the vendor's docs."
            ),
        },
        "tags": TAGS,
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _operation(
    method: str, path: str, operation: Operation, config: FakeConfig, components: dict[str, Schema]
) -> dict[str, Any]:
    found: dict[str, Any] = {
        "operationId": operation.id or control_id(method, path),
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": _parameters(path, operation, config),
        "responses": {
            **operation.answer(config, components),
            **_errors(operation, config),
        },
    }
    found["security"] = [{"bearer": []}] if operation.bearer else []
    if operation.links:
        found["responses"]["200"]["links"] = operation.links
    if operation.body is not None:
        content: dict[str, Any] = {"application/json": {"schema": operation.body.schema(config)}}
        if operation.multipart:
            files = {"type": "array", "items": {"type": "string", "format": "binary"}}
            content["multipart/form-data"] = {
                "schema": {"type": "object", "properties": {"files": files}, "required": ["files"]}
            }
        found["requestBody"] = {"required": True, "content": content}
    return found


def _parameters(path: str, operation: Operation, config: FakeConfig) -> list[dict[str, Any]]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": PATH_PARAMETERS[name]}
        for name in PATH_PARAMETER.findall(path)
    ]
    parameters += [_parameter(query, "query") for query in operation.query]
    headers = list(operation.headers(config))
    if _needs_attribution(operation, config):
        required = HEADERS_REQUIRED.get(config.attribution_required, ATTRIBUTION_HEADERS)
        headers += [
            Query(name, {"type": "string", "minLength": 1, "pattern": r"\S"}, name in required)
            for name in ATTRIBUTION_HEADERS
        ]
    parameters += [_parameter(header, "header") for header in headers]
    return parameters


def _parameter(query: Query, where: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "name": query.name, "in": where, "required": query.required, "schema": query.schema
    }  # fmt: skip
    if query.description:
        found["description"] = query.description
    return found


def _needs_attribution(operation: Operation, config: FakeConfig) -> bool:
    rule = config.attribution_required
    if not operation.bearer:
        return False
    return rule == "all" or operation.attribution in ATTRIBUTED_CALLS.get(rule, ())


def _errors(operation: Operation, config: FakeConfig) -> dict[str, Any]:
    codes = list(operation.errors)
    if operation.bearer:
        codes.append(Code.BAD_TOKEN)
    if _needs_attribution(operation, config):
        codes.append(Code.EXPORT_BLOCKED)
    if operation.body is not None:
        codes.append(Code.BAD_REQUEST)
    responses: dict[str, Any] = {}
    for status, group in sorted(bodies.codes_by_status(list(dict.fromkeys(codes))).items()):
        response: dict[str, Any] = {
            "description": "; ".join(ERROR_TABLE[code].when for code in group),
            "content": {"application/json": {"schema": bodies.error_envelope(config, group)}},
        }
        if Code.RATE_LIMITED in group:
            response["headers"] = {
                "Retry-After": {
                    "schema": {"type": "string", "const": RETRY_AFTER_SECONDS},
                    "required": True,
                }
            }
        responses[str(status)] = response
    return responses


def _add_examples(paths: dict[str, dict[str, Any]], components: dict[str, Schema]) -> None:
    """Each recorded answer, on its response, where the schema the settings give allows it."""
    root = "urn:nemo-fake:components"
    registry: Registry[Any] = Registry().with_resource(
        root,
        Resource.from_contents(
            {"components": {"schemas": components}}, default_specification=DRAFT202012
        ),
    )
    recorded = recorded_examples()
    for item in paths.values():
        for operation in item.values():
            for status, response in operation["responses"].items():  # before x-allow is set
                value = recorded.get(operation["operationId"], {}).get(status)
                media = response.get("content", {}).get("application/json")
                if value is None or media is None:
                    continue
                schema = json.loads(json.dumps(media["schema"]).replace('"#/', f'"{root}#/'))
                if Draft202012Validator(schema, registry=registry).is_valid(value):
                    media["examples"] = {"recorded": {"summary": "Recorded", "value": value}}
