"""Identifiers that look like the vendor's.

The ids a user pins in a test (user, session, task and file ids, and the agent's run ids) repeat
exactly for a given seed. Credentials and URL secrets (tokens, claim tokens, the secret in a
render's download URL) never do: they come from the operating system, unique in every process
and after every reset, so a token kept from an earlier run is unknown (1001), never somebody
else's.
"""

from __future__ import annotations

import random
import secrets


class IdFactory:
    """One seeded stream of ids, plus unguessable credentials: the same seed and the same calls
    give the same ids, and always new credentials."""

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(f"nemo-fake:ids:{seed}")

    # One draw per id, not one per character (a tenth of an extraction's cost). A seed gives
    # other ids than it did before this change: docs/changelog.md says so.
    def _hex(self, n: int) -> str:
        return hex_digits(self._rng, n)

    def _digits(self, n: int) -> str:
        return str(self._rng.randrange(10 ** (n - 1), 10**n))

    def token(self) -> str:
        return "nmv_usr_" + secrets.token_hex(16)

    def user_id(self) -> str:
        return "anon_" + self._hex(16)

    def task_id(self) -> str:
        return self._digits(19)

    def session_id(self) -> str:
        # api-reference.md shows a long digit string, e.g. 5529798706024415232.
        return self._digits(19)

    def claim_token(self) -> str:
        return "clm_" + secrets.token_hex(16)

    def file_id(self) -> str:
        return "file_" + self._hex(16)

    def secret(self) -> str:
        """For URLs that work without a bearer: only their holder may know them."""
        return secrets.token_hex(12)

    def run_id(self) -> str:
        return "e-" + self._hex(24)


def hex_digits(rng: random.Random, n: int) -> str:
    """`n` random lowercase hex digits, in one draw."""
    return f"{rng.getrandbits(4 * n):0{n}x}"


def chance(seed: int, *key: object) -> random.Random:
    """A generator for one decision about one object, independent of call order elsewhere."""
    return random.Random(":".join(["nemo-fake", str(seed), *map(str, key)]))
