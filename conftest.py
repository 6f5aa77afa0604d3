"""Collect scenarios/*.yaml as test items: one scenario, one test."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemo_fake.scenarios.pytest_items import ScenarioFile


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    if file_path.suffix in (".yaml", ".yml") and file_path.parent.name == "scenarios":
        return ScenarioFile.from_parent(parent, path=file_path)
    return None
