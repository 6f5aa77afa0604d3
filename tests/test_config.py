"""Settings by name (for `serve --set` and scenario files), checked with clear messages."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from nemo_fake import FakeConfig
from nemo_fake.cli import main
from nemo_fake.config import with_overrides


def test_overrides_set_fields_and_fault_fields_without_touching_the_original() -> None:
    base = FakeConfig()
    updated = with_overrides(
        base,
        {"seed": 7, "render_seconds": [10, 20], "stream_faults.drop_after_events": 3,
         "render_failure_rate": 1, "tokens_per_address": None},
    )  # fmt: skip
    assert (updated.seed, updated.render_seconds) == (7, (10, 20))
    assert updated.stream_faults.drop_after_events == 3
    assert updated.render_failure_rate == 1.0 and isinstance(updated.render_failure_rate, float)
    assert updated.tokens_per_address is None
    assert base.stream_faults.drop_after_events is None and base.seed == 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"nope": 1}, "unknown setting 'nope'"),
        ({"stream_faults.nope": 1}, "unknown setting 'stream_faults.nope'"),
        ({"poll_shape": "sideways"}, "poll_shape takes one of current, reference, early"),
        ({"stream_faults.drop_after_events": "x"}, "drop_after_events takes"),
        ({"seed": True}, "seed takes int"),
        ({"silent_edit_ratio": 1.5}, "silent_edit_ratio must be between 0 and 1"),
        ({"render_seconds": [90, 30]}, "render_seconds must be"),
        ({"message_keys": []}, "message_keys needs at least one key"),
    ],
)
def test_bad_overrides_are_refused_naming_the_field(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        with_overrides(FakeConfig(), overrides)


def test_serve_refuses_a_bad_setting_before_starting() -> None:
    result = CliRunner().invoke(main, ["serve", "--set", "stream_faults.stall=maybe"])
    assert result.exit_code == 2
    assert "stall takes bool" in result.output
    result = CliRunner().invoke(main, ["serve", "--set", "novalue"])
    assert result.exit_code == 2 and "KEY=VALUE" in result.output
