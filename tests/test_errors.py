"""The one error table, and bad input of every kind: a documented code, never a 5xx."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nemo_fake import ERROR_TABLE, Code, FakeConfig, NemoBackend, NemoFake
from tests.support import ATTRIBUTION, Api, error_code

DOCUMENTED = {int(code) for code in Code}


def test_every_code_has_one_row_in_the_error_table() -> None:
    assert set(ERROR_TABLE) == set(Code) - {Code.OK}
    for code, spec in ERROR_TABLE.items():
        assert 400 <= spec.http_status < 500, code
        assert spec.message and spec.when


async def test_unknown_path_is_a_404_envelope(api: Api) -> None:
    response = await api.http.get("/api/nothing/here")
    assert response.status_code == 404
    assert response.json() == {
        "code": 404,
        "message": "Not found",
        "msg": "Not found",
        "data": None,
    }


async def test_wrong_method_is_a_405_envelope(api: Api) -> None:
    response = await api.http.get("/api/auth/anonymous-token")
    assert response.status_code == 405
    assert error_code(response) == 405


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "Malformed JSON"),
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"[1, 2]", "must be a JSON object"),
        (b"", "must be a JSON object"),
        (b"null", "must be a JSON object"),
    ],
    ids=["malformed", "bad-utf8", "array", "empty", "null"],
)
async def test_bad_json_bodies_are_400_with_a_short_message(
    api: Api, content: bytes, message: str
) -> None:
    user = await api.new_user(with_session=False)
    response = await api.http.post(
        "/api/tasks/me/with-session/nemo_agent",
        headers={**user.headers, "Content-Type": "application/json"},
        content=content,
    )
    assert response.status_code == 400
    assert message in response.json()["message"]
    assert "Traceback" not in response.text


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(message_keys=("msg",))])
async def test_the_message_key_is_configurable(api: Api) -> None:
    response = await api.http.post("/api/auth/anonymous-token")
    assert set(response.json()) == {"code", "msg", "data"}


# -- properties: arbitrary input never breaks the fake ---------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
# Bodies shaped like the real ones, with any value in any field, reach deeper validation.
field_names = st.sampled_from(
    [
        "task_name",
        "language",
        "task_id",
        "session_id",
        "urls",
        "source_type",
        "id",
        "sessionId",
        "draft",
        "output",
        "t",
        "tt",
        "sg",
        "d",
        "m",
    ]
)
shaped_bodies = st.dictionaries(field_names, json_values, max_size=6)
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0xFF), min_size=0, max_size=80
)


async def _world() -> tuple[NemoBackend, httpx.AsyncClient, dict[str, str], str]:
    fake = NemoFake()
    backend = fake.backend
    issued = backend.issue_anonymous_token("prop-client", "127.0.0.1")
    session = backend.create_session(issued.account, "project", "en")
    client = fake.http()
    headers = {"Authorization": f"Bearer {issued.token.value}", **ATTRIBUTION}
    return backend, client, headers, session.session_id


def _assert_documented(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text
    body: Any = response.json()
    if response.status_code == 200:
        assert body.get("code", 0) == 0 or body.get("success") is True
    else:
        assert body["code"] in DOCUMENTED, body
        assert body["message"]


POST_PATHS = [
    "/api/auth/anonymous-token",
    "/api/auth/claim-token",
    "/api/tasks/me/with-session/nemo_agent",
    "/api/upload-video/nemo_agent/me/{sid}",
    "/api/render/proxy/lambda",
]


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(POST_PATHS), body=json_values | shaped_bodies)
async def test_any_json_body_gets_a_documented_code_never_a_5xx(path: str, body: object) -> None:
    backend, client, headers, sid = await _world()
    try:
        async with client:
            response = await client.post(
                path.format(sid=sid),
                headers={**headers, "X-Client-Id": "another-client"},
                content=json.dumps(body).encode(),
            )
            _assert_documented(response)
    finally:
        backend.close()


@settings(deadline=None)
@given(
    path=st.sampled_from(
        [*POST_PATHS, "/api/credits/balance/simple", "/api/state/nemo_agent/me/{sid}/latest"]
    ),
    authorization=header_text,
    client_id=header_text,
    content_type=header_text,
)
async def test_any_header_values_get_a_documented_code_never_a_5xx(
    path: str, authorization: str, client_id: str, content_type: str
) -> None:
    backend, client, _, sid = await _world()
    try:
        async with client:
            method = "GET" if "credits" in path or "state" in path else "POST"
            response = await client.request(
                method,
                path.format(sid=sid),
                # Raw latin-1 bytes: what a careless client can put on the wire.
                headers={
                    **{k.encode(): v.encode() for k, v in ATTRIBUTION.items()},
                    b"Authorization": authorization.encode("latin-1"),
                    b"X-Client-Id": client_id.encode("latin-1"),
                    b"Content-Type": content_type.encode("latin-1"),
                },
                content=b"{}",
            )
            _assert_documented(response)
    finally:
        backend.close()


@pytest.mark.control_api
async def test_the_undocumented_v1_generate_gets_a_defined_answer_and_a_journal_entry(
    api: Api,
) -> None:
    # Many published skills call it; no vendor document describes it.
    body = {"skill": "opusclip", "prompt": "make a video of a lighthouse"}
    response = await api.http.post("/api/v1/generate", json=body)
    assert (response.status_code, error_code(response)) == (404, 404)
    assert "/run_sse" in response.json()["message"]
    journal = await api.http.get("/_fake/journal", params={"operation": "v1_generate"})
    (entry,) = journal.json()["data"]["entries"]
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/api/v1/generate", 404)
