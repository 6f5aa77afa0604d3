from __future__ import annotations

import functools
import os
from collections.abc import AsyncIterator

import httpx
import pytest
from hypothesis import settings

from nemo_fake import FakeConfig, NemoBackend, NemoFake, VirtualClock
from nemo_fake.testing import ControlError, NemoServer, RemoteFake
from nemo_fake.testing.contract import Contract, contract_of, response_hook
from nemo_fake.testing.tls import shared_tls_context
from tests.support import Api

# Property tests run 15 examples by default to keep the suite fast (each test follows the
# profile, so a thorough run deepens every one);
# HYPOTHESIS_PROFILE=thorough runs 1000 each.
settings.register_profile("default", max_examples=15, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def backend(nemo_fake: NemoFake) -> NemoBackend:
    """The plugin's fake, reached for its domain state."""
    return nemo_fake.backend


@pytest.fixture
def clock(nemo_fake: NemoFake) -> VirtualClock:
    return nemo_fake.clock


@pytest.fixture
def clock_stands_still(nemo_fake: NemoFake) -> None:
    """The fake's clock without autojump: streams wait until the test advances it."""
    nemo_fake.clock.autojump = False


TARGETS = ("inprocess", "live")  # the live one with --nemo-live
# Fixtures that reach inside the fake: a test using one (or setting `config`) needs the fake.
FAKE_CONTROLS = {"backend", "clock", "nemo_fake", "nemo_server"}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nemo", "NemoVideo contract targets")
    group.addoption(
        "--nemo-target",
        metavar="URL",
        help="Run the contract tests against this base URL (a served fake or the real API) "
        "instead of the in-process and live fakes. A token comes from NEMO_TOKEN if set.",
    )
    group.addoption(
        "--nemo-live",
        action="store_true",
        help="Run each contract test over a live socket as well as in-process (CI does, in "
        "every era); the default run stays in-process, to stay fast.",
    )
    group.addoption(
        "--nemo-spend",
        action="store_true",
        help="With --nemo-target, also run the tests that spend credits.",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "spends_credits: runs agent work that costs credits")
    config.addinivalue_line("markers", "control_api: needs the fake's /_fake/ control API")


def pytest_sessionstart(session: pytest.Session) -> None:
    target = session.config.getoption("--nemo-target")
    # xdist's workers need not ask again: the controller's session started first.
    if target and not hasattr(session.config, "workerinput"):
        _check_answers(target)


def _check_answers(target: str) -> None:
    """One error before any test when nothing answers at the target, instead of each contract
    test failing on its own ConnectError. Any HTTP answer will do, even a 404."""
    try:
        with httpx.Client(verify=shared_tls_context(), timeout=10) as http:
            http.get(target)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise pytest.UsageError(
            f"--nemo-target {target} does not answer ({error or type(error).__name__}): "
            "start a fake there (`nemo-fake serve --port PORT`) or pass the URL of one"
        ) from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "api" in metafunc.fixturenames:
        target = metafunc.config.getoption("--nemo-target")
        live = metafunc.config.getoption("--nemo-live")
        targets = ["target"] if target else TARGETS if live else TARGETS[:1]
        metafunc.parametrize("api", targets, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    target = config.getoption("--nemo-target")
    if not target:
        return
    is_fake = _serves_control_api(target)
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "api" not in fixtures:
            reason = "not a contract test: runs only without --nemo-target"
        elif fixtures & FAKE_CONTROLS or "nemo_fake_config" in _params(item):
            reason = "needs the in-process fake's clock, backend or config"
        elif item.get_closest_marker("control_api") and not is_fake:
            reason = f"needs the /_fake/ control API, which {target} does not serve"
        elif item.get_closest_marker("spends_credits") and not config.getoption("--nemo-spend"):
            reason = "spends credits: pass --nemo-spend to run it"
        else:
            continue
        item.add_marker(pytest.mark.skip(reason=reason))


def _params(item: pytest.Item) -> dict[str, object]:
    callspec = getattr(item, "callspec", None)
    return dict(callspec.params) if callspec is not None else {}


@functools.cache
def _serves_control_api(target: str) -> bool:
    try:
        with RemoteFake(target) as remote:
            remote.ping()
    except ControlError:
        return False
    return True


@pytest.fixture
async def api(request: pytest.FixtureRequest, nemo_fake_config: FakeConfig) -> AsyncIterator[Api]:
    """The API under test: the plugin's fake in-process (`nemo_fake`, streaming ASGI) or over
    a live socket (`nemo_server`), or with --nemo-target any base URL. Tests parametrize
    `nemo_fake_config` to change its settings (so it is asked for here)."""
    if request.param == "target":
        url = request.config.getoption("--nemo-target")
        async with httpx.AsyncClient(base_url=url, verify=shared_tls_context()) as http:
            if _serves_control_api(url):
                # A served fake starts each test fresh, as the in-process one does, and says
                # what it serves: every answer is checked against that.
                served = Contract((await http.get("/openapi.json")).json())
                with RemoteFake(url) as remote:
                    remote.reset()  # after: the test starts with an empty journal
                http.event_hooks["response"].append(response_hook(lambda: served))
            yield Api(http, "target", token=os.environ.get("NEMO_TOKEN") or None)
        return
    fake: NemoFake = request.getfixturevalue("nemo_fake")
    # Every answer the test receives is checked against the fake's OpenAPI document, for the
    # settings in force when it answers.
    hooks = {"response": [response_hook(lambda: contract_of(fake.app, fake.config))]}
    if request.param == "inprocess":
        async with fake.http(event_hooks=hooks) as http:
            yield Api(http, "inprocess")
        return
    server: NemoServer = request.getfixturevalue("nemo_server")
    async with server.http(verify=shared_tls_context(), event_hooks=hooks) as http:
        yield Api(http, "live")
