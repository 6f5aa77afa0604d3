"""`RemoteFake`: a served fake's controls over HTTP, through its `/_fake/` control API.

The remote implementation of `FakeControl` (`NemoFake` is the in-process one), as WireMock's
`HttpAdminClient` is of its `Admin`. Synchronous: each call is one blocking request (two for a
ledger found by token), so it drives a fake served by another thread or process.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from nemo_fake.clock import ClockInfo
from nemo_fake.config import FakeConfig, with_overrides
from nemo_fake.domain.faults import FaultRule
from nemo_fake.domain.ledger import Movement
from nemo_fake.journal import JournalEntry
from nemo_fake.testing.tls import shared_tls_context

__all__ = ["ControlError", "RemoteFake"]


class ControlError(Exception):
    """A control call that failed, in one line naming the call: the fake refused it (`status`,
    its `message`, and the envelope's `code` and `field` when it sent them), or nothing
    answered like a fake (`status` None for no answer at all)."""

    def __init__(
        self,
        call: str,
        status: int | None,
        message: str,
        *,
        code: int | None = None,
        field: str | None = None,
    ) -> None:
        answered = "no answer" if status is None else f"HTTP {status}"
        super().__init__(f"{call}: {answered}: {message}")
        self.call = call
        self.status = status
        self.message = message
        self.code = code
        self.field = field


class _ControlApi:
    """One request to `/_fake/` per call: its `data` back, or a `ControlError` naming it."""

    def __init__(self, url: str, admin_token: str | None, timeout: float) -> None:
        self.url = url.rstrip("/")
        headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
        self.http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout, verify=shared_tls_context()
        )

    def call(self, call: str, method: str, path: str, **kwargs: Any) -> Any:
        # `call` and `path` name the request in errors; query parameters (a token) never do.
        name = f"{call} ({method} {path})"
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            reason = str(error) or type(error).__name__
            raise ControlError(name, None, f"nothing answered at {self.url}: {reason}") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "code" not in body:
            raise ControlError(
                name, response.status_code, f"{self.url} answered, but not as a nemo-fake"
            )
        if response.status_code == 200 and body["code"] == 0:
            return body.get("data")
        message = body.get("message") or body.get("msg") or response.reason_phrase
        code = body["code"] if isinstance(body["code"], int) else None
        raise ControlError(
            name, response.status_code, str(message), code=code, field=body.get("field")
        )


class RemoteFaults:
    """A served fake's fault rules: each use is one request to `/_fake/faults`."""

    def __init__(self, api: _ControlApi) -> None:
        self._api = api

    @property
    def rules(self) -> list[FaultRule]:
        """The rules as the fake holds them now, counts and all (a fresh copy each read)."""
        data = self._api.call("faults.rules", "GET", "/_fake/faults")
        return [FaultRule(**rule) for rule in data["rules"]]

    def add(self, rule: FaultRule) -> FaultRule:
        """Add `rule` (its `id` is set, as in process); the rule as the fake added it. Its
        counts change over there: read `rules` for them later."""
        data = self._api.call("faults.add", "POST", "/_fake/faults", json=rule.to_dict())
        added = FaultRule(**data)
        rule.id = added.id
        return added

    def remove(self, rule_id: str) -> None:
        self._api.call("faults.remove", "DELETE", f"/_fake/faults/{quote(rule_id, safe='')}")

    def clear(self) -> None:
        self._api.call("faults.clear", "DELETE", "/_fake/faults")


class RemoteJournal:
    """A served fake's journal: each use is one request to `/_fake/journal`."""

    def __init__(self, api: _ControlApi) -> None:
        self._api = api

    def find(
        self,
        *,
        method: str | None = None,
        path: str | None = None,
        operation: str | None = None,
        status: int | None = None,
        code: int | None = None,
        since: int | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """Entries matching every filter given, oldest first; `path` matches as a prefix;
        `since` a seq (only later entries), `limit` at most that many."""
        filters: dict[str, str | int | None] = {
            "method": method, "path": path, "operation": operation, "status": status, "code": code,
            "since": since, "limit": limit,
        }  # fmt: skip
        params = {key: value for key, value in filters.items() if value is not None}
        data = self._api.call("journal.find", "GET", "/_fake/journal", params=params)
        return [JournalEntry(**entry) for entry in data["entries"]]

    def clear(self) -> None:
        self._api.call("journal.clear", "DELETE", "/_fake/journal")


class RemoteFake:
    """The controls of a fake served at `url` (`nemo-fake serve`, `nemo_server`), over HTTP.

    `admin_token` is the bearer a fake served with `--admin-token` requires; without one a
    fake answers its control API to loopback clients only. Every refusal, and a fake that
    does not answer, raises `ControlError`; `ping()` checks first, for a one-line error.
    Close it, or use it as a context manager.
    """

    def __init__(self, url: str, admin_token: str | None = None, *, timeout: float = 10.0) -> None:
        self._api = _ControlApi(url, admin_token, timeout)
        self._faults = RemoteFaults(self._api)
        self._journal = RemoteJournal(self._api)

    @property
    def url(self) -> str:
        return self._api.url

    def ping(self) -> ClockInfo:
        """The fake's clock, if a fake's control API answers at `url` to this client; else a
        `ControlError` saying what is there instead."""
        try:
            return self.clock_info()
        except ControlError as error:
            if error.status == 404:
                raise ControlError(
                    "ping",
                    404,
                    f"{self.url} serves no nemo-fake control API to this client (a served fake "
                    "answers /_fake/ to loopback clients, or to any with its --admin-token)",
                ) from None
            raise

    @property
    def faults(self) -> RemoteFaults:
        return self._faults

    @property
    def journal(self) -> RemoteJournal:
        return self._journal

    @property
    def config(self) -> FakeConfig:
        """The settings in force over there (a fresh copy each read)."""
        return _config(self._api.call("config", "GET", "/_fake/config"))

    def configure(self, overrides: Mapping[str, object]) -> FakeConfig:
        """Change settings by the names and with the checks of `serve --set`; the settings
        now in force. A new `seed` reseeds ids and fault chances from the next `reset()`."""
        data = self._api.call("configure", "PATCH", "/_fake/config", json=dict(overrides))
        return _config(data["config"])

    def reset(self) -> None:
        self._api.call("reset", "POST", "/_fake/reset")

    def now(self) -> float:
        return self.clock_info().now

    def advance(self, seconds: float) -> float:
        data = self._api.call("advance", "POST", "/_fake/clock/advance", json={"seconds": seconds})
        return float(data["now"])

    def set_speed(self, speed: float) -> None:
        self._api.call("set_speed", "POST", "/_fake/clock/speed", json={"speed": speed})

    def clock_info(self) -> ClockInfo:
        return ClockInfo(**self._api.call("clock_info", "GET", "/_fake/clock"))

    def ledger(self, token_or_user_id: str) -> list[Movement]:
        """Every credit movement of an account, oldest first, by a bearer token or user id.

        Asks by user id first, then by token: a token then travels in a query string, which
        the fake never logs (your own httpx logging, at INFO, would)."""
        for key in ("user_id", "token"):
            params = {key: token_or_user_id}
            data = self._api.call("ledger", "GET", "/_fake/ledger", params=params)
            if data["accounts"]:
                return [Movement(**movement) for movement in data["accounts"][0]["movements"]]
        raise KeyError(f"no account for token or user id {token_or_user_id!r}")

    def snapshot(self) -> str:
        snapshot_id: str = self._api.call("snapshot", "POST", "/_fake/snapshots")["id"]
        return snapshot_id

    def restore(self, snapshot_id: str) -> None:
        path = f"/_fake/snapshots/{quote(snapshot_id, safe='')}/restore"
        self._api.call("restore", "POST", path)

    def close(self) -> None:
        self._api.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _config(data: dict[str, Any]) -> FakeConfig:
    # The answer is every setting by name: exactly the overrides that rebuild it.
    return with_overrides(FakeConfig(), data)
