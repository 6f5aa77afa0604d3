"""Loaded with `-p tests.early` (pyproject's addopts), before any plugin a distribution ships.

pytest rewrites the asserts of every module of a distribution that ships a plugin, and under
PYTHONDONTWRITEBYTECODE it cannot keep the result: every process (every xdist worker) rewrote
about 120 modules whose asserts no test here reads (hypothesis, anyio, respx, and nemo_fake's
and nemo_client's own, whose few asserts narrow types): 0.4 s of each process's collection.
Their plugins load before any conftest, importing those modules, so only a plugin loaded
earlier can take them off the list in time. Test modules are rewritten as before, and a
user's suite is not affected: this is this repository's own option.
"""

from __future__ import annotations

import sys

from _pytest.assertion.rewrite import AssertionRewritingHook

NOT_REWRITTEN = {"hypothesis", "_hypothesis_pytestplugin", "anyio", "respx", "nemo_fake",
                 "nemo_client"}  # fmt: skip

for _finder in sys.meta_path:
    if isinstance(_finder, AssertionRewritingHook):
        _finder._must_rewrite.difference_update(NOT_REWRITTEN)
