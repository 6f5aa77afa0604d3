"""Contract: render jobs: submit, poll in every documented shape, cancel, download a real MP4."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nemo_fake import FakeConfig, NemoBackend, VirtualClock, media
from nemo_fake.http import offload
from nemo_fake.http.routes import renders as renders_route
from tests.support import ATTRIBUTION, Api, User, draft_of, error_code, sse_body


@pytest.fixture
def nemo_fake_config() -> FakeConfig:
    # Two frames a second is plenty to check size and duration; the product default is 10.
    return FakeConfig(render_fps=2)


async def _render_to_completion(
    api: Api, clock: VirtualClock, user: User, draft: dict[str, Any]
) -> dict[str, Any]:
    submitted = await api.submit_render(user, "render_1", draft)
    assert submitted.status_code == 200, submitted.text
    clock.advance(90)
    polled = await api.poll(user, "render_1")
    body: dict[str, Any] = polled.json()
    assert body["status"] == "completed"
    return body


@pytest.mark.nemo_incompatible(poll_shape=["reference", "minimal"])
async def test_render_goes_pending_processing_completed_within_30_to_90_seconds(
    api: Api, clock: VirtualClock
) -> None:
    user = await api.new_user()
    submitted = await api.submit_render(user, "render_1700000000", draft_of())
    assert submitted.status_code == 200
    assert submitted.json()["status"] == "pending"
    seen: list[tuple[str, int]] = []
    for _ in range(95):
        body = (await api.poll(user, "render_1700000000")).json()
        seen.append((body["status"], body["progress"]))
        if body["status"] == "completed":
            break
        clock.advance(1)
    statuses = [status for status, _ in seen]
    assert statuses[0] == "pending"
    assert "processing" in statuses
    assert statuses[-1] == "completed"
    assert 30 <= len(seen) - 1 <= 90
    progress = [p for _, p in seen]
    assert progress == sorted(progress) and progress[-1] == 100


@pytest.mark.nemo_incompatible("poll_shape")
async def test_completed_render_is_a_real_h264_mp4_at_the_drafts_size_and_duration(
    api: Api, clock: VirtualClock, tmp_path: Path
) -> None:
    user = await api.new_user()
    body = await _render_to_completion(api, clock, user, draft_of(2500, 720, 1280))
    assert body["code"] == 0
    assert body["output"]["format"] == "mp4"
    url = body["output"]["url"]
    assert url.startswith(str(api.http.base_url).rstrip("/"))
    downloaded = await api.http.get(url)
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"] == "video/mp4"
    path = tmp_path / "out.mp4"
    path.write_bytes(downloaded.content)
    info = media.probe(path, "video")
    assert (info.width, info.height) == (720, 1280)
    assert abs(info.duration - 2.5) <= 0.1


@pytest.mark.nemo_incompatible(poll_shape=["reference", "minimal"])
async def test_draft_without_metadata_renders_at_1080x1920(
    api: Api, clock: VirtualClock, tmp_path: Path
) -> None:
    user = await api.new_user()
    draft = {"t": [{"tt": 0, "sg": [{"s": 0, "d": 1000}]}]}
    await _render_to_completion(api, clock, user, draft)
    fallback = await api.http.get("/api/render/proxy/render_1/download", headers=user.headers)
    assert fallback.status_code == 200
    path = tmp_path / "out.mp4"
    path.write_bytes(fallback.content)
    info = media.probe(path, "video")
    assert (info.width, info.height) == (1080, 1920)
    assert abs(info.duration - 1.0) <= 0.1


@pytest.mark.nemo_incompatible(poll_shape=["reference", "minimal"])
async def test_fallback_download_needs_the_owners_token(api: Api, clock: VirtualClock) -> None:
    user = await api.new_user()
    await _render_to_completion(api, clock, user, draft_of())
    anonymous = await api.http.get("/api/render/proxy/render_1/download")
    assert error_code(anonymous) == 1001
    other = await api.new_user()
    theirs = await api.http.get("/api/render/proxy/render_1/download", headers=other.headers)
    assert theirs.status_code == 404


async def test_download_before_completion_is_409(api: Api) -> None:
    user = await api.new_user()
    await api.submit_render(user, "render_1", draft_of())
    early = await api.http.get("/api/render/proxy/render_1/download", headers=user.headers)
    assert early.status_code == 409
    assert "not completed" in early.json()["message"]


async def test_output_is_optional_and_defaults_to_mp4_high(api: Api) -> None:
    user = await api.new_user()
    response = await api.submit_render(user, "render_1", draft_of())
    assert response.json()["output"] == {"format": "mp4", "quality": "high", "url": None}


@pytest.mark.parametrize(
    ("output", "field"),
    [({"format": "mov"}, "output.format"), ({"quality": "ultra"}, "output.quality")],
)
async def test_unsupported_output_is_400(api: Api, output: dict[str, Any], field: str) -> None:
    user = await api.new_user()
    response = await api.submit_render(user, "render_1", draft_of(), output=output)
    assert response.status_code == 400
    assert response.json()["field"] == field


async def test_duplicate_render_id_is_refused_and_a_new_id_works(api: Api) -> None:
    user = await api.new_user()
    assert (await api.submit_render(user, "render_1", draft_of())).status_code == 200
    again = await api.submit_render(user, "render_1", draft_of())
    assert again.status_code == 409
    assert "new id" in again.json()["message"]
    assert (await api.submit_render(user, "render_2", draft_of())).status_code == 200


@pytest.mark.parametrize(
    "draft",
    [
        {"t": []},
        {"t": [{"tt": 0, "sg": []}]},
        {"t": [{"tt": 1, "sg": []}, {"tt": 7, "sg": []}]},
        {},
    ],
    ids=["no-tracks", "empty-sg", "all-empty", "no-t"],
)
async def test_draft_with_no_segments_is_refused_as_not_ready(
    api: Api, draft: dict[str, Any]
) -> None:
    user = await api.new_user()
    response = await api.submit_render(user, "render_1", draft)
    assert response.status_code == 422
    assert error_code(response) == 422


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        ({"t": [{"tt": 3, "sg": [{"s": 0, "d": 1}]}]}, "draft.t[0].tt"),
        ({"t": [{"tt": {}, "sg": []}]}, "draft.t[0].tt"),  # was a 500 (found by schemathesis)
        ({"t": [{"tt": [0], "sg": []}]}, "draft.t[0].tt"),
        ({"t": [{"tt": True, "sg": []}]}, "draft.t[0].tt"),
        ({"t": [{"tt": 0, "sg": [{"s": -1, "d": 1}]}]}, "draft.t[0].sg[0].s"),
        ({"t": [{"tt": 0, "sg": [{"s": 0, "d": "1"}]}]}, "draft.t[0].sg[0].d"),
        ({"t": [{"tt": 0, "sg": [{"s": 0, "d": 1}]}], "m": {"width": 1081}}, "draft.m.width"),
        (
            {"t": [{"tt": 0, "sg": [{"s": 0, "d": 1}]}], "m": {"width": 1920, "height": 1920}},
            "draft.m",
        ),
        ("not a draft", "draft"),
    ],
)
async def test_malformed_draft_is_400_naming_the_field(api: Api, draft: object, field: str) -> None:
    user = await api.new_user()
    response = await api.submit_render(user, "render_1", draft)  # type: ignore[arg-type]
    assert response.status_code == 400
    assert response.json()["field"] == field


async def test_render_of_unknown_session_is_1002(api: Api) -> None:
    user = await api.new_user()
    response = await api.http.post(
        "/api/render/proxy/lambda",
        headers=user.headers,
        json={"id": "render_1", "sessionId": "999", "draft": draft_of()},
    )
    assert error_code(response) == 1002


async def test_session_id_must_be_camel_case(api: Api) -> None:
    user = await api.new_user()
    response = await api.http.post(
        "/api/render/proxy/lambda",
        headers=user.headers,
        json={"id": "render_1", "session_id": user.session_id, "draft": draft_of()},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "sessionId"


@pytest.mark.nemo_incompatible(poll_shape=["reference", "minimal"])
async def test_export_costs_no_credits(api: Api, clock: VirtualClock) -> None:
    user = await api.new_user()
    await _render_to_completion(api, clock, user, draft_of())
    balance = await api.http.get("/api/credits/balance/simple", headers=user.headers)
    assert balance.json()["data"] == {"available": 100, "frozen": 0, "total": 100}


@pytest.mark.parametrize("header", list(ATTRIBUTION))
async def test_export_without_an_attribution_header_is_http_402(api: Api, header: str) -> None:
    user = await api.new_user()
    headers = {k: v for k, v in user.headers.items() if k != header}
    response = await api.http.post(
        "/api/render/proxy/lambda",
        headers=headers,
        json={"id": "render_1", "sessionId": user.session_id, "draft": draft_of()},
    )
    assert response.status_code == 402
    assert error_code(response) == 402
    assert header in response.json()["message"]


async def test_other_calls_work_without_attribution_by_default(api: Api) -> None:
    user = await api.new_user()
    bare = {"Authorization": f"Bearer {user.token}"}
    response = await api.http.get("/api/credits/balance/simple", headers=bare)
    assert response.status_code == 200


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(attribution_required="all")])
async def test_strict_attribution_applies_402_to_every_call(api: Api) -> None:
    user = await api.new_user()
    bare = {"Authorization": f"Bearer {user.token}"}
    response = await api.http.get("/api/credits/balance/simple", headers=bare)
    assert response.status_code == 402


@pytest.mark.nemo_incompatible(poll_shape=["reference", "minimal"])
async def test_cancel_a_running_render_then_cancelling_again_is_409(
    api: Api, clock: VirtualClock
) -> None:
    user = await api.new_user()
    await api.submit_render(user, "render_1", draft_of())
    cancelled = await api.http.post(
        "/api/render/proxy/lambda/render_1/cancel", headers=user.headers
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    clock.advance(120)
    assert (await api.poll(user, "render_1")).json()["status"] == "cancelled"
    again = await api.http.post("/api/render/proxy/lambda/render_1/cancel", headers=user.headers)
    assert again.status_code == 409


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(render_failure_rate=1.0)])
@pytest.mark.nemo_incompatible("poll_shape")
async def test_a_failing_render_reports_failed_with_an_error(api: Api, clock: VirtualClock) -> None:
    user = await api.new_user()
    await api.submit_render(user, "render_1", draft_of())
    clock.advance(90)
    body = (await api.poll(user, "render_1")).json()
    assert body["status"] == "failed"
    assert body["progress"] < 100
    assert "new id" in body["error"]
    assert body["output"]["url"] is None


@pytest.mark.nemo_incompatible(poll_shape=["reference", "minimal"])
async def test_a_render_failed_by_the_backend_stays_failed(
    api: Api, clock: VirtualClock, backend: NemoBackend
) -> None:
    user = await api.new_user()
    await api.submit_render(user, "render_1", draft_of())
    clock.advance(10)
    account = backend.authenticate(user.token)
    backend.fail_render(account, "render_1", "GPU node lost")
    clock.advance(100)
    body = (await api.poll(user, "render_1")).json()
    assert (body["status"], body["error"]) == ("failed", "GPU node lost")


async def test_another_users_render_is_not_found(api: Api) -> None:
    owner = await api.new_user()
    other = await api.new_user()
    await api.submit_render(owner, "render_1", draft_of())
    response = await api.poll(other, "render_1")
    assert response.status_code == 404
    # Render ids are per user: the other user may use the same id.
    assert (await api.submit_render(other, "render_1", draft_of())).status_code == 200


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(poll_shape="reference")])
async def test_reference_poll_shape_wraps_in_data_with_output_url_and_ms_timestamps(
    api: Api, clock: VirtualClock
) -> None:
    user = await api.new_user()
    started = clock.now()
    await api.submit_render(user, "render_1", draft_of())
    clock.advance(90)
    body = (await api.poll(user, "render_1")).json()
    assert body["success"] is True
    data = body["data"]
    assert set(data) >= {"id", "status", "progress", "outputUrl", "createdAt", "completedAt"}
    assert data["status"] == "completed"
    assert data["createdAt"] == round(started * 1000)
    assert started * 1000 < data["completedAt"] <= (started + 90) * 1000
    assert (await api.http.get(data["outputUrl"])).status_code == 200


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(poll_shape="early")])
async def test_early_poll_shape_has_task_id_and_output_duration_and_size(
    api: Api, clock: VirtualClock
) -> None:
    user = await api.new_user()
    await api.submit_render(user, "render_1", draft_of(1500))
    pending = (await api.poll(user, "render_1")).json()
    assert pending["taskId"] == "render_1"
    assert pending["output"] is None
    clock.advance(90)
    body = (await api.poll(user, "render_1")).json()
    assert body["output"]["duration"] == 1.5
    downloaded = await api.http.get(body["output"]["url"])
    assert len(downloaded.content) == body["output"]["size"]


def test_render_durations_repeat_for_a_seed() -> None:
    def finish_times(seed: int) -> list[float]:
        backend = NemoBackend(FakeConfig(seed=seed), clock=VirtualClock())
        try:
            account = backend.issue_anonymous_token("c", "a").account
            session = backend.create_session(account, "p", "en")
            return [
                backend.submit_render(
                    account, f"r{n}", session.session_id, draft_of(), None
                ).finishes_at
                for n in range(5)
            ]
        finally:
            backend.close()

    assert finish_times(1) == finish_times(1)
    assert finish_times(1) != finish_times(2)


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(poll_shape="minimal")])
async def test_the_minimal_poll_shape_has_status_progress_and_output_url_under_data(
    api: Api, clock: VirtualClock
) -> None:
    user = await api.new_user()
    await api.submit_render(user, "render_1", draft_of())
    pending = (await api.poll(user, "render_1")).json()
    assert pending == {"success": True, "data": {"status": "pending", "progress": 0,
                                                 "outputUrl": None}}  # fmt: skip
    clock.advance(90)
    data = (await api.poll(user, "render_1")).json()["data"]
    assert (data["status"], data["progress"]) == ("completed", 100)
    assert (await api.http.get(data["outputUrl"])).status_code == 200


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(submit_shape="reference")])
async def test_the_reference_submit_answer_is_success_and_data_with_id_status_progress(
    api: Api,
) -> None:
    user = await api.new_user()
    response = await api.submit_render(user, "render_1", draft_of())
    assert response.json() == {
        "success": True, "data": {"id": "render_1", "status": "pending", "progress": 0}
    }  # fmt: skip


@pytest.mark.parametrize(
    "nemo_fake_config",
    [FakeConfig(poll_shape=shape, render_failure_rate=1.0)
     for shape in ("current", "reference", "early", "minimal")],
)  # fmt: skip
async def test_a_failed_render_carries_error_in_every_poll_shape(
    api: Api, clock: VirtualClock
) -> None:
    user = await api.new_user()
    await api.submit_render(user, "render_1", draft_of())
    clock.advance(120)
    body = (await api.poll(user, "render_1")).json()
    job = body.get("data") or body
    assert job["status"] == "failed" and "retry with a new id" in job["error"]


EARLY = FakeConfig(legacy_render_paths=True, poll_shape="early")


@pytest.mark.parametrize("nemo_fake_config", [EARLY])
@pytest.mark.nemo_incompatible("submit_shape")
async def test_the_earliest_render_paths_submit_to_draft_and_poll_without_lambda(
    api: Api, clock: VirtualClock
) -> None:
    user = await api.new_user()
    body = {"id": "render_1", "sessionId": user.session_id, "draft": draft_of()}
    submitted = await api.http.post("/api/render/proxy/draft", headers=user.headers, json=body)
    assert submitted.status_code == 200 and submitted.json()["taskId"] == "render_1"
    clock.advance(90)
    polled = (await api.http.get("/api/render/proxy/render_1", headers=user.headers)).json()
    assert (polled["taskId"], polled["status"]) == ("render_1", "completed")
    assert (await api.http.get(polled["output"]["url"])).status_code == 200
    # The /lambda paths answer too, and /download is still the download, not a poll.
    assert (await api.poll(user, "render_1")).json()["status"] == "completed"
    download = await api.http.get("/api/render/proxy/render_1/download", headers=user.headers)
    assert download.headers["content-type"] == "video/mp4"


async def test_the_earliest_render_paths_are_unknown_unless_asked_for(api: Api) -> None:
    user = await api.new_user()
    body = {"id": "render_1", "sessionId": user.session_id, "draft": draft_of()}
    submitted = await api.http.post("/api/render/proxy/draft", headers=user.headers, json=body)
    polled = await api.http.get("/api/render/proxy/render_1", headers=user.headers)
    assert [r.status_code for r in (submitted, polled)] == [404, 404]


@pytest.mark.parametrize(
    "nemo_fake_config", [FakeConfig(attribution_required="session_and_run_sse")]
)
async def test_the_era_that_attributed_session_and_run_sse_only(api: Api) -> None:
    user = await api.new_user(with_session=False)
    bare = {"Authorization": f"Bearer {user.token}"}
    session = await api.http.post(
        "/api/tasks/me/with-session/nemo_agent", headers=bare, json={"task_name": "t"}
    )
    assert (session.status_code, error_code(session)) == (402, 402)
    assert "Missing attribution header(s) X-Skill-Source" in session.json()["message"]
    user = await api.new_user()  # with the headers
    bare = {"Authorization": f"Bearer {user.token}"}
    chat = await api.http.post("/run_sse", headers=bare, json=sse_body(user.session_id, "hi"))
    assert (chat.status_code, error_code(chat)) == (402, 402)
    render = await api.http.post(
        "/api/render/proxy/lambda", headers=bare,
        json={"id": "r1", "sessionId": user.session_id, "draft": draft_of()},
    )  # fmt: skip
    assert render.status_code == 200  # renders were not attributed in that era
    # The era's first docs (VH:7fe0b89) sent X-Skill-Source alone: that is enough.
    source_only = {**bare, "X-Skill-Source": "some-skill"}
    session = await api.http.post(
        "/api/tasks/me/with-session/nemo_agent", headers=source_only, json={"task_name": "t"}
    )
    assert (session.status_code, error_code(session)) == (200, 0), session.text


@pytest.mark.parametrize(("resolution", "size"), [("720p", (720, 1280)), ("1080p", (1080, 1920))])
async def test_output_resolution_sets_the_mp4s_short_side_keeping_the_drafts_aspect(
    api: Api, clock: VirtualClock, tmp_path: Path, resolution: str, size: tuple[int, int]
) -> None:
    user = await api.new_user()
    output = {"format": "mp4", "quality": "high", "resolution": resolution}
    response = await api.submit_render(user, "r1", draft_of(1000, 540, 960), output=output)
    assert response.status_code == 200, response.text
    clock.advance(120)
    mp4 = await api.http.get("/api/render/proxy/r1/download", headers=user.headers)
    (tmp_path / "r1.mp4").write_bytes(mp4.content)
    info = media.probe(tmp_path / "r1.mp4", "video")
    assert (info.width, info.height) == size


async def test_an_unknown_output_resolution_is_refused_naming_the_choices(api: Api) -> None:
    user = await api.new_user()
    output = {"format": "mp4", "quality": "high", "resolution": "8k"}
    response = await api.submit_render(user, "r1", draft_of(), output=output)
    assert (response.status_code, error_code(response)) == (400, 400)
    assert response.json()["field"] == "output.resolution"
    assert "480p, 720p, 1080p" in response.json()["message"]


@pytest.mark.nemo_incompatible(poll_shape=["reference", "minimal"])
async def test_a_made_render_is_sent_again_without_the_work_thread(
    api: Api, clock: VirtualClock, backend: NemoBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Finding a render already made took a hop to the work thread on every download.
    hops: list[str] = []
    real = offload.off_loop

    async def counted(work: Any, *args: Any) -> Any:
        hops.append(getattr(work, "__name__", "?"))
        return await real(work, *args)

    monkeypatch.setattr(renders_route, "off_loop", counted)
    user = await api.new_user()
    await _render_to_completion(api, clock, user, draft_of())
    path = "/api/render/proxy/render_1/download"
    first = await api.http.get(path, headers=user.headers)
    again = await api.http.get(path, headers=user.headers)
    assert first.status_code == again.status_code == 200 and again.content == first.content
    assert hops == ["render_output"]
