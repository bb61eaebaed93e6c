"""Strict and lax bead precision/recall (Sennrich & Volk 2011, as Vecalign's scorer) on hand-made beads."""

from __future__ import annotations

import pytest

from benchmarks.alignment_data import BeadScores, lax_strict_counts, perturb, resplit_with_splitter

GOLD = [((0,), (0,)), ((1, 2), (1,)), ((3,), ()), ((), (2,)), ((4,), (3, 4))]


def test_identical_alignment_is_perfect() -> None:
    assert lax_strict_counts(GOLD, GOLD) == (5, 0, 5, 0)
    scores = BeadScores()
    scores.add(GOLD, GOLD)
    assert scores.strict() == scores.lax() == (1.0, 1.0, 1.0)


def test_partial_overlap_is_lax_but_not_strict() -> None:
    predicted = [((0,), (0,)), ((1,), (1,)), ((2,), ()), ((3,), ()), ((), (2,)), ((4,), (3,)), ((), (4,))]
    # precision: 1-1 (0,0), (3,), (), (), (2,) strict; (1,)-(1,) and (4,)-(3,) lax; (2,)-() and ()-(4,) wrong
    assert lax_strict_counts(predicted, GOLD) == (3, 4, 5, 2)
    # recall: gold (1,2)-(1,) and (4,)-(3,4) overlap a prediction on both sides
    assert lax_strict_counts(GOLD, predicted) == (3, 2, 5, 0)
    scores = BeadScores()
    scores.add(predicted, GOLD)
    precision, recall, f1 = scores.strict()
    assert (precision, recall) == pytest.approx((3 / 7, 3 / 5))
    assert f1 == pytest.approx(2 * precision * recall / (precision + recall))
    assert scores.lax()[:2] == pytest.approx((5 / 7, 1.0))


def test_unmatched_beads_are_never_lax_matches_unless_exact() -> None:
    # a deletion predicted where gold has a 1-1: no overlap on the reference side
    assert lax_strict_counts([((0,), ()), ((), (0,))], [((0,), (0,))]) == (0, 2, 0, 2)
    # beads empty on both sides are ignored; duplicates count once
    assert lax_strict_counts([((), ()), ((0,), (0,)), ((0,), (0,))], [((0,), (0,))]) == (1, 0, 1, 0)


def test_shifted_alignment_overlaps_nothing() -> None:
    gold = [((0,), (0,)), ((1,), (1,))]
    predicted = [((0,), (1,)), ((1,), (0,))]  # not monotone, but the metric does not care
    assert lax_strict_counts(predicted, gold) == (0, 2, 0, 2)


def test_scores_sum_over_documents() -> None:
    scores = BeadScores()
    scores.add(GOLD, GOLD)
    scores.add([((0,), ())], [((0,), (0,))])
    assert scores.strict()[0] == pytest.approx(5 / 6)
    assert scores.strict()[1] == pytest.approx(5 / 6)


def test_splitter_gold_maps_sentences_to_overlapping_lines() -> None:
    pairs = [
        ("mt one", "Dr. Smith arrived. He sat down."),  # the splitter keeps "Dr." and splits after "arrived."
        ("mt two", "Then he"),  # a line that ends mid-sentence joins the next one
        ("mt three", "left the room."),
        ("mt four", "Good."),
    ]
    mt, reference, gold = resplit_with_splitter(pairs)
    assert mt == ["mt one", "mt two", "mt three", "mt four"]
    assert reference == ["Dr. Smith arrived.", "He sat down.", "Then he left the room.", "Good."]
    assert gold == [((0,), (0, 1)), ((1, 2), (2,)), ((3,), (3,))]
    assert perturb(pairs, "splitter", seed=0) == (mt, reference, gold)


@pytest.mark.parametrize(
    "variant, large", [("merge3_en_10", (3, 1)), ("merge3_ar_10", (1, 3)), ("three_two_10", (3, 2))]
)
def test_three_line_perturbations_keep_every_word(variant, large) -> None:
    pairs = [(f"mt{k} a b", f"ref{k} c d e") for k in range(200)]
    mt, reference, gold = perturb(pairs, variant, seed=1)
    assert {(len(s), len(r)) for s, r in gold} == {(1, 1), large}
    assert " ".join(mt).split() == " ".join(m for m, _ in pairs).split()
    assert " ".join(reference).split() == " ".join(r for _, r in pairs).split()
    for source_ids, reference_ids in gold:  # each gold bead holds exactly its lines' words
        lines = [int(word[len("mt") :]) for k in source_ids for word in mt[k].split() if word.startswith("mt")]
        words = [w for k in reference_ids for w in reference[k].split() if w.startswith("ref")]
        assert words == [f"ref{k}" for k in lines]
