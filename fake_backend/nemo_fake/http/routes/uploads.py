"""Uploads: multipart files streamed to disk, or URLs recorded without fetching."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from nemo_fake.errors import ApiError, Code
from nemo_fake.http.api_route import ApiRoute
from nemo_fake.http.auth import authenticate, check_app_name, check_user_segment
from nemo_fake.http.body import JsonBody, Text, TextList, json_object
from nemo_fake.http.context import backend_of
from nemo_fake.http.envelope import ok
from nemo_fake.http.faults import operation
from nemo_fake.http.multipart import receive_files
from nemo_fake.http.offload import off_loop

URLS = TextList(
    "urls", lambda config: config.max_urls_per_upload, description="Links, never fetched"
)
SOURCE_TYPE = Text("source_type", default="url", choices=("url",))
URL_BODY = JsonBody((URLS, SOURCE_TYPE))


@operation("upload")
async def upload(request: Request) -> Response:
    account = authenticate(request)
    check_app_name(request.path_params["app"])
    check_user_segment(account, request.path_params["user"])
    backend = backend_of(request)
    session_id = request.path_params["session_id"]
    # Unknown sessions are refused before a possibly huge body is read.
    backend.session(account, session_id)
    base_url = str(request.base_url)
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        body = await json_object(request)
        SOURCE_TYPE.read(body)
        urls = URLS.read(body, backend.config)
        stored = backend.add_urls(account, session_id, urls, base_url)
    elif media_type == "multipart/form-data":
        limit = backend.config.max_upload_bytes
        declared = _declared_length(request)
        _refuse_declared_oversize(declared, limit)
        # Renders are evicted to make room (a directory walk: off the event loop).
        # Without a Content-Length, make room for the most a request may carry.
        wanted = limit if declared is None else declared
        room = backend.disk.room_if_clear(wanted)
        if room is None:
            room = await off_loop(backend.disk.room_for_upload, wanted)
        if declared is not None and declared > room:
            raise backend.disk.refuse_upload(room)
        try:
            received = await receive_files(
                request.stream(),
                content_type,
                field="files",
                dest_dir=backend.upload_dir,
                max_bytes=min(limit, room),
            )
        except ApiError as error:
            if error.code == Code.FILE_TOO_LARGE and room < limit:
                raise backend.disk.refuse_upload(room) from None
            raise
        # Probing reads file headers from disk: keep it off the event loop.
        stored = await off_loop(backend.add_files, account, session_id, received, base_url)
    else:
        raise ApiError(
            Code.BAD_REQUEST,
            "Content-Type must be multipart/form-data (field 'files') or application/json",
        )
    return ok({"files": [item.info() for item in stored], "session_state_applied": True})


def _declared_length(request: Request) -> int | None:
    declared = request.headers.get("content-length", "")
    return int(declared) if declared.isdigit() else None


def _refuse_declared_oversize(declared: int | None, limit: int) -> None:
    if declared is not None and declared > limit:
        raise ApiError(
            Code.FILE_TOO_LARGE,
            f"File too large: {declared} bytes declared, the limit is "
            f"{limit // (1024 * 1024)} MB per upload request",
        )


routes = [
    ApiRoute("/api/upload-video/{app}/{user}/{session_id}", upload, methods=["POST"]),
]
