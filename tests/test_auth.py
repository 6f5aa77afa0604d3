"""Contract: anonymous tokens, bearer auth and claim tokens (api-facts.md, "Endpoints")."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from nemo_fake import FakeConfig, NemoBackend, NemoFake, VirtualClock
from nemo_fake.config import DAY
from tests.support import ATTRIBUTION, Api, draft_of, error_code


async def test_anonymous_token_without_x_client_id_is_http_400(api: Api) -> None:
    response = await api.http.post("/api/auth/anonymous-token")
    assert response.status_code == 400
    assert error_code(response) == 400
    assert "X-Client-Id" in response.json()["message"]


@pytest.mark.nemo_incompatible("anonymous_scopes", "token_ttl")
async def test_anonymous_token_gives_nmv_usr_token_anon_user_expiry_and_100_credits(
    api: Api, clock: VirtualClock
) -> None:
    response = await api.http.post(
        "/api/auth/anonymous-token", headers={"X-Client-Id": "6f1c2c1e-4b1e-4c55-9d0e-1b2a3c4d5e6f"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == 0
    data = body["data"]
    assert re.fullmatch(r"nmv_usr_[0-9a-f]{32}", data["token"])
    assert data["user_id"].startswith("anon_")
    assert data["credits"] == 100
    expires = datetime.fromisoformat(data["expires_at"].replace("Z", "+00:00"))
    assert expires.timestamp() == clock.now() + 7 * DAY
    assert set(data["scopes"]) == {"read", "write", "upload"}


async def test_new_token_starts_with_100_available_credits(api: Api) -> None:
    user = await api.new_user(with_session=False)
    response = await api.http.get("/api/credits/balance/simple", headers=user.headers)
    assert response.json() == {"code": 0, "data": {"available": 100, "frozen": 0, "total": 100}}


@pytest.mark.nemo_incompatible("token_ttl")
async def test_token_expires_after_7_days_with_1001(api: Api, clock: VirtualClock) -> None:
    user = await api.new_user(with_session=False)
    clock.advance(7 * DAY - 1)
    ok = await api.http.get("/api/credits/balance/simple", headers=user.headers)
    assert ok.status_code == 200
    clock.advance(1)
    expired = await api.http.get("/api/credits/balance/simple", headers=user.headers)
    assert expired.status_code == 401
    assert error_code(expired) == 1001
    assert "expired" in expired.json()["message"].lower()


@pytest.mark.nemo_incompatible("tokens_per_client")
async def test_one_token_per_client_id_per_7_days_is_http_429_retry_in_30s(
    api: Api, clock: VirtualClock
) -> None:
    headers = {"X-Client-Id": "same-client"}
    first = await api.http.post("/api/auth/anonymous-token", headers=headers)
    assert first.status_code == 200
    again = await api.http.post("/api/auth/anonymous-token", headers=headers)
    assert again.status_code == 429
    assert error_code(again) == 429
    assert again.headers["retry-after"] == "30"
    clock.advance(7 * DAY)
    renewed = await api.http.post("/api/auth/anonymous-token", headers=headers)
    assert renewed.status_code == 200
    # Re-auth with the same client id is the same anonymous user, with a new token.
    assert renewed.json()["data"]["user_id"] == first.json()["data"]["user_id"]
    assert renewed.json()["data"]["token"] != first.json()["data"]["token"]


@pytest.mark.nemo_incompatible("tokens_per_address")
async def test_at_most_10_tokens_per_client_address_per_7_days(
    api: Api, clock: VirtualClock
) -> None:
    for n in range(10):
        response = await api.http.post(
            "/api/auth/anonymous-token", headers={"X-Client-Id": f"client-{n}"}
        )
        assert response.status_code == 200
    eleventh = await api.http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c-11"})
    assert eleventh.status_code == 429
    assert "per address" in eleventh.json()["message"]
    clock.advance(7 * DAY)
    later = await api.http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c-11"})
    assert later.status_code == 200


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic abc", "Bearer nmv_usr_00000000000000000000000000000000"],
    ids=["missing", "empty", "no-credentials", "not-bearer", "unknown"],
)
async def test_bad_bearer_is_1001(api: Api, authorization: str | None) -> None:
    headers = dict(ATTRIBUTION)
    if authorization is not None:
        headers["Authorization"] = authorization
    response = await api.http.get("/api/credits/balance/simple", headers=headers)
    assert response.status_code == 401
    assert error_code(response) == 1001


async def test_revoked_token_is_1001(api: Api, backend: NemoBackend) -> None:
    user = await api.new_user(with_session=False)
    backend.accounts.revoke(user.token)
    response = await api.http.get("/api/credits/balance/simple", headers=user.headers)
    assert error_code(response) == 1001
    assert "revoked" in response.json()["message"]


async def test_claim_token_is_clm_with_7_day_expiry_and_has_no_api_access(api: Api) -> None:
    user = await api.new_user()
    response = await api.http.post(
        "/api/auth/claim-token",
        headers=user.headers,
        json={"task_id": user.task_id, "session_id": user.session_id},
    )
    assert response.status_code == 200
    data = response.json()["data"]
    assert re.fullmatch(r"clm_[0-9a-f]{32}", data["claim_token"])
    assert data["expires_in"] == 604800
    as_bearer = await api.http.get(
        "/api/credits/balance/simple",
        headers={**ATTRIBUTION, "Authorization": f"Bearer {data['claim_token']}"},
    )
    assert error_code(as_bearer) == 1001
    assert "claim token" in as_bearer.json()["message"]


async def test_claim_token_for_another_users_session_is_1002(api: Api) -> None:
    owner = await api.new_user()
    other = await api.new_user()
    response = await api.http.post(
        "/api/auth/claim-token",
        headers=other.headers,
        json={"task_id": owner.task_id, "session_id": owner.session_id},
    )
    assert response.status_code == 404
    assert error_code(response) == 1002


async def test_claim_token_needs_task_and_session_ids(api: Api) -> None:
    user = await api.new_user()
    response = await api.http.post(
        "/api/auth/claim-token", headers=user.headers, json={"task_id": user.task_id}
    )
    assert error_code(response) == 400
    assert response.json()["field"] == "session_id"


def test_same_seed_gives_same_ids_but_never_the_same_tokens() -> None:
    def first_ids(seed: int) -> tuple[str, str, str, str]:
        backend = NemoBackend(FakeConfig(seed=seed))
        try:
            issued = backend.issue_anonymous_token("client", "127.0.0.1")
            session = backend.create_session(issued.account, "project", "en")
            ids = issued.account.user_id, session.session_id, session.task_id
            return (*ids, issued.token.value)
        finally:
            backend.close()

    first, again, other = first_ids(7), first_ids(7), first_ids(8)
    assert first[:3] == again[:3] and first[:3] != other[:3]
    assert first[3] != again[3]  # a credential is never drawn from the seed


@pytest.mark.control_api
async def test_a_token_from_before_a_reset_is_unknown_never_somebody_elses(api: Api) -> None:
    before = await api.new_user()
    assert (await api.http.post("/_fake/reset")).status_code == 200
    after = await api.new_user()  # the same seed hands out the same ids again ...
    assert after.user_id == before.user_id and after.session_id == before.session_id
    stale = await api.http.get(  # ... but the old token is not the new user's
        f"/api/state/nemo_agent/me/{after.session_id}/latest", headers=before.headers
    )
    assert (stale.status_code, error_code(stale)) == (401, 1001)


async def test_a_token_from_an_earlier_run_of_the_same_seed_is_unknown() -> None:
    tokens = []
    for _ in range(2):  # two runs of the fake, as two `nemo-fake serve --seed 3` would be
        with NemoFake(FakeConfig(seed=3)) as fake:
            async with fake.http() as http:
                issued = await http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "c"})
                tokens.append(issued.json()["data"]["token"])
                stale = await http.get(
                    "/api/credits/balance/simple", headers={"Authorization": f"Bearer {tokens[0]}"}
                )
    assert tokens[0] != tokens[1]
    assert error_code(stale) == 1001


async def test_a_render_download_url_is_new_in_every_run_of_the_same_seed() -> None:
    secrets = []
    for _ in range(2):
        with NemoFake(FakeConfig(seed=3)) as fake:
            account = fake.backend.issue_anonymous_token("c", "127.0.0.1").account
            session = fake.backend.create_session(account, "p", "en")
            draft = {"t": [{"tt": 0, "sg": [{"s": 0, "d": 1000}]}], "d": 1000}
            job = fake.backend.submit_render(account, "r1", session.session_id, draft, None)
            secrets.append(job.file_secret)
    assert secrets[0] != secrets[1]


TOKEN = "/api/auth/anonymous-token"


@pytest.mark.parametrize(
    "nemo_fake_config",
    [FakeConfig(), FakeConfig(token_ttl=DAY, rate_window=7 * DAY, tokens_per_address=None)],
    ids=["7-day-token", "1-day-token-7-day-window"],
)
@pytest.mark.nemo_incompatible("tokens_per_client")
async def test_an_expired_token_is_renewed_with_the_same_client_id_for_the_same_user(
    api: Api, clock: VirtualClock, nemo_fake_config: FakeConfig
) -> None:
    first = (await api.http.post(TOKEN, headers={"X-Client-Id": "renewing"})).json()["data"]
    assert nemo_fake_config.token_ttl is not None
    clock.advance(nemo_fake_config.token_ttl)  # expired now, though the rate window runs on
    renewed = await api.http.post(TOKEN, headers={"X-Client-Id": "renewing"})
    assert renewed.status_code == 200, renewed.text
    assert renewed.json()["data"]["user_id"] == first["user_id"]
    assert renewed.json()["data"]["token"] != first["token"]
    again = await api.http.post(TOKEN, headers={"X-Client-Id": "renewing"})
    assert (again.status_code, error_code(again)) == (429, 429)  # the new one still works


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(token_ttl=None)])
async def test_a_token_that_never_expires(api: Api, clock: VirtualClock) -> None:
    issued = (await api.http.post(TOKEN, headers={"X-Client-Id": "forever"})).json()["data"]
    assert issued["expires_at"] is None
    clock.advance(365 * DAY)
    balance = await api.http.get(
        "/api/credits/balance/simple", headers={"Authorization": f"Bearer {issued['token']}"}
    )
    assert balance.status_code == 200


@pytest.mark.parametrize(
    "nemo_fake_config",
    [FakeConfig(client_id_required=False, tokens_per_address=5, rate_window=3600)],
)
async def test_without_a_required_client_id_each_request_is_a_new_user_limited_per_hour(
    api: Api, clock: VirtualClock
) -> None:
    users = [(await api.http.post(TOKEN)).json()["data"]["user_id"] for _ in range(5)]
    assert len(set(users)) == 5
    refused = await api.http.post(TOKEN)
    assert (refused.status_code, error_code(refused)) == (429, 429)
    assert "5 anonymous tokens per address per hour" in refused.json()["message"]
    clock.advance(3600)
    assert (await api.http.post(TOKEN)).status_code == 200


@pytest.mark.parametrize(
    ("client_id", "status"),
    [("x" * 64, 200), ("client-1732600000-12345", 200), ("x" * 65, 400), ("tab\there", 400)],
)
async def test_any_printable_client_id_up_to_64_characters_is_taken(
    api: Api, client_id: str, status: int
) -> None:
    response = await api.http.post(TOKEN, headers={"X-Client-Id": client_id})
    assert response.status_code == status
    if status == 400:
        assert "printable and at most 64 characters" in response.json()["message"]


@pytest.mark.parametrize("nemo_fake_config", [FakeConfig(anonymous_scopes=("*",))])
async def test_the_anonymous_scopes_are_a_setting(api: Api) -> None:
    issued = (await api.http.post(TOKEN, headers={"X-Client-Id": "scopes"})).json()["data"]
    assert issued["scopes"] == ["*"]


@pytest.mark.control_api  # the fake's stand-in for the web app's page
async def test_a_claim_link_opens_again_and_again_for_7_days_then_is_1001(
    api: Api, clock: VirtualClock
) -> None:
    user = await api.new_user()
    claim = await api.http.post(
        "/api/auth/claim-token",
        headers=user.headers,
        json={"task_id": user.task_id, "session_id": user.session_id},
    )
    link = f"/workspace/claim?ct={claim.json()['data']['claim_token']}"
    for _ in range(3):  # reusable: opening the link does not use it up
        opened = await api.http.get(link)
        assert opened.status_code == 200, opened.text
        assert opened.json()["data"]["session_id"] == user.session_id
        assert opened.json()["data"]["user_id"] == user.user_id
        clock.advance(3 * DAY)  # day 0, 3, 6
    expired = await api.http.get(link)
    assert (expired.status_code, error_code(expired)) == (401, 1001)


@pytest.mark.control_api  # the fake's stand-in for the web app's page
async def test_the_claim_page_refuses_a_real_token_in_the_url(api: Api) -> None:
    user = await api.new_user()
    for name in ("token", "nemo_token"):  # what older docs put in browser links
        leaked = await api.http.get("/workspace/claim", params={name: user.token})
        assert (leaked.status_code, error_code(leaked)) == (400, 400)
        assert "must never be put in a URL" in leaked.json()["message"]
        assert leaked.json()["field"] == "ct"
    unknown = await api.http.get("/workspace/claim", params={"ct": "clm_" + "0" * 32})
    assert error_code(unknown) == 1001


async def test_a_token_in_the_query_string_is_1001_saying_where_it_belongs(api: Api) -> None:
    user = await api.new_user()
    for name in ("token", "nemo_token"):  # as older eras' links carried it
        leaked = await api.http.get(
            "/api/credits/balance/simple", params={name: user.token}, headers=ATTRIBUTION
        )
        assert (leaked.status_code, error_code(leaked)) == (401, 1001)
        assert "never read from a URL" in leaked.json()["message"]


SCOPED_CALLS = [
    ("GET", "/api/state/nemo_agent/me/{sid}/latest", "read"),
    ("GET", "/api/credits/balance/simple", "read"),
    ("GET", "/api/render/proxy/lambda/render_1", "read"),
    ("GET", "/api/render/proxy/render_1/download", "read"),
    ("POST", "/api/tasks/me/with-session/nemo_agent", "write"),
    ("POST", "/run_sse", "write"),
    ("POST", "/api/auth/claim-token", "write"),
    ("POST", "/api/upload-video/nemo_agent/me/{sid}", "upload"),
    ("POST", "/api/render/proxy/lambda", "render"),
    ("POST", "/api/render/proxy/lambda/render_1/cancel", "render"),
]


@pytest.mark.parametrize(("method", "path", "scope"), SCOPED_CALLS)
@pytest.mark.parametrize("scopes", [(), ("read", "upload")], ids=["no-scopes", "read-upload"])
async def test_a_call_outside_the_tokens_scopes_is_1001_naming_the_scope_it_needs(
    api: Api, nemo_fake: NemoFake, method: str, path: str, scope: str, scopes: tuple[str, ...]
) -> None:
    owner = await api.new_user()  # the session exists; the scoped token is another user's
    nemo_fake.configure({"anonymous_scopes": list(scopes)})
    issued = await api.http.post("/api/auth/anonymous-token", headers={"X-Client-Id": "scoped"})
    assert issued.json()["data"]["scopes"] == list(scopes)
    headers = {**ATTRIBUTION, "Authorization": f"Bearer {issued.json()['data']['token']}"}
    response = await api.http.request(
        method, path.format(sid=owner.session_id), headers=headers, json={}
    )
    if scope in scopes:
        assert error_code(response) != 1001, response.text  # past auth: the call's own answer
    else:
        assert (response.status_code, error_code(response)) == (401, 1001)
        assert f"it needs {scope!r} or '*'" in response.json()["message"]


@pytest.mark.parametrize("scopes", [("write",), ("*",)])
async def test_write_or_star_lets_a_token_export(
    api: Api, nemo_fake: NemoFake, scopes: tuple[str, ...]
) -> None:
    # The render scope of VH:27ce8fe; V's anonymous tokens (read, write, upload) export.
    nemo_fake.configure({"anonymous_scopes": list(scopes)})
    user = await api.new_user()
    submitted = await api.submit_render(user, "render_1", draft_of())
    assert submitted.status_code == 200, submitted.text  # in whichever era's body


def test_an_unknown_scope_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match="anonymous_scopes: unknown 'admin'; use \\*, read"):
        FakeConfig(anonymous_scopes=("read", "admin"))
