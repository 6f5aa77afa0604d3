"""The suite's own run settings (conftest.py, tests/early.py) are in force: they are what keeps
the default run inside its time, and nothing else would notice them gone."""

from __future__ import annotations

import gc
import os
import sys

import pytest
from _pytest.assertion.rewrite import AssertionRewritingHook

from conftest import pytest_xdist_auto_num_workers
from tests.early import NOT_REWRITTEN


def test_what_collection_built_is_out_of_the_collectors_reach() -> None:
    assert gc.get_freeze_count() > 10_000


def test_installed_packages_asserts_are_not_rewritten_in_every_process() -> None:
    hooks = [finder for finder in sys.meta_path if isinstance(finder, AssertionRewritingHook)]
    assert hooks
    for hook in hooks:
        assert not NOT_REWRITTEN & hook._must_rewrite


def test_auto_starts_a_worker_per_usable_core(pytestconfig: pytest.Config) -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert pytest_xdist_auto_num_workers(pytestconfig) == (cores or 1)
