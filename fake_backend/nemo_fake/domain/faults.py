"""Fault rules: make a chosen operation fail on its Nth call, or by a seeded chance.

A rule names an operation (the names below), when it fires, and what happens: an API code
from the error table, a bare HTTP status (a gateway's 502, say), wall-clock latency, a
`/run_sse` stream cut after K events, or a render that fails.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from nemo_fake.errors import ERROR_TABLE, Code

# Wall seconds: longer than any client waits, short enough that a typo does not hang a server.
MAX_LATENCY = 600.0

OPERATIONS = (
    "anonymous_token",
    "claim_token",
    "claim_page",
    "create_session",
    "state",
    "balance",
    "upload",
    "run_sse",
    "render_submit",
    "render_poll",
    "render_cancel",
    "render_download",
    "v1_generate",
)


@dataclass
class FaultRule:
    """One way to fail an operation (or every one, `"*"`).

    A rule counts the calls it matches from the moment it is added, in `seen`: `on_call=1`
    is the next matching call after the rule exists, however many came before. Each rule
    counts every call it matches, including calls another rule fired on; a `"*"` rule matches
    calls of every operation, so its `on_call=3` is the third API call of any kind. `fired`
    counts the times it fired; `times` caps that (once, by default, for an `on_call` rule).
    """

    operation: str
    on_call: int | None = None  # fire on this matching call since the rule was added (1 = next)
    probability: float | None = None  # else fire with this seeded chance
    times: int | None = None  # fire at most this often (default: once for on_call)
    code: int | None = None
    http_status: int | None = None
    latency: float = 0.0  # wall-clock seconds before answering
    drop_after_events: int | None = None
    fail_render: bool = False
    id: str = ""
    fired: int = 0  # times it fired
    seen: int = 0  # matching calls since it was added

    def __post_init__(self) -> None:
        if self.operation not in (*OPERATIONS, "*"):
            raise ValueError(
                f"unknown operation {self.operation!r}; one of {', '.join(OPERATIONS)}"
            )
        if self.code is not None and self.code not in {int(c) for c in ERROR_TABLE}:
            raise ValueError(f"code {self.code} is not in the error table")
        if self.http_status is not None and not 400 <= self.http_status <= 599:
            raise ValueError("http_status must be an error status, 400-599")
        if not isinstance(self.id, str):
            raise ValueError("id must be a string")
        if self.on_call is not None and self.on_call < 1:
            raise ValueError("on_call counts from 1")
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise ValueError("probability must be between 0 and 1")
        if not 0 <= self.latency <= MAX_LATENCY:  # also refuses NaN
            raise ValueError(f"latency must be from 0 to {MAX_LATENCY:g} seconds")
        if self.drop_after_events is not None and self.operation not in ("run_sse", "*"):
            raise ValueError("drop_after_events applies to run_sse")
        if self.fail_render and self.operation not in ("render_submit", "*"):
            raise ValueError("fail_render applies to render_submit")
        if self.times is None and self.on_call is not None:
            self.times = 1

    @property
    def error_code(self) -> Code | None:
        return None if self.code is None else Code(self.code)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Faults:
    seed: int = 0
    rules: list[FaultRule] = field(default_factory=list)
    # Every call of each operation since the last clear, rules or not (GET /_fake/faults).
    calls: Counter[str] = field(default_factory=Counter)
    _next_id: int = 0

    def add(self, rule: FaultRule) -> FaultRule:
        """Add `rule` (given an id if it has none); its counts start now, from zero."""
        self._next_id += 1
        rule.id = rule.id or f"fault_{self._next_id}"
        rule.seen = rule.fired = 0
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> None:
        self.rules = [rule for rule in self.rules if rule.id != rule_id]

    def clear(self) -> None:
        self.rules.clear()
        self.calls.clear()

    def check(self, operation: str) -> FaultRule | None:
        """Count one call of `operation`; the first rule that fires on it, if any."""
        self.calls[operation] += 1
        if not self.rules:
            return None
        matching = [rule for rule in self.rules if rule.operation in (operation, "*")]
        # Every matching rule sees the call before any fires, so no rule misses a call
        # because one ahead of it answered instead.
        for rule in matching:
            rule.seen += 1
        for rule in matching:
            if self._fires(rule, operation):
                rule.fired += 1
                return rule
        return None

    def _fires(self, rule: FaultRule, operation: str) -> bool:
        if rule.times is not None and rule.fired >= rule.times:
            return False
        if rule.on_call is not None and rule.on_call != rule.seen:
            return False
        if rule.probability is not None:
            draw = random.Random(f"nemo-fake:fault:{self.seed}:{rule.id}:{operation}:{rule.seen}")
            return draw.random() < rule.probability
        return True
