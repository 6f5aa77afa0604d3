"""Where fault rules meet requests: each handler is named as an operation, and a rule that
fires on it answers instead (or slows it, or marks it for the handler to act on)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from nemo_fake.domain.faults import OPERATIONS, FaultRule
from nemo_fake.errors import ApiError
from nemo_fake.http.context import backend_of
from nemo_fake.http.envelope import Envelope

Handler = Callable[[Request], Awaitable[Response]]
OPERATION_KEY = "nemo.operation"
FAULT_KEY = "nemo.fault"
#: On every answer a fault rule shaped: the rule's id.
FAULT_HEADER = b"x-nemo-fake-fault"


def operation(name: str) -> Callable[[Handler], Handler]:
    """Name a handler's operation (for fault rules and the journal); one of OPERATIONS, so a
    rule can name every operation a route has."""
    if name not in OPERATIONS:
        raise ValueError(f"operation {name!r} is not in nemo_fake.domain.faults.OPERATIONS")

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def run(request: Request) -> Response:
            request.scope[OPERATION_KEY] = name
            rule = backend_of(request).faults.check(name)
            if rule is not None:
                request.scope[FAULT_KEY] = rule
                if rule.latency:
                    await asyncio.sleep(rule.latency)
                if rule.error_code is not None:
                    raise ApiError(rule.error_code)
                if rule.http_status is not None:
                    return Envelope(
                        {
                            "code": rule.http_status,
                            "message": f"Injected fault: HTTP {rule.http_status}",
                        },
                        status_code=rule.http_status,
                    )
            return await handler(request)

        return run

    return decorate


def fired_rule(request: Request) -> FaultRule | None:
    rule: FaultRule | None = request.scope.get(FAULT_KEY)
    return rule
