"""Accounts, anonymous tokens with their rate limits, and claim tokens."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from nemo_fake.config import FakeConfig
from nemo_fake.domain.ids import IdFactory
from nemo_fake.domain.ledger import Ledger
from nemo_fake.errors import ApiError, Code

ANONYMOUS_SCOPES = ("read", "write", "upload")
MAX_CLIENT_ID_LENGTH = 128


@dataclass
class Account:
    user_id: str
    kind: Literal["anonymous", "registered"]
    client_id: str | None
    created_at: float
    ledger: Ledger = field(default_factory=Ledger)

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"


@dataclass
class Token:
    value: str
    user_id: str
    issued_at: float
    expires_at: float
    scopes: tuple[str, ...]
    revoked: bool = False


@dataclass(frozen=True)
class ClaimToken:
    value: str
    user_id: str
    task_id: str
    session_id: str
    expires_at: float


@dataclass(frozen=True)
class Issue:
    """What a client gets back for an anonymous token."""

    account: Account
    token: Token


class Accounts:
    def __init__(self, config: FakeConfig, ids: IdFactory) -> None:
        self._config = config
        self._ids = ids
        self.by_user: dict[str, Account] = {}
        self._by_client: dict[str, Account] = {}
        self.tokens: dict[str, Token] = {}
        self.claims: dict[str, ClaimToken] = {}
        # (issued_at, client_id, address) of every anonymous token, for the rate windows.
        self._issued: list[tuple[float, str, str]] = []

    def issue_anonymous(self, client_id: str, address: str, now: float) -> Issue:
        client_id = self._check_client_id(client_id)
        window_start = now - self._config.rate_window
        recent = [entry for entry in self._issued if entry[0] > window_start]
        if any(entry[1] == client_id for entry in recent):
            raise ApiError(
                Code.RATE_LIMITED,
                "Rate limit: 1 anonymous token per client id per 7 days, retry in 30s",
            )
        limit = self._config.tokens_per_address
        if limit is not None and sum(entry[2] == address for entry in recent) >= limit:
            raise ApiError(
                Code.RATE_LIMITED,
                f"Rate limit: {limit} anonymous tokens per address per 7 days, retry in 30s",
            )
        # The same client id comes back to the same anonymous user, credits and all.
        account = self._by_client.get(client_id)
        if account is None:
            account = Account(self._ids.user_id(), "anonymous", client_id, now)
            account.ledger.grant(self._config.anonymous_credits, "anonymous-signup", now)
            self.by_user[account.user_id] = account
            self._by_client[client_id] = account
        token = Token(
            self._ids.token(), account.user_id, now, now + self._config.token_ttl, ANONYMOUS_SCOPES
        )
        self.tokens[token.value] = token
        self._issued.append((now, client_id, address))
        return Issue(account, token)

    def authenticate(self, bearer: str | None, now: float) -> Account:
        if not bearer:
            raise ApiError(Code.BAD_TOKEN, "Missing bearer token")
        if bearer in self.claims:
            raise ApiError(Code.BAD_TOKEN, "A claim token has no API access")
        token = self.tokens.get(bearer)
        if token is None:
            raise ApiError(Code.BAD_TOKEN, "Unknown token")
        if token.revoked:
            raise ApiError(Code.BAD_TOKEN, "Token revoked")
        if now >= token.expires_at:
            raise ApiError(Code.BAD_TOKEN, "Token expired, get a new anonymous token")
        return self.by_user[token.user_id]

    def revoke(self, token_value: str) -> None:
        try:
            self.tokens[token_value].revoked = True
        except KeyError:
            raise ApiError(Code.BAD_TOKEN, "Unknown token") from None

    def claim(self, account: Account, task_id: str, session_id: str, now: float) -> ClaimToken:
        claim = ClaimToken(
            self._ids.claim_token(),
            account.user_id,
            task_id,
            session_id,
            now + self._config.claim_ttl,
        )
        self.claims[claim.value] = claim
        return claim

    @staticmethod
    def _check_client_id(client_id: str) -> str:
        client_id = client_id.strip()
        if not client_id:
            raise ApiError(Code.BAD_REQUEST, "Missing X-Client-Id header")
        if len(client_id) > MAX_CLIENT_ID_LENGTH or not client_id.isprintable():
            raise ApiError(
                Code.BAD_REQUEST,
                f"X-Client-Id must be printable and at most {MAX_CLIENT_ID_LENGTH} characters",
            )
        return client_id
