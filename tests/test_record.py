"""Record and verify, offline: a second fake stands in for the real API upstream. A quick edit by
the reference client is recorded through the proxy, then verified against fakes that match the
upstream and fakes that do not."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
import yaml

from nemo_fake import FakeConfig, NemoFake, VirtualClock
from nemo_fake.record import Cassette, Exchange, recording_proxy, verify
from nemo_fake.record.cassette import Redactor
from nemo_fake.record.proxy import Recorder
from nemo_fake.record.to_scenario import to_scenario
from nemo_fake.scenarios import load, run_sync
from nemo_fake.testing.live_server import LiveServer
from nemo_fake.testing.nemo_server import serve
from nemo_fake.testing.reference_client import reference_client
from tests.support import ATTRIBUTION

# The upstream's settings: a fixed seed (the agent's choices repeat), and the exported MP4 made
# at one frame a second, since only its download's facts matter here.
RECORDED_WITH = FakeConfig(seed=4, render_fps=1)


@dataclass
class Recorded:
    cassette: Path
    secrets: list[str]
    said: list[str]


async def _record_quick_edit(tmp_path: Path, config: FakeConfig) -> Recorded:
    """Upload, extract clips, an edit, export: the reference client through the proxy."""
    out = tmp_path / "quick-edit.yaml"
    with (
        NemoFake(config, clock=VirtualClock(autojump=True)) as upstream,
        serve(upstream) as served,
        LiveServer(recording_proxy(served.url, out), host="127.0.0.1", port=0) as proxy,
    ):
        async with httpx.AsyncClient(base_url=proxy.url, timeout=60) as http:
            client = reference_client(upstream, http, tmp_path, client_id="recording-client")
            assert await client.handle("upload", files=["https://media.example.com/talk.mp4"])
            assert await client.handle("extract the top 3 viral short clips from this video")
            assert await client.handle("add a title that says hello")
            assert await client.handle("export")
            project = client.assistant.project
            said = "\n".join(client.said)
            secrets = [
                project.token or "", "recording-client", project.session_id or "",
                project.user_id or "", project.task_id or "",
                *re.findall(r"/cdn/renders/([^/]+)/", said), *re.findall(r"ct=(clm_\w+)", said),
            ]  # fmt: skip
            assert re.search(r"ct=clm_", said)  # the claim link was made, and its token sent
    return Recorded(out, [s for s in secrets if s], client.said)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    """One recording for the module's tests (it renders an MP4: a second's work)."""
    return asyncio.run(_record_quick_edit(tmp_path_factory.mktemp("record"), RECORDED_WITH))


async def test_the_cassette_holds_every_exchange_and_no_credential(recorded: Recorded) -> None:
    text = recorded.cassette.read_text(encoding="utf-8")
    for secret in recorded.secrets:
        assert secret not in text, secret
    cassette = Cassette.load(recorded.cassette)
    calls = [(e.method, e.path.split("/")[1:3]) for e in cassette.exchanges]
    assert calls[0] == ("POST", ["api", "auth"])
    assert any(e.events for e in cassette.exchanges)  # the /run_sse streams, event by event
    templates = {e.template for e in cassette.exchanges}
    assert {"/run_sse", "/api/state/{app}/{user}/{session_id}/latest"} <= templates
    first = cassette.exchanges[0]
    assert first.request_headers["x-client-id"] == "<client-1>"
    token = first.body["data"]["token"]
    assert token == "<token-1>"
    # The same token, wherever it was sent afterwards.
    later = [e.request_headers.get("authorization") for e in cassette.exchanges[1:]]
    assert set(later) == {"Bearer <token-1>"}
    assert yaml.safe_load(text)["upstream"].startswith("http://127.0.0.1:")


async def test_a_recorded_quick_edit_verifies_clean_against_a_matching_fake(
    recorded: Recorded,
) -> None:
    report = await verify(Cassette.load(recorded.cassette), config=RECORDED_WITH)
    assert report.clean, "\n".join(report.lines())
    assert report.lines()[-1].endswith("exchanges, clean")


@pytest.mark.parametrize(
    ("config", "calls", "suggestion"),
    [
        (
            replace(RECORDED_WITH, poll_shape="reference"),
            "/api/render/",
            "--set poll_shape=current",
        ),
        (replace(RECORDED_WITH, event_shape="typed"), "/run_sse", "--set event_shape=adk"),
    ],
    ids=["poll-shape", "event-shape"],
)
async def test_verify_reports_drift_where_the_fake_differs_and_suggests_the_setting(
    recorded: Recorded, config: FakeConfig, calls: str, suggestion: str
) -> None:
    report = await verify(Cassette.load(recorded.cassette), config=config)
    assert report.drifts
    # Exactly the calls the setting shapes, and the one setting that undoes it first.
    assert all(calls in drift.call for drift in report.drifts), report.lines()
    assert report.suggestions[0] == suggestion, report.suggestions


async def test_a_stream_through_the_proxy_arrives_event_by_event(tmp_path: Path) -> None:
    upstream = NemoFake(FakeConfig(), clock=VirtualClock(autojump=False))
    with (
        upstream,
        serve(upstream) as served,
        LiveServer(recording_proxy(served.url, tmp_path / "c.yaml"), port=0) as proxy,
    ):
        async with httpx.AsyncClient(base_url=proxy.url, timeout=30) as http:
            issued = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "s"})
            auth = {"Authorization": f"Bearer {issued.json()['data']['token']}"}
            sid = (
                await http.post(
                    "/api/tasks/me/with-session/nemo_agent", headers=auth, json={"task_name": "t"}
                )
            ).json()["data"]["session_id"]
            message = {"parts": [{"text": "generate a video of a forest"}]}
            body = {"app_name": "nemo_agent", "session_id": sid, "new_message": message}
            async with http.stream("POST", "/run_sse", headers=auth, json=body) as stream:
                upstream.advance(20)
                chunks = stream.aiter_bytes()
                first = await chunks.__anext__()  # here while the run is still going
                assert b"data:" in first
                upstream.advance(400)
                async for _ in chunks:
                    pass
            # A file through the proxy: its facts go to the cassette, never its bytes.
            draft = {"t": [{"tt": 0, "sg": [{"s": 0, "d": 1000}]}], "d": 1000, "m": {"width": 320,
                     "height": 240}}  # fmt: skip
            render = {"id": "render_1", "sessionId": sid, "draft": draft}
            await http.post(
                "/api/render/proxy/lambda", headers={**auth, **ATTRIBUTION}, json=render
            )
            upstream.advance(120)
            mp4 = await http.get("/api/render/proxy/render_1/download", headers=auth)
            assert mp4.headers["content-type"] == "video/mp4"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(Cassette.load(tmp_path / "c.yaml").exchanges) < 5:
            time.sleep(0.05)
    exchanges = Cassette.load(tmp_path / "c.yaml").exchanges
    assert exchanges[2].events and len(exchanges[2].events) > 3
    assert exchanges[-1].media == {
        "content_type": "video/mp4", "size": len(mp4.content), "duration": 1.0,
        "width": 320, "height": 240,
    }  # fmt: skip
    assert exchanges[-1].body is None and len((tmp_path / "c.yaml").read_bytes()) < 20_000


NEMO_FAKE = Path(sys.executable).with_name("nemo-fake")


@pytest.mark.slow  # four processes: CI's slow step runs it
def test_record_and_verify_as_a_user_runs_them(tmp_path: Path) -> None:
    cassette = tmp_path / "session.yaml"
    with NemoFake() as upstream, serve(upstream) as served:
        process = subprocess.Popen(
            [str(NEMO_FAKE), "record", "--upstream", served.url, "--port", "0",
             "--out", str(cassette)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            banner = process.stdout.readline()
            proxy = re.search(r"through (http://\S+) into", banner)
            assert proxy, banner
            with httpx.Client(base_url=proxy.group(1)) as http:
                token = http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "cli-rec"})
                auth = {"Authorization": f"Bearer {token.json()['data']['token']}"}
                http.post("/api/tasks/me/with-session/nemo_agent", headers=auth,
                          json={"task_name": "t"})  # fmt: skip
                http.get("/api/credits/balance/simple", headers=auth)
            process.send_signal(signal.SIGINT)
            rest, _ = process.communicate(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
        upstream.reset()  # as fresh as when recorded: the replay asks for the same client id
        remote = subprocess.run(
            [str(NEMO_FAKE), "verify", str(cassette), "--target", served.url],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert remote.returncode == 0, remote.stdout + remote.stderr
    assert process.returncode == 0, rest
    text = cassette.read_text(encoding="utf-8")
    assert text.count("- method:") == 3 and token.json()["data"]["token"] not in text
    clean = subprocess.run([str(NEMO_FAKE), "verify", str(cassette)],
                           capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.splitlines()[-1] == "verify: 3 exchanges, clean"
    drifted = subprocess.run(
        [str(NEMO_FAKE), "verify", str(cassette), "--set", "tokens_per_client=0"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert drifted.returncode == 1
    assert "#1 POST /api/auth/anonymous-token: status: recorded 200, got 429" in drifted.stdout
    cassette.write_text("- not a cassette\n", encoding="utf-8")
    broken = subprocess.run([str(NEMO_FAKE), "verify", str(cassette)],
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert broken.returncode == 1 and broken.stderr.startswith("Error: ")
    assert "Traceback" not in broken.stderr


def test_a_cassette_becomes_a_scenario_that_passes(recorded: Recorded, tmp_path: Path) -> None:
    converted = to_scenario(Cassette.load(recorded.cassette), "recorded-quick-edit")
    assert converted.steps >= 8
    path = tmp_path / "recorded-quick-edit.yaml"
    path.write_text(converted.text, encoding="utf-8")
    scenario = load(path)
    results = run_sync(scenario)
    failed = [(r.step.title, r.failures) for r in results if r.failures]
    assert not failed, f"{failed}\n{converted.text}"
    assert "<" not in converted.text.replace("<-", "")  # no placeholder left to fill


def test_an_id_used_before_its_answer_was_noted_is_still_hidden(tmp_path: Path) -> None:
    # A client may send the next request before the proxy has noted the answer that gave it
    # the session id (the exchange is written once its answer ends): seen with two workers.
    out = tmp_path / "race.yaml"
    recorder = Recorder(Cassette("http://upstream"), out, Redactor("http://upstream"))
    sid = "3114078814673561706"
    recorder.add(Exchange("GET", f"/api/state/nemo_agent/me/{sid}/latest", 0.2, status=200))
    recorder.add(
        Exchange("POST", "/api/tasks/me/with-session/nemo_agent", 0.1, status=200,
                 body={"code": 0, "data": {"session_id": sid, "task_id": "1234567"}})
    )  # fmt: skip
    text = out.read_text(encoding="utf-8")
    assert sid not in text
    assert "/api/state/nemo_agent/me/<session-1>/latest" in text
