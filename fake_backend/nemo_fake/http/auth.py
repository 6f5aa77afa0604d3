"""The one place that reads credentials and attribution headers off a request."""

from __future__ import annotations

from typing import Literal

from starlette.requests import Request

from nemo_fake.domain.accounts import Account
from nemo_fake.errors import ApiError, Code
from nemo_fake.http.context import backend_of
from nemo_fake.http.faults import OPERATION_KEY

ATTRIBUTION_HEADERS = ("X-Skill-Source", "X-Skill-Version", "X-Skill-Platform")


def attribution(source: str) -> dict[str, str]:
    """Headers for a caller the fake drives itself (the demo, scenario raw requests)."""
    return dict(zip(ATTRIBUTION_HEADERS, (source, "1", "unknown"), strict=True))


def bearer_token(request: Request) -> str | None:
    # Read from the raw headers: on every authenticated request, and cheaper than building
    # Starlette's Headers to look up one name (the first one sent, as Headers.get would).
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            return _bearer(value.decode("latin-1"))
    return None


def _bearer(authorization: str) -> str | None:
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


def missing_attribution(
    request: Request, names: tuple[str, ...] = ATTRIBUTION_HEADERS
) -> list[str]:
    return [name for name in names if not request.headers.get(name, "").strip()]


# The scope each operation needs (FakeConfig.anonymous_scopes says what each allows).
SCOPE_NEEDED = {
    "state": "read", "balance": "read", "render_poll": "read", "render_download": "read",
    "create_session": "write", "run_sse": "write", "claim_token": "write",
    "upload": "upload", "render_submit": "render", "render_cancel": "render",
}  # fmt: skip
TOKEN_PARAMETERS = {"token", "nemo_token"}
TOKEN_IN_URL = (
    "A token is never read from a URL (?token=, ?nemo_token=): send Authorization: Bearer <token>"
)


# The calls an attribution rule may name, besides "all": see FakeConfig.attribution_required.
AttributedCall = Literal["export", "session", "run_sse"]
ATTRIBUTED_CALLS: dict[str, tuple[str, ...]] = {
    "export": ("export",),
    "session_and_run_sse": ("session", "run_sse"),
    "none": (),
}
# The session-and-/run_sse era began with X-Skill-Source alone (VH:7fe0b89) and added the other
# two later (VH:288c689): a client of either passes.
HEADERS_REQUIRED: dict[str, tuple[str, ...]] = {"session_and_run_sse": ATTRIBUTION_HEADERS[:1]}


def authenticate(request: Request, *, call: AttributedCall | None = None) -> Account:
    """The caller's account. `call` names the calls an attribution rule can single out; where
    the rule in force covers this one, missing attribution headers mean HTTP 402."""
    backend = backend_of(request)
    bearer = bearer_token(request)
    if bearer is None and TOKEN_PARAMETERS & set(request.query_params):
        # Older docs' links carried the token in the URL; say why it is not read there.
        raise ApiError(Code.BAD_TOKEN, TOKEN_IN_URL)
    account = backend.authenticate(bearer, SCOPE_NEEDED.get(request.scope.get(OPERATION_KEY, "")))
    rule = backend.config.attribution_required
    if rule == "all" or call in ATTRIBUTED_CALLS.get(rule, ()):
        missing = missing_attribution(request, HEADERS_REQUIRED.get(rule, ATTRIBUTION_HEADERS))
        if missing:
            what = "Export blocked: missing" if call == "export" else "Missing"
            raise ApiError(
                Code.EXPORT_BLOCKED, f"{what} attribution header(s) " + ", ".join(missing)
            )
    return account


def check_user_segment(account: Account, user: str) -> None:
    """Paths carry `me` (or the caller's own user id); anyone else's is treated as not found."""
    if user not in ("me", account.user_id):
        raise ApiError(Code.SESSION_NOT_FOUND)


def check_app_name(app_name: str) -> None:
    if app_name != "nemo_agent":
        raise ApiError(Code.NOT_FOUND, f"Unknown app {app_name[:64]!r}")
