"""The Starlette application factory."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from nemo_fake.clock import Clock
from nemo_fake.config import FakeConfig
from nemo_fake.domain.backend import NemoBackend
from nemo_fake.http.front import Front
from nemo_fake.http.inspector import routes as inspector_routes
from nemo_fake.http.recorder import noting_send
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
    app = _FakeApp()
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


class _FakeApp(Starlette):
    def build_middleware_stack(self) -> ASGIApp:
        # Starlette's two error layers are left out: Front answers what they would. Middleware
        # a user adds (app.add_middleware) goes around it, so it sees every answer.
        app: ASGIApp = Front(self.router, self.state.backend)
        for cls, args, kwargs in reversed(self.user_middleware):
            app = cls(app, *args, **kwargs)
        return app


class _Router(IndexedRouter):
    async def undecided(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Starlette answers some of these itself (a redirect), where no answer can be noted.
        if scope["type"] == "http":
            send = noting_send(scope, send)
        await super().undecided(scope, receive, send)
