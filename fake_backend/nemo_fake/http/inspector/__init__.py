"""The inspector: pages under `/_fake/ui` that draw what the fake saw and did (sessions, their
timelines, clips, conversations and renders; the journal, live; the ledger) and drive it (the
clock, fault rules, snapshots, reset). Same access rule as the control API; every asset is
served by the fake, so it works offline."""

from __future__ import annotations

from nemo_fake.http.api_route import ApiRoute
from nemo_fake.http.inspector import assets, pages, stream
from nemo_fake.http.inspector.pages import PREFIX

routes = [
    ApiRoute(PREFIX, pages.sessions, methods=["GET"]),
    ApiRoute(f"{PREFIX}/sessions/{{session_id}}", pages.session, methods=["GET"]),
    ApiRoute(f"{PREFIX}/journal", pages.journal, methods=["GET"]),
    ApiRoute(f"{PREFIX}/journal/stream", stream.journal_stream, methods=["GET"]),
    ApiRoute(f"{PREFIX}/ledger", pages.ledger, methods=["GET"]),
    ApiRoute(f"{PREFIX}/controls", pages.controls, methods=["GET"]),
    ApiRoute(f"{PREFIX}/static/{{name}}", assets.asset, methods=["GET"]),
]
