"""Endpoints clients call that no vendor document describes. Each gets a defined answer, and
every call is journaled under its own operation, so a team can see that its agent followed a
published skill that copies them.

`POST /api/v1/generate`: called by many published skills (`{"skill", "prompt"}`), documented by
none of the vendor's. The fake answers 404 with the usual envelope, naming the documented
workflow to use instead.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from nemo_fake.errors import ApiError, Code
from nemo_fake.http.api_route import ApiRoute
from nemo_fake.http.faults import operation

GENERATE_INSTEAD = (
    "POST /api/v1/generate is not part of the NemoVideo API (no vendor document describes it). "
    "Use the documented workflow: POST /api/auth/anonymous-token, POST "
    "/api/tasks/me/with-session/nemo_agent, then POST /run_sse with the request, and POST "
    "/api/render/proxy/lambda to export."
)


@operation("v1_generate")
async def v1_generate(request: Request) -> Response:
    raise ApiError(Code.NOT_FOUND, GENERATE_INSTEAD)


routes = [ApiRoute("/api/v1/generate", v1_generate, methods=["POST"])]
