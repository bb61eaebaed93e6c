"""Import the NTREX-128 development slice into corpus/ (one-off provenance script).

Usage: python scripts/import_ntrex.py DIR_WITH_ntrex128-dev_FILES

Writes, for each document id, ``corpus/ntrex128-dev/<docid>.ar.txt`` and its
human reference ``<docid>.en.txt``: line 1 (the headline) is its own
paragraph, the body lines are joined four at a time into paragraphs, the same
grouping on both sides. The line-aligned originals are kept in
``corpus/ntrex128-dev/gold/`` because the splitter and aligner evaluations
need the true sentence boundaries.
"""

from __future__ import annotations

import argparse
import shutil
from itertools import groupby
from pathlib import Path

LINES_PER_PARAGRAPH = 4
CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "ntrex128-dev"


def paragraphs(lines: list[str]) -> list[str]:
    head, body = lines[:1], lines[1:]
    chunks = [body[i : i + LINES_PER_PARAGRAPH] for i in range(0, len(body), LINES_PER_PARAGRAPH)]
    return head + [" ".join(chunk) for chunk in chunks]


def main(source: Path) -> None:
    read = lambda name: (source / name).read_text(encoding="utf-8").splitlines()  # noqa: E731
    ar, en, ids = read("ntrex128-dev.ar.txt"), read("ntrex128-dev.en.txt"), read("ntrex128-dev.docids.txt")
    assert len(ar) == len(en) == len(ids), "ntrex files are not line-aligned"
    (CORPUS / "gold").mkdir(parents=True, exist_ok=True)
    for name in ("ar", "en", "docids"):  # not *.ar.txt: a run over the folder must not take it for an article
        shutil.copyfile(source / f"ntrex128-dev.{name}.txt", CORPUS / "gold" / f"ntrex128-dev.{name}.lines")
    rows = list(zip(ids, ar, en))
    for docid, group in groupby(rows, key=lambda row: row[0]):
        group = list(group)
        for lang, column in (("ar", 1), ("en", 2)):
            text = "\n".join(paragraphs([row[column] for row in group])) + "\n"
            (CORPUS / f"{docid}.{lang}.txt").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "source", type=Path, metavar="DIR", help="folder with ntrex128-dev.ar.txt, .en.txt and .docids.txt"
    )
    main(parser.parse_args().source)
