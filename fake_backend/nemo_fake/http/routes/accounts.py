"""Anonymous tokens and claim tokens."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nemo_fake.clock import isoformat
from nemo_fake.errors import ApiError, Code
from nemo_fake.http.auth import authenticate, backend_of
from nemo_fake.http.body import json_object, string_field
from nemo_fake.http.envelope import ok
from nemo_fake.http.faults import operation


@operation("anonymous_token")
async def anonymous_token(request: Request) -> Response:
    client_id = request.headers.get("x-client-id", "")
    if not client_id.strip():
        raise ApiError(Code.BAD_REQUEST, "Missing X-Client-Id header")
    backend = backend_of(request)
    address = request.client.host if request.client else "unknown"
    issued = backend.issue_anonymous_token(client_id, address)
    return ok(
        {
            "token": issued.token.value,
            "user_id": issued.account.user_id,
            "credits": issued.account.ledger.available,
            "expires_at": isoformat(issued.token.expires_at),
            "scopes": list(issued.token.scopes),
        }
    )


@operation("claim_token")
async def claim_token(request: Request) -> Response:
    account = authenticate(request)
    body = await json_object(request)
    claim = backend_of(request).claim_token(
        account, string_field(body, "task_id"), string_field(body, "session_id")
    )
    return ok({"claim_token": claim.value, "expires_in": backend_of(request).config.claim_ttl})


routes = [
    Route("/api/auth/anonymous-token", anonymous_token, methods=["POST"]),
    Route("/api/auth/claim-token", claim_token, methods=["POST"]),
]
