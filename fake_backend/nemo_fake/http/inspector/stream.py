"""The journal page's live feed: `GET /_fake/ui/journal/stream`, Server-Sent Events carrying
each new entry as the table row the page shows, drawn by the same template as the page's own
rows. The page's `EventSource` reconnects by itself, resuming after the last entry it got."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import Response

from nemo_fake.domain.backend import NemoBackend
from nemo_fake.http.context import backend_of
from nemo_fake.http.inspector.curl import curl_command
from nemo_fake.http.inspector.pages import admit_page
from nemo_fake.http.inspector.templating import templates

# Wall seconds between looks at the journal: quick enough to look live, and a look costs only
# the entries that are new (Journal.find pages by seq).
POLL_SECONDS = 0.2
ROW = templates.get_template("journal_row.html")


async def journal_stream(request: Request) -> Response:
    if refused := admit_page(request):
        return refused
    since = _since(request)
    return EventSourceResponse(_entries(backend_of(request), str(request.base_url), since), ping=15)


def _since(request: Request) -> int:
    # EventSource sends the last id it saw when it reconnects; the page's first request says
    # which entry it drew last.
    text = request.headers.get("last-event-id") or request.query_params.get("since") or "0"
    return int(text) if text.isdigit() else 0


async def _entries(
    backend: NemoBackend, base_url: str, since: int
) -> AsyncIterator[ServerSentEvent]:
    journal = backend.journal
    while True:
        if backend.journal is not journal:  # a reset made a new journal, numbered from 1
            journal, since = backend.journal, 0
        for entry in journal.find(since=since):
            since = entry.seq
            row = ROW.render(entry=entry, curl=curl_command(entry, base_url))
            yield ServerSentEvent(data=row, event="entry", id=str(entry.seq))
        await asyncio.sleep(POLL_SECONDS)
