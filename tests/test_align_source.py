"""The aligner's optional ``source`` (length prior on source lengths) and band re-use, on real NTREX MT."""

from __future__ import annotations

import pytest

from benchmarks.alignment_data import BeadScores, load_arabic_documents, load_documents, perturb
from tarjama.alignment.align import align


@pytest.fixture(scope="module")
def documents():
    return load_documents()


@pytest.fixture(scope="module")
def arabic():
    return load_arabic_documents()


def test_source_lengths_sharpen_the_alignment(documents, arabic) -> None:
    plain, with_source = BeadScores(), BeadScores()
    for seed, (pairs, ar_pairs) in enumerate(zip(documents, arabic)):
        mt, reference, gold = perturb(pairs, "all", seed=seed)
        source = perturb(ar_pairs, "all", seed=seed)[0]
        assert len(source) == len(mt)
        plain.add([(b.source, b.reference) for b in align(mt, reference)], gold)
        beads = align(mt, reference, source=source)
        assert [i for b in beads for i in b.source] == list(range(len(mt)))
        assert [j for b in beads for j in b.reference] == list(range(len(reference)))
        with_source.add([(b.source, b.reference) for b in beads], gold)
    assert with_source.strict()[2] >= 0.975  # measured 0.982
    assert with_source.strict()[2] > plain.strict()[2]


def test_source_must_match_mt() -> None:
    with pytest.raises(ValueError):
        align(["a", "b"], ["c"], source=["x"])


def test_empty_source_sides() -> None:
    assert [(b.source, b.reference) for b in align([], ["r"], source=[])] == [((), (0,))]
    assert [(b.source, b.reference) for b in align(["m"], [], source=[""])] == [((0,), ())]


def test_wide_drift_far_from_the_diagonal(documents) -> None:
    """A long omission early on: the band widens locally and re-centres, reusing earlier scores."""
    pairs = [pair for pairs in documents[:20] for pair in pairs]
    mt = [m for m, _ in pairs]
    reference = [r for k, (_, r) in enumerate(pairs) if not 10 <= k < 50]
    beads = align(mt, reference, band_half_width=2)
    found = {(b.source, b.reference) for b in beads}
    kept = {((k,), (k if k < 10 else k - 40,)) for k in range(len(pairs)) if not 10 <= k < 50}
    assert len(found & kept) >= 0.95 * len(kept)
    assert len(found & {((k,), ()) for k in range(10, 50)}) >= 36


def test_default_beads_align_one_arabic_sentence_to_many_english_ones():
    """A reference that splits each source sentence in three: only 1-3 beads are right."""
    mt = [
        "The minister arrived in Rabat on Friday and met the king and then visited the security headquarters.",
        "The two sides discussed terrorism and agreed to cooperate and signed a trade agreement.",
    ]
    reference = [
        "The minister arrived in Rabat on Friday.",
        "He met the king.",
        "Then he visited the security headquarters.",
        "The two sides discussed terrorism.",
        "They agreed to cooperate.",
        "They signed a trade agreement.",
    ]
    beads = align(mt, reference)
    assert [(b.source, b.reference) for b in beads] == [((0,), (0, 1, 2)), ((1,), (3, 4, 5))]
    small = {(1, 1): 0.89, (1, 2): 0.045, (2, 1): 0.045, (2, 2): 0.01, (1, 0): 0.01, (0, 1): 0.01}
    assert all(len(b.reference) <= 2 for b in align(mt, reference, bead_priors=small))
