"""Prism 5 (`@stoplight/prism-cli@5`) mocking the fake's own OpenAPI document (`nemo-fake
openapi`), for the live figures to compare the fake with (benchmarks/live.py measures both in
turns, under the same load). Prism runs pinned to core 0 and at `--verboseLevel warn`: at its
default, info, it writes four lines per request and loses half its rate or more, while the
fake runs `--quiet`.

Prism mocks statically (the documented example, not a body generated from the schema) and,
like the fake, checks the bearer: 401 without `Authorization`, 200 with the example with it.
It comes from the npm registry into a cache outside the checkout (NEMO_FAKE_PRISM_DIR, default
~/.cache/nemo-fake-bench/prism), installed on first use; without Node.js or npm, or when the
install fails, `prism_available` says why and the comparison is skipped.

    .venv/bin/python -m benchmarks --only live   (benchmarks/live.py measures with it)
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.load import (
    free_port,
    on_core,
)

PATH = "/api/credits/balance/simple"
PACKAGE = "@stoplight/prism-cli@5"
PRISM_DIR = Path(
    os.environ.get("NEMO_FAKE_PRISM_DIR", Path.home() / ".cache" / "nemo-fake-bench" / "prism")
)
PRISM_BIN = PRISM_DIR / "node_modules" / ".bin" / "prism"
INSTALL_TIMEOUT = 600.0  # a cold npm cache on a slow link; a warm one takes seconds
START_TIMEOUT = 60.0  # Prism parses and dereferences the whole document before listening
STOP_TIMEOUT = 10.0
SERVER_CORE = 0
# Prism's default level ("info") writes four lines per request; the fake is measured with
# --quiet (no line per request, warnings still logged), so Prism gets the like of it.
QUIET_LEVEL = "warn"


@dataclass
class PrismServer:
    """A running Prism mock: where it listens, its process, and the file its log goes to."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _installed_version() -> str | None:
    """The version of the installed prism-cli, or None when it is not (fully) installed."""
    manifest = PRISM_DIR / "node_modules" / "@stoplight" / "prism-cli" / "package.json"
    if not PRISM_BIN.exists() or not manifest.exists():
        return None
    try:
        version: str = json.loads(manifest.read_text())["version"]
    except (OSError, ValueError, KeyError):
        return None
    return version


def _run_bounded(command: list[str], timeout: float) -> tuple[int | None, str]:
    """Run a command in its own process group; on timeout kill the whole group (npm spawns
    children for install scripts, which a plain `subprocess.run(timeout=...)` would orphan)."""
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            code: int | None = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            _stop_group(process)
        output.seek(0)
        return code, output.read().decode(errors="replace")


@functools.cache
def prism_available(*, install: bool = True) -> str | None:
    """None when Prism 5 can run (installing it first if it is missing, when `install`);
    otherwise the reason.

    Cached: the install is tried once per process, so a failure is not retried for each run.
    """
    if shutil.which("node") is None:
        return "Node.js is not installed (node not on PATH)"
    version = _installed_version()
    if version is None and not install:
        return f"Prism is not installed in {PRISM_DIR} (sizes small and full install it)"
    if version is None:
        npm = shutil.which("npm")
        if npm is None:
            return "npm is not installed, so Prism cannot be installed"
        PRISM_DIR.mkdir(parents=True, exist_ok=True)
        # Errors only: quiet when it works, and npm's own reason when it does not.
        quiet = ["--loglevel=error", "--no-audit", "--no-fund"]
        command = [npm, "install", *quiet, "--prefix", str(PRISM_DIR), PACKAGE]
        code, output = _run_bounded(command, INSTALL_TIMEOUT)
        if code is None:
            return f"npm install {PACKAGE} took over {INSTALL_TIMEOUT:.0f} s"
        if code != 0:
            return f"npm install {PACKAGE} failed ({code}): {output.strip()[:300]}"
        version = _installed_version()
        if version is None:
            return f"npm install {PACKAGE} left no prism in {PRISM_DIR}"
    if not version.startswith("5."):
        return f"{PRISM_DIR} holds prism-cli {version}, not 5.x (remove it to reinstall)"
    return None


def _stop_group(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the process group, then SIGKILL it if it outlives the timeout."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            continue
    process.wait(timeout=timeout)  # reaped; after SIGKILL this returns at once


def _tail(log: Path, chars: int = 2000) -> str:
    try:
        return log.read_text(errors="replace")[-chars:]
    except OSError:
        return ""


def _wait_answering(server: PrismServer, timeout: float = START_TIMEOUT) -> None:
    """Until any HTTP answer comes (a 404 on `/` will do); fail early if Prism exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"prism exited ({server.process.returncode}) before listening: {_tail(server.log)}"
            )
        try:
            httpx.get(server.url + "/", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"prism did not answer within {timeout:.0f} s: {_tail(server.log)}")


@contextmanager
def prism_mock(document: Path, *, verbose_level: str = QUIET_LEVEL) -> Iterator[PrismServer]:
    """Prism 5 mocking `document` on 127.0.0.1 (pinned to core 0), stopped on exit.

    Static examples (Prism's default: no `--dynamic`), so each answer is the documented
    example and not a body faked from the schema, which would be a slower, different path.
    Raises RuntimeError when Prism cannot run (see `prism_available`) or does not come up.
    """
    reason = prism_available()
    if reason is not None:
        raise RuntimeError(f"Prism cannot run: {reason}")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="nemo-prism-") as scratch:
        log = Path(scratch) / "prism.log"
        with log.open("wb") as out:
            # Own session: `prism` is a node script that could fork; the group goes as a whole.
            command = [str(PRISM_BIN), "mock", str(document), "--port", str(port)]
            command += ["--host", "127.0.0.1", "--verboseLevel", verbose_level]
            process = subprocess.Popen(
                command,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=functools.partial(on_core, SERVER_CORE),
                start_new_session=True,
            )
        server = PrismServer(port=port, process=process, log=log)
        try:
            _wait_answering(server)
            yield server
        finally:
            _stop_group(process)


def check_answers(port: int, headers: Mapping[str, str], expected: Any) -> None:
    """The endpoint answers 200 with `expected` when sent `headers` (a bearer), and 401 without:
    so the load measures the documented answer and the security check, not an error path."""
    url = f"http://127.0.0.1:{port}{PATH}"
    with httpx.Client(timeout=10) as client:
        answer = client.get(url, headers=dict(headers))
        if answer.status_code != 200 or answer.json() != expected:
            raise RuntimeError(f"{url} answered {answer.status_code}: {answer.text[:500]}")
        bare = client.get(url)
        if bare.status_code != 401:
            raise RuntimeError(f"{url} without a bearer answered {bare.status_code}, not 401")


def documented_example(document: Path, path: str = PATH) -> Any:
    """The 200 example of GET `path` in a JSON OpenAPI document: what Prism should answer."""
    operation = json.loads(document.read_text())["paths"][path]["get"]
    content = operation["responses"]["200"]["content"]["application/json"]
    if "example" in content:
        return content["example"]
    return next(iter(content["examples"].values()))["value"]
