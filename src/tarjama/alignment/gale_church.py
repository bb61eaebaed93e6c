"""Sentence alignment from character lengths alone (Gale & Church 1993), for texts without MT.

When there is no machine translation, the only language-independent signal
between an Arabic sentence and its English translation is its length: a
sentence of ``l1`` Arabic characters translates to about ``c * l1`` English
characters, with a variance proportional to ``l1``. Gale & Church model

    z = (c * l1 - l2) / sqrt(s2 * (l1 + l2 / c) / 2)

as standard normal and score a bead by ``log P(bead type) + log P(|Z| >= |z|)``.
The best monotone path of beads over the types 1-1, 1-0, 0-1, 2-1, 1-2 and
2-2, and the larger ones of :data:`GALE_CHURCH_PRIORS`, is found by
:func:`tarjama.alignment.dp.align_banded`, the search shared with the MT
aligner (band around the length diagonal, widened locally where the path
touches its edge).

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
2-2 0.011, with small weights for larger beads (:data:`GALE_CHURCH_PRIORS`).
An unmatched (1-0/0-1) bead is charged only its prior: with no partner there
is no length to predict (as in :mod:`tarjama.alignment.align`), so a sentence
the other side omits costs the same whatever its length.

Numbers. Lengths alone cannot tell which of two neighbours a sentence belongs with when their lengths fit
either way; a figure can. A matched bead loses what the MT aligner's does for each number written in digits on
one side only (:func:`tarjama.alignment.numbers.numbers_missed_cost`).

Confidence. A matched bead's confidence is its posterior probability. An
unmatched bead's posterior is multiplied by the length model's probability
that its sentence translates to nothing, ``P(|Z| >= z(l, 0))``, which is
about 0 for any real sentence: a length model can never vouch for an
omission, so unmatched sentences are always flagged for review.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import numba
import numpy as np
import numpy.typing as npt
from numpy.typing import ArrayLike

from tarjama.alignment.dp import Bead, Cells, Scores, align_banded, length_diagonal
from tarjama.alignment.numbers import number_masks, numbers_missed_cost

ARABIC_TO_ENGLISH_C = 1.06
"""English characters per Arabic character, measured on the NTREX-128 gold (1.0587)."""

ARABIC_TO_ENGLISH_S2 = 6.8
"""Variance per Arabic character of the English length: Gale & Church's value (3.34 measured on NTREX, heavy-tailed)."""

LENGTH_RATIO_PRIOR_CHARS = 100.0
"""Characters of evidence the expected length ratio counts as beside a text's own totals: about one sentence,
enough to steady a text of a few sentences, too little to move a long one's (chosen on the tuning half:
``benchmarks/results/alignment-gaps.md``)."""


def text_length_ratio(predicted_chars: float, observed_chars: float, expected: float) -> float:
    """The ratio of a text's observed to predicted characters, shrunk towards ``expected``.

    The text's own ratio follows its translator's style (the seed article's English is 1.29 times its
    Arabic), but in a short text one sentence with no counterpart moves it far: two Arabic sentences and
    three English ones made every 1-1 look too short, and the three were glued into one row."""
    return (observed_chars + LENGTH_RATIO_PRIOR_CHARS * expected) / (predicted_chars + LENGTH_RATIO_PRIOR_CHARS)


def expected_length_ratio(from_source: bool) -> float:
    """Reference characters expected per predictor character: per Arabic one (c), or per MT one (1)."""
    return ARABIC_TO_ENGLISH_C if from_source else 1.0


Floats = npt.NDArray[np.float64]

GALE_CHURCH_PRIORS: Mapping[tuple[int, int], float] = MappingProxyType(
    {
        (1, 1): 0.89,
        (1, 0): 0.0099,
        (0, 1): 0.0099,
        (2, 1): 0.089,
        (1, 2): 0.089,
        (2, 2): 0.011,
        (1, 3): 0.001,
        (1, 4): 0.0005,
        (1, 5): 0.00033,
        (1, 6): 0.00025,
        (3, 1): 0.0005,
        (2, 3): 0.0003,
        (3, 2): 0.0003,
    }
)
"""Gale & Church's six bead types and weights, and the larger ones Arabic news needs: a comma-chained sentence
that English renders as up to six (1-3 … 1-6), three sentences gathered into one (3-1), a pair cut differently
(2-3, 3-2). Their weights were chosen as a tenth of the units path's sentence stage (``SENTENCE_BEAD_PRIORS`` in
:mod:`tarjama.alignment.align`): lengths alone cannot tell a 1-3 from a 1-2 beside a lone sentence, and at a
tenth no un-chained variant of the benchmark's tuning half loses more than 0.003
(``benchmarks/results/gale-church-beads.md``)."""


@numba.njit(cache=True)
def _log_two_sided_tails(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:  # pragma: no cover - compiled
    """log P(|Z| >= |z|) for a standard normal Z, accurate far into the tail (compiled: numpy has no erfc)."""
    out = np.empty_like(z)
    for k in range(len(z)):
        x = abs(z[k]) / math.sqrt(2.0)
        if x < 20.0:
            out[k] = math.log(math.erfc(x))
        else:  # erfc(x) ~ exp(-x^2) / (x sqrt(pi)) * (1 - 1/(2x^2))
            out[k] = -x * x - math.log(x * math.sqrt(math.pi)) + math.log1p(-1.0 / (2.0 * x * x))
    return out


def length_z(l1: ArrayLike, l2: ArrayLike, c: float = ARABIC_TO_ENGLISH_C, s2: float = ARABIC_TO_ENGLISH_S2) -> Floats:
    """Gale & Church's standardised length difference of beads (a mean length under one character counts as one)."""
    l1, l2 = np.asarray(l1, dtype=np.float64), np.asarray(l2, dtype=np.float64)
    return (c * l1 - l2) / np.sqrt(s2 * np.maximum((l1 + l2 / c) / 2, 1.0))


def log_length_tail(l1: ArrayLike, l2: ArrayLike, c: float, s2: float) -> Floats:
    """log P(|Z| >= |z|): the length model's log-probability of beads of lengths l1 -> l2 (both aligners)."""
    return _log_two_sided_tails(np.atleast_1d(length_z(l1, l2, c, s2)))


class LengthScorer:
    """Bead scores of the Gale-Church model: log prior plus log length tail (matched beads only), less the
    cost of numbers written on one side only when ``numbers``."""

    def __init__(self, source: Sequence[str], reference: Sequence[str], c: float, s2: float, numbers: bool) -> None:
        self.numbers = (number_masks(source), number_masks(reference)) if numbers else None
        self.bead_types = list(GALE_CHURCH_PRIORS)
        self.log_priors = [math.log(p) for p in GALE_CHURCH_PRIORS.values()]
        self.source_cum = np.cumsum([0] + [len(s) for s in source])
        self.reference_cum = np.cumsum([0] + [len(s) for s in reference])
        self.c, self.s2 = c, s2

    def scores(self, i: Cells, j: Cells, types: Sequence[int]) -> tuple[Scores, Scores]:
        """Log prior plus log length tail; reliability 1 for a matched bead and, for an unmatched one, the
        probability that its sentence translates to nothing."""
        scores = np.empty((len(types), len(i)))
        reliability = np.ones((len(types), len(i)))
        for t, bead_type in enumerate(types):
            (di, dj), log_prior = self.bead_types[bead_type], self.log_priors[bead_type]
            i0, j0 = np.maximum(i - di, 0), np.maximum(j - dj, 0)
            l1, l2 = self.source_cum[i] - self.source_cum[i0], self.reference_cum[j] - self.reference_cum[j0]
            if di and dj:
                scores[t] = log_prior + log_length_tail(l1, l2, self.c, self.s2)
                if self.numbers is not None:
                    scores[t] -= numbers_missed_cost(self.numbers, i, j, di, dj)
            else:
                scores[t] = log_prior
                reliability[t] = np.exp(log_length_tail(l1, l2, self.c, self.s2))
        return scores, reliability


def align_lengths(
    source: Sequence[str],
    reference: Sequence[str],
    *,
    c: float = ARABIC_TO_ENGLISH_C,
    s2: float = ARABIC_TO_ENGLISH_S2,
    band_half_width: int = 10,
    numbers: bool = True,
) -> list[Bead]:
    """Monotone Gale-Church alignment of source sentences to reference sentences by character length.

    Every source index and every reference index appears in exactly one bead,
    in order. ``c`` and ``s2`` default to the Arabic→English values measured on
    NTREX-128 (see the module docstring). ``numbers``: a number written in digits on one side of a bead
    only counts against it (:data:`tarjama.alignment.numbers.NUMBER_MISSED`); off where one side is an MT
    whose figures are unreliable.
    """
    scorer = LengthScorer(source, reference, c, s2, numbers)
    centre = length_diagonal([len(s) + 1 for s in source], [len(s) + 1 for s in reference])
    return align_banded(scorer, len(source), len(reference), centre, band_half_width)
