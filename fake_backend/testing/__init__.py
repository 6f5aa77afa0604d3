"""Ways to drive the fake from tests: in-process without buffering, over a socket, or as a
whole `NemoFake`. The pytest fixtures live in `fake_backend.testing.plugin`."""

from fake_backend.testing.fake import NemoFake
from fake_backend.testing.live import NemoServer
from fake_backend.testing.server import LiveServer
from fake_backend.testing.timer import FakeClockTimer
from fake_backend.testing.transport import StreamingASGITransport

__all__ = [
    "FakeClockTimer",
    "LiveServer",
    "NemoFake",
    "NemoServer",
    "StreamingASGITransport",
]
