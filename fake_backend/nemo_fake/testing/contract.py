"""Checking responses against the fake's OpenAPI document: status, content type, the headers it
declares and the JSON body, for each response a test receives (an httpx response hook)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from nemo_fake.config import FakeConfig
from nemo_fake.http.faults import FAULT_HEADER
from nemo_fake.http.openapi import build
from nemo_fake.http.openapi.document import ALLOW
from nemo_fake.http.routes.contract import package_version

ROOT = "urn:nemo-fake:openapi"
STREAMED = ("text/event-stream", "video/", "image/", "audio/")


class ContractViolation(AssertionError):
    """A response the document does not allow: names the operation and what is wrong."""


@dataclass(frozen=True)
class _Operation:
    id: str
    method: str
    template: str
    pattern: re.Pattern[str]
    spec: Mapping[str, Any]


class Contract:
    """One OpenAPI document, ready to check responses against."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._registry: Registry[Any] = Registry().with_resource(
            ROOT, Resource.from_contents(dict(document), default_specification=DRAFT202012)
        )
        self._operations = [
            _Operation(
                spec.get("operationId", f"{method} {path}"),
                method.upper(),
                path,
                re.compile("^" + re.sub(r"\\{(\w+)\\}", r"[^/]+", re.escape(path)) + "$"),
                spec,
            )
            for path, methods in document["paths"].items()
            for method, spec in methods.items()
            if not method.startswith("x-")
        ]
        self._allowed = [
            (re.compile("^" + re.sub(r"\\{(\w+)\\}", r"[^/]+", re.escape(path)) + "$"),
             item.get(ALLOW))
            for path, item in document["paths"].items()
        ]  # fmt: skip
        self._validators: dict[tuple[str, str, str], Draft202012Validator] = {}

    def operation(self, method: str, path: str) -> _Operation | None:
        found = [op for op in self._operations if op.method == method and op.pattern.match(path)]
        # A literal path beats a template (/api/render/proxy/draft over /proxy/{render_id}).
        found.sort(key=lambda op: op.template.count("{"))
        return found[0] if found else None

    def check(self, method: str, path: str, response: httpx.Response, body: bytes | None) -> None:
        """ContractViolation unless the document allows this answer; `body` None: not read."""
        operation = self.operation(method, path)
        if operation is None:
            if response.status_code == 405:
                self._check_allow(method, path, response)
                return
            if response.status_code == 404:
                return  # an unknown path: the generic error envelope
            raise ContractViolation(f"{method} {path}: no such operation in the document")
        where = f"{method} {path} ({operation.id})"
        responses = operation.spec.get("responses", {})
        status = str(response.status_code)
        declared = responses.get(status) or responses.get("default")
        if declared is None:
            raise ContractViolation(
                f"{where} answered {status}, which the document does not declare "
                f"(it declares {', '.join(responses)})"
            )
        for name, header in declared.get("headers", {}).items():
            if header.get("required") and name not in response.headers:
                raise ContractViolation(f"{where} answered {status} without header {name}")
        content = declared.get("content")
        if not content:
            return
        media = response.headers.get("content-type", "").split(";", 1)[0].strip()
        if media not in content:
            raise ContractViolation(
                f"{where} answered {status} as {media or 'no content type'}, not "
                f"{' or '.join(content)}"
            )
        if body is None or media != "application/json":
            return
        validator = self._validator(operation, status, media, content[media]["schema"])
        try:
            value = json.loads(body)
        except ValueError:
            raise ContractViolation(
                f"{where} answered {status} with JSON that does not parse"
            ) from None
        error = best_match(validator.iter_errors(value))
        if error is not None:
            field = ".".join(str(part) for part in error.absolute_path) or "(the body)"
            raise ContractViolation(
                f"{where} answered {status} with a body the document does not allow: at "
                f"{field}: {error.message[:300]}"
            )

    def _check_allow(self, method: str, path: str, response: httpx.Response) -> None:
        """A 405 names, in Allow, exactly the methods the document gives the path."""
        declared = next((allow for pattern, allow in self._allowed if pattern.match(path)), None)
        if declared is None:
            return
        sent = {m.strip() for m in response.headers.get("allow", "").split(",") if m.strip()}
        if sent != {m.strip() for m in declared.split(",")}:
            raise ContractViolation(
                f"{method} {path} answered 405 with Allow {response.headers.get('allow')!r}, "
                f"but the document allows {declared}"
            )

    def _validator(
        self, operation: _Operation, status: str, media: str, schema: Mapping[str, Any]
    ) -> Draft202012Validator:
        key = (operation.id, status, media)
        if key not in self._validators:
            self._validators[key] = Draft202012Validator(_rooted(schema), registry=self._registry)
        return self._validators[key]


def _rooted(schema: Any) -> Any:
    """`#/components/...` references, made absolute to the document."""
    if isinstance(schema, dict):
        return {
            key: (f"{ROOT}{value}" if key == "$ref" and value.startswith("#") else _rooted(value))
            for key, value in schema.items()
        }
    if isinstance(schema, list):
        return [_rooted(item) for item in schema]
    return schema


def response_hook(
    contract: Callable[[], Contract],
) -> Callable[[httpx.Response], Any]:
    """An httpx.AsyncClient response hook checking each answer against `contract()` (called per
    response: the document follows the fake's settings as they change). JSON bodies are read
    to check them; streams and files are checked by status and content type only. Answers a
    fault rule shaped (header x-nemo-fake-fault) are the test's doing and are not checked."""

    async def check(response: httpx.Response) -> None:
        if FAULT_HEADER.decode() in response.headers:
            return
        request = response.request
        media = response.headers.get("content-type", "")
        body = None
        if not media.startswith(STREAMED):
            body = await response.aread()
        contract().check(request.method, request.url.path, response, body)

    return check


_BUILT: dict[str, Contract] = {}


def contract_of(app: Any, config: FakeConfig) -> Contract:
    """The contract of an app with these settings; built once per distinct settings (every
    fake's routes are the same), so a suite of fresh fakes builds a handful."""
    key = repr(config)  # every setting, nested ones too: far cheaper than to_dict per answer
    if key not in _BUILT:
        if len(_BUILT) > 64:
            _BUILT.clear()
        _BUILT[key] = Contract(build(app.routes, config, package_version()))
    return _BUILT[key]
