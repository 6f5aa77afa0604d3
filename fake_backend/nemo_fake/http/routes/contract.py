"""`GET /openapi.json`: the OpenAPI document of the fake as it runs now."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from nemo_fake.http.api_route import ApiRoute
from nemo_fake.http.context import backend_of


def package_version() -> str:
    try:
        return version("nemo-fake")
    except PackageNotFoundError:  # a checkout on sys.path, not installed
        return "0+unknown"


async def openapi(request: Request) -> Response:
    from nemo_fake.http.openapi import build  # the document imports every route module

    return JSONResponse(build(request.app.routes, backend_of(request).config, package_version()))


routes = [ApiRoute("/openapi.json", openapi, methods=["GET"])]
