"""The documentation stays true: every shell and Python block of README.md and docs/*.md runs,
and every link stays inside the repository and resolves. How a block runs: tests/docs.py."""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nemo_fake import ERROR_TABLE, FakeConfig, media, scenarios
from tests.docs import PAGES, ROOT, Block, blocks, marked
from tests.support import served_fake

pytest_plugins = ["pytester"]

BIN = Path(sys.executable).parent
# The fake is served a hundred times faster than `nemo-fake serve`'s default, and a client told to
# match `--speed 60` matches it.
SPEED = 6000
SERVED_URL = "http://127.0.0.1:8787"
READS_THE_ENVIRONMENT = re.compile(r"NEMO_API_URL|\bfrom_env\(")


def _page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def _pages_with(*kinds: str) -> list[Path]:
    return [page for page in PAGES if any(block.kind in kinds for block in blocks(page))]


@dataclass
class PageRun:
    """What running a page's blocks left behind, for the checks of that page."""

    work: Path
    stdout: str = ""


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh directory that is also HOME, as a reader's new shell would have it, with the
    checkout's `scenarios/` linked in."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "scenarios").symlink_to(ROOT / "scenarios")
    monkeypatch.setenv("HOME", str(work))
    for name in ("NEMO_TOKEN", "NEMO_CLIENT_ID", "NEMO_WEB_URL", "SKILL_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    return work


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """A fake served for one page, as `nemo-fake serve` would, only faster."""
    with served_fake(FakeConfig(render_fps=2), speed=SPEED, storage=tmp_path / "s") as server:
        yield server.url


def _as_run(code: str, url: str) -> str:
    """A shell block as the harness runs it: the served fake, this virtualenv, its speed."""
    # One pass: the checkout's commands, relative or from $PWD, are this virtualenv's.
    code = re.sub(r"(\$PWD/)?\.venv/bin/", lambda _: f"{BIN}/", code.replace(SERVED_URL, url))
    return re.sub(r"--speed 60\b", f"--speed {SPEED}", code)


# What a tool's installer needs to reach its registry here (proxies, certificate bundles); the
# ordinary shell blocks run without any of it.
REGISTRY_ACCESS = re.compile(
    r"(?i)_proxy$|CA_BUNDLE$|CA_CERTS$|^SSL_CERT_|^PIP_|^NPM_CONFIG_|^NODE_"
)


def _run_shell(
    shell: list[Block], work: Path, url: str, *, timeout: float = 120, installs: bool = False
) -> str:
    """A page's shell blocks, in order, as one script."""
    if "curl " in "".join(block.code for block in shell) and shutil.which("curl") is None:
        pytest.skip("needs curl")
    script = "".join(f"echo '--- {b.where}' >&2\n{_as_run(b.code, url)}" for b in shell)
    # A session of its own: whatever a block starts in the background (a mock server, say, and
    # the children it spawns) is stopped with it, never left running.
    process = subprocess.Popen(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=work,
        env={
            **(
                {k: v for k, v in os.environ.items() if REGISTRY_ACCESS.search(k)}
                if installs
                else {}
            ),
            "PATH": f"{BIN}:/usr/bin:/bin",
            "HOME": str(work),
            "LANG": "C.UTF-8",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == 0, f"{stdout}\n{stderr}"
    return stdout


def _run_python(python: list[Block]) -> None:
    """A page's Python blocks, in order, in one namespace and one event loop; a traceback
    gives the page's own line numbers."""
    namespace: dict[str, Any] = {"__name__": "__docs__"}
    with asyncio.Runner() as runner:
        for block in python:
            source = "\n" * (block.line - 1) + block.code
            code = compile(
                source, block.where.split(":")[0], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
            )
            result = eval(code, namespace)  # exec, but handing back the coroutine of an `await`
            if inspect.iscoroutine(result):
                runner.run(result)


@pytest.mark.parametrize("page", _pages_with("shell", "python"), ids=_page_id)
def test_the_examples_run(
    page: Path, work: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    shell, python = marked(page, "shell"), marked(page, "python")
    run = PageRun(work)
    # A served fake for the shell, and for Python that finds the API through the environment.
    if shell or any(READS_THE_ENVIRONMENT.search(block.code) for block in python):
        url: str = request.getfixturevalue("served")
        monkeypatch.setenv("NEMO_API_URL", url)
        if shell:
            run.stdout = _run_shell(shell, work, url)
    if python:
        monkeypatch.chdir(work)
        _run_python(python)
    if check := CHECKS.get(_page_id(page)):
        check(run)


@pytest.mark.slow
@pytest.mark.parametrize("page", _pages_with("slow shell"), ids=_page_id)
def test_the_slow_examples_run(page: Path, work: Path, request: pytest.FixtureRequest) -> None:
    """Shell blocks that take seconds, run in the slow step."""
    url: str = request.getfixturevalue("served")
    _run_shell(marked(page, "slow shell"), work, url, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("page", _pages_with("tools"), ids=_page_id)
def test_the_tool_examples_run(page: Path, work: Path, request: pytest.FixtureRequest) -> None:
    """Blocks that install a tool from npm or PyPI and use it against the page's fake."""
    tools = marked(page, "tools")
    if any("npm " in block.code for block in tools) and shutil.which("npm") is None:
        pytest.skip("needs Node.js: Prism comes from the npm registry (npm)")
    url: str = request.getfixturevalue("served")
    _run_shell(tools, work, url, timeout=600, installs=True)


@pytest.mark.parametrize("page", _pages_with("pytest"), ids=_page_id)
def test_the_test_files_pass(page: Path, pytester: pytest.Pytester) -> None:
    """A page's test files, in a fresh project where only the installed plugin brings the
    fixtures."""
    files = marked(page, "pytest")
    for block in files:
        pytester.makepyfile(**{f"test_{block.page.stem.lower()}_{block.line}": block.code})
    expected = sum(len(re.findall(r"^(?:async )?def test_", b.code, re.M)) for b in files)
    # In-process: a subprocess would spend ~2 s importing this project's own test tools.
    result = pytester.runpytest_inprocess("-p", "anyio", "-p", "no:cacheprovider")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= expected, result.stdout.str()
    assert set(outcomes) <= {"passed", "warnings"}, result.stdout.str()


@pytest.mark.parametrize("page", _pages_with("scenario"), ids=_page_id)
def test_the_scenarios_pass(page: Path, tmp_path: Path) -> None:
    for block in marked(page, "scenario"):
        path = tmp_path / f"{block.page.stem}-{block.line}.yaml"
        path.write_text(block.code, encoding="utf-8")
        results = scenarios.run_sync(scenarios.load(path))
        report = "\n".join(scenarios.describe(result) for result in results)
        assert all(result.passed for result in results), f"{block.where}:\n{report}"


# -- what particular pages must have shown --------------------------------------------------


def _assert_portrait_mp4(path: Path, duration: float | None = None) -> None:
    info = media.probe(path, "video")
    assert (info.width, info.height) == (1080, 1920)
    if duration is not None:
        assert abs(info.duration - duration) < 0.2


def _readme(run: PageRun) -> None:
    assert '"available":100' in run.stdout  # curl: a new token's balance
    assert "✅ Video ready!" in run.stdout  # nemo-client's quick edit
    _assert_portrait_mp4(run.work / "clip.mp4")
    assert "scenarios: 1 passed, 0 failed" in run.stdout


def _http_api(run: PageRun) -> None:
    assert '"status":"completed"' in run.stdout
    saved = re.search(r"saved (/\S+/clip\.mp4)$", run.stdout, re.M)
    assert saved, "the walk-through says where it saved the clip"
    clip = Path(saved.group(1))
    assert not clip.is_relative_to(ROOT) and not (run.work / "clip.mp4").exists()
    _assert_portrait_mp4(clip, duration=4.0)  # the uploaded video's length
    shutil.rmtree(clip.parent)  # the reader's scratch folder, made by mktemp


def _run_sse(run: PageRun) -> None:
    assert "analyze_video" in run.stdout and "virality score" in run.stdout


def _control_api(run: PageRun) -> None:
    assert "balance: HTTP 502\nbalance: HTTP 200\n" in run.stdout
    assert '"code":1001' in run.stdout


def _cli(run: PageRun) -> None:
    assert '"filename": "talk.mp4"' in run.stdout
    assert "Timeline (1 track): 1. Video: talk.mp4 (0-2s)" in run.stdout


CHECKS: dict[str, Callable[[PageRun], None]] = {
    "README.md": _readme,
    "docs/http-api.md": _http_api,
    "docs/run-sse.md": _run_sse,
    "docs/control-api.md": _control_api,
    "docs/cli.md": _cli,
}


# -- the pages themselves --------------------------------------------------------------------


def test_every_block_says_how_it_runs() -> None:
    unknown = [
        f"{block.where}: ```{block.language} with marker {block.marker!r}"
        for page in PAGES
        for block in blocks(page)
        if block.kind is None
    ]
    indented = [
        f"{_page_id(page)}:{number}"
        for page in PAGES
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1)
        if re.match(r"\s+(```|~~~)|~~~", line)
    ]
    unknown += [f"{where}: a fence the harness would not see" for where in indented]
    assert not unknown, "blocks the harness cannot run or skip knowingly:\n" + "\n".join(unknown)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = re.search(r"^python3 -m venv .*?&& \.venv/bin/(python -m pytest.*)$", readme, re.M)
    assert command, "README has no test command"
    ci_steps = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    # The README command is the first test step; only CI-only steps may follow it.
    first_test_step = next(line for line in ci_steps if line.startswith("python -m pytest"))
    assert first_test_step == command.group(1)


def test_the_readme_is_a_front_door() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200


def test_the_error_table_has_every_code_with_its_http_status() -> None:
    text = (ROOT / "docs" / "http-api.md").read_text(encoding="utf-8")
    for code, spec in ERROR_TABLE.items():
        row = re.search(rf"^\| `?{int(code)}`? \| {spec.http_status} \|", text, re.MULTILINE)
        assert row, f"the error table lacks a row for {int(code)} / HTTP {spec.http_status}"


# -- links -----------------------------------------------------------------------------------

# Every page readers see on GitHub: the manual, and the note in scenarios/.
LINKED_PAGES = [*PAGES, ROOT / "scenarios" / "README.md"]
FENCED = re.compile(r"^```.*?^```[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)[\s\S]*?\1")
COMMENT = re.compile(r"<!--[\s\S]*?-->")
INLINE_LINK = re.compile(r"\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?([^>\s]+)", re.M)
AUTOLINK = re.compile(r"<([a-z][a-z0-9+.-]*:[^>\s]*)>", re.I)
SCHEME = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.I)
BARE_URL = re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+", re.I)
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.M)


def _prose(page: Path) -> str:
    """What renders as text and links: the page without code blocks, code spans or comments."""
    text = FENCED.sub("", page.read_text(encoding="utf-8"))
    return CODE_SPAN.sub("", COMMENT.sub("", text))


def _targets(page: Path) -> list[str]:
    prose = _prose(page)
    return [*INLINE_LINK.findall(prose), *REFERENCE_LINK.findall(prose)]


def _anchors(page: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens, repeats
    numbered."""
    seen: dict[str, int] = {}
    anchors = set()
    text = FENCED.sub("", page.read_text(encoding="utf-8"))
    for heading in HEADING.findall(text):
        heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link's text
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(f"{slug}-{count}" if count else slug)
    return anchors


@pytest.mark.parametrize("page", LINKED_PAGES, ids=_page_id)
def test_no_link_leaves_the_repository(page: Path) -> None:
    prose = _prose(page)
    outside = [target for target in _targets(page) if SCHEME.match(target)]
    outside += AUTOLINK.findall(prose)
    # GitHub makes a bare URL in text a link: an address given as a value goes in backticks.
    text_only = REFERENCE_LINK.sub("", INLINE_LINK.sub("]()", AUTOLINK.sub("", prose)))
    outside += BARE_URL.findall(text_only)
    assert not outside, f"{_page_id(page)} links outside the repository: {outside}"
    raw = page.read_text(encoding="utf-8")
    assert "../shared" not in raw and "/work/shared" not in raw, (
        f"{_page_id(page)} refers to files outside the repository; say it in docs/sources.md"
    )


@pytest.mark.parametrize("page", LINKED_PAGES, ids=_page_id)
def test_every_link_between_pages_resolves(page: Path) -> None:
    broken = []
    for target in _targets(page):
        if SCHEME.match(target):
            continue  # refused by test_no_link_leaves_the_repository
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.is_relative_to(ROOT) or not linked.exists():
            broken.append(f"{target}: no such file in the repository")
        elif anchor and (linked.suffix != ".md" or anchor not in _anchors(linked)):
            broken.append(f"{target}: no heading #{anchor} in {_page_id(linked)}")
    assert not broken, f"{_page_id(page)} has broken links:\n" + "\n".join(broken)
