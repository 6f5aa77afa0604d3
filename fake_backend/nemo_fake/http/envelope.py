"""The `{"code": ..., "data": ...}` envelope, for success and for every error."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from nemo_fake.config import FakeConfig
from nemo_fake.errors import ERROR_TABLE, ApiError, Code

RETRY_AFTER_SECONDS = "30"


def ok(data: Any) -> JSONResponse:
    return JSONResponse({"code": int(Code.OK), "data": data})


def error_response(error: ApiError, config: FakeConfig) -> JSONResponse:
    body: dict[str, Any] = {"code": int(error.code)}
    for key in config.message_keys:
        body[key] = error.message
    body["data"] = None
    body.update(error.extra)
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if error.code == Code.RATE_LIMITED else None
    return JSONResponse(body, status_code=ERROR_TABLE[error.code].http_status, headers=headers)
