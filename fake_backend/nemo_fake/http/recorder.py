"""Per-request bookkeeping in one place: a readable log line and a journal entry for each answer.

Only method, path, status, code and time are kept: never a header or a query string, so a
token can't reach the log or the journal.

An answer is journaled as it starts, so before its last byte leaves: a client holding its
answer can read the journal and find it there. Where the answer is built says so
(`note_answer`): an ApiRoute for its handler's answer, the app's error handlers for theirs.
Only an answer that may not start (a file, gone from disk) or that Starlette sends itself (a
redirect) is noted from its start message (`noting_send`): wrapping every request's `send` to
learn its status was a fifth of a small request's cost.
"""

from __future__ import annotations

import logging
import time

from starlette.responses import Response
from starlette.types import Message, Scope, Send

from nemo_fake.http.context import BACKEND_KEY
from nemo_fake.http.envelope import Envelope
from nemo_fake.http.faults import FAULT_HEADER, FAULT_KEY, OPERATION_KEY

logger = logging.getLogger("nemo_fake.requests")
CONTROL_PREFIX = "/_fake/"
# The status a request gets in the journal when its client hung up before it was answered.
CLIENT_GONE = 499
# In the scope: when the request arrived (API time, wall clock), and whether it was journaled.
ARRIVED_KEY = "nemo.arrived"
NOTED_KEY = "nemo.noted"


def journal_unanswered(scope: Scope) -> None:
    """Journal a request that ended with no answer: the app failed, or its client left first."""
    _record(scope, 0, None)


def note_answer(scope: Scope, response: Response) -> None:
    """Journal (and log) `response` as it is about to be sent; an answer a fault rule shaped
    says so in a header. Its start must follow: a file's may not (see `noting_send`)."""
    if NOTED_KEY in scope:
        return
    fault = _fault_header(scope)
    if fault is not None:
        response.raw_headers.append(fault)
    _record(scope, response.status_code, response.code if isinstance(response, Envelope) else None)


def noting_send(scope: Scope, send: Send) -> Send:
    """`send`, noting the answer from its start message: for answers that may fail before
    they start."""

    async def send_and_note(message: Message) -> None:
        if message["type"] == "http.response.start" and NOTED_KEY not in scope:
            fault = _fault_header(scope)
            if fault is not None:
                message = {**message, "headers": [*message.get("headers", []), fault]}
            _record(scope, message["status"], None)
        await send(message)

    return send_and_note


def _fault_header(scope: Scope) -> tuple[bytes, bytes] | None:
    """The header that names the fault rule that shaped this answer, if one did: it is the
    test's doing, not the API's."""
    rule = scope.get(FAULT_KEY)
    return None if rule is None else (FAULT_HEADER, rule.id.encode("latin-1", "replace"))


def _record(scope: Scope, status: int, code: int | None) -> None:
    scope[NOTED_KEY] = True
    arrived, started = scope[ARRIVED_KEY]
    elapsed_ms = (time.perf_counter() - started) * 1000
    path = scope["path"]
    if logger.isEnabledFor(logging.INFO):  # the line is built only to be written
        logger.info("%s %s -> %s (%.1f ms)", scope["method"], printable(path), status,
                    elapsed_ms)  # fmt: skip
    if not path.startswith(CONTROL_PREFIX):
        scope[BACKEND_KEY].journal.record(
            scope["method"], path, status, code, scope.get(OPERATION_KEY), arrived, elapsed_ms
        )


def printable(text: str) -> str:
    """`text` for a log line: control characters escaped, so a decoded `%0a` in a path cannot
    start a forged line, nor `%00` write a NUL byte."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
