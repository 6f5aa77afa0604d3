"""The Starlette application factory."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from nemo_fake.clock import Clock
from nemo_fake.config import FakeConfig
from nemo_fake.domain.backend import NemoBackend
from nemo_fake.errors import ApiError, Code
from nemo_fake.http.envelope import error_response
from nemo_fake.http.inspector import routes as inspector_routes
from nemo_fake.http.recorder import (
    CLIENT_GONE,
    RequestRecorder,
    note_answer,
    noting_send,
    printable,
)
from nemo_fake.http.router import IndexedRouter
from nemo_fake.http.routes import (
    accounts,
    agent,
    contract,
    control,
    files,
    renders,
    sessions,
    undocumented,
    uploads,
)

logger = logging.getLogger("nemo_fake")

HTTP_CODES = {404: Code.NOT_FOUND, 405: Code.METHOD_NOT_ALLOWED}


def create_app(
    backend: NemoBackend | None = None,
    *,
    config: FakeConfig | None = None,
    clock: Clock | None = None,
    admin_token: str | None = None,
) -> Starlette:
    """A fake NemoVideo API. Pass a backend to share state with the caller (tests, CLI).

    The `/_fake/` control API answers loopback clients only, or, given `admin_token`,
    any client that sends it as a bearer."""
    if backend is None:
        backend = NemoBackend(config=config, clock=clock)
    app = Starlette(
        middleware=[Middleware(RequestRecorder, backend=backend)],
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            Exception: _unexpected_error,
        },
    )
    app.router = _Router(
        routes=[
            *accounts.routes,
            *sessions.routes,
            *uploads.routes,
            *undocumented.routes,
            *renders.routes,
            *files.routes,
            *agent.routes,
            *control.routes,
            *inspector_routes,
            *contract.routes,
        ]
    )
    app.state.backend = backend
    app.state.admin_token = admin_token
    return app


class _Router(IndexedRouter):
    async def undecided(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Starlette answers some of these itself (a redirect), where no answer can be noted.
        if scope["type"] == "http":
            send = noting_send(scope, send)
        await super().undecided(scope, receive, send)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    response = error_response(exc, request.app.state.backend.config)
    note_answer(request.scope, response)
    return response


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, Code.BAD_REQUEST)
    response = error_response(ApiError(code), request.app.state.backend.config)
    # Starlette's own headers for the error, such as Allow on a 405.
    response.headers.update(exc.headers or {})
    note_answer(request.scope, response)
    return response


async def _client_gone(request: Request, exc: Exception) -> Response:
    # An ordinary end, not a bug: the client hung up before its request was read (mid-upload,
    # say). Nobody is there to read an answer; the journal keeps it as a 499 (nginx's "client
    # closed request") and the log says so in one line.
    logger.info("%s %s: the client went away", request.method, printable(request.url.path))
    response = Response(status_code=CLIENT_GONE)
    note_answer(request.scope, response)
    return response


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    # A bug in the fake, not a behaviour of the API: say so plainly, never a traceback.
    logger.exception(
        "internal error in the fake on %s %s", request.method, printable(request.url.path)
    )
    body = {"code": 500, "message": "Internal error in nemo-fake (a bug: please report it)"}
    return JSONResponse(body, status_code=500)
