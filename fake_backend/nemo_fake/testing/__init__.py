"""Ways to drive the fake from tests: in-process without buffering, over a socket, or as a
whole `NemoFake`; and its controls, in process or over HTTP (`FakeControl`, `RemoteFake`).
The pytest fixtures live in `nemo_fake.testing.plugin`.

Names are imported when first used, as in `nemo_fake`: pytest loads the plugin in every run of
a project that has nemo-fake installed, and a run that never asks for a fixture should not pay
for the web stack."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nemo_fake.exports import lazy_exports, listing

if TYPE_CHECKING:
    from nemo_fake.testing.control import FakeControl
    from nemo_fake.testing.fake import NemoFake
    from nemo_fake.testing.live_server import LiveServer
    from nemo_fake.testing.nemo_server import NemoServer, serve
    from nemo_fake.testing.reference_client import NemoClient
    from nemo_fake.testing.remote import ControlError, RemoteFake
    from nemo_fake.testing.timer import FakeClockTimer
    from nemo_fake.testing.transport import StreamingASGITransport

_HOMES = {
    "nemo_fake.testing.control": ("FakeControl",),
    "nemo_fake.testing.fake": ("NemoFake",),
    "nemo_fake.testing.live_server": ("LiveServer",),
    "nemo_fake.testing.nemo_server": ("NemoServer", "serve"),
    "nemo_fake.testing.reference_client": ("NemoClient",),
    "nemo_fake.testing.remote": ("ControlError", "RemoteFake"),
    "nemo_fake.testing.timer": ("FakeClockTimer",),
    "nemo_fake.testing.transport": ("StreamingASGITransport",),
}
__getattr__ = lazy_exports(__name__, _HOMES, globals())

__all__ = [
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
]

__dir__ = listing(globals(), __all__)
