"""Record and verify: a recording proxy that writes cassettes with no credential in them, and
the replay that checks a target (a fake, or the real API) against a cassette by contract."""

from nemo_fake.record.cassette import Cassette, Event, Exchange
from nemo_fake.record.proxy import recording_proxy
from nemo_fake.record.verify import Drift, Report, verify

__all__ = ["Cassette", "Drift", "Event", "Exchange", "Report", "recording_proxy", "verify"]
