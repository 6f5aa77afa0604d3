"""The seed's request router: which flow a user message goes to, decided before anything is
sent to the backend (export, credits, state and upload skip the agent entirely).

Matching rules:

- Rules are tried in the seed's table order and the first match wins, so "export my balance
  sheet" is an export.
- ASCII keywords are case-insensitive whole words. A "word boundary" is any character that is
  not an ASCII letter or digit: Python's `\\b` treats CJK characters as word characters and
  would miss "请export视频".
- Inflections are listed per keyword rather than matched by stem, so "exporter" (a noun) is
  not an export request. A `re`/`re-` prefix is accepted on the verbs ("reupload",
  "re-export"): it asks for the same thing again.
- "uploaded" is deliberately not an upload: it refers to a past upload ("extract clips from the
  video I uploaded"), which is an agent request. "exported"/"downloaded" are kept, as in
  "I want it exported as MP4".
- Words that are also video-editing vocabulary are excluded where the editing sense is
  unambiguous: film credits ("end credits", "opening credits", "roll the credits") and
  colour/audio balance ("white balance", "balance the audio"). Sending those to the credits
  flow would silently swallow an edit request.
- Multi-word phrases allow any whitespace between words, and a small set of filler words
  ("show me the tracks", "send me my video").
- Chinese keywords match as plain substrings: Chinese has no word spacing.
"""

from __future__ import annotations

import re
from typing import Literal

Route = Literal["export", "credits", "state", "upload", "sse"]

_START = r"(?<![a-z0-9])"
_END = r"(?![a-z0-9])"


def _words(pattern: str) -> str:
    return f"{_START}(?:{pattern}){_END}"


_EXPORT = re.compile(
    _words(
        r"(?:re-?)?export(?:s|ing|ed)?"
        r"|(?:re-?)?download(?:s|ing|ed)?"
        r"|send\s+me\s+(?:the|my|that|this)\s+videos?"
    )
    + "|导出",
    re.IGNORECASE,
)
_CREDITS = re.compile(_words(r"credits?|balances?") + "|积分|余额", re.IGNORECASE)
# Film credits and colour/audio balance are editing vocabulary, not the account: a word
# preceded or followed by one of these is skipped.
_EDITING_SENSE = {
    "credit": (
        re.compile(_START + r"(?:end|opening|closing|roll(?:ing)?(?:\s+the)?)\s+$", re.IGNORECASE),
        re.compile(r"^\s+(?:roll|sequence|scene|screen)", re.IGNORECASE),
    ),
    "balance": (
        re.compile(_START + r"(?:white|colou?r|audio|sound|volume|tonal|tone)\s+$", re.IGNORECASE),
        re.compile(
            r"^\s+(?:out\s+)?(?:the\s+|my\s+|its\s+)?"
            r"(?:audio|sound|music|volume|levels?|colou?rs?|mix)(?![a-z0-9])",
            re.IGNORECASE,
        ),
    ),
}
_STATE = re.compile(
    _words(r"status(?:es)?|show(?:\s+(?:me|the|my|all|current)){0,3}\s+tracks?") + "|状态",
    re.IGNORECASE,
)
_UPLOAD = re.compile(_words(r"(?:re-?)?upload(?:s|ing)?") + "|上传", re.IGNORECASE)


def route(message: str, *, has_file: bool = False) -> Route:
    """The flow for `message`; a message that comes with a file is an upload unless it names
    export, credits or status first."""
    if _EXPORT.search(message):
        return "export"
    if _asks_for_credits(message):
        return "credits"
    if _STATE.search(message):
        return "state"
    if has_file or _UPLOAD.search(message):
        return "upload"
    return "sse"


def _asks_for_credits(message: str) -> bool:
    for match in _CREDITS.finditer(message):
        word = match.group().lower()
        if not word.isascii():
            return True
        not_before, not_after = _EDITING_SENSE["credit" if word.startswith("c") else "balance"]
        if not_before.search(message[: match.start()]) or not_after.match(message[match.end() :]):
            continue
        return True
    return False
