"""Render jobs: submit, poll (in each documented body shape), cancel, download."""

from __future__ import annotations

import functools
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from nemo_fake.domain import draft as drafts
from nemo_fake.domain.backend import NemoBackend
from nemo_fake.domain.renders import OUTPUT_SCHEMA, RENDER_ID, RenderJob
from nemo_fake.errors import ApiError, Code
from nemo_fake.http.api_route import ApiRoute
from nemo_fake.http.auth import authenticate
from nemo_fake.http.body import Anything, JsonBody, Text, json_object
from nemo_fake.http.context import backend_of
from nemo_fake.http.envelope import Envelope
from nemo_fake.http.faults import Handler, fired_rule, operation
from nemo_fake.http.offload import off_loop
from nemo_fake.http.sendfile import FileAnswer

MP4 = "video/mp4"


RENDER_ID_FIELD = Text(
    "id", max_length=128, pattern=RENDER_ID.pattern, description="A new id for every render"
)
SESSION_ID_FIELD = Text("sessionId", description="The session the draft is from")
DRAFT = Anything(
    "draft",
    lambda config: drafts.renderable_schema(config.max_render_ms),
    description="The state's draft: one that is not ready is a 422, one too long a 400",
)
OUTPUT = Anything(
    "output", lambda config: OUTPUT_SCHEMA, required=False, nullable=True,
    description="Defaults to mp4, high",
)  # fmt: skip
RENDER_BODY = JsonBody((RENDER_ID_FIELD, SESSION_ID_FIELD, DRAFT, OUTPUT))


@operation("render_submit")
async def submit(request: Request) -> Response:
    account = authenticate(request, call="export")
    body = await json_object(request)
    draft = DRAFT.read(body)
    output = OUTPUT.read(body)
    if output is not None and not isinstance(output, dict):
        raise ApiError(Code.BAD_REQUEST, "output must be an object", field="output")
    job = backend_of(request).submit_render(
        account,
        render_id=RENDER_ID_FIELD.read(body),
        session_id=SESSION_ID_FIELD.read(body),
        draft=draft,
        output=output,
        fails=bool((rule := fired_rule(request)) and rule.fail_render),
    )
    backend = backend_of(request)
    if backend.config.submit_shape == "reference":
        now = backend.now()
        return Envelope({"success": True, "data": {"id": job.id, **_common(job, now)}})
    return await _job_response(request, job)


@operation("render_poll")
async def poll(request: Request) -> Response:
    account = authenticate(request)
    job = backend_of(request).find_render(account, request.path_params["render_id"])
    return await _job_response(request, job)


@operation("render_cancel")
async def cancel(request: Request) -> Response:
    account = authenticate(request)
    job = backend_of(request).cancel_render(account, request.path_params["render_id"])
    return await _job_response(request, job)


@operation("render_download")
async def download(request: Request) -> Response:
    account = authenticate(request)
    backend = backend_of(request)
    job = backend.find_render(account, request.path_params["render_id"])
    return await _file(backend, job)


async def cdn_render(request: Request) -> Response:
    backend = backend_of(request)
    job = backend.render_by_secret(request.path_params["secret"])
    if request.path_params["name"] != f"{job.id}.mp4":
        raise ApiError(Code.NOT_FOUND, "No such file")
    return await _file(backend, job)


async def _file(backend: NemoBackend, job: RenderJob) -> Response:
    # Made already: nothing to render, so no hop to the work thread just to find it.
    path = backend.made_render(job)
    if path is None:
        path = await off_loop(backend.render_output, job)
    return FileAnswer(path, media_type=MP4, filename=f"{job.id}.mp4")


def output_url(request: Request, job: RenderJob) -> str:
    return f"{str(request.base_url).rstrip('/')}/cdn/renders/{job.file_secret}/{job.id}.mp4"


async def _job_response(request: Request, job: RenderJob) -> Response:
    backend = backend_of(request)
    now = backend.now()
    status = job.status(now)
    url = output_url(request, job) if status == "completed" else None
    shape = backend.config.poll_shape
    if shape == "reference":
        return Envelope({"success": True, "data": _reference_body(job, now, url)})
    if shape == "early":
        return Envelope(await _early_body(backend, job, now, url))
    if shape == "minimal":
        return Envelope({"success": True, "data": {**_common(job, now), "outputUrl": url}})
    return Envelope({"code": int(Code.OK), **_current_body(job, now, url)})


def _common(job: RenderJob, now: float) -> dict[str, Any]:
    body: dict[str, Any] = {"status": job.status(now), "progress": job.progress(now)}
    error = _error(job, now)
    if error:
        body["error"] = error
    return body


def _error(job: RenderJob, now: float) -> str | None:
    status = job.status(now)
    if status == "failed":
        return job.error or "Render failed on the render node; retry with a new id"
    if status == "cancelled":
        return "Render cancelled"
    return None


def _current_body(job: RenderJob, now: float, url: str | None) -> dict[str, Any]:
    """Vendor SKILL.md: `status` at the top level and the file at `output.url`."""
    return {
        "id": job.id,
        "sessionId": job.session_id,
        **_common(job, now),
        "output": {**job.output, "url": url},
    }


def _reference_body(job: RenderJob, now: float, url: str | None) -> dict[str, Any]:
    """api-reference.md: wrapped in `data`, `outputUrl`, ms timestamps."""
    ended = job.ended_at(now)
    return {
        "id": job.id,
        **_common(job, now),
        "outputUrl": url,
        "createdAt": round(job.submitted_at * 1000),
        "completedAt": round(ended * 1000) if ended is not None else None,
    }


async def _early_body(
    backend: NemoBackend, job: RenderJob, now: float, url: str | None
) -> dict[str, Any]:
    """Early SKILL.md: `taskId`, and `output` with the file's duration and size."""
    output: dict[str, Any] | None = None
    if url is not None:
        path = await off_loop(backend.render_output, job)
        output = {"url": url, "duration": job.duration_ms / 1000, "size": path.stat().st_size}
    return {"taskId": job.id, **_common(job, now), "output": output}


def _earliest_era(handler: Handler) -> Handler:
    """Served only with `legacy_render_paths`; otherwise the path is unknown, as today."""

    @functools.wraps(handler)
    async def run(request: Request) -> Response:
        if not backend_of(request).config.legacy_render_paths:
            raise ApiError(Code.NOT_FOUND)
        return await handler(request)

    return run


routes = [
    # The earliest docs' paths (VH:27ce8fe, e0833df): submit to /draft, poll without /lambda.
    ApiRoute("/api/render/proxy/draft", _earliest_era(submit), methods=["POST"]),
    ApiRoute("/api/render/proxy/lambda", submit, methods=["POST"]),
    ApiRoute("/api/render/proxy/lambda/{render_id}", poll, methods=["GET"]),
    ApiRoute("/api/render/proxy/lambda/{render_id}/cancel", cancel, methods=["POST"]),
    ApiRoute("/api/render/proxy/{render_id}/download", download, methods=["GET"]),
    ApiRoute("/api/render/proxy/{render_id}", _earliest_era(poll), methods=["GET"]),
    ApiRoute("/cdn/renders/{secret}/{name}", cdn_render, methods=["GET"]),
]
