"""The names users type, pinned (as httpx pins its exported members): a name added or dropped
from a package's `__all__` is a decision, made here on purpose. And each module exists once:
the editable install, the wheel and the pytest plugin all load the files under
`fake_backend/nemo_fake` and `client/nemo_client`, never a second copy under another name."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import nemo_client
import nemo_fake
import nemo_fake.testing

ROOT = Path(__file__).resolve().parents[1]

PUBLIC = {
    nemo_fake: {
        "ERROR_TABLE",
        "ApiError",
        "Clock",
        "Code",
        "ControlError",
        "FakeConfig",
        "FakeControl",
        "FaultRule",
        "JournalEntry",
        "Movement",
        "NemoBackend",
        "NemoFake",
        "RemoteFake",
        "ScaledClock",
        "StreamFaults",
        "VirtualClock",
        "create_app",
        "with_overrides",
    },
    nemo_fake.testing: {
        "ControlError",
        "FakeClockTimer",
        "FakeControl",
        "LiveServer",
        "NemoClient",
        "NemoFake",
        "NemoServer",
        "RemoteFake",
        "StreamingASGITransport",
        "serve",
    },
    nemo_client: {
        "REFERENCE_POLLING",
        "SKILL_POLLING",
        "AgentEvent",
        "AnonymousToken",
        "Assistant",
        "Balance",
        "ChatResult",
        "ClaimToken",
        "ClientConfig",
        "ManualTimer",
        "NemoApi",
        "NemoApiError",
        "Project",
        "ProjectState",
        "RealTimer",
        "RenderPolling",
        "RenderStatus",
        "ScaledTimer",
        "SessionInfo",
        "StreamInterrupted",
        "Timer",
        "UploadedFile",
        "describe_changes",
        "route",
        "summarize",
        "translate",
    },
}


@pytest.mark.parametrize("package", list(PUBLIC), ids=lambda package: package.__name__)
def test_each_package_exports_exactly_its_public_names(package: object) -> None:
    exported = set(getattr(package, "__all__", ()))
    assert exported == PUBLIC[package]  # type: ignore[index]
    for name in exported:
        assert getattr(package, name) is not None


@pytest.mark.parametrize("package", list(PUBLIC), ids=lambda package: package.__name__)
def test_every_exported_name_is_documented(package: object) -> None:
    for name in getattr(package, "__all__", ()):
        value = getattr(package, name)
        if callable(value) and not isinstance(value, dict):
            doc = (value.__doc__ or "").strip()
            # A dataclass without a docstring gets its signature as one: not documentation.
            assert doc and not doc.startswith(f"{name}("), f"{package}.{name} has no docstring"


def test_both_packages_ship_their_type_information() -> None:
    for package in (nemo_fake, nemo_client):
        assert (Path(package.__file__).parent / "py.typed").is_file()  # type: ignore[arg-type]


def test_each_module_is_loaded_once_from_its_source_root() -> None:
    roots = {"nemo_fake": ROOT / "fake_backend", "nemo_client": ROOT / "client"}
    for name, module in list(sys.modules.items()):
        top = name.split(".", 1)[0]
        path = getattr(module, "__file__", None)
        if top in roots:
            assert path and Path(path).is_relative_to(roots[top] / top), (name, path)
        elif path and Path(path).is_relative_to(ROOT) and top in ("fake_backend", "client"):
            pytest.fail(f"a second copy of our code is loaded as {name} from {path}")


def test_the_pytest_plugin_is_the_packaged_module(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("nemo_fake")
    assert plugin is sys.modules["nemo_fake.testing.plugin"]
    assert Path(str(plugin.__file__)).is_relative_to(ROOT / "fake_backend" / "nemo_fake")
