"""The fake's router tries only the routes a path could match: it must always choose the route,
the 405 or the 404 that Starlette's own router would."""

from __future__ import annotations

import itertools

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route, Router
from starlette.types import Message

from nemo_fake import create_app
from nemo_fake.http.router import IndexedRouter, path_key, route_key


def _routes() -> list[Route]:
    def answer(name: str) -> Route:
        async def endpoint(request: Request) -> Response:
            return PlainTextResponse(f"{name} {sorted(request.path_params.items())}")

        return endpoint  # type: ignore[return-value]

    # Shadowing on purpose: a parameter route before a literal one it also matches, one path
    # with two routes for two methods, a catch-all, and a path parameter spanning segments.
    specs = [
        ("/api/{kind}/list", ["GET"]),
        ("/api/users/list", ["GET"]),
        ("/api/users/{user_id}", ["GET"]),
        ("/api/users/{user_id}", ["POST"]),
        ("/run_sse", ["POST"]),
        ("/files/{name:path}", ["GET"]),
        ("/", ["GET"]),
        ("/{anything}/tail", ["GET", "DELETE"]),
    ]
    return [Route(path, answer(f"{path} {methods}"), methods=methods) for path, methods in specs]


def _app(router: type[Router]) -> Starlette:
    app = Starlette()
    app.router = router(routes=_routes())
    return app


# Every path of up to three of these segments: the shadowing above needs exact combinations,
# which a handful of random examples would rarely meet.
SEGMENTS = ["api", "users", "list", "run_sse", "files", "tail", "7", ""]
PATHS = ["/" + "/".join(parts) for n in range(4) for parts in itertools.product(SEGMENTS, repeat=n)]
METHODS = ["GET", "POST", "DELETE"]


async def _answer(app: Starlette, method: str, path: str) -> list[Message]:
    """The messages the app sends for one request (straight ASGI: any path, even `////x`)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "root_path": "", "query_string": b"", "headers": [(b"host", b"t")],
             "client": ("127.0.0.1", 1), "server": ("t", 80)}  # fmt: skip
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


async def test_every_request_gets_what_starlettes_router_would_answer() -> None:
    starlettes, indexed = _app(Router), _app(IndexedRouter)
    for path in PATHS:
        for method in METHODS:
            expected = await _answer(starlettes, method, path)
            assert await _answer(indexed, method, path) == expected, (method, path)


def test_a_route_is_indexed_by_its_literal_leading_segments_only() -> None:
    keys = [route_key(route) for route in _routes()]
    assert keys == [None, ("api", "users"), ("api", "users"), ("api", "users"), ("run_sse",),
                    None, ("",), None]  # fmt: skip
    assert path_key("/api/users/7/more") == ("api", "users")
    assert path_key("/run_sse") == ("run_sse",)


async def test_routes_added_after_the_first_request_are_found() -> None:
    app = _app(IndexedRouter)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert (await http.get("/late/route")).status_code == 404
        app.router.routes.append(Route("/late/route", lambda request: PlainTextResponse("here")))
        assert (await http.get("/late/route")).text == "here"


def test_the_fake_uses_it() -> None:
    assert isinstance(create_app().router, IndexedRouter)
