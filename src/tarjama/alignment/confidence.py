"""Pair confidence: how sure the aligner is that a row's two sides belong together.

A matched bead's confidence is its posterior probability (forward-backward over the search band,
:mod:`tarjama.alignment.dp`) times a pair probability, the logistic of

    PAIR_BIAS + clip(margin, -MARGIN_CAP, MARGIN_CAP) + log P(length difference at least this large)
              + PART_WEIGHT * min(weakest part's margin, 0)

* ``margin``: how much better the bead's MT matches its reference than it matches unrelated
  reference sentences (and its reference matches unrelated MT), in standard deviations of those
  unrelated chrF scores: the margin-based aligners' normalisation. MT that scores against its own
  reference what it scores against any sentence is negative evidence; a broken MT line
  (:func:`tarjama.alignment.align.broken_mt`) is none. Capped, so that sound but poor MT (a
  hallucinated line whose lengths agree) costs at most ``MARGIN_CAP`` nats and good MT cannot
  outweigh disagreeing lengths.
* the length tail of the reference given the source (or MT) lengths, as in the search;
* for a bead with several sentences on a side (1-2, 2-1, 2-2, 1-3 ...), each of those sentences'
  character n-gram recall in the other side, as a margin over its recall in unrelated spans of the
  same size: a sentence the other side does not support (a byline, caption or a neighbour's
  sentence glued to a pair) is evidence that the bead is wrong.

An unmatched (1-0/0-1) bead keeps its posterior: how sure the aligner is that the sentence has no
counterpart. Parameters chosen on the even-numbered ntrex128-dev documents
(``benchmarks/results/alignment-flags.md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from tarjama.alignment.dp import Bead, Cells
from tarjama.alignment.gale_church import log_length_tail
from tarjama.alignment.ngrams import SpanMatcher, chrf_from_matches, part_recall

PAIR_BIAS = 3.0
"""Log-odds of a matched bead whose MT matches its reference as well as unrelated sentences (margin 0) and
whose lengths agree perfectly: each nat of the length tail lowers it by one."""
MARGIN_CAP = 1.0
"""The margin (in standard deviations) counts between -1 and +1 nat."""
PART_WEIGHT = 3.0
"""Nats per standard deviation by which a multi-sentence bead's least supported sentence falls below chance."""
UNRELATED_WITHIN = 5
"""Unrelated spans: as many sentences as the bead's side, overlapping neither it nor its neighbours,
starting within this many sentences of it."""
MIN_SPREAD = 0.01
"""Floor of the standard deviation of the unrelated scores (a short text may give nearly equal ones)."""

_Span = tuple[int, int, int, int]  # MT span end, reference span end, MT sentences, reference sentences
KnownMatches = Callable[[Cells, Cells], tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]]]
"""Match counts of MT sentence i-1 with reference sentence j-1 per cell (i, j), and where they are known."""
_KINDS = ("chrf", "mt", "ref")  # a span pair's chrF; the recall of its MT side in its reference side; the reverse


def pair_confidence(
    beads: Sequence[Bead],
    matcher: SpanMatcher,
    known: KnownMatches,
    predictor_chars: Sequence[int],
    length_variance: float,
    broken: Sequence[bool],
    *,
    lengths_from_mt: bool,
    beta: float,
) -> list[Bead]:
    """``beads`` (confidence = posterior) with each matched bead's posterior times its pair probability.

    ``predictor_chars``: per MT sentence, the characters that predict the reference's length (the source's,
    or the MT's when ``lengths_from_mt``, which then say nothing for broken MT); ``broken``: per MT
    sentence, whether it is no evidence (:func:`tarjama.alignment.align.broken_mt`); ``beta``: chrF's;
    ``matcher``: the search's, of the MT against the reference; ``known``: the 1-1 match counts it has made."""
    n, m = len(matcher.hyp_offsets) - 1, len(matcher.ref_offsets) - 1
    ref_cum = matcher.ref_offsets
    predictor_cum = np.concatenate(([0], np.cumsum(np.asarray(predictor_chars, dtype=np.int64))))
    ratio = ref_cum[-1] / predictor_cum[-1] if predictor_cum[-1] and ref_cum[-1] else 1.0
    broken_cum = np.concatenate(([0], np.cumsum(np.asarray(broken, dtype=np.int64))))
    # Per matched bead: its span pair first, then the same-size pairs with unrelated spans; each group scored
    # as chrF (the whole bead) or as the recall of one sentence of a multi-sentence side in the other side.
    groups: list[tuple[int, str, list[_Span]]] = []
    for k, bead in enumerate(beads):
        if not (bead.source and bead.reference):
            continue
        a0, a1, b0, b1 = bead.source[0], bead.source[-1] + 1, bead.reference[0], bead.reference[-1] + 1
        da, db = a1 - a0, b1 - b0
        mt_others, ref_others = _unrelated(a0, a1, n), _unrelated(b0, b1, m)
        sound = broken_cum[a1] == broken_cum[a0]
        if sound:
            groups.append(
                (
                    k,
                    "chrf",
                    [(a1, b1, da, db)] + [(a1, e, da, db) for e in ref_others] + [(e, b1, da, db) for e in mt_others],
                )
            )
        if da > 1:  # each sound MT sentence against the reference span
            for a in range(a0, a1):
                if broken_cum[a + 1] == broken_cum[a]:
                    groups.append((k, "mt", [(a + 1, b1, 1, db)] + [(a + 1, e, 1, db) for e in ref_others]))
        if db > 1 and sound:  # each reference sentence against the MT span
            for b in range(b0, b1):
                groups.append((k, "ref", [(a1, b + 1, da, 1)] + [(e, b + 1, da, 1) for e in mt_others]))
    scores = _score_spans([span for _, _, spans in groups for span in spans], matcher, known, beta)
    margin, weakest = np.zeros(len(beads)), np.zeros(len(beads))
    for k, kind, spans in groups:
        column = _KINDS.index(kind)
        values = [scores[span][column] for span in spans]
        if kind == "chrf":
            margin[k] = _margin(values[0], values[1:])
        else:
            weakest[k] = min(weakest[k], _margin(values[0], values[1:]))
    matched = np.array([bool(b.source and b.reference) for b in beads], dtype=bool)
    ends = [
        (b.source[0], b.source[-1] + 1, b.reference[0], b.reference[-1] + 1) if matched[k] else (0,) * 4
        for k, b in enumerate(beads)
    ]
    mt_from, mt_to, ref_from, ref_to = np.array(ends, dtype=np.int64).reshape(-1, 4).T
    predicted, observed = predictor_cum[mt_to] - predictor_cum[mt_from], ref_cum[ref_to] - ref_cum[ref_from]
    length = log_length_tail(predicted, observed, ratio, length_variance)
    if lengths_from_mt:  # a broken line's length says nothing either
        length = np.where(broken_cum[mt_to] == broken_cum[mt_from], length, 0.0)
    log_odds = PAIR_BIAS + np.clip(margin, -MARGIN_CAP, MARGIN_CAP) + length + PART_WEIGHT * weakest
    pair = np.where(matched, 1.0 / (1.0 + np.exp(-np.clip(log_odds, -500.0, 500.0))), 1.0).tolist()
    return [Bead(b.source, b.reference, b.confidence * p) for b, p in zip(beads, pair)]


def _unrelated(start: int, end: int, total: int) -> list[int]:
    """Ends of the spans of ``end - start`` sentences that overlap neither [start - 1, end + 1) nor start more
    than :data:`UNRELATED_WITHIN` sentences from ``start``."""
    size = end - start
    first, last = max(start - UNRELATED_WITHIN, 0) + size, min(start + UNRELATED_WITHIN + size, total)
    return [e for e in range(first, last + 1) if e <= start - 1 or e - size >= end + 1]


def _margin(score: float, unrelated: Sequence[float]) -> float:
    """How far ``score`` lies above the unrelated scores, in their standard deviations (0 without two of them)."""
    if len(unrelated) < 2:
        return 0.0
    mean = sum(unrelated) / len(unrelated)
    spread = math.sqrt(sum((x - mean) ** 2 for x in unrelated) / len(unrelated))
    return (score - mean) / max(spread, MIN_SPREAD)


def _score_spans(
    spans: Sequence[_Span], matcher: SpanMatcher, known: KnownMatches, beta: float
) -> dict[_Span, tuple[float, float, float]]:
    """Per span pair: its chrF, the recall of its MT side in its reference side and the reverse (the order
    of :data:`_KINDS`), from match counts counted in one bulk call per span size (``known``: those of 1-1
    pairs the search has counted)."""
    by_size: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for end_i, end_j, di, dj in sorted(set(spans)):
        by_size.setdefault((di, dj), []).append((end_i, end_j))
    out: dict[_Span, tuple[float, float, float]] = {}
    for (di, dj), cells in by_size.items():
        i, j = (np.array(side, dtype=np.int64) for side in zip(*cells))
        if (di, dj) == (1, 1):  # the search has counted most 1-1 pairs already
            matches, found = known(i, j)
            missing = np.flatnonzero(~found)
            if missing.size:
                matches[missing] = matcher.matches(i[missing], j[missing], [(1, 1)])[0]
        else:
            matches = matcher.matches(i, j, [(di, dj)])[0]
        mt_chars = matcher.hyp_offsets[i] - matcher.hyp_offsets[i - di]
        ref_chars = matcher.ref_offsets[j] - matcher.ref_offsets[j - dj]
        chrf = chrf_from_matches(matches, mt_chars, ref_chars, beta=beta).tolist()
        mt_recall, ref_recall = part_recall(matches, mt_chars, ref_chars), part_recall(matches, ref_chars, mt_chars)
        for cell, scores in zip(cells, zip(chrf, mt_recall.tolist(), ref_recall.tolist())):
            out[(*cell, di, dj)] = scores
    return out
