"""pytest items for scenario files, so CI runs them with the rest of the suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from nemo_fake import scenarios
from nemo_fake.testing.plugin import eras_to_run

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr, TracebackStyle


class ScenarioFailed(Exception):
    """A scenario step whose expectations did not hold; the message lists every step."""


class ScenarioFile(pytest.File):
    """A scenario YAML file: one test, or one error item naming the line at fault."""

    def collect(self) -> Iterator[pytest.Item]:
        try:
            loaded = scenarios.load(self.path)
        except scenarios.ScenarioError as error:
            broken = BrokenScenario.from_parent(self, name=self.path.stem)
            broken.error = error
            yield broken
            return
        eras = eras_to_run(self.config)
        if not eras:
            item = ScenarioItem.from_parent(self, name=loaded.name)
            item.scenario = loaded
            yield item
            return
        # With --nemo-profiles, once per era, the scenario's `incompatible` read as the marker.
        for era in eras:
            item = ScenarioItem.from_parent(self, name=f"{loaded.name}[{era}]")
            item.scenario = loaded.in_era(era)
            expected = loaded.expected_failure(era)
            if expected is not None:
                reason = f"expected incompatibility: {expected}"
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
            yield item


class ScenarioItem(pytest.Item):
    """One scenario, played in process; a failure lists every step with ✓ or ✗."""

    scenario: scenarios.Scenario

    def runtest(self) -> None:
        results = scenarios.run_sync(self.scenario)
        if not all(result.passed for result in results):
            raise ScenarioFailed("\n".join(scenarios.describe(result) for result in results))

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: TracebackStyle | None = None,
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, ScenarioFailed):
            return f"scenario {self.scenario.name!r} ({self.path}):\n{excinfo.value}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        return self.path, 0, f"scenario: {self.scenario.name}"


class BrokenScenario(pytest.Item):
    """A scenario file that does not load: fails with the file, line and field at fault."""

    error: scenarios.ScenarioError

    def runtest(self) -> None:
        raise self.error

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: TracebackStyle | None = None,
    ) -> str | TerminalRepr:
        return str(self.error)
