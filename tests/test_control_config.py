"""`GET`/`PATCH /_fake/config`: a served fake's settings, read and changed like `serve --set`."""

from __future__ import annotations

import pytest

from nemo_fake import FakeConfig, NemoBackend
from nemo_fake.config import SettingError, with_overrides
from tests.support import Api, error_code

pytestmark = pytest.mark.control_api


async def _patch(api: Api, body: object) -> dict[str, object]:
    response = await api.http.patch("/_fake/config", json=body)
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()["data"]
    return data


async def test_get_answers_every_setting_as_json(api: Api) -> None:
    data = (await api.http.get("/_fake/config")).json()["data"]
    assert data == FakeConfig().to_dict()
    assert data["render_seconds"] == [30.0, 90.0] and data["message_keys"] == ["message", "msg"]
    assert data["stream_faults"]["drop_after_events"] is None


async def test_patch_changes_the_settings_in_force(api: Api, backend: NemoBackend) -> None:
    held = backend.config
    data = await _patch(api, {"message_keys": ["msg"], "stream_faults.drop_after_events": 3})
    assert data["changed"] == ["message_keys", "stream_faults.drop_after_events"]
    assert data["note"] is None
    # In place: the stores hold this very object, and now answer by it.
    assert backend.config is held and held.message_keys == ("msg",)
    assert held.stream_faults.drop_after_events == 3
    missing = await api.http.get("/api/credits/balance/simple")
    assert error_code(missing) == 1001 and set(missing.json()) == {"code", "msg", "data"}
    assert (await api.http.get("/_fake/config")).json()["data"] == held.to_dict()


async def test_what_get_answers_can_be_patched_back(api: Api) -> None:
    before = (await api.http.get("/_fake/config")).json()["data"]
    await _patch(api, {"silent_edit_ratio": 0, "stream_faults": {"stall": True}})
    restored = await _patch(api, before)
    assert restored["config"] == before
    assert restored["changed"] == ["silent_edit_ratio", "stream_faults.stall"]


async def test_a_new_seed_is_noted_as_seeding_ids_from_the_next_reset(api: Api) -> None:
    data = await _patch(api, {"seed": 7})
    assert data["changed"] == ["seed"]
    assert "next reset" in str(data["note"])


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"nope": 1}, "nope", "unknown setting 'nope'"),
        ({"stream_faults": {"nope": 1}}, "stream_faults.nope", "unknown setting"),
        ({"stream_faults": 3}, "stream_faults", "stream_faults takes a mapping"),
        ({"poll_shape": "sideways"}, "poll_shape", "poll_shape takes one of"),
        ({"silent_edit_ratio": 1.5}, "silent_edit_ratio", "must be between 0 and 1"),
        ({"render_seconds": [90, 30]}, "render_seconds", "render_seconds must be"),
    ],
)
async def test_a_bad_setting_is_400_naming_the_field_and_changes_nothing(
    api: Api, body: dict[str, object], field: str, message: str
) -> None:
    before = (await api.http.get("/_fake/config")).json()["data"]
    response = await api.http.patch("/_fake/config", json={"seed": 5, **body})
    assert response.status_code == 400
    assert response.json()["field"] == field and message in response.json()["message"]
    assert (await api.http.get("/_fake/config")).json()["data"] == before


def test_configure_refuses_naming_the_setting_and_changes_nothing(backend: NemoBackend) -> None:
    with pytest.raises(SettingError, match="seed takes int") as refused:
        backend.configure({"silent_edit_ratio": 0, "seed": "x"})
    assert refused.value.key == "seed" and backend.config.silent_edit_ratio == 0.3
    assert backend.configure({}) == []


def test_a_new_seed_seeds_ids_from_the_next_reset(backend: NemoBackend) -> None:
    first = backend.ids.session_id()
    backend.configure({"seed": 99})
    backend.reset()
    reseeded = backend.ids.session_id()
    backend.configure({"seed": 0})
    backend.reset()
    assert backend.ids.session_id() == first != reseeded


def test_a_config_as_json_is_overrides_that_rebuild_it() -> None:
    config = FakeConfig(seed=3, render_seconds=(5.0, 6.0))
    config.stream_faults.stall = True
    assert with_overrides(FakeConfig(), config.to_dict()) == config
