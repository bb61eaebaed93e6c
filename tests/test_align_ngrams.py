"""The compiled n-gram matcher behind the aligner's chrF, against sacrebleu on the joined spans."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sacrebleu.metrics import CHRF

from tarjama.alignment.align import CHRF_BETA
from tarjama.alignment.ngrams import SpanMatcher, chrf_from_matches

WORDS = "the a an of in to and is was we al-qaeda Rabat 2,000 U.S. said: «quote» é ça x xx xxx".split()


def _sentence(rng: random.Random) -> str:
    """Sentences from empty to a few words, many shorter than an n-gram, so n-grams cross several joins."""
    return " ".join(rng.choices(WORDS, k=rng.choice([0, 1, 1, 2, 3, 8])))


def _chars(text: str) -> int:
    return len("".join(text.split()))


def _chrf_of_cells(matcher: SpanMatcher, hyp, ref, i, j, bead_types):
    matches = matcher.matches(np.array(i), np.array(j), bead_types)
    scores = {}
    for t, (di, dj) in enumerate(bead_types):
        for k, (a, b) in enumerate(zip(i, j)):
            if a - di >= 0 and b - dj >= 0:
                h, r = " ".join(hyp[a - di : a]), " ".join(ref[b - dj : b])
                value = chrf_from_matches(matches[t, k], np.array(_chars(h)), np.array(_chars(r)), CHRF_BETA)
                scores[(di, dj, a, b)] = (float(value), h, r)
    return scores


@pytest.mark.parametrize("seed", range(4))
def test_every_span_pair_scores_as_sacrebleu_on_the_joined_text(seed: int) -> None:
    rng = random.Random(seed)
    hyp = [_sentence(rng) for _ in range(12)]
    ref = [_sentence(rng) for _ in range(12)]
    bead_types = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 1), (1, 4), (3, 2), (1, 0), (0, 1)]
    cells = [(a, b) for a in range(len(hyp) + 1) for b in range(len(ref) + 1)]
    scores = _chrf_of_cells(SpanMatcher(hyp, ref), hyp, ref, [a for a, _ in cells], [b for _, b in cells], bead_types)
    metric = CHRF(beta=CHRF_BETA)
    assert len(scores) > 500
    for value, h, r in scores.values():
        assert value * 100 == pytest.approx(metric.sentence_score(h, [r]).score, abs=1e-9), (h, r)


def test_calls_in_any_window_order_agree() -> None:
    """Windows that move back between calls (as the band's later passes do) give the same counts."""
    rng = random.Random(9)
    hyp = [_sentence(rng) for _ in range(40)]
    ref = [_sentence(rng) for _ in range(40)]
    bead_types = [(1, 1), (2, 1), (1, 2)]
    late = ([30, 30, 31], [28, 29, 30])
    early = ([5, 6, 6], [4, 5, 7])
    reused = SpanMatcher(hyp, ref)
    reused.matches(np.array(late[0]), np.array(late[1]), bead_types)
    again = reused.matches(np.array(early[0]), np.array(early[1]), bead_types)
    fresh = SpanMatcher(hyp, ref).matches(np.array(early[0]), np.array(early[1]), bead_types)
    assert np.array_equal(again, fresh) and again.any()


def test_scattered_cells_count_as_in_the_full_grid() -> None:
    """Rows with gaps and scattered rows (the cells a later pass or a large bead type asks for) get the counts
    the same cells get among all cells of the grid, for spans counted from either side."""
    rng = random.Random(3)
    hyp = [_sentence(rng) for _ in range(30)]
    ref = [_sentence(rng) for _ in range(30)]
    bead_types = [(1, 1), (2, 1), (1, 2), (2, 2), (1, 5), (4, 1), (3, 2)]
    grid = [(a, b) for a in range(len(hyp) + 1) for b in range(len(ref) + 1)]
    full = SpanMatcher(hyp, ref).matches(np.array([a for a, _ in grid]), np.array([b for _, b in grid]), bead_types)
    picked = sorted(rng.sample(range(len(grid)), 120))
    some = SpanMatcher(hyp, ref).matches(
        np.array([grid[k][0] for k in picked]), np.array([grid[k][1] for k in picked]), bead_types
    )
    assert np.array_equal(some, full[:, picked]) and some.any()


def test_scored_match_counts_read_back_exactly_even_when_they_overflow_16_bits() -> None:
    """The search keeps counts in 16 bits when they fit; a span of 70,000 characters must keep its own."""
    from tarjama.alignment.align import ScoredMatches

    long_line = "a" * 70_000
    matcher = SpanMatcher(["x y", long_line], ["x y", long_line])
    scored = ScoredMatches(2)
    for cells in ([1], [2]):  # two scoring calls, as two band passes make
        i = j = np.array(cells)
        scored.add((1, 1), i, j, matcher.matches(i, j, [(1, 1)])[0])
    counts, found = scored.get((1, 1), np.array([2, 1, 2]), np.array([2, 1, 1]))
    assert found.tolist() == [True, True, False]
    assert counts[0].tolist() == [70_000 - k for k in range(6)] and counts[1].tolist() == [2, 1, 0, 0, 0, 0]
    assert counts[2].tolist() == [0] * 6
