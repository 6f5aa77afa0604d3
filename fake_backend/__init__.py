"""nemo-fake: an offline, stateful fake of the NemoVideo cloud video API."""

from fake_backend.clock import Clock, ScaledClock, VirtualClock
from fake_backend.config import FakeConfig
from fake_backend.domain.backend import NemoBackend
from fake_backend.errors import ERROR_TABLE, ApiError, Code
from fake_backend.http.app import create_app

__all__ = [
    "ERROR_TABLE",
    "ApiError",
    "Clock",
    "Code",
    "FakeConfig",
    "NemoBackend",
    "ScaledClock",
    "VirtualClock",
    "create_app",
]
