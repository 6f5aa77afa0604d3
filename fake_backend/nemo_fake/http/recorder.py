"""Per-request bookkeeping in one place (RequestRecorder): a readable log line and a journal entry.

Only method, path, status, code and time are kept: never a header or a query string, so a
token can't reach the log or the journal.
"""

from __future__ import annotations

import logging
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nemo_fake.http.faults import FAULT_HEADER, FAULT_KEY, OPERATION_KEY
from nemo_fake.http.offload import request_ended, request_started

logger = logging.getLogger("nemo_fake.requests")
CONTROL_PREFIX = "/_fake/"
# The status a request gets in the journal when its client hung up before it was answered.
CLIENT_GONE = 499
# Every envelope the fake sends starts with its code ({"code": N, ...}): the first bytes tell
# it, without parsing a body that may be large.
CODE_PREFIX = 32
ENVELOPE_CODE = re.compile(rb'^\{"code":\s*(-?\d+)[,}]')


class RequestRecorder:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Read once: the request is journaled by the backend that served it.
        backend = scope["app"].state.backend
        arrived = backend.now()
        started = time.perf_counter()
        status = 0
        elapsed_ms = 0.0
        is_json = False
        body = bytearray()

        recorded = False

        def record() -> None:
            # Once, before the response's last byte leaves: a client that has its answer can
            # read the journal and find the request there.
            nonlocal recorded
            if recorded:
                return
            recorded = True
            if logger.isEnabledFor(logging.INFO):  # the line is built only to be written
                path = printable(scope["path"])
                logger.info("%s %s -> %s (%.1f ms)", scope["method"], path, status, elapsed_ms)
            if not scope["path"].startswith(CONTROL_PREFIX):
                backend.journal.record(
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    code=_code(bytes(body[:CODE_PREFIX])) if is_json else None,
                    operation=scope.get(OPERATION_KEY),
                    at=arrived,
                    duration_ms=round(elapsed_ms, 3),
                )

        async def send_and_note(message: Message) -> None:
            nonlocal status, elapsed_ms, is_json
            if message["type"] == "http.response.start":
                rule = scope.get(FAULT_KEY)
                if rule is not None:
                    # Say which rule shaped the answer: it is the test's doing, not the API's.
                    fault = (FAULT_HEADER, rule.id.encode("latin-1", "replace"))
                    message = {**message, "headers": [*message.get("headers", []), fault]}
                status = message["status"]
                elapsed_ms = (time.perf_counter() - started) * 1000
                is_json = any(
                    k.lower() == b"content-type" and v.startswith(b"application/json")
                    for k, v in message.get("headers", [])
                )
            elif message["type"] == "http.response.body":
                if is_json and len(body) < CODE_PREFIX:
                    body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    record()
            await send(message)

        request_started()
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            record()  # a response that never finished (a client gone, a cut stream) too
            request_ended()


def printable(text: str) -> str:
    """`text` for a log line: control characters escaped, so a decoded `%0a` in a path cannot
    start a forged line, nor `%00` write a NUL byte."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def _code(start: bytes) -> int | None:
    found = ENVELOPE_CODE.match(start)
    return int(found.group(1)) if found else None
