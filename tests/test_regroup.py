"""Regrouping clause units into rows that follow the reference's sentences: hand-made cases and the seed article."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import VISIT_ARABIC, VISIT_ENGLISH, VISIT_UNIT_MT
from sacrebleu.metrics import CHRF

from tarjama.alignment.align import AlignmentConfig
from tarjama.alignment.regroup import align_article, align_units, attribute_mt, units_from_sentences
from tarjama.corpus.schema import FLAG_BELOW, bead_rows
from tarjama.quality.score import corpus_statistics
from tarjama.text.article import Document, Sentence, UnitTranslation, load_document
from tarjama.text.clauses import DEFAULT_RULES
from tarjama.translation.translate import Translation

ARABIC, ENGLISH, UNIT_MT = VISIT_ARABIC, VISIT_ENGLISH, VISIT_UNIT_MT


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Document, Document]:
    (tmp_path / "visit.ar.txt").write_text(ARABIC, encoding="utf-8")
    (tmp_path / "visit.en.txt").write_text(ENGLISH, encoding="utf-8")
    return load_document(tmp_path / "visit.ar.txt", "ar"), load_document(tmp_path / "visit.en.txt", "en", "visit")


def _translations(texts: list[str]) -> list[Translation]:
    return [Translation(text, "fixture", "hand-made", True) for text in texts]


def unit_rows(arabic: Document, translations: list[Translation], english: Document | None, beads) -> list[dict]:
    return bead_rows(arabic, translations, english, beads, "units")[0]


def test_regroups_units_to_reference_sentences(pair: tuple[Document, Document]) -> None:
    """Two units to one sentence, one unit to two sentences, and 1-1 where the Arabic cuts where English does."""
    arabic, english = pair
    assert len(arabic.sentences) == 2 and len(arabic.units) == 5 and len(english.sentences) == 5
    beads = align_units(arabic, UNIT_MT, english.texts)
    assert [(b.source, b.reference) for b in beads] == [((0, 1), (0,)), ((2,), (1, 2)), ((3,), (3,)), ((4,), (4,))]
    rows = unit_rows(arabic, _translations(UNIT_MT), english, beads)
    assert [(r["source_ids"], r["source_units"], r["reference_ids"]) for r in rows] == [
        ("1", "1.1,1.2", "1"),
        ("1", "1.3", "2,3"),
        ("2", "2.1", "4"),
        ("2", "2.2", "5"),
    ]
    # The Arabic column reproduces the article in order, each character once (the comma, the و, the spaces).
    assert " ".join(r["arabic"] for r in rows) == " ".join(arabic.texts)
    assert rows[0]["english_mt"] == " ".join(UNIT_MT[:2])
    assert all(r["sentence_chrf"] is not None for r in rows)


def test_rows_with_statistics_are_the_rows_and_their_corpus_statistics(pair: tuple[Document, Document]) -> None:
    """The pipeline's rows and statistics in one pass: the same rows, corpus_statistics of their text."""
    arabic, english = pair
    beads = align_units(arabic, UNIT_MT, english.texts)
    rows, statistics = bead_rows(arabic, _translations(UNIT_MT), english, beads, "units", metrics=None)
    assert rows == unit_rows(arabic, _translations(UNIT_MT), english, beads)
    assert rows[0]["sentence_chrf"] == round(CHRF().sentence_score(rows[0]["english_mt"], [english.texts[0]]).score, 4)
    expected = corpus_statistics([r["english_mt"] for r in rows], [r["english_reference"] for r in rows])
    assert statistics is not None and list(statistics) == list(expected) == ["BLEU", "chrF", "chrF++", "TER"]
    assert all(np.array_equal(statistics[name], expected[name]) for name in expected)
    without = align_article(arabic, UNIT_MT, None).beads
    assert bead_rows(arabic, _translations(UNIT_MT), None, without, "units", metrics=None)[1] is None


def test_rows_across_a_sentence_boundary(pair: tuple[Document, Document]) -> None:
    """A row that joins the last unit of one sentence with the first of the next names both sentences."""
    arabic, english = pair
    merged = [" ".join(english.texts[1:4])]
    beads = align_units(arabic, UNIT_MT, [english.texts[0], *merged, english.texts[4]])
    assert [(b.source, b.reference) for b in beads] == [((0, 1), (0,)), ((2, 3), (1,)), ((4,), (2,))]
    rows = unit_rows(arabic, _translations(UNIT_MT), english, beads)
    assert (rows[1]["source_ids"], rows[1]["source_units"]) == ("1,2", "1.3,2.1")


def test_without_reference_rows_are_units(pair: tuple[Document, Document]) -> None:
    arabic, _ = pair
    beads = align_article(arabic, UNIT_MT, None).beads
    rows = unit_rows(arabic, _translations(UNIT_MT), None, beads)
    assert [r["arabic"] for r in rows] == [u.text for u in arabic.units]
    assert [r["english_mt"] for r in rows] == UNIT_MT
    assert {r["english_reference"] for r in rows} == {""} and {r["sentence_chrf"] for r in rows} == {None}


def test_attribute_mt_cuts_at_sentence_ends_and_commas() -> None:
    mt = "The visit revealed a new approach to the partnership. It also showed real eagerness, and he was delighted."
    units = ["أ" * 50, "ب" * 25, "ج" * 22]
    assert attribute_mt(mt, units) == [
        "The visit revealed a new approach to the partnership.",
        "It also showed real eagerness,",
        "and he was delighted.",
    ]
    # Lengths decide among cuts of one kind; pieces never lose or add a word.
    pieces = attribute_mt("one two three four five six seven eight", ["x" * 10, "y" * 30])
    assert pieces == ["one two", "three four five six seven eight"]
    assert attribute_mt("two words", ["x", "y", "z"]) == ["two", "words", ""]
    assert attribute_mt("whole", ["only one"]) == ["whole"]


def test_units_from_sentences_keeps_provenance(pair: tuple[Document, Document]) -> None:
    arabic, _ = pair
    whole = [" ".join(UNIT_MT[:3]), " ".join(UNIT_MT[3:])]
    pieces = units_from_sentences(arabic, [Translation(t, "local", "m", False) for t in whole])
    assert [p.text for p in pieces] == UNIT_MT
    assert {(p.engine, p.model) for p in pieces} == {("local", "m")}


@pytest.mark.slow  # the real model
def test_units_are_translated_by_the_real_engine_through_the_build(tmp_path: Path) -> None:
    """Both modes give one translation per unit through :func:`tarjama.corpus.build.build_article`, the path of every
    run; each unit or sentence is translated once (the journals hold it for the next article)."""
    from tarjama.corpus.build import ENGINES, ArticleJob, build_article
    from tarjama.settings import Settings

    text = "وأجرى المدير العام مباحثات مع الوزير الأمريكي بمقر المديرية، وجرى اللقاء بحضور عدد من المسؤولين.\n"
    (tmp_path / "short.ar.txt").write_text(text, encoding="utf-8")
    document = load_document(tmp_path / "short.ar.txt", "ar")
    assert len(document.units) == 2
    paid = []
    try:
        for mode in [*UnitTranslation, UnitTranslation.UNITS]:
            settings = Settings(home=tmp_path / "home", engine="local", translate=mode)
            outcome = build_article(ArticleJob(document, [], {}), settings)
            mt = outcome.rows["english_mt"].to_list()
            assert len(mt) == 2 and all(mt)
            english = " ".join(mt).lower()
            assert "official" in english or "general" in english
            paid.append(len(outcome.new_translations))
    finally:
        ENGINES.close()
    assert paid == [2, 1, 0]  # two units, one sentence, then nothing new


SEED = Path(__file__).resolve().parent.parent / "corpus" / "morocco-us-counterterrorism.ar.txt"
SEED_MT = SEED.parent.parent / "tests" / "fixtures" / "morocco-us-counterterrorism.units.mt.en.json"


def test_seed_rows_follow_the_reference() -> None:
    """The seed article with its units' local-engine MT (committed by benchmarks.bench_units): >= 35 rows for 42."""
    arabic = load_document(SEED, "ar")
    english = load_document(SEED.with_name("morocco-us-counterterrorism.en.txt"), "en", arabic.id)
    unit_mt = json.loads(SEED_MT.read_text(encoding="utf-8"))["units"]
    translations = _translations([unit_mt[u.text] for u in arabic.units])
    alignment = align_article(arabic, [t.text for t in translations], english.texts)
    assert alignment.signature.rows == "units"
    rows = unit_rows(arabic, translations, english, alignment.beads)
    assert len(english.sentences) == 42
    assert len(rows) >= 35
    assert " ".join(r["arabic"] for r in rows) == " ".join(arabic.texts)
    assert all(r["arabic"] and r["english_reference"] for r in rows)  # no unmatched unit or sentence


def test_sentence_rows_hold_whole_sentences_and_name_their_units(pair: tuple[Document, Document]) -> None:
    """``--rows sentences``: one MT a sentence, beads over sentences, every unit of a sentence in its row."""
    arabic, english = pair
    whole = [" ".join(UNIT_MT[:3]), " ".join(UNIT_MT[3:])]
    config = AlignmentConfig(granularity="sentences")
    alignment = align_article(arabic, whole, english.texts, config)
    assert alignment.signature.rows == "sentences" and "unit-beads" not in alignment.signature.format()
    rows, _ = bead_rows(arabic, _translations(whole), english, alignment.beads, "sentences")
    assert [(r["source_ids"], r["source_units"], r["reference_ids"]) for r in rows] == [
        ("1", "1.1,1.2,1.3", "1,2,3"),
        ("2", "2.1,2.2", "4,5"),
    ]
    with pytest.raises(ValueError, match="5 translations for 2 sentences"):
        bead_rows(arabic, _translations(UNIT_MT), english, alignment.beads, "sentences")
    with pytest.raises(ValueError, match="2 translations for 5 units"):
        align_article(arabic, whole, english.texts)


@pytest.mark.parametrize(
    ("seed", "at_stake"),
    [(2, [((7,), (5,)), ((8,), (6,)), ((9,), ())]), (18, [((), (3,)), ((2,), (4, 5))])],
)
def test_units_give_the_sentence_beads_of_whole_sentences_on_unchained_text(
    seed: int, at_stake: list[tuple[tuple[int, ...], tuple[int, ...]]]
) -> None:
    """ntrex128-dev articles with merged and deleted lines (the benchmark's ``all`` variant), sentence MT cut
    into units as ``tarjama align --mt`` cuts it: the unit rows, read as sentence beads, are the beads
    of ``--rows sentences``. Before, the units path's larger beads glued a sentence to the 0-1 line
    before it as a 1-3 (article 18) and three sentences to two as a 3-2 (article 2)."""
    from benchmarks.alignment_data import load_arabic_documents, load_documents, perturb_document
    from benchmarks.bench_align import units_beads

    case = perturb_document(load_documents()[seed], load_arabic_documents()[seed], "all", seed=seed)
    config = AlignmentConfig(granularity="sentences")
    sentences = align_article(
        Document("doc", Path("doc.ar.txt"), "ar", tuple(Sentence(k, k, t) for k, t in enumerate(case.arabic, 1))),
        case.mt,
        case.reference,
        config,
    )
    units = units_beads(case.arabic, case.mt, case.reference)
    assert [(b.source, b.reference) for b in units] == [(b.source, b.reference) for b in sentences.beads]
    assert set(at_stake) <= set(case.gold) & {(b.source, b.reference) for b in units}
    # and they are at least as confident (before, they had the confidences of the alignment with the larger
    # beads, lower for most rows)
    assert all(u.confidence >= s.confidence - 1e-9 for u, s in zip(units, sentences.beads))


def test_a_correct_unit_row_with_an_uncertain_clause_cut_is_not_flagged() -> None:
    """ntrex128-dev article 38 with merged and deleted lines: Arabic sentence 8 is reference sentences 7 and 8
    (a gold 1-2 bead, confidence 0.94), and its three clause units could be cut between the two in more than
    one way (the second stage's posterior of its 3-2 bead is 0.53). The rows are right, so they are not
    flagged: before, a unit row's confidence was its sentence bead's times the cut's, 0.49."""
    from benchmarks.alignment_data import load_arabic_documents, load_documents, perturb_document
    from benchmarks.bench_align import units_beads

    case = perturb_document(load_documents()[38], load_arabic_documents()[38], "all", seed=38)
    rows = {(b.source, b.reference): b.confidence for b in units_beads(case.arabic, case.mt, case.reference)}
    assert ((8,), (7, 8)) in set(case.gold) & set(rows)
    assert rows[(8,), (7, 8)] >= FLAG_BELOW


def test_a_one_sided_line_after_a_chained_sentence_stands_alone() -> None:
    """A byline, caption or credit on the English side only, after each comma-chained Arabic sentence of three
    lines or more (chained ntrex128-dev, tuning half): a 0-1 row of its own in the default rows, not the last
    English sentence of the chain's row (36 of 63 before such a line cost a 1-3 .. 1-6 bead; 54 now)."""
    from benchmarks.bench_chained import one_sided_rows
    from benchmarks.chained_data import build, fixture_mt

    line_mt = fixture_mt()
    counts = [one_sided_rows(d, DEFAULT_RULES, line_mt, {}, True) for d in build() if d.half == "tuning"]
    alone, glued = sum(a for a, _ in counts), sum(g for _, g in counts)
    assert alone >= 0.8 * (alone + glued), f"{alone} alone, {glued} glued"


@pytest.mark.parametrize(
    ("document", "draw", "three_two"),
    [
        (14, 1, ((2, 3, 4), (2, 3))),
        (18, 2, ((1, 2, 3), (1, 2))),
        (36, 4, ((9, 10, 11), (8, 9))),
        (38, 4, ((10, 11, 12), (10, 11))),
    ],
)
def test_a_sure_bead_of_three_sentences_to_two_is_not_regrouped_at_sentence_ends(
    document: int, draw: int, three_two: tuple[tuple[int, ...], tuple[int, ...]]
) -> None:
    """ntrex128-dev with three sentences rendered as two, the reference cutting inside the middle one (the
    benchmark's ``three_two_10``): the first stage finds the 3-2 bead and is sure of it, but no row of units can
    end where the reference cuts. The second stage's priors, made for units, gave two of the sentences to one
    reference sentence and the third to the other (a 2-1 and a 1-1, both wrong); a sure bead is now kept whole."""
    from benchmarks.alignment_data import load_arabic_documents, load_documents, perturb_document
    from benchmarks.bench_align import SEED_STRIDE, units_beads

    case = perturb_document(
        load_documents()[document],
        load_arabic_documents()[document],
        "three_two_10",
        seed=document + SEED_STRIDE * draw,
    )
    assert three_two in case.gold
    assert three_two in {(b.source, b.reference) for b in units_beads(case.arabic, case.mt, case.reference)}
