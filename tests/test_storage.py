"""Disk stays bounded: uploads and rendered MP4s share one cap (`max_storage_bytes`). Renders
can be made again, so they are evicted first, oldest first; an upload that cannot fit even then
is refused with 4002, saying why; nothing half-written stays behind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nemo_fake import FakeConfig, NemoFake, media
from nemo_fake.config import MB
from nemo_fake.domain import storage
from tests.support import ATTRIBUTION, draft_of, error_code


async def _user(fake: NemoFake, http: httpx.AsyncClient) -> tuple[dict[str, str], str]:
    issued = fake.backend.issue_anonymous_token("c", "127.0.0.1")
    session = fake.backend.create_session(issued.account, "p", "en")
    return {"Authorization": f"Bearer {issued.token.value}", **ATTRIBUTION}, session.session_id


async def _render(
    fake: NemoFake, http: httpx.AsyncClient, headers: dict[str, str], sid: str, n: int
) -> httpx.Response:
    body = {"id": f"r{n}", "sessionId": sid, "draft": draft_of(2000)}
    assert (await http.post("/api/render/proxy/lambda", headers=headers, json=body)).is_success
    fake.advance(120)
    return await http.get(f"/api/render/proxy/r{n}/download", headers=headers)


def _render_files(fake: NemoFake) -> list[str]:
    return sorted(path.name for path in fake.backend.disk.renders.rglob("*.mp4"))


async def test_renders_past_the_cap_evict_the_oldest_and_come_back_on_download() -> None:
    with NemoFake(FakeConfig(render_fps=2)) as fake:
        async with fake.http() as http:
            headers, sid = await _user(fake, http)
            first = await _render(fake, http, headers, sid, 1)
            # Room for about two renders of this size, not three.
            fake.configure({"max_storage_bytes": int(len(first.content) * 2.5)})
            await _render(fake, http, headers, sid, 2)
            assert _render_files(fake) == ["r1.mp4", "r2.mp4"]
            third = await _render(fake, http, headers, sid, 3)
            assert third.status_code == 200
            assert _render_files(fake) == ["r2.mp4", "r3.mp4"]  # the oldest went
            assert fake.backend.disk.used() <= fake.config.max_storage_bytes
            again = await http.get("/api/render/proxy/r1/download", headers=headers)
            assert again.status_code == 200 and again.content == first.content  # made again
            assert "r1.mp4" in _render_files(fake)
            assert fake.backend.disk.used() <= fake.config.max_storage_bytes


async def test_an_upload_that_cannot_fit_under_the_cap_is_refused_and_leaves_nothing() -> None:
    with NemoFake(FakeConfig(max_storage_bytes=MB)) as fake:
        async with fake.http() as http:
            headers, sid = await _user(fake, http)
            path = fake.backend.storage / "sample.mp4"
            media.make_sample_video(path, duration_s=1.0, width=64, height=36)
            small = path.read_bytes()
            path.unlink()
            upload = f"/api/upload-video/nemo_agent/me/{sid}"
            fitted = await http.post(upload, headers=headers, files=[("files", ("a.mp4", small))])
            assert fitted.status_code == 200, fitted.text
            big = small + b"\0" * (2 * MB)  # the media probe never sees it: refused first
            refused = await http.post(upload, headers=headers, files=[("files", ("b.mp4", big))])
            assert (refused.status_code, error_code(refused)) == (413, 4002)
            assert "storage is full" in refused.json()["message"]
            assert "max_storage_bytes" in refused.json()["message"]
            names = [p.name for p in fake.backend.upload_dir.iterdir()]
            assert len(names) == 1 and names[0].endswith(".mp4")  # only the upload that fit


def _walked(fake: NemoFake) -> int:
    return sum(path.stat().st_size for path in fake.backend.storage.rglob("*") if path.is_file())


async def test_the_room_an_upload_gets_counts_every_file_the_fake_wrote() -> None:
    # Uploads are checked against a running tally, not a walk of the folder each time: the
    # tally must count each kind of file the fake writes, or an upload could pass the cap.
    cap = 50 * MB
    with NemoFake(FakeConfig(max_storage_bytes=cap, render_fps=2)) as fake:
        async with fake.http() as http:
            headers, sid = await _user(fake, http)
            disk = fake.backend.disk
            upload = f"/api/upload-video/nemo_agent/me/{sid}"
            path = fake.backend.storage.parent / f"{fake.backend.storage.name}-sample.mp4"
            media.make_sample_video(path, duration_s=1.0, width=64, height=36)
            video = [("files", ("a.mp4", path.read_bytes()))]
            sent = await http.post(upload, headers=headers, files=video)
            path.unlink()
            assert disk.room_for_upload(0) == cap - _walked(fake)  # a multipart upload
            by_url = await http.post(
                upload, headers=headers, json={"urls": ["https://x.example/v.mp4"]}
            )
            stand_in = by_url.json()["data"]["files"][0]["cdn_url"]
            assert (await http.get(stand_in)).status_code == 200
            assert disk.room_for_upload(0) == cap - _walked(fake)  # a URL upload's stand-in
            own = sent.json()["data"]["files"][0]["cdn_url"]
            assert (await http.post(upload, headers=headers, json={"urls": [own]})).is_success
            assert disk.room_for_upload(0) == cap - _walked(fake)  # a copy of an own file
            assert (await _render(fake, http, headers, sid, 1)).status_code == 200
            assert disk.room_for_upload(0) == cap - _walked(fake)  # a render
            fake.reset()
            assert disk.room_for_upload(0) == cap - _walked(fake)


async def test_uploads_that_clearly_fit_do_not_walk_the_storage_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    walks: list[Path] = []
    real = storage._files

    def counted(root: Path) -> Iterator[tuple[Path, int, float]]:
        walks.append(root)
        return real(root)

    monkeypatch.setattr(storage, "_files", counted)
    with NemoFake() as fake:
        async with fake.http() as http:
            headers, sid = await _user(fake, http)
            upload = f"/api/upload-video/nemo_agent/me/{sid}"
            for n in range(6):
                not_media = [("files", (f"{n}.mp4", b"x" * 1000))]
                sent = await http.post(upload, headers=headers, files=not_media)
                assert error_code(sent) == 4001  # not media: refused after the room check
                if n == 0:
                    walks.clear()  # the first upload learns what the folder holds
    assert walks == []
