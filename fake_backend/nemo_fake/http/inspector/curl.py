"""A journal entry as a `curl` command to send the request again, without its credentials: the
journal never keeps a header, so the token is the reader's own, from the environment."""

from __future__ import annotations

import shlex

from nemo_fake.http.auth import SCOPE_NEEDED
from nemo_fake.journal import JournalEntry


def curl_command(entry: JournalEntry, base_url: str) -> str:
    parts = ["curl", "-s"]
    if entry.method != "GET":
        parts += ["-X", entry.method]
    parts.append(shlex.quote(base_url.rstrip("/") + entry.path))
    # Double quotes: the shell fills in the reader's own token or client id.
    if entry.operation in SCOPE_NEEDED:
        parts += ["-H", '"Authorization: Bearer $NEMO_TOKEN"']
    elif entry.operation == "anonymous_token":
        parts += ["-H", '"X-Client-Id: $NEMO_CLIENT_ID"']
    return " ".join(parts)
