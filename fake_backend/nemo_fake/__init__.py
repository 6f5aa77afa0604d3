"""nemo-fake: an offline, stateful fake of the NemoVideo cloud video API."""

from nemo_fake.clock import Clock, ScaledClock, VirtualClock
from nemo_fake.config import FakeConfig
from nemo_fake.domain.backend import NemoBackend
from nemo_fake.errors import ERROR_TABLE, ApiError, Code
from nemo_fake.http.app import create_app

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
