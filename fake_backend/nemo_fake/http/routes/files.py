"""Uploaded files served back at their `cdn_url`, so every URL the fake hands out works offline."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from nemo_fake.errors import ApiError, Code
from nemo_fake.http.api_route import ApiRoute
from nemo_fake.http.context import backend_of
from nemo_fake.http.offload import off_loop
from nemo_fake.http.sendfile import FileAnswer


async def uploaded_file(request: Request) -> Response:
    backend = backend_of(request)
    stored = await off_loop(
        backend.stored_file, request.path_params["file_id"], request.path_params["filename"]
    )
    if stored.path is None:
        raise ApiError(Code.NOT_FOUND, "No such file")
    return FileAnswer(stored.path, filename=stored.filename)


routes = [ApiRoute("/cdn/uploads/{file_id}/{filename}", uploaded_file, methods=["GET"])]
