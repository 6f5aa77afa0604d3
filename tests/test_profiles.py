"""Profiles: each documented protocol era of the vendor, selectable by name, every setting still
overridable on top. What the eras differ in is tested setting by setting elsewhere
(test_renders, test_auth); here, that each profile serves its era as a whole."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nemo_client import REFERENCE_POLLING, SKILL_POLLING
from nemo_fake import FakeConfig, NemoFake, with_overrides
from nemo_fake.cli import main
from nemo_fake.config import DAY, SettingError
from nemo_fake.profiles import PROFILES, incompatibility
from nemo_fake.scenarios import load
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


def test_an_incompatibility_names_each_fact_the_era_changes_and_chosen_settings_hold() -> None:
    fact = incompatibility("reference", {"poll_shape": None, "token_ttl": None})
    assert fact == (
        "poll_shape is 'reference' in reference (R: {success, data: {id, status, progress, "
        "outputUrl}})"
    )  # the reference era keeps the 7-day token: no fact about it
    assert incompatibility("early", {"poll_shape": ["reference", "minimal"]}) is None
    chosen = FakeConfig(poll_shape="reference")  # a setting someone chose wins over any era
    assert incompatibility("reference", {"poll_shape": None}, chosen) is None
    with pytest.raises(ValueError, match="not a setting any profile changes: seed"):
        incompatibility("reference", {"seed": None})


def test_a_scenario_names_the_values_that_break_it(tmp_path: Path) -> None:
    path = tmp_path / "scopes.yaml"
    path.write_text(
        "name: scopes\nincompatible: {anonymous_scopes: [['*']]}\nsteps:\n  - credits:\n",
        encoding="utf-8",
    )
    scenario = load(path)
    assert scenario.expected_failure("reference") == (
        "anonymous_scopes is ('*',) in reference (R: scopes *)"
    )
    assert scenario.expected_failure("early") is None  # read, write, upload there too


@pytest.mark.parametrize("era", ERAS)
def test_every_render_finishes_inside_both_documented_polling_budgets(era: str) -> None:
    # SKILL.md polls every 30 s at most 10 times, api-reference.md every 10 s at most 30.
    with NemoFake(FakeConfig.for_profile(era)) as fake:
        account = fake.backend.issue_anonymous_token("c", "127.0.0.1").account
        session = fake.backend.create_session(account, "p", "en")
        draft = {"t": [{"tt": 0, "sg": [{"s": 0, "d": 1000}]}], "d": 1000}
        jobs = [
            fake.backend.submit_render(account, f"r{n}", session.session_id, draft, None)
            for n in range(40)
        ]
        for polling in (SKILL_POLLING, REFERENCE_POLLING):
            last_poll = jobs[0].submitted_at + polling.every * polling.polls
            assert all(job.status(last_poll) == "completed" for job in jobs), polling
        slowest = max(job.finishes_at - job.submitted_at for job in jobs)
        assert 60 < slowest <= 95  # the draws spread over the documented 30-90 s


@pytest.mark.slow
def test_the_catalogue_matrix_in_the_docs_is_what_scenario_run_prints() -> None:
    root = Path(__file__).resolve().parents[1]
    nemo_fake = str(Path(sys.executable).with_name("nemo-fake"))
    command = [nemo_fake, "scenario", "run", "--profile", "all", str(root / "scenarios")]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-2000:]
    printed = result.stdout.splitlines()
    head = next(i for i, line in enumerate(printed) if line.split()[:1] == ["current"])
    table = printed[head:]
    page = (root / "docs" / "profiles.md").read_text(encoding="utf-8")
    shown = page.split("\n```text\n", 1)[1].split("\n```", 1)[0].splitlines()
    assert [line.split() for line in shown] == [line.split() for line in table]


def test_the_era_pages_quote_each_profiles_own_sources() -> None:
    # docs/eras/ has a row per profile on each page: its source cell must be what `nemo-fake
    # profiles` says, so a source corrected in profiles.py cannot leave a page behind.
    root = Path(__file__).resolve().parents[1]
    rows = 0
    for page in sorted((root / "docs" / "eras").glob("*.md")):
        for line in page.read_text(encoding="utf-8").splitlines():
            row = re.fullmatch(r"\| `([a-z-]+)` \|.*\|(.*)\|\s*", line)
            if row is None or row[1] not in PROFILES:
                continue
            sources = {source.replace("`", "") for source in PROFILES[row[1]].sources.values()}
            for part in row[2].replace("`", "").split("; "):
                assert part.strip() in sources, (page.name, row[1], part)
            rows += 1
    assert rows >= 30
