"""Turn an intent into an agent run's plan: timed events and timed changes to the session.

Durations follow the vendor doc: text 5-15 s, editing 10-30 s, generation 100-300 s; the seed
says extraction takes 1-3 minutes. Every chance is drawn from one seeded generator per message.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nemo_fake.config import FakeConfig
from nemo_fake.domain import draft as drafts
from nemo_fake.domain.agent import replies
from nemo_fake.domain.agent.intents import DEFAULT_VOLUME, Edit, Intent
from nemo_fake.domain.agent.replies import Language
from nemo_fake.domain.agent.runs import AgentEvent, Effect
from nemo_fake.domain.ids import hex_digits
from nemo_fake.domain.sessions import Session

CLIP_SECONDS = (15.0, 60.0)
CLIP_TITLES = {
    "en": (
        "The big reveal", "Best advice of the day", "Wait for it", "The hot take",
        "Funniest moment", "The turning point", "Quick tip", "Behind the scenes",
        "Unpopular opinion", "Key takeaway",
    ),
    "zh": (
        "重大揭秘", "今日最佳建议", "等等看", "犀利观点", "最搞笑瞬间", "转折点", "小技巧",
        "幕后花絮", "非主流观点", "核心要点",
    ),
}  # fmt: skip
SUBTITLE_MS = 3000
Step = Callable[[drafts.Draft], None]
TITLE_MS = 3000


@dataclass
class Plan:
    kind: str
    events: list[AgentEvent]
    effects: list[Effect] = field(default_factory=list)
    cost: int = 0
    charges_editing_fee: bool = False
    # Editing runs may end with tool calls only (~30%, vendor doc).
    may_be_silent: bool = False


def plan(
    intent: Intent,
    session: Session,
    config: FakeConfig,
    rng: random.Random,
    *,
    editing_fee_due: bool,
) -> Plan:
    language = replies.pick_language(session.language)
    editing_fee = config.editing_cost if editing_fee_due else 0
    if intent.kind == "extract":
        source = _last_video(session)
        if source is None:
            return _say(rng, replies.NEED_VIDEO[language], "extract")
        return _extract(intent, source, language, rng, editing_fee)
    if intent.kind == "generate":
        return _generate(intent, language, rng, config.generation_cost)
    if intent.kind == "edit":
        if drafts.video_length_ms(session.draft) <= 0:
            return _say(rng, replies.NEED_TIMELINE[language], "edit")
        return _edit(intent, session, language, rng, editing_fee)
    if intent.kind == "aspect_ratio":
        return _say(rng, replies.ASPECT_RATIO[language], "aspect_ratio")
    return _say(rng, rng.choice(replies.CHAT[language]), "chat")


def _say(rng: random.Random, text: str, kind: str) -> Plan:
    return Plan(kind, [AgentEvent(rng.uniform(5, 15), "text", text=text)])


def _call_id(rng: random.Random) -> str:
    return "adk-" + hex_digits(rng, 12)


def _last_video(session: Session) -> dict[str, Any] | None:
    videos = [info for info in session.video_infos if info.get("file_type") == "video"]
    return videos[-1] if videos else None


def _extract(
    intent: Intent, source: dict[str, Any], language: Language, rng: random.Random, cost: int
) -> Plan:
    total = rng.uniform(60, 180)
    analysed = total * 0.6
    source_ms = max(1, round(float(source.get("duration") or 0) * 1000))
    clips = _clips(intent.count, source, source_ms, language, rng)
    file_id = source.get("file_id", "")
    analysis = {
        "file_id": file_id,
        "duration": source_ms / 1000,
        "scenes": rng.randint(intent.count + 2, intent.count * 4 + 4),
        "speech": True,
        "goal": "virality",
    }
    analyze_id, extract_id = _call_id(rng), _call_id(rng)
    events = [
        AgentEvent(1, "text", text=replies.ANALYZING[language]),
        AgentEvent(2, "tool_call", name="analyze_video", call_id=analyze_id,
                   payload={"file_id": file_id, "goal": "virality"}),
        AgentEvent(analysed, "tool_result", name="analyze_video", call_id=analyze_id,
                   payload=analysis),
        AgentEvent(analysed + 1, "tool_call", name="extract_clips", call_id=extract_id,
                   payload={"file_id": file_id, "count": intent.count, "aspect_ratio": "9:16"}),
        AgentEvent(total - 1, "tool_result", name="extract_clips", call_id=extract_id,
                   payload={"clips": [
                       {k: clip[k] for k in ("id", "start", "end", "virality_score")}
                       for clip in clips
                   ]}),
        AgentEvent(total, "text", text=replies.clip_list(language, clips)),
    ]  # fmt: skip
    best = clips[0]

    def apply(session: Session) -> None:
        session.video_analyses.append(analysis)
        session.generated_media.extend(clips)
        session.draft["t"] = []
        drafts.replace_track(
            session.draft,
            drafts.VIDEO,
            "Video",
            [{
                "s": 0,
                "d": best["duration_ms"],
                "n": best["title"],
                "src": source.get("cdn_url", ""),
                "in": best["start_ms"],
            }],
        )  # fmt: skip
        session.draft["d"] = best["duration_ms"]
        session.draft["m"].update(width=1080, height=1920)

    return Plan("extract", events, [Effect(total - 1, apply)], cost, bool(cost), True)


def _clips(
    count: int, source: dict[str, Any], source_ms: int, language: Language, rng: random.Random
) -> list[dict[str, Any]]:
    """`count` non-overlapping clips, one in each equal window of the source, best first."""
    window = source_ms / count
    titles = rng.sample(CLIP_TITLES[language], k=min(count, len(CLIP_TITLES[language])))
    clips: list[dict[str, Any]] = []
    for index in range(count):
        length = min(window, rng.uniform(*CLIP_SECONDS) * 1000)
        length = max(1, round(length / 100) * 100) if length >= 100 else max(1, round(length))
        start = round(index * window + rng.uniform(0, max(0.0, window - length)))
        start = min(start, max(0, source_ms - length))
        clips.append(
            {
                "type": "clip",
                "title": titles[index % len(titles)],
                "source_file_id": source.get("file_id"),
                "source_url": source.get("cdn_url"),
                "start_ms": start,
                "duration_ms": length,
                "start": round(start / 1000, 3),
                "end": round((start + length) / 1000, 3),
                "duration": round(length / 1000, 3),
                "width": 1080,
                "height": 1920,
                "aspect_ratio": "9:16",
                "virality_score": round(rng.uniform(55, 99), 1),
            }
        )
    clips.sort(key=lambda clip: clip["virality_score"], reverse=True)
    for rank, clip in enumerate(clips, 1):
        clip["id"] = f"clip_{rank}"
        clip["rank"] = rank
    return clips


def _generate(intent: Intent, language: Language, rng: random.Random, cost: int) -> Plan:
    total = rng.uniform(100, 300)
    raw_at = total * 0.7
    length = rng.choice((5000, 8000, 10000))
    video_id = "gen_" + hex_digits(rng, 12)
    music, volume = rng.choice(replies.MUSIC), DEFAULT_VOLUME
    title = rng.choice(replies.TITLES[language])
    generate_id, edit_id = _call_id(rng), _call_id(rng)
    video = {
        "id": video_id,
        "type": "video",
        "prompt": intent.message,
        "model": "seedance",
        "duration": length / 1000,
        "width": 1080,
        "height": 1920,
    }
    operations: list[dict[str, Any]] = [
        {"op": "add_bgm", "music": music, "volume": volume},
        {"op": "add_title", "text": title, "position": "top-center"},
    ]
    events = [
        AgentEvent(1, "text", text=replies.THIS_MAY_TAKE[language]),
        AgentEvent(2, "tool_call", name="generate_video_with_seedance", call_id=generate_id,
                   payload={"prompt": intent.message, "duration": length / 1000,
                            "aspect_ratio": "9:16"}),
        AgentEvent(raw_at, "tool_result", name="generate_video_with_seedance",
                   call_id=generate_id, payload=video),
        AgentEvent(raw_at + 1, "text", text=replies.raw_video_ready(language, length)),
        AgentEvent(raw_at + 2, "tool_call", name="edit_multitrack", call_id=edit_id,
                   payload={"operations": operations}),
        AgentEvent(total - 1, "tool_result", name="edit_multitrack", call_id=edit_id,
                   payload={"applied": [op["op"] for op in operations], "tracks": 3}),
        AgentEvent(total, "text",
                   text=replies.post_production_done(language, music, volume, title)),
    ]  # fmt: skip

    def raw_video(session: Session) -> None:
        session.generated_media.append(dict(video))
        session.draft["t"] = []
        drafts.replace_track(
            session.draft,
            drafts.VIDEO,
            "Video",
            [{"s": 0, "d": length, "n": intent.message[:60], "src": f"generated:{video_id}"}],
        )
        session.draft["d"] = length

    def post_production(session: Session) -> None:
        _add_bgm(session.draft, music, volume)
        _add_title(session.draft, title)

    return Plan(
        "generate", events, [Effect(raw_at, raw_video), Effect(total - 1, post_production)], cost
    )


def _edit(
    intent: Intent, session: Session, language: Language, rng: random.Random, cost: int
) -> Plan:
    total = rng.uniform(10, 30)
    length = drafts.video_length_ms(session.draft)
    changes: list[str] = []
    operations: list[dict[str, Any]] = []
    steps: list[Step] = []
    for edit in intent.edits:
        change, operation, step = _edit_step(edit, length, language, rng)
        changes.append(change)
        operations.append(operation)
        steps.append(step)
    call_id = _call_id(rng)
    events = [
        AgentEvent(1, "tool_call", name="edit_multitrack", call_id=call_id,
                   payload={"operations": operations}),
        AgentEvent(total - 1, "tool_result", name="edit_multitrack", call_id=call_id,
                   payload={"applied": [op["op"] for op in operations]}),
        AgentEvent(total, "text", text=replies.edits_done(language, changes)),
    ]  # fmt: skip

    def apply(session: Session) -> None:
        for step in steps:
            step(session.draft)

    return Plan("edit", events, [Effect(total - 1, apply)], cost, bool(cost), True)


def _edit_step(
    edit: Edit, length: int, language: Language, rng: random.Random
) -> tuple[str, dict[str, Any], Step]:
    if edit.kind == "bgm":
        music = (edit.music or rng.choice(replies.MUSIC)).title()
        volume = edit.volume if edit.volume is not None else DEFAULT_VOLUME
        return (
            replies.change_bgm(language, music, volume, length),
            {"op": "add_bgm", "music": music, "volume": volume},
            lambda draft: _add_bgm(draft, music, volume),
        )
    if edit.kind == "title":
        text = edit.text or rng.choice(replies.TITLES[language])
        return (
            replies.change_title(language, text),
            {"op": "add_title", "text": text, "position": "top-center"},
            lambda draft: _add_title(draft, text),
        )
    if edit.kind == "subtitles":
        lines = max(1, -(-length // SUBTITLE_MS))
        return (
            replies.change_subtitles(language, lines),
            {"op": "add_subtitles", "lines": lines},
            lambda draft: _add_subtitles(draft, language),
        )
    target = round(edit.seconds * 1000) if edit.seconds else round(length * 0.8)
    target = max(1, min(target, length))
    return (
        replies.change_trim(language, length, target),
        {"op": "trim", "duration": target / 1000},
        lambda draft: drafts.cut_to(draft, target),
    )


def _add_bgm(draft: drafts.Draft, music: str, volume: int) -> None:
    length = drafts.video_length_ms(draft)
    drafts.replace_track(
        draft,
        drafts.AUDIO,
        "BGM",
        [{"s": 0, "d": length, "n": music, "v": volume, "src": f"library:{music.lower()}"}],
    )


def _add_title(draft: drafts.Draft, text: str) -> None:
    length = drafts.video_length_ms(draft)
    drafts.replace_track(
        draft,
        drafts.TEXT,
        "Title",
        [{"s": 0, "d": min(TITLE_MS, length), "n": text, "text": text, "pos": "top-center"}],
    )


def _add_subtitles(draft: drafts.Draft, language: Language) -> None:
    length = drafts.video_length_ms(draft)
    segments = []
    for index, start in enumerate(range(0, length, SUBTITLE_MS), 1):
        text = f"第{index}句字幕" if language == "zh" else f"Subtitle line {index}"
        segments.append(
            {"s": start, "d": min(SUBTITLE_MS, length - start), "n": text, "text": text,
             "pos": "bottom-center"}
        )  # fmt: skip
    drafts.replace_track(draft, drafts.TEXT, "Subtitles", segments)
