"""A cassette as a scenario file: each recorded call a raw request, expecting the recorded status
and code, so a session seen once replays against the fake in CI for good.

The scenario's client makes its own token and session (as the recorded client did first), so
those two calls are not repeated; `<session-1>` becomes the scenario's `{session_id}`. A call
that needs a value only the recording had (another session, a claim token, uploaded bytes) is
left out, and said so."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from nemo_fake.record.cassette import API, PLACEHOLDER, Cassette, Exchange

SESSION = "<session-1>"
ISSUE = ("POST", "/api/auth/anonymous-token")
OWN_USER = "/api/tasks/"


@dataclass
class Converted:
    text: str
    steps: int
    left_out: list[str] = field(default_factory=list)


def to_scenario(cassette: Cassette, name: str) -> Converted:
    steps: list[dict[str, Any]] = []
    left_out: list[str] = []
    skipped_issue = skipped_session = False
    for index, exchange in enumerate(cassette.exchanges):
        call = f"#{index + 1} {exchange.method} {exchange.path}"
        if (exchange.method, exchange.path) == ISSUE and not skipped_issue:
            skipped_issue = True  # the scenario's client asks for its own token
            continue
        if _makes_the_session(exchange) and not skipped_session:
            skipped_session = True  # ... and makes its own session
            continue
        request = _request(exchange)
        if request is None:
            left_out.append(f"{call}: needs a value only the recording had")
            continue
        expect: dict[str, Any] = {"status": exchange.status}
        if isinstance(exchange.body, dict) and isinstance(exchange.body.get("code"), int):
            expect["code"] = exchange.body["code"]
        steps.append({"request": request, "expect": expect})
    description = (
        f"Recorded from {cassette.upstream or 'an API'}; replays each call's status and code."
    )
    document = {"name": name, "description": description, "steps": steps}
    return Converted(
        yaml.safe_dump(document, sort_keys=False, allow_unicode=True), len(steps), left_out
    )


def _makes_the_session(exchange: Exchange) -> bool:
    body: dict[str, Any] = exchange.body if isinstance(exchange.body, dict) else {}
    data = body.get("data")
    if not isinstance(data, dict):
        return False
    return (
        exchange.method == "POST"
        and exchange.path.startswith(OWN_USER)
        and data.get("session_id") == SESSION
    )


def _request(exchange: Exchange) -> dict[str, Any] | None:
    body = exchange.request_body
    if isinstance(body, dict) and "multipart" in body:
        return None
    path = _filled(exchange.path)
    json_body = _filled(body)
    if _unfilled(path) or _unfilled(json_body):
        return None
    request: dict[str, Any] = {"method": exchange.method, "path": path}
    if json_body is not None:
        request["json"] = json_body
    headers = {k.lower() for k in exchange.request_headers}
    if "authorization" not in headers:
        request["auth"] = False
    if not headers & {"x-skill-source", "x-skill-version", "x-skill-platform"}:
        request["attribution"] = False
    return request


def _filled(value: Any) -> Any:
    if isinstance(value, str):
        value = value.replace(SESSION, "{session_id}").replace(API, "")
        return PLACEHOLDER.sub(_stand_in, value)
    if isinstance(value, list):
        return [_filled(item) for item in value]
    if isinstance(value, dict):
        return {key: _filled(item) for key, item in value.items()}
    return value


# Kinds that only name media inside a body (a draft's sources): any name will do on a replay.
NAMES_ONLY = {"file", "secret"}


def _stand_in(match: re.Match[str]) -> str:
    kind = match.group(1)
    if kind == "user":
        return "me"
    if kind in NAMES_ONLY:
        return f"recorded-{kind}-{match.group(2)}"
    return match.group(0)  # a token, claim, task or client id: only the recording had it


def _unfilled(value: Any) -> bool:
    if isinstance(value, str):
        return PLACEHOLDER.search(value) is not None
    if isinstance(value, list):
        return any(_unfilled(item) for item in value)
    if isinstance(value, dict):
        return any(_unfilled(item) for item in value.values())
    return False
