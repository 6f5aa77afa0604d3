"""Profiles: each documented protocol era of the vendor, selectable by name, every setting still
overridable on top. What the eras differ in is tested setting by setting elsewhere
(test_renders, test_auth); here, that each profile serves its era as a whole."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from nemo_fake import FakeConfig, NemoFake, with_overrides
from nemo_fake.cli import main
from nemo_fake.config import DAY, SettingError
from nemo_fake.profiles import PROFILES
from tests.support import Api, draft_of, error_code

ERAS = list(PROFILES)


def test_a_profile_sets_its_eras_settings_and_explicit_settings_win() -> None:
    config = FakeConfig.for_profile("reference", poll_shape="current")
    assert config.profile == "reference"
    assert (config.submit_shape, config.event_shape, config.poll_shape) == (
        "reference", "typed", "current"
    )  # fmt: skip
    same = with_overrides(FakeConfig(), {"poll_shape": "current", "profile": "reference"})
    assert same == config  # whatever the order they come in
    with pytest.raises(SettingError, match="unknown profile 'modern'; one of current"):
        FakeConfig.for_profile("modern")


def test_every_profile_names_a_source_for_every_value_it_sets() -> None:
    for era in PROFILES.values():
        assert set(era.sources) == set(era.settings), era.name
        assert all(source.strip() for source in era.sources.values())
        FakeConfig.for_profile(era.name)  # every bundle is valid settings


def test_nemo_fake_profiles_lists_each_era_with_its_values_and_sources() -> None:
    result = CliRunner().invoke(main, ["profiles"])
    assert result.exit_code == 0
    for era in PROFILES.values():
        assert f"{era.name}: {era.title}" in result.output
    assert "R: 5 per IP per hour" in result.output


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig.for_profile("reference")])
async def test_the_reference_profile_answers_a_render_submit_and_poll_as_r_shows(
    api: Api,
) -> None:
    user = await api.new_user()
    submitted = (await api.submit_render(user, "render_1", draft_of())).json()
    assert submitted == {
        "success": True, "data": {"id": "render_1", "status": "pending", "progress": 0}
    }  # fmt: skip
    polled = (await api.poll(user, "render_1")).json()
    assert polled["success"] is True
    assert set(polled["data"]) == {
        "id", "status", "progress", "outputUrl", "createdAt", "completedAt"
    }  # fmt: skip


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig.for_profile("early")])
async def test_the_early_profile_serves_the_legacy_render_paths_and_user_id_paths(
    api: Api,
) -> None:
    user = await api.new_user()
    state = await api.http.get(
        f"/api/state/nemo_agent/{user.user_id}/{user.session_id}/latest", headers=user.headers
    )
    assert state.status_code == 200
    body = {"id": "render_1", "sessionId": user.session_id, "draft": draft_of()}
    submitted = await api.http.post("/api/render/proxy/draft", headers=user.headers, json=body)
    assert submitted.json()["taskId"] == "render_1"
    polled = await api.http.get("/api/render/proxy/render_1", headers=user.headers)
    assert polled.json()["status"] in ("pending", "processing")


@pytest.mark.parametrize(
    "nemo_fake_config", [FakeConfig.for_profile(era) for era in ERAS], ids=ERAS
)
async def test_renewal_after_expiry_works_in_every_profile(
    api: Api, nemo_fake_config: FakeConfig, nemo_fake: NemoFake
) -> None:
    headers = {"X-Client-Id": "renewing-client"}
    first = (await api.http.post("/api/auth/anonymous-token", headers=headers)).json()["data"]
    nemo_fake.advance(nemo_fake_config.token_ttl or 30 * DAY)  # never-expiring: a month on
    renewed = await api.http.post("/api/auth/anonymous-token", headers=headers)
    assert (renewed.status_code, error_code(renewed)) == (200, 0), renewed.text
    assert renewed.json()["data"]["user_id"] == first["user_id"]


@pytest.mark.control_api
async def test_a_profile_is_chosen_on_a_served_fake_through_its_config(api: Api) -> None:
    patched = await api.http.patch("/_fake/config", json={"profile": "reference"})
    assert patched.status_code == 200
    config = (await api.http.get("/_fake/config")).json()["data"]
    assert (config["profile"], config["submit_shape"], config["rate_window"]) == (
        "reference", "reference", 3600.0
    )  # fmt: skip


def test_serve_refuses_an_unknown_profile_in_one_line() -> None:
    result = CliRunner().invoke(main, ["serve", "--profile", "modern"])
    assert result.exit_code == 2
    assert "Invalid value for '--profile'" in result.output
