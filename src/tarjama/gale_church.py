"""Sentence alignment from character lengths alone (Gale & Church 1993), for texts without MT.

When there is no machine translation, the only language-independent signal
between an Arabic sentence and its English translation is its length: a
sentence of ``l1`` Arabic characters translates to about ``c * l1`` English
characters, with a variance proportional to ``l1``. Gale & Church model

    z = (c * l1 - l2) / sqrt(s2 * (l1 + l2 / c) / 2)

as standard normal and score a bead by ``-log P(bead type) - log P(|Z| >= |z|)``.
The best monotone path of beads from (0, 0) to (n, m) is found by dynamic
programming over the bead types 1-1, 1-0, 0-1, 2-1, 1-2 and 2-2.

Parameters, measured on the 603 line-aligned NTREX-128 gold pairs in
``corpus/ntrex128-dev/gold/`` (Arabic ``arb`` → English, characters as
``len(str)``, spaces included):

* ``c = 1.06`` English characters per Arabic character (ratio of totals
  1.0587; the mean per-line ratio is 1.084; without whitespace 1.065);
* ``s2 = 6.8``, Gale & Church's published value. The variance measured on
  the gold, the mean of ``(l2 - c * l1)**2 / l1``, is 3.34, but its tail is
  heavy (median 1.46) and a normal with that variance treats the real
  outliers as near-impossible 1-1 beads: strict bead F1 on the 40 gold
  documents (each aligned on its own) is 0.964 with s2 = 3.3, 0.995 with
  6.8 and 1.000 with 10. 6.8 is kept as the value not tuned on this
  data. Gale & Church had c = 1 for German/French–English.

Bead priors follow Gale & Church's program (each type gets the listed
weight, relative to 1-1): 1-1 0.89, 1-0 and 0-1 0.0099, 2-1 and 1-2 0.089,
2-2 0.011. An unmatched (1-0/0-1) bead is charged only its prior: with no
partner there is no length to predict (as in :mod:`tarjama.align`), so a
sentence the other side omits costs the same whatever its length.

Band. Boundary i of the source is searched only within ``band_half_width``
reference boundaries of the proportional diagonal (source character offsets
mapped onto reference character offsets), so time and memory are
O(n * band_half_width). If the best path touches the band edge the search is
repeated with the band doubled, until the path stays inside or the band
covers the whole grid.

Confidence. A matched bead's confidence is its posterior probability
(forward-backward over the band: the share of the total path weight passing
through that bead). An unmatched bead's posterior is multiplied by the
length model's probability that its sentence translates to nothing,
``P(|Z| >= z(l, 0))``, which is about 0 for any real sentence: a length
model can never vouch for an omission, so unmatched sentences are always
flagged for review.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import accumulate

from tarjama.align import Bead, length_diagonal

ARABIC_TO_ENGLISH_C = 1.06
"""English characters per Arabic character, measured on the NTREX-128 gold (1.0587)."""

ARABIC_TO_ENGLISH_S2 = 6.8
"""Variance per Arabic character of the English length: Gale & Church's value (3.34 measured on NTREX, heavy-tailed)."""

GALE_CHURCH_PRIORS: dict[tuple[int, int], float] = {
    (1, 1): 0.89,
    (1, 0): 0.0099,
    (0, 1): 0.0099,
    (2, 1): 0.089,
    (1, 2): 0.089,
    (2, 2): 0.011,
}

_NEG_INF = -math.inf
_SQRT2 = math.sqrt(2.0)


def _log_two_sided_tail(z: float) -> float:
    """log P(|Z| >= |z|) for a standard normal Z, accurate far into the tail."""
    x = abs(z) / _SQRT2
    return math.log(math.erfc(x)) if x < 20.0 else _asymptotic(x)


def _asymptotic(x: float) -> float:
    # erfc(x) ~ exp(-x^2) / (x sqrt(pi)) * (1 - 1/(2x^2))
    return -x * x - math.log(x * math.sqrt(math.pi)) + math.log1p(-1.0 / (2.0 * x * x))


def length_z(l1: int, l2: int, c: float = ARABIC_TO_ENGLISH_C, s2: float = ARABIC_TO_ENGLISH_S2) -> float:
    """Gale & Church's standardised length difference of a bead (0 when both sides are empty)."""
    mean = (l1 + l2 / c) / 2
    if mean <= 0:
        return 0.0
    return (c * l1 - l2) / math.sqrt(s2 * mean)


def _logaddexp(a: float, b: float) -> float:
    if a < b:
        a, b = b, a
    return a if b == _NEG_INF else a + math.log1p(math.exp(b - a))


def _band(centre: Sequence[int], m: int, half_width: int) -> tuple[list[int], list[int]]:
    """Inclusive reference range per source boundary; ranges never decrease, so (n, m) is reachable."""
    lo: list[int] = []
    hi: list[int] = []
    for k in centre:
        lo.append(min(max(0, k - half_width), hi[-1]) if hi else 0)
        hi.append(max(min(m, k + half_width), hi[-1] if hi else 0))
    hi[-1] = m
    return lo, hi


def align_lengths(
    source: Sequence[str],
    reference: Sequence[str],
    *,
    c: float = ARABIC_TO_ENGLISH_C,
    s2: float = ARABIC_TO_ENGLISH_S2,
    band_half_width: int = 10,
) -> list[Bead]:
    """Monotone Gale-Church alignment of source sentences to reference sentences by character length.

    Every source index and every reference index appears in exactly one bead,
    in order. ``c`` and ``s2`` default to the Arabic→English values measured on
    NTREX-128 (see the module docstring).
    """
    n, m = len(source), len(reference)
    if n == 0 or m == 0:
        return [Bead((i,), (), 1.0) for i in range(n)] + [Bead((), (j,), 1.0) for j in range(m)]
    src_len = [len(s) for s in source]
    ref_len = [len(s) for s in reference]
    src_cum = list(accumulate(src_len, initial=0))
    ref_cum = list(accumulate(ref_len, initial=0))
    types = tuple((di, dj, math.log(p)) for (di, dj), p in GALE_CHURCH_PRIORS.items())

    def score(di: int, dj: int, log_prior: float, i: int, j: int) -> float:
        if not (di and dj):
            return log_prior
        l1, l2 = src_cum[i] - src_cum[i - di], ref_cum[j] - ref_cum[j - dj]
        return log_prior + _log_two_sided_tail(length_z(l1, l2, c, s2))

    centre = length_diagonal([x + 1 for x in src_len], [x + 1 for x in ref_len])
    half_width = max(band_half_width, 1)
    while True:
        lo, hi = _band(centre, m, half_width)
        best = [[_NEG_INF] * (h - l + 1) for l, h in zip(lo, hi)]
        total = [[_NEG_INF] * (h - l + 1) for l, h in zip(lo, hi)]
        back = [[-1] * (h - l + 1) for l, h in zip(lo, hi)]
        best[0][0] = total[0][0] = 0.0
        for i in range(n + 1):
            for j in range(lo[i], hi[i] + 1):
                b, tot, arg = best[i][j - lo[i]], total[i][j - lo[i]], back[i][j - lo[i]]
                for t, (di, dj, log_prior) in enumerate(types):
                    pi, pj = i - di, j - dj
                    if pi < 0 or not lo[pi] <= pj <= hi[pi]:
                        continue
                    s = score(di, dj, log_prior, i, j)
                    via = best[pi][pj - lo[pi]] + s
                    if via > b:
                        b, arg = via, t
                    tot = _logaddexp(tot, total[pi][pj - lo[pi]] + s)
                best[i][j - lo[i]], total[i][j - lo[i]], back[i][j - lo[i]] = b, tot, arg
        path = []
        i, j = n, m
        while i or j:
            t = back[i][j - lo[i]]
            path.append((i, j, t))
            i, j = i - types[t][0], j - types[t][1]
        path.reverse()
        touches = any((j == lo[i] and j > 0) or (j == hi[i] and j < m) for i, j, _ in path)
        if not touches or all(l == 0 and h == m for l, h in zip(lo, hi)):
            break
        half_width *= 2

    # backward pass: log weight of all paths from (i, j) to (n, m)
    rest = [[_NEG_INF] * (h - l + 1) for l, h in zip(lo, hi)]
    rest[n][m - lo[n]] = 0.0
    for i in range(n, -1, -1):
        for j in range(hi[i], lo[i] - 1, -1):
            acc = rest[i][j - lo[i]]
            for di, dj, log_prior in types:
                si, sj = i + di, j + dj
                if si <= n and lo[si] <= sj <= hi[si]:
                    acc = _logaddexp(acc, score(di, dj, log_prior, si, sj) + rest[si][sj - lo[si]])
            rest[i][j - lo[i]] = acc
    log_z = total[n][m - lo[n]]
    beads = []
    for i, j, t in path:
        di, dj, log_prior = types[t]
        pi, pj = i - di, j - dj
        log_post = total[pi][pj - lo[pi]] + score(di, dj, log_prior, i, j) + rest[i][j - lo[i]] - log_z
        confidence = min(1.0, math.exp(min(log_post, 0.0)))
        if not (di and dj):
            length = src_len[pi] if di else ref_len[pj]
            confidence *= math.exp(
                _log_two_sided_tail(length_z(length, 0, c, s2) if di else length_z(0, length, c, s2))
            )
        beads.append(Bead(tuple(range(pi, i)), tuple(range(pj, j)), max(0.0, min(1.0, confidence))))
    return beads
