"""The Bleualign-method baseline (benchmark only): BLEU-2, anchors, gap filling, valid output."""

from __future__ import annotations

import math
import random

import pytest
from conftest import assert_valid

from benchmarks.alignment_data import BeadScores, load_documents, perturb
from benchmarks.bleualign import align, bleu2


def gold_of(beads):
    return [(b.source, b.reference) for b in beads]


def test_bleu2_by_hand() -> None:
    assert bleu2("the cat sat on the mat", "the cat sat on the mat") == pytest.approx(1.0)
    assert bleu2("the cat", "a dog") == 0.0  # no shared bigram: unsmoothed BLEU-2 is 0
    assert bleu2("", "anything") == 0.0
    # hyp 4 tokens: unigrams the, cat, sat, down -> 3 match; bigrams 3 -> "the cat", "cat sat" match;
    # reference has 6 tokens, so the brevity penalty is exp(1 - 6/4)
    expected = math.sqrt(3 / 4 * 2 / 3) * math.exp(1 - 6 / 4)
    assert bleu2("The cat sat down", "the cat sat on the mat") == pytest.approx(expected)
    # clipped counts: "the the" matches one "the" and no bigram beyond one
    assert bleu2("the the the cat", "the cat") == pytest.approx(math.sqrt(2 / 4 * 1 / 3))


def test_aligns_merges_and_omissions() -> None:
    mt = [
        "The president met the prime minister on Monday.",
        "They talked about trade.",
        "Nothing here matches.",
        "The weather was cold and wet.",
        "Later the minister left for London by train.",
    ]
    reference = [
        "The president met the prime minister on Monday and they talked about trade.",
        "The weather was cold and wet.",
        "Later the minister left for London by train.",
        "An extra line.",
    ]
    beads = align(mt, reference)
    assert_valid(beads, len(mt), len(reference))
    found = gold_of(beads)
    assert ((0, 1), (0,)) in found
    assert ((3,), (1,)) in found and ((4,), (2,)) in found


def test_empty_sides() -> None:
    assert align([], []) == []
    assert gold_of(align(["a b c"], [])) == [((0,), ())]
    assert gold_of(align([], ["a b c"])) == [((), (0,))]


def test_random_input_is_covered() -> None:
    documents = load_documents()
    lines = [text for pairs in documents for pair in pairs for text in pair] + ["", " "]
    rng = random.Random(5)
    for _ in range(30):
        mt, reference = rng.choices(lines, k=rng.randint(0, 20)), rng.choices(lines, k=rng.randint(0, 20))
        assert_valid(align(mt, reference), len(mt), len(reference))


def test_quality_on_real_mt() -> None:
    """A sanity floor: the method is a real baseline, well above chance, below tarjama's aligner."""
    scores = BeadScores()
    for seed, pairs in enumerate(load_documents()):
        mt, reference, gold = perturb(pairs, "all", seed=seed)
        beads = align(mt, reference)
        assert_valid(beads, len(mt), len(reference))
        scores.add(gold_of(beads), gold)
    assert scores.strict()[2] >= 0.8
    assert scores.lax()[2] >= 0.9
