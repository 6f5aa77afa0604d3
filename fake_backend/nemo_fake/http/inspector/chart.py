"""An account's credits over API time as a small inline SVG chart: the points of a step line
for the available balance and for the total (available + frozen)."""

from __future__ import annotations

from dataclasses import dataclass

from nemo_fake.domain.ledger import Movement

WIDTH, HEIGHT = 320, 80


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    available: str  # SVG polyline points
    total: str
    top: int  # the credits at the chart's top edge
    start: float  # API time at the left edge
    end: float  # and at the right edge


def balance_chart(movements: list[Movement], now: float) -> Chart | None:
    """None with no movement to draw."""
    if not movements:
        return None
    start = movements[0].at
    end = max(now, movements[-1].at)
    top = max(1, *(m.available + m.frozen for m in movements))
    span = end - start or 1.0

    def x(at: float) -> float:
        return round(WIDTH * (at - start) / span, 1)

    def y(credits: int) -> float:
        return round(HEIGHT - HEIGHT * credits / top, 1)

    def steps(values: list[int]) -> str:
        points: list[tuple[float, float]] = []
        for movement, value in zip(movements, values, strict=True):
            if points:  # the previous value holds until this movement: a step, not a slope
                points.append((x(movement.at), points[-1][1]))
            points.append((x(movement.at), y(value)))
        points.append((WIDTH, points[-1][1]))
        return " ".join(f"{px:g},{py:g}" for px, py in points)

    return Chart(
        WIDTH,
        HEIGHT,
        steps([m.available for m in movements]),
        steps([m.available + m.frozen for m in movements]),
        top,
        start,
        end,
    )
