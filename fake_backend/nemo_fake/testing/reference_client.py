"""The reference client on a fake: the one place it is assembled, for the `nemo_client` fixture
and for scenario runs, in process or against a served fake.

The fake never needs the client to run, so `nemo_client` is imported only when one is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx

from nemo_fake.testing.control import FakeControl
from nemo_fake.testing.timer import FakeClockTimer

if TYPE_CHECKING:
    from nemo_client import Assistant

__all__ = ["NemoClient", "reference_client"]

ControlT = TypeVar("ControlT", bound=FakeControl)


@dataclass
class NemoClient(Generic[ControlT]):
    """The reference client's `Assistant` on a fake. Attribute access falls through to
    `assistant`, so `await nemo_client.handle("export")` works; `said` collects what it told
    the user, `timer.sleeps` every wait it asked for, and `fake` controls the fake."""

    assistant: Assistant
    said: list[str]
    timer: FakeClockTimer
    fake: ControlT
    downloads: Path

    def __getattr__(self, name: str) -> Any:
        # Only called for names the dataclass lacks. "assistant" itself is excluded so a
        # half-built instance (copy, pickle) raises instead of recursing.
        if name == "assistant":
            raise AttributeError(name)
        return getattr(self.assistant, name)


def reference_client(
    fake: ControlT, http: httpx.AsyncClient, folder: Path, *, client_id: str
) -> NemoClient[ControlT]:
    """The reference client speaking to `http` (a client for the fake's base URL), its waits on
    the fake's clock: a 30 s poll interval moves API time 30 s and takes no wall time. Its
    config (client id, token, session) is kept under `folder`, and downloads go there too."""
    from nemo_client import Assistant, ClientConfig, NemoApi

    config = ClientConfig(
        api_url=str(http.base_url).rstrip("/"),
        web_url=fake.config.web_url,
        client_id=client_id,
        config_dir=folder / "nemo-client",
    )
    said: list[str] = []
    timer = FakeClockTimer(fake)
    downloads = folder / "nemo-downloads"
    assistant = Assistant(
        NemoApi(config, http=http), say=said.append, timer=timer, downloads=downloads
    )
    return NemoClient(assistant, said, timer, fake, downloads)
