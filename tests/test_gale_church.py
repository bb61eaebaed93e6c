"""The Gale-Church length aligner (no MT) against known beads built from line-aligned NTREX news.

The source side is the real Arabic of the NTREX gold, the reference its English original; the
perturbations (merges, deletions, re-splits) come from ``benchmarks.alignment_data.perturb``.
Run with ``-s`` to see the measured scores.
"""

from __future__ import annotations

import math
import time

import pytest
from conftest import assert_valid

from benchmarks.alignment_data import Pair, load_arabic_documents, perturb, precision_recall_f1, strict_counts
from tarjama.alignment.align import Bead
from tarjama.alignment.gale_church import ARABIC_TO_ENGLISH_C, align_lengths, length_z

# Strict bead F1 floors, a little below what the length model achieves (measured: clean 0.995,
# merge_reference 0.995, merge_source 0.986, delete 0.83, resplit 0.87, combined 0.82): lengths alone
# cannot tell which of several similar sentences the other side omitted.
F1_FLOORS = {
    "clean": 0.98,
    "merge_reference": 0.97,
    "merge_source": 0.96,
    "delete": 0.80,
    "resplit": 0.80,
    "combined": 0.78,
}


@pytest.fixture(scope="module")
def documents() -> list[list[Pair]]:
    """(Arabic, English) gold line pairs, one list per document."""
    return load_arabic_documents()


def evaluate(documents: list[list[Pair]], variant: str) -> tuple[tuple[float, float, float], list[tuple[Bead, bool]]]:
    totals = [0, 0, 0]
    judged: list[tuple[Bead, bool]] = []
    for seed, pairs in enumerate(documents):
        source, reference, gold = perturb(pairs, variant, seed=seed)
        beads = align_lengths(source, reference)
        assert_valid(beads, len(source), len(reference))
        predicted = [(b.source, b.reference) for b in beads]
        totals = [t + c for t, c in zip(totals, strict_counts(predicted, gold))]
        gold_set = set(gold)
        judged += [(b, (b.source, b.reference) in gold_set) for b in beads]
    return precision_recall_f1(*totals), judged


def test_documents_are_the_gold(documents: list[list[Pair]]) -> None:
    assert len(documents) == 40 and sum(map(len, documents)) == 603


@pytest.mark.parametrize("variant", list(F1_FLOORS))
def test_recovers_known_beads(documents: list[list[Pair]], variant: str) -> None:
    start = time.perf_counter()
    (precision, recall, f1), _ = evaluate(documents, variant)
    print(
        f"\n{variant} (Gale-Church): P={precision:.3f} R={recall:.3f} F1={f1:.3f} in {time.perf_counter() - start:.2f}s"
    )
    assert f1 >= F1_FLOORS[variant]


def test_merged_reference_lines_become_two_to_one_beads(documents: list[list[Pair]]) -> None:
    """Most gold 2-1 beads (two Arabic lines, one merged English line) are recovered exactly."""
    found = total = 0
    for seed, pairs in enumerate(documents):
        source, reference, gold = perturb(pairs, "merge_reference", seed=seed)
        predicted = {(b.source, b.reference) for b in align_lengths(source, reference)}
        merged = [g for g in gold if len(g[0]) == 2]
        total += len(merged)
        found += sum(g in predicted for g in merged)
    assert total > 50
    assert found / total >= 0.9, f"{found}/{total} merged lines recovered"


def test_comma_chained_sentences_become_one_to_many_beads() -> None:
    """An Arabic sentence chaining three or four of the English's (``، و``) is one 1-3 or 1-4 bead, not a
    1-2 beside lone English sentences (the chained benchmark's tuning half: 20 of 55 such runs found whole, none
    with Gale & Church's six bead types alone)."""
    from benchmarks.bench_chained import chained_document
    from benchmarks.chained_data import build

    found = total = 0
    for chained in build():
        sentences = chained_document(chained, None).texts
        if chained.half != "tuning" or len(sentences) != len(chained.runs):
            continue
        gold, line = set(), 0
        for k, run in enumerate(chained.runs):
            gold.add(((k,), tuple(range(line, line + len(run)))))
            line += len(run)
        predicted = {(b.source, b.reference) for b in align_lengths(sentences, [c.english for c in chained.clauses])}
        long_runs = [bead for bead in gold if len(bead[1]) >= 3]
        total += len(long_runs)
        found += len(predicted & set(long_runs))
    assert total > 20
    assert found / total >= 0.3, f"{found}/{total} runs of three or four lines found as one bead"


def test_confidence_is_high_on_right_beads_and_low_on_wrong_ones(documents: list[list[Pair]]) -> None:
    _, judged = evaluate(documents, "combined")
    right = [b.confidence for b, ok in judged if ok and b.source and b.reference]
    wrong = [b.confidence for b, ok in judged if not ok and b.source and b.reference]
    unmatched = [b.confidence for b, _ in judged if not (b.source and b.reference)]
    assert wrong and unmatched
    assert sum(right) / len(right) > 0.8
    assert sum(right) / len(right) > sum(wrong) / len(wrong) + 0.15
    assert max(unmatched) < 0.01


def test_measured_length_ratio_matches_the_constant(documents: list[list[Pair]]) -> None:
    """c is the ratio of English to Arabic characters over the gold (documented as 1.0587)."""
    arabic = sum(len(a) for pairs in documents for a, _ in pairs)
    english = sum(len(e) for pairs in documents for _, e in pairs)
    assert english / arabic == pytest.approx(ARABIC_TO_ENGLISH_C, abs=0.005)


def test_length_z() -> None:
    assert length_z(0, 0) == 0.0
    assert length_z(100, round(100 * ARABIC_TO_ENGLISH_C)) == pytest.approx(0.0, abs=0.01)
    assert length_z(100, 50) > 2 > 0 > -2 > length_z(100, 200)
    assert math.isfinite(length_z(100_000, 0))


def test_whole_set_as_one_text(documents: list[list[Pair]]) -> None:
    """All 603 lines as one text, and the same text repeated 4 times: the band follows the drift."""
    pairs = [pair for pairs in documents for pair in pairs]
    source, reference, gold = perturb(pairs, "combined", seed=3)
    beads = align_lengths(source, reference)
    assert_valid(beads, len(source), len(reference))
    f1 = precision_recall_f1(*strict_counts([(b.source, b.reference) for b in beads], gold))[2]
    beads4 = align_lengths(source * 4, reference * 4)
    assert_valid(beads4, 4 * len(source), 4 * len(reference))
    print(f"\nwhole set {len(source)}x{len(reference)}: F1={f1:.3f}")
    assert f1 >= 0.75  # measured 0.795


def test_a_figure_says_which_sentence_the_other_side_left_out() -> None:
    """Lengths alone give the English sentence to the Arabic one whose length fits it; the figure it shares
    with the next one (written in Arabic-Indic digits there) says that one is its source, and the first of the
    two is the one the English leaves out."""
    source = [
        "افتتح الرئيس المعرض الدولي للكتاب في العاصمة صباح اليوم بحضور عدد كبير من الكتاب والناشرين العرب.",
        "وكان المعرض قد تأسس عام ٢٠٠١ وشارك فيه منذ ذلك الحين عدد كبير من دور النشر.",
        "وقال المنظمون إن عدد الزوار بلغ هذا العام ٢٠١٥ زائرا في اليوم الأول وحده، وهو رقم قياسي لم يسجل من قبل.",
    ]
    reference = [
        "The president opened the international book fair in the capital this morning, with many Arab authors and publishers.",
        "Organisers said 2015 people came on the first day.",
    ]
    assert len(reference[1]) < len(source[1]) * ARABIC_TO_ENGLISH_C < len(source[2]) * ARABIC_TO_ENGLISH_C
    by_numbers = [(b.source, b.reference) for b in align_lengths(source, reference)]
    by_lengths = [(b.source, b.reference) for b in align_lengths(source, reference, numbers=False)]
    assert by_numbers == [((0,), (0,)), ((1,), ()), ((2,), (1,))]
    assert by_lengths == [((0,), (0,)), ((1,), (1,)), ((2,), ())]
