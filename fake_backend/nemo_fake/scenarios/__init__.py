"""Scenario files: YAML that scripts a workflow and its faults, played by the reference client
against the fake, with expectations checked at every step. `format` reads and checks files;
`runner` plays them."""

from nemo_fake.scenarios.format import Scenario, ScenarioError, Step, discover, load
from nemo_fake.scenarios.runner import StepResult, apply, describe, run, run_sync

__all__ = [
    "Scenario",
    "ScenarioError",
    "Step",
    "StepResult",
    "apply",
    "describe",
    "discover",
    "load",
    "run",
    "run_sync",
]
