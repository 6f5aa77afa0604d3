"""Disk stays bounded: uploads and rendered MP4s share one cap (`max_storage_bytes`). Renders
can be made again, so they are evicted first, oldest first; an upload that cannot fit even then
is refused with 4002, saying why; nothing half-written stays behind."""

from __future__ import annotations

import httpx

from nemo_fake import FakeConfig, NemoFake, media
from nemo_fake.config import MB
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
