"""The user documentation: the README is a short front door, every relative link in it and in
``docs/`` leads somewhere, and the pages speak of the software as it is (no issue numbers or commit
hashes: those belong in the changelog and ``benchmarks/results/``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)", re.DOTALL)
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
ISSUE = re.compile(r"\bissues?\s+#?\d+|(?<![\w&/])#\d+\b|\bPR\s*#?\d+", re.IGNORECASE)
HEX = re.compile(r"(?<![\w…/.-])(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])(?:[0-9a-f]{7,12}|[0-9a-f]{40})(?![\w…-])")


def prose(text: str) -> str:
    """The text a reader sees as prose and links: fenced blocks blanked, code spans emptied."""
    text = FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return CODE_SPAN.sub("``", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup and punctuation dropped, lower case, spaces as dashes."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every heading's anchor on ``page``, repeated headings numbered as GitHub numbers them."""
    seen: dict[str, int] = {}
    found = set()
    for heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links(page: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(prose(page.read_text(encoding="utf-8")))
        if not re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE)  # http:, https:, mailto: ...
    ]


def test_slugs_follow_github() -> None:
    assert slug("Rows follow the reference's sentences") == "rows-follow-the-references-sentences"
    assert slug("`tarjama serve`") == "tarjama-serve"
    assert slug("Reading `aligned.tsv` back") == "reading-alignedtsv-back"
    assert slug("Corpus builds: figures") == "corpus-builds-figures"


def test_the_readme_is_a_front_door_of_at_most_200_lines() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200
    links = relative_links(ROOT / "README.md")
    assert "docs/index.md" in links
    for part in ("## Two commands", "## Walkthrough", "## Exit status", "## Documentation"):
        assert any(line.startswith(part) for line in lines), part


def test_run_help_lists_every_exit_status_the_readme_lists() -> None:
    """`tarjama run --help` had no 130 / 143 (Ctrl-C, SIGTERM), which the README lists."""
    import os
    import subprocess

    from conftest import TARJAMA

    readme = (ROOT / "README.md").read_text(encoding="utf-8").partition("## Exit status")[2]
    statuses = {s for row in re.findall(r"^\| ([\d, ]+) \|", readme, re.MULTILINE) for s in re.findall(r"\d+", row)}
    assert {"0", "1", "2", "3", "130", "143"} <= statuses
    wide = {**os.environ, "COLUMNS": "400"}
    helped = subprocess.run([TARJAMA, "run", "--help"], capture_output=True, text=True, env=wide, timeout=60).stdout
    listed = helped.partition("Exit status:")[2]
    assert {s for s in statuses if not re.search(rf"\b{s}\b", listed)} == set()


def test_every_docs_page_is_reachable_from_the_index() -> None:
    linked = {target.split("#")[0] for target in relative_links(ROOT / "docs" / "index.md")}
    pages = {page.name for page in PAGES if page.parent == ROOT / "docs" and page.name != "index.md"}
    assert pages - linked == set()


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_leads_to_a_file_and_heading_that_exist(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path, _, anchor = target.partition("#")
        destination = (page.parent / path).resolve() if path else page
        if not destination.exists():
            broken.append(f"{target}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{target}: no heading with that anchor")
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_user_docs_name_no_issue_numbers_or_commit_hashes(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert ISSUE.findall(text) == []
    assert HEX.findall(FENCE.sub("", text)) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("fixed in issue 12", True),
        ("see #19", True),
        ("commit `dc406e1` was faster", True),
        ("at 4aea218c0ffee1234567890abcdef1234567890a", True),
        ("the shard `.shards/c853e1962b6bffcc77d790d9182eeb4b.parquet`", False),
        ("SHA-256 `cc324af0…933bb046`", False),
        ("| # | case |", False),
        ("run broken (b1903d29-…) is Failed", False),
        ("a deadbeef value", False),
    ],
)
def test_the_history_patterns_find_what_they_should(text: str, found: bool) -> None:
    assert bool(ISSUE.findall(text) or HEX.findall(text)) is found
