"""pytest items for scenario files, so CI runs them with the rest of the suite."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nemo_fake.testing import scenarios


class ScenarioFailed(Exception):
    pass


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            loaded = scenarios.load(self.path)
        except scenarios.ScenarioError as error:
            yield BrokenScenario.from_parent(self, name=self.path.stem, error=error)
            return
        yield ScenarioItem.from_parent(self, name=loaded.name, scenario=loaded)


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: scenarios.Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self) -> None:
        results = scenarios.run_sync(self.scenario)
        if not all(result.passed for result in results):
            raise ScenarioFailed("\n".join(scenarios.describe(result) for result in results))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            return f"scenario {self.scenario.name!r} ({self.path}):\n{excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Any, int, str]:
        return self.path, 0, f"scenario: {self.scenario.name}"


class BrokenScenario(pytest.Item):
    def __init__(self, *, error: scenarios.ScenarioError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        return str(self.error)
