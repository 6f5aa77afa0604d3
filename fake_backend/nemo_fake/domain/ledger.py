"""The credit ledger: every movement recorded, total = available + frozen, nothing negative."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from nemo_fake.errors import ApiError, Code

MovementKind = Literal["grant", "freeze", "charge", "release"]


@dataclass(frozen=True)
class Movement:
    """One change to an account's credits, with the balance right after it, and the API
    operation that caused it (a charge or release: the one that froze the credits)."""

    at: float
    kind: MovementKind
    amount: int
    ref: str
    available: int
    frozen: int
    operation: str = ""


@dataclass
class Ledger:
    available: int = 0
    frozen: int = 0
    movements: list[Movement] = field(default_factory=list)
    _holds: dict[str, int] = field(default_factory=dict, repr=False)
    _hold_operations: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def total(self) -> int:
        return self.available + self.frozen

    def grant(self, amount: int, ref: str, at: float, *, operation: str = "") -> None:
        self._check_amount(amount)
        self.available += amount
        self._record(at, "grant", amount, ref, operation)

    def freeze(self, amount: int, ref: str, at: float, *, operation: str = "") -> None:
        """Reserve credits for an operation in progress; 2001 when the balance can't cover it."""
        self._check_amount(amount)
        if ref in self._holds:
            raise ValueError(f"hold {ref!r} already exists")
        if amount > self.available:
            raise ApiError(
                Code.NO_CREDITS,
                f"Insufficient credits: this costs {amount}, {self.available} available",
            )
        self.available -= amount
        self.frozen += amount
        self._holds[ref] = amount
        self._hold_operations[ref] = operation
        self._record(at, "freeze", amount, ref, operation)

    def charge(self, ref: str, at: float) -> int:
        """The operation finished: the frozen credits are spent."""
        amount, operation = self._take_hold(ref)
        self.frozen -= amount
        self._record(at, "charge", amount, ref, operation)
        return amount

    def release(self, ref: str, at: float) -> int:
        """The operation did not happen: the frozen credits go back."""
        amount, operation = self._take_hold(ref)
        self.frozen -= amount
        self.available += amount
        self._record(at, "release", amount, ref, operation)
        return amount

    def holds(self) -> dict[str, int]:
        return dict(self._holds)

    def _take_hold(self, ref: str) -> tuple[int, str]:
        try:
            return self._holds.pop(ref), self._hold_operations.pop(ref, "")
        except KeyError:
            raise ValueError(f"no hold {ref!r}") from None

    @staticmethod
    def _check_amount(amount: int) -> None:
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise ValueError(f"amount must be a non-negative int, not {amount!r}")

    def _record(self, at: float, kind: MovementKind, amount: int, ref: str, operation: str) -> None:
        self.movements.append(
            Movement(at, kind, amount, ref, self.available, self.frozen, operation)
        )
