"""Live throughput against Prism: requests per second of `GET /api/credits/balance/simple` with a
bearer, the fake against Prism 5 (`@stoplight/prism-cli@5`) mocking the same endpoint from the
fake's own OpenAPI document (`nemo-fake openapi`), under the same load. Target: fake >= 2.5x.

Both servers run in their own process pinned to core 0; the load comes from core 1
(`benchmarks.load.requests_per_second`: wrk when installed, else an asyncio client), in turns
(fake, Prism, fake, Prism) so drift on the machine hits both alike, after an unmeasured warm-up
of each; the medians are compared. Neither logs a line per request: the fake runs `--quiet`,
Prism at `--verboseLevel warn` (its default, info, writes four lines per request and cuts its
rate by half or more; `--prism-log info` measures that).

Prism mocks statically (the documented example, not a body generated from the schema) and,
like the fake, checks the bearer: 401 without `Authorization`, 200 with the example with it.
It comes from the npm registry into a cache outside the checkout (NEMO_FAKE_PRISM_DIR, default
~/.cache/nemo-fake-bench/prism), installed on first use; without Node.js or npm, or when the
install fails, `prism_available` says why and the comparison is skipped.

    .venv/bin/python -m benchmarks.prism [--seconds 3] [--rounds 2] [--prism-log warn]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
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
    requests_per_second,
    tool,
    wait_until_up,
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
NEMO_FAKE = Path(sys.executable).with_name("nemo-fake")
TARGET = 2.5
CONNECTIONS = 16
WARM_UP = 4.0  # seconds of unmeasured load per server before the turns


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


@contextmanager
def _fake_server(settings: list[str]) -> Iterator[int]:
    """The fake on a free port, pinned to core 0, with no log line per request."""
    port = free_port()
    process = subprocess.Popen(
        [str(NEMO_FAKE), "serve", "--port", str(port), "--quiet", *settings],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        preexec_fn=functools.partial(on_core, SERVER_CORE),
        start_new_session=True,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/", timeout=START_TIMEOUT)
        yield port
    finally:
        _stop_group(process)


def main(seconds: float = 3.0, rounds: int = 2, prism_log: str = QUIET_LEVEL) -> None:
    # One token per address would make every later anonymous-token call fail: not wanted here.
    settings = ["--set", "tokens_per_address=null"]
    reason = prism_available()
    if reason is not None:
        print(f"prism: skipped ({reason})")
        return
    with tempfile.TemporaryDirectory(prefix="nemo-prism-doc-") as scratch:
        document = Path(scratch) / "nemo.json"
        subprocess.run(
            [str(NEMO_FAKE), "openapi", *settings, "--out", str(document)],
            check=True,
            capture_output=True,
            timeout=60,
        )
        expected = documented_example(document)
        with (
            _fake_server(settings) as fake_port,
            prism_mock(document, verbose_level=prism_log) as prism,
        ):
            issued = httpx.post(
                f"http://127.0.0.1:{fake_port}/api/auth/anonymous-token",
                headers={"X-Client-Id": "bench-prism"},
                timeout=10,
            )
            issued.raise_for_status()
            headers = {"Authorization": f"Bearer {issued.json()['data']['token']}"}
            check_answers(fake_port, headers, expected)
            check_answers(prism.port, headers, expected)
            ports = {"fake": fake_port, "prism": prism.port}
            # An unmeasured turn each first: Prism runs ~40% slower in its first 3 s under load
            # (V8 still compiling its hot paths), which would understate it.
            for port in ports.values():
                requests_per_second(port, PATH, headers, seconds=WARM_UP, connections=CONNECTIONS)
            rates: dict[str, list[float]] = {name: [] for name in ports}
            for _ in range(rounds):
                for name, port in ports.items():
                    rates[name].append(
                        requests_per_second(
                            port, PATH, headers, seconds=seconds, connections=CONNECTIONS
                        )
                    )
    fake = statistics.median(rates["fake"])
    prism_rate = statistics.median(rates["prism"])
    ratio = fake / prism_rate
    print(f"load: {tool()}, {CONNECTIONS} connections, {seconds:g} s per turn, {rounds} turns each")
    print(f"fake:  {fake:10.0f} req/s  (turns: {', '.join(f'{r:.0f}' for r in rates['fake'])})")
    print(
        f"prism: {prism_rate:10.0f} req/s  "
        f"(turns: {', '.join(f'{r:.0f}' for r in rates['prism'])}, prism-cli "
        f"{_installed_version()}, log level {prism_log})"
    )
    verdict = "meets" if ratio >= TARGET else "misses"
    print(f"ratio: {ratio:.2f}x ({verdict} the {TARGET}x target)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=3.0, help="per turn (default 3)")
    parser.add_argument("--rounds", type=int, default=2, help="turns per server (default 2)")
    parser.add_argument(
        "--prism-log",
        default=QUIET_LEVEL,
        choices=["trace", "debug", "info", "warn", "error", "fatal", "silent"],
        help=f"Prism's --verboseLevel (default {QUIET_LEVEL}; Prism's own default is info)",
    )
    arguments = parser.parse_args()
    main(arguments.seconds, arguments.rounds, arguments.prism_log)
