"""The inspector's script and style sheet, served by the fake itself (it works offline), under
the same access rule as its pages. Only the files shipped here are served, by name."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from nemo_fake.errors import ApiError, Code
from nemo_fake.http.inspector.pages import admit_page

STATIC = Path(__file__).parent / "static"
MEDIA_TYPES = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
ASSETS = {path.name: path for path in STATIC.iterdir() if path.suffix in MEDIA_TYPES}


async def asset(request: Request) -> Response:
    if refused := admit_page(request):
        return refused
    path = ASSETS.get(request.path_params["name"])
    if path is None:
        raise ApiError(Code.NOT_FOUND, "No such inspector asset")
    return FileResponse(
        path, media_type=MEDIA_TYPES[path.suffix], headers={"Cache-Control": "no-cache"}
    )
