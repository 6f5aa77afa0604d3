"""A Starlette router that tries only the routes a path could match.

Starlette's router tries every route in order; the fake has dozens, so a request to one near
the end paid for a regular expression per route before it (a fifth of a small request's
cost). Routes whose first two path segments are literal are grouped by them; a request tries
its group and the routes that could match anything there, in their original order, so the
route chosen is always the one Starlette's own loop would choose.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import Receive, Scope, Send

Key = tuple[str, ...]
# How many leading segments index a route: the fake's paths part ways in their first two.
INDEXED_SEGMENTS = 2


def route_key(route: BaseRoute) -> Key | None:
    """The literal leading segments every path this route matches starts with, or None when it
    could match a path starting with anything (a parameter there, a mount, a host)."""
    if not isinstance(route, Route):
        return None
    segments = tuple(route.path_format.split("/")[1 : 1 + INDEXED_SEGMENTS])
    if any("{" in segment for segment in segments):
        return None
    return segments


def path_key(path: str) -> Key:
    return tuple(path.split("/", 1 + INDEXED_SEGMENTS)[1 : 1 + INDEXED_SEGMENTS])


class IndexedRouter(Router):
    _indexed: int = -1  # how many routes the index was built from: rebuilt when they change
    _by_key: dict[Key, list[BaseRoute]]
    _anywhere: list[BaseRoute]
    # The routes that could match each path a route names without parameters, found once by
    # trying every route on it: most requests to such a path cost one lookup.
    _by_path: dict[str, list[BaseRoute]]

    def _index(self) -> None:
        keys = [route_key(route) for route in self.routes]
        pairs = list(zip(self.routes, keys, strict=True))
        self._anywhere = [route for route, key in pairs if key is None]
        self._by_key = {
            key: [route for route, other in pairs if other in (key, None)]
            for key in keys
            if key is not None
        }
        self._by_path = {}
        for route in self.routes:
            if isinstance(route, Route) and not route.param_convertors:
                self._by_path[route.path] = [
                    other
                    for other in self.routes
                    if not isinstance(other, Route) or other.path_regex.match(route.path)
                ]
        self._indexed = len(self.routes)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("root_path"):
            await self.undecided(scope, receive, send)
            return
        if self._indexed != len(self.routes):
            self._index()
        path = scope["path"]
        candidates = self._by_path.get(path)
        if candidates is None:
            candidates = self._by_key.get(path_key(path), self._anywhere)
        for route in candidates:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.setdefault("router", self)
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        await self.undecided(scope, receive, send)

    async def undecided(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A wrong method, a redirect or a 404 (and any scope the index does not cover): rare,
        so Starlette's own loop decides them."""
        await super().app(scope, receive, send)
