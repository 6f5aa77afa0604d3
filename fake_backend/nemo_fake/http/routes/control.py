"""The control API under `/_fake/`: reset, clock, faults, journal, ledger, snapshots, config.

Reachable from loopback addresses only, unless the app was made with an admin token, which
is then required from anywhere (http/admission.py). The same controls are plain Python on
`NemoBackend` (and `NemoFake`) for in-process use; `RemoteFake` calls these routes for them.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from nemo_fake.clock import clock_info, set_speed
from nemo_fake.config import SettingError
from nemo_fake.domain.faults import FaultRule
from nemo_fake.errors import ApiError, Code
from nemo_fake.http.admission import admit
from nemo_fake.http.api_route import ApiRoute
from nemo_fake.http.body import json_object
from nemo_fake.http.context import backend_of
from nemo_fake.http.envelope import ok

RULE_FIELDS = {
    "operation", "on_call", "probability", "times", "code", "http_status", "latency",
    "drop_after_events", "fail_render", "id",
}  # fmt: skip
# A rule as GET lists it can be POSTed back: its counts are taken and dropped, since a rule
# counts from the moment it is added.
RULE_COUNTS = {"fired", "seen"}
SEED_NOTE = (
    "ids and fault chances follow a new seed from the next reset (POST /_fake/reset); "
    "the agent's and renders' chances use it at once"
)


def _clock_info(request: Request) -> dict[str, Any]:
    return asdict(clock_info(backend_of(request).clock))


async def reset(request: Request) -> Response:
    admit(request)
    backend_of(request).reset()
    return ok({"reset": True})


async def clock(request: Request) -> Response:
    admit(request)
    return ok(_clock_info(request))


async def advance(request: Request) -> Response:
    admit(request)
    seconds = (await json_object(request)).get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise ApiError(Code.BAD_REQUEST, "seconds must be a number >= 0", field="seconds")
    backend = backend_of(request)
    try:
        backend.clock.advance(float(seconds))
    except ValueError as error:
        raise ApiError(Code.BAD_REQUEST, f"seconds: {error}", field="seconds") from None
    backend.settle()
    return ok(_clock_info(request))


async def speed(request: Request) -> Response:
    admit(request)
    value = (await json_object(request)).get("speed")
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ApiError(Code.BAD_REQUEST, "speed must be a number > 0", field="speed")
    try:
        set_speed(backend_of(request).clock, float(value))
    except ValueError as error:
        raise ApiError(Code.BAD_REQUEST, str(error), field="speed") from None
    return ok(_clock_info(request))


async def faults(request: Request) -> Response:
    admit(request)
    registry = backend_of(request).faults
    if request.method == "POST":
        body = await json_object(request)
        unknown = set(body) - RULE_FIELDS - RULE_COUNTS
        if unknown:
            raise ApiError(
                Code.BAD_REQUEST, f"Unknown fault field(s): {', '.join(sorted(unknown))}"
            )
        try:
            rule = registry.add(FaultRule(**{k: v for k, v in body.items() if k in RULE_FIELDS}))
        except (TypeError, ValueError) as error:
            raise ApiError(Code.BAD_REQUEST, str(error)) from None
        return ok(rule.to_dict())
    if request.method == "DELETE":
        registry.clear()
    return ok({"rules": [rule.to_dict() for rule in registry.rules], "calls": dict(registry.calls)})


async def fault(request: Request) -> Response:
    admit(request)
    backend_of(request).faults.remove(request.path_params["rule_id"])
    return ok({"removed": request.path_params["rule_id"]})


async def journal(request: Request) -> Response:
    admit(request)
    registry = backend_of(request).journal
    if request.method == "DELETE":
        registry.clear()
        return ok({"entries": []})
    query = request.query_params
    numbers: dict[str, int | None] = {}
    for name in ("status", "code", "since", "limit"):
        text = query.get(name)
        if text is not None and not re.fullmatch(r"-?\d{1,18}", text):
            raise ApiError(Code.BAD_REQUEST, f"{name} must be an integer", field=name)
        numbers[name] = int(text) if text is not None else None
    for name in ("since", "limit"):
        if (numbers[name] or 0) < 0:
            raise ApiError(Code.BAD_REQUEST, f"{name} must be 0 or more", field=name)
    entries = registry.find(
        method=query.get("method"),
        path=query.get("path"),
        operation=query.get("operation"),
        **numbers,
    )
    return ok({"entries": [entry.to_dict() for entry in entries]})


async def ledger(request: Request) -> Response:
    """Every account's credits, or only the one named by `user_id=` or owning `token=`.

    A token in a query string is safe here: the fake logs and journals paths only."""
    admit(request)
    backend = backend_of(request)
    backend.settle()
    wanted = request.query_params.get("user_id")
    token = request.query_params.get("token")
    if token is not None:
        owner = backend.accounts.tokens.get(token)
        if owner is None or wanted not in (None, owner.user_id):
            return ok({"accounts": []})
        wanted = owner.user_id
    accounts = [
        {
            "user_id": account.user_id,
            "available": account.ledger.available,
            "frozen": account.ledger.frozen,
            "total": account.ledger.total,
            "movements": [vars(movement) for movement in account.ledger.movements],
        }
        for account in backend.accounts.by_user.values()
        if wanted is None or account.user_id == wanted
    ]
    return ok({"accounts": accounts})


async def snapshots(request: Request) -> Response:
    admit(request)
    return ok({"id": backend_of(request).snapshot()})


async def restore(request: Request) -> Response:
    admit(request)
    backend_of(request).restore(request.path_params["snapshot_id"])
    return ok({"restored": request.path_params["snapshot_id"]})


async def config(request: Request) -> Response:
    """GET: every setting in force. PATCH: change some, by the names and with the checks of
    `serve --set` (nested `stream_faults` too, so what GET answered can be sent back)."""
    admit(request)
    backend = backend_of(request)
    if request.method == "GET":
        return ok(backend.config.to_dict())
    try:
        changed = backend.configure(await json_object(request))
    except SettingError as error:
        raise ApiError(Code.BAD_REQUEST, str(error), field=error.key) from None
    note = SEED_NOTE if "seed" in changed else None
    return ok({"config": backend.config.to_dict(), "changed": changed, "note": note})


routes = [
    ApiRoute("/_fake/reset", reset, methods=["POST"]),
    ApiRoute("/_fake/clock", clock, methods=["GET"]),
    ApiRoute("/_fake/clock/advance", advance, methods=["POST"]),
    ApiRoute("/_fake/clock/speed", speed, methods=["POST"]),
    ApiRoute("/_fake/faults", faults, methods=["GET", "POST", "DELETE"]),
    ApiRoute("/_fake/faults/{rule_id}", fault, methods=["DELETE"]),
    ApiRoute("/_fake/journal", journal, methods=["GET", "DELETE"]),
    ApiRoute("/_fake/ledger", ledger, methods=["GET"]),
    ApiRoute("/_fake/snapshots", snapshots, methods=["POST"]),
    ApiRoute("/_fake/snapshots/{snapshot_id}/restore", restore, methods=["POST"]),
    ApiRoute("/_fake/config", config, methods=["GET", "PATCH"]),
]
