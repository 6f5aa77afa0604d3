"""Real media in, real media out: probing, rendering and the sample generators."""

from __future__ import annotations

import importlib
import pathlib

import av
import pytest
from av.stream import Disposition

from nemo_fake import media
from nemo_fake.errors import ApiError, Code
from nemo_fake.media import make

ALL_EXTENSIONS = {
    "mp4": "video",
    "mov": "video",
    "avi": "video",
    "webm": "video",
    "mkv": "video",
    "jpg": "image",
    "png": "image",
    "gif": "image",
    "webp": "image",
    "mp3": "audio",
    "wav": "audio",
    "m4a": "audio",
    "aac": "audio",
}


# --- file_type_for ---------------------------------------------------------------------------


@pytest.mark.parametrize(("ext", "kind"), sorted(ALL_EXTENSIONS.items()))
def test_file_type_for_every_supported_extension(ext: str, kind: str) -> None:
    assert media.file_type_for(f"clip.{ext}") == kind
    assert media.file_type_for(f"CLIP.{ext.upper()}") == kind


def test_file_types_table_is_the_documented_list_plus_jpeg() -> None:
    assert media.FILE_TYPES == {**ALL_EXTENSIONS, "jpeg": "image"}
    assert media.file_type_for("photo.JPEG") == "image"


def test_file_type_for_uses_only_the_last_suffix() -> None:
    assert media.file_type_for("my.holiday.video.Mp4") == "video"


@pytest.mark.parametrize("name", ["x.exe", "README", "archive.tar.gz", "clip.mp4.exe", ".mp4x"])
def test_file_type_for_rejects_other_names(name: str) -> None:
    with pytest.raises(ApiError) as info:
        media.file_type_for(name)
    assert info.value.code is Code.UNSUPPORTED_FILE


def test_rejection_message_names_the_extension_and_the_supported_list() -> None:
    with pytest.raises(ApiError) as info:
        media.file_type_for("setup.EXE")
    assert ".exe" in info.value.message
    for ext in ALL_EXTENSIONS:
        assert ext in info.value.message

    with pytest.raises(ApiError) as info:
        media.file_type_for("Makefile")
    assert "no extension" in info.value.message


# --- render_mp4 ------------------------------------------------------------------------------


def test_render_mp4_portrait_1080p(tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "render.mp4"
    media.render_mp4(dest, width=1080, height=1920, duration_ms=2000, fps=10, seed=7)

    assert dest.read_bytes()[4:8] == b"ftyp"
    with av.open(str(dest)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.codec_context.pix_fmt == "yuv420p"
        assert (stream.codec_context.width, stream.codec_context.height) == (1080, 1920)
        assert not container.streams.audio
    info = media.probe(dest, "video")
    assert info == media.MediaInfo("video", info.duration, 1080, 1920, 10.0)
    assert abs(info.duration - 2.0) <= 0.1
    # Nothing but the finished file is left behind.
    assert [p.name for p in tmp_path.iterdir()] == ["render.mp4"]


@pytest.mark.parametrize(
    ("duration_ms", "fps", "frames"), [(1234, 10, 12), (0, 10, 1), (40, 25, 1)]
)
def test_render_mp4_frame_count_and_duration(
    tmp_path: pathlib.Path, duration_ms: int, fps: int, frames: int
) -> None:
    dest = tmp_path / "r.mp4"
    media.render_mp4(dest, width=64, height=36, duration_ms=duration_ms, fps=fps)

    with av.open(str(dest)) as container:
        decoded = list(container.decode(video=0))
    assert len(decoded) == frames
    assert abs(media.probe(dest, "video").duration * 1000 - duration_ms) <= 1000 / fps


def test_renders_of_one_picture_share_its_encoded_loop_in_any_order(
    tmp_path: pathlib.Path,
) -> None:
    # A picture's first render encodes only what it shows; the first longer one encodes the
    # whole loop, and nothing after encodes again. Every render decodes whole and shows the
    # same frames as one rendered on its own would.
    picture = {"width": 64, "height": 36, "fps": 10, "seed": 424242, "loop_seconds": 2}
    lengths = (500, 1000, 3500, 700)  # frames: 5, 10, 35 (over the 20-frame loop), then 7
    encodes = []
    for n, duration_ms in enumerate(lengths):
        before = make.loop_encodes()
        media.render_mp4(tmp_path / f"{n}.mp4", duration_ms=duration_ms, **picture)
        encodes.append(make.loop_encodes() - before)
    assert encodes == [1, 1, 0, 0]  # 5 frames, then the whole loop of 20
    decoded = []
    for n, duration_ms in enumerate(lengths):
        with av.open(str(tmp_path / f"{n}.mp4")) as container:
            frames = [b"".join(map(bytes, f.planes)) for f in container.decode(video=0)]
        assert len(frames) == duration_ms // 100
        decoded.append(frames)
    short, ten, long, medium = decoded
    assert short == long[:5] and ten == long[:10] and medium == long[:7]
    assert long[20] == long[0] and long[1] != long[0]  # the loop repeats after two seconds


def test_render_mp4_frames_change_over_time(tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "r.mp4"
    media.render_mp4(dest, width=64, height=64, duration_ms=1000, fps=10)

    with av.open(str(dest)) as container:
        lumas = [bytes(frame.planes[0]) for frame in container.decode(video=0)]
    assert len(set(lumas)) == len(lumas)


def test_render_mp4_longer_than_one_loop_decodes_every_frame(tmp_path: pathlib.Path) -> None:
    # At 2 fps the 10 s loop is 20 frames; 12.5 s needs a full copy plus a partial one.
    dest = tmp_path / "long.mp4"
    media.render_mp4(dest, width=64, height=36, duration_ms=12_500, fps=2)

    with av.open(str(dest)) as container:
        pictures = [bytes(frame.planes[0]) for frame in container.decode(video=0)]
    assert len(pictures) == 25
    assert pictures[20:] == pictures[:5]
    assert len(set(pictures[:20])) == 20
    assert media.probe(dest, "video").duration == pytest.approx(12.5, abs=0.5)


def test_render_mp4_loop_length_is_a_parameter(tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "short-loop.mp4"
    media.render_mp4(dest, width=64, height=36, duration_ms=3_000, fps=4, loop_seconds=1)

    with av.open(str(dest)) as container:
        pictures = [bytes(frame.planes[0]) for frame in container.decode(video=0)]
    assert len(pictures) == 12
    assert pictures[4:8] == pictures[8:] == pictures[:4]
    with pytest.raises(ValueError):
        media.render_mp4(dest, width=64, height=36, duration_ms=1_000, loop_seconds=0)


def test_render_mp4_seed_changes_the_picture(tmp_path: pathlib.Path) -> None:
    def first_frame(seed: int) -> bytes:
        dest = tmp_path / f"s{seed}.mp4"
        media.render_mp4(dest, width=32, height=32, duration_ms=100, seed=seed)
        with av.open(str(dest)) as container:
            frame = next(container.decode(video=0))
            return bytes(frame.planes[1])

    assert first_frame(1) != first_frame(2)


def test_render_mp4_replaces_an_existing_file(tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "r.mp4"
    dest.write_bytes(b"old")
    media.render_mp4(dest, width=32, height=32, duration_ms=300)
    assert media.probe(dest, "video").width == 32


@pytest.mark.parametrize(
    ("width", "height"), [(641, 480), (640, 481), (0, 480), (-2, 480), (640, 0)]
)
def test_render_mp4_rejects_odd_or_non_positive_sizes(
    tmp_path: pathlib.Path, width: int, height: int
) -> None:
    with pytest.raises(ValueError):
        media.render_mp4(tmp_path / "r.mp4", width=width, height=height, duration_ms=1000)
    assert list(tmp_path.iterdir()) == []


def test_render_mp4_rejects_bad_duration_and_fps(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError):
        media.render_mp4(tmp_path / "r.mp4", width=32, height=32, duration_ms=-1)
    with pytest.raises(ValueError):
        media.render_mp4(tmp_path / "r.mp4", width=32, height=32, duration_ms=100, fps=0)


# --- samples ---------------------------------------------------------------------------------


def test_sample_video_has_h264_video_and_aac_audio(tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "long-form.mp4"
    media.make_sample_video(dest, duration_s=1.0, width=320, height=180, fps=25)

    assert media.probe(dest, "video") == media.MediaInfo("video", 1.0, 320, 180, 25.0)
    with av.open(str(dest)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        assert audio.duration is not None and audio.time_base is not None
        assert abs(float(audio.duration * audio.time_base) - 1.0) < 0.05


@pytest.mark.parametrize("ext", ["wav", "mp3", "m4a", "aac"])
def test_sample_audio_probes_back(tmp_path: pathlib.Path, ext: str) -> None:
    dest = tmp_path / f"tone.{ext}"
    media.make_sample_audio(dest, duration_s=0.5)

    info = media.probe(dest, media.file_type_for(dest.name))
    assert (info.file_type, info.width, info.height, info.fps) == ("audio", None, None, None)
    # Raw ADTS has no header with a length, so FFmpeg estimates it from the bitrate.
    assert abs(info.duration - 0.5) < 0.1


@pytest.mark.parametrize("ext", ["png", "jpg", "jpeg", "gif", "webp"])
def test_sample_image_probes_back(tmp_path: pathlib.Path, ext: str) -> None:
    dest = tmp_path / f"photo.{ext}"
    media.make_sample_image(dest, width=90, height=60)

    assert media.probe(dest, "image") == media.MediaInfo("image", 0.0, 90, 60, None)


def test_sample_writers_reject_unknown_suffixes(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError):
        media.make_sample_audio(tmp_path / "tone.ogg")
    with pytest.raises(ValueError):
        media.make_sample_image(tmp_path / "photo.bmp")


# --- probe -----------------------------------------------------------------------------------


def test_probe_animated_gif_reports_duration_and_fps(tmp_path: pathlib.Path) -> None:
    dest = tmp_path / "anim.gif"
    with av.open(str(dest), "w", format="gif") as out:
        stream = out.add_stream("gif", rate=10)
        assert isinstance(stream, av.video.stream.VideoStream)
        stream.width, stream.height, stream.pix_fmt = 16, 16, "rgb8"
        for index, colour in enumerate((b"\xff\0\0", b"\0\xff\0", b"\0\0\xff")):
            frame = av.VideoFrame(16, 16, "rgb24")
            plane = frame.planes[0]
            plane.update((colour * 16 + b"\0" * (plane.line_size - 48)) * 16)
            frame = frame.reformat(format="rgb8")
            frame.pts = index
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))

    info = media.probe(dest, "image")
    assert (info.file_type, info.width, info.height) == ("image", 16, 16)
    assert info.duration == pytest.approx(0.3, abs=0.05)


def _assert_unreadable(path: pathlib.Path, file_type: str) -> None:
    with pytest.raises(ApiError) as info:
        media.probe(path, file_type)
    assert info.value.code is Code.UNSUPPORTED_FILE
    assert info.value.message == f"{path.name} is not a readable {file_type} file"


def test_probe_rejects_garbage(tmp_path: pathlib.Path) -> None:
    garbage = tmp_path / "x.mp4"
    garbage.write_bytes(b"this is definitely not a video file\n" * 100)
    _assert_unreadable(garbage, "video")


def test_probe_rejects_an_empty_file(tmp_path: pathlib.Path) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    _assert_unreadable(empty, "image")


def test_probe_rejects_a_truncated_video(tmp_path: pathlib.Path) -> None:
    whole = tmp_path / "whole.mp4"
    media.render_mp4(whole, width=32, height=32, duration_ms=500)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[:200])
    _assert_unreadable(cut, "video")


def test_probe_rejects_the_wrong_kind_of_media(tmp_path: pathlib.Path) -> None:
    wav = tmp_path / "tone.wav"
    media.make_sample_audio(wav, duration_s=0.2)
    video = tmp_path / "clip.mp4"
    media.render_mp4(video, width=32, height=32, duration_ms=300)
    png = tmp_path / "still.png"
    media.make_sample_image(png, width=32, height=32)

    _assert_unreadable(wav, "video")
    _assert_unreadable(wav, "image")
    _assert_unreadable(video, "audio")
    _assert_unreadable(video, "image")
    _assert_unreadable(png, "video")
    _assert_unreadable(png, "audio")


def test_probe_does_not_take_cover_art_for_a_video(tmp_path: pathlib.Path) -> None:
    cover = tmp_path / "cover.png"
    media.make_sample_image(cover, width=32, height=32)
    song = tmp_path / "song.mp3"
    tone = tmp_path / "tone.mp3"
    media.make_sample_audio(tone, duration_s=0.3)
    with av.open(str(tone)) as src, av.open(str(song), "w", format="mp3") as out:
        audio = out.add_stream_from_template(src.streams.audio[0])
        picture = out.add_stream("png")
        assert isinstance(picture, av.video.stream.VideoStream)
        picture.width, picture.height, picture.pix_fmt = 32, 32, "rgb24"
        picture.disposition = Disposition.attached_pic
        for packet in src.demux(src.streams.audio[0]):
            if packet.size:
                packet.stream = audio
                out.mux(packet)
        art = av.Packet(cover.read_bytes())
        art.stream = picture
        art.pts = 0
        out.mux(art)

    assert media.probe(song, "audio").file_type == "audio"
    _assert_unreadable(song, "video")


def test_probe_lets_a_missing_file_surface_as_such(tmp_path: pathlib.Path) -> None:
    with pytest.raises(FileNotFoundError):
        media.probe(tmp_path / "gone.mp4", "video")


def test_the_same_content_is_probed_once_per_file_type(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A test suite uploads its fixture files again and again: PyAV opens each content once.
    probing = importlib.import_module("nemo_fake.media.probe")
    opened: list[str] = []
    real = probing.probe

    def counted(path: pathlib.Path, file_type: str) -> media.MediaInfo:
        opened.append(file_type)
        info: media.MediaInfo = real(path, file_type)
        return info

    monkeypatch.setattr(probing, "probe", counted)
    monkeypatch.setattr(probing, "_KNOWN", type(probing._KNOWN)())
    monkeypatch.setattr(probing, "KNOWN_PROBES", 2)
    first, second = tmp_path / "a.mp4", tmp_path / "b.mp4"
    media.make_sample_video(first, duration_s=1.0, width=64, height=36)
    media.make_sample_video(second, duration_s=2.0, width=64, height=36)
    one = media.probe_content(first, "video", "digest-a")
    assert media.probe_content(first, "video", "digest-a") == one and opened == ["video"]
    with pytest.raises(ApiError):  # the same bytes named as another type: probed as that
        media.probe_content(first, "image", "digest-a")
    assert media.probe_content(second, "video", "digest-b").duration == 2.0
    assert opened == ["video", "image", "video"]
    media.probe_content(first, "video", "digest-a")  # known still
    media.probe_content(first, "video", "digest-c")  # past KNOWN_PROBES: the oldest goes
    media.probe_content(second, "video", "digest-b")
    assert opened == ["video", "image", "video", "video", "video"]
