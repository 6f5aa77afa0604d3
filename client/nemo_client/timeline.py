"""The seed's one-line timeline summary, and the change report the client gives when an edit
ends without a word from the agent (~30% of edits: the client reads the state before and after
and says what changed itself).

Draft keys (vendor doc plus the segment fields a state carries): `t` tracks, `tt` track type
(0 video, 1 audio/BGM, 7 text), `n` track name, `sg` segments with `s` start and `d` length in
ms, `n` name, `text` for text segments, `v` volume percent, `pos` text position.

Both functions read whatever draft the backend returns, so nothing here trusts the shape: a
missing or ill-typed field is skipped, never raised on.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

VIDEO, AUDIO, TEXT = 0, 1, 7
_LABELS = {VIDEO: "Video", AUDIO: "BGM", TEXT: "Title"}
MAX_NAMES = 3

Segment = Mapping[str, Any]


def summarize(draft: Mapping[str, Any]) -> str:
    """`Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%)
    3. Title: "Urban Dreams" (0-3s)`, as the seed shows it."""
    tracks = _tracks(draft)
    header = f"Timeline ({_plural(len(tracks), 'track')}):"
    if not tracks:
        return f"{header} empty"
    items = [f"{i}. {_label(track)}: {_track_body(track)}" for i, track in enumerate(tracks, 1)]
    return " ".join([header, *items])


def describe_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What changed between two `data.state` objects, one "✅ ..." line per change; [] if
    nothing did. New media come first, then the draft: trim, BGM, title, subtitles, and a
    `Timeline updated: <summary>` line for any draft change those don't explain."""
    lines = _media_lines(before, after)
    old, new = _draft(before), _draft(after)
    # New clips or a generated video are what the video track now holds; the media line says
    # so, and a summary of the same tracks would only repeat it.
    explained = {"video"} if lines else set()
    lines += _upload_lines(before, after)

    trimmed = _trim(old, new)
    if trimmed is not None:
        lines.append(f"✅ Video trimmed: {_seconds(_video_end(old))} -> {_seconds(trimmed)}")
        # A trim cuts every track at the new end; compare the rest against that.
        old = _cut(old, trimmed)

    for category, describe in (("bgm", _bgm_line), ("title", _title_line), ("subs", _subs_line)):
        line = describe(_category(old, category), _category(new, category))
        if line:
            explained.add(category)
            lines.append(line)

    if _residual(old, explained) != _residual(new, explained):
        lines.append(f"✅ Timeline updated: {summarize(new)}")
    return lines


# -- summary ------------------------------------------------------------------------------------


def _track_body(track: Mapping[str, Any]) -> str:
    segments = _segments(track)
    if not segments:
        return "(empty)"
    span = _span(segments)
    details = [span] if span else []
    if _is_subtitles(track):
        name = _plural(len(segments), "line")
    else:
        name = _names(segments, quoted=_type(track) == TEXT)
        if _type(track) == AUDIO:
            volume = _volume(segments)
            if volume:
                details.append(volume)
    return name + (f" ({', '.join(details)})" if details else "")


def _label(track: Mapping[str, Any]) -> str:
    if _is_subtitles(track):
        return "Subtitles"
    kind = _type(track)
    return "Track" if kind is None else _LABELS.get(kind, "Track")


def _is_subtitles(track: Mapping[str, Any]) -> bool:
    name = track.get("n")
    return (
        _type(track) == TEXT
        and isinstance(name, str)
        and name.strip().lower() in ("subtitles", "subtitle", "captions", "字幕")
    )


def _names(segments: Sequence[Segment], *, quoted: bool) -> str:
    names: list[str] = []
    for segment in segments:
        name = _segment_name(segment, text_first=quoted)
        if name and name not in names:
            names.append(name)
    if not names:
        return _plural(len(segments), "segment")
    shown = [f'"{name}"' if quoted else name for name in names[:MAX_NAMES]]
    more = f" +{len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else ""
    return ", ".join(shown) + more


def _segment_name(segment: Segment, *, text_first: bool) -> str:
    keys = ("text", "n") if text_first else ("n",)
    for key in keys:
        value = segment.get(key)
        if isinstance(value, str) and value.strip():
            # One line per track: a name with line breaks would break the summary up.
            return " ".join(value.split())
    return ""


def _span(segments: Sequence[Segment]) -> str:
    starts, ends = [], []
    for segment in segments:
        start, length = _number(segment.get("s")), _number(segment.get("d"))
        if start is None:
            continue
        starts.append(start)
        ends.append(start + (length or 0))
    if not starts:
        return ""
    return f"{_number_text(min(starts) / 1000)}-{_seconds(max(ends))}"


def _volume(segments: Sequence[Segment]) -> str:
    volumes = [v for v in (_number(s.get("v")) for s in segments) if v is not None]
    if not volumes:
        return ""
    low, high = min(volumes), max(volumes)
    if low == high:
        return f"{_number_text(low)}%"
    return f"{_number_text(low)}-{_number_text(high)}%"


def _seconds(ms: float) -> str:
    return f"{_number_text(ms / 1000)}s"


def _number_text(value: float) -> str:
    """2.5 -> "2.5", 10.0 -> "10": at most millisecond precision, no trailing zeros."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _type(track: Mapping[str, Any]) -> int | None:
    kind = track.get("tt")
    return kind if _is_int(kind) else None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _tracks(draft: object) -> list[Mapping[str, Any]]:
    tracks = draft.get("t") if isinstance(draft, Mapping) else None
    if not isinstance(tracks, Sequence) or isinstance(tracks, str):
        return []
    # A track that isn't an object still counts (the header says len(t)); it shows as empty.
    return [track if isinstance(track, Mapping) else {} for track in tracks]


def _segments(track: Mapping[str, Any]) -> list[Segment]:
    segments = track.get("sg")
    if not isinstance(segments, Sequence) or isinstance(segments, str):
        return []
    return [segment for segment in segments if isinstance(segment, Mapping)]


# -- changes ------------------------------------------------------------------------------------


def _draft(state: Mapping[str, Any]) -> Mapping[str, Any]:
    draft = state.get("draft") if isinstance(state, Mapping) else None
    return draft if isinstance(draft, Mapping) else {}


def _category(draft: Mapping[str, Any], category: str) -> list[Mapping[str, Any]]:
    """The tracks a change line is about: "bgm" audio, "title" text, "subs" subtitles,
    "video" video, "other" the rest."""
    return [track for track in _tracks(draft) if _category_of(track) == category]


def _category_of(track: Mapping[str, Any]) -> str:
    kind = _type(track)
    if kind == TEXT:
        return "subs" if _is_subtitles(track) else "title"
    return {VIDEO: "video", AUDIO: "bgm"}.get(kind, "other") if kind is not None else "other"


def _all_segments(tracks: Sequence[Mapping[str, Any]]) -> list[Segment]:
    return [segment for track in tracks for segment in _segments(track)]


def _video_end(draft: Mapping[str, Any]) -> float:
    ends = [
        (_number(s.get("s")) or 0) + (_number(s.get("d")) or 0)
        for s in _all_segments(_category(draft, "video"))
    ]
    return max(ends, default=0)


def _trim(old: Mapping[str, Any], new: Mapping[str, Any]) -> float | None:
    """The new video length if the video was only shortened: every segment left is one of the
    old segments, in order, differing at most in length."""
    old_end, new_end = _video_end(old), _video_end(new)
    if not 0 < new_end < old_end:
        return None
    before = _all_segments(_category(old, "video"))
    after = _all_segments(_category(new, "video"))
    if not after or len(after) > len(before):
        return None
    for was, now in zip(before, after, strict=False):
        if _without(was, "d") != _without(now, "d"):
            return None
    return new_end


def _cut(draft: Mapping[str, Any], end: float) -> dict[str, Any]:
    """`draft` as a trim to `end` ms leaves it: later segments dropped, the rest clipped."""
    cut = dict(draft)
    cut.pop("d", None)
    tracks: list[Any] = []
    for track in _tracks(draft):
        kept = []
        for segment in _segments(track):
            start, length = _number(segment.get("s")), _number(segment.get("d"))
            if start is not None and start >= end:
                continue
            if start is not None and length is not None and start + length > end:
                segment = {**segment, "d": _as_int(end - start)}
            kept.append(segment)
        tracks.append({**track, "sg": kept} if "sg" in track else track)
    cut["t"] = tracks
    return cut


def _as_int(value: float) -> float:
    return int(value) if value == int(value) else value


def _without(mapping: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {key: value for key, value in mapping.items() if key not in keys}


def _residual(draft: Mapping[str, Any], explained: set[str]) -> str:
    """The draft minus what the change lines already describe, in a comparable form. `d` (the
    total length) follows the segments, so it is left out too."""
    tracks = [track for track in _tracks(draft) if _category_of(track) not in explained]
    rest = {**_without(draft, "t", "d"), "t": tracks}
    return _canonical(rest)


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)


def _title_line(old: list[Mapping[str, Any]], new: list[Mapping[str, Any]]) -> str:
    was, now = _names(_all_segments(old), quoted=True), _names(_all_segments(new), quoted=True)
    if not _all_segments(new):
        return f"✅ Title removed: {was}" if _all_segments(old) else ""
    if not _all_segments(old):
        segments = _all_segments(new)
        position = next(
            (s["pos"] for s in segments if isinstance(s.get("pos"), str) and s["pos"]), ""
        )
        details = [d for d in (position, _span(segments)) if d]
        return f"✅ Title added: {now}" + (f" ({', '.join(details)})" if details else "")
    return f"✅ Title changed: {was} -> {now}" if was != now else ""


def _bgm_line(old: list[Mapping[str, Any]], new: list[Mapping[str, Any]]) -> str:
    before, after = _all_segments(old), _all_segments(new)
    if not after:
        return f"✅ BGM removed: {_names(before, quoted=False)}" if before else ""
    described = _track_body({"tt": AUDIO, "sg": after})
    if not before:
        return f"✅ BGM added: {described}"
    was, now = _names(before, quoted=False), _names(after, quoted=False)
    if was != now:
        return f"✅ BGM changed: {was} -> {described}"
    if _volume(before) != _volume(after):
        return f"✅ BGM volume: {_volume(before) or '?'} -> {_volume(after) or '?'}"
    return ""


def _subs_line(old: list[Mapping[str, Any]], new: list[Mapping[str, Any]]) -> str:
    before, after = len(_all_segments(old)), len(_all_segments(new))
    if before == after:
        return ""
    if not after:
        return f"✅ Subtitles removed: {_plural(before, 'line')}"
    if not before:
        return f"✅ Subtitles added: {_plural(after, 'line')}"
    return f"✅ Subtitles changed: {before} -> {_plural(after, 'line')}"


def _new_items(before: Mapping[str, Any], after: Mapping[str, Any], key: str) -> list[Any]:
    """Entries of list `key` in `after` that `before` lacks. The lists are append-only on the
    backend, but ids repeat across runs (each extraction numbers its clips from 1), so items
    are told apart by content."""
    old, new = _list(before.get(key)), _list(after.get(key))
    if new[: len(old)] == old:
        return new[len(old) :]
    remaining = [_canonical(item) for item in old]
    added = []
    for item in new:
        text = _canonical(item)
        if text in remaining:
            remaining.remove(text)
        else:
            added.append(item)
    return added


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


def _media_lines(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    added = [m for m in _new_items(before, after, "generated_media") if isinstance(m, Mapping)]
    lines = []
    clips = [m for m in added if m.get("type") == "clip"]
    if clips:
        line = f"✅ {_plural(len(clips), 'clip')} extracted"
        scored = [c for c in clips if _number(c.get("virality_score")) is not None]
        best = max(scored, key=lambda c: _number(c.get("virality_score")) or 0, default=None)
        if best is not None:
            title = _segment_name({"n": best.get("title")}, text_first=False)
            score = _number_text(_number(best.get("virality_score")) or 0)
            line += "; best: " + (f'"{title}" ' if title else "") + f"(score {score})"
        lines.append(line)
    for media in added:
        kind = media.get("type")
        if kind == "clip":
            continue
        label = kind.capitalize() if isinstance(kind, str) and kind else "Media"
        duration = _number(media.get("duration"))  # seconds here, not ms
        lines.append(f"✅ {label} generated" + (f": {_number_text(duration)}s" if duration else ""))
    return lines


def _upload_lines(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    lines = []
    for info in _new_items(before, after, "video_infos"):
        name = info.get("filename") if isinstance(info, Mapping) else None
        lines.append(
            f"✅ File added: {name}" if isinstance(name, str) and name else "✅ File added"
        )
    return lines
