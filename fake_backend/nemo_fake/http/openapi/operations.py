"""What each route of the fake is, for its OpenAPI operation: a name, a summary, the body it
reads (the same spec objects the handlers read it with), what it answers and which error codes
it can give. The route table says which exist; a route without an entry here fails the build."""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from nemo_fake.clock import ClockInfo
from nemo_fake.config import FakeConfig, StreamFaults
from nemo_fake.domain.accounts import CLIENT_ID
from nemo_fake.domain.faults import FaultRule
from nemo_fake.domain.ledger import Movement
from nemo_fake.domain.renders import RENDER_ID
from nemo_fake.errors import Code
from nemo_fake.http.auth import AttributedCall
from nemo_fake.http.body import JsonBody
from nemo_fake.http.openapi import bodies
from nemo_fake.http.openapi.shapes import dataclass_schema, schema_of
from nemo_fake.http.routes.accounts import CLAIM_BODY
from nemo_fake.http.routes.agent import RUN_SSE_BODY, SILENT_HEADER
from nemo_fake.http.routes.renders import RENDER_BODY
from nemo_fake.http.routes.sessions import SESSION_BODY
from nemo_fake.http.routes.uploads import URL_BODY
from nemo_fake.journal import JournalEntry
from nemo_fake.media.probe import FILE_TYPES

Schema = dict[str, Any]
Answer = Callable[[FakeConfig, dict[str, Schema]], dict[str, Any]]
Tag = Literal[
    "auth", "sessions", "uploads", "renders", "agent", "files", "contract", "other", "fake control"
]

JSON = "application/json"
MP4 = "video/mp4"


def _json(schema: Schema, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema}}}


def _envelope(data: Schema) -> Answer:
    return lambda config, components: {"200": _json(bodies.envelope(data))}


def _binary(*media_types: str) -> Answer:
    content = {media: {"schema": {"type": "string", "format": "binary"}} for media in media_types}
    return lambda config, components: {"200": {"description": "The file", "content": content}}


def _render(config: FakeConfig, components: dict[str, Schema]) -> dict[str, Any]:
    return {"200": _json(bodies.render_body(config, components), "The render, by poll_shape")}


def _submitted(config: FakeConfig, components: dict[str, Schema]) -> dict[str, Any]:
    schema = bodies.submit_body(config, components)
    return {"200": _json(schema, "The new render, by submit_shape")}


def _stream(config: FakeConfig, components: dict[str, Schema]) -> dict[str, Any]:
    # OpenAPI 3.1 describes a text/event-stream by one event; its `data` is JSON of one of the
    # dialect's event kinds, or empty (a heartbeat, as {"type": "heartbeat"} is too).
    events = bodies.stream_events(config)
    data = {
        "anyOf": [
            {"type": "string", "maxLength": 0},
            {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"anyOf": list(events.values())},
            },
        ]
    }
    event = {"type": "object", "properties": {"data": data, "event": {"type": "string"}}}
    return {
        "200": {
            "description": (
                "Server-Sent Events, each `data:` line one JSON event of the event_shape "
                "dialect (x-events names them), or empty: a heartbeat"
            ),
            "content": {"text/event-stream": {"schema": event, "x-events": events}},
        }
    }


def _document(config: FakeConfig, components: dict[str, Schema]) -> dict[str, Any]:
    return {"200": _json({"type": "object", "required": ["openapi", "paths"]}, "This document")}


# -- parameters ---------------------------------------------------------------------------------

PATH_PARAMETERS: dict[str, Schema] = {
    "app": {"type": "string", "enum": ["nemo_agent"]},
    # The current doc's `me`; the caller's own id works too (older docs), anyone else's is 1002.
    "user": {"type": "string", "enum": ["me"], "description": "Also the caller's own user id"},
    "session_id": {"type": "string"},
    "render_id": {"type": "string", "pattern": RENDER_ID.pattern},
    "file_id": {"type": "string"},
    "filename": {"type": "string"},
    "secret": {"type": "string"},
    "name": {"type": "string"},
    "rule_id": {"type": "string"},
    "snapshot_id": {"type": "string"},
}


@dataclass(frozen=True)
class Query:
    name: str
    schema: Schema
    required: bool = False
    description: str = ""


@dataclass(frozen=True)
class Operation:
    """One operation: what the document says of a method on a routed path."""

    id: str
    summary: str
    tag: Tag
    answer: Answer
    errors: tuple[Code, ...] = ()
    bearer: bool = True
    # The attribution rule's name for this call (FakeConfig.attribution_required).
    attribution: AttributedCall | None = None
    body: JsonBody | None = None
    multipart: bool = False
    query: tuple[Query, ...] = ()
    headers: Callable[[FakeConfig], tuple[Query, ...]] = field(default=lambda config: ())
    # Whether the running fake serves it (the earliest render paths only when configured).
    served: Callable[[FakeConfig], bool] = field(default=lambda config: True)
    # OpenAPI links from the success answer: which operations its values feed.
    links: dict[str, Any] = field(default_factory=dict)


def _client_id(config: FakeConfig) -> tuple[Query, ...]:
    return (
        Query(
            "X-Client-Id",
            {"type": "string", "pattern": CLIENT_ID.pattern},
            required=config.client_id_required,
            description="Who asks: the same id gets the same user back once its token expired",
        ),
    )


def _legacy(config: FakeConfig) -> bool:
    return config.legacy_render_paths


CONTROL_ERRORS = (Code.BAD_TOKEN, Code.NOT_FOUND)
CLOCK = dataclass_schema(ClockInfo)
RULES = bodies.obj(
    {
        "rules": {"type": "array", "items": dataclass_schema(FaultRule)},
        "calls": {"type": "object", "additionalProperties": {"type": "integer"}},
    }
)
ENTRIES = bodies.obj({"entries": {"type": "array", "items": dataclass_schema(JournalEntry)}})
ACCOUNT_LEDGER = bodies.obj(
    {
        "user_id": bodies.STRING,
        "available": bodies.INTEGER,
        "frozen": bodies.INTEGER,
        "total": bodies.INTEGER,
        "movements": {"type": "array", "items": dataclass_schema(Movement)},
    }
)
SETTINGS = dataclass_schema(FakeConfig)
UPLOAD_MEDIA = sorted(
    {mimetypes.guess_type(f"file.{ext}")[0] or "application/octet-stream" for ext in FILE_TYPES}
)


IN_SESSION = {"session_id": "$response.body#/data/session_id"}
SESSION = "$response.body#/data/session_id"
SESSION_LINKS = {
    "getState": {"operationId": "getState", "parameters": IN_SESSION},
    "upload": {"operationId": "upload", "parameters": IN_SESSION},
    "runSse": {
        "operationId": "runSse",
        "requestBody": {
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": f"{{{SESSION}}}",
            "new_message": {"parts": [{"text": "add a title that says hello"}]},
        },
    },
    "submitRender": {
        "operationId": "submitRender",
        "requestBody": {
            "id": "render_1",
            "sessionId": f"{{{SESSION}}}",
            "draft": {"t": [{"tt": 0, "sg": [{"s": 0, "d": 1000}]}], "d": 1000},
        },
    },
}
# Every poll shape has the id, but not in one place (the minimal one not at all): the request's.
RENDER = {"render_id": "$request.body#/id"}
RENDER_LINKS = {
    name: {"operationId": name, "parameters": RENDER}
    for name in ("getRender", "cancelRender", "downloadRender")
}


def _submit(operation_id: str, summary: str, **rest: Any) -> Operation:
    """A render submit, at either path that takes one."""
    return Operation(
        operation_id,
        summary,
        "renders",
        _submitted,
        errors=(Code.BAD_REQUEST, Code.SESSION_NOT_FOUND, Code.CONFLICT, Code.DRAFT_NOT_READY),
        attribution="export",
        body=RENDER_BODY,
        **rest,
    )


def _control(summary: str, data: Schema, *errors: Code, **rest: Any) -> Operation:
    return Operation(
        id="",
        summary=summary,
        tag="fake control",
        answer=_envelope(data),
        bearer=False,
        errors=(*CONTROL_ERRORS, *errors),
        **rest,
    )


#: Every operation, by (method, path) as the route table has it.
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("POST", "/api/auth/anonymous-token"): Operation(
        "getAnonymousToken",
        "An anonymous token with 100 credits",
        "auth",
        _envelope(bodies.TOKEN),
        errors=(Code.BAD_REQUEST, Code.RATE_LIMITED),
        bearer=False,
        headers=lambda config: _client_id(config),
    ),
    ("POST", "/api/auth/claim-token"): Operation(
        "getClaimToken",
        "A claim token for a browser link to one of your sessions",
        "auth",
        _envelope(bodies.CLAIM),
        errors=(Code.BAD_REQUEST, Code.SESSION_NOT_FOUND),
        body=CLAIM_BODY,
    ),
    ("GET", "/workspace/claim"): Operation(
        "openClaimLink",
        "The web app's claim page, reusable until the claim token expires",
        "auth",
        _envelope(bodies.CLAIMED),
        errors=(Code.BAD_REQUEST, Code.BAD_TOKEN),
        bearer=False,
        query=(Query("ct", {"type": "string"}, required=True, description="The claim token"),),
    ),
    ("POST", "/api/tasks/{user}/with-session/{app}"): Operation(
        "createSession",
        "A new session (project)",
        "sessions",
        _envelope(bodies.SESSION),
        errors=(Code.BAD_REQUEST, Code.NOT_FOUND, Code.SESSION_NOT_FOUND),
        attribution="session",
        body=SESSION_BODY,
        links=SESSION_LINKS,
    ),
    ("GET", "/api/state/{app}/{user}/{session_id}/latest"): Operation(
        "getState",
        "The session's state: the draft timeline and its media",
        "sessions",
        _envelope(bodies.STATE),
        errors=(Code.NOT_FOUND, Code.SESSION_NOT_FOUND),
    ),
    ("GET", "/api/credits/balance/simple"): Operation(
        "getBalance",
        "The credit balance",
        "sessions",
        _envelope(bodies.BALANCE),
    ),
    ("POST", "/api/upload-video/{app}/{user}/{session_id}"): Operation(
        "upload",
        "Upload files (multipart `files`) or links (JSON `urls`)",
        "uploads",
        _envelope(bodies.UPLOAD),
        errors=(
            Code.BAD_REQUEST,
            Code.NOT_FOUND,
            Code.SESSION_NOT_FOUND,
            Code.UNSUPPORTED_FILE,
            Code.FILE_TOO_LARGE,
        ),
        body=URL_BODY,
        multipart=True,
    ),
    ("POST", "/api/v1/generate"): Operation(
        "generateUndocumented",
        "Not part of the API: published skills call it; a 404 naming the documented workflow",
        "other",
        lambda config, components: {},
        errors=(Code.NOT_FOUND,),
        bearer=False,
    ),
    ("POST", "/api/render/proxy/lambda"): _submit(
        "submitRender", "Export: render the draft to an MP4 (free)", links=RENDER_LINKS
    ),
    ("GET", "/api/render/proxy/lambda/{render_id}"): Operation(
        "getRender",
        "Poll a render",
        "renders",
        _render,
        errors=(Code.NOT_FOUND,),
    ),
    ("POST", "/api/render/proxy/lambda/{render_id}/cancel"): Operation(
        "cancelRender",
        "Cancel a pending or processing render",
        "renders",
        _render,
        errors=(Code.NOT_FOUND, Code.CONFLICT),
    ),
    ("GET", "/api/render/proxy/{render_id}/download"): Operation(
        "downloadRender",
        "The finished MP4 (the fallback download)",
        "renders",
        _binary(MP4),
        errors=(Code.NOT_FOUND, Code.CONFLICT),
    ),
    ("POST", "/api/render/proxy/draft"): _submit(
        "submitRenderEarliest",
        "The earliest docs' submit path (legacy_render_paths)",
        served=_legacy,
    ),
    ("GET", "/api/render/proxy/{render_id}"): Operation(
        "getRenderEarliest",
        "The earliest docs' poll path (legacy_render_paths)",
        "renders",
        _render,
        errors=(Code.NOT_FOUND,),
        served=_legacy,
    ),
    ("GET", "/cdn/renders/{secret}/{name}"): Operation(
        "getRenderFile",
        "A finished render at its output.url (no bearer)",
        "files",
        _binary(MP4),
        errors=(Code.NOT_FOUND,),
        bearer=False,
    ),
    ("GET", "/cdn/uploads/{file_id}/{filename}"): Operation(
        "getUploadedFile",
        "An uploaded file at its cdn_url (no bearer)",
        "files",
        _binary(*UPLOAD_MEDIA),
        errors=(Code.NOT_FOUND,),
        bearer=False,
    ),
    ("POST", "/run_sse"): Operation(
        "runSse",
        "Say something to the agent: its answer as Server-Sent Events",
        "agent",
        _stream,
        errors=(Code.BAD_REQUEST, Code.NOT_FOUND, Code.SESSION_NOT_FOUND, Code.NO_CREDITS),
        attribution="run_sse",
        body=RUN_SSE_BODY,
        headers=lambda config: (
            Query(
                SILENT_HEADER,
                {"type": "string"},
                description="The fake's own: 1 makes edits silent",
            ),
        ),
    ),
    ("GET", "/openapi.json"): Operation(
        "getOpenApi",
        "This document, for the fake's settings as they are now",
        "contract",
        _document,
        bearer=False,
    ),
    ("POST", "/_fake/reset"): _control("Start afresh", bodies.obj({"reset": {"const": True}})),
    ("GET", "/_fake/clock"): _control("API time", CLOCK),
    ("POST", "/_fake/clock/advance"): _control(
        "Move API time on",
        CLOCK,
        Code.BAD_REQUEST,
        body=JsonBody(
            (),
            extra={
                "properties": {"seconds": {"type": "number", "minimum": 0}},
                "required": ["seconds"],
            },
        ),
    ),
    ("POST", "/_fake/clock/speed"): _control(
        "Set a scaled clock's speed (409 for a virtual one)",
        CLOCK,
        Code.BAD_REQUEST,
        Code.CONFLICT,
        body=JsonBody(
            (),
            extra={
                "properties": {"speed": {"type": "number", "exclusiveMinimum": 0}},
                "required": ["speed"],
            },
        ),
    ),
    ("GET", "/_fake/faults"): _control("The fault rules and call counts", RULES),
    ("POST", "/_fake/faults"): _control(
        "Add a fault rule",
        dataclass_schema(FaultRule),
        Code.BAD_REQUEST,
        body=JsonBody(
            (),
            extra={
                "properties": dataclass_schema(FaultRule)["properties"],
                "required": ["operation"],
            },
        ),
    ),
    ("DELETE", "/_fake/faults"): _control("Remove every fault rule", RULES),
    ("DELETE", "/_fake/faults/{rule_id}"): _control(
        "Remove a fault rule", bodies.obj({"removed": bodies.STRING})
    ),
    ("GET", "/_fake/journal"): _control(
        "The requests answered, filtered",
        ENTRIES,
        Code.BAD_REQUEST,
        query=(
            Query("method", bodies.STRING),
            Query("path", bodies.STRING),
            Query("operation", bodies.STRING),
            Query("status", bodies.INTEGER),
            Query("code", bodies.INTEGER),
            Query("since", {"type": "integer", "minimum": 0}, description="After this seq"),
            Query("limit", {"type": "integer", "minimum": 0}, description="At most this many"),
        ),
    ),
    ("DELETE", "/_fake/journal"): _control(
        "Forget the requests answered",
        bodies.obj(
            {"entries": {"type": "array", "maxItems": 0, "items": dataclass_schema(JournalEntry)}}
        ),
    ),
    ("GET", "/_fake/ledger"): _control(
        "Every account's credits and movements",
        bodies.obj({"accounts": {"type": "array", "items": ACCOUNT_LEDGER}}),
        query=(Query("user_id", bodies.STRING), Query("token", bodies.STRING)),
    ),
    ("POST", "/_fake/snapshots"): _control("Keep the state", bodies.obj({"id": bodies.STRING})),
    ("POST", "/_fake/snapshots/{snapshot_id}/restore"): _control(
        "Go back to a snapshot", bodies.obj({"restored": bodies.STRING})
    ),
    ("GET", "/_fake/config"): _control("Every setting", SETTINGS),
    ("PATCH", "/_fake/config"): _control(
        "Change settings by name",
        bodies.obj(
            {
                "config": SETTINGS,
                "changed": {"type": "array", "items": bodies.STRING},
                "note": bodies.NULLABLE_STRING,
            }
        ),
        Code.BAD_REQUEST,
        body=JsonBody(
            (),
            extra={
                "properties": {
                    **SETTINGS["properties"],
                    "stream_faults": {
                        "type": "object",
                        "properties": dataclass_schema(StreamFaults)["properties"],
                    },
                }
            },
        ),
    ),
}


def control_id(method: str, path: str) -> str:
    """An operationId for a control route: `fake` and its path, camelCased with the method."""
    words = [
        w
        for w in path.removeprefix("/_fake/")
        .replace("{", "")
        .replace("}", "")
        .replace("_", "/")
        .split("/")
        if w
    ]
    return "fake" + method.title() + "".join(word.title() for word in words)


__all__ = ["OPERATIONS", "Operation", "Query", "control_id", "schema_of"]
