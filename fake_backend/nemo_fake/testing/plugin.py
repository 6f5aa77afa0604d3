"""pytest fixtures for testing a NemoVideo client against nemo-fake, as moto or respx are used.

Registered through the `pytest11` entry point, so installing nemo-fake is enough; `-p
no:nemo_fake` turns it off. Every fixture gives each test a fresh fake (new state, new clock)
and none shares anything across processes, so pytest-xdist needs nothing special. The
fixtures are synchronous on purpose: they work the same under anyio and pytest-asyncio.

- `nemo_fake`: a `NemoFake` reached in-process (`nemo_fake.http()`).
- `nemo_fake_config`: the `FakeConfig` it uses; override or parametrize it.
- `nemo_server`: that same fake over a real socket (`.url`, `.fake`).
- `nemo_client`: the reference client's `Assistant` on that fake, with what it `said`.
- `nemo_respx`: a respx router sending `https://mega-api-prod.nemovideo.ai` to that fake.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from nemo_fake.config import FakeConfig
from nemo_fake.exports import lazy_exports
from nemo_fake.profiles import PROFILES, Reliance, incompatibility, under

# pytest loads this module in every run of a project with nemo-fake installed: what the fixtures
# use (the web stack, uvicorn, httpx, the reference client) is imported when one runs.
if TYPE_CHECKING:
    import httpx
    import respx

    from nemo_fake.testing.fake import NemoFake
    from nemo_fake.testing.live_server import LiveServer
    from nemo_fake.testing.nemo_server import FakeSwitch, NemoServer
    from nemo_fake.testing.reference_client import NemoClient

__all__ = [
    "NemoClient",
    "nemo_client",
    "nemo_fake",
    "nemo_fake_config",
    "nemo_profile",
    "nemo_respx",
    "nemo_server",
]

# `NemoClient`, the type `nemo_client` gives, is importable from here for annotations.
__getattr__ = lazy_exports(
    __name__, {"nemo_fake.testing.reference_client": ("NemoClient",)}, globals()
)


#: The client id `nemo_client` asks its anonymous token with; fixed, so runs repeat.
CLIENT_ID = "nemo-fake-pytest-client"


@pytest.fixture
def nemo_fake_config() -> FakeConfig:
    """The `FakeConfig` behind `nemo_fake`. Override this fixture in a conftest, or
    parametrize it (`@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(...)])`)."""
    return FakeConfig()


@pytest.fixture
def nemo_profile(request: pytest.FixtureRequest) -> str | None:
    """The protocol era `nemo_fake` runs in: None (its config as it is) unless the run was
    started with `--nemo-profiles`, which runs each test once per era named."""
    era: str | None = getattr(request, "param", None)
    return era


@pytest.fixture
def nemo_fake(
    request: pytest.FixtureRequest, nemo_fake_config: FakeConfig, nemo_profile: str | None
) -> Iterator[NemoFake]:
    """A fresh fake NemoVideo API for this test, in-process, on a jumping virtual clock."""
    from nemo_fake.clock import VirtualClock
    from nemo_fake.testing.fake import NemoFake

    config = nemo_fake_config
    if nemo_profile is not None:
        config = under(nemo_fake_config, nemo_profile)
        _expect_incompatibility(request, nemo_fake_config, nemo_profile)
    with NemoFake(config, clock=VirtualClock(autojump=True)) as fake:
        yield fake


def _expect_incompatibility(request: pytest.FixtureRequest, config: FakeConfig, era: str) -> None:
    """A test marked `nemo_incompatible` is expected to fail in an era that changes what it
    relies on: strictly, so a marker that no longer holds fails the run as well."""
    relies_on: dict[str, object] = {}
    for mark in request.node.iter_markers("nemo_incompatible"):
        relies_on.update(dict.fromkeys(mark.args), **mark.kwargs)
    if not relies_on:
        return
    try:
        fact = incompatibility(era, cast(Reliance, relies_on), config)
    except ValueError as error:
        misspelt = str(error)
    else:
        misspelt = ""
    if misspelt:  # outside the except: the report then shows this line alone
        pytest.fail(f"nemo_incompatible: {misspelt}", pytrace=False)
    if fact is not None:
        request.applymarker(
            pytest.mark.xfail(reason=f"expected incompatibility: {fact}", strict=True)
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "nemo_incompatible(*settings, **setting_values): the test follows the current doc on "
        "these settings; with --nemo-profiles, an era that changes one (to any other value, or "
        "to one of the values listed) is expected to fail it, and passing there fails the run.",
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("nemo_fake").addoption(
        "--nemo-profiles",
        metavar="NAMES",
        help="Run every test that uses nemo-fake once per protocol era: a comma-separated list "
        f"of {', '.join(PROFILES)}, or all. A table at the end says which eras pass.",
    )


def eras_to_run(config: pytest.Config) -> list[str]:
    """The eras `--nemo-profiles` names (none without it); a UsageError for an unknown one."""
    option: str | None = config.getoption("--nemo-profiles", None)
    if not option:
        return []
    names = list(PROFILES) if option == "all" else [n.strip() for n in option.split(",")]
    unknown = [name for name in names if name not in PROFILES]
    if unknown:
        raise pytest.UsageError(
            f"--nemo-profiles: unknown profile(s) {', '.join(unknown)}; use {', '.join(PROFILES)}"
            " or all"
        )
    return names


def _params(nodeid: str) -> tuple[str, str]:
    base, _, params = nodeid.partition("[")
    return base, params.removesuffix("]")


def _param_of(nodeid: str, era: str) -> bool:
    _, params = _params(nodeid)
    return params == era or params.endswith(f"-{era}") or params.startswith(f"{era}-")


def _without_param(nodeid: str, era: str) -> str:
    """The test's id without the era among its parameters (which may hold dashes too)."""
    base, params = _params(nodeid)
    if params == era:
        rest = ""
    elif params.endswith(f"-{era}"):
        rest = params[: -len(era) - 1]
    elif params.startswith(f"{era}-"):
        rest = params[len(era) + 1 :]
    else:
        rest = params
    return f"{base}[{rest}]" if rest else base


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    eras = eras_to_run(metafunc.config)
    if eras and "nemo_profile" in metafunc.fixturenames:
        metafunc.parametrize("nemo_profile", eras, indirect=True, ids=eras)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    eras = eras_to_run(config)
    if not eras:
        return
    outcomes: dict[str, dict[str, str]] = {}
    for status in ("passed", "failed", "skipped", "error", "xfailed"):
        for report in terminalreporter.stats.get(status, []):
            nodeid: str = getattr(report, "nodeid", "")
            era = next((e for e in eras if _param_of(nodeid, e)), None)
            if era is None or getattr(report, "when", "call") not in ("call", "setup"):
                continue
            test = _without_param(nodeid, era)
            row = outcomes.setdefault(test, {})
            if row.get(era) != "failed":
                row[era] = status
    if not outcomes:
        return
    mark = {"passed": "✓", "failed": "✗", "error": "✗", "skipped": "-", "xfailed": "x"}
    width = max(len(test) for test in outcomes)
    terminalreporter.write_sep("=", "nemo-fake profiles")
    terminalreporter.write_line(f"{'':<{width}} " + " ".join(f"{era:^10}" for era in eras))
    for test, row in sorted(outcomes.items()):
        cells = " ".join(f"{mark.get(row.get(era, ''), ' '):^10}" for era in eras)
        terminalreporter.write_line(f"{test:<{width}} {cells}")
    terminalreporter.write_line("✓ passed  ✗ failed  x expected incompatibility  - skipped")


@pytest.fixture(scope="session")
def _nemo_live_server() -> Iterator[tuple[FakeSwitch, LiveServer]]:
    # One uvicorn per session (per xdist worker): starting one costs far more than a test.
    from nemo_fake.testing.live_server import LiveServer
    from nemo_fake.testing.nemo_server import FakeSwitch

    switch = FakeSwitch()
    with LiveServer(switch, host="127.0.0.1", port=0) as server:
        yield switch, server


@pytest.fixture
def nemo_server(
    nemo_fake: NemoFake, _nemo_live_server: tuple[FakeSwitch, LiveServer]
) -> Iterator[NemoServer]:
    """`nemo_fake` served on 127.0.0.1: `.url` for the client under test, `.fake` to drive
    it. Streams arrive as sent; use it for code that is not httpx or not in-process."""
    from nemo_fake.testing.nemo_server import NemoServer

    switch, server = _nemo_live_server
    with switch.serving(nemo_fake.app):
        yield NemoServer(server.url, nemo_fake)


@pytest.fixture
def nemo_client(nemo_fake: NemoFake, tmp_path: Path) -> NemoClient[NemoFake]:
    """The reference client's `Assistant`, in-process on `nemo_fake`, its waits on the fake's
    clock: a 30 s poll interval moves API time 30 s and takes no wall time."""
    from nemo_fake.testing.reference_client import reference_client

    # The in-process transport holds no sockets, so leaving this client unclosed leaks nothing.
    return reference_client(nemo_fake, nemo_fake.http(), tmp_path, client_id=CLIENT_ID)


@pytest.fixture
def nemo_respx(nemo_fake: NemoFake) -> Iterator[respx.MockRouter]:
    """A started respx router that sends `https://mega-api-prod.nemovideo.ai` to `nemo_fake`,
    for code calling the real URL with `httpx.AsyncClient`. Other hosts are refused unless
    the test adds routes: `nemo_respx.route(host="127.0.0.1").pass_through()` lets
    `nemo_server` in too."""
    import respx

    from nemo_fake.testing.fake import REAL_API_URL
    from nemo_fake.testing.transport import StreamingASGITransport

    # The streaming transport rather than respx.ASGIHandler: respx passes a response's stream
    # through untouched, so /run_sse events arrive as the fake sends them.
    transport = StreamingASGITransport(nemo_fake.app)

    def to_the_fake(request: httpx.Request) -> Awaitable[httpx.Response]:
        # respx calls this for sync and async clients alike; a sync one would get a coroutine
        # and fail with a bare `assert False`, so say what to do instead.
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            raise TypeError(
                "nemo_respx serves httpx.AsyncClient only; use nemo_server for a sync client"
            ) from None
        return transport.handle_async_request(request)

    with respx.mock(base_url=REAL_API_URL, assert_all_called=False) as router:
        router.route(name="nemo-fake").mock(side_effect=to_the_fake)
        yield router
