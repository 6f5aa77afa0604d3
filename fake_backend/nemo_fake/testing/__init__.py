"""Ways to drive the fake from tests: in-process without buffering, over a socket, or as a
whole `NemoFake`; and its controls, in process or over HTTP (`FakeControl`, `RemoteFake`).
The pytest fixtures live in `nemo_fake.testing.plugin`."""

from nemo_fake.testing.control import FakeControl
from nemo_fake.testing.fake import NemoFake
from nemo_fake.testing.live_server import LiveServer
from nemo_fake.testing.nemo_server import NemoServer, serve
from nemo_fake.testing.reference_client import NemoClient
from nemo_fake.testing.remote import ControlError, RemoteFake
from nemo_fake.testing.timer import FakeClockTimer
from nemo_fake.testing.transport import StreamingASGITransport

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
