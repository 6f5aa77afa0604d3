"""What a client can send or do that once broke the fake: JSON nested ~1,000 levels deep (a 500
from a RecursionError), lone surrogate escapes such as "\\ud800" (accepted, then a 500 on every
later read of what held them), a non-ASCII admin bearer, control characters in a path (forged
log lines), render ids of dots alone, and hanging up mid-upload (logged as a bug)."""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest
from starlette.requests import Request

from nemo_fake import NemoFake, ScaledClock
from nemo_fake.errors import ApiError, Code
from nemo_fake.http.body import json_object
from nemo_fake.testing import serve
from tests.support import ALL_PATHS, BODILESS_POSTS, JSON_ENDPOINTS, Api, error_code, sse_body

DEEP = 1_000


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _nested_objects(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


@pytest.mark.parametrize("nemo_fake_config", [ALL_PATHS])
@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
@pytest.mark.parametrize("where", ["top", "field"])
@pytest.mark.parametrize("depth", [100, DEEP])  # past the fake's limit; past Python's too
async def test_deeply_nested_json_is_a_400_envelope(
    api: Api, method: str, path: str, where: str, depth: int
) -> None:
    user = await api.new_user()
    body = _nested_objects(depth) if where == "top" else '{"draft": ' + _nested(depth) + "}"
    response = await api.http.request(
        method,
        path.format(sid=user.session_id),
        headers={**user.headers, "Content-Type": "application/json"},
        content=body.encode(),
    )
    assert response.status_code == 400, response.text
    assert error_code(response) == 400
    assert "nested deeper" in response.json()["message"]


SURROGATE = '"\\ud800"'  # a valid JSON escape, but no Unicode text


async def test_a_lone_surrogate_in_task_name_is_refused_and_nothing_is_kept(api: Api) -> None:
    user = await api.new_user(with_session=False)
    response = await api.http.post(
        "/api/tasks/me/with-session/nemo_agent",
        headers={**user.headers, "Content-Type": "application/json"},
        content=('{"task_name": ' + SURROGATE + "}").encode(),
    )
    assert (response.status_code, error_code(response)) == (400, 400)
    assert response.json()["field"] == "task_name"


async def test_a_lone_surrogate_in_a_chat_message_charges_nothing_and_breaks_nothing(
    api: Api,
) -> None:
    user = await api.new_user()
    await api.upload_url(user, "https://media.example.com/talk.mp4")
    body = json.dumps(sse_body(user.session_id, "add a title PLACEHOLDER"))
    body = body.replace('"add a title PLACEHOLDER"', '"add a title \\ud800"')
    response = await api.http.post(
        "/run_sse",
        headers={**user.headers, "Content-Type": "application/json"},
        content=body.encode(),
    )
    assert (response.status_code, error_code(response)) == (400, 400)
    assert response.json()["field"] == "new_message.parts[0].text"
    balance = await api.http.get("/api/credits/balance/simple", headers=user.headers)
    assert balance.json()["data"] == {"available": 100, "frozen": 0, "total": 100}
    assert (await api.state(user))["state"]["draft"]["t"]  # the upload, readable as before


async def test_a_lone_surrogate_in_an_upload_url_is_refused(api: Api) -> None:
    user = await api.new_user()
    response = await api.http.post(
        f"/api/upload-video/nemo_agent/me/{user.session_id}",
        headers={**user.headers, "Content-Type": "application/json"},
        content=('{"urls": ["https://x.example/a' + SURROGATE[1:-1] + '.mp4"]}').encode(),
    )
    assert (response.status_code, error_code(response)) == (400, 400)
    assert response.json()["field"] == "urls[0]"


async def test_a_lone_surrogate_in_a_key_is_refused_with_a_printable_field(api: Api) -> None:
    user = await api.new_user(with_session=False)
    response = await api.http.post(
        "/api/tasks/me/with-session/nemo_agent",
        headers={**user.headers, "Content-Type": "application/json"},
        content=('{"task_name": "t", ' + SURROGATE + ": 1}").encode(),
    )
    assert (response.status_code, error_code(response)) == (400, 400)
    assert response.json()["field"] == "\\ud800"


async def test_a_non_ascii_bearer_on_the_guarded_control_api_is_a_401() -> None:
    with NemoFake(admin_token="s3cret") as fake:
        async with fake.http() as http:
            response = await http.get(
                "/_fake/clock", headers={b"Authorization": "Bearer tökén".encode()}
            )
    assert (response.status_code, error_code(response)) == (401, 1001)


async def test_a_405_says_which_methods_are_allowed(api: Api) -> None:
    response = await api.http.get("/api/auth/anonymous-token")
    assert (response.status_code, error_code(response)) == (405, 405)
    assert response.headers["allow"] == "POST"


async def test_control_characters_in_a_path_cannot_forge_log_lines(
    api: Api, caplog: pytest.LogCaptureFixture, nemo_fake: NemoFake
) -> None:
    # Asks for nemo_fake: the fake's log is read here, so it runs in this process.
    with caplog.at_level(logging.INFO, logger="nemo_fake"):
        await api.http.get("/api/x%0aINFO forged line%00%1b[31m")
    (line,) = [r.getMessage() for r in caplog.records if r.name == "nemo_fake.requests"]
    assert "\n" not in line and "\x00" not in line and "\x1b" not in line
    assert "/api/x\\nINFO forged line\\x00\\x1b[31m -> 404" in line


@pytest.mark.parametrize("render_id", [".", "..", "..."])
async def test_a_render_id_of_dots_alone_is_refused(api: Api, render_id: str) -> None:
    user = await api.new_user()
    await api.upload_url(user, "https://media.example.com/talk.mp4")
    draft = {"t": [{"tt": 0, "sg": [{"s": 0, "d": 1000}]}], "d": 1000}
    response = await api.submit_render(user, render_id, draft)
    assert (response.status_code, error_code(response)) == (400, 400)
    assert response.json()["field"] == "id"


def test_a_client_hanging_up_mid_upload_is_one_log_line_and_a_499_in_the_journal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with NemoFake() as fake, serve(fake) as server, caplog.at_level(logging.INFO, "nemo_fake"):
        account = fake.backend.issue_anonymous_token("c", "127.0.0.1")
        session = fake.backend.create_session(account.account, "t", "en")
        host, port = server.url.removeprefix("http://").split(":")
        head = (
            f"POST /api/upload-video/nemo_agent/me/{session.session_id} HTTP/1.1\r\n"
            f"Host: {host}\r\nAuthorization: Bearer {account.token.value}\r\n"
            "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 1000000\r\n\r\n"
        )
        part = b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.mp4"\r\n\r\n'
        with socket.create_connection((host, int(port))) as raw:
            raw.sendall(head.encode() + part + b"x" * 10_000)
            time.sleep(0.1)  # the fake is reading the file part now
        deadline = time.monotonic() + 5
        while not fake.journal.find(operation="upload") and time.monotonic() < deadline:
            time.sleep(0.01)
        (entry,) = fake.journal.find(operation="upload")
        leftovers = list(fake.backend.upload_dir.iterdir())
    assert entry.status == 499
    assert leftovers == []
    logged = [r for r in caplog.records if r.name.startswith("nemo_fake")]
    assert not any(r.exc_info or r.levelno >= logging.ERROR for r in logged)
    assert [r.getMessage() for r in logged if "went away" in r.getMessage()] == [
        f"POST /api/upload-video/nemo_agent/me/{session.session_id}: the client went away"
    ]


@pytest.mark.parametrize(
    ("method", "path", "body", "problem"),
    [
        ("POST", "/_fake/clock/advance", '{"seconds": 1e308}', "year 9000"),
        ("POST", "/_fake/clock/advance", '{"seconds": 1e999}', "out of range"),
        ("PATCH", "/_fake/config", '{"token_ttl": 1e308}', "a century"),
        ("PATCH", "/_fake/config", '{"render_seconds": [1, 1e300]}', "a century"),
        ("PATCH", "/_fake/config", '{"heartbeat_seconds": 1e-300}', "from 1 to 3600"),
        ("PATCH", "/_fake/config", '{"stream_faults.stall_seconds": 1e9}', "from 0 to 86400"),
        ("PATCH", "/_fake/config", '{"seed": NaN}', "NaN is not JSON"),
        ("POST", "/_fake/faults", '{"operation": "balance", "latency": 1e308}', "600 seconds"),
        ("POST", "/_fake/faults", '{"operation": "balance", "probability": Infinity}', "not JSON"),
    ],
)
async def test_numbers_that_would_break_the_clock_or_the_planner_are_refused(
    api: Api, method: str, path: str, body: str, problem: str
) -> None:
    # Each once gave a 500 later (a date past 9999 in every answer), or hung the fake (a
    # heartbeat every 1e-300 s), or a clock speed no scaled clock could keep.
    response = await api.http.request(
        method, path, content=body.encode(), headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, error_code(response)) == (400, 400), response.text
    assert problem in response.json()["message"]
    clock = await api.http.get("/_fake/clock")
    assert clock.status_code == 200 and clock.json()["data"]["iso"].startswith("2026-")


async def test_a_served_fake_refuses_a_speed_its_clock_cannot_keep() -> None:
    with NemoFake(clock=ScaledClock(speed=60)) as fake:
        async with fake.http() as http:
            response = await http.post("/_fake/clock/speed", json={"speed": 1e300})
            assert (response.status_code, error_code(response)) == (400, 400)
            assert "at most 1e+06" in response.json()["message"]
            assert (await http.get("/_fake/clock")).json()["data"]["speed"] == 60


def test_every_endpoint_that_takes_a_body_is_in_the_hostile_input_tests() -> None:
    from starlette.routing import Route

    with NemoFake() as fake:
        taking = {
            (method, route.path)
            for route in fake.app.routes
            if isinstance(route, Route)
            for method in route.methods or ()
            if method in ("POST", "PUT", "PATCH")
        }
    listed = {(m, p.replace("{sid}", "{session_id}")) for m, p in JSON_ENDPOINTS}
    routed = {(m, p.replace("{app}", "nemo_agent").replace("{user}", "me")) for m, p in taking}
    assert routed - listed == {("POST", path) for path in BODILESS_POSTS}


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        ('{"draft": ' + _nested(64) + "}", False),  # exactly the limit
        ('{"draft": ' + _nested(65) + "}", True),
        # Many brackets, all shallow: settled by a walk, not by counting them.
        ('{"draft": [' + ", ".join(["[{}]"] * 200) + "]}", False),
        ('{"k\\udc00": 1}', True),  # in a key
        ('{"k": ["x", {"y": "\\uD83D"}]}', True),  # upper case, deep in the tree
        ('{"k": "\\ud83d\\ude00"}', False),  # a pair is text: 😀
    ],
)
async def test_the_nesting_and_unicode_checks_refuse_exactly_what_they_should(
    body: str, refused: bool
) -> None:
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body.encode(), "more_body": False}

    request = Request({"type": "http", "method": "POST", "headers": []}, receive)
    if refused:
        with pytest.raises(ApiError) as error:
            await json_object(request)
        assert error.value.code == Code.BAD_REQUEST
    else:
        assert isinstance(await json_object(request), dict)
