"""schemathesis hooks: one bearer token for the run, asked the way a client asks, and one real
session of that token's user in the valid (positive) cases, so they get past "no such session"
to the operation itself. Invalid (negative) cases are sent as generated."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import schemathesis
from hypothesis.internal import lambda_sources

_describe_lambda = lambda_sources._lambda_description


def _described(f: Any, *args: Any, **kwargs: Any) -> str:
    # CPython 3.11.7 can fail to parse a large module from deep in the stack ("AST constructor
    # recursion depth mismatch", fixed in 3.11.8); hypothesis only wants a lambda's name here.
    try:
        description: str = _describe_lambda(f, *args, **kwargs)
    except SystemError:
        return "lambda"
    return description


lambda_sources._lambda_description = _described


_tokens: dict[str, str] = {}
_sessions: dict[str, dict[str, str]] = {}
_asking = threading.Lock()
ATTRIBUTION = {
    "X-Skill-Source": "schemathesis", "X-Skill-Version": "1", "X-Skill-Platform": "unknown"
}  # fmt: skip
SESSION_FIELDS = {
    "submitRender": "sessionId",
    "runSse": "session_id",
    "getClaimToken": "session_id",
}


def _token(base: str) -> str:
    with _asking:
        if base not in _tokens:
            answer = httpx.post(
                f"{base}/api/auth/anonymous-token",
                headers={"X-Client-Id": "schemathesis"},
                timeout=10,
            )
            answer.raise_for_status()
            _tokens[base] = answer.json()["data"]["token"]
        return _tokens[base]


def _session(base: str) -> dict[str, str]:
    token = _token(base)
    with _asking:
        if base not in _sessions:
            answer = httpx.post(
                f"{base}/api/tasks/me/with-session/nemo_agent",
                headers={"Authorization": f"Bearer {token}", "X-Skill-Source": "schemathesis"},
                json={"task_name": "schemathesis"},
                timeout=10,
            )
            answer.raise_for_status()
            _sessions[base] = answer.json()["data"]
        return _sessions[base]


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    if case.meta is None or case.meta.generation.mode.name != "POSITIVE":
        return
    session = _session(case.operation.schema.get_base_url().rstrip("/"))
    # A client of the current doc sends the attribution headers on every call.
    case.headers = {**ATTRIBUTION, **(case.headers or {})}
    if "session_id" in (case.path_parameters or {}):
        case.path_parameters["session_id"] = session["session_id"]
    field = SESSION_FIELDS.get(case.operation.definition.raw.get("operationId", ""))
    if field and isinstance(case.body, dict):
        case.body[field] = session["session_id"]
        if "task_id" in case.body:
            case.body["task_id"] = session["task_id"]


@schemathesis.auth(refresh_interval=None)
class AnonymousToken:
    """One token for the whole run, every worker: a session made with it can be used by the
    calls linked to it (another token is another user, to whom it is a 1002)."""

    def get(self, case: Any, ctx: Any) -> str:
        return _token(ctx.operation.schema.get_base_url().rstrip("/"))

    def set(self, case: Any, data: str, ctx: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}
