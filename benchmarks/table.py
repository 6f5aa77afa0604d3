"""A benchmark figure beside its baseline, judged against its target, and the printed table."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

# "at most"/"at least": the ratio to the baseline must stay at or under/over the limit.
# "under": the figure itself must stay under the limit (a time or a size with no baseline
# that a ratio could honestly be taken against; the baseline column then shows context).
# "info": shown beside a judged figure to explain it, never judged.
Sense = Literal["at most", "at least", "under", "info"]


@dataclass
class Row:
    figure: str
    measured: float
    baseline: float
    unit: str
    target: str
    limit: float
    sense: Sense = "at most"
    note: str = ""  # why a figure is missing, or what the baseline is

    @property
    def ratio(self) -> float:
        return self.measured / self.baseline if self.baseline else float("inf")

    @property
    def passed(self) -> bool:
        if self.sense == "info":
            return True
        if self.sense == "under":
            return self.measured < self.limit
        if self.sense == "at most":
            return self.ratio <= self.limit
        return self.ratio >= self.limit

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "passed": self.passed}


def median_row(measured: list[Row], runs: str = "processes") -> Row:
    """Of one figure's rows, one per run of fresh processes, the row with the median ratio (the
    higher of the middle two for an even count), its note naming every ratio."""
    ranked = sorted(measured, key=lambda row: row.ratio)
    row = ranked[len(ranked) // 2]
    if len(ranked) > 1:
        ratios = ", ".join(f"{other.ratio:.2f}" for other in ranked)
        row.note = f"the median of {len(ranked)} {runs}' ratios ({ratios})"
    return row


@dataclass
class Skipped:
    """A figure that could not be measured here, and why (Prism without Node, say)."""

    figure: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"figure": self.figure, "skipped": self.reason}


def table(rows: list[Row | Skipped]) -> str:
    lines = [f"{'figure':<46} {'measured':>11} {'baseline':>11} {'ratio':>6}  target", "-" * 104]
    for row in rows:
        if isinstance(row, Skipped):
            lines.append(f"{row.figure:<46} skipped: {row.reason}")
            continue
        verdict = "info" if row.sense == "info" else "pass" if row.passed else "FAIL"
        lines.append(
            f"{row.figure:<46} {_amount(row.measured, row.unit)} {_amount(row.baseline, row.unit)}"
            f" {row.ratio:>6.2f}  {row.target} {verdict}"
        )
    notes = [f"  {row.figure.strip()}: {row.note}" for row in rows
             if isinstance(row, Row) and row.note]  # fmt: skip
    return "\n".join([*lines, *(["", "Notes:", *notes] if notes else [])])


def _amount(value: float, unit: str) -> str:
    return f"{value:>8.2f}{unit:>3}"
