"""The inspector's pages under `/_fake/ui`: sessions, one session, the journal, the ledger and
the controls. Each reads the backend once (`views`) and draws it with a template; the controls
act through the control API's own routes, from the page's script."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from nemo_fake.domain.backend import NemoBackend
from nemo_fake.domain.faults import OPERATIONS
from nemo_fake.errors import ERROR_TABLE, ApiError, Code
from nemo_fake.http.admission import admit
from nemo_fake.http.context import backend_of
from nemo_fake.http.inspector import views
from nemo_fake.http.inspector.curl import curl_command
from nemo_fake.http.inspector.templating import templates
from nemo_fake.http.routes.renders import output_url

PREFIX = "/_fake/ui"
# Entries the journal page draws when it opens; newer ones arrive on its stream.
JOURNAL_ROWS = 200
# What a browser needs to ask for the admin token (as a Basic password) and send it on.
CHALLENGE = {"WWW-Authenticate": 'Basic realm="nemo-fake /_fake/", charset="UTF-8"'}


def admit_page(request: Request) -> Response | None:
    """None when the caller may see the inspector; otherwise the answer to give. Without the
    admin token a browser is asked for it; elsewhere the control API's own rule answers."""
    try:
        admit(request)
    except ApiError as error:
        if error.code is not Code.BAD_TOKEN:
            raise
        return HTMLResponse(
            "<!doctype html><title>nemo-fake</title><p>The inspector needs the admin token: "
            "give it as the password (any user name).</p>",
            status_code=401,
            headers=CHALLENGE,
        )
    return None


def _page(request: Request, name: str, **context: Any) -> Response:
    backend = backend_of(request)
    return templates.TemplateResponse(
        request,
        name,
        {"prefix": PREFIX, "now": backend.now(), "page": name.removesuffix(".html"), **context},
        headers={"Cache-Control": "no-store"},
    )


Page = Callable[[Request], Awaitable[Response]]


def _accounts_page(name: str, view: Callable[[NemoBackend], Any]) -> Page:
    """A page drawing every account, as `view` reads them under the backend's lock."""

    async def page(request: Request) -> Response:
        if refused := admit_page(request):
            return refused
        return _page(request, name, accounts=backend_of(request).observe(view))

    return page


sessions = _accounts_page("sessions.html", views.accounts)
ledger = _accounts_page("ledger.html", views.ledger)


async def session(request: Request) -> Response:
    if refused := admit_page(request):
        return refused
    session_id = request.path_params["session_id"]
    found = backend_of(request).observe(
        lambda backend: views.session_page(
            backend, session_id, lambda job: output_url(request, job)
        )
    )
    if found is None:
        raise ApiError(Code.SESSION_NOT_FOUND, f"No session {session_id!r}")
    return _page(request, "session.html", session=found)


async def journal(request: Request) -> Response:
    if refused := admit_page(request):
        return refused
    kept = backend_of(request).journal
    entries = kept.find(since=max(0, kept.recorded - JOURNAL_ROWS))
    base_url = str(request.base_url)
    return _page(
        request,
        "journal.html",
        rows=[(entry, curl_command(entry, base_url)) for entry in reversed(entries)],
        last_seq=entries[-1].seq if entries else 0,
        operations=OPERATIONS,
    )


async def controls(request: Request) -> Response:
    if refused := admit_page(request):
        return refused
    return _page(
        request,
        "controls.html",
        controls=backend_of(request).observe(views.controls),
        operations=OPERATIONS,
        codes=[(int(code), spec.message) for code, spec in ERROR_TABLE.items()],
    )
