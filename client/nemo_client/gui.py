"""GUI translation (vendor SKILL.md §4): the agent talks as if the user were looking at the
NemoVideo editor ("click the Export button", "open the Music panel", "preview in timeline").
A chat client has no such screen, so those instructions are cut out of the reply and handed
back as actions the client can carry out through the API; everything else is kept.

Rules:

- A reply is handled line by line. Numbered list lines ("1. ...", "2、...") are content (the
  extraction reply's clip list) and are kept verbatim, without looking for GUI phrases: acting
  on a list item could start an export nobody asked for.
- A line is split into sentences at . ! ? (followed by a space or the end of the line) and at
  。！？…; a sentence with no GUI phrase is kept byte for byte, so text without GUI phrases comes
  back unchanged.
- A sentence with a GUI phrase is split into clauses at , ; : (before a space), ， ； ： and
  at the connectors
  "then", "and then", "or", "然后"; the clauses holding a GUI phrase are removed. A leading
  connector ("or", "then", "然后", "或") on what is now the first clause is dropped and the
  clause capitalised; the sentence keeps its end punctuation. A sentence with nothing left is
  dropped, and so is a line.
- Quoted text ("...", '...', “...”, 「...」, 『...』) is content, a title the user chose for
  instance: a GUI phrase starting inside quotes is ignored, and quotes and parentheses are
  never split. A button label may still be quoted after the verb: click "Export".
- Bare "open", "export" and "drop" are common words, so show_state needs a GUI noun after
  "open" (panel, tab, menu, page, ...), export needs "click/press/tap Export" or "Export
  button", and "drop" needs an object and a place ("drop the clip on ..."). "drag" alone is
  taken as GUI: there is nothing to drag in a chat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

GuiActionKind = Literal[
    "execute", "show_state", "send_edit", "show_timeline", "export", "show_credits"
]


@dataclass(frozen=True)
class GuiAction:
    kind: GuiActionKind
    phrase: str  # the GUI phrase found, e.g. "click the Export button"


@dataclass(frozen=True)
class Translation:
    text: str
    actions: tuple[GuiAction, ...]


# A word boundary for ASCII words that also holds next to CJK characters (which `\b` treats
# as word characters).
_S = r"(?<![A-Za-z0-9])"
_E = r"(?![A-Za-z0-9])"
_OPEN_Q = "[\"“'「『]?"
_CLOSE_Q = "[\"”'」』]?"
# A few words between a verb and its GUI noun: "the Upload", "the Background Music".
_LABEL = r"(?:\s+" + _OPEN_Q + r"[\w-]+" + _CLOSE_Q + r"){0,3}?"
_CJK_LABEL = r"[^\s，。！？；：,.!?;:]{0,8}?"
_PANEL = r"(?:panel|tab|menu|window|sidebar|library|editor|settings|dialog|page|view)s?"

# Alternatives are tried in order at each position, so the specific ones ("click Export",
# "open your account page") come before the general ones ("click", "open ... page").
_GUI = re.compile(
    "|".join(
        [
            rf"(?P<export>{_S}(?:click(?:ing)?|press|tap)(?:\s+on)?(?:\s+the)?\s+{_OPEN_Q}"
            rf"export{_CLOSE_Q}(?:\s+button)?{_E}"
            rf"|{_S}(?:the\s+)?{_OPEN_Q}export{_CLOSE_Q}\s+button{_E}"
            r"|点击导出(?:按钮)?|导出按钮)",
            rf"(?P<show_credits>{_S}(?:check|open|visit|see)(?:\s+out)?(?:\s+(?:your|the))?"
            rf"\s+(?:account|billing|dashboard)(?:\s+(?:page|panel|settings))?{_E}"
            r"|(?:查看|打开)(?:你的)?(?:账户|账号)(?:页面)?)",
            rf"(?P<show_timeline>{_S}preview(?:ing)?(?:\s+(?:it|them|this|that|the\s+\w+))?"
            rf"\s+(?:in|on)\s+(?:the\s+|your\s+)?timeline{_E}"
            r"|在时间线[中上里]预览|时间线预览)",
            rf"(?P<execute>{_S}(?:click(?:ing)?|press|tap)(?:\s+on)?(?:\s+the)?{_LABEL}"
            rf"\s+button{_E}"
            rf"|{_S}click(?:s|ing)?{_E}"
            rf"|点击(?:{_CJK_LABEL}按钮)?)",
            rf"(?P<show_state>{_S}open(?:ing)?(?:\s+up)?(?:\s+(?:the|your))?{_LABEL}"
            rf"\s+{_PANEL}{_E}"
            rf"|打开(?:{_CJK_LABEL}(?:面板|页面|窗口|菜单|设置))?)",
            rf"(?P<send_edit>{_S}drag(?:s|ging)?(?:\s+(?:and|&|n)\s+drop)?{_E}"
            # "drop" alone is too common ("a drop in volume", "the beat drop"): only "drop X
            # on/into/here" is an instruction.
            rf"|{_S}drop(?:s|ping)?\s+(?:it|them|the\s+[\w-]+|[\w-]+)\s+(?:on|onto|into|here){_E}"
            r"|拖拽|拖动|拖放)",
        ]
    ),
    re.IGNORECASE,
)

_QUOTED = re.compile(
    r"\"[^\"\n]*\"|“[^”\n]*”|「[^」\n]*」|『[^』\n]*』"
    # Single quotes only as a pair around words, so apostrophes ("don't", "I'll") don't pair.
    r"|(?<![A-Za-z0-9])'[^'\n]*'(?![A-Za-z0-9])"
)
_BRACKETED = re.compile(r"\([^()\n]*\)|（[^（）\n]*）")
_NUMBERED = re.compile(r"\s*\d{1,3}(?:[.)．）](?=\s)|、)")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|[。！？…]+")
_CONNECTOR = rf"(?:and\s+)?then{_E}|or{_E}|然后|或者|或(?!许)"
_CLAUSE_SEP = re.compile(
    # ASCII marks split only before a space: "1,000", "0:05" and "3;4" stay whole.
    rf"\s*(?:[,;:](?=\s)|[，；：])\s*(?:(?:{_CONNECTOR})\s*)?"
    r"|\s+(?:and\s+)?then\s+|\s+or\s+|然后",
    re.IGNORECASE,
)
# Separators take most connectors with them; these are the ones left on a clause that now
# opens the sentence ("Click Export, and I'll ...").
_LEADING_CONNECTOR = re.compile(rf"^(?:{_CONNECTOR}|and{_E}|并且)\s*", re.IGNORECASE)
# Stands in for masked characters; keeps offsets, and is neither a separator nor a letter.
_MASK = "\x00"


def translate(text: str) -> Translation:
    """Drop GUI instructions from an agent reply, keep its content, and list the actions meant."""
    actions: list[GuiAction] = []
    out: list[str] = []
    changed = False
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        newline = line[len(body) :]
        if _NUMBERED.match(body):
            out.append(line)
            continue
        found = _gui_phrases(body)
        if not found:
            out.append(line)
            continue
        changed = True
        actions.extend(GuiAction(kind, phrase) for _, _, kind, phrase in found)
        body = _drop_bracketed(body, [start for start, _, _, _ in found])
        kept = _remove_gui(body, [(start, end) for start, end, _, _ in _gui_phrases(body)])
        if kept:
            out.append(kept + newline)
    if not changed:
        return Translation(text, ())
    unique: list[GuiAction] = []
    for action in actions:
        if all(action.kind != seen.kind for seen in unique):
            unique.append(action)
    return Translation("".join(out).strip(), tuple(unique))


def _gui_phrases(line: str) -> list[tuple[int, int, GuiActionKind, str]]:
    """(start, end, kind, phrase) of each GUI phrase in `line` that doesn't start inside quotes."""
    quoted = [match.span() for match in _QUOTED.finditer(line)]
    found: list[tuple[int, int, GuiActionKind, str]] = []
    for match in _GUI.finditer(line):
        start = match.start()
        if any(a < start < b for a, b in quoted):
            continue
        kind: GuiActionKind = match.lastgroup  # type: ignore[assignment]
        found.append((start, match.end(), kind, match.group()))
    return found


def _drop_bracketed(line: str, starts: list[int]) -> str:
    """`line` without the parenthesised asides that hold a GUI phrase: "Your video is ready
    (click Export to download it)." keeps its sentence."""
    for match in reversed(list(_BRACKETED.finditer(line))):
        if any(match.start() < start < match.end() for start in starts):
            line = line[: match.start()].rstrip(" \t") + line[match.end() :]
    return line


def _mask(line: str) -> str:
    """`line` with quoted and bracketed text blanked, so punctuation inside isn't split on."""
    chars = list(line)
    for pattern in (_QUOTED, _BRACKETED):
        for match in pattern.finditer(line):
            chars[match.start() + 1 : match.end() - 1] = _MASK * (match.end() - match.start() - 2)
    return "".join(chars)


def _remove_gui(line: str, spans: list[tuple[int, int]]) -> str:
    """The line without the clauses holding a GUI phrase (at `spans`)."""
    masked = _mask(line)
    pieces: list[str] = []
    begin = 0
    ends = [(m.start(), m.end()) for m in _SENTENCE_END.finditer(masked)]
    if not ends or ends[-1][1] < len(masked.rstrip()):
        ends.append((len(masked.rstrip()), len(masked.rstrip())))
    for body_end, stop in ends:
        tail = len(masked) - len(masked[stop:].lstrip())  # keep the space after the sentence
        hits = [(a - begin, b - begin) for a, b in spans if a < body_end and b > begin]
        if not hits:
            pieces.append(line[begin:tail])
        else:
            rebuilt = _remove_clauses(line[begin:body_end], masked[begin:body_end], hits)
            if rebuilt:
                pieces.append(rebuilt + line[body_end:tail])
        begin = tail
    return re.sub(r"[ \t]{2,}", " ", "".join(pieces)).rstrip()


def _remove_clauses(sentence: str, masked: str, hits: list[tuple[int, int]]) -> str:
    kept: list[tuple[str, str, bool]] = []  # (separator before, clause, was first)
    begin, separator = 0, ""
    bounds = [(m.start(), m.end()) for m in _CLAUSE_SEP.finditer(masked)]
    for sep_start, sep_end in [*bounds, (len(masked), len(masked))]:
        clause = sentence[begin:sep_start]
        # A phrase may run over a separator ("open then the panel"): every clause it touches goes.
        if clause.strip() and not any(a < sep_start and b > begin for a, b in hits):
            kept.append((separator, clause.strip(), begin == 0))
        begin, separator = sep_end, sentence[sep_start:sep_end]
    if not kept:
        return ""
    _, first, was_first = kept[0]
    if not was_first:
        first = _LEADING_CONNECTOR.sub("", first, count=1)
        first = first[:1].upper() + first[1:]
    return first + "".join(sep + clause for sep, clause, _ in kept[1:])
