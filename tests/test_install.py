"""nemo-fake as another project gets it: a regular (non-editable) install of the built wheel into
a fresh virtual environment, used from a project that has its own `client` and `fake_backend`
packages. An editable install hides name clashes (its finder resolves our modules wherever the
user's come first on `sys.path`), so this is the only honest test of the import names.

Opt-in (`-m install`): it builds a wheel and installs from the package index, which takes a
minute. `.ci/run` runs it after the default suite.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.user_project import USER_PROJECT, write_user_project

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.install


def _run(*command: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout[-4000:]}{result.stderr}"
    return result.stdout


INSTALL_DOC = ROOT / "docs" / "pytest-plugin.md"
CHECKOUT = "/path/to/checkout"


def _documented_installs() -> dict[str, list[str]]:
    """The install commands docs/pytest-plugin.md shows, by way: from a checkout, or a wheel."""
    text = INSTALL_DOC.read_text(encoding="utf-8")
    blocks = [
        block.strip().splitlines() for block in re.findall(r"```console\n(.*?)```", text, re.S)
    ]
    found = {
        "checkout": next(b for b in blocks if b == [f"pip install {CHECKOUT}"]),
        "wheel": next(b for b in blocks if b and b[0].startswith("pip wheel")),
    }
    return found


def _as_run(line: str, venv: Path) -> str:
    """A documented command as this test runs it: this checkout, the fresh venv's pip."""
    return line.replace(CHECKOUT, str(ROOT)).replace("pip ", f"{venv}/bin/python -m pip -q ", 1)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", dist, ROOT)
    (built,) = dist.glob("nemo_fake-*.whl")
    return built


@pytest.fixture(scope="module", params=["checkout", "wheel"])
def venv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment where nemo-fake is installed the regular way, as the docs
    show (from a checkout, or from a wheel built from it), plus what a user's test suite
    brings (pytest, respx, anyio)."""
    folder = tmp_path_factory.mktemp(f"venv-{request.param}")
    _run(sys.executable, "-m", "venv", folder)
    work = tmp_path_factory.mktemp("install")
    for line in _documented_installs()[request.param]:
        _run("bash", "-c", _as_run(line, folder), cwd=work)
    _run(folder / "bin" / "python", "-m", "pip", "install", "--quiet", "pytest", "respx", "anyio")
    return folder


def test_the_wheel_holds_the_two_product_packages_only(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/", 1)[0] for name in names if "/" in name}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"nemo_fake", "nemo_client"}
    assert "nemo_fake/py.typed" in names and "nemo_client/py.typed" in names
    assert "nemo_fake/testing/plugin.py" in names
    # The inspector's pages and assets are package data: a wheel has them only when declared.
    inspector = "nemo_fake/http/inspector"
    for asset in ("templates/session.html", "templates/journal_row.html", "static/inspector.js"):
        assert f"{inspector}/{asset}" in names, asset


def test_a_project_with_its_own_client_package_uses_every_fixture(
    venv: Path, tmp_path: Path
) -> None:
    write_user_project(tmp_path)
    pytest_run = (venv / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider")
    output = _run(*pytest_run, cwd=tmp_path)
    assert "5 passed" in output.splitlines()[-1]


def test_the_scenario_cli_runs_inside_a_project_with_its_own_client_package(
    venv: Path, tmp_path: Path
) -> None:
    for name, text in USER_PROJECT.items():
        if name.endswith("__init__.py"):
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text, encoding="utf-8")
    # The user's project on the path, first, as it is for their own scripts.
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    scenario = ROOT / "scenarios" / "quick-edit.yaml"
    output = _run(venv / "bin" / "nemo-fake", "scenario", "run", scenario, cwd=tmp_path, env=env)
    assert "scenarios: 1 passed, 0 failed" in output


def test_the_installed_modules_come_from_site_packages(venv: Path, tmp_path: Path) -> None:
    script = "import nemo_fake, nemo_client; print(nemo_fake.__file__); print(nemo_client.__file__)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # even with the checkout's root on the path
    printed = _run(venv / "bin" / "python", "-c", script, cwd=tmp_path, env=env).split()
    assert all("site-packages" in path for path in printed), printed
