"""A user's project, as the tests of the import names build it: its own `client` and
`fake_backend` packages, imported by its conftest before any test runs (so they are in
`sys.modules` first, as they would be in real life), and a test file using every fixture."""

from __future__ import annotations

import textwrap
from pathlib import Path

USER_PROJECT = {
    "client/__init__.py": 'OWNER = "the user"\n',
    "client/api.py": "def call() -> str:\n    return 'the user\\'s own client'\n",
    "fake_backend/__init__.py": 'OWNER = "the user"\n',
    "conftest.py": """
        import client.api
        import fake_backend

        assert client.api.call() == "the user's own client"
        assert fake_backend.OWNER == "the user"
    """,
    "pytest.ini": "[pytest]\nanyio_mode = auto\n",
    "test_with_nemo_fake.py": """
        import client
        import fake_backend
        import httpx
        import pytest
        from nemo_fake import FakeConfig

        pytestmark = pytest.mark.anyio
        CLIENT_ID = {"X-Client-Id": "user-project"}


        async def test_nemo_fake(nemo_fake):
            async with nemo_fake.http() as http:
                response = await http.post("/api/auth/anonymous-token", headers=CLIENT_ID)
            token = response.json()["data"]["token"]
            assert [m.kind for m in nemo_fake.ledger(token)] == ["grant"]


        async def test_nemo_server(nemo_server):
            async with httpx.AsyncClient(base_url=nemo_server.url) as http:
                response = await http.post("/api/auth/anonymous-token", headers=CLIENT_ID)
            assert response.json()["code"] == 0


        @pytest.mark.parametrize("nemo_fake_config", [FakeConfig(silent_edit_ratio=0)])
        async def test_nemo_client(nemo_client):
            await nemo_client.upload(["https://media.example.com/talk.mp4"])
            assert await nemo_client.handle("extract the top 3 viral clips")
            assert any("virality score" in line for line in nemo_client.said)


        async def test_nemo_respx(nemo_respx):
            async with httpx.AsyncClient() as http:
                response = await http.post(
                    "https://mega-api-prod.nemovideo.ai/api/auth/anonymous-token",
                    headers=CLIENT_ID,
                )
            assert response.json()["code"] == 0
            assert nemo_respx.calls.call_count == 1


        def test_the_users_own_packages_are_untouched():
            assert client.OWNER == "the user" and fake_backend.OWNER == "the user"
    """,
}


def write_user_project(folder: Path) -> None:
    for name, text in USER_PROJECT.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
