"""Making media: the finished render, and the sample files tests and the demo upload.

A finished render is a real, playable H.264 MP4 so a client can download and play it. The
frames are plain colour fields (a background whose hue drifts and a sweeping band): enough to
be visibly a moving video while staying cheap to encode at 1080x1920.
"""

from __future__ import annotations

import colorsys
import contextlib
import io
import math
import os
import pathlib
import random
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import av
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.stream import VideoStream

# Rendered pictures repeat with this period (seconds) unless told otherwise; see render_mp4.
LOOP_SECONDS = 10

_AUDIO_RATE = 48_000
# 480 Hz at 48 kHz repeats every 100 samples, so one precomputed cycle tiles exactly.
_TONE_HZ = 480
_TONE_AMPLITUDE = 0.1
_AUDIO_CHUNK = 1024


@contextlib.contextmanager
def _atomic_path(dest: pathlib.Path) -> Iterator[pathlib.Path]:
    """Yield a temp path beside dest, renamed onto dest only if the block succeeds.

    Same directory so the rename is atomic; dot-prefixed so a directory listing that serves
    files never offers the half-written one.
    """
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    os.close(fd)
    tmp = pathlib.Path(name)
    try:
        yield tmp
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _open_mp4(path: pathlib.Path) -> OutputContainer:
    # faststart moves the index to the front so a browser can start playing a download early.
    return av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})


def _add_h264(container: OutputContainer, width: int, height: int, fps: int) -> VideoStream:
    stream = container.add_stream("libx264", rate=fps, options={"preset": "ultrafast"})
    stream.width = width
    stream.height = height
    stream.pix_fmt = "yuv420p"
    # x264's default keyframe interval is 250 frames (25 s at 10 fps); every 2 s keeps
    # scrubbing in a player responsive for a negligible size cost on flat frames.
    stream.codec_context.gop_size = max(1, 2 * fps)
    # ultrafast already has none; pinned because render_mp4's packet copying relies on it.
    stream.codec_context.max_b_frames = 0
    return stream


def _check_even(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value % 2:
        # yuv420p halves chroma in both directions, so x264 refuses odd sizes.
        raise ValueError(f"{name} must be an even positive int, got {value!r}")


def _yuv(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    # BT.601 limited range, the default an untagged H.264 stream is decoded with.
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    w = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    return round(y), round(u), round(w)


class _ColourFields:
    """Frame generator: a background whose hue turns once round the wheel and a sweeping band.

    The picture repeats exactly every `period` frames (loop_seconds) so a long render can
    encode one loop and copy its packets (see render_mp4).
    """

    def __init__(self, width: int, height: int, fps: int, seed: int, loop_seconds: int) -> None:
        #: What makes two pictures the same (see _LoopCache).
        self.key = (width, height, fps, seed, loop_seconds)
        rng = random.Random(seed)
        self.width, self.height, self.fps = width, height, fps
        self.period = loop_seconds * fps
        self.base_hue = rng.random()
        # Sweep periods that divide the loop, so the band is where it started when it wraps.
        self.sweeps = rng.choice((1, 2, 4, 5))
        # Even row counts keep the band aligned with the half-height chroma planes.
        self.band_h = max(2, height // 6 // 2 * 2)

    def frame(self, index: int) -> av.VideoFrame:
        phase = (index % self.period) / self.period
        bg = _yuv(self.base_hue + phase, 0.55, 0.85)
        band = _yuv(self.base_hue + phase + 0.5, 0.8, 0.95)
        travel = self.height - self.band_h
        band_top = int(travel * ((phase * self.sweeps) % 1.0)) // 2 * 2
        band_bot = band_top + self.band_h

        frame = av.VideoFrame(self.width, self.height, "yuv420p")
        for i, plane in enumerate(frame.planes):
            div = 1 if i == 0 else 2
            # Rows are contiguous in memory, so horizontal bands are three runs of one byte,
            # padding included; no per-pixel Python work at 1080x1920.
            line = plane.line_size
            b, f = bytes([bg[i]]), bytes([band[i]])
            plane.update(
                b"".join(
                    (
                        b * (line * (band_top // div)),
                        f * (line * ((band_bot - band_top) // div)),
                        b * (line * ((self.height - band_bot) // div)),
                    )
                )
            )
        return frame


def _frame_count(duration_ms: int, fps: int) -> int:
    return max(1, round(duration_ms / 1000 * fps))


def render_mp4(
    dest: pathlib.Path,
    *,
    width: int,
    height: int,
    duration_ms: int,
    fps: int = 10,
    seed: int = 0,
    loop_seconds: int = LOOP_SECONDS,
) -> None:
    """Write a playable H.264 (yuv420p) MP4 of width x height lasting duration_ms.

    Only the first loop_seconds are encoded; later frames reuse those packets with new
    timestamps. x264 at 1080x1920 manages ~60-80 frames/s on a 2-core machine, which made a
    5-minute render take most of a minute; looping makes any length take a second or two. The
    copy is valid H.264 because the loop starts with an IDR frame (nothing after it refers
    to anything before it) and there are no B-frames, so decode order is display order.

    The encoded loop is kept for the life of the process (see `_LoopCache`), so only the first
    render of a picture (size, fps, seed, loop) encodes; later ones only write packets.
    """
    _check_even("width", width)
    _check_even("height", height)
    if duration_ms < 0:
        raise ValueError(f"duration_ms must be >= 0, got {duration_ms!r}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    if loop_seconds <= 0:
        raise ValueError(f"loop_seconds must be positive, got {loop_seconds!r}")
    frames = _frame_count(duration_ms, fps)
    loop = _LOOPS.loop(_ColourFields(width, height, fps, seed, loop_seconds), frames)
    # Either the render fits in the loop's frames, or the loop is a whole period and repeats.
    packets = loop.packets
    tick = Fraction(1, fps)
    with (
        _atomic_path(dest) as tmp,
        _open_mp4(tmp) as container,
        av.open(io.BytesIO(loop.mp4), "r") as source,
    ):
        stream = container.add_stream_from_template(source.streams.video[0])
        for index in range(frames):
            data, keyframe = packets[index % len(packets)]
            copy = av.Packet(data)
            copy.stream = stream
            copy.time_base = tick
            copy.pts = copy.dts = index
            copy.duration = 1
            copy.is_keyframe = keyframe
            container.mux(copy)


@dataclass(frozen=True)
class _EncodedLoop:
    """The first frames of a picture loop, encoded: an MP4 in memory (whose stream is the
    template for renders) and its packets, one a frame, the first a keyframe."""

    mp4: bytes
    packets: tuple[tuple[bytes, bool], ...]


class _LoopCache:
    """Encoded loops by picture, for the life of the process. Thread-safe: renders run in
    worker threads. A picture's first render encodes only the frames it shows (a 2 s render
    at 1080x1920 costs 20 frames, not the loop's 100); the first render that needs more
    encodes the whole loop, and no render of that picture encodes again. Any prefix of a loop
    is itself a valid stream, so shorter renders use the front of it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loops: dict[tuple[int, int, int, int, int], _EncodedLoop] = {}
        self.encodes = 0

    def loop(self, fields: _ColourFields, frames: int) -> _EncodedLoop:
        """A loop of `fields` holding at least `frames` frames, or the whole loop."""
        with self._lock:
            loop = self._loops.get(fields.key)
            if loop is None or len(loop.packets) < min(frames, fields.period):
                encoded = frames if loop is None else fields.period
                loop = self._loops[fields.key] = _encode(fields, min(encoded, fields.period))
                self.encodes += 1
            return loop


_LOOPS = _LoopCache()


def loop_encodes() -> int:
    """How many times this process has encoded a picture loop (per size, fps, seed and loop
    length: once, or twice when a render longer than the first needs the rest of the loop)."""
    return _LOOPS.encodes


def _encode(fields: _ColourFields, frames: int) -> _EncodedLoop:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = _add_h264(container, fields.width, fields.height, fields.fps)
        for index in range(frames + 1):
            frame = _timed(fields.frame(index), index, fields.fps) if index < frames else None
            for packet in stream.encode(frame):
                container.mux(packet)
    mp4 = buffer.getvalue()
    # Read back as the file holds them (length-prefixed NAL units, as its stream's parameters
    # describe), not as the encoder gave them.
    with av.open(io.BytesIO(mp4), "r") as source:
        packets = tuple(
            (bytes(packet), packet.is_keyframe)
            for packet in source.demux(source.streams.video[0])
            if packet.size
        )
    if len(packets) != frames or not packets[0][1]:
        raise RuntimeError("x264 did not give one packet per frame starting with a keyframe")
    return _EncodedLoop(mp4, packets)


def _timed(frame: av.VideoFrame, index: int, fps: int) -> av.VideoFrame:
    frame.pts = index
    frame.time_base = Fraction(1, fps)
    return frame


class _Tone:
    """A quiet sine tone cut into s16 mono frames; the encoder resamples to its own format."""

    def __init__(self) -> None:
        period = _AUDIO_RATE // _TONE_HZ
        peak = _TONE_AMPLITUDE * 32767
        cycle = b"".join(
            round(peak * math.sin(2 * math.pi * n / period)).to_bytes(2, "little", signed=True)
            for n in range(period)
        )
        self._period = period
        # Enough whole cycles that any chunk can start at any phase and still fit.
        self._tiled = cycle * (_AUDIO_CHUNK // period + 2)

    def frames(self, start: int, stop: int) -> Iterator[av.AudioFrame]:
        """Frames covering sample positions [start, stop)."""
        pos = start
        while pos < stop:
            count = min(_AUDIO_CHUNK, stop - pos)
            offset = (pos % self._period) * 2
            frame = av.AudioFrame(format="s16", layout="mono", samples=count)
            # The plane may be padded past the samples, so fill a prefix rather than update().
            memoryview(frame.planes[0])[: count * 2] = self._tiled[offset : offset + count * 2]
            frame.sample_rate = _AUDIO_RATE
            frame.pts = pos
            frame.time_base = Fraction(1, _AUDIO_RATE)
            yield frame
            pos += count


def _add_audio(container: OutputContainer, codec: str) -> AudioStream:
    stream = container.add_stream(codec, rate=_AUDIO_RATE)
    if not isinstance(stream, AudioStream):
        raise TypeError(f"{codec} is not an audio codec")
    stream.layout = "mono"
    return stream


def make_sample_video(
    dest: pathlib.Path,
    *,
    duration_s: float = 10.0,
    width: int = 1280,
    height: int = 720,
    fps: int = 25,
) -> None:
    """A sample source video: H.264 MP4 with an AAC track of a quiet sine tone."""
    _check_even("width", width)
    _check_even("height", height)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps!r}")
    frames = _frame_count(round(duration_s * 1000), fps)
    total_samples = round(frames / fps * _AUDIO_RATE)
    fields = _ColourFields(width, height, fps, seed=1, loop_seconds=LOOP_SECONDS)
    tone = _Tone()
    with _atomic_path(dest) as tmp, _open_mp4(tmp) as container:
        video = _add_h264(container, width, height, fps)
        audio = _add_audio(container, "aac")
        written = 0
        for index in range(frames):
            container.mux(video.encode(_timed(fields.frame(index), index, fps)))
            # Keep audio level with video so the muxer never has to buffer a long run of one.
            upto = min(total_samples, (index + 1) * _AUDIO_RATE // fps)
            for aframe in tone.frames(written, upto):
                container.mux(audio.encode(aframe))
            written = max(written, upto)
        for aframe in tone.frames(written, total_samples):
            container.mux(audio.encode(aframe))
        container.mux(video.encode(None))
        container.mux(audio.encode(None))


# suffix -> (container format, audio codec)
_AUDIO_WRITERS: dict[str, tuple[str, str]] = {
    "wav": ("wav", "pcm_s16le"),
    "mp3": ("mp3", "libmp3lame"),
    "m4a": ("ipod", "aac"),
    "aac": ("adts", "aac"),
}


def make_sample_audio(dest: pathlib.Path, *, duration_s: float = 5.0) -> None:
    """A small valid audio file (sine tone); container and codec follow dest's suffix."""
    ext = dest.suffix[1:].lower()
    if ext not in _AUDIO_WRITERS:
        raise ValueError(f"no sample audio writer for {dest.name!r}; use one of {_AUDIO_WRITERS}")
    fmt, codec = _AUDIO_WRITERS[ext]
    total = max(1, round(duration_s * _AUDIO_RATE))
    with _atomic_path(dest) as tmp, av.open(str(tmp), "w", format=fmt) as container:
        stream = _add_audio(container, codec)
        for frame in _Tone().frames(0, total):
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


# suffix -> (container format, video codec, pixel format, muxer options)
_IMAGE_WRITERS: dict[str, tuple[str, str, str, dict[str, str]]] = {
    # update=1: image2 otherwise expects a numbered pattern like img%03d.png in the name.
    "png": ("image2", "png", "rgb24", {"update": "1"}),
    "jpg": ("image2", "mjpeg", "yuvj420p", {"update": "1"}),
    "jpeg": ("image2", "mjpeg", "yuvj420p", {"update": "1"}),
    "gif": ("gif", "gif", "rgb8", {}),
    "webp": ("webp", "libwebp", "yuv420p", {}),
}


def make_sample_image(dest: pathlib.Path, *, width: int = 640, height: int = 480) -> None:
    """A small valid still image (four coloured quadrants); format follows dest's suffix."""
    ext = dest.suffix[1:].lower()
    if ext not in _IMAGE_WRITERS:
        raise ValueError(f"no sample image writer for {dest.name!r}; use one of {_IMAGE_WRITERS}")
    if width <= 0 or height <= 0:
        raise ValueError(f"size must be positive, got {width}x{height}")
    fmt, codec, pix_fmt, options = _IMAGE_WRITERS[ext]
    rgb = _quadrants(width, height)
    with _atomic_path(dest) as tmp, av.open(str(tmp), "w", format=fmt, options=options) as out:
        stream = out.add_stream(codec, rate=1)
        if not isinstance(stream, VideoStream):
            raise TypeError(f"{codec} is not a video codec")
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        frame = rgb.reformat(format=pix_fmt) if pix_fmt != "rgb24" else rgb
        frame.pts = 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def _quadrants(width: int, height: int) -> av.VideoFrame:
    frame = av.VideoFrame(width, height, "rgb24")
    plane = frame.planes[0]
    left, top = width // 2, height // 2
    pad = plane.line_size - width * 3

    def row(a: bytes, b: bytes) -> bytes:
        return a * left + b * (width - left) + b"\0" * pad

    upper = row(b"\xe0\x40\x40", b"\x40\xc0\x60")
    lower = row(b"\x40\x60\xe0", b"\xf0\xd0\x40")
    plane.update(upper * top + lower * (height - top))
    return frame
