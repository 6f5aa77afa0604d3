"""The one error table: every API code, the HTTP status it travels with, and when it happens.

The vendor documents the codes but not the HTTP statuses that carry them nor the body's
message field; those are this fake's choices (see docs/choices.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any


class Code(IntEnum):
    """Every code the API answers with: 0 for success, the rest from the error table."""

    OK = 0
    BAD_REQUEST = 400
    EXPORT_BLOCKED = 402
    NOT_FOUND = 404
    METHOD_NOT_ALLOWED = 405
    CONFLICT = 409
    DRAFT_NOT_READY = 422
    RATE_LIMITED = 429
    BAD_TOKEN = 1001
    SESSION_NOT_FOUND = 1002
    NO_CREDITS = 2001
    UNSUPPORTED_FILE = 4001
    FILE_TOO_LARGE = 4002


@dataclass(frozen=True)
class ErrorSpec:
    http_status: int
    message: str
    when: str


ERROR_TABLE: dict[Code, ErrorSpec] = {
    Code.BAD_REQUEST: ErrorSpec(
        400,
        "Bad request",
        "Missing X-Client-Id on anonymous-token; malformed JSON, bad UTF-8, "
        "a missing field or a field of the wrong type",
    ),
    Code.EXPORT_BLOCKED: ErrorSpec(
        402,
        "Export blocked: register or upgrade your plan to unlock export",
        "Render submitted without the X-Skill-Source/-Version/-Platform attribution headers",
    ),
    Code.NOT_FOUND: ErrorSpec(404, "Not found", "Unknown path, app name or render id"),
    Code.METHOD_NOT_ALLOWED: ErrorSpec(405, "Method not allowed", "Wrong HTTP method for a path"),
    Code.CONFLICT: ErrorSpec(
        409,
        "Conflict",
        "Render id already used (retry with a new id); cancelling a render that is not "
        "running; downloading one that is not completed",
    ),
    Code.DRAFT_NOT_READY: ErrorSpec(
        422,
        "Draft is not ready for export: no track has segments",
        "Render submitted with a draft whose tracks have no non-empty sg",
    ),
    Code.RATE_LIMITED: ErrorSpec(
        429,
        "Rate limit exceeded, retry in 30s",
        "Second anonymous token for a client id within 7 days, or more than 10 per "
        "client address within 7 days",
    ),
    Code.BAD_TOKEN: ErrorSpec(
        401,
        "Invalid or expired token",
        "Bearer missing, unknown, expired (7 days), revoked, or a claim token",
    ),
    Code.SESSION_NOT_FOUND: ErrorSpec(
        404, "Session not found", "Unknown session id, or a session of another user"
    ),
    Code.NO_CREDITS: ErrorSpec(
        403, "Insufficient credits", "An operation costs more than the available balance"
    ),
    Code.UNSUPPORTED_FILE: ErrorSpec(
        415,
        "Unsupported file type. Supported: mp4, mov, avi, webm, mkv, jpg, png, gif, webp, "
        "mp3, wav, m4a, aac",
        "File or URL with another extension, or a file that is not readable media",
    ),
    Code.FILE_TOO_LARGE: ErrorSpec(
        413,
        "File too large: the limit is 500 MB per upload request",
        "Upload request over the limit, by Content-Length or by counting streamed bytes",
    ),
}


class ApiError(Exception):
    """A business error carrying its API code. Raised by the domain, rendered by the HTTP layer."""

    def __init__(self, code: Code, message: str | None = None, **extra: Any) -> None:
        self.code = code
        self.message = message or ERROR_TABLE[code].message
        self.extra = extra
        super().__init__(f"{int(code)}: {self.message}")

    @property
    def http_status(self) -> int:
        return ERROR_TABLE[self.code].http_status
