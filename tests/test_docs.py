"""The README and docs/DEVELOPMENT.md: every link inside them resolves, and each has a table of contents."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("README.md", "docs/DEVELOPMENT.md")
FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`[^`]*`")


def prose(text: str) -> list[str]:
    """The lines of a Markdown text outside fenced code blocks."""
    lines: list[str] = []
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append(line)
    return lines


def slug(title: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces made hyphens."""
    text = title.replace("`", "").strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def headings(path: Path) -> list[tuple[int, str]]:
    """Each heading of the file (outside code blocks): its level and its title."""
    found: list[tuple[int, str]] = []
    for line in prose(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if match:
            found.append((len(match.group(1)), match.group(2)))
    return found


def anchors(path: Path) -> set[str]:
    """Every anchor the file's headings give, repeats numbered as GitHub numbers them."""
    seen: dict[str, int] = {}
    result: set[str] = set()
    for _, title in headings(path):
        base = slug(title)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def links(path: Path) -> list[str]:
    """Every Markdown link target of the file outside code (fenced blocks and inline code)."""
    targets: list[str] = []
    for line in prose(path.read_text(encoding="utf-8")):
        targets.extend(LINK.findall(INLINE_CODE.sub("", line)))
    return targets


def contents(path: Path) -> str:
    """The text of the file's `## Contents` section."""
    text = "\n".join(prose(path.read_text(encoding="utf-8")))
    match = re.search(r"^## Contents\n(.*?)^## ", text, re.MULTILINE | re.DOTALL)
    assert match, f"{path.name} has no '## Contents' section"
    return match.group(1)


@pytest.mark.parametrize("name", DOCS)
def test_every_link_resolves(name: str) -> None:
    """Every `](#anchor)` points at a heading of the file, every relative link at a file that exists
    (and, with `#anchor`, at one of its headings)."""
    path = ROOT / name
    broken: list[str] = []
    for target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target}: no file {linked}")
        elif anchor and (linked.suffix != ".md" or anchor not in anchors(linked)):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    assert broken == [], name


@pytest.mark.parametrize("name", DOCS)
def test_the_contents_link_every_section(name: str) -> None:
    """The table of contents near the top links every `##` section of the file."""
    path = ROOT / name
    listed = set(re.findall(r"\]\(#([^)]+)\)", contents(path)))
    sections = {slug(title) for level, title in headings(path) if level == 2 and title != "Contents"}
    assert sections - listed == set(), name


def test_the_readme_names_no_issue_numbers() -> None:
    """Issue numbers are the developers' business: they stay in docs/DEVELOPMENT.md, not the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert re.findall(r"\bissues? \d+", readme, re.IGNORECASE) == []


def test_the_slug_is_githubs() -> None:
    """The anchors the links are checked against are GitHub's for the headings these files use."""
    assert slug("manage.py") == "managepy"
    assert slug("Benchmark: a whole class at once") == "benchmark-a-whole-class-at-once"
    assert slug("import-seed's chunks") == "import-seeds-chunks"
    assert slug("Corrections and the audit trail") == "corrections-and-the-audit-trail"
