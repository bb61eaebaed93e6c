"""Pre-segmented input and Vecalign bead output: `tarjama align --presegmented --beads FILE`, the real CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import CORPUS, align_cli, read_lines, write_lines

from tarjama.alignment.beads import bead_line, load_presegmented
from tarjama.corpus.schema import read_tsv
from tarjama.errors import InputError
from tarjama.text.article import load_document

GOLD = CORPUS / "ntrex128-dev" / "gold"
DOC = "bbc.381790"  # 16 lines, each one sentence on both sides


@pytest.fixture(scope="module")
def doc() -> dict[str, list[str]]:
    ids = read_lines(GOLD / "ntrex128-dev.docids.lines")
    rows = [i for i, d in enumerate(ids) if d == DOC]
    return {lang: [read_lines(GOLD / f"ntrex128-dev.{lang}.lines")[i] for i in rows] for lang in ("ar", "en")}


def joined(lines: list[str], at: int = 5) -> list[str]:
    """Lines ``at`` and ``at + 1`` as one line (two sentences the splitter would cut apart)."""
    return [*lines[:at], f"{lines[at]} {lines[at + 1]}", *lines[at + 2 :]]


def read_vecalign_beads(path: Path) -> list[tuple[list[int], list[int], float]]:
    """As Vecalign's ``score.py`` reads an alignment: two Python lists and a score, colon-separated."""
    beads = []
    for line in read_lines(path):
        source, target, score = line.split(":")
        beads.append((ast.literal_eval(source), ast.literal_eval(target), float(score)))
    return beads


def test_a_bead_line_is_vecaligns():
    assert bead_line([0, 1], [0], 0.87314) == "[0, 1]:[0]:0.8731"
    assert bead_line([2], [], 0.0) == "[2]:[]:0.0000"


def test_presegmented_lines_are_sentences_never_re_split(tmp_path, doc):
    path = write_lines(tmp_path / "a.en.txt", joined(doc["en"]))
    assert len(load_document(path, "en").sentences) == 16  # the splitter cuts the joined line again
    document = load_presegmented(path, "en")
    assert document.texts == joined(doc["en"])
    assert [s.number for s in document.sentences] == list(range(1, 16))
    assert all(s.units == (s.text,) for s in document.sentences)


def test_presegmented_refuses_a_blank_line_that_would_shift_the_numbering(tmp_path, doc):
    path = write_lines(tmp_path / "a.ar.txt", [doc["ar"][0], "  ", doc["ar"][1]])
    with pytest.raises(InputError, match=r"a\.ar\.txt: line 2 is blank"):
        load_presegmented(path, "ar")


def test_presegmented_still_checks_the_language(tmp_path, doc):
    with pytest.raises(InputError, match="no Arabic text"):
        load_presegmented(write_lines(tmp_path / "a.ar.txt", doc["en"]), "ar")


@pytest.mark.slow
def test_align_presegmented_writes_vecalign_beads(tmp_path, doc):
    """English sentences 5 and 6 given as one line: kept whole, so Arabic 5 and 6 both align to English line 5."""
    arabic = write_lines(tmp_path / "a.ar.txt", doc["ar"])
    english = write_lines(tmp_path / "a.en.txt", joined(doc["en"]))
    result = align_cli(tmp_path, arabic, english, "--presegmented", "--beads", "out/a.beads", "-o", "a.tsv")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "16 Arabic and 15 English sentences aligned" in result.stdout
    beads = read_vecalign_beads(tmp_path / "out" / "a.beads")
    expected = [([i], [i]) for i in range(5)] + [([5, 6], [5])] + [([i], [i - 1]) for i in range(7, 16)]
    assert [(s, t) for s, t, _ in beads] == expected
    tsv = read_tsv(tmp_path / "a.tsv")  # the beads are the TSV's rows, numbered from 0
    assert [c for _, _, c in beads] == tsv["alignment_confidence"].to_list()
    assert tsv["english_reference"][5] == joined(doc["en"])[5]


@pytest.mark.slow
def test_beads_number_the_sentences_tarjama_splits(tmp_path, doc):
    """Without --presegmented the beads number sentences as the splitter cuts them (what `tarjama split` prints)."""
    arabic = write_lines(tmp_path / "a.ar.txt", doc["ar"])
    english = write_lines(tmp_path / "a.en.txt", joined(doc["en"]))
    result = align_cli(tmp_path, arabic, english, "--beads", "a.beads")
    assert result.returncode == 0, result.stderr[-3000:]
    beads = read_vecalign_beads(tmp_path / "a.beads")
    assert [(s, t) for s, t, _ in beads] == [([i], [i]) for i in range(16)]


@pytest.mark.slow
def test_a_blank_presegmented_line_is_one_line_exit_2_nothing_written(tmp_path, doc):
    arabic = write_lines(tmp_path / "a.ar.txt", [*doc["ar"][:3], "", *doc["ar"][3:]])
    english = write_lines(tmp_path / "a.en.txt", doc["en"])
    result = align_cli(tmp_path, arabic, english, "--presegmented", "--beads", "a.beads")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"tarjama: error: {arabic}: line 4 is blank; pre-segmented text is one sentence on every line"
    ]
    assert not (tmp_path / "a.beads").exists() and not (tmp_path / "aligned.tsv").exists()
