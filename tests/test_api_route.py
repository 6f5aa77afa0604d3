"""An ApiRoute serves an API handler in one step: fault rules, the handler, and an ApiError
turned into its envelope, with no wrapper around the handler."""

from __future__ import annotations

import pytest
from starlette.requests import Request
from starlette.responses import Response

from nemo_fake import NemoFake
from nemo_fake.http.api_route import ApiRoute
from nemo_fake.http.faults import operation_of
from nemo_fake.http.routes import sessions


def test_a_handler_named_as_an_operation_is_served_as_it_is_not_wrapped() -> None:
    route = next(r for r in sessions.routes if r.path == "/api/credits/balance/simple")
    assert isinstance(route, ApiRoute)
    assert route.operation == "balance" and route.handler is sessions.balance
    assert operation_of(sessions.balance) == "balance"


def test_a_blocking_handler_is_refused_where_its_route_is_declared() -> None:
    def blocking(request: Request) -> Response:
        return Response()

    with pytest.raises(TypeError, match="async"):
        ApiRoute("/x", blocking, methods=["GET"])  # type: ignore[arg-type]


async def test_the_first_authorization_header_sent_is_the_one_read() -> None:
    with NemoFake() as fake:
        issued = fake.backend.issue_anonymous_token("c", "127.0.0.1")
        async with fake.http() as http:
            good = ("Authorization", f"Bearer {issued.token.value}")
            bad = ("Authorization", "Bearer nope")
            first_good = await http.get("/api/credits/balance/simple", headers=[good, bad])
            first_bad = await http.get("/api/credits/balance/simple", headers=[bad, good])
    assert first_good.json()["code"] == 0
    assert first_bad.json()["code"] == 1001
