"""Reading request bodies: every malformed input becomes a 400 with a message naming the problem."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from nemo_fake.errors import ApiError, Code

MAX_JSON_BYTES = 16 * 1024 * 1024


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
        value = json.loads(text)
    except ValueError as exc:
        raise ApiError(Code.BAD_REQUEST, f"Malformed JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ApiError(Code.BAD_REQUEST, "Request body must be a JSON object")
    return value


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
