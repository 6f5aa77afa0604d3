"""Scenario files: the loader's errors point at file, line and field; the runner and CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from click.testing import CliRunner

from nemo_fake import FakeConfig, yamlfile
from nemo_fake.cli import main
from nemo_fake.scenarios import ScenarioError, discover, load, run
from nemo_fake.scenarios.format import _lines
from nemo_fake.testing import RemoteFake
from tests.support import served_fake

CATALOGUE = Path(__file__).resolve().parents[1] / "scenarios"
NEMO_FAKE = Path(sys.executable).with_name("nemo-fake")
GOOD = """\
name: tiny
steps:
  - credits:
    expect: {said: ["100 available"]}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "line", "where", "problem"),
    [
        ("name: x\nsteps: []\n", 2, "steps", "non-empty list"),
        ("steps:\n  - credits:\n", 1, "name", "required"),
        ("name: x\ncolour: red\nsteps:\n  - credits:\n", 2, "colour", "unknown field"),
        (
            "name: x\nincompatible: [render_speed]\nsteps:\n  - credits:\n",
            2, "incompatible", "not a setting any profile changes: render_speed; one of",
        ),
        (
            "name: x\nincompatible: token_ttl\nsteps:\n  - credits:\n",
            2, "incompatible", "a list of settings, or a mapping",
        ),
        ("name: x\nsteps:\n  - credits:\n  - dance: now\n", 4, "steps[1]", "exactly one action"),
        ("name: x\nsteps:\n  - chat: ''\n", 3, "steps[0].chat", "a message"),
        ("name: x\nsteps:\n  - advance: -5\n", 3, "steps[0].advance", "seconds"),
        (
            "name: x\nsteps:\n  - credits:\n    expect:\n      ledger: {money: 1}\n",
            5,
            "steps[0].expect.ledger",
            "available, frozen, total",
        ),
        (
            "name: x\nsteps:\n  - credits:\n    expect: {vibes: good}\n",
            4,
            "steps[0].expect.vibes",
            "unknown expectation",
        ),
        ("name: x\nsettings:\n  poll_shape: sideways\nsteps:\n  - credits:\n", 3,
         "settings.poll_shape", "one of current, reference, early"),
        ("name: x\nfaults:\n  - {operation: teleport}\nsteps:\n  - credits:\n", 3, "faults[0]",
         "unknown operation"),
        ("name: x\nsteps: [credits: {\n", 3, "yaml", "expected"),
    ],
)  # fmt: skip
def test_a_bad_scenario_names_the_file_line_and_field(
    tmp_path: Path, text: str, line: int, where: str, problem: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as raised:
        load(path)
    error = raised.value
    assert (error.line, error.where) == (line, where), str(error)
    assert problem in error.problem
    assert str(error).startswith(f"{path}:{line}: {where}: ")


@pytest.mark.parametrize("loader", [yaml.SafeLoader, yamlfile.LOADER], ids=["python", "default"])
def test_either_yaml_parser_reads_every_scenario_and_its_line_numbers_alike(
    loader: yamlfile.Loader,
) -> None:
    # libyaml's parser when PyYAML has it, the pure-Python one otherwise: the same documents
    # and the same line for every key and item, so an error names the same line either way.
    for path in discover(CATALOGUE):
        text = path.read_text(encoding="utf-8")
        data, node = yamlfile.parse(text, loader)
        assert data == yaml.safe_load(text)
        assert _lines(node) == _lines(yaml.compose(text))
    with pytest.raises(yaml.YAMLError) as raised:
        yamlfile.parse("name: x\nsteps:\n  - chat: a: b\n", loader)
    assert raised.value.problem_mark.line + 1 == 3  # type: ignore[attr-defined]
    # The message quotes the line and points at the column, whichever parser read it first.
    assert str(raised.value).endswith("line 3, column 12:\n      - chat: a: b\n               ^")
    assert yamlfile.parse("", loader) == (None, None)


def test_every_catalogue_scenario_loads_and_every_error_row_has_one() -> None:
    names = {load(path).name for path in CATALOGUE.glob("*.yaml")}
    for wanted in (
        "quick-edit",
        "batch",
        "iterative",
        "dropped-stream-recovery",
        "heartbeats-only-timeout",
        "failed-render-retry",
        "sse-temporary-issue",
        "sse-heartbeats",
        "sse-silent-edit",
        "sse-tool-events-and-empty-data",
    ):
        assert wanted in names  # fmt: skip
    codes = {name.split("-")[1] for name in names if name.startswith("error-")}
    assert codes == {"1001", "1002", "2001", "4001", "4002", "400", "402", "429"}


async def test_a_failing_expectation_is_reported_with_what_was_said(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "name: x\nsteps:\n  - credits:\n    expect: {said: ['999 available']}\n"
    )
    (result,) = await run(load(path))
    assert not result.passed
    assert "nothing said contains '999 available'" in result.failures[0]
    assert "100 available" in result.failures[0]


def test_scenario_run_prints_a_line_per_step_and_a_summary(tmp_path: Path) -> None:
    good = _write(tmp_path, GOOD)
    result = CliRunner().invoke(main, ["scenario", "run", str(good)])
    assert result.exit_code == 0, result.output
    assert "  ✓ step 1 credits" in result.output
    assert result.output.strip().endswith("scenarios: 1 passed, 0 failed")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: broken\nsteps:\n  - credits:\n    expect: {said: ['nope']}\n")
    failed = CliRunner().invoke(main, ["scenario", "run", str(good), str(bad)])
    assert failed.exit_code == 1
    assert "  ✗ step 1 credits" in failed.output and "1 passed, 1 failed" in failed.output


def _run_against_a_plain_served_fake(tmp_path: Path, paths: list[Path], speed: float) -> None:
    # A fake served as it comes (but for cheap 2 fps renders): each scenario brings its own
    # seed and settings to it.
    served = FakeConfig(render_fps=2)
    with served_fake(served, speed=speed, storage=tmp_path / "s") as server:
        url = server.url
        before = RemoteFake(url).config
        args = ["scenario", "run", "--target", url, *map(str, paths)]
        result = CliRunner().invoke(main, args)
        after = RemoteFake(url).config
    assert result.exit_code == 0, result.output
    count = sum(len(discover(path)) for path in paths)
    assert result.output.strip().endswith(f"scenarios: {count} passed, 0 failed")
    # The served fake's own settings are put back once the scenarios are done.
    assert after == before == served


@pytest.mark.slow  # a served process: CI's slow step runs it
def test_scenarios_with_settings_pass_against_a_plain_served_fake(tmp_path: Path) -> None:
    with_settings = ["sse-silent-edit", "sse-temporary-issue", "dropped-stream-recovery"]
    paths = [CATALOGUE / f"{name}.yaml" for name in with_settings]
    assert all("settings:" in path.read_text(encoding="utf-8") for path in paths)
    # None of these races the wall clock, so API time may run as fast as it likes.
    _run_against_a_plain_served_fake(tmp_path, paths, speed=20_000)


@pytest.mark.slow
def test_the_whole_catalogue_passes_against_a_plain_served_fake(tmp_path: Path) -> None:
    # heartbeats-only-timeout needs the client to give up (870 API s of heartbeats and state
    # checks) before the stall ends (1500 API s), and each request of the client's also costs
    # wall time: at 500x there is 1.3 s of slack for it, at 20,000x only 30 ms. sse-heartbeats
    # needs 120 API s between two heartbeats the client reads: 0.24 s at 500x (at 1000x, a
    # loaded CI machine once delivered them closer together than that).
    _run_against_a_plain_served_fake(tmp_path, [CATALOGUE], speed=500)


def test_scenario_run_against_a_target_with_no_fake_says_so_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["scenario", "run", "--target", "http://127.0.0.1:9", str(CATALOGUE)]
    )
    assert result.exit_code == 1
    assert result.output.startswith("Error: http://127.0.0.1:9 does not answer")
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_scenario_run_on_a_folder_without_scenarios_fails_saying_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scenario", "run", str(tmp_path)])
    assert result.exit_code == 1
    assert "no scenario files" in result.output


def test_serve_refuses_a_broken_scenario_naming_its_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "name: x\nsteps:\n  - dance:\n")
    result = CliRunner().invoke(main, ["serve", "--scenario", str(path)])
    assert result.exit_code == 2
    assert f"{path}:3: steps[0]" in result.output


@pytest.mark.slow  # a served process: CI's slow step runs it
def test_serve_scenario_starts_with_its_settings_and_faults_and_explicit_flags_win(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        "name: served\nseed: 9\nspeed: 120\n"
        "settings: {silent_edit_ratio: 1, render_fps: 4}\n"
        "faults:\n  - {operation: anonymous_token, on_call: 1, http_status: 503}\n"
        "steps:\n  - credits:\n",
    )
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("nemo-fake")), "serve", "--port", "0",
         "--scenario", str(path), "--seed", "5", "--set", "render_fps=3"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(5)]
        assert "(seed 5, speed 120.0x)" in banner[0], banner
        assert banner[1].startswith(f"scenario served ({path})")
        assert "settings: silent_edit_ratio=1, render_fps=4" in banner[2]
        assert "overridden on the command line: seed=5, render_fps=3" in banner[3]
        assert "fault rules: anonymous_token on_call=1 times=1 http_status=503" in banner[4]
        url = re.search(r"(http://127\.0\.0\.1:\d+)", banner[0])
        assert url
        config = RemoteFake(url.group(1)).config
        assert (config.seed, config.silent_edit_ratio, config.render_fps) == (5, 1.0, 3)
        first = httpx.post(f"{url.group(1)}/api/auth/anonymous-token", headers={"X-Client-Id": "c"})
        second = httpx.post(
            f"{url.group(1)}/api/auth/anonymous-token", headers={"X-Client-Id": "c"}
        )
        assert (first.status_code, second.status_code) == (503, 200)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_scenario_run_under_every_profile_prints_which_eras_pass(tmp_path: Path) -> None:
    catalogued = (CATALOGUE / "error-400-missing-client-id.yaml").read_text(encoding="utf-8")
    assert "incompatible: [client_id_required]" in catalogued
    (tmp_path / "a-tiny.yaml").write_text(GOOD, encoding="utf-8")
    (tmp_path / "b-known.yaml").write_text(catalogued, encoding="utf-8")
    unknown = re.sub(r"(?m)^incompatible:.*\n", "", catalogued).replace("name: error", "name: x")
    (tmp_path / "c-unknown.yaml").write_text(unknown, encoding="utf-8")
    stale = GOOD.replace("name: tiny", "name: stale") + "incompatible: [client_id_required]\n"
    (tmp_path / "d-stale.yaml").write_text(stale, encoding="utf-8")
    result = subprocess.run(
        [NEMO_FAKE, "scenario", "run", "--profile", "all", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    table = result.stdout.splitlines()[-7:-2]
    assert table[0].split() == ["current", "reference", "no-expiry", "early"]
    assert table[1].split() == ["tiny", "✓", "✓", "✓", "✓"]
    # Eras without a required X-Client-Id give a token where the scenario expects a 400: the
    # scenario that says it relies on that rule is expected to fail there, the other fails.
    assert table[2].split() == ["error-400-missing-client-id", "✓", "x", "✓", "x"]
    assert table[3].split() == ["x-400-missing-client-id", "✓", "✗", "✓", "✗"]
    assert table[4].split() == ["stale", "✓", "✗", "✓", "✗"]  # passes where it should not
    assert result.stdout.strip().endswith(
        "scenarios: 10 passed, 4 failed, 2 expected incompatibilities"
    )
    assert "  x expected incompatibility: client_id_required is False in reference (R:" in (
        result.stdout
    )
    assert "  ✗ passed, though expected to fail here: client_id_required is False in early" in (
        result.stdout
    )
