"""Paired significance tests equal sacrebleu's CLI (--paired-bs, --paired-ar); per-article deltas and row changes."""

import json
import re
import subprocess
import sys

import numpy as np
import polars as pl
import pytest
from conftest import CORPUS, ROOT, VISIT_ARABIC, VISIT_ENGLISH, VISIT_UNIT_MT
from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.significance import _bootstrap_resample, estimate_ci

from tarjama.corpus.schema import to_frame
from tarjama.errors import TarjamaError
from tarjama.quality import compare, score
from tarjama.quality.compare import System, common_segments, compare_systems, render_comparison
from tarjama.quality.score import score_corpus

MT = (ROOT / "tests/fixtures/ntrex128-dev.mt.en.txt").read_text(encoding="utf-8").splitlines()[:40]
GOLD = (CORPUS / "ntrex128-dev/gold/ntrex128-dev.en.lines").read_text(encoding="utf-8").splitlines()[:40]
DOCS = (CORPUS / "ntrex128-dev/gold/ntrex128-dev.docids.lines").read_text(encoding="utf-8").splitlines()[:40]
BETTER = [GOLD[i] if i % 3 == 0 else MT[i] for i in range(40)]  # a third of the lines perfect
MIXED = [  # some lines perfect, others cut to two thirds: a difference of uncertain significance
    GOLD[i] if i % 8 == 0 else " ".join(MT[i].split()[: len(MT[i].split()) * 2 // 3]) if i % 8 == 4 else MT[i]
    for i in range(40)
]
CLI_NAMES = {"BLEU": "BLEU", "chrF": "chrF2", "chrF++": "chrF2++", "TER": "TER"}


REFERENCES = ["the cat sat on the mat", "the dog ran home quickly"]
TWO_SYSTEMS = (("google", ["the cat sat on the mat", "a dog ran home fast"]), ("local", ["cat", "dog"]))


def two_rows(mt: list[str]):
    """A run's rows of one article, two sentences, with ``mt`` against :data:`REFERENCES`."""
    return to_frame(
        [
            {"article_id": "a", "reference": "en", "row": i + 1, "source_ids": f"{i + 1}",
             "reference_ids": f"{i + 1}", "english_mt": mt[i], "english_reference": REFERENCES[i]}
            for i in range(2)
        ]
    )  # fmt: skip


def write_systems(tmp_path):
    paths = {}
    for name, lines in (("ref", GOLD), ("base", MT), ("better", BETTER), ("mixed", MIXED)):
        paths[name] = tmp_path / f"{name}.txt"
        paths[name].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def sacrebleu_paired(paths, *args):
    cli = [sys.executable, "-m", "sacrebleu", str(paths["ref"]), "-i"]
    cli += [str(paths[n]) for n in ("base", "better", "mixed")] + ["-q", "--no-color", *args]
    return subprocess.run(cli, capture_output=True, text=True, check=True).stdout


def parse_bootstrap_table(text):
    """sacrebleu's text table: 'score (mean ± ci)' and '(p = ...)' per cell, systems in order."""
    cells = [line.split("│")[1:-1] for line in text.splitlines() if line.startswith("│")]
    header, body = [c.strip() for c in cells[0]], cells[1:]
    results, system = {}, None
    for row in body:
        if row[0].strip():
            system = row[0].strip().removeprefix("Baseline: ").rsplit("/", 1)[-1].removesuffix(".txt")
        for title, cell in zip(header[1:], row[1:]):
            metric = title.split(" (")[0]
            entry = results.setdefault((system, metric), {})
            if m := re.search(r"([\d.]+) \(([\d.]+) ± ([\d.]+)\)", cell):
                entry.update(score=float(m[1]), mean=float(m[2]), ci=float(m[3]))
            if m := re.search(r"\(p = ([\d.]+)\)", cell):
                entry["p"] = m[1]
    return results


def systems():
    return [System("base", MT), System("better", BETTER), System("mixed", MIXED)]


@pytest.mark.slow
def test_paired_bootstrap_equals_sacrebleu_cli(tmp_path):
    paths = write_systems(tmp_path)
    cli = parse_bootstrap_table(
        sacrebleu_paired(paths, "--paired-bs", "-m", "bleu", "chrf", "ter", "-f", "text", "-w", "6")
    )
    cli |= parse_bootstrap_table(
        sacrebleu_paired(paths, "--paired-bs", "-m", "chrf", "--chrf-word-order", "2", "-f", "text", "-w", "6")
    )
    ours = compare_systems(GOLD, systems(), test="bs")
    assert ours.baseline == "base" and len(ours.scores) == 12
    p_values = set()
    for s in ours.scores:
        theirs = cli[s.system, CLI_NAMES[s.metric]]
        assert s.score == pytest.approx(theirs["score"], abs=1e-6)
        assert s.mean == pytest.approx(theirs["mean"], abs=1e-6)
        assert s.ci95 == pytest.approx(theirs["ci"], abs=1e-6)
        assert (s.p_value is None) == s.baseline
        if not s.baseline:
            assert f"{s.p_value:.4f}" == theirs["p"]
            p_values.add(s.p_value)
    assert len(p_values) > 4  # not all at the floor: real counts were compared
    assert "bs:1000" in ours.signatures["BLEU"] and "seed:12345" in ours.signatures["TER"]


@pytest.mark.slow
def test_paired_randomisation_equals_sacrebleu_cli(tmp_path):
    paths = write_systems(tmp_path)
    cli = json.loads(
        sacrebleu_paired(paths, "--paired-ar", "--paired-ar-n", "2000", "-m", "bleu", "chrf", "ter", "-f", "json")
    )
    ours = compare_systems(GOLD, systems(), test="ar", n_samples=2000)
    by_key = {(s.system, s.metric): s for s in ours.scores}
    for entry in cli:
        system = entry["system"].removeprefix("Baseline: ").rsplit("/", 1)[-1].removesuffix(".txt")
        for metric in ("BLEU", "chrF", "TER"):
            theirs, mine = entry[CLI_NAMES[metric]], by_key[system, metric]
            assert mine.score == theirs["score"]
            assert mine.p_value == theirs["p_value"]
            assert mine.mean is None and theirs["mean"] is None
    assert 0.05 < by_key["mixed", "chrF"].p_value < 0.5  # not at the floor: real counts were compared
    assert ours.signatures["BLEU"].startswith("nrefs:1|ar:2000|seed:12345")


def test_per_article_deltas_and_biggest_row_changes():
    ours = compare_systems(GOLD, systems()[:2], articles=DOCS)
    doc_ids = list(dict.fromkeys(DOCS))
    chrf = [d for d in ours.articles if d.metric == "chrF"]
    assert [d.article_id for d in chrf] == doc_ids
    first = [i for i, d in enumerate(DOCS) if d == doc_ids[0]]
    base = {s.metric: s.score for s in score_corpus([MT[i] for i in first], [GOLD[i] for i in first], n_bootstrap=1)}
    other = {
        s.metric: s.score for s in score_corpus([BETTER[i] for i in first], [GOLD[i] for i in first], n_bootstrap=1)
    }
    assert chrf[0].delta == pytest.approx(other["chrF"] - base["chrF"], abs=2e-4)
    assert chrf[0].segments == len(first) and chrf[0].small_sample and chrf[0].ci95 is not None
    assert all(d.delta >= 0 for d in chrf)  # BETTER only ever replaces lines by the reference
    assert ours.gains and all(g.system_text == g.reference and g.delta > 0 for g in ours.gains)
    assert not ours.losses


def test_rendering_marks_baseline_significance_and_small_samples():
    text = render_comparison(compare_systems(GOLD[:6], [System("base", MT[:6]), System("gold", GOLD[:6])]))
    assert "| baseline: base |" in text and "p = " in text
    assert "*" in text.split("| gold |")[1].splitlines()[0]
    assert "**Warning:** only 6 segments" in text
    assert "Biggest gains" in text and "Biggest losses" not in text


def test_common_segments_merge_beads_that_runs_split_differently():
    def rows(engine, beads):
        return to_frame(
            [
                {
                    "article_id": "a1",
                    "reference": "en",
                    "row": n,
                    "source_ids": src,
                    "reference_ids": ref,
                    "arabic": "",
                    "english_mt": mt,
                    "english_reference": text,
                    "engine": engine,
                    "model": "",
                    "alignment_confidence": 1.0,
                    "flagged": False,
                    "sentence_chrf": None,
                    "sentence_bleu": None,
                }
                for n, (src, ref, mt, text) in enumerate(beads, start=1)
            ]
        )

    one = rows("x", [("1", "1", "A1", "R1"), ("2", "2", "A2", "R2"), ("3", "3", "A3", "R3")])
    two = rows("y", [("1,2", "1", "B1 B2", "R1"), ("", "2", "", "R2"), ("3", "3", "B3", "R3")])
    segments = common_segments({"x": one, "y": two})
    assert segments.references == ["R1 R2", "R3"]
    assert segments.hypotheses == {"x": ["A1 A2", "A3"], "y": ["B1 B2", "B3"]}
    assert segments.articles == ["a1", "a1"]
    with pytest.raises(TarjamaError, match="cover different sentences"):
        common_segments({"x": one, "y": rows("y", [("1", "1", "B1", "R1")])})


def test_bad_comparisons_are_refused():
    with pytest.raises(TarjamaError, match="'short' has 2 segments, the references 40"):
        compare_systems(GOLD, [System("base", MT), System("short", MT[:2])])
    with pytest.raises(TarjamaError, match="at least one other system"):
        compare_systems(GOLD, [System("base", MT)])


def test_runs_reached_through_latest_links_are_told_apart_by_where_they_are(tmp_path):
    from tarjama.quality.compare import system_labels

    for side in ("A", "B"):
        (tmp_path / side / f"run-{side}").mkdir(parents=True)
        (tmp_path / side / "latest").symlink_to(f"run-{side}")
    a, b = tmp_path / "A" / "latest", tmp_path / "B" / "latest"
    assert system_labels([a, b]) == ["run-A", "run-B"]
    (tmp_path / "B" / "run-A").mkdir()
    (tmp_path / "B" / "latest").unlink()
    (tmp_path / "B" / "latest").symlink_to("run-A")  # two folders of one name: named by the paths given
    assert system_labels([a, b]) == ["A/run-A", "B/run-A"]
    with pytest.raises(TarjamaError, match="are the same system"):
        system_labels([a, tmp_path / "A" / "run-A"])


def test_compare_writes_its_own_folder_and_tells_runs_reached_through_latest_links_apart(tmp_path):
    """`latest` keeps pointing at the newest run; `A/latest B/latest` are two runs, named by where they lead."""
    from tarjama.corpus.outputs import point_latest
    from tarjama.corpus.schema import write_tsv
    from tarjama.quality.compare import compare_runs

    folders = []
    for engine, mt in TWO_SYSTEMS:
        run = tmp_path / engine / "run-1"
        run.mkdir(parents=True)
        frame = two_rows(mt)
        write_tsv(frame, run / "aligned.tsv")
        point_latest(run)
        folders.append(tmp_path / engine / "latest")
    made = compare_runs(folders, None, "bs", 100, tmp_path / "google")
    assert made.folder.parent == tmp_path / "google" and (made.folder / "report.md").is_file()
    assert (tmp_path / "google" / "latest").resolve() == (tmp_path / "google" / "run-1")
    assert made.comparison.baseline == "google/run-1" and "local/run-1" in made.report


def test_runs_written_without_a_tsv_are_compared_through_their_parquet(tmp_path):
    """Every run writes aligned.parquet, whatever its --format: `-f jsonl` runs compare too."""
    from tarjama.corpus.schema import write_tsv
    from tarjama.quality.compare import compare_runs

    for engine, mt in TWO_SYSTEMS:
        (tmp_path / engine).mkdir()
        frame = two_rows(mt)
        if engine == "google":
            frame.write_parquet(tmp_path / engine / "aligned.parquet")
        else:
            write_tsv(frame, tmp_path / engine / "aligned.tsv")
    made = compare_runs([tmp_path / "google", tmp_path / "local"], None, "bs", 100, tmp_path / "out")
    assert made.comparison.baseline == "google" and made.comparison.segments == 2
    (tmp_path / "empty").mkdir()
    with pytest.raises(TarjamaError, match=r"empty: not a run folder \(no aligned.parquet nor aligned.tsv\)"):
        compare_runs([tmp_path / "google", tmp_path / "empty"], None, "bs", 100, tmp_path / "out")


def test_runs_over_different_articles_are_named_in_words():
    def rows(article):
        return to_frame(
            [{"article_id": article, "reference": "en", "row": 1, "source_ids": "1", "reference_ids": "1",
              "english_mt": "x", "english_reference": "y"}]
        )  # fmt: skip

    with pytest.raises(TarjamaError) as refused:
        common_segments({"x": rows("a"), "y": rows("b")})
    assert str(refused.value) == (
        "runs 'x' and 'y' cover different articles or references "
        "(only in 'x': a (reference en); only in 'y': b (reference en))"
    )


def _visit_runs(tmp_path):
    """The rows `tarjama run` writes for one article under the default rows (clause units) and `--rows sentences`."""
    from tarjama.alignment.align import AlignmentConfig
    from tarjama.alignment.regroup import align_article
    from tarjama.corpus.schema import bead_rows
    from tarjama.text.article import load_document
    from tarjama.translation.translate import Translation

    (tmp_path / "visit.ar.txt").write_text(VISIT_ARABIC, encoding="utf-8")
    (tmp_path / "visit.en.txt").write_text(VISIT_ENGLISH, encoding="utf-8")
    arabic = load_document(tmp_path / "visit.ar.txt", "ar")
    english = load_document(tmp_path / "visit.en.txt", "en", "visit")
    runs = {}
    for rows, mt in (
        ("units", VISIT_UNIT_MT),
        ("sentences", [" ".join(VISIT_UNIT_MT[:3]), " ".join(VISIT_UNIT_MT[3:])]),
    ):
        beads = align_article(arabic, mt, english.texts, AlignmentConfig(granularity=rows)).beads
        translations = [Translation(text, "fixture", "hand-made", True) for text in mt]
        runs[rows] = to_frame(bead_rows(arabic, translations, english, beads, rows)[0])
    return runs


def test_identical_runs_of_unit_rows_compare_on_their_rows_with_their_scores(tmp_path):
    """Two rows sharing an Arabic sentence stay two segments: a run against itself scores as its scores.json."""
    units = _visit_runs(tmp_path)["units"]
    assert units["source_ids"].to_list() == ["1", "1", "2", "2"]  # every sentence split across two rows
    segments = common_segments({"x": units, "y": units.clone()})
    assert segments.references == units["english_reference"].to_list()
    assert segments.hypotheses["x"] == segments.hypotheses["y"] == units["english_mt"].to_list()
    comparison = compare_systems(
        segments.references, [System(n, segments.hypotheses[n]) for n in ("x", "y")], n_samples=10
    )
    expected = score_corpus(units["english_mt"].to_list(), units["english_reference"].to_list(), n_bootstrap=0)
    assert comparison.segments == len(units) == expected[0].segments == 4
    assert {s.metric: round(s.score, 4) for s in comparison.scores if s.baseline} == {
        s.metric: s.score for s in expected
    }


def test_a_sentence_rows_run_and_a_unit_rows_run_compare_on_whole_sentences(tmp_path):
    runs = _visit_runs(tmp_path)
    units, sentences = runs["units"], runs["sentences"]
    assert sentences["source_units"].to_list() == ["1.1,1.2,1.3", "2.1,2.2"]
    for order in (("units", "sentences"), ("sentences", "units")):
        segments = common_segments({name: runs[name] for name in order})
        assert segments.references == sentences["english_reference"].to_list()
        assert segments.hypotheses["sentences"] == sentences["english_mt"].to_list()
        assert segments.hypotheses["units"] == [
            " ".join(units.filter(pl.col("source_ids") == n)["english_mt"]) for n in ("1", "2")
        ]
    # rows that name no units (written before source_units), or units over other Arabic: segments on sentences
    unnamed = units.with_columns(pl.lit("").alias("source_units"))
    assert len(common_segments({"x": units, "y": unnamed}).references) == 2
    shifted = units.with_columns(pl.col("arabic").shift(1, fill_value=""))
    assert len(common_segments({"x": units, "y": shifted}).references) == 2
    assert len(common_segments({"x": units, "y": units}).references) == 4


@pytest.mark.parametrize("test", ["bs", "ar"])
def test_a_system_equal_to_the_baseline_is_not_significantly_different(test):
    """The same MT twice: nothing to test, p = 1 (sacrebleu's (0 + 1) / (n + 1) would mark it significant)."""
    comparison = compare_systems(GOLD, [System("base", MT), System("copy", list(MT))], test=test, n_samples=100)
    tested = [s for s in comparison.scores if not s.baseline]
    assert len(tested) == 4 and all(s.p_value == 1.0 and not s.significant for s in tested)
    rendered = render_comparison(comparison)
    assert rendered.count("p = 1.0000") == 4 and "p = 1.0000*" not in rendered


def test_a_console_shows_the_articles_that_changed_most_and_says_how_many_more():
    """Thousands of articles make thousands of per-article lines: a console gets the largest changes, the report all."""
    comparison = compare_systems(GOLD, systems()[:2], articles=DOCS, n_samples=100)
    articles = len(set(DOCS))
    full, short = render_comparison(comparison), render_comparison(comparison, max_articles=2)

    def per_article(text: str) -> list[str]:
        section = text.split("### Per article")[1].split("###")[0]
        return [line for line in section.splitlines() if line.startswith("| ") and " | better | " in line]

    assert len(per_article(short)) == 2 and f"... and {articles - 2} more" in short
    chrf = sorted((d for d in comparison.articles if d.metric == "chrF"), key=lambda d: -abs(d.delta))
    assert [line.split(" | ")[0].removeprefix("| ") for line in per_article(short)] == [d.article_id for d in chrf[:2]]
    assert len(per_article(full)) == articles and "more (the report" not in full


def test_articles_and_rows_get_sacrebleus_own_scores_and_resamples():
    """Per-article scores and paired CIs and the rows' sentence chrF, against sacrebleu scoring each article's
    own segments (its ``corpus_score``, its bootstrap resamples and score objects, its ``sentence_score``),
    with rows of every kind: perfect, cut short, empty."""
    varied = ["" if i % 11 == 0 else GOLD[i] if i % 7 == 0 else MT[i].rsplit(" ", 1)[0] for i in range(40)]
    articles = [f"lone{i}" if i in (7, 23) else f"a{i % 4}" for i in range(40)]  # interleaved, and two of one row
    ours = compare_systems(GOLD, [System("base", MT), System("varied", varied)], articles=articles, top_rows=40)
    rows: dict[str, list[int]] = {}
    for i, article_id in enumerate(articles):
        rows.setdefault(article_id, []).append(i)
    assert [d.article_id for d in ours.articles] == list(rows) * 4
    by_key = {(d.metric, d.article_id): d for d in ours.articles}
    for name, metric in {"BLEU": BLEU(), "chrF": CHRF(), "chrF++": CHRF(word_order=2), "TER": TER()}.items():
        for article_id, numbers in rows.items():
            refs = [GOLD[i] for i in numbers]
            delta = by_key[name, article_id]
            base, other = ([hyps[i] for i in numbers] for hyps in (MT, varied))
            assert delta.baseline_score == round(metric.corpus_score(base, [refs]).score, 4)
            assert delta.system_score == round(metric.corpus_score(other, [refs]).score, 4)
            assert delta.segments == len(numbers)
            if len(numbers) == 1:
                assert delta.ci95 is None
                continue
            resampled = [
                np.array(
                    [s.score for s in _bootstrap_resample(metric._extract_corpus_statistics(h, [refs]), metric)[1]]
                )
                for h in (base, other)
            ]
            difference = resampled[1].astype(np.float64) - resampled[0].astype(np.float64)
            assert delta.ci95 == round(float(estimate_ci(difference)[1]), 4)
    changed = ours.gains + ours.losses
    assert len(changed) == sum(a != b for a, b in zip(MT, varied)) > 10
    for row in changed:
        assert row.baseline_chrf == round(CHRF().sentence_score(row.baseline_text, [row.reference]).score, 4)
        assert row.system_chrf == round(CHRF().sentence_score(row.system_text, [row.reference]).score, 4)
    assert any(row.system_text == "" for row in ours.losses) and any(row.delta > 0 for row in ours.gains)


@pytest.mark.parametrize("at_once", [1, 100, 1_000])
def test_randomisation_drawn_a_few_trials_at_a_time_flips_the_same_coins(monkeypatch, at_once):
    """The AR test's coin flips (and its CI's resamples) drawn in pieces are sacrebleu's, drawn in one call: the same
    p-values and CIs with 39 segments (not a multiple of 32: numpy drops a call's unused bits) in any piece size."""
    systems = [System("base", MT[:39]), System("better", BETTER[:39]), System("mixed", MIXED[:39])]
    whole = compare_systems(GOLD[:39], systems, test="ar", n_samples=500, ar_confidence=200)
    monkeypatch.setattr(compare, "FLIPS_AT_ONCE", at_once)
    monkeypatch.setattr(score, "RESAMPLE_CHUNK", at_once)
    pieces = compare_systems(GOLD[:39], systems, test="ar", n_samples=500, ar_confidence=200)
    assert pieces == whole and len({s.p_value for s in whole.scores if not s.baseline}) > 3


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_a_signal_while_the_comparison_is_written_leaves_no_staging_folder(tmp_path, sig):
    """`tarjama compare` stopped while its folder is staged (drawing its plots): SIGTERM ended it at once and
    left `.compare-*.partial-*/owner` for the next run to remove, SIGINT a traceback. Both now remove it and
    end in one line, with the shell's status for the signal."""
    import os
    import signal
    import time

    from conftest import TARJAMA, cli_env

    from tarjama.corpus.schema import write_tsv

    for engine, mt in TWO_SYSTEMS:
        (tmp_path / engine).mkdir()
        frame = two_rows(mt)
        write_tsv(frame, tmp_path / engine / "aligned.tsv")
    out = tmp_path / "out"
    command = [
        TARJAMA,
        "compare",
        str(tmp_path / "google"),
        str(tmp_path / "local"),
        "--samples",
        "100",
        "-o",
        str(out),
    ]
    env = cli_env(tmp_path / "home") | {"MPLBACKEND": "Agg"}
    compare = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob(".compare-*/owner")) and compare.poll() is None and time.monotonic() < deadline:
            time.sleep(0.002)
        assert list(out.glob(".compare-*/owner")), "the comparison was never staged"
        compare.send_signal(getattr(signal, sig))
        _, stderr = compare.communicate(timeout=60)
    finally:
        compare.kill()
        compare.wait()
    assert compare.returncode == 128 + getattr(signal, sig), stderr
    assert stderr == f"tarjama: error: interrupted ({sig}): no comparison was written\n"
    assert sorted(os.listdir(out)) == []
