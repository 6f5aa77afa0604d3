"""GUI translation: the agent's "click"/"open"/"drag"/"preview in timeline" become actions and
leave the reply, the rest of the reply stays. The replies are copied from the fake's agent
(fake_backend/nemo_fake/domain/agent/replies.py) on purpose: the client must not import the fake."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nemo_client.gui import GuiAction, GuiActionKind, Translation, translate

EN_CLIPS = (
    "Here are your top 3 viral clips:\n"
    '1. "The big reveal" (120.4-152.8s, virality score 92.4)\n'
    '2. "Quick tip" (1500-1530.5s, virality score 81)\n'
    '3. "Wait for it" (2400-2444.1s, virality score 64.9)\n'
    "The best one is on your timeline: preview in timeline, then click the Export button to "
    "download it."
)
ZH_CLIPS = (
    "已提取 2 个爆款短视频：\n"
    "1. 「重大揭秘」(120.4-152.8s，爆款指数 92.4)\n"
    "2. 「小技巧」(1500-1530.5s，爆款指数 81)\n"
    "得分最高的片段已放到时间线上，可在时间线中预览，然后点击导出按钮下载。"
)


def kinds(translation: Translation) -> list[GuiActionKind]:
    return [action.kind for action in translation.actions]


def test_extraction_reply_keeps_the_clip_list() -> None:
    result = translate(EN_CLIPS)
    assert result.text == EN_CLIPS.rsplit("\n", 1)[0] + "\nThe best one is on your timeline."
    assert result.actions == (
        GuiAction("show_timeline", "preview in timeline"),
        GuiAction("export", "click the Export button"),
    )


def test_extraction_reply_zh() -> None:
    result = translate(ZH_CLIPS)
    assert result.text == ZH_CLIPS.rsplit("\n", 1)[0] + "\n得分最高的片段已放到时间线上。"
    assert result.actions == (
        GuiAction("show_timeline", "在时间线中预览"),
        GuiAction("export", "点击导出按钮"),
    )


@pytest.mark.parametrize(
    ("reply", "text", "expected"),
    [
        (
            "Sure. You can open the Assets panel to see your uploads, or tell me what to make.",
            "Sure. Tell me what to make.",
            ["show_state"],
        ),
        (
            "Your project is saved. Check your account page for your remaining credits.",
            "Your project is saved.",
            ["show_credits"],
        ),
        (
            "好的。你可以打开素材面板查看上传的文件，或告诉我要制作什么。",
            "好的。告诉我要制作什么。",
            ["show_state"],
        ),
        (
            "I don't see a video in this project yet. Click the Upload button to add your "
            "long-form video, then ask me again.",
            "I don't see a video in this project yet. Ask me again.",
            ["execute"],
        ),
        (
            "这个项目里还没有视频。请点击上传按钮添加你的长视频，然后再告诉我。",
            "这个项目里还没有视频。再告诉我。",
            ["execute"],
        ),
        (
            "Post-production done: added background music 'Lo-fi' (35%) and the title "
            '"Urban Dreams". Drag the title to reposition it, or open the Music panel to swap '
            "tracks.",
            "Post-production done: added background music 'Lo-fi' (35%) and the title "
            '"Urban Dreams".',
            ["send_edit", "show_state"],
        ),
        (
            "后期制作完成：已添加背景音乐「Lo-fi」（35%）和标题「城市之梦」。"
            "拖拽标题可调整位置，打开音乐面板可更换曲目。",
            "后期制作完成：已添加背景音乐「Lo-fi」（35%）和标题「城市之梦」。",
            ["send_edit", "show_state"],
        ),
        (
            "Done: added background music 'Jazz' (0-8s, 40%); added the title \"Golden Hour\" "
            "(top-center, 0-3s); added 3 subtitle lines; trimmed the video from 10s to 8s. "
            "Preview in timeline to check it.",
            "Done: added background music 'Jazz' (0-8s, 40%); added the title \"Golden Hour\" "
            "(top-center, 0-3s); added 3 subtitle lines; trimmed the video from 10s to 8s.",
            ["show_timeline"],
        ),
        (
            "已完成：添加背景音乐「Jazz」（0-8s，40%）；添加标题「黄金时刻」（顶部居中，0-3s）；"
            "视频从 10s 剪短到 8s。可在时间线中预览效果。",
            "已完成：添加背景音乐「Jazz」（0-8s，40%）；添加标题「黄金时刻」（顶部居中，0-3s）；"
            "视频从 10s 剪短到 8s。",
            ["show_timeline"],
        ),
    ],
)
def test_agent_replies(reply: str, text: str, expected: list[GuiActionKind]) -> None:
    result = translate(reply)
    assert result.text == text
    assert kinds(result) == expected


@pytest.mark.parametrize(
    "reply",
    [
        "I can extract viral clips from a long video, generate a video from a description, "
        "or edit your timeline with music, titles and trims. What would you like to do?",
        "Happy to help! Upload a video or describe the one you want, and I'll get started.",
        "我可以从长视频中提取爆款片段、根据描述生成视频，或为时间线添加音乐、标题和剪辑。你想做什么？",
        "乐意帮忙！上传一个视频或描述你想要的视频，我马上开始。",
        "Changing the aspect ratio needs the video to be regenerated: the current clips were "
        "made for 9:16. Tell me to regenerate it and I'll make a new version.",
        "更改画面比例需要重新生成视频：当前片段是按 9:16 制作的。告诉我重新生成，我会制作新版本。",
        "Your timeline is empty. Upload a video or ask me to generate one first.",
        "你的时间线是空的。请先上传视频或让我生成一个。",
        "Got it! Generating your video now. This may take a few minutes.",
        "收到！正在生成你的视频，这可能需要几分钟。",
        "Analyzing your video to find the most engaging moments...",
        "正在分析你的视频，寻找最吸引人的片段……",
        "✅ Your raw video is ready (8s). Now adding background music and a title...",
        "✅ 原始视频已生成（8s）。正在添加背景音乐和标题……",
        "I encountered a temporary issue. Please try again later.",
        "我遇到了一个临时问题，请稍后再试。",
        "  Leading and trailing space, kept.  \n",
        "",
        # GUI words inside quotes are content (a title the user chose).
        'Done: added the title "Click to open the Music panel" (top-center, 0-3s).',
        "已完成：添加标题「点击这里」（顶部居中，0-3s）。",
        # Common words that aren't GUI instructions on their own.
        "Ready to export? Your draft has an open ending and a drop in volume at 0:05.",
        "1. Click the Export button (a list item is content and kept as is)",
    ],
)
def test_no_gui_text_is_unchanged(reply: str) -> None:
    assert translate(reply) == Translation(reply, ())


@pytest.mark.parametrize(
    ("reply", "action"),
    [
        ("Click Export.", GuiAction("export", "Click Export")),
        ('click "Export" to render', GuiAction("export", 'click "Export"')),
        ("Press the Export button.", GuiAction("export", "Press the Export button")),
        ("Use the Export button.", GuiAction("export", "the Export button")),
        ("点击导出。", GuiAction("export", "点击导出")),
        ("使用导出按钮。", GuiAction("export", "导出按钮")),
        ("Click the Upload button.", GuiAction("execute", "Click the Upload button")),
        ("Click here.", GuiAction("execute", "Click")),
        ("点击应用。", GuiAction("execute", "点击")),
        ("Open the Assets panel.", GuiAction("show_state", "Open the Assets panel")),
        ("打开设置。", GuiAction("show_state", "打开设置")),
        ("打开它。", GuiAction("show_state", "打开")),
        ("Drag and drop it here.", GuiAction("send_edit", "Drag and drop")),
        ("Drop the clip on the track.", GuiAction("send_edit", "Drop the clip on")),
        ("拖拽片段到这里。", GuiAction("send_edit", "拖拽")),
        ("Preview it in the timeline.", GuiAction("show_timeline", "Preview it in the timeline")),
        ("在时间线中预览。", GuiAction("show_timeline", "在时间线中预览")),
        ("Check your billing page.", GuiAction("show_credits", "Check your billing page")),
        ("Check the dashboard.", GuiAction("show_credits", "Check the dashboard")),
        ("Open your account page.", GuiAction("show_credits", "Open your account page")),
        ("查看账户。", GuiAction("show_credits", "查看账户")),
    ],
)
def test_each_gui_phrase(reply: str, action: GuiAction) -> None:
    result = translate(reply)
    assert result.actions == (action,)
    assert result.text == ""


def test_actions_are_unique_by_kind_in_order() -> None:
    result = translate(
        "Preview in timeline. Click the Export button, or click Export again. "
        "Preview it in the timeline."
    )
    assert kinds(result) == ["show_timeline", "export"]
    assert result.actions[1].phrase == "Click the Export button"


def test_clause_removal() -> None:
    assert translate("Your video is ready (click Export to download it).").text == (
        "Your video is ready."
    )
    assert translate("Ready? Click Export, and I'll render it!").text == "Ready? I'll render it!"
    assert translate("All set: click the Export button").text == "All set"
    assert (
        translate("Nice; preview in timeline; then tell me more!").text
        == "Nice; then tell me more!"
    )
    assert translate("第一句。点击导出按钮下载。第三句。").text == "第一句。第三句。"
    assert translate("At 0:05, 1,000 views; click Export.").text == "At 0:05, 1,000 views."


def test_lines_and_whitespace() -> None:
    result = translate("Line one.\nClick Export.\n\nLine three.  Drag it.\n")
    assert result.text == "Line one.\n\nLine three."
    assert translate("Done!\r\nOpen the Music panel.").text == "Done!"


# Built replies: content clauses must survive, GUI clauses must go, and the actions follow the
# GUI clauses in order. The content has no GUI words and no connectors.
CONTENT = [
    "your video is ready",
    "the title is set",
    "I added Lo-fi music at 35%",
    "the best clip scores 92.4",
    "the timeline has 3 tracks",
    "字幕已添加",
    "背景音乐已更换",
]
GUI: list[tuple[str, GuiActionKind]] = [
    ("click the Export button to download it", "export"),
    ("点击导出按钮下载", "export"),
    ("click the Upload button", "execute"),
    ("点击上传按钮添加视频", "execute"),
    ("open the Music panel to swap tracks", "show_state"),
    ("打开音乐面板可更换曲目", "show_state"),
    ("drag the title to move it", "send_edit"),
    ("拖拽标题可调整位置", "send_edit"),
    ("preview in timeline", "show_timeline"),
    ("可在时间线中预览", "show_timeline"),
    ("check your account page for credits", "show_credits"),
    ("查看账户", "show_credits"),
]
clause = st.one_of(
    st.sampled_from(CONTENT).map(lambda text: (text, None)),
    st.sampled_from(GUI),
)
sentence = st.tuples(
    st.lists(clause, min_size=1, max_size=4),
    st.lists(st.sampled_from([", ", ", then ", "; ", ", or ", ": ", "，", "，然后"]), min_size=3),
    st.sampled_from([".", "!", "?", "。", "！"]),
)


@given(st.lists(sentence, min_size=1, max_size=4))
def test_built_replies(sentences: list[tuple[list[tuple[str, str | None]], list[str], str]]):
    parts, expected = [], []
    for clauses, separators, end in sentences:
        text = clauses[0][0]
        for (words, _), separator in zip(clauses[1:], separators, strict=False):
            text += separator + words
        parts.append(text + end)
        for _, kind in clauses:
            if kind and kind not in expected:
                expected.append(kind)
    reply = " ".join(parts)
    result = translate(reply)
    assert kinds(result) == expected
    lowered = result.text.lower()
    for clauses, _, _ in sentences:
        for words, kind in clauses:
            if kind is None:
                assert words.lower() in lowered
            else:
                assert words.lower() not in lowered
    if not expected:
        assert result.text == reply


@given(st.text())
def test_any_text(text: str) -> None:
    result = translate(text)
    assert len({action.kind for action in result.actions}) == len(result.actions)
    if not result.actions:
        assert result.text == text
