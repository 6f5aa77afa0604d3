"""What a request carries through the app besides itself: the backend that serves it."""

from __future__ import annotations

from starlette.requests import Request

from nemo_fake.domain.backend import NemoBackend

#: Where Front (http/front.py) leaves the app's backend for a request: one lookup, not one a use.
BACKEND_KEY = "nemo.backend"


def backend_of(request: Request) -> NemoBackend:
    backend: NemoBackend = request.scope.get(BACKEND_KEY) or request.app.state.backend
    return backend
