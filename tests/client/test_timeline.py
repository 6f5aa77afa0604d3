"""The timeline summary (seed format) and the change report for silent edits. The drafts here
are shaped like the fake's (nemo_fake/domain/draft.py, agent/planner.py), written out by hand:
the client must not import the fake."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nemo_client.timeline import describe_changes, summarize

SEED = 'Timeline (3 tracks): 1. Video: city timelapse (0-10s) 2. BGM: Lo-fi (0-10s, 35%) 3. Title: "Urban Dreams" (0-3s)'  # noqa: E501


def video(name: str = "city timelapse", length: int = 10000, **extra: Any) -> dict[str, Any]:
    return {
        "id": "trk_1",
        "tt": 0,
        "n": "Video",
        "sg": [{"id": "trk_1_seg_1", "s": 0, "d": length, "n": name, "src": "cdn", **extra}],
    }


def bgm(music: str = "Lo-fi", length: int = 10000, volume: int = 35) -> dict[str, Any]:
    segment = {"id": "trk_2_seg_1", "s": 0, "d": length, "n": music, "v": volume}
    return {"id": "trk_2", "tt": 1, "n": "BGM", "sg": [segment]}


def title(text: str = "Urban Dreams", length: int = 3000) -> dict[str, Any]:
    segment = {"s": 0, "d": length, "n": text, "text": text, "pos": "top-center"}
    return {"id": "trk_3", "tt": 7, "n": "Title", "sg": [{"id": "trk_3_seg_1", **segment}]}


def subtitles(length: int = 9000, every: int = 3000) -> dict[str, Any]:
    segments = [
        {"s": s, "d": min(every, length - s), "n": f"Line {i}", "text": f"Line {i}"}
        for i, s in enumerate(range(0, length, every), 1)
    ]
    return {"id": "trk_4", "tt": 7, "n": "Subtitles", "sg": segments}


def draft(*tracks: dict[str, Any]) -> dict[str, Any]:
    return {
        "t": list(tracks),
        "d": max((s["s"] + s["d"] for t in tracks for s in t["sg"]), default=0),
        "m": {"title": "project", "width": 1080, "height": 1920},
    }


def state(
    the_draft: dict[str, Any] | None = None,
    media: list[dict[str, Any]] | None = None,
    infos: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "draft": the_draft if the_draft is not None else draft(),
        "generated_media": media or [],
        "video_infos": infos or [],
        "canvas_config": {"width": 1080, "height": 1920, "ratio": "9:16"},
    }


# -- summarize ----------------------------------------------------------------------------------


def test_seed_example() -> None:
    assert summarize(draft(video(), bgm(), title())) == SEED


def test_empty() -> None:
    assert summarize(draft()) == "Timeline (0 tracks): empty"
    assert summarize({}) == "Timeline (0 tracks): empty"
    assert summarize({"t": None}) == "Timeline (0 tracks): empty"


def test_one_track_and_empty_tracks() -> None:
    assert summarize(draft(video())) == "Timeline (1 track): 1. Video: city timelapse (0-10s)"
    assert summarize({"t": [{"tt": 0, "sg": []}]}) == "Timeline (1 track): 1. Video: (empty)"
    assert summarize({"t": [{"tt": 1}, {"tt": 42, "sg": [{"s": 0, "d": 500, "n": "x"}]}]}) == (
        "Timeline (2 tracks): 1. BGM: (empty) 2. Track: x (0-0.5s)"
    )


def test_seconds_format() -> None:
    segments = [{"s": 2500, "d": 1234, "n": "a"}]
    assert summarize({"t": [{"tt": 0, "sg": segments}]}).endswith("Video: a (2.5-3.734s)")


def test_several_segments() -> None:
    names = ["intro.mp4", "talk.mp4", "intro.mp4", "outro.mp4", "b-roll.mp4", "end.mp4"]
    segments = [{"s": i * 1000, "d": 1000, "n": name} for i, name in enumerate(names)]
    assert summarize({"t": [{"tt": 0, "sg": segments}]}) == (
        "Timeline (1 track): 1. Video: intro.mp4, talk.mp4, outro.mp4 +2 more (0-6s)"
    )
    two = [{"s": 0, "d": 4000, "n": "a"}, {"s": 4000, "d": 4000, "n": "b"}]
    assert summarize({"t": [{"tt": 0, "sg": two}]}).endswith("Video: a, b (0-8s)")


def test_text_and_audio_details() -> None:
    texts = [{"s": 0, "d": 1000, "text": "A"}, {"s": 1000, "d": 1000, "text": "B"}]
    assert summarize({"t": [{"tt": 7, "sg": texts}]}).endswith('Title: "A", "B" (0-2s)')
    # A text segment without `text` falls back to its name.
    assert summarize({"t": [{"tt": 7, "sg": [{"s": 0, "d": 1000, "n": "N"}]}]}).endswith(
        'Title: "N" (0-1s)'
    )
    quiet = [{"s": 0, "d": 5000, "n": "Jazz"}]
    assert summarize({"t": [{"tt": 1, "sg": quiet}]}).endswith("BGM: Jazz (0-5s)")
    mixed = [
        {"s": 0, "d": 5000, "n": "Jazz", "v": 40},
        {"s": 5000, "d": 5000, "n": "Jazz", "v": 80},
    ]
    assert summarize({"t": [{"tt": 1, "sg": mixed}]}).endswith("BGM: Jazz (0-10s, 40-80%)")


def test_subtitles_show_line_count() -> None:
    assert summarize(draft(video(length=9000), subtitles())) == (
        "Timeline (2 tracks): 1. Video: city timelapse (0-9s) 2. Subtitles: 3 lines (0-9s)"
    )
    one = {"tt": 7, "n": "Subtitles", "sg": [{"s": 0, "d": 2000, "text": "Hi"}]}
    assert summarize({"t": [one]}) == "Timeline (1 track): 1. Subtitles: 1 line (0-2s)"


def test_unnamed_and_untimed_segments() -> None:
    assert summarize({"t": [{"tt": 0, "sg": [{"s": 0, "d": 1000}, {"s": 1000, "d": 1000}]}]}) == (
        "Timeline (1 track): 1. Video: 2 segments (0-2s)"
    )
    assert summarize({"t": [{"tt": 0, "sg": [{"n": "clip"}]}]}) == (
        "Timeline (1 track): 1. Video: clip"
    )
    assert summarize({"t": [{"tt": 0, "sg": [{"n": "two\nlines", "s": 0, "d": 1}]}]}) == (
        "Timeline (1 track): 1. Video: two lines (0-0.001s)"
    )


# Arbitrary drafts made of the documented keys, with sane types.
names = st.one_of(st.none(), st.text(max_size=20))
segments = st.fixed_dictionaries(
    {},
    optional={
        "s": st.integers(min_value=0, max_value=10**9),
        "d": st.integers(min_value=0, max_value=10**9),
        "n": st.text(max_size=30),
        "text": st.text(max_size=30),
        "v": st.one_of(st.integers(0, 200), st.floats(0, 200)),
        "pos": st.sampled_from(["top-center", "bottom-center", ""]),
        "id": st.text(max_size=8),
    },
)
tracks = st.fixed_dictionaries(
    {},
    optional={
        "tt": st.one_of(st.sampled_from([0, 1, 7]), st.integers(-5, 20)),
        "n": st.one_of(st.sampled_from(["Video", "BGM", "Title", "Subtitles"]), st.text()),
        "sg": st.lists(segments, max_size=6),
        "id": st.text(max_size=8),
    },
)
drafts = st.fixed_dictionaries(
    {"t": st.lists(tracks, max_size=6)},
    optional={
        "d": st.integers(min_value=0, max_value=10**9),
        "m": st.fixed_dictionaries({"title": st.text(max_size=10)}),
    },
)
LABEL = r"(?:Video|BGM|Title|Subtitles|Track)"


@given(drafts)
def test_summary_of_any_draft(value: dict[str, Any]) -> None:
    summary = summarize(value)
    count = len(value["t"])
    header = f"Timeline ({count} track{'' if count == 1 else 's'}):"
    assert summary.startswith(header)
    position = len(header)
    for number in range(1, count + 1):
        found = re.compile(rf" {number}\. {LABEL}: ").search(summary, position)
        assert found, (number, summary)
        position = found.end()
    if count == 0:
        assert summary == header + " empty"


plain_segments = st.fixed_dictionaries(
    {"s": st.integers(0, 10**6), "d": st.integers(0, 10**6)},
    optional={"n": st.from_regex(r"[a-z]{1,8}", fullmatch=True), "v": st.integers(0, 100)},
)
plain_tracks = st.fixed_dictionaries(
    {"tt": st.sampled_from([0, 1, 7]), "sg": st.lists(plain_segments, max_size=5)},
    optional={"n": st.sampled_from(["Video", "BGM", "Title", "Subtitles"])},
)


@given(st.lists(plain_tracks, max_size=8))
def test_summary_items_are_numbered_in_order(value: list[dict[str, Any]]) -> None:
    summary = summarize({"t": value})
    items = re.split(rf" (?=\d+\. {LABEL}: )", summary)
    assert len(items) == len(value) + 1 or (not value and summary.endswith(": empty"))
    for number, item in enumerate(items[1:], 1):
        assert item.startswith(f"{number}. ")


# -- describe_changes ---------------------------------------------------------------------------


def test_nothing_changed() -> None:
    before = state(draft(video(), bgm(), title()))
    assert describe_changes(before, copy.deepcopy(before)) == []
    assert describe_changes({}, {}) == []
    # The total length follows the segments; on its own it is no change.
    after = copy.deepcopy(before)
    after["draft"]["d"] += 1
    assert describe_changes(before, after) == []


def test_title_added() -> None:
    before = state(draft(video()))
    after = state(draft(video(), title()))
    assert describe_changes(before, after) == ['✅ Title added: "Urban Dreams" (top-center, 0-3s)']


def test_title_changed_and_removed() -> None:
    before = state(draft(video(), title("A")))
    assert describe_changes(before, state(draft(video(), title("B")))) == [
        '✅ Title changed: "A" -> "B"'
    ]
    assert describe_changes(before, state(draft(video()))) == ['✅ Title removed: "A"']


def test_bgm_added_changed_volume_removed() -> None:
    before = state(draft(video(length=8000)))
    with_jazz = state(draft(video(length=8000), bgm("Jazz", 8000, 40)))
    assert describe_changes(before, with_jazz) == ["✅ BGM added: Jazz (0-8s, 40%)"]
    with_piano = state(draft(video(length=8000), bgm("Piano", 8000, 40)))
    assert describe_changes(with_jazz, with_piano) == ["✅ BGM changed: Jazz -> Piano (0-8s, 40%)"]
    louder = state(draft(video(length=8000), bgm("Jazz", 8000, 60)))
    assert describe_changes(with_jazz, louder) == ["✅ BGM volume: 40% -> 60%"]
    assert describe_changes(with_jazz, before) == ["✅ BGM removed: Jazz"]


def test_subtitles() -> None:
    before = state(draft(video(length=9000)))
    after = state(draft(video(length=9000), subtitles()))
    assert describe_changes(before, after) == ["✅ Subtitles added: 3 lines"]
    assert describe_changes(after, before) == ["✅ Subtitles removed: 3 lines"]
    more = state(draft(video(length=9000), subtitles(every=2000)))
    assert describe_changes(after, more) == ["✅ Subtitles changed: 3 -> 5 lines"]


def test_trim_cuts_every_track() -> None:
    before = state(draft(video(), bgm(), title(), subtitles(length=10000)))
    # What a trim to 8 s leaves (fake: draft.cut_to): later segments dropped, the rest clipped.
    after = copy.deepcopy(before)
    for track in after["draft"]["t"]:
        track["sg"] = [{**s, "d": min(s["d"], 8000 - s["s"])} for s in track["sg"] if s["s"] < 8000]
    after["draft"]["d"] = 8000
    assert describe_changes(before, after) == ["✅ Video trimmed: 10s -> 8s"]


def test_trim_and_title_together() -> None:
    before = state(draft(video(), bgm()))
    after = state(draft(video(length=7500), bgm(length=7500), title("Night Lights")))
    assert describe_changes(before, after) == [
        "✅ Video trimmed: 10s -> 7.5s",
        '✅ Title added: "Night Lights" (top-center, 0-3s)',
    ]


def clip(rank: int, title_: str, score: float) -> dict[str, Any]:
    return {
        "type": "clip",
        "id": f"clip_{rank}",
        "rank": rank,
        "title": title_,
        "virality_score": score,
        "start": 10.0 * rank,
        "end": 10.0 * rank + 30,
        "duration": 30.0,
    }


def test_clips_extracted() -> None:
    upload = {"file_id": "f1", "filename": "podcast.mp4", "file_type": "video", "duration": 2700}
    before = state(draft(video("podcast.mp4", 2_700_000)), infos=[upload])
    clips = [
        clip(1, "Wait for it", 71.5),
        clip(2, "The big reveal", 92.4),
        clip(3, "Quick tip", 60),
        clip(4, "The hot take", 88),
        clip(5, "Key takeaway", 55.1),
    ]
    after = state(draft(video("The big reveal", 30000)), media=clips, infos=[upload])
    assert describe_changes(before, after) == [
        '✅ 5 clips extracted; best: "The big reveal" (score 92.4)'
    ]
    # A second extraction numbers its clips from 1 again: still new.
    again = [clip(1, "Funniest moment", 97), clip(2, "Quick tip", 60)]
    later = state(draft(video("Funniest moment", 20000)), media=clips + again, infos=[upload])
    assert describe_changes(after, later) == [
        '✅ 2 clips extracted; best: "Funniest moment" (score 97)'
    ]
    assert describe_changes(before, state(draft(), media=[{"type": "clip"}])) == [
        "✅ 1 clip extracted"
    ]


def test_video_generated() -> None:
    generated = {"id": "gen_1", "type": "video", "prompt": "a city timelapse", "duration": 8.0}
    before = state()
    raw = state(draft(video("a city timelapse", 8000)), media=[generated])
    assert describe_changes(before, raw) == ["✅ Video generated: 8s"]
    done = state(
        draft(video("a city timelapse", 8000), bgm("Lo-fi", 8000), title()), media=[generated]
    )
    assert describe_changes(before, done) == [
        "✅ Video generated: 8s",
        "✅ BGM added: Lo-fi (0-8s, 35%)",
        '✅ Title added: "Urban Dreams" (top-center, 0-3s)',
    ]
    assert describe_changes(before, state(media=[{"type": "image"}])) == ["✅ Image generated"]


def test_other_draft_changes_get_the_summary() -> None:
    before = state(draft(video()))
    swapped = state(draft(video("b.mp4", 5000)))
    assert describe_changes(before, swapped) == [
        "✅ Timeline updated: Timeline (1 track): 1. Video: b.mp4 (0-5s)"
    ]
    moved_title = copy.deepcopy(state(draft(video(), title())))
    moved_title["draft"]["t"][1]["sg"][0]["pos"] = "bottom-center"
    assert describe_changes(state(draft(video(), title())), moved_title) == [
        '✅ Timeline updated: Timeline (2 tracks): 1. Video: city timelapse (0-10s) 2. Title: "Urban Dreams" (0-3s)'  # noqa: E501
    ]
    landscape = state(draft(video()))
    landscape["draft"]["m"] = {"title": "project", "width": 1920, "height": 1080}
    assert describe_changes(before, landscape) == [
        "✅ Timeline updated: Timeline (1 track): 1. Video: city timelapse (0-10s)"
    ]


def test_upload() -> None:
    info = {"file_id": "f1", "filename": "podcast.mp4", "file_type": "video", "duration": 60}
    after = state(draft(video("podcast.mp4", 60000)), infos=[info])
    assert describe_changes(state(), after) == [
        "✅ File added: podcast.mp4",
        "✅ Timeline updated: Timeline (1 track): 1. Video: podcast.mp4 (0-60s)",
    ]


@pytest.mark.parametrize(
    "odd",
    [
        {},
        {"draft": None, "generated_media": None, "video_infos": None},
        {"draft": {"t": "nope"}, "generated_media": "x", "video_infos": [1, "a"]},
        {"draft": {"t": [None, 3, {"tt": "0", "sg": [None, {"s": "1"}]}]}},
        {"generated_media": [None, {"type": None, "duration": "8"}, {"type": "clip", "title": 5}]},
    ],
)
def test_odd_states_do_not_raise(odd: dict[str, Any]) -> None:
    describe_changes({}, odd)
    describe_changes(odd, {})
    assert describe_changes(odd, copy.deepcopy(odd)) == []


media_items = st.fixed_dictionaries(
    {"type": st.sampled_from(["clip", "video", "image"])},
    optional={
        "id": st.text(max_size=5),
        "title": st.text(max_size=10),
        "virality_score": st.floats(0, 100),
        "duration": st.floats(0, 600),
    },
)
states = st.fixed_dictionaries(
    {
        "draft": drafts,
        "generated_media": st.lists(media_items, max_size=4),
        "video_infos": st.lists(st.fixed_dictionaries({"filename": st.text(max_size=8)})),
    }
)


def _without_length(value: dict[str, Any]) -> dict[str, Any]:
    return {key: item for key, item in value.items() if key != "d"}


@given(states, states)
def test_changes_of_any_states(before: dict[str, Any], after: dict[str, Any]) -> None:
    lines = describe_changes(before, after)
    assert all(line.startswith("✅ ") for line in lines)
    assert describe_changes(before, copy.deepcopy(before)) == []
    # The client's recovery loop reads "no lines" as "nothing happened yet".
    if _without_length(before["draft"]) != _without_length(after["draft"]):
        assert lines
