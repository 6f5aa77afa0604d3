"""The draft timeline: short-key JSON as the vendor documents it, plus this fake's segment fields.

Documented keys: `t` tracks, `tt` track type (0 video, 1 audio/BGM, 7 text), `sg` segments,
`d` duration in ms, `m` metadata (`title`, `width`, `height`). The segment fields are the
fake's own design (no public example exists):

    {"id": "seg_1", "s": 0, "d": 10000,          # start on the timeline and length, ms
     "n": "podcast.mp4", "src": "<cdn_url>",      # display name and source media
     "in": 0,                                     # offset into the source, ms
     "v": 35,                                     # audio volume, percent (tt 1)
     "text": "Urban Dreams", "pos": "top-center"} # text tracks (tt 7)
"""

from __future__ import annotations

from typing import Any

from nemo_fake.errors import ApiError, Code

Draft = dict[str, Any]

VIDEO, AUDIO, TEXT = 0, 1, 7
TRACK_TYPES = {VIDEO: "video", AUDIO: "audio", TEXT: "text"}
DEFAULT_WIDTH, DEFAULT_HEIGHT = 1080, 1920
MAX_SIDE = 1920
MAX_PIXELS = 1080 * 1920


def _schema(*, max_ms: int | None = None) -> dict[str, Any]:
    ms: dict[str, Any] = {"type": "integer", "minimum": 0}
    within = ms if max_ms is None else {**ms, "maximum": max_ms}
    segment = {"type": "object", "required": ["s", "d"], "properties": {"s": within, "d": within}}
    track = {
        "type": "object",
        "required": ["tt"],
        "properties": {
            "tt": {"enum": sorted(TRACK_TYPES)},
            "sg": {"type": "array", "items": segment},
        },
    }
    side = {"type": "integer", "minimum": 2, "maximum": MAX_SIDE, "multipleOf": 2}
    tracks: dict[str, Any] = {"type": "array", "items": track}
    if max_ms is not None:
        tracks["minItems"] = 1  # no track is always a 422; an empty one beside others is fine
    return {
        "type": "object",
        "required": ["t"],
        "properties": {
            "t": tracks,
            "d": within,
            "m": {"type": "object", "properties": {"width": side, "height": side}},
        },
    }


#: What `validate_for_render` checks, as JSON Schema (the state's draft has this shape). Other
#: keys are kept, so none is refused. A draft that passes may still not be ready (422: no
#: segment, or a duration of 0) or be over 1080x1920 pixels (400).
SCHEMA: dict[str, Any] = _schema()


def renderable_schema(max_ms: int) -> dict[str, Any]:
    """`SCHEMA` as a render request: at least one track, no time past `max_ms`. Never stricter
    than the checks (a fuzzer's invalid draft must be refused); a draft that passes may still
    be a 422 (no segment) or a 400 (segments ending past `max_ms`, or over 1080x1920)."""
    return _schema(max_ms=max_ms)


def empty_draft(title: str, width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT) -> Draft:
    return {"t": [], "d": 0, "m": {"title": title, "width": width, "height": height}}


def is_ready(draft: Draft) -> bool:
    """Ready for export: at least one track with a non-empty `sg` (vendor SKILL.md)."""
    tracks = draft.get("t")
    return isinstance(tracks, list) and any(
        isinstance(track, dict) and track.get("sg") for track in tracks
    )


def end_ms(draft: Draft) -> int:
    """Where the last segment ends."""
    ends = [
        int(segment["s"]) + int(segment["d"])
        for track in draft.get("t", [])
        for segment in track.get("sg", [])
    ]
    return max(ends, default=0)


TRACK_NAMES = {VIDEO: "Video", AUDIO: "BGM", TEXT: "Title"}


def append_segment(draft: Draft, track_type: int, segment: dict[str, Any]) -> dict[str, Any]:
    """Put a segment at the end of the first track of that type (made if missing); keep `d`."""
    track = next((t for t in draft["t"] if t.get("tt") == track_type), None)
    if track is None:
        track = {
            "id": f"trk_{len(draft['t']) + 1}",
            "tt": track_type,
            "n": TRACK_NAMES[track_type],
            "sg": [],
        }
        draft["t"].append(track)
    start = max((s["s"] + s["d"] for s in track["sg"]), default=0)
    placed = {"id": f"seg_{sum(len(t['sg']) for t in draft['t']) + 1}", "s": start, **segment}
    track["sg"].append(placed)
    draft["d"] = max(int(draft.get("d") or 0), end_ms(draft))
    return placed


def _copied(value: Any) -> Any:
    """A copy of JSON-shaped data (dicts, lists and scalars): deepcopy's bookkeeping for
    shared and cyclic objects cost a render submit more than its checks, and JSON has none."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value


def validate_for_render(value: object) -> Draft:
    """Check a draft sent for export; return a copy with `d` and `m` filled in.

    Only the documented keys are checked; unknown keys are kept, as a client may send back
    the state's draft with fields of its own.
    """
    if not isinstance(value, dict):
        raise _invalid("draft", "must be an object")
    draft: Draft = _copied(value)
    tracks = draft.get("t")
    if not isinstance(tracks, list):
        raise ApiError(Code.DRAFT_NOT_READY, "Draft is not ready for export: draft.t is missing")
    for i, track in enumerate(tracks):
        _check_track(track, f"draft.t[{i}]")
    if not is_ready(draft):
        raise ApiError(Code.DRAFT_NOT_READY)
    duration = draft.get("d", 0)
    if not _is_int(duration) or duration < 0:
        raise _invalid("draft.d", "must be a non-negative integer (milliseconds)")
    draft["d"] = max(duration, end_ms(draft))
    if draft["d"] <= 0:
        raise ApiError(Code.DRAFT_NOT_READY, "Draft is not ready for export: its duration is 0")
    draft["m"] = _check_meta(draft.get("m", {}))
    return draft


def _check_track(track: object, where: str) -> None:
    if not isinstance(track, dict):
        raise _invalid(where, "must be an object")
    kind = track.get("tt")
    # Only an int can be a track type: a dict or list is not even hashable for the lookup.
    if not _is_int(kind) or kind not in TRACK_TYPES:
        raise _invalid(f"{where}.tt", "must be 0 (video), 1 (audio) or 7 (text)")
    segments = track.get("sg", [])
    if not isinstance(segments, list):
        raise _invalid(f"{where}.sg", "must be a list")
    for j, segment in enumerate(segments):
        if not isinstance(segment, dict):
            raise _invalid(f"{where}.sg[{j}]", "must be an object")
        for key in ("s", "d"):
            if not _is_int(segment.get(key)) or segment[key] < 0:
                raise _invalid(f"{where}.sg[{j}].{key}", "must be a non-negative integer (ms)")


def _check_meta(meta: object) -> dict[str, Any]:
    if not isinstance(meta, dict):
        raise _invalid("draft.m", "must be an object")
    checked = dict(meta)
    width = checked.setdefault("width", DEFAULT_WIDTH)
    height = checked.setdefault("height", DEFAULT_HEIGHT)
    for key, side in (("width", width), ("height", height)):
        if not _is_int(side) or side <= 0 or side % 2 or side > MAX_SIDE:
            raise _invalid(f"draft.m.{key}", f"must be an even integer from 2 to {MAX_SIDE}")
    if width * height > MAX_PIXELS:
        raise _invalid("draft.m", "output is limited to 1080x1920 pixels")
    return checked


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _invalid(field: str, problem: str) -> ApiError:
    return ApiError(Code.BAD_REQUEST, f"{field} {problem}", field=field)


def video_length_ms(draft: Draft) -> int:
    """Where the last video segment ends (0 with no video)."""
    return max(
        (
            int(segment["s"]) + int(segment["d"])
            for track in draft.get("t", [])
            if track.get("tt") == VIDEO
            for segment in track.get("sg", [])
        ),
        default=0,
    )


def replace_track(
    draft: Draft, track_type: int, name: str, segments: list[dict[str, Any]]
) -> dict[str, Any]:
    """Set the segments of the track called `name` (made if missing), numbering them afresh."""
    track = next((t for t in draft["t"] if t.get("tt") == track_type and t.get("n") == name), None)
    if track is None:
        track = {"id": f"trk_{len(draft['t']) + 1}", "tt": track_type, "n": name, "sg": []}
        draft["t"].append(track)
    track["sg"] = [
        {"id": f"{track['id']}_seg_{i}", **segment} for i, segment in enumerate(segments, 1)
    ]
    draft["d"] = max(int(draft.get("d") or 0), end_ms(draft))
    return track


def cut_to(draft: Draft, length_ms: int) -> None:
    """Shorten the whole timeline to `length_ms`: segments are clipped, those past it dropped."""
    for track in draft["t"]:
        kept = []
        for segment in track["sg"]:
            if segment["s"] >= length_ms:
                continue
            segment["d"] = min(segment["d"], length_ms - segment["s"])
            kept.append(segment)
        track["sg"] = kept
    draft["d"] = length_ms
