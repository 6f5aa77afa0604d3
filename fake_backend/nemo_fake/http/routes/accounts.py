"""Anonymous tokens and claim tokens, and the web app's claim page the claim link opens."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from nemo_fake.clock import isoformat
from nemo_fake.errors import ApiError, Code
from nemo_fake.http.api_route import ApiRoute
from nemo_fake.http.auth import TOKEN_PARAMETERS, authenticate
from nemo_fake.http.body import JsonBody, Text, json_object
from nemo_fake.http.context import backend_of
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


TASK_ID = Text("task_id", description="The session's task id")
SESSION_ID = Text("session_id", description="One of the caller's sessions")
CLAIM_BODY = JsonBody((TASK_ID, SESSION_ID))


@operation("claim_token")
async def claim_token(request: Request) -> Response:
    account = authenticate(request)
    body = await json_object(request)
    claim = backend_of(request).claim_token(account, TASK_ID.read(body), SESSION_ID.read(body))
    return ok({"claim_token": claim.value, "expires_in": backend_of(request).config.claim_ttl})


TOKEN_IN_URL = (
    "The web app takes only ?ct=<claim token>: a real token must never be put in a URL "
    "(older docs' ?token= and ?nemo_token= are refused)"
)


@operation("claim_page")
async def claim_page(request: Request) -> Response:
    """`<web>/workspace/claim?ct=`: for a client whose NEMO_WEB_URL is the fake, the link it
    prints opens here and says which project it claims."""
    value = request.query_params.get("ct")
    if not value:
        leaked = TOKEN_PARAMETERS & set(request.query_params)
        problem = TOKEN_IN_URL if leaked else "Missing ?ct=<claim token>"
        raise ApiError(Code.BAD_REQUEST, problem, field="ct")
    claim = backend_of(request).open_claim(value)
    return ok(
        {
            "task_id": claim.task_id,
            "session_id": claim.session_id,
            "user_id": claim.user_id,
            "expires_at": isoformat(claim.expires_at),
        }
    )


routes = [
    ApiRoute("/api/auth/anonymous-token", anonymous_token, methods=["POST"]),
    ApiRoute("/api/auth/claim-token", claim_token, methods=["POST"]),
    ApiRoute("/workspace/claim", claim_page, methods=["GET"]),
]
