"""nemo-fake: an offline, stateful fake of the NemoVideo cloud video API.

`NemoFake` is the fake in one object (state, clock, app, controls), `RemoteFake` the same
controls for a served fake (both are a `FakeControl`); `FakeConfig` holds the settings;
`FaultRule`, `JournalEntry` and `Movement` are the records the controls take and give back.

Names are imported when first used, so `import nemo_fake` (and a command such as
`nemo-fake sample-video`) does not load the web stack it does not need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nemo_fake.exports import lazy_exports, listing

if TYPE_CHECKING:
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

_HOMES = {
    "nemo_fake.clock": ("Clock", "ScaledClock", "VirtualClock"),
    "nemo_fake.config": ("FakeConfig", "StreamFaults", "with_overrides"),
    "nemo_fake.domain.backend": ("NemoBackend",),
    "nemo_fake.domain.faults": ("FaultRule",),
    "nemo_fake.domain.ledger": ("Movement",),
    "nemo_fake.errors": ("ERROR_TABLE", "ApiError", "Code"),
    "nemo_fake.http.app": ("create_app",),
    "nemo_fake.journal": ("JournalEntry",),
    "nemo_fake.testing.control": ("FakeControl",),
    "nemo_fake.testing.fake": ("NemoFake",),
    "nemo_fake.testing.remote": ("ControlError", "RemoteFake"),
}
__getattr__ = lazy_exports(__name__, _HOMES, globals())

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

__dir__ = listing(globals(), __all__)
