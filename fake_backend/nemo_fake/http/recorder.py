"""Per-request bookkeeping in one place (RequestRecorder): a readable log line and a journal entry.

Only method, path, status, code and time are kept: never a header or a query string, so a
token can't reach the log or the journal.
"""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nemo_fake.domain.backend import NemoBackend
from nemo_fake.http.context import BACKEND_KEY
from nemo_fake.http.envelope import CODE_KEY
from nemo_fake.http.faults import FAULT_HEADER, FAULT_KEY, OPERATION_KEY
from nemo_fake.http.offload import request_seen

logger = logging.getLogger("nemo_fake.requests")
CONTROL_PREFIX = "/_fake/"
# The status a request gets in the journal when its client hung up before it was answered.
CLIENT_GONE = 499


class RequestRecorder:
    """Journals every request outside the control API, and logs each one when asked to.

    On the hot path of every request: it learns the status from the response's start and the
    envelope code from the scope (where `Envelope` leaves it), and builds a log line only
    when one will be written."""

    def __init__(self, app: ASGIApp, backend: NemoBackend) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope[BACKEND_KEY] = self.backend
        arrived = self.backend.now()
        started = time.perf_counter()
        answered = False

        async def send_and_note(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                rule = scope.get(FAULT_KEY)
                if rule is not None:
                    # Say which rule shaped the answer: it is the test's doing, not the API's.
                    fault = (FAULT_HEADER, rule.id.encode("latin-1", "replace"))
                    message = {**message, "headers": [*message.get("headers", []), fault]}
                # Journaled as its answer starts, so before its last byte leaves: a client
                # holding its answer can read the journal and find it there. All the entry
                # needs is known by then, the envelope code included.
                answered = True
                self._record(scope, message["status"], arrived, started)
            await send(message)

        request_seen()
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            if not answered:  # no answer began: the app failed, or its client left first
                self._record(scope, 0, arrived, started)

    def _record(self, scope: Scope, status: int, arrived: float, started: float) -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        path = scope["path"]
        if logger.isEnabledFor(logging.INFO):  # the line is built only to be written
            logger.info("%s %s -> %s (%.1f ms)", scope["method"], printable(path), status,
                        elapsed_ms)  # fmt: skip
        if not path.startswith(CONTROL_PREFIX):
            self.backend.journal.record(
                scope["method"], path, status, scope.get(CODE_KEY), scope.get(OPERATION_KEY),
                arrived, elapsed_ms,
            )  # fmt: skip


def printable(text: str) -> str:
    """`text` for a log line: control characters escaped, so a decoded `%0a` in a path cannot
    start a forged line, nor `%00` write a NUL byte."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
