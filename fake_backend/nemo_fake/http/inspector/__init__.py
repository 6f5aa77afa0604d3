"""The inspector: pages under `/_fake/ui` that draw what the fake saw and did (sessions, their
timelines, clips, conversations and renders; the journal, live; the ledger) and drive it (the
clock, fault rules, snapshots, reset). Same access rule as the control API; every asset is
served by the fake, so it works offline."""

from __future__ import annotations

from starlette.routing import Route

from nemo_fake.http.inspector import assets, pages, stream
from nemo_fake.http.inspector.pages import PREFIX

routes = [
    Route(PREFIX, pages.sessions, methods=["GET"]),
    Route(f"{PREFIX}/sessions/{{session_id}}", pages.session, methods=["GET"]),
    Route(f"{PREFIX}/journal", pages.journal, methods=["GET"]),
    Route(f"{PREFIX}/journal/stream", stream.journal_stream, methods=["GET"]),
    Route(f"{PREFIX}/ledger", pages.ledger, methods=["GET"]),
    Route(f"{PREFIX}/controls", pages.controls, methods=["GET"]),
    Route(f"{PREFIX}/static/{{name}}", assets.asset, methods=["GET"]),
]
