"""Where every request enters the fake's app, and where an exception becomes an answer.

Starlette puts two layers around an app's routes: one for unexpected errors (a 500), one
that maps expected exceptions to answers, and each wraps every request's `send` to learn
whether its answer has started. The fake does both here, in the layer that also journals
requests: an answer noted in the journal (http/recorder.py) is one that has started, so
nothing needs wrapping. With the journal's own bookkeeping this one layer costs a request
less than Starlette's two.
"""

from __future__ import annotations

import logging
import time

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from nemo_fake.domain.backend import NemoBackend
from nemo_fake.errors import ApiError, Code
from nemo_fake.http.context import BACKEND_KEY, backend_of
from nemo_fake.http.envelope import error_response
from nemo_fake.http.offload import request_seen
from nemo_fake.http.recorder import (
    ARRIVED_KEY,
    CLIENT_GONE,
    NOTED_KEY,
    journal_unanswered,
    note_answer,
    printable,
)

logger = logging.getLogger("nemo_fake")

HTTP_CODES = {404: Code.NOT_FOUND, 405: Code.METHOD_NOT_ALLOWED}
# What the app answers for itself when a route raises it; anything else is a bug (a 500).
ANSWERED = (ApiError, HTTPException, ClientDisconnect)


class Front:
    """Puts the backend and the arrival time in each request's scope, answers the exceptions
    in ANSWERED (and any other with a 500), and journals a request that ends with no answer
    (the app failed, or its client left first) as status 0."""

    def __init__(self, app: ASGIApp, backend: NemoBackend) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[BACKEND_KEY] = self.backend
        scope[ARRIVED_KEY] = (self.backend.clock.now(), time.perf_counter())
        request_seen()
        try:
            await self.app(scope, receive, send)
        except ANSWERED as error:
            if NOTED_KEY in scope:  # the answer has started: too late for another
                raise RuntimeError(
                    "Caught handled exception, but response already started."
                ) from error
            response = answer_for(Request(scope, receive), error)
            await response(scope, receive, send)
        except Exception as error:
            # A bug in the fake: journaled as unanswered, answered with a 500 when nothing
            # was sent yet, and raised again for the server to log, as Starlette's error
            # layer (left out: its own wrapper of `send` is not needed here either) does.
            if NOTED_KEY not in scope:
                journal_unanswered(scope)
                await unexpected_error(Request(scope, receive), error)(scope, receive, send)
            raise
        finally:
            if NOTED_KEY not in scope:
                journal_unanswered(scope)


def answer_for(request: Request, error: Exception) -> Response:
    """The answer to an exception in ANSWERED, noted in the journal."""
    config = backend_of(request).config
    if isinstance(error, ApiError):
        response: Response = error_response(error, config)
    elif isinstance(error, HTTPException):
        response = error_response(ApiError(HTTP_CODES.get(error.status_code, Code.BAD_REQUEST)),
                                  config)  # fmt: skip
        # Starlette's own headers for the error, such as Allow on a 405.
        response.headers.update(error.headers or {})
    else:
        # An ordinary end, not a bug: the client hung up before its request was read
        # (mid-upload, say). Nobody is there to read an answer; the journal keeps it as a 499
        # (nginx's "client closed request") and the log says so in one line.
        logger.info("%s %s: the client went away", request.method, printable(request.url.path))
        response = Response(status_code=CLIENT_GONE)
    note_answer(request.scope, response)
    return response


def unexpected_error(request: Request, error: Exception) -> Response:
    """A bug in the fake, not a behaviour of the API: said plainly, never a traceback."""
    logger.error(
        "internal error in the fake on %s %s",
        request.method,
        printable(request.url.path),
        exc_info=error,
    )
    body = {"code": 500, "message": "Internal error in nemo-fake (a bug: please report it)"}
    return JSONResponse(body, status_code=500)
