"""Monotone many-to-many alignment of machine-translated sentences to a reference.

MT sentence i translates source sentence i, so aligning the source to a human
reference reduces to aligning two *English* texts, where character n-gram
overlap is a strong signal. The aligner finds the best monotone path of beads
from (0, 0) to (n, m) in a banded dynamic programme. A bead takes ``di`` MT
sentences and ``dj`` reference sentences; its score (a log-weight in nats,
higher is better) is the sum of

* the bead-type prior ``log P(di-dj)``: 1-1 most likely, 1-0/0-1 so unlikely
  that they win only when nothing on the other side matches;
* a Gale-Church length prior ``log P(|delta| >= observed)`` of the reference
  length given the MT length, in characters (matched beads only: an unmatched
  sentence has no partner whose length could be predicted). The default
  variance (20 per character) is flatter than the ~4 measured for the local
  engine's MT on NTREX, because MT length errors are heavy-tailed (truncated
  or padded output) and chrF is the more reliable signal;
  when the caller passes the ``source`` sentences, the prior compares the
  reference with the source lengths instead (Gale & Church's variance 6.8 per
  source character), a much sharper signal than weak MT's lengths;
* ``similarity_weight * size * (chrF - null(L))`` for matched beads, 0 for
  unmatched ones. ``null(L) = null_similarity + null_growth * ln(L / 100)``
  is a little above the chrF that unrelated English spans of mean length L
  characters reach by chance (measured on NTREX: 0.147 at L = 100, rising
  0.049 per e-fold of L, for both real and stand-in MT, as longer spans share
  more letters and bigrams by chance), so a pairing earns credit only for
  overlap beyond chance, and merging sentences earns nothing for its extra
  chance matches. ``size`` is the bead's characters (both sides) over twice
  the mean sentence length: weighting by characters makes a merged bead
  score about what its parts would score apart, so merging is decided by the
  priors and by real evidence, not by a short, poorly matching sentence being
  diluted in a long one; and as every path covers all characters, path
  totals stay comparable;
* given the source, ``-NUMBER_MISSED`` per number written in digits on one
  side of a matched bead and not on the other
  (:data:`tarjama.alignment.numbers.NUMBER_MISSED`).

chrF is sacrebleu's chrF with ``beta=1`` (character 1..6-grams, whitespace
ignored, effective-order averaging): precision and recall count equally
because either side may carry material the other lacks, whereas the default
``beta=2`` barely penalises an MT span padded with an unmatched sentence. The
match counts of every candidate bead come in bulk from
:class:`tarjama.alignment.ngrams.SpanMatcher` (compiled; work proportional to the
n-grams a pair shares), counted on the joined text of each span, so the chrF
of a merged bead is exactly sacrebleu's on the joined sentences.

Search. :func:`tarjama.alignment.dp.align_banded` finds the best path in a band of
``band_half_width`` reference sentences around the length diagonal (MT
character offsets mapped proportionally onto reference character offsets),
re-centred and widened locally where the path touches its edge. Both texts
translate the same source, so the true path leaves that line only where one
side omits or adds material.

Broken MT. A chat preamble is dropped and the translation it quotes is used. A looping, truncated or empty
MT line, the Arabic copied, or a preamble with nothing after it (:func:`broken_mt`) says nothing about where
its source belongs:
a bead holding one gets no chrF term (and, without the source, no length
term), so it is placed by the priors and the source lengths, not pushed out
as a 1-0 and a 0-1 by a chrF far below chance scaled by the loop's length.

Runs of one-sided lines. A 1-0 (0-1) bead right after another gains :data:`GAP_EXTENSION` nats: a block
of captions or a list on one side only pays the unmatched prior once, then much less per sentence, rather
than being glued into large beads (affine gaps, :func:`tarjama.alignment.dp.align_banded`).

One-sided lines. A byline, caption or dateline on one side only would cost a
1-2/2-1 bead almost nothing (unrelated material scores about chance), so it
would be glued to a neighbour's pair. A 1-2 or 2-1 bead therefore loses
weight when one of its two sentences finds hardly any of its character
n-grams in the other side (:data:`LONE_PART_RECALL`); so does a 2-2 bead when one of its four
sentences does, and a bead with one sentence on a side when one of the other side's
finds hardly any of its longer n-grams (:data:`LONE_LONG_RECALL`: a short line finds its letters anywhere);
and a 2-2 bead when the first sentence of one side and the last of the other both do (:data:`LONE_CORNER_RECALL`:
a sentence with no counterpart on each side, glued around a pair). A 1-2 bead also loses weight when one of its
reference sentences does not end as a sentence (a headline, byline or caption line) and hardly any of its longer
n-grams are found in the MT (:data:`LONE_HEADING_RECALL`); a bead of one MT sentence and three or more reference
sentences whose first or last is such a line loses far more (:data:`LONE_EDGE_COST`): a caption after a
comma-chained sentence. Given the source sentences, the same holds on the other side: a bead of two or more MT
sentences whose first or last translates a source line of its own loses weight (:data:`LONE_SOURCE_COST`).

Confidence (pair confidence: do these two sides belong together?). A matched
bead's confidence is its posterior probability (forward-backward over the
band) times a pair probability from its MT's margin over unrelated sentences,
its length tail and the support of each sentence of a multi-sentence side
(:mod:`tarjama.alignment.confidence`), with the doubt of a bead whose two sides write the same figures
cut (:func:`tarjama.alignment.numbers.vouched_by_numbers`); an unmatched (1-0/0-1) bead's confidence
is its posterior: how sure the aligner is that the sentence has no
counterpart. How good the MT is stays with the rows' chrF/BLEU and the checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

import numpy as np
import numpy.typing as npt

import tarjama
from tarjama.alignment.confidence import pair_confidence
from tarjama.alignment.dp import Bead, Cells, Scores, align_banded, length_diagonal
from tarjama.alignment.gale_church import (
    GALE_CHURCH_PRIORS,
    align_lengths,
    expected_length_ratio,
    log_length_tail,
    text_length_ratio,
)
from tarjama.alignment.ngrams import MAX_ORDER, SpanMatcher, chrf_from_matches, part_recall
from tarjama.alignment.numbers import number_masks, numbers_missed_cost, vouched_by_numbers
from tarjama.text.article import Granularity
from tarjama.text.segment import ends_as_sentence
from tarjama.translation.broken import PREAMBLE, broken_mt

CHRF_BETA = 1

DEFAULT_BEAD_PRIORS: Mapping[tuple[int, int], float] = MappingProxyType(
    {
        (1, 1): 0.89,
        (1, 2): 0.045,
        (2, 1): 0.045,
        (2, 2): 0.01,
        (1, 0): 0.01,
        (0, 1): 0.01,
        (1, 3): 0.0002,
        (3, 1): 0.0002,
        (2, 3): 0.0001,
        (3, 2): 0.0001,
        (1, 4): 0.0001,
        (4, 1): 0.0001,
        (1, 5): 0.000066,
        (1, 6): 0.00005,
    }
)
"""Relative prior of each bead type (MT sentences, reference sentences).

The first six after Gale & Church (1993). The larger ones are what real translations need:
Arabic news often runs a paragraph as one comma-chained sentence that English renders as several
(1-3 … 1-6), an English sentence can gather three Arabic ones (3-1), and two sentences can be cut
differently (2-3, 3-2); without them such a place becomes a smaller bead plus a spurious 1-0 or
0-1. They are kept small because a larger prior lets neighbouring beads merge whenever their
merged length fits better. Large beads are scored only near the best path of the small ones
(:mod:`tarjama.alignment.dp`), so they cost little. How each constant of this module was chosen:
``benchmarks/results/alignment-constants.md``."""


SENTENCE_BEAD_PRIORS: Mapping[tuple[int, int], float] = MappingProxyType(
    {
        (1, 1): 0.89,
        (1, 2): 0.045,
        (2, 1): 0.045,
        (2, 2): 0.01,
        (1, 3): 0.01,
        (1, 4): 0.005,
        (1, 5): 0.0033,
        (1, 6): 0.0025,
        (3, 1): 0.005,
        (2, 3): 0.003,
        (3, 2): 0.003,
        (1, 0): 0.01,
        (0, 1): 0.01,
    }
)
"""Bead priors of the first stage, sentences against reference sentences.

Used when rows follow clause units (:func:`tarjama.alignment.regroup.align_article`): the larger beads at
full strength (a reference may split any one sentence into up to 6), with 3-1, 2-3 and 3-2, where
a reference sentence takes the end of one Arabic sentence and the start of the next: the second
stage gives each reference sentence its units inside such a bead."""


UNIT_BEAD_PRIORS: Mapping[tuple[int, int], float] = MappingProxyType(
    {
        (1, 1): 0.80,
        (2, 1): 0.08,
        (1, 2): 0.02,
        (3, 1): 0.02,
        (2, 2): 0.005,
        (1, 3): 0.005,
        (3, 2): 0.005,
        (2, 3): 0.005,
        (4, 1): 0.005,
        (1, 4): 0.003,
        (5, 1): 0.002,
        (6, 1): 0.001,
        (1, 0): 0.005,
        (0, 1): 0.005,
    }
)
"""Bead priors of the second stage, clause units against the reference sentences of one sentence bead.

Units are cut generously, so several units to one sentence is the common
merge (up to 6, as a paragraph-long sentence of short clauses may be one
English sentence); one unit to several sentences happens where a quotation or
a long clause cannot be cut. Chosen on the chained benchmark's tuning half."""


LONE_PART_RECALL, LONE_PAIRED_RECALL = 0.25, 0.27
LONE_PART_SLOPES = {(1, 2): 40.0, (2, 1): 40.0, (2, 2): 80.0}
"""A bead of one of these types whose sentences on a side holding two recall ``r_low`` (the least) and
``r_high`` (the most) of their character n-grams in the other side loses
``LONE_PART_SLOPES * (LONE_PART_RECALL - r_low)`` nats when ``r_low`` is below ``LONE_PART_RECALL`` and
``r_high`` at least ``LONE_PAIRED_RECALL``: one sentence matches, another hardly at all. Nearly every
sentence of a true 1-2/2-1 bead recalls a quarter of its n-grams in its partner, and nearly no one-sided
line (byline, caption) does in an unrelated sentence; requiring another sentence to match keeps weak MT
from splitting true merges. A 2-2 bead is checked too: a one-sided line glued with its neighbour's pair
made a cheaper 2-2 than a 1-0 and a 1-1."""

LONE_LONG_RECALL, LONE_LONG_SCALE = {"mt": 0.05, "reference": 0.03}, 5.0
"""A bead with one sentence on a side is also checked on the recall of character n-grams of orders 3-6
alone: a sentence of the other side recalling ``r < LONE_LONG_RECALL`` of them counts as recalling
``0.25 - 5 * (LONE_LONG_RECALL - r)`` of all orders (``mt``: the parts are MT sentences, 2-1; ``reference``:
reference sentences, 1-2). A short one-sided line ("Photo: Reuters") finds its letters and letter
pairs in any long sentence, so its recall of all orders stays near 0.25 by chance, but hardly any of its
longer n-grams; a real part of a merge shares words. Not for 2-2, where it cuts re-split pairs whose
moved piece is short.

A sentence that shares not one character trigram with the other side is checked even when no other
sentence recalls ``LONE_PAIRED_RECALL``: weak MT recalls little of its own reference ("the cherry
orchard" for a pig farm), so a byline glued to such a pair went unchecked, while every part of a true
merge shares words. The price: a short line whose MT is wrong but not broken ("I got bit!" as "Thank
you!") stands alone where a merge holds it."""

LONE_HEADING_RECALL, LONE_HEADING_COST = 0.1, 2.0
"""A 1-2 bead loses ``LONE_HEADING_COST`` nats when one of its two reference sentences does not end as a sentence
(:func:`tarjama.text.segment.ends_as_sentence`) and recalls less than ``LONE_HEADING_RECALL`` of its character
n-grams of orders 3-6 in the MT. Such a sentence is a line of its own (a headline, byline, dateline, caption or
credit: the splitter cuts only at sentence ends and line breaks), which a translator seldom runs into the next
sentence; a headline shares the article's names and a short line finds its letters anywhere, so the check on
all orders passes it. Reference sentences only: an MT item may be a clause unit, and a truncated MT line has no
sentence end either."""

LONE_CORNER_RECALL = 0.1
"""A 2-2 bead loses ``LONE_PART_SLOPES[2, 2] * LONE_LONG_SCALE`` nats per unit of recall below this when the first
sentence of one side and the last of the other both recall less of their character n-grams of orders 3-6 in
the other side: a sentence with no counterpart on each side, glued around a pair (1-0 + 1-1 + 0-1). In a
re-split, the sentences at a corner of the bead each hold one end of the same text, so one of them finds its
words across (how the level was chosen: ``benchmarks/results/alignment-gaps.md``)."""

LONE_EDGE_COST = 15.0
"""Nats a bead of one MT sentence and three or more reference sentences loses when its first or last reference
sentence does not end as a sentence and recalls less than :data:`LONE_HEADING_RECALL` of its character n-grams of
orders 3-6 in the MT: a caption, credit or byline glued to the end of a chain. Where the units path's sentence
stage gives 1-3 .. 1-6 beads their full strength, one more line costs such a bead well under a nat against 4.6
for a 0-1, so the heading check's two nats did not free it; this cost works as a veto, and above it nothing
changes (how it was chosen: ``benchmarks/results/alignment-gaps.md``)."""

LONE_SOURCE_RECALL, LONE_SOURCE_COST = 0.07, 2.0
"""A bead of two or more MT sentences loses ``LONE_SOURCE_COST`` nats when its first or last MT sentence translates
a source line of its own (a source sentence that neither ends as one nor leads into the next with a colon: a
byline, credit, dateline or "read also" line) and recalls less than ``LONE_SOURCE_RECALL`` of its character n-grams
of orders 3-6 in the reference: the source-side twin of the heading check, when the source sentences are given.
The line is judged on its own MT, so a broken MT line beside it (which turns the bead's other checks off) does
not hide it. A weakly translated headline recalls a little more (a higher level cut such headlines from the
sentence the reference joins them to; how both were chosen: ``benchmarks/results/alignment-gaps.md``)."""

GAP_EXTENSION = 2.5
"""Nats a 1-0 (0-1) bead gains when it follows another (affine gaps, :mod:`tarjama.alignment.dp`). Without
it a run of k one-sided sentences costs k times the 1-0 prior (4.6 nats each), so a block of captions on
one side only was glued into large beads. Chosen on the Text+Berg development article; much more starts
to cut 3-1 beads."""

__all__ = [
    "Alignment",
    "AlignmentConfig",
    "AlignmentSignature",
    "Bead",
    "align",
    "align_translation",
    "align_without_reference",
    "chrf",
]


def chrf(hypothesis: str, reference: str) -> float:
    """Sentence chrF in [0, 1], equal to ``sacrebleu.metrics.CHRF(beta=CHRF_BETA).sentence_score(h, [r]).score / 100``."""
    matches = SpanMatcher([hypothesis], [reference]).matches(np.array([1]), np.array([1]), [(1, 1)])
    lengths = np.array([_chars(hypothesis)]), np.array([_chars(reference)])
    return float(chrf_from_matches(matches[0], *lengths, beta=CHRF_BETA)[0])


Counts = tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]]
"""1-1 match counts per cell (rows of n-gram orders) and whether they are known."""


class ChrfLengthScorer:
    """Bead scores of the MT aligner (see the module docstring): prior, length tail and chrF above chance."""

    def __init__(
        self,
        mt: Sequence[str],
        reference: Sequence[str],
        bead_priors: Mapping[tuple[int, int], float],
        *,
        similarity_weight: float,
        null_similarity: float,
        null_growth: float,
        length_variance: float,
        source: Sequence[str] | None,
        source_length_variance: float,
        source_units: bool = False,
        numbers: bool = True,
    ) -> None:
        priors = {bead_type: p for bead_type, p in bead_priors.items() if p > 0}
        if (1, 0) not in priors or (0, 1) not in priors or (0, 0) in priors:
            raise ValueError("bead_priors must give (1, 0) and (0, 1) a positive prior and (0, 0) none")
        self.bead_types = list(priors)
        self.log_priors = [math.log(p) for p in priors.values()]
        self.similarity_weight, self.null_similarity, self.null_growth = similarity_weight, null_similarity, null_growth
        n, m = len(mt), len(reference)
        self.matcher = SpanMatcher(mt, reference)
        self.mt_cum, self.ref_cum = self.matcher.hyp_offsets, self.matcher.ref_offsets  # characters, whitespace aside
        mt_chars, ref_chars = int(self.mt_cum[-1]), int(self.ref_cum[-1])
        self.sentence_chars = max((mt_chars + ref_chars) / max(n + m, 1), 1.0)  # the unit of bead size
        # The length prior compares reference lengths with source lengths when given, else with MT lengths.
        if source is not None and len(source) != n:
            raise ValueError(f"source has {len(source)} sentences and mt {n}: they must correspond one to one")
        self.predictor_cum = self.mt_cum if source is None else np.cumsum([0] + [_chars(s) for s in source])
        predictor_chars = int(self.predictor_cum[-1])
        self.length_ratio = text_length_ratio(predictor_chars, ref_chars, expected_length_ratio(source is not None))
        self.length_variance = length_variance if source is None else source_length_variance
        self.has_source = source is not None
        broken = [bool(reason) for reason in broken_mt(mt, source)]
        self.broken_cum = np.cumsum([0] + broken)
        # A source sentence that does not end as one is a line of its own (byline, credit, dateline), unless a
        # colon leads it into the next; clause units end anywhere, so their ends say nothing.
        lines = [] if source is None or source_units else [_own_line(sentence) for sentence in source]
        self.source_line = np.array([bool(lines) and lines[k] and not broken[k] for k in range(n)] + [False])
        self.unended = np.array([not ends_as_sentence(sentence) for sentence in reference] + [False])
        self.known = ScoredMatches(m)
        # Numbers are read from the source only: the local model garbles them (in gold pairs of ntrex128-dev,
        # 27 numbers of the MT were not in the reference against 5 of the Arabic's).
        self.numbers = None if source is None or not numbers else (number_masks(source), number_masks(reference))

    def scores(self, i: Cells, j: Cells, types: Sequence[int]) -> tuple[Scores, Scores]:
        """Log prior + length + chrF evidence; reliability 1: the path's beads are given their pair
        probability afterwards (:func:`tarjama.alignment.confidence.pair_confidence`)."""
        matches = self.matcher.matches(i, j, [self.bead_types[t] for t in types])
        for t, bead_type in enumerate(types):
            if min(self.bead_types[bead_type]):
                self.known.add(self.bead_types[bead_type], i, j, matches[t])
        near = self._matches_near(i, j)  # 1-1 matches around each cell, for the lone-part checks
        scores = np.empty((len(types), len(i)))
        evidence = np.empty((len(types), len(i)))
        for t, bead_type in enumerate(types):
            (di, dj), log_prior = self.bead_types[bead_type], self.log_priors[bead_type]
            if not (di and dj):  # an unmatched sentence has no partner whose length or content could be compared
                scores[t] = log_prior
                continue
            i0, j0 = np.maximum(i - di, 0), np.maximum(j - dj, 0)
            mt_chars, ref_chars = self.mt_cum[i] - self.mt_cum[i0], self.ref_cum[j] - self.ref_cum[j0]
            predicted = self.predictor_cum[i] - self.predictor_cum[i0]
            length = log_length_tail(predicted, ref_chars, self.length_ratio, self.length_variance)
            size = (mt_chars + ref_chars) / (2 * self.sentence_chars)
            similarity = chrf_from_matches(matches[t], mt_chars, ref_chars, beta=CHRF_BETA)
            # chrF above what unrelated spans of these lengths reach by chance
            chars = np.maximum((mt_chars + ref_chars) / 2, 1.0)
            evidence[t] = similarity - self.null_similarity - self.null_growth * np.log(chars / 100)
            # A broken MT line says nothing of where its source belongs: no chrF evidence, and without the
            # source no length evidence either (its length is the broken line's).
            sound = self.broken_cum[i] == self.broken_cum[i0]
            evidence[t] = np.where(sound, evidence[t], 0.0)
            if not self.has_source:
                length = np.where(sound, length, 0.0)
            scores[t] = log_prior + length + self.similarity_weight * size * evidence[t]
            if self.numbers is not None:
                scores[t] -= numbers_missed_cost(self.numbers, i, j, di, dj)
            if (di, dj) in LONE_PART_SLOPES:
                scores[t] += np.where(sound, self._lone_part(i, j, di, dj, near), 0.0)
            if (di, dj) == (2, 2):
                scores[t] += np.where(sound, self._lone_corners(i, j, near), 0.0)
            if di == 1 and dj >= 3:
                scores[t] += np.where(sound, self._lone_edges(i, j, dj, near), 0.0)
            if di >= 2:
                scores[t] += self._lone_source_edges(i, j, di, dj, near)
        return scores, np.ones_like(scores)

    def _matches_near(self, i: Cells, j: Cells) -> Callable[[int, int], Counts]:
        """``at(a, b)``: the 1-1 matches of MT sentence i-1-a with reference sentence j-1-b, found once for
        every bead type of one call."""
        found: dict[tuple[int, int], Counts] = {}

        def at(a: int, b: int) -> Counts:
            if (a, b) not in found:
                found[a, b] = self._one_to_one(i - a, j - b)
            return found[a, b]

        return at

    def _lone_corners(self, i: Cells, j: Cells, at: Callable[[int, int], Counts]) -> Scores:
        """The log-weight a 2-2 bead ending at (i, j) loses when the first sentence of one side and the last of
        the other both find hardly any of their character n-grams of orders 3-6 in the other side: a sentence
        with no counterpart on each side around a pair (1-0 + 1-1 + 0-1), not a re-split (:data:`LONE_CORNER_RECALL`).
        ``at``: :meth:`_matches_near`."""

        def chars(cum: npt.NDArray[np.int64], end: Cells, back: int) -> Cells:
            return cum[np.maximum(end - back, 0)] - cum[np.maximum(end - back - 1, 0)]

        mt_span, ref_span = (
            self.mt_cum[i] - self.mt_cum[np.maximum(i - 2, 0)],
            self.ref_cum[j] - self.ref_cum[np.maximum(j - 2, 0)],
        )
        # at(a, b): MT sentence i-1-a with reference sentence j-1-b; a, b = 1 the first of the bead, 0 the last
        mt_first = _recall([at(1, 0), at(1, 1)], chars(self.mt_cum, i, 1), ref_span, True)[1]
        mt_last = _recall([at(0, 0), at(0, 1)], chars(self.mt_cum, i, 0), ref_span, True)[1]
        ref_first = _recall([at(0, 1), at(1, 1)], chars(self.ref_cum, j, 1), mt_span, True)[1]
        ref_last = _recall([at(0, 0), at(1, 0)], chars(self.ref_cum, j, 0), mt_span, True)[1]
        corner = np.minimum(np.maximum(mt_first, ref_last), np.maximum(mt_last, ref_first))
        return LONE_PART_SLOPES[2, 2] * LONE_LONG_SCALE * np.minimum(corner - LONE_CORNER_RECALL, 0.0)

    def _lone_part(self, i: Cells, j: Cells, di: int, dj: int, at: Callable[[int, int], Counts]) -> Scores:
        """The log-weight a bead with two or more sentences on a side loses when one of them finds hardly
        any of its character n-grams in the other side: a one-sided line (byline, caption, dateline) glued
        to its neighbour's pair rather than a sentence the other side splits. ``at``: :meth:`_matches_near`."""

        long_floor = LONE_LONG_RECALL["mt" if dj == 1 else "reference"] if min(di, dj) == 1 else None
        recalls = [
            *(
                self._part_recall(i, j, di, dj, b, True, at, long_floor is not None)
                for b in range(dj if dj >= 2 else 0)
            ),
            *(
                self._part_recall(i, j, di, dj, a, False, at, long_floor is not None)
                for a in range(di if di >= 2 else 0)
            ),
        ]
        shortfall = np.minimum(np.minimum.reduce([r for r, _ in recalls]) - LONE_PART_RECALL, 0.0)
        paired = np.maximum.reduce([r for r, _ in recalls]) >= LONE_PAIRED_RECALL
        heading = np.zeros(len(i))
        if long_floor is not None:
            lone_long = np.minimum.reduce([r for _, r in recalls])
            shortfall = np.minimum(shortfall, LONE_LONG_SCALE * (lone_long - long_floor))
            paired |= lone_long <= 0.0  # not one trigram shared: no part of the bead, however weak the MT
            if dj == 2:  # recalls[b]: reference sentence j-1-b
                lines = [
                    self.unended[np.maximum(j - 1 - b, 0)] & (recalls[b][1] < LONE_HEADING_RECALL) for b in range(2)
                ]
                heading = np.where(np.logical_or.reduce(lines), -LONE_HEADING_COST, 0.0)
        return np.where(paired, LONE_PART_SLOPES[di, dj] * shortfall, 0.0) + heading

    def _lone_edges(self, i: Cells, j: Cells, dj: int, at: Callable[[int, int], Counts]) -> Scores:
        """The log-weight a bead of one MT sentence and ``dj`` >= 3 reference sentences loses when its first or
        last reference sentence is a line of its own that the MT does not share (:data:`LONE_EDGE_COST`).
        ``at``: :meth:`_matches_near`."""
        lone = np.zeros(len(i), dtype=bool)
        for b in (0, dj - 1):  # reference sentence j-1-b: the last, then the first
            longer = self._part_recall(i, j, 1, dj, b, True, at, True)[1]
            lone |= self.unended[np.maximum(j - 1 - b, 0)] & (longer < LONE_HEADING_RECALL)
        return np.where(lone, -LONE_EDGE_COST, 0.0)

    def _lone_source_edges(self, i: Cells, j: Cells, di: int, dj: int, at: Callable[[int, int], Counts]) -> Scores:
        """The log-weight a bead of two or more MT sentences loses when its first or last is the MT of a source
        line of its own that hardly shares a longer n-gram with the reference (:data:`LONE_SOURCE_COST`).
        ``at``: :meth:`_matches_near`."""
        lone = np.zeros(len(i), dtype=bool)
        ref_span = self.ref_cum[j] - self.ref_cum[np.maximum(j - dj, 0)]
        for a in (0, di - 1):  # MT sentence i-1-a: the last, then the first
            line = np.maximum(i - 1 - a, 0)
            if not self.source_line[line].any():
                continue
            longer = self._part_recall(i, j, di, dj, a, False, at, True)[1]
            # the reference's length fits the bead's source better without the line: nothing of it is there
            expected = self.length_ratio * (self.predictor_cum[i] - self.predictor_cum[np.maximum(i - di, 0)])
            own = self.length_ratio * (self.predictor_cum[line + 1] - self.predictor_cum[line])
            extra = np.abs(ref_span - expected + own) < np.abs(ref_span - expected)
            lone |= self.source_line[line] & (longer < LONE_SOURCE_RECALL) & extra
        return np.where(lone, -LONE_SOURCE_COST, 0.0)

    def _part_recall(
        self,
        i: Cells,
        j: Cells,
        di: int,
        dj: int,
        back: int,
        reference: bool,
        at: Callable[[int, int], Counts],
        longer: bool,
    ) -> tuple[Scores, Scores]:
        """:func:`_recall` of one sentence of the bead of ``di`` MT and ``dj`` reference sentences ending at (i, j)
        in the other side's span: reference sentence ``j-1-back`` (``reference``) or MT sentence ``i-1-back``."""
        if reference:
            chars = self.ref_cum[np.maximum(j - back, 0)] - self.ref_cum[np.maximum(j - back - 1, 0)]
            other = self.mt_cum[i] - self.mt_cum[np.maximum(i - di, 0)]
            return _recall([at(a, back) for a in range(di)], chars, other, longer)
        chars = self.mt_cum[np.maximum(i - back, 0)] - self.mt_cum[np.maximum(i - back - 1, 0)]
        other = self.ref_cum[j] - self.ref_cum[np.maximum(j - dj, 0)]
        return _recall([at(back, b) for b in range(dj)], chars, other, longer)

    def _one_to_one(self, i: Cells, j: Cells) -> Counts:
        """Matches of MT sentence i-1 with reference sentence j-1 where the 1-1 bead ending at (i, j) has
        been scored, and where that is: every cell of the band, so only a bead at the band's edge goes
        without the check (a path that reaches the edge is searched again in a wider band)."""
        return self.known.get((1, 1), i, j)


class ScoredMatches:
    """The match counts of every matched bead the search has scored, by bead type and end cell: the lone-part
    check reads the 1-1 ones around a bead, the pair confidence those of the unrelated spans around the path.

    Per bead type, the cells' keys ``i * (m + 2) + j`` sorted, and their counts in the same order. Each
    scoring call's cells are kept as they come and merged in when the type is next read (the 1-1 ones at
    the next call, the others once, for the confidence); a cell scored twice (a later pass re-scores a cell
    where another bead type became possible) keeps its first counts, which are the same."""

    def __init__(self, m: int) -> None:
        self.stride = m + 2
        self.keys: dict[tuple[int, int], npt.NDArray[np.int64]] = {}
        self.counts: dict[tuple[int, int], npt.NDArray[np.integer]] = {}
        self.pending: dict[tuple[int, int], list[tuple[npt.NDArray[np.int64], npt.NDArray[np.integer]]]] = {}

    def add(self, bead_type: tuple[int, int], i: Cells, j: Cells, counts: npt.NDArray[np.int32]) -> None:
        """Keep the counts of beads of ``bead_type`` ending at cells (i, j), in 16 bits (half the memory) unless
        a count does not fit, which takes a span of 65,536 characters."""
        narrow = counts.astype(np.uint16) if counts.size and counts.max() < 2**16 else counts
        self.pending.setdefault(bead_type, []).append((i * self.stride + j, narrow))

    def get(self, bead_type: tuple[int, int], i: Cells, j: Cells) -> Counts:
        """Counts of the beads of ``bead_type`` ending at cells (i, j) (zero where not known), and where known."""
        keys, counts = self._merged(bead_type)
        wanted = i * self.stride + j
        at = np.minimum(np.searchsorted(keys, wanted), max(keys.size - 1, 0))
        found = keys[at] == wanted if keys.size else np.zeros(len(wanted), dtype=bool)
        out = np.zeros((len(wanted), MAX_ORDER), dtype=np.int32)
        out[found] = counts[at[found]]
        return out, found

    def _merged(self, bead_type: tuple[int, int]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.integer]]:
        chunks = self.pending.pop(bead_type, [])
        known = self.keys.get(bead_type, np.zeros(0, dtype=np.int64))
        counts = self.counts.get(bead_type, np.zeros((0, MAX_ORDER), dtype=np.uint16))
        if chunks:
            keys = np.concatenate([known] + [k for k, _ in chunks])
            order = np.argsort(keys, kind="stable")  # merges a few sorted runs in linear time
            keys = keys[order]
            first = np.concatenate(([True], keys[1:] != keys[:-1]))  # of equal keys, the earliest
            known, counts = keys[first], np.concatenate([counts] + [c for _, c in chunks])[order[first]]
            self.keys[bead_type], self.counts[bead_type] = known, counts
        return known, counts


def _recall(found: Sequence[Counts], part_chars: Cells, other_chars: Cells, longer: bool) -> tuple[Scores, Scores]:
    """Recall of a sentence in the other side's span from its 1-1 matches with each sentence of the span
    (summed; 1 where one of them is not known): of all orders, and (when ``longer``) of orders 3 and up."""
    counts = np.sum([counts for counts, _ in found], axis=0)
    known = np.logical_and.reduce([known for _, known in found])
    every = np.where(known, part_recall(counts, part_chars, other_chars), 1.0)
    return every, np.where(known, part_recall(counts, part_chars, other_chars, first=3), 1.0) if longer else every


def align(
    mt: Sequence[str],
    reference: Sequence[str],
    *,
    bead_priors: Mapping[tuple[int, int], float] = DEFAULT_BEAD_PRIORS,
    similarity_weight: float = 50.0,
    null_similarity: float = 0.2,
    null_growth: float = 0.05,
    length_variance: float = 20.0,
    band_half_width: int = 10,
    source: Sequence[str] | None = None,
    source_length_variance: float = 6.8,
    gap_extension: float = GAP_EXTENSION,
    source_units: bool = False,
    numbers: bool = True,
) -> list[Bead]:
    """Monotone many-to-many alignment of machine-translated source sentences to reference sentences.

    Options (see the module docstring for the model):
    ``bead_priors``: relative prior per (MT sentences, reference sentences)
    bead type; types with prior 0 are not used, and (1, 0) and (0, 1) need a
    positive prior so that every input can be aligned.
    ``similarity_weight``: nats per unit of bead size and of chrF.
    ``null_similarity``: chrF that counts as no evidence for two 100-character spans.
    ``null_growth``: growth of that level per e-fold of span length.
    ``length_variance``: Gale-Church variance of reference length per MT character.
    ``band_half_width``: initial half-width of the band, in reference sentences.
    ``source``: the source sentences (``mt[i]`` translates ``source[i]``), optional. When given, the
    length prior compares reference lengths with *source* lengths (ratio measured on the texts,
    variance ``source_length_variance`` per source character, Gale & Church's 6.8 by default)
    instead of with MT lengths: a human source is a far better length predictor than weak MT
    (on NTREX Arabic, strict F1 0.992 -> 0.998 clean, 0.970 -> 0.982 all perturbations).
    ``gap_extension``: nats added to a 1-0 (0-1) bead right after another, so that a run of sentences
    with no counterpart on one side pays the 1-0 (0-1) prior once, then ``log 0.01 + 2.5`` (about a
    1-in-8 chance) per further sentence (:data:`GAP_EXTENSION`).
    ``source_units``: the source items are clause units cut from sentences, not whole sentences: where they
    end says nothing about lines of their own (:data:`LONE_SOURCE_COST`).
    ``numbers``: numbers on one side of a bead only count against it
    (:data:`tarjama.alignment.numbers.NUMBER_MISSED`), and figures both sides share vouch for its
    confidence; needs ``source``.
    """
    mt = [_without_preamble(line) for line in mt]
    scorer = ChrfLengthScorer(
        mt,
        reference,
        bead_priors,
        similarity_weight=similarity_weight,
        null_similarity=null_similarity,
        null_growth=null_growth,
        length_variance=length_variance,
        source=source,
        source_length_variance=source_length_variance,
        source_units=source_units,
        numbers=numbers,
    )
    centre = length_diagonal([len(s) + 1 for s in mt], [len(s) + 1 for s in reference])
    beads = align_banded(scorer, len(mt), len(reference), centre, band_half_width, gap_extension)
    beads = pair_confidence(
        beads,
        scorer.matcher,
        scorer.known.get,
        np.diff(scorer.predictor_cum),
        scorer.length_variance,
        [bool(flag) for flag in np.diff(scorer.broken_cum)],  # the scorer's, not found again
        lengths_from_mt=source is None,
        beta=CHRF_BETA,
    )
    return beads if scorer.numbers is None else vouched_by_numbers(beads, scorer.numbers)


def _without_preamble(line: str) -> str:
    """The translation a chat preamble ("Sure, here is the English translation:") introduces, without the
    quotation marks around it; the line itself when it has no preamble."""
    found = PREAMBLE.match(line)
    return line[found.end() :].strip().strip('"\u201c\u201d') if found else line


def _own_line(sentence: str) -> bool:
    """Whether a source sentence is a line of its own: it neither ends as a sentence nor leads into the next."""
    return not ends_as_sentence(sentence) and not sentence.rstrip().endswith((":", "\uff1a"))


def _chars(sentence: str) -> int:
    return len("".join(sentence.split()))


def align_without_reference(n_source: int) -> list[Bead]:
    """1-1 beads (i,) -> () used when an article has no reference (confidence 1.0)."""
    return [Bead((i,), (), 1.0) for i in range(n_source)]


BeadPriors = tuple[tuple[tuple[int, int], float], ...]
"""Bead types and their relative priors, as a hashable, ordered tuple of ((source, reference), prior)."""


@dataclass(frozen=True, slots=True)
class AlignmentConfig:
    """Every setting that decides which rows an article's alignment gives; one object for ``run`` and ``align``.

    ``aligner``: ``chrf-len`` aligns the MT to the reference by chrF and lengths (needs MT);
    ``gale-church`` aligns the source to the reference by lengths alone (whole sentences).
    ``granularity``: what a row's Arabic is made of: clause units regrouped to follow the
    reference's sentences (``units``, :func:`tarjama.alignment.regroup.align_article`), or whole sentences.
    ``bead_priors``: the bead types and priors of ``chrf-len`` over sentences (``None``: the
    granularity's default, :data:`SENTENCE_BEAD_PRIORS` under units, else
    :data:`DEFAULT_BEAD_PRIORS`); ``unit_bead_priors``: those of units inside a sentence bead.
    ``length_model``: which lengths predict the reference's: the source's (``src``, a human
    source is the steadier predictor) or the MT's (``mt``).
    ``band_half_width``: initial half-width of the search band, in reference sentences.
    ``flag_below``: rows whose confidence is below this are flagged for review.
    """

    aligner: Literal["chrf-len", "gale-church"] = "chrf-len"
    granularity: Granularity = "units"
    bead_priors: BeadPriors | None = None
    unit_bead_priors: BeadPriors = tuple(UNIT_BEAD_PRIORS.items())
    length_model: Literal["src", "mt"] = "src"
    band_half_width: int = 10
    flag_below: float = 0.5

    @property
    def rows(self) -> Granularity:
        """What rows are made of: units need the MT of each unit, so the length aligner gives sentences."""
        return "sentences" if self.aligner == "gale-church" else self.granularity

    @property
    def priors(self) -> Mapping[tuple[int, int], float]:
        """The bead priors of the configured aligner over sentences."""
        if self.aligner == "gale-church":
            return GALE_CHURCH_PRIORS
        if self.bead_priors is not None:
            return dict(self.bead_priors)
        return SENTENCE_BEAD_PRIORS if self.rows == "units" else DEFAULT_BEAD_PRIORS

    def signature(self) -> AlignmentSignature:
        length = "src" if self.aligner == "gale-church" else self.length_model
        units = _bead_list(dict(self.unit_bead_priors)) if self.rows == "units" else ""
        return AlignmentSignature(
            self.aligner,
            self.rows,
            _bead_list(self.priors),
            units,
            length,
            self.band_half_width,
            self.flag_below,
            tarjama.__version__,
        )


def _bead_list(bead_types: Mapping[tuple[int, int], float]) -> str:
    return ",".join(f"{di}-{dj}" for di, dj in bead_types)


@dataclass(frozen=True, slots=True)
class AlignmentSignature:
    """How rows were aligned, as sacrebleu's signatures say how a score was computed."""

    aligner: str
    rows: str
    beads: str
    unit_beads: str  # "" when rows are whole sentences
    length: str
    band: int
    flag: float
    version: str

    def format(self) -> str:
        """``aligner:chrf-len|rows:units|beads:1-1,...|unit-beads:1-1,...|len:src|band:10|flag:0.5|version:0.1.0``."""
        units = f"|unit-beads:{self.unit_beads}" if self.unit_beads else ""
        return (
            f"aligner:{self.aligner}|rows:{self.rows}|beads:{self.beads}{units}|len:{self.length}|band:{self.band}"
            f"|flag:{self.flag:g}|version:{self.version}"
        )


@dataclass(frozen=True, slots=True)
class Alignment:
    """An article's beads and the signature of the configuration that produced them."""

    beads: tuple[Bead, ...]
    signature: AlignmentSignature


def align_translation(
    source: Sequence[str],
    mt: Sequence[str] | None,
    reference: Sequence[str],
    config: AlignmentConfig = AlignmentConfig(),
) -> Alignment:
    """Align an article (source sentences, their MT one to one, reference sentences) as ``config`` says.

    The one entry point of ``tarjama run`` and ``tarjama align``, so that the same texts give the
    same rows through both. ``mt`` may be ``None`` only for the ``gale-church`` aligner.
    """
    if config.aligner == "gale-church":
        beads = align_lengths(source, reference, band_half_width=config.band_half_width)
    elif mt is None:
        raise ValueError("the chrf-len aligner needs the machine translation of the source")
    else:
        beads = align(
            mt,
            reference,
            bead_priors=config.priors,
            band_half_width=config.band_half_width,
            source=source if config.length_model == "src" else None,
        )
    return Alignment(tuple(beads), config.signature())
