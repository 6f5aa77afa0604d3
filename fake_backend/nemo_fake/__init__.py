"""nemo-fake: an offline, stateful fake of the NemoVideo cloud video API.

`NemoFake` is the fake in one object (state, clock, app, controls); `FakeConfig` its settings;
`FaultRule`, `JournalEntry` and `Movement` the records its controls take and give back.
"""

from nemo_fake.clock import Clock, ScaledClock, VirtualClock
from nemo_fake.config import FakeConfig, StreamFaults
from nemo_fake.domain.backend import NemoBackend
from nemo_fake.domain.faults import FaultRule
from nemo_fake.domain.ledger import Movement
from nemo_fake.errors import ERROR_TABLE, ApiError, Code
from nemo_fake.http.app import create_app
from nemo_fake.journal import JournalEntry
from nemo_fake.testing.fake import NemoFake

__all__ = [
    "ERROR_TABLE",
    "ApiError",
    "Clock",
    "Code",
    "FakeConfig",
    "FaultRule",
    "JournalEntry",
    "Movement",
    "NemoBackend",
    "NemoFake",
    "ScaledClock",
    "StreamFaults",
    "VirtualClock",
    "create_app",
]
