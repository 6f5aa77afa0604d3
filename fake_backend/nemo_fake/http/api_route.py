"""How an API route is served: in one step, from the request to its envelope.

Starlette serves a function endpoint through two wrappers per request (one to run it, one
to map its exceptions to answers, each wrapping `send` again), and the fake added a third to
check fault rules. Every API answer is an envelope and nearly every failure an `ApiError`,
so an ApiRoute does all three itself: fault rules, the handler, and an `ApiError` turned
into its envelope by the one error table (`error_response`). Anything else a handler raises
(Starlette's HTTPException, a client gone mid-body, a bug) is answered by `Front`
(http/front.py). Each answer is noted in the journal as it is sent (http/recorder.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from nemo_fake.errors import ApiError
from nemo_fake.http.context import backend_of
from nemo_fake.http.envelope import error_response
from nemo_fake.http.faults import OPERATION_KEY, Handler, fault_answer, operation_of
from nemo_fake.http.recorder import note_answer, noting_send


class ApiRoute(Route):
    """A route to an async handler that answers with the envelope."""

    def __init__(self, path: str, endpoint: Handler, *, methods: Sequence[str]) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            raise TypeError(f"{path}: an ApiRoute's handler is async")
        super().__init__(path, endpoint, methods=list(methods))
        self.handler = endpoint
        self.operation = operation_of(endpoint)
        self.app = self.serve

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        backend = backend_of(request)
        try:
            response = None
            if self.operation is not None:
                scope[OPERATION_KEY] = self.operation
                rule = backend.faults.check(self.operation)
                if rule is not None:
                    response = await fault_answer(rule, scope)
            if response is None:
                response = await self.handler(request)
        except ApiError as error:
            response = error_response(error, backend.config)
        if isinstance(response, FileResponse):  # its file may be gone: noted if it starts
            await response(scope, receive, noting_send(scope, send))
        else:  # starts as soon as it is called, a stream too
            note_answer(scope, response)
            await response(scope, receive, send)
