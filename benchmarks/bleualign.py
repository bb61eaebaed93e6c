"""Baseline: the Bleualign method (Sennrich & Volk 2010, 2011), implemented from the papers.

Used by the alignment benchmark (``benchmarks/bench_align.py``) to compare
tarjama's aligner with; not part of the package. Bleualign aligns the machine translation of the source with
the target text:

1. Similarity: sentence-level BLEU-2 (token unigram and bigram precision of
   the MT against the reference sentence, geometric mean, brevity penalty,
   unsmoothed, so a pair without a shared bigram scores 0) between *every* MT
   sentence and *every* reference sentence: O(n * m) time. Only the best
   ``alternatives`` reference sentences per MT sentence are kept, so memory
   is O(n).
2. Anchors: the monotone set of 1-1 pairs among those candidates with the
   greatest total BLEU (a weighted longest increasing subsequence, by a
   Fenwick tree over reference positions).
3. Gap filling: a sentence left out of the anchors is merged into the
   neighbouring anchor (giving 1-2 or 2-1) when that raises the anchor's
   BLEU; the rest of each gap between anchors is aligned by the best-scoring
   sequence of 1-1, 1-2 and 2-1 beads with positive BLEU; what remains is
   unaligned, except that (as Bleualign's default gap-filling heuristics) a
   run of unaligned sentences with sentences on both sides is aligned by
   Gale-Church lengths (``gale_church_gaps``; MT and reference are both
   English, so the length ratio is 1). Sentences still unaligned become
   1-0 / 0-1 beads, where Bleualign would drop them.

A bead's confidence is its BLEU-2 (0 for unaligned sentences).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from tarjama.alignment.dp import Bead

_TOKEN = re.compile(r"\w+|[^\w\s]")


class _Stats:
    """Token unigram and bigram occurrences of one span (occurrence-keyed sets: clipped matches are intersections)."""

    __slots__ = ("grams", "length", "n_bigrams")

    def __init__(self, tokens: Sequence[str]) -> None:
        self.length = len(tokens)
        self.n_bigrams = max(len(tokens) - 1, 0)
        self.grams = (_occurrences(list(tokens)), _occurrences([f"{a} {b}" for a, b in zip(tokens, tokens[1:])]))


def _occurrences(grams: list[str]) -> frozenset[tuple[str, int]]:
    counts = Counter(grams)
    return frozenset((gram, k) for gram, count in counts.items() for k in range(count))


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def _bleu(hyp: _Stats, ref: _Stats) -> float:
    if not hyp.n_bigrams or not ref.length:
        return 0.0
    bigrams = len(hyp.grams[1] & ref.grams[1])
    if not bigrams:
        return 0.0
    unigrams = len(hyp.grams[0] & ref.grams[0])
    log_precision = (math.log(unigrams / hyp.length) + math.log(bigrams / hyp.n_bigrams)) / 2
    brevity = min(0.0, 1 - ref.length / hyp.length)
    return math.exp(log_precision + brevity)


def bleu2(hypothesis: str, reference: str) -> float:
    """Sentence BLEU-2 in [0, 1] of ``hypothesis`` against one ``reference`` (unsmoothed)."""
    return _bleu(_Stats(tokenize(hypothesis)), _Stats(tokenize(reference)))


class _Spans:
    def __init__(self, sentences: Sequence[str]) -> None:
        self.tokens = [tokenize(s) for s in sentences]
        self._cache: dict[tuple[int, int], _Stats] = {}

    def get(self, start: int, stop: int) -> _Stats:
        stats = self._cache.get((start, stop))
        if stats is None:
            stats = self._cache[start, stop] = _Stats([t for k in range(start, stop) for t in self.tokens[k]])
        return stats


def align(
    mt: Sequence[str], reference: Sequence[str], *, alternatives: int = 3, gale_church_gaps: bool = True
) -> list[Bead]:
    """Bleualign-method alignment of MT sentences (one per source sentence) to reference sentences."""
    n, m = len(mt), len(reference)
    mt_spans, ref_spans = _Spans(mt), _Spans(reference)
    ref_single = [ref_spans.get(j, j + 1) for j in range(m)]
    candidates: list[tuple[int, int, float]] = []  # (i, j, BLEU), by i
    for i in range(n):
        hyp = mt_spans.get(i, i + 1)
        row = [(bleu, j) for j, ref in enumerate(ref_single) if (bleu := _bleu(hyp, ref)) > 0]
        row.sort(reverse=True)
        candidates += [(i, j, bleu) for bleu, j in sorted(row[:alternatives], key=lambda c: c[1])]
    anchors = _best_monotone(candidates, m)

    def score(i0: int, i1: int, j0: int, j1: int) -> float:
        return _bleu(mt_spans.get(i0, i1), ref_spans.get(j0, j1))

    # Beads as (i0, i1, j0, j1) half-open ranges with their BLEU; anchors grow into unaligned neighbours when
    # BLEU improves.
    spans = [(i, i + 1, j, j + 1) for i, j, _ in anchors]
    bleus = [s for _, _, s in anchors]
    for k, (i0, i1, j0, j1) in enumerate(spans):
        before = spans[k - 1] if k else (0, 0, 0, 0)
        after = spans[k + 1] if k + 1 < len(spans) else (n, n, m, m)
        options = []
        if i0 - 1 >= before[1]:
            options.append((i0 - 1, i1, j0, j1))
        if i1 + 1 <= after[0]:
            options.append((i0, i1 + 1, j0, j1))
        if j0 - 1 >= before[3]:
            options.append((i0, i1, j0 - 1, j1))
        if j1 + 1 <= after[2]:
            options.append((i0, i1, j0, j1 + 1))
        scored = [(score(*option), option) for option in options]
        if scored:
            best, option = max(scored)
            if best > bleus[k]:
                spans[k], bleus[k] = option, best
    result: list[Bead] = []
    i = j = 0
    for (i0, i1, j0, j1), s in zip([*spans, (n, n, m, m)], [*bleus, 0.0]):
        result += _fill_gap(i, i0, j, j0, score)
        if i1 > i0 or j1 > j0:
            result.append(Bead(tuple(range(i0, i1)), tuple(range(j0, j1)), min(s, 1.0)))
        i, j = i1, j1
    return _length_fill(result, mt, reference) if gale_church_gaps else result


def _length_fill(beads: list[Bead], mt: Sequence[str], reference: Sequence[str]) -> list[Bead]:
    """Runs of unaligned beads with sentences on both sides, re-aligned by Gale-Church lengths."""
    from tarjama.alignment.gale_church import align_lengths

    out: list[Bead] = []
    k = 0
    while k < len(beads):
        if beads[k].source and beads[k].reference:
            out.append(beads[k])
            k += 1
            continue
        end = k
        while end < len(beads) and not (beads[end].source and beads[end].reference):
            end += 1
        src = [i for b in beads[k:end] for i in b.source]
        ref = [j for b in beads[k:end] for j in b.reference]
        if src and ref:
            for b in align_lengths([mt[i] for i in src], [reference[j] for j in ref], c=1.0, numbers=False):
                out.append(Bead(tuple(src[0] + i for i in b.source), tuple(ref[0] + j for j in b.reference), 0.0))
        else:
            out += beads[k:end]
        k = end
    return out


def _best_monotone(candidates: list[tuple[int, int, float]], m: int) -> list[tuple[int, int, float]]:
    """The strictly increasing (in i and j) subset of candidates with the greatest total score."""
    tree = [(0.0, -1)] * (m + 1)  # Fenwick tree over j + 1: (best total ending at or before j, candidate index)

    def query(j: int) -> tuple[float, int]:  # best over reference positions < j
        best = (0.0, -1)
        while j > 0:
            best = max(best, tree[j])
            j -= j & -j
        return best

    def update(j: int, value: tuple[float, int]) -> None:
        j += 1
        while j <= m:
            if value > tree[j]:
                tree[j] = value
            j += j & -j

    back = [-1] * len(candidates)
    k = 0
    while k < len(candidates):
        row_end = k
        while row_end < len(candidates) and candidates[row_end][0] == candidates[k][0]:
            row_end += 1
        results = []
        for c in range(k, row_end):  # query the whole row before updating: one candidate per MT sentence
            total, prev = query(candidates[c][1])
            back[c] = prev
            results.append((total + candidates[c][2], c))
        for value in results:
            update(candidates[value[1]][1], value)
        k = row_end
    _, c = query(m)
    path = []
    while c >= 0:
        path.append(candidates[c])
        c = back[c]
    return path[::-1]


def _fill_gap(i0: int, i1: int, j0: int, j1: int, score) -> list[Bead]:
    """Best sequence of 1-1, 1-2, 2-1 beads (positive BLEU, summed) and 1-0, 0-1 beads (0) over a gap."""
    if i1 == i0 or j1 == j0:
        return [Bead((i,), (), 0.0) for i in range(i0, i1)] + [Bead((), (j,), 0.0) for j in range(j0, j1)]
    rows, cols = i1 - i0, j1 - j0
    best = [[-1.0] * (cols + 1) for _ in range(rows + 1)]
    back: list[list[tuple[int, int, float]]] = [[(0, 0, 0.0)] * (cols + 1) for _ in range(rows + 1)]
    best[0][0] = 0.0
    for a in range(rows + 1):
        for b in range(cols + 1):
            for da, db in ((1, 0), (0, 1), (1, 1), (1, 2), (2, 1)):
                pa, pb = a - da, b - db
                if pa < 0 or pb < 0 or best[pa][pb] < 0:
                    continue
                s = score(i0 + pa, i0 + a, j0 + pb, j0 + b) if da and db else 0.0
                if da and db and s <= 0:
                    continue
                if best[pa][pb] + s > best[a][b]:
                    best[a][b], back[a][b] = best[pa][pb] + s, (da, db, s)
    beads = []
    a, b = rows, cols
    while a or b:
        da, db, s = back[a][b]
        beads.append(Bead(tuple(range(i0 + a - da, i0 + a)), tuple(range(j0 + b - db, j0 + b)), min(s, 1.0)))
        a, b = a - da, b - db
    return beads[::-1]
