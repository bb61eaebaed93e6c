"""Pair confidence: how sure the aligner is that a row's two sides belong together.

A matched bead's confidence is its posterior probability (forward-backward over the search band,
:mod:`tarjama.alignment.dp`) times a pair probability, the logistic of

    PAIR_BIAS + clip(margin, -MARGIN_CAP, MARGIN_CAP) + log P(length difference at least this large)
              + PART_WEIGHT * min(weakest part's margin, 0) * clip(margin / MARGIN_CAP, 0, 1)

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
  sentence glued to a pair) is evidence that the bead is wrong. It counts only as far as the MT
  supports the bead as a whole (its margin, up to ``MARGIN_CAP``; fully when broken MT leaves the
  bead no margin): parts measured with MT that matches nothing here (a hallucinated line) find no
  support whether the bead is right or not.

An unmatched (1-0/0-1) bead keeps its posterior: how sure the aligner is that the sentence has no
counterpart. Parameters chosen on the even-numbered ntrex128-dev documents
(``benchmarks/results/alignment-flags.md``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tarjama.alignment.dp import Bead, Cells
from tarjama.alignment.gale_church import expected_length_ratio, log_length_tail, text_length_ratio
from tarjama.alignment.ngrams import Ints, SpanMatcher, chrf_from_matches, part_recall

PAIR_BIAS = 3.0
"""Log-odds of a matched bead whose MT matches its reference as well as unrelated sentences (margin 0) and
whose lengths agree perfectly: each nat of the length tail lowers it by one."""
MARGIN_CAP = 1.0
"""The margin (in standard deviations) counts between -1 and +1 nat."""
PART_WEIGHT = 3.0
"""Nats per standard deviation by which a multi-sentence bead's least supported sentence falls below chance,
when the bead's margin is at least ``MARGIN_CAP`` (less in proportion below it, none at 0 or less)."""
UNRELATED_WITHIN = 5
"""Unrelated spans: as many sentences as the bead's side, overlapping neither it nor its neighbours,
starting within this many sentences of it."""
MIN_SPREAD = 0.01
"""Floor of the standard deviation of the unrelated scores (a short text may give nearly equal ones)."""

KnownMatches = Callable[[tuple[int, int], Cells, Cells], tuple[npt.NDArray[np.int32], npt.NDArray[np.bool_]]]
"""Match counts of the beads of a type ending at cells (i, j), and where they are known (the search's)."""
_SIDES = 2 * UNRELATED_WITHIN + 1
"""Candidate ends of the unrelated spans on a side: start - UNRELATED_WITHIN .. start + UNRELATED_WITHIN, plus size."""


def pair_confidence(
    beads: Sequence[Bead],
    matcher: SpanMatcher,
    known: KnownMatches,
    predictor_chars: Ints,
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
    ``matcher``: the search's, of the MT against the reference; ``known``: the match counts it has made."""
    n, m = len(matcher.hyp_offsets) - 1, len(matcher.ref_offsets) - 1
    ref_cum = matcher.ref_offsets
    predictor_cum = np.concatenate(([0], np.cumsum(np.asarray(predictor_chars, dtype=np.int64))))
    ratio = text_length_ratio(predictor_cum[-1], ref_cum[-1], expected_length_ratio(not lengths_from_mt))
    broken_cum = np.concatenate(([0], np.cumsum(np.asarray(broken, dtype=np.int64))))
    matched = np.array([bool(b.source and b.reference) for b in beads], dtype=bool)
    ends = [
        (b.source[0], b.source[-1] + 1, b.reference[0], b.reference[-1] + 1) if matched[k] else (0,) * 4
        for k, b in enumerate(beads)
    ]
    mt_from, mt_to, ref_from, ref_to = np.array(ends, dtype=np.int64).reshape(-1, 4).T
    groups = _groups(np.flatnonzero(matched), mt_from, mt_to, ref_from, ref_to, broken_cum, n, m)
    values = _score_spans(groups, matcher, known, beta).tolist()
    margin, weakest = np.zeros(len(beads)), np.zeros(len(beads))
    for bead, kind, first, last in zip(groups.bead.tolist(), groups.kind.tolist(), groups.offsets, groups.offsets[1:]):
        score = _margin(values[first], values[first + 1 : last])
        if kind == 0:
            margin[bead] = score
        else:
            weakest[bead] = min(weakest[bead], score)
    predicted, observed = predictor_cum[mt_to] - predictor_cum[mt_from], ref_cum[ref_to] - ref_cum[ref_from]
    length = log_length_tail(predicted, observed, ratio, length_variance)
    sound = broken_cum[mt_to] == broken_cum[mt_from]
    if lengths_from_mt:  # a broken line's length says nothing either
        length = np.where(sound, length, 0.0)
    capped = np.clip(margin, -MARGIN_CAP, MARGIN_CAP)
    part_trust = np.where(sound, np.clip(capped / MARGIN_CAP, 0.0, 1.0), 1.0)  # broken MT: no margin to weigh by
    log_odds = PAIR_BIAS + capped + length + PART_WEIGHT * weakest * part_trust
    pair = np.where(matched, 1.0 / (1.0 + np.exp(-np.clip(log_odds, -500.0, 500.0))), 1.0).tolist()
    return [Bead(b.source, b.reference, b.confidence * p) for b, p in zip(beads, pair)]


@dataclass(frozen=True, slots=True)
class _Groups:
    """Span pairs scored for the margins, one group after another: a group's first pair, then the same-size
    pairs with unrelated spans. Per group its bead, its kind (0: the bead's chrF; 1: the recall of one MT
    sentence of a multi-sentence side in the reference span; 2: of one reference sentence in the MT span) and
    where its pairs start (``offsets``, one more than groups); per pair its MT and reference span ends and
    sizes, and its group's kind."""

    bead: Ints
    kind: Ints
    offsets: list[int]
    end_i: Ints
    end_j: Ints
    di: Ints
    dj: Ints
    pair_kind: Ints


def _groups(beads: Ints, a0: Ints, a1: Ints, b0: Ints, b1: Ints, broken_cum: Ints, n: int, m: int) -> _Groups:
    """The span pairs of every matched bead (``beads``; its MT sentences a0..a1-1, reference b0..b1-1): the
    bead's own pair against those with the unrelated spans of either side, when its MT is sound; each sound
    MT sentence of a side of several against the reference span and its unrelated ones; each reference
    sentence of a side of several, when the MT is sound, against the MT span and its unrelated ones."""
    a0, a1, b0, b1 = a0[beads], a1[beads], b0[beads], b1[beads]
    da, db = a1 - a0, b1 - b0
    sound = broken_cum[a1] == broken_cum[a0]
    whole = np.flatnonzero(sound)
    mt_part, mt_rank = _spread(np.where(da > 1, da, 0))
    a = a0[mt_part] + mt_rank
    keep = broken_cum[a + 1] == broken_cum[a]
    mt_part, a = mt_part[keep], a[keep]
    ref_part, ref_rank = _spread(np.where((db > 1) & sound, db, 0))
    b = b0[ref_part] + ref_rank
    owner = np.concatenate([whole, mt_part, ref_part])  # per group, its bead among ``beads``
    kind = np.repeat([0, 1, 2], [len(whole), len(mt_part), len(ref_part)])
    own_i = np.concatenate([a1[whole], a + 1, a1[ref_part]])
    own_j = np.concatenate([b1[whole], b1[mt_part], b + 1])
    di = np.concatenate([da[whole], np.ones(len(mt_part), dtype=np.int64), da[ref_part]])
    dj = np.concatenate([db[whole], db[mt_part], np.ones(len(ref_part), dtype=np.int64)])
    ref_ends, ref_ok = _unrelated(b0[owner], b1[owner], m)
    mt_ends, mt_ok = _unrelated(a0[owner], a1[owner], n)
    # per group: its own pair, the unrelated reference spans (not for an MT sentence's recall), then the
    # unrelated MT spans (not for a reference sentence's)
    ends_i = np.hstack([own_i[:, None], np.repeat(own_i[:, None], _SIDES, axis=1), mt_ends])
    ends_j = np.hstack([own_j[:, None], ref_ends, np.repeat(own_j[:, None], _SIDES, axis=1)])
    ok = np.hstack([np.ones((len(owner), 1), dtype=bool), ref_ok & (kind != 2)[:, None], mt_ok & (kind != 1)[:, None]])
    sizes = ok.sum(axis=1)
    return _Groups(
        beads[owner],
        kind,
        np.concatenate(([0], np.cumsum(sizes))).tolist(),
        ends_i[ok],
        ends_j[ok],
        np.repeat(di, sizes),
        np.repeat(dj, sizes),
        np.repeat(kind, sizes),
    )


def _spread(counts: Ints) -> tuple[Ints, Ints]:
    """Each index ``k`` repeated ``counts[k]`` times, and the rank of each repetition (0, 1, ...)."""
    index = np.repeat(np.arange(len(counts)), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    return index, np.arange(len(index)) - starts


def _unrelated(start: Ints, end: Ints, total: int) -> tuple[Ints, npt.NDArray[np.bool_]]:
    """Per span [start, end), the ends of the spans of as many sentences that overlap neither
    [start - 1, end + 1) nor start more than :data:`UNRELATED_WITHIN` sentences from ``start``, in order:
    the candidates ``start - UNRELATED_WITHIN + size ..`` (one row of :data:`_SIDES` each) and which are."""
    size = (end - start)[:, None]
    first = start[:, None] - UNRELATED_WITHIN + np.arange(_SIDES)  # the candidate spans' starts
    ends = first + size
    return ends, (first >= 0) & (ends <= total) & ((ends <= start[:, None] - 1) | (first >= end[:, None] + 1))


def _margin(score: float, unrelated: Sequence[float]) -> float:
    """How far ``score`` lies above the unrelated scores, in their standard deviations (0 without two of them)."""
    if len(unrelated) < 2:
        return 0.0
    mean = sum(unrelated) / len(unrelated)
    spread = math.sqrt(sum((x - mean) ** 2 for x in unrelated) / len(unrelated))
    return (score - mean) / max(spread, MIN_SPREAD)


def _score_spans(groups: _Groups, matcher: SpanMatcher, known: KnownMatches, beta: float) -> npt.NDArray[np.float64]:
    """Per span pair of ``groups``: what its group's kind asks (its chrF, the recall of its MT side in its
    reference side, or the reverse), from the match counts the search has made, and those it has not
    counted in one bulk call per span size."""
    out = np.empty(len(groups.end_i))
    stride = len(matcher.ref_offsets) + 1
    sizes = groups.di * stride + groups.dj
    for size in np.unique(sizes).tolist():
        di, dj = divmod(size, stride)
        pairs = np.flatnonzero(sizes == size)
        i, j = groups.end_i[pairs], groups.end_j[pairs]
        matches, found = known((di, dj), i, j)
        if not found.all():  # each missing pair once, in cell order
            cells, where = np.unique(i[~found] * stride + j[~found], return_inverse=True)
            matches[~found] = matcher.matches(cells // stride, cells % stride, [(di, dj)])[0][where]
        mt_chars = matcher.hyp_offsets[i] - matcher.hyp_offsets[i - di]
        ref_chars = matcher.ref_offsets[j] - matcher.ref_offsets[j - dj]
        kind = groups.pair_kind[pairs]
        out[pairs] = np.where(
            kind == 0,
            chrf_from_matches(matches, mt_chars, ref_chars, beta=beta),
            np.where(kind == 1, part_recall(matches, mt_chars, ref_chars), part_recall(matches, ref_chars, mt_chars)),
        )
    return out
