"""`tarjama split FILE|-`: one sentence (or clause unit) a line, cut by the splitter the pipeline uses."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import CORPUS, TARJAMA, cli_env

from tarjama.corpus.schema import read_tsv
from tarjama.text.article import load_document

ARABIC = CORPUS / "morocco-us-counterterrorism.ar.txt"
ENGLISH = CORPUS / "morocco-us-counterterrorism.en.txt"


def tarjama(cwd: Path, *args: object, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TARJAMA, *map(str, args)], input=stdin, capture_output=True, cwd=cwd, env=cli_env(cwd / "home"), timeout=300
    )


def test_split_prints_the_sentences_the_pipeline_cuts(tmp_path):
    result = tarjama(tmp_path, "split", ARABIC)
    assert result.returncode == 0, result.stderr.decode()
    document = load_document(ARABIC, "ar")
    assert result.stdout.decode("utf-8").splitlines() == document.texts


def test_split_units_prints_the_clause_units(tmp_path):
    result = tarjama(tmp_path, "split", ARABIC, "--units", "-o", "out/units.txt")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b""
    units = [unit.text for unit in load_document(ARABIC, "ar").units]
    assert (tmp_path / "out" / "units.txt").read_text(encoding="utf-8").splitlines() == units
    assert len(units) > len(load_document(ARABIC, "ar").sentences)


def test_split_reads_standard_input_and_guesses_english(tmp_path):
    result = tarjama(tmp_path, "split", "-", stdin=b"Mr. Smith went home. He slept.\n\nIt rained.\n")
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode() == "Mr. Smith went home.\nHe slept.\nIt rained.\n"


@pytest.mark.parametrize(
    "args, stdin, message",
    [
        (["-", "--lang", "fr"], b"Bonjour.", "--lang 'fr': expected one of ar, en"),
        (["-"], b"  \n", "<stdin>: text is empty"),
        (["-"], b"\xff\xfe bad", "<stdin>: not valid UTF-8"),
        (["missing.txt"], None, "missing.txt: file not found"),
        (["-", "--lang", "ar"], b"Only English here, with the words of the text.", "<stdin>: no Arabic text"),
        (
            ["-", "--lang", "en"],
            "وصل الوزير إلى الرباط.".encode(),
            "<stdin>: not English (18 Arabic and 0 Latin letters)",
        ),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, args, stdin, message):
    result = tarjama(tmp_path, "split", *args, "-o", "out.txt", stdin=stdin)
    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tarjama: error: ") and message in lines[0]
    assert not (tmp_path / "out.txt").exists()


@pytest.mark.slow
def test_what_split_writes_align_presegmented_aligns_as_the_raw_text(tmp_path):
    """Split both sides, align them pre-segmented: the rows of aligning the raw files (by length)."""
    split = tmp_path / "split"
    for path in (ARABIC, ENGLISH):
        assert tarjama(tmp_path, "split", path, "-o", split / path.name).returncode == 0
    raw = tarjama(tmp_path, "align", ARABIC, ENGLISH, "-o", "raw.tsv")
    presegmented = tarjama(
        tmp_path, "align", split / ARABIC.name, split / ENGLISH.name, "--presegmented", "-o", "presegmented.tsv"
    )
    assert raw.returncode == 0 and presegmented.returncode == 0, presegmented.stderr.decode()
    # the same rows; only source_units differ: a pre-segmented line is one unit, never cut into clauses
    units = "source_units"
    assert read_tsv(tmp_path / "presegmented.tsv").drop(units).equals(read_tsv(tmp_path / "raw.tsv").drop(units))
