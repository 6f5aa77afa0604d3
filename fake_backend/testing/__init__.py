"""Ways to drive an ASGI app from tests without buffering its streams."""

from fake_backend.testing.server import LiveServer
from fake_backend.testing.transport import StreamingASGITransport

__all__ = ["LiveServer", "StreamingASGITransport"]
