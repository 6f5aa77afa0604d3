"""Where fault rules meet requests: each handler is named as an operation, and a rule that
fires on it answers instead (or slows it, or marks it for the handler to act on)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from nemo_fake.domain.faults import OPERATIONS, FaultRule
from nemo_fake.errors import ApiError
from nemo_fake.http.envelope import Envelope

Handler = Callable[[Request], Awaitable[Response]]
OPERATION_KEY = "nemo.operation"
FAULT_KEY = "nemo.fault"
#: On every answer a fault rule shaped: the rule's id.
FAULT_HEADER = b"x-nemo-fake-fault"
# Where a handler carries its operation's name, for the route that serves it (ApiRoute).
_OPERATION_ATTRIBUTE = "nemo_operation"


def operation(name: str) -> Callable[[Handler], Handler]:
    """Name a handler's operation (for fault rules and the journal); one of OPERATIONS, so a
    rule can name every operation a route has. The handler itself is returned: its route
    (`ApiRoute`) checks the rules before calling it, with no wrapper in between."""
    if name not in OPERATIONS:
        raise ValueError(f"operation {name!r} is not in nemo_fake.domain.faults.OPERATIONS")

    def decorate(handler: Handler) -> Handler:
        setattr(handler, _OPERATION_ATTRIBUTE, name)
        return handler

    return decorate


def operation_of(handler: Handler) -> str | None:
    """The operation `handler` was named with (a wrapper made with functools.wraps keeps it)."""
    name: str | None = getattr(handler, _OPERATION_ATTRIBUTE, None)
    return name


async def fault_answer(rule: FaultRule, scope: Scope) -> Response | None:
    """What a fired rule does before the handler: it waits, then answers in the handler's
    place (an error code, an HTTP status), or leaves the answer to the handler."""
    scope[FAULT_KEY] = rule
    if rule.latency:
        await asyncio.sleep(rule.latency)
    if rule.error_code is not None:
        raise ApiError(rule.error_code)
    if rule.http_status is not None:
        return Envelope(
            {"code": rule.http_status, "message": f"Injected fault: HTTP {rule.http_status}"},
            status_code=rule.http_status,
        )
    return None


def fired_rule(request: Request) -> FaultRule | None:
    rule: FaultRule | None = request.scope.get(FAULT_KEY)
    return rule
