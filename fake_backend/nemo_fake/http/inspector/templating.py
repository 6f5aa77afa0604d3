"""The inspector's Jinja2 templates (autoescaped: paths and texts come from clients) and the
filters they share."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from starlette.templating import Jinja2Templates

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def api_time(when: float) -> str:
    """API time as a reader wants it: `2026-01-08 00:00:05 UTC`."""
    return datetime.fromtimestamp(when, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def seconds(value: float) -> str:
    """A duration: `42 s`, `3 min 5 s`, `2 h 1 min`, `7 d 0 h`."""
    value = max(0, round(value))
    for unit, size, smaller, smaller_size in (
        ("d", 86_400, "h", 3600),
        ("h", 3600, "min", 60),
        ("min", 60, "s", 1),
    ):
        if value >= size:
            return f"{value // size} {unit} {value % size // smaller_size} {smaller}"
    return f"{value} s"


templates.env.filters["api_time"] = api_time
templates.env.filters["seconds"] = seconds
