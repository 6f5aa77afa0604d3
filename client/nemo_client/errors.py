"""API failures as exceptions carrying the vendor's code, and the skill's advice for each."""

from __future__ import annotations

SUPPORTED_FORMATS = "mp4, mov, avi, webm, mkv, jpg, png, gif, webp, mp3, wav, m4a, aac"


class NemoApiError(Exception):
    """A non-zero `code` (or an HTTP error) from the API."""

    def __init__(self, code: int, message: str, *, http_status: int, field: str | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.http_status = http_status
        self.field = field


class StreamInterrupted(Exception):
    """The `/run_sse` connection broke, or only heartbeats came for too long."""


def advice(
    error: NemoApiError,
    *,
    anonymous: bool = True,
    register_url: str | None = None,
) -> str:
    """What to tell the user, per the seed's error table (never a raw response or a token)."""
    code = error.code
    if code == 1001:
        return "Your session token expired; reconnecting gets a new one."
    if code == 1002:
        return "That project session no longer exists; a new session was started."
    if code == 2001:
        if anonymous and register_url:
            return f"You're out of credits. Register to get more: {register_url}"
        return "You're out of credits. Top up credits in your account."
    if code == 4001:
        return f"That file type isn't supported. Supported formats: {SUPPORTED_FORMATS}."
    if code == 4002:
        return "That file is too large (max 500 MB). Compress or trim it and try again."
    if code == 402:
        return (
            "Export isn't available on the free plan. "
            "Register or upgrade your plan to unlock export."
        )
    if code == 429:
        return "The service is rate-limiting new connections. Please try again in a little while."
    if code == 400:
        return f"The request was refused: {error.message}"
    return f"Something went wrong ({code}): {error.message}"
