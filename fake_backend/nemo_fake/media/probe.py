"""Reading media: an upload's file type from its name, and its duration, size and fps.

Uploads are probed with PyAV so the fake rejects non-media the way the vendor does. Nothing
here knows about HTTP; the web layer maps `ApiError` to responses.
"""

from __future__ import annotations

import pathlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

import av
import av.error
from av.audio.stream import AudioStream
from av.container import InputContainer
from av.stream import Disposition
from av.video.stream import VideoStream

from nemo_fake.errors import ApiError, Code

FILE_TYPES: dict[str, str] = {
    "mp4": "video",
    "mov": "video",
    "avi": "video",
    "webm": "video",
    "mkv": "video",
    "jpg": "image",
    "jpeg": "image",
    "png": "image",
    "gif": "image",
    "webp": "image",
    "mp3": "audio",
    "wav": "audio",
    "m4a": "audio",
    "aac": "audio",
}

# The vendor's documented list, for messages; "jpeg" is accepted but not advertised.
_ADVERTISED = tuple(ext for ext in FILE_TYPES if ext != "jpeg")


@dataclass(frozen=True)
class MediaInfo:
    file_type: str
    duration: float
    width: int | None
    height: int | None
    fps: float | None


def file_type_for(filename: str) -> str:
    """'video' | 'image' | 'audio' from the extension; ApiError(UNSUPPORTED_FILE) otherwise."""
    suffix = pathlib.PurePath(filename).suffix
    ext = suffix[1:].lower()
    kind = FILE_TYPES.get(ext)
    if kind is None:
        shown = f"'.{ext}'" if ext else "no extension"
        raise ApiError(
            Code.UNSUPPORTED_FILE,
            f"Unsupported file type ({shown}). Supported: {', '.join(_ADVERTISED)}",
        )
    return kind


def probe(path: pathlib.Path, file_type: str) -> MediaInfo:
    """Read duration, size and fps from headers and at most a couple of packets."""
    if file_type not in ("video", "image", "audio"):
        raise ValueError(f"unknown file type {file_type!r}")
    unreadable = ApiError(Code.UNSUPPORTED_FILE, f"{path.name} is not a readable {file_type} file")
    try:
        # metadata_errors="replace": a tag in a legacy encoding must not make a good file fail.
        with av.open(str(path), "r", metadata_errors="replace") as container:
            if file_type == "audio":
                return _probe_audio(container, unreadable)
            return _probe_visual(container, file_type, unreadable)
    except av.error.FileNotFoundError:
        # A missing file is the caller's bug, not the uploader's: don't disguise it as 4001.
        raise
    except (av.error.FFmpegError, UnicodeError) as exc:
        raise unreadable from exc


# Successful probes by (content digest, file type), newest last. A test suite uploads the same
# fixture files over and over; PyAV opening one costs more than the rest of its upload.
_KNOWN: OrderedDict[tuple[str, str], MediaInfo] = OrderedDict()
_KNOWN_LOCK = threading.Lock()
KNOWN_PROBES = 256


def probe_content(path: pathlib.Path, file_type: str, sha256: str) -> MediaInfo:
    """`probe`, once per content and file type per process: the file at `path` has the
    SHA-256 `sha256` (the upload computed it as the bytes arrived)."""
    key = (sha256, file_type)
    with _KNOWN_LOCK:
        known = _KNOWN.get(key)
        if known is not None:
            _KNOWN.move_to_end(key)
            return known
    info = probe(path, file_type)
    with _KNOWN_LOCK:
        _KNOWN[key] = info
        while len(_KNOWN) > KNOWN_PROBES:
            _KNOWN.popitem(last=False)
    return info


def _probe_audio(container: InputContainer, unreadable: ApiError) -> MediaInfo:
    if not container.streams.audio:
        raise unreadable
    stream = container.streams.audio[0]
    if stream.codec_context.sample_rate <= 0:
        raise unreadable
    return MediaInfo("audio", _duration(container, stream), None, None, None)


def _probe_visual(container: InputContainer, file_type: str, unreadable: ApiError) -> MediaInfo:
    # Cover art in an mp3/m4a shows up as a one-picture video stream; it is not a video.
    streams = [s for s in container.streams.video if not s.disposition & Disposition.attached_pic]
    if not streams:
        raise unreadable
    # Image demuxers accept a single picture as a "video" stream and a video demuxer reads a
    # mislabelled clip as an "image"; either way the upload is not what its name says.
    if _is_image_demuxer(container.format.name) != (file_type == "image"):
        raise unreadable
    stream = streams[0]
    width, height = stream.codec_context.width, stream.codec_context.height
    if width <= 0 or height <= 0:
        raise unreadable
    if file_type == "image" and not _is_animated(container, stream):
        return MediaInfo("image", 0.0, width, height, None)
    return MediaInfo(file_type, _duration(container, stream), width, height, _fps(stream))


def _is_image_demuxer(name: str) -> bool:
    return name in ("gif", "apng", "image2", "webp") or name.endswith("_pipe")


def _is_animated(container: InputContainer, stream: VideoStream) -> bool:
    # Image demuxers give a still one packet and an animated gif one packet per frame, so two
    # packets settle it without decoding. (Animated webp is a single packet to FFmpeg.)
    packets = 0
    for packet in container.demux(stream):
        if packet.size:
            packets += 1
            if packets >= 2:
                return True
    return False


def _duration(container: InputContainer, stream: VideoStream | AudioStream) -> float:
    # The container's duration is what a player shows; a stream's is the fallback for
    # containers that only record it per stream. Unknown stays 0 rather than reading to the end.
    if container.duration is not None and container.duration > 0:
        return round(container.duration / av.time_base, 3)
    if stream.duration is not None and stream.duration > 0 and stream.time_base is not None:
        return round(float(stream.duration * stream.time_base), 3)
    return 0.0


def _fps(stream: VideoStream) -> float | None:
    rate = stream.average_rate or stream.guessed_rate
    if not rate or rate <= 0:
        return None
    return round(float(rate), 3)
