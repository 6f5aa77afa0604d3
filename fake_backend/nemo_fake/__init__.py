"""nemo-fake: an offline, stateful fake of the NemoVideo cloud video API.

`NemoFake` is the fake in one object (state, clock, app, controls), `RemoteFake` the same
controls for a served fake (both are a `FakeControl`); `FakeConfig` holds the settings;
`FaultRule`, `JournalEntry` and `Movement` are the records the controls take and give back.
"""

from nemo_fake.clock import Clock, ScaledClock, VirtualClock
from nemo_fake.config import FakeConfig, StreamFaults, with_overrides
from nemo_fake.domain.backend import NemoBackend
from nemo_fake.domain.faults import FaultRule
from nemo_fake.domain.ledger import Movement
from nemo_fake.errors import ERROR_TABLE, ApiError, Code
from nemo_fake.http.app import create_app
from nemo_fake.journal import JournalEntry
from nemo_fake.testing.control import FakeControl
from nemo_fake.testing.fake import NemoFake
from nemo_fake.testing.remote import ControlError, RemoteFake

__all__ = [
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
]
