"""Code and docs stand on their own: they cite no design notes, issue numbers or paths
outside the repository (a reader of a clone has none of those)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What a citation of material outside the repository looks like.
CITATIONS = re.compile(
    r"DESIGN ?§|DESIGN\.md|DOMAIN\.md|DOMAIN \"|\b[Ii]ssues? #?\d|\.\./shared|/work/"
)
CHECKED = ("*.py", "*.md", "*.toml", "*.yml", "*.yaml", "*.ini", "Makefile", "*Dockerfile")


def citations(text: str) -> list[str]:
    """The lines of ``text`` that cite outside material."""
    return [line.strip() for line in text.splitlines() if CITATIONS.search(line)]


def test_tracked_code_and_docs_cite_nothing_outside_the_repository() -> None:
    files = subprocess.run(
        ["git", "ls-files", *CHECKED], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    found = {
        name: lines
        for name in files
        if name != "tests/architecture/test_self_contained_docs.py"
        and (lines := citations((ROOT / name).read_text(errors="replace")))
    }
    assert found == {}


def test_the_check_finds_each_kind_of_citation() -> None:
    text = 'see DESIGN §5\nas issue 4 asks\n(DOMAIN "Placements")\n../shared/data\nfine line'
    assert len(citations(text)) == 4
