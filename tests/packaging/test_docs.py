"""The README stays an entry point, and the documentation's links lead somewhere.

The README grew to 44 KB of benchmark history before the details moved to
``docs/`` and ``bench/README.md``; the size limit keeps it a page a newcomer
reads. Moving text between files breaks links silently, so every relative
link (and its ``#anchor``, for Markdown targets) is checked here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT

README_LIMIT = 20_000  # bytes

DOCUMENTS = sorted(
    [ROOT / "README.md", ROOT / "bench" / "README.md", *(ROOT / "docs").glob("*.md")]
)

FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
INLINE_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def _prose(text: str) -> str:
    """The text without fenced code blocks and code spans, where links are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def _links(text: str) -> list[str]:
    prose = _prose(text)
    return INLINE_LINK.findall(prose) + REFERENCE.findall(prose)


def _anchors(path: Path) -> set[str]:
    """The ids GitHub gives a Markdown file's headings (duplicates get -1, -2 ...)."""
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for heading in HEADING.findall(FENCE.sub("", path.read_text())):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        anchors.add(slug if count == 0 else f"{slug}-{count}")
    return anchors


def _broken(document: Path) -> list[str]:
    broken = []
    for target in _links(document.read_text()):
        if SCHEME.match(target) or target.startswith("//"):
            continue  # an absolute URL, checked by nobody here
        path_part, _, anchor = target.partition("#")
        linked = (document.parent / path_part).resolve() if path_part else document
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target}: no heading #{anchor} in {linked.name}")
    return broken


def test_readme_stays_under_its_size_limit():
    size = (ROOT / "README.md").stat().st_size

    assert size < README_LIMIT, f"README.md is {size} bytes; move details to docs/"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(document):
    assert _broken(document) == []


def test_the_link_check_sees_a_broken_link_and_anchor(tmp_path):
    (tmp_path / "other.md").write_text("# Title\n\n## A section (`code`, ...)\n")
    page = tmp_path / "page.md"
    page.write_text(
        "[fine](other.md#a-section-code-) [fine too](other.md) [web](https://x.test)\n"
        "[gone](missing.md) [no anchor](other.md#nowhere)\n"
        "`[in code](not-checked.md)`\n"
        "```\n[in a block](not-checked-either.md)\n```\n"
        "[ref]: missing-too.md\n"
    )

    assert _broken(page) == [
        "missing.md: no such file",
        "other.md#nowhere: no heading #nowhere in other.md",
        "missing-too.md: no such file",
    ]
