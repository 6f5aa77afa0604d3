"""Ways to drive the fake from tests: in-process without buffering, over a socket, or as a
whole `NemoFake`. The pytest fixtures live in `nemo_fake.testing.plugin`."""

from nemo_fake.testing.fake import NemoFake
from nemo_fake.testing.live_server import LiveServer
from nemo_fake.testing.nemo_server import NemoServer
from nemo_fake.testing.timer import FakeClockTimer
from nemo_fake.testing.transport import StreamingASGITransport

__all__ = [
    "FakeClockTimer",
    "LiveServer",
    "NemoFake",
    "NemoServer",
    "StreamingASGITransport",
]
