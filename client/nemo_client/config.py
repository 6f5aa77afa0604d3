"""Where the client talks to and who it says it is, from the vendor's environment variables."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_API_URL = "https://mega-api-prod.nemovideo.ai"
DEFAULT_WEB_URL = "https://nemovideo.com"
DEFAULT_CONFIG_DIR = Path("~/.config/nemovideo")
SKILL_NAME = "opusclip"
SKILL_VERSION = "1.0.0"


@dataclass(frozen=True)
class ClientConfig:
    """Where the client talks to and who it says it is; `from_env()` reads the vendor variables."""

    api_url: str = DEFAULT_API_URL
    web_url: str = DEFAULT_WEB_URL
    token: str | None = None
    client_id: str = ""
    skill_source: str = SKILL_NAME
    skill_version: str = SKILL_VERSION
    skill_platform: str = "unknown"
    config_dir: Path = DEFAULT_CONFIG_DIR

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        config_dir: Path | None = None,
        install_path: Path | None = None,
    ) -> ClientConfig:
        """NEMO_API_URL, NEMO_WEB_URL, NEMO_TOKEN, NEMO_CLIENT_ID, SKILL_SOURCE, as the skill
        defines them; a client id not given is made once and kept in the config directory."""
        env = os.environ if environ is None else environ
        folder = (config_dir or DEFAULT_CONFIG_DIR).expanduser()
        return cls(
            api_url=env.get("NEMO_API_URL", DEFAULT_API_URL).rstrip("/"),
            web_url=env.get("NEMO_WEB_URL", DEFAULT_WEB_URL).rstrip("/"),
            token=env.get("NEMO_TOKEN") or None,
            client_id=env.get("NEMO_CLIENT_ID") or persistent_client_id(folder),
            skill_platform=env.get("SKILL_SOURCE") or detect_platform(install_path),
            config_dir=folder,
        )

    @property
    def attribution(self) -> dict[str, str]:
        return {
            "X-Skill-Source": self.skill_source,
            "X-Skill-Version": self.skill_version,
            "X-Skill-Platform": self.skill_platform,
        }


def detect_platform(install_path: Path | None = None) -> str:
    """`clawhub` or `cursor` from where the skill is installed, else `unknown` (vendor doc)."""
    path = str((install_path or Path(__file__).resolve()).expanduser())
    home = str(Path.home())
    if path.startswith(f"{home}/.clawhub/"):
        return "clawhub"
    if path.startswith(f"{home}/.cursor/skills/"):
        return "cursor"
    return "unknown"


def persistent_client_id(config_dir: Path, *, renew: bool = False) -> str:
    """The client id kept in `<config_dir>/client_id`, made (or remade) as a UUID when needed.

    The vendor rate-limits tokens per client id: reusing one id keeps a user on one account."""
    path = config_dir.expanduser() / "client_id"
    if not renew:
        try:
            stored = path.read_text(encoding="utf-8").strip()
        except OSError:
            stored = ""
        if stored:
            return stored
    client_id = str(uuid.uuid4())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(client_id + "\n", encoding="utf-8")
    except OSError:
        pass  # an unwritable home still gets a working (if forgetful) client
    return client_id
