"""Everything the fake does with real media files: `probe` reads them (file types, duration,
size, fps) and `make` writes them (rendered MP4s, sample video, audio and images), with PyAV.
"""

from nemo_fake.media.make import (
    LOOP_SECONDS,
    make_sample_audio,
    make_sample_image,
    make_sample_video,
    render_mp4,
)
from nemo_fake.media.probe import FILE_TYPES, MediaInfo, file_type_for, probe, probe_content

__all__ = [
    "FILE_TYPES",
    "LOOP_SECONDS",
    "MediaInfo",
    "file_type_for",
    "make_sample_audio",
    "make_sample_image",
    "make_sample_video",
    "probe",
    "probe_content",
    "render_mp4",
]
