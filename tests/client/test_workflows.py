"""Contract: the reference client's whole workflows against the fake, in-process and live."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nemo_client import Assistant, ClientConfig, ManualTimer, NemoApi
from nemo_fake import FakeConfig, NemoBackend, VirtualClock, media
from nemo_fake.config import MB, StreamFaults
from nemo_fake.testing import FakeClockTimer, NemoClient, NemoFake
from nemo_fake.testing.reference_client import reference_client
from tests.support import Api, assert_valid_draft

EXTRACT = "extract the top 5 viral short clips from this long video"


Harness = NemoClient[NemoFake]


def new_messages(harness: Harness) -> list[str]:
    """What the client said since the last call, taken."""
    taken, harness.said[:] = list(harness.said), []
    return taken


@pytest.fixture
def nemo_fake_config() -> FakeConfig:
    # Two frames a second is enough to check a rendered MP4; the product default is 10.
    return FakeConfig(render_fps=2)


@pytest.fixture(scope="module")
def sample_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "podcast.mp4"
    media.make_sample_video(path, duration_s=3.0, width=640, height=360, fps=10)
    return path


@pytest.fixture
def harness(api: Api, nemo_fake: NemoFake, tmp_path: Path) -> Iterator[Harness]:
    """The reference client on the fake under test (in process or live, as `api` is)."""
    client = reference_client(nemo_fake, api.http, tmp_path, client_id="workflow-client")
    yield client
    token = client.assistant.project.token
    assert token and not any(token in line for line in client.said), "a token reached the user"


def _assert_playable(path: Path, seconds: float | None = None) -> None:
    info = media.probe(path, "video")
    assert (info.width, info.height) == (1080, 1920)
    if seconds is not None:
        assert info.duration == pytest.approx(seconds, abs=0.15)


async def test_quick_edit_upload_extract_status_export(
    harness: Harness, sample_video: Path
) -> None:
    assistant = harness.assistant
    assert await assistant.handle("upload", files=[str(sample_video)])
    assert any(line.startswith("✅ Uploaded podcast.mp4 (3s, 640x360)") for line in harness.said)
    assert await assistant.handle(EXTRACT)
    assert await assistant.handle("status")
    summary = harness.said[-1]
    assert summary.startswith("Timeline (1 track): 1. Video: ")
    assert await assistant.handle("export 1080p MP4")
    said = new_messages(harness)
    assert "⏳ Rendering ~30s" in said
    ready = [line for line in said if line.startswith("✅ Video ready! ")]
    assert ready, said
    path = Path(ready[0].removeprefix("✅ Video ready! "))
    state = await assistant.state()
    _assert_playable(path, state.draft["d"] / 1000)
    link = said[-1]
    assert link.startswith(
        "Open the project in NemoVideo: https://nemovideo.com/workspace/claim?ct=clm_"
    )
    # "export" is handled by the client: it never reaches the agent.
    assert all("click the Export button" not in line for line in said)


async def test_the_agents_gui_phrasing_is_translated_not_forwarded(
    harness: Harness, sample_video: Path
) -> None:
    await harness.assistant.upload([str(sample_video)])
    new_messages(harness)
    result = await harness.assistant.chat(EXTRACT)
    said = new_messages(harness)
    if not result.silent:
        assert not any("click" in line.lower() or "preview in timeline" in line for line in said)
        # "preview in timeline" became a summary, "click Export" an offer to export.
        assert any(line.startswith("Timeline (") for line in said)
        assert 'Say "export" when you want the MP4.' in said


async def test_batch_style_two_uploads_two_renders(harness: Harness, sample_video: Path) -> None:
    assistant = harness.assistant
    await assistant.upload([str(sample_video)])
    await assistant.chat(EXTRACT)
    first = await assistant.export()
    await assistant.upload(["https://media.example.com/webinar.mp4"])
    await assistant.chat("extract the top 3 viral clips")
    second = await assistant.export()
    assert first and second and first != second
    _assert_playable(first)
    _assert_playable(second)
    state = await assistant.state()
    assert len(state.video_infos) == 2
    assert len(state.generated_media) == 8


async def test_iterative_edits_then_re_export(harness: Harness, sample_video: Path) -> None:
    assistant = harness.assistant
    await assistant.upload([str(sample_video)])
    await assistant.chat(EXTRACT)
    assert await assistant.export()
    await assistant.chat("add lo-fi background music at 30%")
    await assistant.chat('add a title "Urban Dreams"')
    new_messages(harness)
    await assistant.status()
    summary = harness.said[-1]
    assert summary.startswith("Timeline (3 tracks): 1. Video: ")
    assert "2. BGM: Lo-Fi (0-" in summary and "30%" in summary
    assert '3. Title: "Urban Dreams" (0-' in summary
    path = await assistant.export()
    assert path
    _assert_playable(path)
    assert_valid_draft((await assistant.state()).draft)


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(silent_edit_ratio=1.0)])
async def test_a_silent_edit_is_reported_from_the_state(
    harness: Harness, sample_video: Path
) -> None:
    await harness.assistant.upload([str(sample_video)])
    await harness.assistant.chat(EXTRACT)
    new_messages(harness)
    result = await harness.assistant.chat('add a title "Paradise Found"')
    assert result.silent and result.texts == []
    assert any(line.startswith('✅ Title added: "Paradise Found"') for line in harness.said)


@pytest.mark.parametrize(
    "nemo_fake_config", [FakeConfig(stream_faults=StreamFaults(drop_after_events=2))]
)
async def test_a_dropped_stream_is_recovered_by_polling_state_without_re_sending(
    harness: Harness, sample_video: Path, backend: NemoBackend
) -> None:
    await harness.assistant.upload([str(sample_video)])
    result = await harness.assistant.chat(EXTRACT)
    assert result.recovered and not result.failed
    assert harness.timer.sleeps[0] == 30
    assert set(harness.timer.sleeps[1:]) <= {60}
    assert len(backend.agent_runs) == 1  # not re-sent
    assert any("5 clips extracted" in line for line in result.changes)


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(stream_faults=StreamFaults(stall=True))])
async def test_ten_minutes_of_heartbeats_is_a_timeout_then_five_checks_then_failure(
    harness: Harness, sample_video: Path
) -> None:
    await harness.assistant.upload([str(sample_video)])
    new_messages(harness)
    # The client's own clock, moving 15 s per look (the fake's heartbeat cadence): over a
    # socket the fake's autojumping clock runs ahead of what the client has read.
    timer = ManualTimer(tick=15)
    harness.assistant.timer = timer
    result = await harness.assistant.chat(EXTRACT)
    assert result.failed
    assert harness.said.count("⏳ Still working...") >= 4
    assert timer.sleeps == [30, 60, 60, 60, 60]
    assert harness.said[-1].startswith("❌ The backend didn't finish after 5 checks")


@pytest.mark.nemo_incompatible("token_ttl")
async def test_an_expired_token_is_renewed_with_the_same_client_id(
    harness: Harness, clock: VirtualClock
) -> None:
    assistant = harness.assistant
    first = await assistant.credits()
    old_token, user = assistant.project.token, assistant.project.user_id
    clock.advance(7 * 86_400)
    again = await assistant.credits()
    assert assistant.project.token != old_token
    assert assistant.project.user_id == user
    assert again == first


async def test_a_lost_session_is_replaced_with_a_new_one(
    harness: Harness, backend: NemoBackend
) -> None:
    assistant = harness.assistant
    await assistant.connect()
    old = assistant.project.session_id
    assert old
    del backend.sessions[old]
    await assistant.status()
    assert assistant.project.session_id not in (None, old)
    assert any("new session" in line for line in harness.said)


async def test_out_of_credits_shows_the_registration_link_with_bind(harness: Harness) -> None:
    assistant = harness.assistant
    await assistant.chat("generate a video of a lighthouse")
    assert not await assistant.handle("generate a video of a harbour")
    user_id = assistant.project.user_id
    assert harness.said[-1] == (
        "❌ You're out of credits. Register to get more: "
        f"https://nemovideo.com/register?bind={user_id}"
    )


async def test_an_unsupported_file_lists_the_supported_formats(
    harness: Harness, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    assert not await harness.assistant.handle("upload", files=[str(notes)])
    assert harness.said[-1].startswith("❌ That file type isn't supported. Supported formats: mp4")


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(max_upload_bytes=MB)])
async def test_a_file_too_large_suggests_compressing_or_trimming(
    harness: Harness, tmp_path: Path
) -> None:
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * (MB + 10))
    assert not await harness.assistant.handle("upload", files=[str(big)])
    assert "Compress or trim" in harness.said[-1]


@pytest.mark.nemo_incompatible("attribution_required")
async def test_export_without_attribution_headers_says_register_or_upgrade(
    api: Api, clock: VirtualClock, tmp_path: Path, sample_video: Path
) -> None:
    config = ClientConfig(
        api_url=str(api.http.base_url).rstrip("/"),
        client_id="bare-client",
        config_dir=tmp_path,
        skill_source="",
    )
    said: list[str] = []
    assistant = Assistant(
        NemoApi(config, http=api.http), say=said.append, timer=FakeClockTimer(clock),
        downloads=tmp_path,
    )  # fmt: skip
    await assistant.upload([str(sample_video)])
    assert not await assistant.handle("export")
    assert said[-1] == (
        "❌ Export isn't available on the free plan. "
        "Register or upgrade your plan to unlock export."
    )


async def test_export_with_nothing_on_the_timeline_says_so(harness: Harness) -> None:
    assert not await harness.assistant.handle("export")
    assert harness.said[-1].startswith("There's nothing to export yet")


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(render_failure_rate=1.0)])
async def test_a_failing_render_is_retried_once_with_a_new_id(
    harness: Harness, sample_video: Path, backend: NemoBackend
) -> None:
    await harness.assistant.upload([str(sample_video)])
    assert await harness.assistant.export() is None
    ids = [render_id for _, render_id in backend.renders.jobs]
    assert len(ids) == 2 and ids[0] != ids[1]
    assert harness.said[-1].startswith("❌ The render failed twice")


@pytest.mark.parametrize(
    "nemo_fake_config",
    [
        FakeConfig(poll_shape="reference", submit_shape="reference"),
        FakeConfig(poll_shape="early"),
        FakeConfig(poll_shape="minimal"),
    ],
)
async def test_every_documented_poll_shape_exports(harness: Harness, sample_video: Path) -> None:
    await harness.assistant.upload([str(sample_video)])
    path = await harness.assistant.export()
    assert path
    _assert_playable(path, 3.0)


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(event_shape="typed")])
async def test_the_typed_event_shape_works_too(harness: Harness, sample_video: Path) -> None:
    await harness.assistant.upload([str(sample_video)])
    result = await harness.assistant.chat(EXTRACT)
    assert result.texts or result.changes
    assert len((await harness.assistant.state()).generated_media) == 5


async def test_asking_for_clips_before_uploading_asks_for_the_file_without_gui_words(
    harness: Harness,
) -> None:
    await harness.assistant.chat(EXTRACT)
    assert harness.said[-1] == "Send the file in chat or give me a URL."
    assert not any("button" in line.lower() for line in harness.said)
