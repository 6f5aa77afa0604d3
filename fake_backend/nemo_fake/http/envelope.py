"""The `{"code": ..., "data": ...}` envelope, for success and for every error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

from nemo_fake.config import FakeConfig
from nemo_fake.errors import ERROR_TABLE, ApiError, Code

RETRY_AFTER_SECONDS = "30"
# JSONResponse's own settings, in one encoder made once: json.dumps with them makes a new
# encoder per call, a tenth of a small answer's cost.
_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


class Envelope(JSONResponse):
    """A JSON answer with an envelope `code`, kept for the journal: parsing every answer's body
    again to learn it was a third of the journal's cost."""

    def __init__(
        self,
        body: Mapping[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.code: int | None = body.get("code")
        super().__init__(body, status_code=status_code, headers=headers)

    def render(self, content: Any) -> bytes:
        return _ENCODER.encode(content).encode("utf-8")


def ok(data: Any) -> Envelope:
    return Envelope({"code": 0, "data": data})


def error_response(error: ApiError, config: FakeConfig) -> Envelope:
    body: dict[str, Any] = {"code": int(error.code)}
    for key in config.message_keys:
        body[key] = error.message
    body["data"] = None
    body.update(error.extra)
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if error.code == Code.RATE_LIMITED else None
    return Envelope(body, status_code=ERROR_TABLE[error.code].http_status, headers=headers)
