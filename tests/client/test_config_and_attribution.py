"""The client's configuration from the environment (client id, platform detection) and the
attribution headers on every API request."""

from __future__ import annotations

from pathlib import Path

import pytest

from nemo_client.config import ClientConfig, detect_platform, persistent_client_id
from tests.client.harness import (
    API,
    ATTRIBUTION,
    DRAFT,
    DRAFT_WITH_TITLE,
    TOKEN,
    Harness,
    adk_call,
    sse,
    state,
)


def test_from_env_reads_the_vendor_variables(tmp_path: Path) -> None:
    config = ClientConfig.from_env(
        {
            "NEMO_API_URL": "https://api.example/",
            "NEMO_WEB_URL": "https://web.example/",
            "NEMO_TOKEN": "nmv_usr_env",
            "NEMO_CLIENT_ID": "client-from-env",
            "SKILL_SOURCE": "cursor",
        },
        config_dir=tmp_path,
    )
    assert config.api_url == "https://api.example"
    assert config.web_url == "https://web.example"
    assert config.token == "nmv_usr_env"
    assert config.client_id == "client-from-env"
    assert config.skill_platform == "cursor"
    assert config.attribution == {
        "X-Skill-Source": "opusclip",
        "X-Skill-Version": "1.0.0",
        "X-Skill-Platform": "cursor",
    }
    assert not (tmp_path / "client_id").exists()  # an id given is not stored over the kept one


def test_from_env_defaults(tmp_path: Path) -> None:
    config = ClientConfig.from_env({}, config_dir=tmp_path, install_path=tmp_path / "skill")
    assert config.api_url == "https://mega-api-prod.nemovideo.ai"
    assert config.web_url == "https://nemovideo.com"
    assert config.token is None
    assert config.skill_platform == "unknown"
    assert config.config_dir == tmp_path


def test_an_empty_nemo_token_counts_as_unset(tmp_path: Path) -> None:
    assert ClientConfig.from_env({"NEMO_TOKEN": ""}, config_dir=tmp_path).token is None


def test_the_client_id_is_persisted_in_the_config_dir_and_reused(tmp_path: Path) -> None:
    first = ClientConfig.from_env({}, config_dir=tmp_path / "cfg")
    second = ClientConfig.from_env({}, config_dir=tmp_path / "cfg")
    assert first.client_id
    assert first.client_id == second.client_id
    assert (tmp_path / "cfg" / "client_id").read_text().strip() == first.client_id
    other = ClientConfig.from_env({}, config_dir=tmp_path / "elsewhere")
    assert other.client_id != first.client_id


def test_renewing_the_client_id_replaces_the_kept_one(tmp_path: Path) -> None:
    kept = persistent_client_id(tmp_path)
    renewed = persistent_client_id(tmp_path, renew=True)
    assert renewed != kept
    assert persistent_client_id(tmp_path) == renewed


@pytest.mark.parametrize(
    ("relative", "platform"),
    [
        (".clawhub/skills/opusclip/client/config.py", "clawhub"),
        (".cursor/skills/opusclip/client/config.py", "cursor"),
        (".cursor/extensions/opusclip/config.py", "unknown"),
        ("projects/opusclip/client/config.py", "unknown"),
        (".clawhubx/opusclip/config.py", "unknown"),
    ],
)
def test_platform_is_detected_from_the_install_path(
    tmp_path: Path, relative: str, platform: str
) -> None:
    assert detect_platform(Path.home() / relative) == platform
    config = ClientConfig.from_env({}, config_dir=tmp_path, install_path=Path.home() / relative)
    assert config.skill_platform == platform


def test_platform_detection_expands_a_tilde() -> None:
    assert detect_platform(Path("~/.clawhub/skills/opusclip/SKILL.md")) == "clawhub"


def test_skill_source_overrides_the_install_path(tmp_path: Path) -> None:
    config = ClientConfig.from_env(
        {"SKILL_SOURCE": "clawhub"},
        config_dir=tmp_path,
        install_path=Path.home() / ".cursor/skills/opusclip/config.py",
    )
    assert config.skill_platform == "clawhub"


async def test_attribution_headers_are_on_every_api_request(h: Harness) -> None:
    h.route("sse").side_effect = [sse(adk_call("edit_multitrack", {}))]
    # chat (before, after), status, export
    h.route("state").side_effect = [state(DRAFT)] + [state(DRAFT_WITH_TITLE)] * 3
    h.renders.url = lambda rid: None
    for message in [
        "upload https://example.com/a.mp4",
        "add a title",
        "credits",
        "status",
        "export",
    ]:
        assert await h.handle(message)
    endpoints = ["token", "session", "upload", "sse", "state", "balance", "submit", "poll"]
    endpoints += ["fallback", "claim"]
    assert all(h.route(name).called for name in endpoints)
    api_calls = [c for c in h.router.calls if str(c.request.url).startswith(API + "/")]
    for call in api_calls:
        for name, value in ATTRIBUTION.items():
            assert call.request.headers[name] == value, (call.request.url, name)
    authed = [c for c in api_calls if "/api/auth/anonymous-token" not in str(c.request.url)]
    assert all(c.request.headers["Authorization"] == f"Bearer {TOKEN}" for c in authed)
