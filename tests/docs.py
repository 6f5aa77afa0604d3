"""The documentation as data: its pages, their fenced blocks, and how each block is run.

A block's fence names its language; an HTML comment on the line before may say how it runs:

- ```bash: a shell block. A page's shell blocks run together, in order, as one
  `bash -euo pipefail` script against a fake served for that page.
- ```python: Python, run in-process (top-level `await` allowed). A page's Python blocks share
  one namespace and one event loop, in order, so a walk-through may build on earlier blocks.
- `<!-- docs-test: tools -->` then ```bash: a shell block that installs an outside tool (from
  npm or PyPI) and uses it against the page's fake: run with the slow tests, skipped with the
  reason when the tool's runtime (Node.js for npm) is absent.
- `<!-- docs-test: slow -->` then ```bash: a shell block that takes seconds (processes talking
  to each other), run with the slow tests against the page's fake.
- `<!-- docs-test: pytest -->` then ```python: a test file, run by pytest in a fresh project.
- `<!-- docs-test: scenario -->` then ```yaml: a scenario file, run in-process.
- ```yaml, ```json, ```text, ```console: shown, never run (data, sample output, synopses,
  commands that install or serve forever).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

SHOWN = ("yaml", "json", "text", "console")
# language -> {marker (None: no comment) -> how the block runs}
KINDS: dict[str, dict[str | None, str]] = {
    "bash": {None: "shell", "tools": "tools", "slow": "slow shell"},
    "python": {None: "python", "pytest": "pytest"},
    "yaml": {None: "shown", "scenario": "scenario"},
    **{language: {None: "shown"} for language in ("json", "text", "console")},
}

FENCE = re.compile(r"^```(\S*)\s*$")
MARKER = re.compile(r"^<!--\s*docs-test:\s*(\S+)\s*-->$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the block's first line of code, 1-based
    language: str
    marker: str | None
    code: str

    @property
    def kind(self) -> str | None:
        """How the block runs ("shell", "python", "pytest", "scenario", "shown"), or None when
        its language or marker is not one the harness knows."""
        return KINDS.get(self.language, {}).get(self.marker)

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """Every fenced block of a page, in order. Fences start at column 0; an unclosed one
    raises ValueError."""
    found: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        previous = lines[index - 1].strip() if index else ""
        marker = MARKER.match(previous)
        end = next((i for i in range(index + 1, len(lines)) if lines[i].startswith("```")), None)
        if end is None:
            raise ValueError(f"{page.relative_to(ROOT)}:{index + 1}: a fence is never closed")
        found.append(
            Block(
                page=page,
                line=index + 2,
                language=opening.group(1),
                marker=marker.group(1) if marker else None,
                code="\n".join(lines[index + 1 : end]) + "\n",
            )
        )
        index = end + 1
    return found


def marked(page: Path, kind: str) -> list[Block]:
    return [block for block in blocks(page) if block.kind == kind]
