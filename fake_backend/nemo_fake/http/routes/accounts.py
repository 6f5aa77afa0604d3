"""Anonymous tokens and claim tokens."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from nemo_fake.clock import isoformat
from nemo_fake.http.auth import authenticate, backend_of
from nemo_fake.http.body import json_object, string_field
from nemo_fake.http.envelope import ok
from nemo_fake.http.faults import operation


@operation("anonymous_token")
async def anonymous_token(request: Request) -> Response:
    backend = backend_of(request)
    address = request.client.host if request.client else "unknown"
    # Whether a missing X-Client-Id is a 400 is the domain's rule (client_id_required).
    issued = backend.issue_anonymous_token(request.headers.get("x-client-id"), address)
    expires_at = issued.token.expires_at
    return ok(
        {
            "token": issued.token.value,
            "user_id": issued.account.user_id,
            "credits": issued.account.ledger.available,
            "expires_at": None if expires_at is None else isoformat(expires_at),
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
