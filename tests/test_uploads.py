"""Contract: uploads by multipart and by URL, probing, cdn_url, 4001 and 4002."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nemo_fake import FakeConfig, NemoBackend, media
from nemo_fake.config import MB
from tests.support import Api, error_code

SUPPORTED = [
    "mp4",
    "mov",
    "avi",
    "webm",
    "mkv",
    "jpg",
    "png",
    "gif",
    "webp",
    "mp3",
    "wav",
    "m4a",
    "aac",
]


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("samples")
    media.make_sample_video(folder / "talk.mp4", duration_s=2.0, width=640, height=360, fps=25)
    media.make_sample_audio(folder / "music.wav", duration_s=1.5)
    media.make_sample_image(folder / "cover.png", width=320, height=240)
    return {p.name: p.read_bytes() for p in folder.iterdir()}


async def test_multipart_upload_probes_real_media_and_serves_it_back(
    api: Api, samples: dict[str, bytes]
) -> None:
    user = await api.new_user()
    response = await api.upload_files(user, ("talk.mp4", samples["talk.mp4"]))
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert data["session_state_applied"] is True
    (info,) = data["files"]
    assert info["filename"] == "talk.mp4"
    assert info["file_type"] == "video"
    assert (info["width"], info["height"], info["fps"]) == (640, 360, 25.0)
    assert abs(info["duration"] - 2.0) < 0.1
    assert info["hash"] == hashlib.sha256(samples["talk.mp4"]).hexdigest()
    assert info["size"] == len(samples["talk.mp4"])
    assert info["cdn_url"].startswith(str(api.http.base_url).rstrip("/") + "/cdn/")
    served = await api.http.get(info["cdn_url"])
    assert served.status_code == 200
    assert served.content == samples["talk.mp4"]


async def test_several_files_in_one_request_all_land_in_video_infos_and_the_draft(
    api: Api, samples: dict[str, bytes]
) -> None:
    user = await api.new_user()
    response = await api.upload_files(
        user,
        ("talk.mp4", samples["talk.mp4"]),
        ("music.wav", samples["music.wav"]),
        ("cover.png", samples["cover.png"]),
    )
    assert response.status_code == 200, response.text
    types = [f["file_type"] for f in response.json()["data"]["files"]]
    assert types == ["video", "audio", "image"]
    state = (await api.state(user))["state"]
    assert [v["filename"] for v in state["video_infos"]] == ["talk.mp4", "music.wav", "cover.png"]
    tracks = {track["tt"]: track for track in state["draft"]["t"]}
    assert [s["n"] for s in tracks[0]["sg"]] == ["talk.mp4", "cover.png"]
    assert [s["n"] for s in tracks[1]["sg"]] == ["music.wav"]
    video, still = tracks[0]["sg"]
    assert still["s"] == video["s"] + video["d"]
    assert state["draft"]["d"] == max(s["s"] + s["d"] for t in tracks.values() for s in t["sg"])


async def test_url_upload_is_recorded_with_plausible_metadata_and_not_fetched(
    api: Api, tmp_path: Path
) -> None:
    user = await api.new_user()
    url = "https://videos.example.com/shows/podcast%20ep1.mp4"
    response = await api.upload_url(user, url)
    assert response.status_code == 200, response.text
    (info,) = response.json()["data"]["files"]
    assert info["filename"] == "podcast ep1.mp4"
    assert info["source_url"] == url
    assert info["file_type"] == "video"
    assert info["width"] and info["height"] and info["duration"] > 0
    # The cdn_url points at the fake, which serves a stand-in matching the metadata.
    served = await api.http.get(info["cdn_url"])
    assert served.status_code == 200
    path = tmp_path / "standin.mp4"
    path.write_bytes(served.content)
    probed = media.probe(path, "video")
    assert (probed.width, probed.height) == (info["width"], info["height"])
    assert abs(probed.duration - info["duration"]) < 0.2


async def test_url_upload_of_the_fakes_own_cdn_url_reuses_the_stored_file(
    api: Api, samples: dict[str, bytes]
) -> None:
    user = await api.new_user()
    first = (await api.upload_files(user, ("talk.mp4", samples["talk.mp4"]))).json()
    original = first["data"]["files"][0]
    response = await api.upload_url(user, original["cdn_url"])
    (again,) = response.json()["data"]["files"]
    assert again["hash"] == original["hash"]
    assert (again["width"], again["duration"]) == (original["width"], original["duration"])
    assert (await api.http.get(again["cdn_url"])).content == samples["talk.mp4"]


@pytest.mark.parametrize("extension", SUPPORTED)
async def test_every_documented_file_type_is_accepted_by_url(api: Api, extension: str) -> None:
    user = await api.new_user()
    response = await api.upload_url(user, f"https://cdn.example.com/file.{extension.upper()}")
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("name", ["notes.txt", "movie.flv", "noextension"])
async def test_other_file_types_are_4001_by_url(api: Api, name: str) -> None:
    user = await api.new_user()
    response = await api.upload_url(user, f"https://cdn.example.com/{name}")
    assert response.status_code == 415
    assert error_code(response) == 4001
    assert "mp4" in response.json()["message"]


async def test_unsupported_file_in_a_multipart_upload_is_4001_and_nothing_is_kept(
    api: Api, samples: dict[str, bytes], backend: NemoBackend
) -> None:
    user = await api.new_user()
    response = await api.upload_files(
        user, ("talk.mp4", samples["talk.mp4"]), ("virus.exe", b"MZ\x90\x00")
    )
    assert error_code(response) == 4001
    assert (await api.state(user))["state"]["video_infos"] == []
    assert list(backend.upload_dir.iterdir()) == []


async def test_a_file_that_is_not_real_media_is_4001(api: Api) -> None:
    user = await api.new_user()
    response = await api.upload_files(user, ("fake.mp4", b"this is not a video" * 100))
    assert error_code(response) == 4001
    assert "not a readable" in response.json()["message"]


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(max_upload_bytes=1 * MB)])
async def test_upload_over_the_limit_by_content_length_is_4002(
    api: Api, backend: NemoBackend
) -> None:
    user = await api.new_user()
    response = await api.upload_files(user, ("big.mp4", b"\0" * (MB + 1)))
    assert response.status_code == 413
    assert error_code(response) == 4002
    assert "declared" in response.json()["message"]
    assert list(backend.upload_dir.iterdir()) == []


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(max_upload_bytes=1 * MB)])
async def test_streamed_upload_without_content_length_is_counted_and_cut_at_the_limit(
    api: Api, backend: NemoBackend
) -> None:
    user = await api.new_user()
    boundary = "nemo-boundary"
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="big.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
        ).encode()
        for _ in range(64):  # up to 4 MB, far past the 1 MB limit
            sent += 64 * 1024
            yield b"\0" * (64 * 1024)
        yield f"\r\n--{boundary}--\r\n".encode()

    response = await api.http.post(
        f"/api/upload-video/nemo_agent/me/{user.session_id}",
        headers={**user.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"},
        content=body(),
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert error_code(response) == 4002
    assert list(backend.upload_dir.iterdir()) == []


async def test_a_declared_600_mb_upload_is_refused_before_the_body_is_read(
    api: Api, backend: NemoBackend
) -> None:
    if api.target != "inprocess":
        pytest.skip("a false Content-Length can only be declared in-process")
    user = await api.new_user()
    pulled = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal pulled
        for _ in range(10):
            pulled += 1
            yield b"\0" * 1024

    response = await api.http.post(
        f"/api/upload-video/nemo_agent/me/{user.session_id}",
        headers={
            **user.headers,
            "Content-Type": "multipart/form-data; boundary=x",
            "Content-Length": str(600 * MB),
        },
        content=body(),
    )
    assert error_code(response) == 4002
    assert "500 MB" in response.json()["message"]
    assert pulled < 10


async def test_upload_to_an_unknown_session_is_1002(api: Api, samples: dict[str, bytes]) -> None:
    user = await api.new_user()
    user.session_id = "1111111111111111111"
    response = await api.upload_files(user, ("talk.mp4", samples["talk.mp4"]))
    assert error_code(response) == 1002


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"source_type": "url"}, "urls"),
        ({"urls": [], "source_type": "url"}, "urls"),
        ({"urls": [5], "source_type": "url"}, "urls"),
        ({"urls": ["https://x/a.mp4"], "source_type": "file"}, "source_type"),
    ],
)
async def test_bad_url_upload_bodies_are_400_naming_the_field(
    api: Api, body: dict[str, object], field: str
) -> None:
    user = await api.new_user()
    response = await api.http.post(
        f"/api/upload-video/nemo_agent/me/{user.session_id}", headers=user.headers, json=body
    )
    assert response.status_code == 400
    assert response.json()["field"] == field


async def test_non_http_urls_are_400(api: Api) -> None:
    user = await api.new_user()
    response = await api.upload_url(user, "file:///etc/passwd.mp4")
    assert error_code(response) == 400


async def test_upload_needs_multipart_or_json(api: Api) -> None:
    user = await api.new_user()
    response = await api.http.post(
        f"/api/upload-video/nemo_agent/me/{user.session_id}",
        headers={**user.headers, "Content-Type": "text/plain"},
        content=b"hello",
    )
    assert error_code(response) == 400
    assert "multipart/form-data" in response.json()["message"]


async def test_multipart_without_a_files_field_is_400(api: Api) -> None:
    user = await api.new_user()
    response = await api.http.post(
        f"/api/upload-video/nemo_agent/me/{user.session_id}",
        headers=user.headers,
        files=[("video", ("talk.mp4", b"x"))],
    )
    assert error_code(response) == 400
    assert "files" in response.json()["message"]
