"""Hostile JSON against every JSON endpoint, the control API's included: deep nesting, lone
surrogates, control characters, huge numbers and duplicate keys. Whatever arrives, the answer
is a documented code, never a 5xx, and the fake still answers normally afterwards."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nemo_fake import Code, NemoFake
from tests.support import ALL_PATHS, ATTRIBUTION, JSON_ENDPOINTS, sse_body

DOCUMENTED = {int(code) for code in Code}

FIELDS = [
    "task_name", "language", "task_id", "session_id", "urls", "source_type", "id", "sessionId",
    "draft", "output", "app_name", "user_id", "new_message", "parts", "text", "seconds", "speed",
    "operation", "on_call", "code", "http_status", "latency", "seed", "silent_edit_ratio",
    "render_fps", "stream_faults", "t", "tt", "sg", "s", "d", "m", "width", "height",
]  # fmt: skip

# Text a JSON string can carry that Python's str can hold but UTF-8 cannot: lone surrogates;
# and control characters, the NUL among them.
hostile_text = st.text(
    alphabet=st.characters(categories=["Cs", "Cc", "Lu", "Nd"]), min_size=0, max_size=12
)
# Written out as JSON text, since Python numbers cannot be all of these.
huge_numbers = st.sampled_from(
    ["1e999", "-1e999", "1e308", "-1e308", "1" * 5000, "123456789012345678901234567890",
     "0.0000000000000000000000001", "-0"]
)  # fmt: skip


def _dump(value: object) -> str:
    return json.dumps(value, ensure_ascii=True)


@st.composite
def hostile_bodies(draw: st.DrawFn) -> str:
    """A JSON text, usually an object with documented field names, with one hostile part."""
    key = draw(st.sampled_from(FIELDS))
    kind = draw(st.sampled_from(["nested", "surrogate", "number", "duplicate", "mixed"]))
    if kind == "nested":
        depth = draw(st.integers(min_value=40, max_value=1_500))
        inner = "[" * depth + "]" * depth
    elif kind == "surrogate":
        inner = _dump(draw(hostile_text))
    elif kind == "number":
        inner = draw(huge_numbers)
    elif kind == "duplicate":
        first, second = draw(hostile_text), draw(st.integers())
        return "{" + f"{_dump(key)}: {_dump(first)}, {_dump(key)}: {second}" + "}"
    else:
        inner = _dump({draw(hostile_text): [draw(hostile_text), {key: draw(hostile_text)}]})
    if draw(st.booleans()):
        return inner  # at the top, not inside an object
    return "{" + f"{_dump(key)}: {inner}" + "}"


def _assert_documented(response: Any) -> None:
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code != 200:
        assert body["code"] in DOCUMENTED, body


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(endpoint=st.sampled_from(JSON_ENDPOINTS), body=hostile_bodies())
async def test_hostile_json_gets_a_documented_code_never_a_5xx(
    endpoint: tuple[str, str], body: str
) -> None:
    method, path = endpoint
    with NemoFake(ALL_PATHS) as fake:
        issued = fake.backend.issue_anonymous_token("c", "127.0.0.1")
        session = fake.backend.create_session(issued.account, "p", "en")
        headers = {"Authorization": f"Bearer {issued.token.value}", **ATTRIBUTION}
        async with fake.http() as http:
            response = await http.request(
                method,
                path.format(sid=session.session_id),
                headers={**headers, "Content-Type": "application/json"},
                content=body.encode("utf-8", "surrogatepass"),
            )
            _assert_documented(response)
            # And the fake is still whole: its state, clock and a chat all answer.
            state = await http.get(
                f"/api/state/nemo_agent/me/{session.session_id}/latest", headers=headers
            )
            _assert_documented(state)
            assert (await http.get("/_fake/clock")).status_code == 200
            assert (await http.get("/_fake/config")).status_code == 200
            chat = await http.post(
                "/run_sse", headers=headers, json=sse_body(session.session_id, "hello")
            )
            assert chat.status_code == 200, chat.text
            assert chat.headers["content-type"].startswith("text/event-stream")
