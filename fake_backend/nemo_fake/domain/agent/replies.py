"""What the agent says, in English and Chinese. Some lines speak as if the user had a GUI, as
the real backend does ("click Export", "open the panel", "drag", "preview in timeline"), so a
client's translation layer has something to translate."""

from __future__ import annotations

from typing import Literal

Language = Literal["en", "zh"]

TEMPORARY_ISSUE = {
    "en": "I encountered a temporary issue. Please try again later.",
    "zh": "我遇到了一个临时问题，请稍后再试。",
}

CHAT = {
    "en": (
        "I can extract viral clips from a long video, generate a video from a description, "
        "or edit your timeline with music, titles and trims. What would you like to do?",
        "Happy to help! Upload a video or describe the one you want, and I'll get started.",
        "Sure. You can open the Assets panel to see your uploads, or tell me what to make.",
        "Your project is saved. Check your account page for your remaining credits.",
    ),
    "zh": (
        "我可以从长视频中提取爆款片段、根据描述生成视频，或为时间线添加音乐、标题和剪辑。你想做什么？",
        "乐意帮忙！上传一个视频或描述你想要的视频，我马上开始。",
        "好的。你可以打开素材面板查看上传的文件，或告诉我要制作什么。",
    ),
}

ASPECT_RATIO = {
    "en": "Changing the aspect ratio needs the video to be regenerated: the current clips "
    "were made for 9:16. Tell me to regenerate it and I'll make a new version.",
    "zh": "更改画面比例需要重新生成视频：当前片段是按 9:16 制作的。"
    "告诉我重新生成，我会制作新版本。",
}

NEED_VIDEO = {
    "en": "I don't see a video in this project yet. Click the Upload button to add your "
    "long-form video, then ask me again.",
    "zh": "这个项目里还没有视频。请点击上传按钮添加你的长视频，然后再告诉我。",
}

NEED_TIMELINE = {
    "en": "Your timeline is empty. Upload a video or ask me to generate one first.",
    "zh": "你的时间线是空的。请先上传视频或让我生成一个。",
}

THIS_MAY_TAKE = {
    "en": "Got it! Generating your video now. This may take a few minutes.",
    "zh": "收到！正在生成你的视频，这可能需要几分钟。",
}

ANALYZING = {
    "en": "Analyzing your video to find the most engaging moments...",
    "zh": "正在分析你的视频，寻找最吸引人的片段……",
}

TITLES = {
    "en": ("Urban Dreams", "Paradise Found", "Golden Hour", "Beyond the Horizon", "Night Lights"),
    "zh": ("城市之梦", "天堂之旅", "黄金时刻", "地平线之外", "夜色霓虹"),
}
MUSIC = ("Lo-fi", "Jazz", "Piano", "Acoustic", "Electronic")


def pick_language(language: str) -> Language:
    return "zh" if language.lower().startswith("zh") else "en"


def seconds(ms: int) -> str:
    value = ms / 1000
    return f"{value:g}s"


def clip_list(language: Language, clips: list[dict[str, object]]) -> str:
    lines = []
    for rank, clip in enumerate(clips, 1):
        span = f"{clip['start']:g}-{clip['end']:g}s"
        if language == "zh":
            lines.append(f"{rank}. 「{clip['title']}」({span}，爆款指数 {clip['virality_score']})")
        else:
            lines.append(
                f'{rank}. "{clip["title"]}" ({span}, virality score {clip["virality_score"]})'
            )
    if language == "zh":
        return (
            f"已提取 {len(clips)} 个爆款短视频：\n"
            + "\n".join(lines)
            + "\n得分最高的片段已放到时间线上，可在时间线中预览，然后点击导出按钮下载。"
        )
    return (
        f"Here are your top {len(clips)} viral clips:\n"
        + "\n".join(lines)
        + "\nThe best one is on your timeline: preview in timeline, then click the Export "
        "button to download it."
    )


def raw_video_ready(language: Language, duration_ms: int) -> str:
    if language == "zh":
        return f"✅ 原始视频已生成（{seconds(duration_ms)}）。正在添加背景音乐和标题……"
    return (
        f"✅ Your raw video is ready ({seconds(duration_ms)}). Now adding background music "
        "and a title..."
    )


def post_production_done(language: Language, music: str, volume: int, title: str) -> str:
    if language == "zh":
        return (
            f"后期制作完成：已添加背景音乐「{music}」（{volume}%）和标题「{title}」。"
            "拖拽标题可调整位置，打开音乐面板可更换曲目。"
        )
    return (
        f"Post-production done: added background music '{music}' ({volume}%) and the title "
        f'"{title}". Drag the title to reposition it, or open the Music panel to swap tracks.'
    )


def edits_done(language: Language, changes: list[str]) -> str:
    if language == "zh":
        return "已完成：" + "；".join(changes) + "。可在时间线中预览效果。"
    return "Done: " + "; ".join(changes) + ". Preview in timeline to check it."


def change_bgm(language: Language, music: str, volume: int, length_ms: int) -> str:
    if language == "zh":
        return f"添加背景音乐「{music}」（0-{seconds(length_ms)}，{volume}%）"
    return f"added background music '{music}' (0-{seconds(length_ms)}, {volume}%)"


def change_title(language: Language, text: str) -> str:
    if language == "zh":
        return f"添加标题「{text}」（顶部居中，0-3s）"
    return f'added the title "{text}" (top-center, 0-3s)'


def change_subtitles(language: Language, count: int) -> str:
    if language == "zh":
        return f"添加了 {count} 条字幕"
    return f"added {count} subtitle lines"


def change_trim(language: Language, before_ms: int, after_ms: int) -> str:
    if language == "zh":
        return f"视频从 {seconds(before_ms)} 剪短到 {seconds(after_ms)}"
    return f"trimmed the video from {seconds(before_ms)} to {seconds(after_ms)}"
