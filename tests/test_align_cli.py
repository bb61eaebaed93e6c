"""`tarjama align ARABIC ENGLISH [--mt MT] [-o OUT]`: the real CLI, in a subprocess, on NTREX gold text."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, TARJAMA, align_cli, cli_env, read_lines, write_lines

from tarjama.corpus.schema import FLAG_BELOW, SCHEMA, read_tsv

GOLD = CORPUS / "ntrex128-dev" / "gold"
MT_FIXTURE = ROOT / "tests" / "fixtures" / "ntrex128-dev.mt.en.txt"
DOC = "bbc.381790"  # 16 lines; each Arabic and each English line is one sentence for tarjama's splitter


@pytest.fixture(scope="module")
def doc() -> dict[str, list[str]]:
    ids = read_lines(GOLD / "ntrex128-dev.docids.lines")
    columns = {
        "ar": read_lines(GOLD / "ntrex128-dev.ar.lines"),
        "en": read_lines(GOLD / "ntrex128-dev.en.lines"),
        "mt": read_lines(MT_FIXTURE),
    }
    rows = [i for i, d in enumerate(ids) if d == DOC]
    assert rows == list(range(rows[0], rows[0] + 16))
    return {lang: [lines[i] for i in rows] for lang, lines in columns.items()}


def pairs(tsv) -> list[tuple[str, str]]:
    return list(zip(tsv["source_ids"], tsv["reference_ids"]))


def check_tsv(out: Path):
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == list(SCHEMA)
    assert all(line.count("\t") == len(SCHEMA) - 1 for line in lines)
    flagged = list(SCHEMA).index("flagged")
    assert {line.split("\t")[flagged] for line in lines[1:]} <= {"true", "false"}
    tsv = read_tsv(out)
    assert tsv["alignment_confidence"].is_between(0, 1).all()
    assert tsv["flagged"].to_list() == (tsv["alignment_confidence"] < FLAG_BELOW).to_list()
    assert tsv["row"].to_list() == list(range(1, len(tsv) + 1))
    return tsv


@pytest.mark.slow
def test_without_mt_aligns_by_length(tmp_path, doc):
    arabic, english = (
        write_lines(tmp_path / f"{DOC}.ar.txt", doc["ar"]),
        write_lines(tmp_path / f"{DOC}.en.txt", doc["en"]),
    )
    result = align_cli(tmp_path, arabic, english, "-o", "out/aligned.tsv")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "16 Arabic and 16 English sentences aligned by length (Gale-Church): 16 rows" in result.stdout
    tsv = check_tsv(tmp_path / "out" / "aligned.tsv")
    assert pairs(tsv) == [(str(i), str(i)) for i in range(1, 17)]
    assert set(tsv["engine"]) == {"none"} and set(tsv["model"]) == {"gale-church"}
    assert set(tsv["english_mt"]) == {""}
    assert tsv["sentence_chrf"].is_null().all() and tsv["sentence_bleu"].is_null().all()
    assert set(tsv["article_id"]) == {DOC} and set(tsv["reference"]) == {"en"}
    assert tsv["arabic"].to_list() == doc["ar"] and tsv["english_reference"].to_list() == doc["en"]


@pytest.mark.slow
def test_with_mt_aligns_through_it_and_scores(tmp_path, doc):
    arabic, english = write_lines(tmp_path / "a.ar.txt", doc["ar"]), write_lines(tmp_path / "a.en.txt", doc["en"])
    mt = write_lines(tmp_path / "a.mt.txt", doc["mt"][:8] + [""] + doc["mt"][8:])  # a blank line is ignored
    result = align_cli(tmp_path, arabic, english, "--mt", mt)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "aligned through MT" in result.stdout
    tsv = check_tsv(tmp_path / "aligned.tsv")  # the default output
    assert pairs(tsv) == [(str(i), str(i)) for i in range(1, 17)]
    assert set(tsv["engine"]) == {"mt-file"} and set(tsv["model"]) == {"a.mt.txt"}
    assert tsv["english_mt"].to_list() == doc["mt"]
    assert tsv["sentence_chrf"].is_not_null().all() and tsv["sentence_chrf"].mean() > 0.2


@pytest.mark.slow
def test_reference_omitting_a_paragraph_is_flagged_not_dropped(tmp_path, doc):
    english = doc["en"][:6] + doc["en"][9:]  # English lines 7-9 missing
    arabic = write_lines(tmp_path / "a.ar.txt", doc["ar"])
    reference = write_lines(tmp_path / "a.en.txt", english)
    mt = write_lines(tmp_path / "a.mt.txt", doc["mt"])
    for args in ([], ["--mt", mt]):
        out = tmp_path / ("mt.tsv" if args else "length.tsv")
        result = align_cli(tmp_path, arabic, reference, *args, "-o", out)
        assert result.returncode == 0, result.stderr[-3000:]
        tsv = check_tsv(out)
        # every sentence of both sides appears, in order
        assert [int(i) for ids in tsv["source_ids"] if ids for i in ids.split(",")] == list(range(1, 17))
        assert [int(i) for ids in tsv["reference_ids"] if ids for i in ids.split(",")] == list(range(1, 14))
        flagged = tsv["flagged"].sum()
        assert f"{flagged} flagged" in result.stdout
        if args:  # with MT the omission is found, as `tarjama run` finds it (same configuration)
            unmatched = tsv.filter(tsv["reference_ids"] == "")
            # Arabic 9 (82 characters) + 10 (172) against English 10 (232): the source-length prior,
            # which `run` uses because weak MT lengths mislead more often, prefers the 2-1 bead
            # here, so 9 rides with 10 instead of standing alone unmatched. 7 and 8 are found.
            assert unmatched["source_ids"].to_list() in (["7", "8", "9"], ["7", "8"])
            # rows the aligner is sure have no counterpart are correct rows: kept, and not flagged
            assert not unmatched["flagged"].any()
        else:
            # Lengths alone cannot place this gap: Arabic 7+8 (83+148 characters) fit English 10 (232)
            # as well as the true pair does, so the aligner merges there and leaves Arabic 13 unmatched.
            # The unmatched sentence is still kept, and flagged.
            unmatched = tsv.filter(tsv["reference_ids"] == "")
            assert len(unmatched) >= 1 and unmatched["flagged"].all()


@pytest.mark.parametrize(
    "case, message",
    [
        ("mt_count", "a.mt.txt: 3 MT lines, but a.ar.txt splits into 16 Arabic sentences"),
        ("missing_english", "nope.en.txt: file not found"),
        ("arabic_is_english", "a.ar.txt: no Arabic text"),
        ("english_is_arabic", "a.en.txt: not English"),
        ("empty_mt", "a.mt.txt: file is empty"),
        ("out_is_dir", "outdir: output path is a directory"),
    ],
)
@pytest.mark.slow
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, doc, case, message):
    write_lines(tmp_path / "a.ar.txt", doc["en"] if case == "arabic_is_english" else doc["ar"])
    english = write_lines(tmp_path / "a.en.txt", doc["ar"] if case == "english_is_arabic" else doc["en"])
    if case == "missing_english":
        english = Path("nope.en.txt")
    args: list[object] = []
    if case in ("mt_count", "empty_mt"):
        args = ["--mt", write_lines(tmp_path / "a.mt.txt", doc["mt"][:3] if case == "mt_count" else [" "])]
    out = Path("out.tsv")
    if case == "out_is_dir":
        out = tmp_path / "outdir"
        out.mkdir()
    result = align_cli(tmp_path, "a.ar.txt", english, *args, "-o", out)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tarjama: error: ")
    assert message in lines[0]
    assert not (tmp_path / "out.tsv").exists()
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".out.tsv.*"))


@pytest.mark.slow
def test_align_with_mt_gives_the_rows_run_gives(tmp_path):
    """`tarjama align --mt` and `tarjama run` share one alignment configuration: same rows on the seed article.

    The run translates whole sentences (`--translate sentences`), as a file of one MT line per sentence
    gives them, so both cut each sentence's MT among its clause units the same way."""
    import sqlite3

    from loopback_services import LoopbackServices

    from tarjama.text.article import load_document

    arabic = CORPUS / "morocco-us-counterterrorism.ar.txt"
    english = CORPUS / "morocco-us-counterterrorism.en.txt"
    home = tmp_path / "home"
    with LoopbackServices(lifetime=600) as services:
        env = cli_env(home, TARJAMA_GOOGLE_URL=services.url("google"))
        done = subprocess.run(
            [TARJAMA, "run", str(arabic), "-e", "google", "-o", str(tmp_path / "out"), "--name", "r"]
            + ["--translate", "sentences"],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    with sqlite3.connect(home / "memory.sqlite") as db:
        memory = dict(db.execute("SELECT source, target FROM translations WHERE engine='google'").fetchall())
    mt = write_lines(tmp_path / "seed.mt.txt", [memory[s] for s in load_document(arabic, "ar").texts])
    aligned = align_cli(tmp_path, arabic, english, "--mt", mt, "-o", tmp_path / "aligned.tsv")
    assert aligned.returncode == 0, aligned.stderr[-3000:]
    provenance = ["engine", "model"]
    from_run = read_tsv(tmp_path / "out" / "r" / "aligned.tsv").drop(provenance)
    from_align = read_tsv(tmp_path / "aligned.tsv").drop(provenance)
    assert from_align.equals(from_run)
    assert from_run.height >= 13  # every Arabic paragraph is in a row (loopback MT is a transliteration)
    assert from_run["source_units"].str.contains(r"\.2").any()  # rows of clause units, not whole sentences
