"""The OpenAPI document: valid 3.1 for every profile, built from the route table (a route
without an operation fails), served at /openapi.json and by `nemo-fake openapi`, and the
checker that holds every response of the contract suite to it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from nemo_fake import FakeConfig, FaultRule, NemoFake, create_app
from nemo_fake.cli import main
from nemo_fake.domain.renders import RENDER_ID
from nemo_fake.http.openapi import UndocumentedRoute, build, routed
from nemo_fake.http.openapi.document import EXAMPLES
from nemo_fake.http.routes.contract import package_version
from nemo_fake.profiles import PROFILES
from nemo_fake.testing.contract import Contract, ContractViolation, response_hook
from tests.support import ATTRIBUTION, Api

NEMO_FAKE = Path(sys.executable).with_name("nemo-fake")


def _document(config: FakeConfig) -> dict[str, Any]:
    app = create_app(config=config)
    try:
        return build(app.routes, config, package_version())
    finally:
        app.state.backend.close()


# A standard validator takes half a second a document: -m slow (CI) runs these.
@pytest.mark.slow
@pytest.mark.parametrize("era", list(PROFILES))
def test_the_document_is_valid_openapi_3_1_in_every_profile(era: str) -> None:
    from openapi_spec_validator import validate  # slow to import: only where it is used

    document = _document(FakeConfig.for_profile(era))
    validate(document)  # raises on an invalid document
    assert document["openapi"] == "3.1.0"
    assert era in document["info"]["description"]


def test_every_route_is_in_the_document_and_every_path_in_it_is_routed() -> None:
    config = FakeConfig(legacy_render_paths=True)
    app = create_app(config=config)
    document = build(app.routes, config, "test")
    app.state.backend.close()
    documented = {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if not method.startswith("x-")
    }
    assert documented == set(routed(app.routes))
    without = _document(FakeConfig())  # the earliest render paths only where they are served
    assert "/api/render/proxy/draft" not in without["paths"]
    operations = [
        (path, op)
        for path, item in document["paths"].items()
        for key, op in item.items()
        if not key.startswith("x-")
    ]
    tags = {op["tags"][0] for _, op in operations}
    assert "fake control" in tags
    assert all(
        op["tags"] == ["fake control"] for path, op in operations if path.startswith("/_fake")
    )
    assert document["paths"]["/_fake/journal"]["x-allow"] == "DELETE, GET, HEAD"


def test_a_route_added_without_an_operation_fails_the_build() -> None:
    app = create_app()
    app.router.routes.append(Route("/api/new", lambda request: PlainTextResponse("")))
    with pytest.raises(UndocumentedRoute, match="GET /api/new has no entry"):
        build(app.routes, FakeConfig(), "test")
    app.state.backend.close()


def test_request_bodies_state_the_checks_the_handlers_make() -> None:
    document = _document(FakeConfig(max_urls_per_upload=7, client_id_required=False))
    paths = document["paths"]
    render = paths["/api/render/proxy/lambda"]["post"]["requestBody"]["content"]
    body = render["application/json"]["schema"]
    assert body["properties"]["id"]["pattern"] == RENDER_ID.pattern
    assert body["required"] == ["id", "sessionId", "draft"]
    draft = body["properties"]["draft"]
    assert draft["properties"]["t"]["items"]["properties"]["tt"] == {"enum": [0, 1, 7]}
    assert draft["properties"]["d"]["maximum"] == FakeConfig().max_render_ms
    upload = paths["/api/upload-video/{app}/{user}/{session_id}"]["post"]["requestBody"]
    assert upload["content"]["application/json"]["schema"]["properties"]["urls"]["maxItems"] == 7
    assert "multipart/form-data" in upload["content"]
    token = paths["/api/auth/anonymous-token"]["post"]
    (client_id,) = [p for p in token["parameters"] if p["name"] == "X-Client-Id"]
    assert client_id["required"] is False  # as the settings say
    assert token["responses"]["429"]["headers"]["Retry-After"]["required"] is True


def test_the_profile_decides_bodies_events_and_attribution() -> None:
    current = _document(FakeConfig.for_profile("current"))
    reference = _document(FakeConfig.for_profile("reference"))
    poll = "/api/render/proxy/lambda/{render_id}"
    ok = current["paths"][poll]["get"]["responses"]["200"]["content"]["application/json"]
    assert ok["schema"]["discriminator"]["propertyName"] == "status"
    ref_ok = reference["paths"][poll]["get"]["responses"]["200"]["content"]["application/json"]
    assert ref_ok["schema"]["properties"]["success"] == {"const": True}
    events = reference["paths"]["/run_sse"]["post"]["responses"]["200"]["content"]
    assert set(events["text/event-stream"]["x-events"]) >= {"text", "tool_call", "heartbeat"}
    # Attribution: the current doc requires it on export (402), the reference era on sessions.
    submit = current["paths"]["/api/render/proxy/lambda"]["post"]
    assert "402" in submit["responses"]
    session = reference["paths"]["/api/tasks/{user}/with-session/{app}"]["post"]
    headers = {p["name"]: p["required"] for p in session["parameters"] if p["in"] == "header"}
    assert headers["X-Skill-Source"] is True and headers["X-Skill-Version"] is False


async def test_openapi_json_is_the_document_of_the_settings_in_force(
    api: Api, nemo_fake: NemoFake
) -> None:
    served = await api.http.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == build(nemo_fake.app.routes, nemo_fake.config, package_version())
    nemo_fake.configure({"poll_shape": "minimal"})
    now = (await api.http.get("/openapi.json")).json()
    poll = now["paths"]["/api/render/proxy/lambda/{render_id}"]["get"]["responses"]["200"]
    assert poll["content"]["application/json"]["schema"]["properties"]["success"]


def test_nemo_fake_openapi_writes_json_or_yaml_for_a_profile(tmp_path: Path) -> None:
    printed = CliRunner().invoke(main, ["openapi", "--profile", "early"])
    assert json.loads(printed.output)["paths"]["/api/render/proxy/draft"]  # early's own path
    out = tmp_path / "nemo.yaml"
    result = CliRunner().invoke(main, ["openapi", "--profile", "reference", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"wrote {out} (OpenAPI 3.1, profile reference)"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    document = yaml.load(out.read_text(encoding="utf-8"), Loader=loader)
    assert document == _document(FakeConfig.for_profile("reference"))
    refused = subprocess.run(
        [str(NEMO_FAKE), "openapi", "--out", str(tmp_path / "missing" / "x.json")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: cannot write") and "Traceback" not in refused.stderr


# -- the checker ---------------------------------------------------------------------------------


def _response(status: int, body: object, path: str, method: str = "GET", **headers: str) -> Any:
    request = httpx.Request(method, f"http://fake{path}")
    return httpx.Response(status, json=body, headers=headers, request=request)


def test_the_checker_names_the_operation_and_what_is_wrong() -> None:
    contract = Contract(_document(FakeConfig()))
    path = "/api/credits/balance/simple"
    good = {"code": 0, "data": {"available": 1, "frozen": 0, "total": 1}}
    contract.check("GET", path, _response(200, good, path), json.dumps(good).encode())
    bad = {"code": 0, "data": {"available": "1", "frozen": 0, "total": 1}}
    with pytest.raises(ContractViolation, match=r"\(getBalance\) .* at data.available: '1'"):
        contract.check("GET", path, _response(200, bad, path), json.dumps(bad).encode())
    with pytest.raises(ContractViolation, match="answered 418, which the document does not"):
        contract.check("GET", path, _response(418, good, path), None)
    token = "/api/auth/anonymous-token"
    limited = {"code": 429, "message": "x", "msg": "x", "data": None}
    with pytest.raises(ContractViolation, match="answered 429 without header Retry-After"):
        contract.check("POST", token, _response(429, limited, token, "POST"), None)
    wrong_code = {"code": 1002, "message": "x", "msg": "x", "data": None}
    with pytest.raises(ContractViolation, match=r"at code: 1002 is not one of \[1001\]"):
        contract.check("GET", path, _response(401, wrong_code, path), b'{"code": 1002, '
                       b'"message": "x", "msg": "x", "data": null}')  # fmt: skip


async def test_a_405_names_in_allow_the_methods_the_document_gives_the_path(api: Api) -> None:
    refused = await api.http.post("/api/credits/balance/simple")  # checked by the suite's hook
    assert refused.status_code == 405
    assert set(refused.headers["allow"].split(", ")) == {"GET", "HEAD"}  # in any order
    contract = Contract(_document(FakeConfig()))
    path = "/api/credits/balance/simple"
    wrong = _response(405, {}, path, "POST", allow="GET")
    with pytest.raises(ContractViolation, match="405 with Allow 'GET', but the document allows"):
        contract.check("POST", path, wrong, None)


async def test_a_response_the_document_does_not_allow_fails_the_request_that_got_it() -> None:
    document = _document(FakeConfig())
    balance = document["paths"]["/api/credits/balance/simple"]["get"]["responses"]["200"]
    balance["content"]["application/json"]["schema"]["properties"]["data"] = {"type": "string"}
    contract = Contract(document)
    with NemoFake() as fake:
        hooks = {"response": [response_hook(lambda: contract)]}
        async with fake.http(event_hooks=hooks) as http:
            issued = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c"})
            auth = {"Authorization": f"Bearer {issued.json()['data']['token']}"}
            with pytest.raises(ContractViolation, match=r"getBalance.*at data"):
                await http.get("/api/credits/balance/simple", headers=auth)
            # An answer a fault rule shaped is the test's doing: not checked.
            fake.faults.add(FaultRule(operation="balance", on_call=1, http_status=502))
            injected = await http.get("/api/credits/balance/simple", headers=auth)
            assert injected.status_code == 502


# -- examples, recorded from the fake ------------------------------------------------------------

SECRETS = [
    (re.compile(r"nmv_usr_[0-9a-f]+"), "nmv_usr_" + "0" * 32),
    (re.compile(r"clm_[0-9a-f]+"), "clm_" + "0" * 32),
    (re.compile(r"/cdn/renders/[^/]+/"), "/cdn/renders/SECRET/"),
]


def _masked(value: Any) -> Any:
    """Credentials are new every run (never seeded): the same placeholder each time."""
    text = json.dumps(value, ensure_ascii=False)
    for pattern, placeholder in SECRETS:
        text = pattern.sub(placeholder, text)
    return json.loads(text)


async def _record_examples() -> dict[str, dict[str, Any]]:
    """One answer per operation and status, from a workflow against the current profile."""
    recorded: dict[str, dict[str, Any]] = {}
    with NemoFake(FakeConfig(seed=7)) as fake:
        contract = Contract(_document(FakeConfig(seed=7)))

        async def keep(response: httpx.Response) -> None:
            if response.headers.get("content-type", "").startswith("application/json"):
                operation = contract.operation(response.request.method, response.request.url.path)
                assert operation is not None
                body = json.loads(await response.aread())
                recorded.setdefault(operation.id, {}).setdefault(str(response.status_code), body)

        async with fake.http(event_hooks={"response": [keep]}) as http:
            await http.post("/api/auth/anonymous-token")  # 400: no X-Client-Id
            issued = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "ex"})
            auth = {"Authorization": f"Bearer {issued.json()['data']['token']}", **ATTRIBUTION}
            await http.get("/api/credits/balance/simple")  # 401
            await http.get("/api/credits/balance/simple", headers=auth)
            session = (
                await http.post(
                    "/api/tasks/me/with-session/nemo_agent",
                    headers=auth,
                    json={"task_name": "example", "language": "en"},
                )
            ).json()["data"]
            sid = session["session_id"]
            await http.post(
                f"/api/upload-video/nemo_agent/me/{sid}",
                headers=auth,
                json={"urls": ["https://media.example.com/talk.mp4"], "source_type": "url"},
            )
            await http.get(f"/api/state/nemo_agent/me/{sid}/latest", headers=auth)
            await http.get("/api/state/nemo_agent/me/1234567890123456789/latest", headers=auth)
            claim = await http.post(
                "/api/auth/claim-token",
                headers=auth,
                json={"task_id": session["task_id"], "session_id": sid},
            )
            await http.get(f"/workspace/claim?ct={claim.json()['data']['claim_token']}")
            draft = {"t": [{"tt": 0, "sg": [{"s": 0, "d": 2000}]}], "d": 2000}
            body = {"id": "render_1", "sessionId": sid, "draft": draft}
            await http.post("/api/render/proxy/lambda", headers=auth, json=body)
            await http.post("/api/render/proxy/lambda", headers=auth, json=body)  # 409
            await http.post(
                "/api/render/proxy/lambda", headers=auth, json={**body, "id": "r2", "draft": {}}
            )  # 422
            fake.advance(120)
            await http.get("/api/render/proxy/lambda/render_1", headers=auth)
            await http.get("/api/render/proxy/lambda/nope", headers=auth)
            await http.post("/api/v1/generate", json={"skill": "x", "prompt": "y"})
    return {operation: _masked(answers) for operation, answers in sorted(recorded.items())}


async def test_the_examples_in_the_document_are_what_the_fake_answers() -> None:
    recorded = await _record_examples()
    if os.environ.get("NEMO_RECORD_EXAMPLES"):
        EXAMPLES.write_text(json.dumps(recorded, indent=2, ensure_ascii=False) + "\n", "utf-8")
    stored = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    assert stored == recorded, (
        "the fake's answers changed: NEMO_RECORD_EXAMPLES=1 python -m pytest "
        "tests/test_openapi.py -k examples records them again"
    )
    document = _document(FakeConfig())
    poll = document["paths"]["/api/render/proxy/lambda/{render_id}"]["get"]["responses"]
    example = poll["200"]["content"]["application/json"]["examples"]["recorded"]["value"]
    assert example["status"] == "completed"
    # An example another profile's schema does not allow is left out, not shown wrong.
    reference = _document(FakeConfig.for_profile("reference"))
    ref_poll = reference["paths"]["/api/render/proxy/lambda/{render_id}"]["get"]["responses"]
    assert "examples" not in ref_poll["200"]["content"]["application/json"]


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(max_render_ms=60_000)])
async def test_every_draft_the_fake_renders_is_one_the_document_allows(
    api: Api, nemo_fake_config: FakeConfig
) -> None:
    # A stricter document makes a fuzzer's "invalid" draft pass (schemathesis found one: a
    # segment longer than half of max_render_ms, which renders).
    document = _document(nemo_fake_config)
    schema = document["paths"]["/api/render/proxy/lambda"]["post"]["requestBody"]["content"]
    validator = Draft202012Validator(schema["application/json"]["schema"]["properties"]["draft"])
    user = await api.new_user()
    accepted = [
        {"t": [{"tt": 0, "sg": [{"s": 0, "d": 30_001}]}]},
        {"t": [{"tt": 0, "sg": [{"s": 0, "d": 1000}]}, {"tt": 1, "sg": []}]},
        {"t": [{"tt": 0, "sg": [{"s": 59_000, "d": 1000}]}], "d": 60_000},
    ]
    for n, draft in enumerate(accepted):
        answer = await api.http.post(
            "/api/render/proxy/lambda",
            headers=user.headers,
            json={"id": f"r{n}", "sessionId": user.session_id, "draft": draft},
        )
        assert answer.status_code == 200, answer.text
        assert validator.is_valid(draft), draft
