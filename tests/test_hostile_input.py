"""Input a client can send that once broke the fake: JSON nested ~1,000 levels deep (a 500 from
a RecursionError) and lone surrogate escapes such as "\\ud800" (accepted, then a 500 on every
later read of what held them). Each is a 400 envelope naming the field, and nothing is kept."""

from __future__ import annotations

import json

import pytest

from tests.support import Api, error_code, sse_body

DEEP = 1_000
JSON_ENDPOINTS = [
    ("POST", "/api/auth/claim-token"),
    ("POST", "/api/tasks/me/with-session/nemo_agent"),
    ("POST", "/api/upload-video/nemo_agent/me/{sid}"),
    ("POST", "/api/render/proxy/lambda"),
    ("POST", "/run_sse"),
    ("POST", "/_fake/faults"),
    ("PATCH", "/_fake/config"),
    ("POST", "/_fake/clock/advance"),
]


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _nested_objects(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
@pytest.mark.parametrize("where", ["top", "field"])
@pytest.mark.parametrize("depth", [100, DEEP])  # past the fake's limit; past Python's too
async def test_deeply_nested_json_is_a_400_envelope(
    api: Api, method: str, path: str, where: str, depth: int
) -> None:
    user = await api.new_user()
    body = _nested_objects(depth) if where == "top" else '{"draft": ' + _nested(depth) + "}"
    response = await api.http.request(
        method,
        path.format(sid=user.session_id),
        headers={**user.headers, "Content-Type": "application/json"},
        content=body.encode(),
    )
    assert response.status_code == 400, response.text
    assert error_code(response) == 400
    assert "nested deeper" in response.json()["message"]


SURROGATE = '"\\ud800"'  # a valid JSON escape, but no Unicode text


async def test_a_lone_surrogate_in_task_name_is_refused_and_nothing_is_kept(api: Api) -> None:
    user = await api.new_user(with_session=False)
    response = await api.http.post(
        "/api/tasks/me/with-session/nemo_agent",
        headers={**user.headers, "Content-Type": "application/json"},
        content=('{"task_name": ' + SURROGATE + "}").encode(),
    )
    assert (response.status_code, error_code(response)) == (400, 400)
    assert response.json()["field"] == "task_name"


async def test_a_lone_surrogate_in_a_chat_message_charges_nothing_and_breaks_nothing(
    api: Api,
) -> None:
    user = await api.new_user()
    await api.upload_url(user, "https://media.example.com/talk.mp4")
    body = json.dumps(sse_body(user.session_id, "add a title PLACEHOLDER"))
    body = body.replace('"add a title PLACEHOLDER"', '"add a title \\ud800"')
    response = await api.http.post(
        "/run_sse",
        headers={**user.headers, "Content-Type": "application/json"},
        content=body.encode(),
    )
    assert (response.status_code, error_code(response)) == (400, 400)
    assert response.json()["field"] == "new_message.parts[0].text"
    balance = await api.http.get("/api/credits/balance/simple", headers=user.headers)
    assert balance.json()["data"] == {"available": 100, "frozen": 0, "total": 100}
    assert (await api.state(user))["state"]["draft"]["t"]  # the upload, readable as before


async def test_a_lone_surrogate_in_an_upload_url_is_refused(api: Api) -> None:
    user = await api.new_user()
    response = await api.http.post(
        f"/api/upload-video/nemo_agent/me/{user.session_id}",
        headers={**user.headers, "Content-Type": "application/json"},
        content=('{"urls": ["https://x.example/a' + SURROGATE[1:-1] + '.mp4"]}').encode(),
    )
    assert (response.status_code, error_code(response)) == (400, 400)
    assert response.json()["field"] == "urls[0]"


async def test_a_lone_surrogate_in_a_key_is_refused_with_a_printable_field(api: Api) -> None:
    user = await api.new_user(with_session=False)
    response = await api.http.post(
        "/api/tasks/me/with-session/nemo_agent",
        headers={**user.headers, "Content-Type": "application/json"},
        content=('{"task_name": "t", ' + SURROGATE + ": 1}").encode(),
    )
    assert (response.status_code, error_code(response)) == (400, 400)
    assert response.json()["field"] == "\\ud800"
