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

An unmatched (1-0/0-1) bead's confidence is how sure the aligner is that the sentence has no
counterpart: its posterior, whose doubt (the alternatives, mostly gluing the sentence to a neighbouring
row) counts only as far as the sentence finds support there, its character 3-6-gram recall in the other
side of the nearest matched bead before or after it (against that side's MT only when sound). A byline or
a credit that recalls nothing of its neighbours is then no longer flagged because the search weighed
gluing it (4 of the 12 correct rows flagged, tuning half, all perturbations and one-sided lines, five
draws); one whose sound MT matches a neighbour still is. Without evidence (broken MT, no matched neighbour
with sound MT) the posterior stands. Parameters chosen on the even-numbered ntrex128-dev documents
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
SUPPORT_RECALL = 0.1
"""The recall of an unmatched sentence in a neighbouring row at which gluing it there is as likely as not
(0.1: the lone-line checks' level, :data:`tarjama.alignment.align.LONE_CORNER_RECALL`)."""
SUPPORT_SLOPE = 40.0
"""Log-odds per unit of that recall: 0.05 below the level leaves an eighth of the doubt, 0.05 above keeps 7/8."""
SUPPORT_FROM = 3
"""Lowest character n-gram order of the support recall: single letters and pairs match anywhere."""
_SIDES = 2 * UNRELATED_WITHIN + 1
"""Candidate ends of the unrelated spans on a side: start - UNRELATED_WITHIN .. start + UNRELATED_WITHIN, plus size."""

_CHRF, _MT_PART, _REF_PART, _MT_SUPPORT, _REF_SUPPORT = range(5)
"""What a group scores: a bead's chrF; one MT (reference) sentence of a side of several, its recall in the other
side; an unmatched MT (reference) sentence, its recall in a neighbouring bead's other side."""
_RECALL_OF_MT = (_MT_PART, _MT_SUPPORT)
_RECALL_OF_REFERENCE = (_REF_PART, _REF_SUPPORT)
_SUPPORT = (_MT_SUPPORT, _REF_SUPPORT)


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
    spans = np.array(ends, dtype=np.int64).reshape(-1, 4)
    mt_from, mt_to, ref_from, ref_to = spans.T
    support_spans = _support_spans(beads, matched, spans, broken_cum)
    groups = _groups(np.flatnonzero(matched), mt_from, mt_to, ref_from, ref_to, broken_cum, n, m, support_spans)
    values = _score_spans(groups, matcher, known, beta).tolist()
    margin, weakest = np.zeros(len(beads)), np.zeros(len(beads))
    support = np.full(len(beads), np.inf)  # no evidence either way: the posterior stands
    for bead, kind, first, last in zip(groups.bead.tolist(), groups.kind.tolist(), groups.offsets, groups.offsets[1:]):
        if kind in _SUPPORT:
            support[bead] = values[first] if support[bead] == np.inf else max(support[bead], values[first])
            continue
        score = _margin(values[first], values[first + 1 : last])
        if kind == _CHRF:
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
    pair = np.where(matched, _logistic(log_odds), 1.0).tolist()
    glued = np.where(
        np.isfinite(support),
        _logistic(SUPPORT_SLOPE * (np.where(np.isfinite(support), support, 0.0) - SUPPORT_RECALL)),
        1.0,
    ).tolist()
    return [
        Bead(b.source, b.reference, b.confidence * p if matched[k] else 1.0 - (1.0 - b.confidence) * g)
        for k, (b, p, g) in enumerate(zip(beads, pair, glued))
    ]


def _logistic(log_odds: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-np.clip(log_odds, -500.0, 500.0)))


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


def _groups(
    beads: Ints, a0: Ints, a1: Ints, b0: Ints, b1: Ints, broken_cum: Ints, n: int, m: int, support: _Spans
) -> _Groups:
    """The span pairs of every matched bead (``beads``; its MT sentences a0..a1-1, reference b0..b1-1): the
    bead's own pair against those with the unrelated spans of either side, when its MT is sound; each sound
    MT sentence of a side of several against the reference span and its unrelated ones; each reference
    sentence of a side of several, when the MT is sound, against the MT span and its unrelated ones; then
    the ``support`` spans of the unmatched beads, alone (a raw recall, no margin)."""
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
    spans = _Spans(  # a part's span: the sentence and the whole other side
        np.concatenate([beads[whole], beads[mt_part], beads[ref_part], support.bead]),
        np.concatenate(
            [np.repeat([_CHRF, _MT_PART, _REF_PART], [len(whole), len(mt_part), len(ref_part)]), support.kind]
        ),
        np.concatenate([a0[whole], a, a0[ref_part], support.a0]),
        np.concatenate([a1[whole], a + 1, a1[ref_part], support.a1]),
        np.concatenate([b0[whole], b0[mt_part], b, support.b0]),
        np.concatenate([b1[whole], b1[mt_part], b + 1, support.b1]),
    )
    of_mt = np.isin(spans.kind, _RECALL_OF_MT)[:, None]
    of_ref = np.isin(spans.kind, _RECALL_OF_REFERENCE)[:, None]
    ref_ends, ref_ok = _unrelated(spans.b0, spans.b1, m)
    mt_ends, mt_ok = _unrelated(spans.a0, spans.a1, n)
    # per group: its own pair, the unrelated reference spans (not for a reference sentence's recall), then
    # the unrelated MT spans (not for an MT sentence's)
    own_i, own_j = spans.a1[:, None], spans.b1[:, None]
    ends_i = np.hstack([own_i, np.repeat(own_i, _SIDES, axis=1), mt_ends])
    ends_j = np.hstack([own_j, ref_ends, np.repeat(own_j, _SIDES, axis=1)])
    related = ~np.isin(spans.kind, _SUPPORT)[:, None]  # a support is a recall, not a margin
    ok = np.hstack([np.ones((len(spans.kind), 1), dtype=bool), ref_ok & ~of_ref & related, mt_ok & ~of_mt & related])
    sizes = ok.sum(axis=1)
    return _Groups(
        spans.bead,
        spans.kind,
        np.concatenate(([0], np.cumsum(sizes))).tolist(),
        ends_i[ok],
        ends_j[ok],
        np.repeat(spans.a1 - spans.a0, sizes),
        np.repeat(spans.b1 - spans.b0, sizes),
        np.repeat(spans.kind, sizes),
    )


@dataclass(frozen=True, slots=True)
class _Spans:
    """Per group: its bead, its kind, and the MT (a0..a1-1) and reference (b0..b1-1) sentences it scores."""

    bead: Ints
    kind: Ints
    a0: Ints
    a1: Ints
    b0: Ints
    b1: Ints


def _support_spans(beads: Sequence[Bead], matched: npt.NDArray[np.bool_], ends: Ints, broken_cum: Ints) -> _Spans:
    """Per unmatched bead whose sentence is evidence (sound MT; a reference sentence), its sentence against the
    other side of each nearest matched bead, before and after it (that side's MT only when sound): where the
    search could have glued it instead."""
    matched_at = np.flatnonzero(matched)
    rows: list[tuple[int, int, int, int, int, int]] = []
    for k in np.flatnonzero(~matched).tolist():
        after = int(np.searchsorted(matched_at, k))
        neighbours = matched_at[max(after - 1, 0) : after + 1].tolist()
        bead = beads[k]
        for q in neighbours:
            a0, a1, b0, b1 = ends[q].tolist()
            if bead.source:
                i = bead.source[0]
                if broken_cum[i + 1] == broken_cum[i]:
                    rows.append((k, _MT_SUPPORT, i, i + 1, b0, b1))
            elif broken_cum[a1] == broken_cum[a0]:
                j = bead.reference[0]
                rows.append((k, _REF_SUPPORT, a0, a1, j, j + 1))
    columns = np.array(rows, dtype=np.int64).reshape(-1, 6).T
    return _Spans(*columns)


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
        of_mt = np.isin(kind, _RECALL_OF_MT)
        part, other = np.where(of_mt, mt_chars, ref_chars), np.where(of_mt, ref_chars, mt_chars)
        out[pairs] = np.where(
            kind == _CHRF,
            chrf_from_matches(matches, mt_chars, ref_chars, beta=beta),
            np.where(
                np.isin(kind, _SUPPORT),
                part_recall(matches, part, other, first=SUPPORT_FROM),
                part_recall(matches, part, other),
            ),
        )
    return out
