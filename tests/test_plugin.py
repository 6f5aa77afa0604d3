"""The pytest plugin, used as another project would: each fixture, then the plugin on its own in
a fresh directory, where only the `pytest11` entry point can have brought it in."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest
import respx

from nemo_fake import FakeConfig, media
from nemo_fake.testing import NemoFake, NemoServer
from nemo_fake.testing.nemo_server import FakeSwitch
from nemo_fake.testing.plugin import NemoClient
from tests.docs import ROOT, marked
from tests.user_project import write_user_project

pytest_plugins = ["pytester"]

ATTRIBUTION = {"X-Skill-Source": "my-skill", "X-Skill-Version": "1.0.0", "X-Skill-Platform": "ci"}
EXTRACT = "extract the top 5 viral short clips from this long video"
# Two frames a second is plenty for probing an MP4, and renders it several times faster.
QUICK = pytest.mark.parametrize("nemo_fake_config", [FakeConfig(render_fps=2)])


async def _render_a_url_upload(http: httpx.AsyncClient, fake: NemoFake) -> bytes:
    """Token, session, a URL upload, a render; the clock moved on; the MP4 downloaded."""
    response = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c-1"})
    token = response.json()["data"]["token"]
    headers = {"Authorization": f"Bearer {token}", **ATTRIBUTION}
    response = await http.post(
        "/api/tasks/me/with-session/nemo_agent", headers=headers, json={"task_name": "t"}
    )
    session_id = response.json()["data"]["session_id"]
    response = await http.post(
        f"/api/upload-video/nemo_agent/me/{session_id}",
        headers=headers,
        json={"urls": ["https://media.example.com/talk.mp4"], "source_type": "url"},
    )
    assert response.status_code == 200, response.text
    draft = fake.state(session_id)["state"]["draft"]
    body = {"id": "render_1", "sessionId": session_id, "draft": draft}
    response = await http.post("/api/render/proxy/lambda", headers=headers, json=body)
    assert response.json()["status"] == "pending"

    fake.advance(120)  # renders take 30-90 s of API time
    poll = (await http.get("/api/render/proxy/lambda/render_1", headers=headers)).json()
    assert poll["status"] == "completed"
    download = await http.get(poll["output"]["url"])
    assert download.status_code == 200
    assert [movement.amount for movement in fake.ledger(token)] == [100]  # renders are free
    return download.content


def _assert_playable_mp4(path: Path) -> None:
    info = media.probe(path, "video")
    assert (info.width, info.height) == (1080, 1920)
    assert info.duration > 1


@QUICK
@pytest.mark.nemo_incompatible(poll_shape=["reference", "minimal"])
async def test_nemo_fake_in_process(nemo_fake: NemoFake, tmp_path: Path) -> None:
    async with nemo_fake.http() as http:
        mp4 = await _render_a_url_upload(http, nemo_fake)
    (tmp_path / "clip.mp4").write_bytes(mp4)
    _assert_playable_mp4(tmp_path / "clip.mp4")


@QUICK
@pytest.mark.nemo_incompatible(poll_shape=["reference", "minimal"])
async def test_nemo_server_over_a_socket(nemo_server: NemoServer, tmp_path: Path) -> None:
    assert nemo_server.url.startswith("http://127.0.0.1:")
    async with httpx.AsyncClient(base_url=nemo_server.url) as http:
        mp4 = await _render_a_url_upload(http, nemo_server.fake)
    (tmp_path / "clip.mp4").write_bytes(mp4)
    _assert_playable_mp4(tmp_path / "clip.mp4")


async def test_nemo_server_is_nemo_fake_and_fresh_for_each_test(
    nemo_server: NemoServer, nemo_fake: NemoFake
) -> None:
    assert nemo_server.fake is nemo_fake
    # Fresh: only this test's token exists, and the client id other tests used gets one.
    async with nemo_server.http() as http:
        response = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c-1"})
    assert response.status_code == 200
    assert list(nemo_fake.backend.accounts.tokens) == [response.json()["data"]["token"]]


@QUICK
async def test_nemo_client_quick_edit_ends_in_a_playable_mp4(
    nemo_client: NemoClient[NemoFake],
) -> None:
    await nemo_client.upload(["https://media.example.com/podcast.mp4"])
    assert await nemo_client.handle(EXTRACT)
    path = await nemo_client.export()
    assert path is not None and path.parent == nemo_client.downloads
    _assert_playable_mp4(path)
    assert any(line.startswith("✅ Video ready! ") for line in nemo_client.said)
    # The client's 30 s render polls ran on the fake's clock, not the wall's.
    assert 30.0 in nemo_client.timer.sleeps
    session_id = nemo_client.project.session_id
    assert len(nemo_client.fake.state(session_id)["state"]["generated_media"]) == 5


async def test_nemo_respx_routes_the_real_url_to_the_fake(
    nemo_respx: respx.MockRouter, nemo_fake: NemoFake
) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            "https://mega-api-prod.nemovideo.ai/api/auth/anonymous-token",
            headers={"X-Client-Id": "c-1"},
        )
    assert response.status_code == 200
    token = response.json()["data"]["token"]
    assert nemo_fake.ledger(token)[0].kind == "grant"
    assert nemo_respx.calls.call_count == 1


@pytest.mark.nemo_incompatible("event_shape", attribution_required=["session_and_run_sse"])
async def test_nemo_respx_streams_run_sse_events_as_they_happen(
    nemo_respx: respx.MockRouter, nemo_fake: NemoFake
) -> None:
    nemo_fake.clock.autojump = False  # the generation stays mid-way until the test moves time
    async with httpx.AsyncClient(base_url="https://mega-api-prod.nemovideo.ai") as http:
        response = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c"})
        headers = {"Authorization": f"Bearer {response.json()['data']['token']}"}
        response = await http.post(
            "/api/tasks/me/with-session/nemo_agent", headers=headers, json={"task_name": "t"}
        )
        body = {
            "app_name": "nemo_agent",
            "user_id": "me",
            "session_id": response.json()["data"]["session_id"],
            "new_message": {"parts": [{"text": "generate a video of a city timelapse"}]},
        }
        async with http.stream("POST", "/run_sse", headers=headers, json=body) as stream:
            # A buffering mock would only get here once the whole 100-300 s had passed.
            nemo_fake.advance(20)
            first = await stream.aiter_lines().__anext__()
    assert first.startswith("data: ") and "Generating" in first


def test_nemo_respx_tells_a_sync_client_to_use_nemo_server(nemo_respx: respx.MockRouter) -> None:
    with httpx.Client() as http, pytest.raises(TypeError, match="use nemo_server"):
        http.get("https://mega-api-prod.nemovideo.ai/api/credits/balance/simple")


def test_nemo_fake_helpers_name_what_is_missing(nemo_fake: NemoFake) -> None:
    with pytest.raises(KeyError, match="no account"):
        nemo_fake.ledger("nmv_usr_nobody")
    with pytest.raises(KeyError, match="no session"):
        nemo_fake.state("123")


async def test_a_switch_with_no_fake_plugged_in_answers_503() -> None:
    transport = httpx.ASGITransport(FakeSwitch())
    async with httpx.AsyncClient(transport=transport, base_url="http://nemo.test") as http:
        response = await http.get("/api/credits/balance/simple")
    assert response.status_code == 503
    assert "no fake" in response.json()["message"]


def test_the_plugin_is_registered_as_a_pytest11_entry_point() -> None:
    plugins = {entry.name: entry.value for entry in entry_points(group="pytest11")}
    assert plugins["nemo_fake"] == "nemo_fake.testing.plugin"


def test_loading_the_plugin_loads_no_web_stack_until_a_fixture_runs() -> None:
    # pytest loads it in every run of every project with nemo-fake installed: a run that asks
    # for no fixture pays for pytest's options and markers, not for starlette or the client.
    heavy = ["starlette", "uvicorn", "httpx", "av", "jinja2", "nemo_client"]
    script = (
        "import sys, nemo_fake.testing.plugin as plugin;"
        f"print([name for name in {heavy!r} if name in sys.modules]);"
        "print(plugin.NemoClient.__name__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.splitlines() == ["[]", "NemoClient"]


def test_only_the_entry_point_brings_the_fixtures_to_the_docs_example(
    pytester: pytest.Pytester,
) -> None:
    # tests/test_docs.py runs the example in a project of its own, where it passes: in a
    # directory with no conftest, a new pytest configuration finds plugins only through
    # installed entry points, which is how another project gets ours. Without the entry point
    # the file cannot even collect.
    example = marked(ROOT / "docs" / "pytest-plugin.md", "pytest")[0]
    pytester.makepyfile(test_my_client=example.code)
    result = pytester.runpytest_inprocess(
        "-p", "anyio", "-p", "no:nemo_fake", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*uses no argument 'nemo_fake_config'*"])


async def test_nemo_fake_offers_the_control_api_as_python(nemo_fake: NemoFake) -> None:
    from nemo_fake.domain.faults import FaultRule

    async with nemo_fake.http() as http:
        token = (await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c"})).json()[
            "data"
        ]["token"]
        snapshot = nemo_fake.snapshot()  # the account, and no fault rules yet
        nemo_fake.faults.add(FaultRule("balance", on_call=1, http_status=502))
        first = await http.get(
            "/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"}
        )
        assert first.status_code == 502
        assert [e.operation for e in nemo_fake.journal.find()] == ["anonymous_token", "balance"]
        nemo_fake.reset()
        nemo_fake.restore(snapshot)
        again = await http.get(
            "/api/credits/balance/simple", headers={"Authorization": f"Bearer {token}"}
        )
        assert again.status_code == 200


@pytest.mark.nemo_incompatible("token_ttl")
async def test_nemo_server_takes_a_fault_rule_and_a_clock_advance_over_http(
    nemo_server: NemoServer,
) -> None:
    async with nemo_server.http() as http:
        token = (await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c"})).json()[
            "data"
        ]["token"]
        auth = {"Authorization": f"Bearer {token}"}
        rule = await http.post(
            "/_fake/faults", json={"operation": "balance", "on_call": 1, "code": 2001}
        )
        assert rule.status_code == 200
        refused = await http.get("/api/credits/balance/simple", headers=auth)
        assert (refused.status_code, refused.json()["code"]) == (403, 2001)
        assert (await http.get("/api/credits/balance/simple", headers=auth)).status_code == 200
        advanced = await http.post("/_fake/clock/advance", json={"seconds": 7 * 86_400})
        assert advanced.status_code == 200
        expired = await http.get("/api/credits/balance/simple", headers=auth)
        assert expired.json()["code"] == 1001


def test_a_project_with_its_own_client_and_fake_backend_packages_uses_every_fixture(
    pytester: pytest.Pytester,
) -> None:
    # The wheel installed into a fresh venv is tests/test_install.py (CI); this is the plugin
    # as installed here. Neither name is imported in this process, so the user's come first.
    assert "client" not in sys.modules and "fake_backend" not in sys.modules
    write_user_project(pytester.path)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=5)


ERA_TEST = """
import pytest

pytestmark = pytest.mark.anyio


async def test_a_token_needs_a_client_id(nemo_fake):
    async with nemo_fake.http() as http:
        response = await http.post("/api/auth/anonymous-token")
    assert response.status_code == 400


async def test_a_token_with_a_client_id(nemo_fake):
    async with nemo_fake.http() as http:
        response = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c"})
    assert response.status_code == 200
"""


def test_nemo_profiles_runs_each_test_in_each_era_and_tables_which_pass(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_eras=ERA_TEST)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--nemo-profiles", "all")
    # X-Client-Id was optional in the reference and early eras: that test fails there.
    result.assert_outcomes(passed=6, failed=2)
    result.stdout.fnmatch_lines([
        "*nemo-fake profiles*",
        "* current * reference * no-expiry * early*",
        "test_eras.py::test_a_token_needs_a_client_id?asyncio? *✓*✗*✓*✗*",
        "test_eras.py::test_a_token_with_a_client_id?asyncio? *✓*✓*✓*✓*",
    ])  # fmt: skip
    unknown = pytester.runpytest_inprocess("-p", "no:cacheprovider", "--nemo-profiles", "v2")
    assert unknown.ret == pytest.ExitCode.USAGE_ERROR


MARKED_ERA_TEST = """
import pytest

pytestmark = pytest.mark.anyio


@pytest.mark.nemo_incompatible("client_id_required")
async def test_a_token_needs_a_client_id(nemo_fake):
    async with nemo_fake.http() as http:
        response = await http.post("/api/auth/anonymous-token")
    assert response.status_code == 400


@pytest.mark.nemo_incompatible(poll_shape=["reference"])
async def test_a_stale_marker(nemo_fake):
    pass


@pytest.mark.nemo_incompatible("render_speed")
async def test_a_marker_naming_no_setting(nemo_fake):
    pass
"""


def test_a_nemo_incompatible_test_is_expected_to_fail_only_in_eras_that_change_the_fact(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_eras=MARKED_ERA_TEST)
    result = pytester.runpytest_inprocess(
        "-p", "no:cacheprovider", "-p", "no:xdist", "-rfEx", "--nemo-profiles", "all"
    )
    # The client id test: expected to fail (and failing) in reference and early only. The stale
    # marker passes in reference, which fails the run; the misspelt one errors in every era.
    result.assert_outcomes(passed=5, xfailed=2, failed=1, errors=4)
    result.stdout.fnmatch_lines_random([
        "XFAIL *test_a_token_needs_a_client_id?asyncio-reference? - expected incompatibility: "
        "client_id_required is False in reference (R: *",
        "FAILED *test_a_stale_marker?asyncio-reference?*",
        "nemo_incompatible: not a setting any profile changes: render_speed; one of *",
        "test_eras.py::test_a_token_needs_a_client_id?asyncio? *✓*x*✓*x*",
        "*x expected incompatibility*",
    ])  # fmt: skip
    plain = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    plain.assert_outcomes(passed=3)  # without --nemo-profiles the marker changes nothing
