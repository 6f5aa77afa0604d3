"""The schemas of what the fake answers: the envelope, each documented body in the shape the
settings pick, and the error envelope with the codes an operation can give."""

from __future__ import annotations

from typing import Any

from nemo_fake.config import FakeConfig
from nemo_fake.domain.draft import SCHEMA as DRAFT_SCHEMA
from nemo_fake.errors import ERROR_TABLE, Code
from nemo_fake.media.probe import FILE_TYPES

Schema = dict[str, Any]

STRING = {"type": "string"}
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
NULLABLE_STRING = {"type": ["string", "null"]}
STATUSES = ("pending", "processing", "completed", "failed", "cancelled")


def obj(required: dict[str, Schema], optional: dict[str, Schema] | None = None) -> Schema:
    """An object with these fields; others may come too (clients must ignore them)."""
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
    }


def envelope(data: Schema) -> Schema:
    """`{"code": 0, "data": ...}`, the answer of every documented success."""
    return obj({"code": {"const": 0}, "data": data})


def error_envelope(config: FakeConfig, codes: list[Code]) -> Schema:
    """The error body: `code` (one of `codes`), the message under each configured key, `data`
    null, and `field` when one input field is at fault."""
    messages = {key: STRING for key in config.message_keys}
    return obj(
        {"code": {"enum": [int(code) for code in codes]}, **messages, "data": {"type": "null"}},
        {"field": STRING},
    )


def codes_by_status(codes: list[Code]) -> dict[int, list[Code]]:
    grouped: dict[int, list[Code]] = {}
    for code in codes:
        grouped.setdefault(ERROR_TABLE[code].http_status, []).append(code)
    return grouped


# -- accounts, sessions, uploads -----------------------------------------------------------------

TOKEN = obj(
    {
        "token": {"type": "string", "pattern": "^nmv_usr_"},
        "user_id": {"type": "string", "pattern": "^anon_"},
        "credits": INTEGER,
        "expires_at": {**NULLABLE_STRING, "format": "date-time"},
        "scopes": {"type": "array", "items": STRING},
    }
)
CLAIM = obj({"claim_token": {"type": "string", "pattern": "^clm_"}, "expires_in": INTEGER})
CLAIMED = obj(
    {
        "task_id": STRING,
        "session_id": STRING,
        "user_id": STRING,
        "expires_at": {"type": "string", "format": "date-time"},
    }
)
SESSION = obj(
    {
        "task_id": {"type": "string", "pattern": "^[0-9]+$"},
        "session_id": {"type": "string", "pattern": "^[0-9]{19}$"},
        "user_id": STRING,
    }
)
BALANCE = obj({"available": INTEGER, "frozen": INTEGER, "total": INTEGER})
MEDIA_LIST = {"type": "array", "items": {"type": "object"}}
STATE = obj(
    {
        "session_id": STRING,
        "task_id": STRING,
        "task_name": STRING,
        "user_id": STRING,
        "state": obj(
            {
                "draft": DRAFT_SCHEMA,
                "video_infos": MEDIA_LIST,
                "canvas_config": {"type": "object"},
                "generated_media": MEDIA_LIST,
                "video_analyses": MEDIA_LIST,
            }
        ),
    }
)
UPLOADED = obj(
    {
        "file_id": STRING,
        "filename": STRING,
        "file_type": {"enum": sorted(set(FILE_TYPES.values()))},
        "cdn_url": {"type": "string", "format": "uri"},
        "duration": {"type": ["number", "null"]},
        "width": {"type": ["integer", "null"]},
        "height": {"type": ["integer", "null"]},
        "fps": {"type": ["number", "null"]},
        "hash": {"type": ["string", "null"]},
        "size": {"type": ["integer", "null"]},
    },
    {"source_url": STRING},
)
UPLOAD = obj(
    {"files": {"type": "array", "items": UPLOADED}, "session_state_applied": {"const": True}}
)


# -- renders: each body shape, by status -------------------------------------------------------


def _by_status(fields: dict[str, Schema], url_key: str) -> list[Schema]:
    """One schema per status: only a completed render has a file, only a failed or cancelled
    one an `error`."""
    progress = {"type": "integer", "minimum": 0, "maximum": 100}
    running = obj({**fields, "status": {"enum": ["pending", "processing"]}, "progress": progress})
    done = obj({**fields, "status": {"const": "completed"}, "progress": {"const": 100}})
    ended = obj(
        {**fields, "status": {"enum": ["failed", "cancelled"]}, "progress": progress,
         "error": STRING}
    )  # fmt: skip
    if url_key:
        running["properties"][url_key] = {"type": "null"}
        done["properties"][url_key] = {"type": "string", "format": "uri"}
        ended["properties"][url_key] = {"type": "null"}
    return [running, done, ended]


VARIANT_NAMES = ("RenderRunning", "RenderCompleted", "RenderEnded")
VARIANT_OF_STATUS = dict(zip(STATUSES, (0, 0, 1, 2, 2), strict=True))


def _one_of(variants: list[Schema], components: dict[str, Schema]) -> Schema:
    """The variants as components, told apart by `status` (each a `$ref`, as a discriminator
    mapping needs)."""
    for name, variant in zip(VARIANT_NAMES, variants, strict=True):
        components[name] = variant
    refs = [f"#/components/schemas/{name}" for name in VARIANT_NAMES]
    mapping = {status: refs[index] for status, index in VARIANT_OF_STATUS.items()}
    return {
        "oneOf": [{"$ref": ref} for ref in refs],
        "discriminator": {"propertyName": "status", "mapping": mapping},
    }


def render_body(config: FakeConfig, components: dict[str, Schema]) -> Schema:
    """The poll (and cancel) answer in `poll_shape`; its variants go into `components`."""
    shape = config.poll_shape
    if shape == "reference":
        timestamps: dict[str, Schema] = {
            "createdAt": INTEGER,
            "completedAt": {"type": ["integer", "null"]},
        }
        data = _one_of(_by_status({"id": STRING, **timestamps}, "outputUrl"), components)
        return obj({"success": {"const": True}, "data": data})
    if shape == "minimal":
        data = _one_of(_by_status({}, "outputUrl"), components)
        return obj({"success": {"const": True}, "data": data})
    if shape == "early":
        variants = _by_status({"taskId": STRING}, "")
        variants[0]["properties"]["output"] = {"type": "null"}
        variants[1]["properties"]["output"] = obj(
            {"url": {"type": "string", "format": "uri"}, "duration": NUMBER, "size": INTEGER}
        )
        variants[2]["properties"]["output"] = {"type": "null"}
        for variant in variants:
            variant["required"].append("output")
        return _one_of(variants, components)
    output = obj({"format": STRING, "quality": STRING}, {"resolution": STRING})
    variants = _by_status({"code": {"const": 0}, "id": STRING, "sessionId": STRING}, "")
    for variant, url in zip(variants, ({"type": "null"}, {"type": "string", "format": "uri"},
                                       {"type": "null"}), strict=True):  # fmt: skip
        variant["properties"]["output"] = {**output, "properties": {**output["properties"],
                                                                    "url": url}}  # fmt: skip
        variant["properties"]["output"]["required"] = [*output["required"], "url"]
        variant["required"].append("output")
    return _one_of(variants, components)


def submit_body(config: FakeConfig, components: dict[str, Schema]) -> Schema:
    """The submit answer in `submit_shape`: the poll body, or R's `{"success", "data"}`."""
    if config.submit_shape == "reference":
        data = obj(
            {"id": STRING, "status": {"enum": list(STATUSES)},
             "progress": {"type": "integer", "minimum": 0, "maximum": 100}},
            {"error": STRING},
        )  # fmt: skip
        return obj({"success": {"const": True}, "data": data})
    return render_body(config, components)


# -- /run_sse events -----------------------------------------------------------------------------

HEARTBEAT = obj({"type": {"const": "heartbeat"}})
ADK_EVENT = obj(
    {
        "content": obj(
            {
                "parts": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "minProperties": 1,
                        "properties": {
                            "text": STRING,
                            "functionCall": obj({"id": STRING, "name": STRING, "args": {}}),
                            "functionResponse": obj({"id": STRING, "name": STRING, "response": {}}),
                        },
                    },
                },
                "role": {"enum": ["model", "user"]},
            }
        ),
        "invocationId": STRING,
        "author": STRING,
        "actions": {"type": "object"},
        "id": STRING,
        "timestamp": NUMBER,
    }
)


def stream_events(config: FakeConfig) -> dict[str, Schema]:
    """A schema for each kind of `data:` line the dialect sends (an empty line aside)."""
    if config.event_shape == "typed":
        return {
            "text": obj({"type": {"const": "text"}, "content": STRING}),
            "tool_call": obj({"type": {"const": "tool_call"}, "name": STRING, "args": {}}),
            "tool_result": obj({"type": {"const": "tool_result"}, "name": STRING, "result": {}}),
            "heartbeat": HEARTBEAT,
            "error": obj({"type": {"const": "error"}, "error": STRING}),
        }
    return {"event": ADK_EVENT, "heartbeat": HEARTBEAT, "error": obj({"error": STRING})}
