"""Accounts, anonymous tokens with their rate limits, and claim tokens."""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from nemo_fake.config import DAY, FakeConfig
from nemo_fake.domain.ids import IdFactory
from nemo_fake.domain.ledger import Ledger
from nemo_fake.errors import ApiError, Code

# "any unique, stable string (<= 64 chars)" (vendor SKILL.md from VH:ff57a62 on).
MAX_CLIENT_ID_LENGTH = 64
# Printable characters (as str.isprintable() sees the Latin-1 a header decodes to), at most
# 64 of them: one pattern, checked here and stated in the OpenAPI document.
CLIENT_ID = re.compile(r"^[\x20-\x7e\xa1-\xac\xae-\xff]{1,64}$")


@dataclass
class Account:
    user_id: str
    kind: Literal["anonymous", "registered"]
    client_id: str | None
    created_at: float
    ledger: Ledger = field(default_factory=Ledger)
    last_active_at: float = 0.0  # API time of its latest token issued or call authenticated

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"


@dataclass
class Token:
    value: str
    user_id: str
    issued_at: float
    expires_at: float | None  # None: never (the "does not expire" era)
    scopes: tuple[str, ...]
    revoked: bool = False


def _since(times: list[float], start: float) -> int:
    """How many of these times (sorted) fall after `start`."""
    return len(times) - bisect.bisect_right(times, start)


def allows(scopes: tuple[str, ...], needs: str) -> bool:
    """Whether a token's scopes cover a call. VH:27ce8fe gave exports a `render` scope, but the
    anonymous tokens of VH:4058666 on (read, write, upload) export: `write` covers it too."""
    return "*" in scopes or needs in scopes or (needs == "render" and "write" in scopes)


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
        # When each anonymous token was issued, by client id and by address, oldest first:
        # a rate window is counted by bisection. Scanning every token ever issued made each
        # new one cost as much as all before it (87 us at 10,000 tokens).
        self._issued_to_client: defaultdict[str, list[float]] = defaultdict(list)
        self._issued_to_address: defaultdict[str, list[float]] = defaultdict(list)
        # Each user's newest token: a renewal is asking again once it no longer works.
        self._newest: dict[str, Token] = {}

    def issue_anonymous(self, client_id: str | None, address: str, now: float) -> Issue:
        """A token for the client id's anonymous user (made on first sight, credits and all).

        Rate limits count tokens in `rate_window`: per client id (`tokens_per_client`) and per
        address (`tokens_per_address`). A renewal, the same client id asking again once its
        user's newest token has expired or been revoked, always succeeds, for the same user
        (vendor CHANGELOG 1.8). Without `client_id_required`, a request without the header
        gets a new user each time."""
        client_id = self._check_client_id(client_id)
        account = self._by_client.get(client_id) if client_id else None
        if account is None or not self._renewal(account.user_id, now):
            self._check_rates(client_id, address, now)
        if account is None:
            account = Account(self._ids.user_id(), "anonymous", client_id, now)
            account.ledger.grant(
                self._config.anonymous_credits, "anonymous-signup", now, operation="anonymous_token"
            )
            self.by_user[account.user_id] = account
            if client_id:
                self._by_client[client_id] = account
        ttl = self._config.token_ttl
        token = Token(
            self._ids.token(),
            account.user_id,
            now,
            None if ttl is None else now + ttl,
            tuple(self._config.anonymous_scopes),
        )
        self.tokens[token.value] = token
        self._newest[account.user_id] = token
        account.last_active_at = now
        if client_id:
            bisect.insort(self._issued_to_client[client_id], now)
        bisect.insort(self._issued_to_address[address], now)
        return Issue(account, token)

    def _renewal(self, user_id: str, now: float) -> bool:
        newest = self._newest.get(user_id)
        return newest is not None and (newest.revoked or _expired(newest, now))

    def _check_rates(self, client_id: str | None, address: str, now: float) -> None:
        window = self._config.rate_window
        per_client = self._config.tokens_per_client
        from_client = (
            _since(self._issued_to_client.get(client_id, []), now - window) if client_id else 0
        )
        if per_client is not None and from_client >= per_client:
            raise ApiError(
                Code.RATE_LIMITED,
                f"Rate limit: {per_client} anonymous token(s) per client id per "
                f"{_span(window)}, retry in 30s",
            )
        per_address = self._config.tokens_per_address
        from_address = _since(self._issued_to_address.get(address, []), now - window)
        if per_address is not None and from_address >= per_address:
            raise ApiError(
                Code.RATE_LIMITED,
                f"Rate limit: {per_address} anonymous tokens per address per {_span(window)}, "
                "retry in 30s",
            )

    def authenticate(self, bearer: str | None, now: float, needs: str | None = None) -> Account:
        """The bearer's account; 1001 when the token is unknown, expired, revoked or a claim
        token, or when its scopes do not cover `needs`."""
        if not bearer:
            raise ApiError(Code.BAD_TOKEN, "Missing bearer token")
        if bearer in self.claims:
            raise ApiError(Code.BAD_TOKEN, "A claim token has no API access")
        token = self.tokens.get(bearer)
        if token is None:
            raise ApiError(Code.BAD_TOKEN, "Unknown token")
        if token.revoked:
            raise ApiError(Code.BAD_TOKEN, "Token revoked")
        if _expired(token, now):
            raise ApiError(Code.BAD_TOKEN, "Token expired, get a new anonymous token")
        if needs is not None and not allows(token.scopes, needs):
            raise ApiError(
                Code.BAD_TOKEN,
                f"This token's scopes ({', '.join(token.scopes) or 'none'}) do not allow this "
                f"call: it needs {needs!r} or '*'",
            )
        account = self.by_user[token.user_id]
        account.last_active_at = now
        return account

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

    def open_claim(self, value: str, now: float) -> ClaimToken:
        """The project a claim link names, as the web app finds it: any number of times until
        the claim token expires (the vendor's 1.9 docs: reusable for 7 days)."""
        claim = self.claims.get(value)
        if claim is None or now >= claim.expires_at:
            raise ApiError(Code.BAD_TOKEN, "Claim token unknown or expired (it lasts 7 days)")
        return claim

    def _check_client_id(self, client_id: str | None) -> str | None:
        if not (client_id or "").strip():
            if self._config.client_id_required:
                raise ApiError(Code.BAD_REQUEST, "Missing X-Client-Id header")
            return None
        assert client_id is not None
        if not CLIENT_ID.match(client_id):
            raise ApiError(
                Code.BAD_REQUEST,
                f"X-Client-Id must be printable and at most {MAX_CLIENT_ID_LENGTH} characters",
            )
        return client_id.strip()


def _expired(token: Token, now: float) -> bool:
    return token.expires_at is not None and now >= token.expires_at


def _span(seconds: float) -> str:
    """A rate window in words: "7 days", "hour", or seconds."""
    if seconds == 3600:
        return "hour"
    if seconds % DAY == 0:
        days = int(seconds // DAY)
        return "day" if days == 1 else f"{days} days"
    return f"{seconds:g} s"
