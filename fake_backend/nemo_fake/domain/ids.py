"""Identifiers that look like the vendor's and repeat exactly for a given seed."""

from __future__ import annotations

import random


class IdFactory:
    """One seeded stream of ids: the same seed and the same calls give the same ids."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"nemo-fake:ids:{seed}")

    def _hex(self, n: int) -> str:
        return "".join(self._rng.choice("0123456789abcdef") for _ in range(n))

    def _digits(self, n: int) -> str:
        return str(self._rng.randint(1, 9)) + "".join(
            self._rng.choice("0123456789") for _ in range(n - 1)
        )

    def token(self) -> str:
        return "nmv_usr_" + self._hex(32)

    def user_id(self) -> str:
        return "anon_" + self._hex(16)

    def task_id(self) -> str:
        return self._digits(19)

    def session_id(self) -> str:
        # api-reference.md shows a long digit string, e.g. 5529798706024415232.
        return self._digits(19)

    def claim_token(self) -> str:
        return "clm_" + self._hex(32)

    def file_id(self) -> str:
        return "file_" + self._hex(16)

    def secret(self) -> str:
        return self._hex(24)


def chance(seed: int, *key: object) -> random.Random:
    """A generator for one decision about one object, independent of call order elsewhere."""
    return random.Random(":".join(["nemo-fake", str(seed), *map(str, key)]))
