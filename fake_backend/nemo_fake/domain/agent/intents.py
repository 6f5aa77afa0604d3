"""What a chat message asks for, in English or Chinese, by keywords and a few numbers."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

IntentKind = Literal["extract", "generate", "edit", "aspect_ratio", "chat"]
EditKind = Literal["bgm", "title", "subtitles", "trim"]

DEFAULT_CLIPS = 5
MAX_CLIPS = 10
DEFAULT_VOLUME = 35

_EXTRACT = re.compile(
    r"\b(extract|highlights?|viral|best moments?)\b|\btop\s+\w+\s+(clips?|shorts?)\b"
    r"|提取|剪出|高光|精彩|切片|爆款",
    re.IGNORECASE,
)
_GENERATE = re.compile(
    r"\b(generate|create|make|produce)\b.*\b(video|clip|film|movie|animation)\b"
    r"|生成|制作.*视频|做.*视频",
    re.IGNORECASE,
)
_ASPECT = re.compile(
    r"aspect ratio|\b(16:9|9:16|1:1|4:3|landscape|portrait|square)\b|横屏|竖屏|比例|画幅",
    re.IGNORECASE,
)
_BGM = re.compile(r"\b(bgm|music|soundtrack|song)\b|背景音乐|配乐|音乐", re.IGNORECASE)
_SUBTITLES = re.compile(r"\b(subtitles?|captions?)\b|字幕", re.IGNORECASE)
_TITLE = re.compile(r"\b(title|headline|text overlay)\b|标题", re.IGNORECASE)
_TRIM = re.compile(r"\b(trim|cut|shorten)\b|剪短|裁剪|缩短|截取", re.IGNORECASE)

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
    "七": 7, "八": 8, "九": 9, "十": 10,
}  # fmt: skip
_COUNT = re.compile(
    r"(?:top|best|first)\s+(\d+|" + "|".join(w for w in _NUMBER_WORDS if w.isascii()) + r")"
    r"|(\d+|"
    + "|".join(_NUMBER_WORDS)
    + r")\s*(?:个|条|段)?\s*(?:viral|short|best|clips?|highlights?|shorts?|片段|短视频|切片|高光)",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"(\d{1,3})\s*%")
_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:s\b|sec|secs|seconds?|秒)", re.IGNORECASE)
_QUOTED = re.compile(r"[\"“”'‘’「」『』]([^\"“”'‘’「」『』]{1,80})[\"“”'‘’「」『』]")
_STYLES = ("lo-fi", "lofi", "jazz", "piano", "rock", "electronic", "epic", "acoustic", "hip hop")


@dataclass(frozen=True)
class Edit:
    kind: EditKind
    volume: int | None = None  # bgm, percent
    music: str | None = None  # bgm style, if named
    text: str | None = None  # title/subtitle text, if quoted
    seconds: float | None = None  # trim: the target length


@dataclass(frozen=True)
class Intent:
    kind: IntentKind
    message: str
    count: int = DEFAULT_CLIPS
    edits: tuple[Edit, ...] = field(default=())


def classify(message: str) -> Intent:
    """The one thing a message asks for; several edits may come in one message."""
    if _ASPECT.search(message):
        return Intent("aspect_ratio", message)
    if _EXTRACT.search(message) and not _GENERATE.search(message):
        return Intent("extract", message, count=_clip_count(message))
    if _GENERATE.search(message):
        return Intent("generate", message)
    edits = _edits(message)
    if edits:
        return Intent("edit", message, edits=edits)
    return Intent("chat", message)


def _clip_count(message: str) -> int:
    match = _COUNT.search(message)
    if not match:
        return DEFAULT_CLIPS
    word = (match.group(1) or match.group(2)).lower()
    count = int(word) if word.isdigit() else _NUMBER_WORDS[word]
    return max(1, min(count, MAX_CLIPS))


def _edits(message: str) -> tuple[Edit, ...]:
    quoted = _QUOTED.search(message)
    text = quoted.group(1).strip() if quoted else None
    edits: list[Edit] = []
    if _BGM.search(message):
        percent = _PERCENT.search(message)
        volume = min(int(percent.group(1)), 100) if percent else None
        lowered = message.lower()
        style = next((s for s in _STYLES if s in lowered), None)
        edits.append(Edit("bgm", volume=volume, music=style))
    if _SUBTITLES.search(message):
        edits.append(Edit("subtitles", text=text))
    elif _TITLE.search(message):
        edits.append(Edit("title", text=text))
    if _TRIM.search(message):
        seconds = _SECONDS.search(message)
        edits.append(Edit("trim", seconds=float(seconds.group(1)) if seconds else None))
    return tuple(edits)
