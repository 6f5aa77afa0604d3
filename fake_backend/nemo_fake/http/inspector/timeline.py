"""A draft as the inspector draws it: one lane per track, segments placed to scale (percent of
the timeline's length), and a ruler in seconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nemo_fake.domain import draft as drafts

# Ruler steps in seconds: the first that puts at most MAX_TICKS intervals on the ruler.
STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600)
MAX_TICKS = 10


@dataclass(frozen=True)
class Segment:
    label: str
    start_s: float
    end_s: float
    left: float  # percent of the timeline
    width: float


@dataclass(frozen=True)
class Lane:
    name: str
    kind: str  # "video", "bgm", "title" or "subtitles": the lane's colour
    segments: list[Segment]


@dataclass(frozen=True)
class Tick:
    left: float
    label: str


@dataclass(frozen=True)
class Timeline:
    duration_s: float
    lanes: list[Lane]
    ticks: list[Tick]


def timeline(draft: drafts.Draft) -> Timeline:
    length_ms = max(int(draft.get("d") or 0), drafts.end_ms(draft))
    if length_ms <= 0:
        return Timeline(0.0, [_lane(track, 1) for track in draft.get("t", [])], [])
    return Timeline(
        length_ms / 1000,
        [_lane(track, length_ms) for track in draft.get("t", [])],
        ruler(length_ms / 1000),
    )


def ruler(length_s: float) -> list[Tick]:
    step = next((s for s in STEPS if length_s / s <= MAX_TICKS), STEPS[-1])
    ticks = []
    at = 0
    while at <= length_s:
        ticks.append(Tick(100 * at / length_s, f"{at} s"))
        at += step
    return ticks


def _lane(track: dict[str, Any], length_ms: int) -> Lane:
    kind = _kind(track)
    name = str(track.get("n") or kind.capitalize())
    segments = [
        Segment(
            label=str(segment.get("text") or segment.get("n") or segment.get("id") or ""),
            start_s=segment["s"] / 1000,
            end_s=(segment["s"] + segment["d"]) / 1000,
            left=100 * segment["s"] / length_ms,
            width=100 * segment["d"] / length_ms,
        )
        for segment in track.get("sg", [])
    ]
    return Lane(name, kind, segments)


def _kind(track: dict[str, Any]) -> str:
    if track.get("tt") == drafts.VIDEO:
        return "video"
    if track.get("tt") == drafts.AUDIO:
        return "bgm"
    return "subtitles" if str(track.get("n", "")).lower() == "subtitles" else "title"
