"""Contract: sessions, `me` resolution, the state document and the credit balance."""

from __future__ import annotations

import pytest

from tests.support import Api, error_code, sse_body


async def test_create_session_returns_digit_task_and_session_ids(api: Api) -> None:
    user = await api.new_user(with_session=False)
    response = await api.http.post(
        "/api/tasks/me/with-session/nemo_agent",
        headers=user.headers,
        json={"task_name": "project", "language": "en"},
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["session_id"].isdigit() and len(data["session_id"]) == 19
    assert data["task_id"].isdigit()
    assert data["user_id"] == user.user_id


async def test_every_user_segment_takes_me_or_the_own_id_and_anothers_id_is_1002(
    api: Api,
) -> None:
    # Old-era skills put the real id where today's docs say `me`; both work in every profile.
    user = await api.new_user()
    stranger = await api.new_user()
    for who, expected in (("me", 0), (user.user_id, 0), (stranger.user_id, 1002)):
        state = await api.http.get(
            f"/api/state/nemo_agent/{who}/{user.session_id}/latest", headers=user.headers
        )
        upload = await api.http.post(
            f"/api/upload-video/nemo_agent/{who}/{user.session_id}",
            headers=user.headers,
            json={"urls": ["https://media.example.com/a.mp4"], "source_type": "url"},
        )
        session = await api.http.post(
            f"/api/tasks/{who}/with-session/nemo_agent",
            headers=user.headers,
            json={"task_name": "p"},
        )
        codes = [error_code(response) for response in (state, upload, session)]
        assert codes == [expected] * 3, (who, state.text, upload.text, session.text)


async def test_run_sse_takes_user_id_me_the_real_id_or_none_and_anothers_is_1002(
    api: Api,
) -> None:
    user = await api.new_user()
    stranger = await api.new_user()
    for who in ("me", user.user_id, None):
        body = sse_body(user.session_id, "hello")
        if who is None:
            del body["user_id"]
        else:
            body["user_id"] = who
        async with api.http.stream("POST", "/run_sse", headers=user.headers, json=body) as reply:
            assert reply.status_code == 200, who
            assert reply.headers["content-type"].startswith("text/event-stream")
            assert "data:" in "".join([text async for text in reply.aiter_text()])
    theirs = {**sse_body(user.session_id, "hello"), "user_id": stranger.user_id}
    refused = await api.http.post("/run_sse", headers=user.headers, json=theirs)
    assert (refused.status_code, error_code(refused)) == (404, 1002)


async def test_state_has_draft_video_infos_canvas_generated_media_and_analyses(api: Api) -> None:
    user = await api.new_user()
    data = await api.state(user)
    assert data["session_id"] == user.session_id
    assert data["task_id"] == user.task_id
    assert data["task_name"] == "project"
    assert data["user_id"] == user.user_id
    state = data["state"]
    assert set(state) == {
        "draft",
        "video_infos",
        "canvas_config",
        "generated_media",
        "video_analyses",
    }
    assert state["draft"] == {
        "t": [],
        "d": 0,
        "m": {"title": "project", "width": 1080, "height": 1920},
    }
    assert state["video_infos"] == state["generated_media"] == state["video_analyses"] == []
    assert state["canvas_config"]["width"] == 1080


async def test_unknown_session_is_1002(api: Api) -> None:
    user = await api.new_user()
    response = await api.http.get(
        "/api/state/nemo_agent/me/1234567890123456789/latest", headers=user.headers
    )
    assert response.status_code == 404
    assert error_code(response) == 1002


async def test_another_users_session_looks_exactly_like_a_missing_one(api: Api) -> None:
    owner = await api.new_user()
    other = await api.new_user()
    theirs = await api.http.get(
        f"/api/state/nemo_agent/me/{owner.session_id}/latest", headers=other.headers
    )
    missing = await api.http.get(
        "/api/state/nemo_agent/me/1234567890123456789/latest", headers=other.headers
    )
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    by_their_id = await api.http.get(
        f"/api/state/nemo_agent/{owner.user_id}/{owner.session_id}/latest", headers=other.headers
    )
    assert error_code(by_their_id) == 1002


async def test_unknown_app_name_is_404(api: Api) -> None:
    user = await api.new_user()
    response = await api.http.post(
        "/api/tasks/me/with-session/other_agent",
        headers=user.headers,
        json={"task_name": "project", "language": "en"},
    )
    assert response.status_code == 404
    assert error_code(response) == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"language": "en"}, "task_name"),
        ({"task_name": 5, "language": "en"}, "task_name"),
        ({"task_name": "  ", "language": "en"}, "task_name"),
        ({"task_name": "project", "language": ["en"]}, "language"),
    ],
)
async def test_create_session_rejects_bad_fields_with_400_naming_the_field(
    api: Api, body: dict[str, object], field: str
) -> None:
    user = await api.new_user(with_session=False)
    response = await api.http.post(
        "/api/tasks/me/with-session/nemo_agent", headers=user.headers, json=body
    )
    assert response.status_code == 400
    assert response.json()["field"] == field


async def test_language_defaults_to_english(api: Api) -> None:
    user = await api.new_user(with_session=False)
    response = await api.http.post(
        "/api/tasks/me/with-session/nemo_agent", headers=user.headers, json={"task_name": "p"}
    )
    assert response.status_code == 200
