"""The banded dynamic programme shared by the aligners: search, traceback and posteriors, apart from costs.

An aligner is a :class:`BeadScorer`: it names its bead types and scores beads
in bulk. This module finds the best monotone path of beads from (0, 0) to
(n, m) (Viterbi), the posterior probability of each bead on it
(forward-backward over the same band), and decides where to search.

Band. Boundary i of the source side is searched only within ``half_width``
target boundaries of a centre line (:func:`length_diagonal`: cumulative
lengths mapped proportionally, so the line follows sentence lengths rather
than counts). Cost is O(n * half_width) bead scores. A best path touching the
band edge may have been cut off, so the search is redone in a band centred
on that path, twice as wide only near the rows where it touched (within twice
the old half-width) and as wide as before elsewhere, until the path stays
strictly inside (or the band spans the whole grid there). Scores of the
earlier pass are reused. Texts with scattered omissions drift like a random
walk, which re-centring follows where a fixed diagonal would need a band as
wide as the largest drift; widening only where needed keeps the cost linear.
The check is a heuristic, not a proof: a better path that leaves the band
and re-enters it is not seen.

Gap runs (affine gaps, as in sequence alignment). A run of unmatched sentences on one side (a block of
captions, a list, a sidebar the other side leaves out) would pay the 1-0 (0-1) prior once per sentence,
so a long run costs more than gluing it into a few large beads of poor content. With ``gap_extension``
a 1-0 bead right after a 1-0 bead (a 0-1 after a 0-1) gets that many nats added to its score: the run
pays the prior once to open, then less per sentence. The search then keeps, per cell, the best and total
weight of the paths arriving by a matched bead, by a 1-0 and by a 0-1 bead.

Confidence. A bead's confidence is its posterior probability (the share of
the total path weight passing through it: a bead with an equally good
competitor gets about 0.5) times the scorer's ``reliability`` of the bead
(how much its content vouches for it, e.g. chrF above chance).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Protocol

import numba
import numpy as np
import numpy.typing as npt

Cells = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Bead:
    """One step of an alignment: source sentences ``source`` correspond to reference sentences ``reference``."""

    source: tuple[int, ...]
    reference: tuple[int, ...]
    confidence: float


class BeadScorer(Protocol):
    """An alignment model: bead types and their log-weights; the search does not know where scores come from."""

    @property
    def bead_types(self) -> Sequence[tuple[int, int]]:
        """(source sentences, target sentences) per type; must include (1, 0) and (0, 1), never (0, 0)."""
        ...

    def scores(self, i: Cells, j: Cells, types: Sequence[int]) -> tuple[Scores, Scores]:
        """For beads of the given types (indices into ``bead_types``) ending at boundaries (i[k], j[k]) (arrays
        [type, k]): their log-weights (prior included), and their reliabilities, factors in [0, 1] that turn a
        bead's posterior into its confidence. Cells come row by row (i ascending); a bead that would start
        outside the grid may get any value."""
        ...


def check_bead_types(bead_types: Sequence[tuple[int, int]]) -> None:
    """Every input must be alignable: 1-0 and 0-1 present; unmatched material only one sentence at a time."""
    types = set(bead_types)
    if (1, 0) not in types or (0, 1) not in types:
        raise ValueError("bead types must include (1, 0) and (0, 1) with a positive prior")
    if any((di == 0 or dj == 0) and (di, dj) not in ((1, 0), (0, 1)) for di, dj in types):
        raise ValueError("the only bead types with an empty side are (1, 0) and (0, 1)")
    if any(di < 0 or dj < 0 for di, dj in types):
        raise ValueError("bead types take a non-negative number of sentences from each side")


def length_diagonal(source_weights: Sequence[int], target_weights: Sequence[int]) -> list[int]:
    """Per source boundary i, the target boundary at the same fraction of the total weight (integer arithmetic)."""
    m = len(target_weights)
    source_total, target_total = sum(source_weights), sum(target_weights)
    target_cum = [c * source_total for c in accumulate(target_weights, initial=0)]
    centre = []
    j = 0
    for source_cum in accumulate(source_weights, initial=0):
        goal = source_cum * target_total
        while j < m and target_cum[j + 1] <= goal:
            j += 1
        centre.append(j + 1 if j < m and target_cum[j + 1] - goal < goal - target_cum[j] else j)
    return centre


LARGE = 2
"""Beads with more sentences than this on a side are scored only near the best path of the smaller ones,
where that path is irregular: a large bead can only improve on small beads that are not all 1-1."""

NEAR = 2
"""How far (target sentences) from that path, at each source boundary, large beads are scored."""


def align_banded(
    scorer: BeadScorer, n: int, m: int, centre: Sequence[int], half_width: int, gap_extension: float = 0.0
) -> list[Bead]:
    """The best monotone bead path from (0, 0) to (n, m), searched in a band around ``centre`` (see the module);
    ``gap_extension``: nats added to a 1-0 (0-1) bead that follows a 1-0 (0-1) bead (gap runs, see the module)."""
    check_bead_types(scorer.bead_types)
    has_large = any(max(bead_type) > LARGE for bead_type in scorer.bead_types)
    widths = np.full(n + 1, max(half_width, 1), dtype=np.int64)
    centre_line = np.asarray(centre, dtype=np.int64)
    band = _Band.around(centre_line, centre_line, m, widths)
    previous: _Lattice | None = None
    near: tuple[Cells, Cells] | None = None  # large beads: off until the small ones have found their path
    while True:
        lattice = _Lattice(scorer, band, previous, near, gap_extension)
        path = lattice.best_path()
        touched = lattice.band.touched(path)
        if gap_extension:
            touched = np.union1d(touched, _long_gap_rows(path, scorer.bead_types, widths))
        if touched.size:  # re-centre on the path, wider where it touched the edge
            rows = _path_rows(path, n)
            widths = _widen(widths, touched)
            band = _Band.around(*rows, m, widths)
            near = _irregular_rows(path, n, scorer.bead_types) if near is not None else None
        elif has_large and near is None:  # the same band again, now with large beads near the path
            near = _irregular_rows(path, n, scorer.bead_types)
        else:
            return lattice.beads(path)
        previous = lattice


def _long_gap_rows(
    path: Sequence[tuple[int, int, int]], bead_types: Sequence[tuple[int, int]], widths: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """Rows where the path has run at least the band's half-width of unmatched sentences on one side: with
    cheap gap runs a path that lost the true one inside a narrow band can drift along by short runs without
    touching its edge, so such a run widens the band as a touch of the edge does."""
    rows, run, side = [], 0, None
    for i, _, t in path:
        di, dj = bead_types[t]
        gap = "source" if dj == 0 else "reference" if di == 0 else None
        run = run + 1 if gap is not None and gap == side else 1 if gap is not None else 0
        side = gap
        if run and run >= widths[i]:
            rows.append(i)
    return np.array(rows, dtype=np.int64)


def _irregular_rows(
    path: Sequence[tuple[int, int, int]], n: int, bead_types: Sequence[tuple[int, int]]
) -> tuple[Cells, Cells]:
    """:func:`_path_rows` at the source boundaries a large bead ending there could span a bead of the path
    other than 1-1 (a large bead ending at i covers boundaries i - di .. i); elsewhere an empty range."""
    low, high = _path_rows(path, n)
    longest = max(di for di, dj in bead_types if max(di, dj) > LARGE)
    irregular = np.zeros(n + 2, dtype=np.int64)
    for i, _, t in path:
        if bead_types[t] != (1, 1):
            irregular[i] += 1
            irregular[min(i + longest + 1, n + 1)] -= 1
    keep = np.cumsum(irregular[:-1]) > 0
    return np.where(keep, low, np.iinfo(np.int64).max // 2), np.where(keep, high, -np.iinfo(np.int64).max // 2)


def _widen(widths: npt.NDArray[np.int64], touched: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Half-widths doubled within twice their width (in rows) of each row where the path touched the band edge."""
    change = np.zeros(len(widths) + 1, dtype=np.int64)
    radius = 2 * widths[touched]
    np.add.at(change, np.maximum(touched - radius, 0), 1)
    np.add.at(change, np.minimum(touched + radius + 1, len(widths)), -1)
    return np.where(np.cumsum(change[:-1]) > 0, 2 * widths, widths)


def _path_rows(path: Sequence[tuple[int, int, int]], n: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per source boundary, the lowest and highest target boundary of the path (rows inside a bead take its start)."""
    low, high = np.zeros(n + 1, dtype=np.int64), np.zeros(n + 1, dtype=np.int64)
    i = j = 0
    for end_i, end_j, _ in path:
        low[i + 1 : end_i] = high[i + 1 : end_i] = j
        if end_i != i:
            low[end_i] = end_j
        high[end_i] = end_j
        i, j = end_i, end_j
    return low, high


@dataclass(frozen=True, slots=True)
class _Band:
    """Per source boundary i, the inclusive range lo[i]..hi[i] of target boundaries searched, flattened into cells."""

    lo: npt.NDArray[np.int64]
    hi: npt.NDArray[np.int64]
    offsets: npt.NDArray[np.int64]  # first cell of each row; offsets[-1] is the number of cells
    m: int

    @classmethod
    def around(
        cls, low: npt.NDArray[np.int64], high: npt.NDArray[np.int64], m: int, widths: npt.NDArray[np.int64]
    ) -> _Band:
        """[low[i], high[i]] widened by widths[i]; ranges never decrease and each row starts no later than the
        previous one ends, so (n, m) is reachable from (0, 0) inside the band whenever high[-1] == m."""
        hi = np.maximum.accumulate(np.minimum(m, high + widths))
        lo = np.minimum(np.maximum(0, low - widths), np.concatenate(([0], hi[:-1])))
        lo[0] = 0
        return cls(lo, hi, np.concatenate(([0], np.cumsum(hi - lo + 1))), m)

    @property
    def n(self) -> int:
        return len(self.lo) - 1

    def touched(self, path: Sequence[tuple[int, int, int]]) -> npt.NDArray[np.int64]:
        """Rows where the path runs along the band edge (an edge that is not the grid's)."""
        return np.array([i for i, j, _ in path if j == self.lo[i] > 0 or j == self.hi[i] < self.m], dtype=np.int64)


class _Lattice:
    """Bead scores in one band, with Viterbi over them (and forward-backward for the posteriors of the path kept)."""

    pred: Cells
    scores: Scores
    reliability: Scores

    def __init__(
        self,
        scorer: BeadScorer,
        band: _Band,
        previous: _Lattice | None,
        near: tuple[Cells, Cells] | None,
        gap_extension: float,
    ) -> None:
        """``near``: per source boundary, the lowest and highest target boundary of a path; large beads are
        scored within :data:`NEAR` of it (not at all when ``near`` is None).

        The arrays hold one row per bead type of this pass (``self.row``): large types only when ``near``
        is given, as elsewhere they are never scored."""
        self.scorer, self.band = scorer, band
        self.types = list(scorer.bead_types)
        self.considered = np.array(
            [t for t, bead_type in enumerate(self.types) if max(bead_type) <= LARGE or near is not None],
            dtype=np.int64,
        )
        self.row = {int(t): k for k, t in enumerate(self.considered)}
        types = np.array(self.types, dtype=np.int64).reshape(-1, 2)[self.considered]
        # the state a bead leaves the path in: 0 after a matched bead, 1 after a 1-0, 2 after a 0-1
        self.state = np.where(types[:, 1] == 0, 1, np.where(types[:, 0] == 0, 2, 0))
        self.gap_extension = gap_extension
        no_cells = np.zeros(0, dtype=np.int64)
        near_low, near_high = near if near is not None else (no_cells, no_cells)
        earlier: tuple[_Band, Scores, Scores, dict[int, int]]
        if previous is None:
            earlier = _Band(no_cells, no_cells, no_cells, band.m), np.zeros((0, 0)), np.zeros((0, 0)), {}
        else:  # a later pass re-uses the scores of the earlier one
            earlier = previous.band, previous.scores, previous.reliability, previous.row
        rows, cols, self.pred, self.scores, self.reliability, todo = _cells(
            band.lo,
            band.hi,
            band.offsets,
            types,
            types.max(axis=1) > LARGE,
            near_low,
            near_high,
            earlier[0].lo,
            earlier[0].hi,
            earlier[0].offsets,
            earlier[1],
            earlier[2],
            np.array([earlier[3].get(int(t), -1) for t in self.considered], dtype=np.int64),
        )
        small = [int(t) for t in self.considered if max(self.types[t]) <= LARGE]
        large = [int(t) for t in self.considered if max(self.types[t]) > LARGE]
        for group in (small, large):  # scored apart: large beads cost more and are wanted at fewer cells
            rows_of_group = [self.row[t] for t in group]
            cells = np.flatnonzero(todo[rows_of_group].any(axis=0)) if group else np.array([], dtype=np.int64)
            if not cells.size:
                continue
            fresh, trust = scorer.scores(rows[cells], cols[cells], group)
            for k, row in enumerate(rows_of_group):
                needed = todo[row][cells]
                self.scores[row][cells[needed]] = fresh[k][needed]
                self.reliability[row][cells[needed]] = trust[k][needed]
        self.best, self.back, self.back_state = _viterbi(
            self.pred, self.scores, self.considered, self.state, gap_extension
        )

    def best_path(self) -> list[tuple[int, int, int]]:
        """(i, j, bead type) of each bead of the Viterbi path, by end point, in order."""
        band = self.band
        i, j = band.n, band.m
        state = int(np.argmax(self.best[band.offsets[-1] - 1]))
        path = []
        while i or j:
            cell = band.offsets[i] + j - band.lo[i]
            t, state = int(self.back[cell, state]), int(self.back_state[cell, state])
            path.append((i, j, t))
            di, dj = self.types[t]
            i, j = i - di, j - dj
        return path[::-1]

    def beads(self, path: Sequence[tuple[int, int, int]]) -> list[Bead]:
        total = _forward(self.pred, self.scores, self.state, self.gap_extension)
        rest = _backward(self.pred, self.scores, self.state, self.gap_extension)
        band = self.band
        log_z = np.logaddexp.reduce(total[band.offsets[-1] - 1])
        beads = []
        for i, j, t in path:
            di, dj = self.types[t]
            end = band.offsets[i] + j - band.lo[i]
            row = self.row[t]
            log_posterior = _arriving(total, self.pred[row][end], self.state[row], self.gap_extension)
            log_posterior += self.scores[row][end] + rest[end, self.state[row]] - log_z
            confidence = min(1.0, math.exp(log_posterior)) * float(self.reliability[row][end])
            beads.append(Bead(tuple(range(i - di, i)), tuple(range(j - dj, j)), confidence))
        return beads


@numba.njit(cache=True)
def _logaddexp(a: float, b: float) -> float:  # pragma: no cover - compiled
    if a < b:
        a, b = b, a
    return a if b == -np.inf else a + math.log1p(math.exp(b - a))


@numba.njit(cache=True)
def _cells(
    lo: Cells,
    hi: Cells,
    offsets: Cells,
    types: Cells,
    large: npt.NDArray[np.bool_],
    near_low: Cells,
    near_high: Cells,
    earlier_lo: Cells,
    earlier_hi: Cells,
    earlier_offsets: Cells,
    earlier_scores: Scores,
    earlier_reliability: Scores,
    earlier_row: Cells,
) -> tuple[Cells, Cells, Cells, Scores, Scores, npt.NDArray[np.bool_]]:  # pragma: no cover - compiled
    """A band's cells (i, j), and per bead type (``types``, one row each): bead starts ``pred`` (n_cells where
    a bead would start outside the band, or is large and not wanted there), the scores and reliabilities the
    earlier band already has (-inf and 0 elsewhere; ``earlier_row``: the type's row there, -1 if none), and
    which beads still need scoring (``todo``: large types only within :data:`NEAR` of ``near``).

    Empty ``near_low`` means no large beads; empty ``earlier_lo`` means no earlier band."""
    n = len(lo) - 1
    n_cells, n_types = offsets[-1], len(types)
    rows = np.empty(n_cells, dtype=np.int64)
    cols = np.empty(n_cells, dtype=np.int64)
    pred = np.empty((n_types, n_cells), dtype=np.int64)
    scores = np.empty((n_types, n_cells + 1))
    scores[:, n_cells] = -np.inf
    reliability = np.empty((n_types, n_cells))
    todo = np.empty((n_types, n_cells), dtype=np.bool_)
    for i in range(n + 1):
        for j in range(lo[i], hi[i] + 1):
            c = offsets[i] + j - lo[i]
            rows[c], cols[c] = i, j
            old = -1
            if len(earlier_lo) and earlier_lo[i] <= j <= earlier_hi[i]:
                old = earlier_offsets[i] + j - earlier_lo[i]
            close = len(near_low) > 0 and near_low[i] - NEAR <= j <= near_high[i] + NEAR
            for t in range(n_types):
                start_i, start_j = i - types[t, 0], j - types[t, 1]
                start = n_cells
                if start_i >= 0 and lo[start_i] <= start_j <= hi[start_i] and (close or not large[t]):
                    start = offsets[start_i] + start_j - lo[start_i]
                pred[t, c] = start
                scores[t, c], reliability[t, c], todo[t, c] = -np.inf, 0.0, False
                if start == n_cells:
                    continue
                known = earlier_row[t]
                if old >= 0 and known >= 0 and np.isfinite(earlier_scores[known, old]):
                    scores[t, c], reliability[t, c] = earlier_scores[known, old], earlier_reliability[known, old]
                else:
                    todo[t, c] = True
    return rows, cols, pred, scores, reliability, todo


def _arriving(total: Scores, start: int, state: int, gap_extension: float) -> float:
    """log of the weight of the paths reaching cell ``start``, each with the extension a bead leaving that
    cell in ``state`` earns after it (a gap after a gap on the same side)."""
    weights = total[start].copy()
    if state:
        weights[state] += gap_extension
    return float(np.logaddexp.reduce(weights))


@numba.njit(cache=True)
def _viterbi(
    pred: Cells, scores: Scores, bead_types: Cells, state: Cells, gap_extension: float
) -> tuple[Scores, Cells, Cells]:  # pragma: no cover - compiled
    """Per cell and path state (0: the last bead matched, 1: it was a 1-0, 2: a 0-1): Viterbi scores and
    back-pointers (the bead type of the row, ``bead_types[row]``, and the state it left).

    Cells are numbered row by row, so every bead's start precedes its end; cell 0 is the origin. A matched
    bead leaves any state alike, so it reads each cell's best over states (``top``)."""
    n_rows, n_cells = pred.shape
    best = np.full((n_cells + 1, 3), -np.inf)
    top = np.full(n_cells + 1, -np.inf)
    top_state = np.zeros(n_cells + 1, dtype=np.int64)
    back = np.full((n_cells, 3), -1, dtype=np.int64)
    back_state = np.zeros((n_cells, 3), dtype=np.int64)
    best[0, 0] = top[0] = 0.0
    for c in range(n_cells):
        for t in range(n_rows):
            start = pred[t, c]
            if start == n_cells:
                continue
            to, weight = state[t], scores[t, c]
            if to == 0:
                if top[start] + weight > best[c, 0]:
                    best[c, 0], back[c, 0], back_state[c, 0] = top[start] + weight, bead_types[t], top_state[start]
                continue
            for before in range(3):
                via = best[start, before] + weight + (gap_extension if before == to else 0.0)
                if via > best[c, to]:
                    best[c, to], back[c, to], back_state[c, to] = via, bead_types[t], before
        if c:
            for s in range(3):
                if best[c, s] > top[c]:
                    top[c], top_state[c] = best[c, s], s
    return best, back, back_state


@numba.njit(cache=True)
def _forward(pred: Cells, scores: Scores, state: Cells, gap_extension: float) -> Scores:  # pragma: no cover
    """Per cell and path state, log of the total weight of the paths from the origin to there: only for the
    band whose path is kept (the posteriors), as the passes before need only :func:`_viterbi`.

    A matched bead reads the sum over the states of its start (``anyway``)."""
    n_rows, n_cells = pred.shape
    total = np.full((n_cells + 1, 3), -np.inf)
    anyway = np.full(n_cells + 1, -np.inf)
    total[0, 0] = anyway[0] = 0.0
    for c in range(n_cells):
        for t in range(n_rows):
            start = pred[t, c]
            if start == n_cells:
                continue
            to, weight = state[t], scores[t, c]
            if to == 0:
                total[c, 0] = _logaddexp(total[c, 0], anyway[start] + weight)
                continue
            extended = total[start, to] + gap_extension
            others = _logaddexp(total[start, 0], total[start, 3 - to])
            total[c, to] = _logaddexp(total[c, to], _logaddexp(others, extended) + weight)
        if c:
            for s in range(3):
                anyway[c] = _logaddexp(anyway[c], total[c, s])
    return total


@numba.njit(cache=True)
def _backward(pred: Cells, scores: Scores, state: Cells, gap_extension: float) -> Scores:  # pragma: no cover
    """Per cell and path state, log of the total weight of the paths from there to the last cell, (n, m).

    A matched bead adds the same weight to every state of its start (``common``), a gap bead its own."""
    n_rows, n_cells = pred.shape
    rest = np.full((n_cells + 1, 3), -np.inf)
    common = np.full(n_cells + 1, -np.inf)
    rest[n_cells - 1, :] = 0.0
    for c in range(n_cells - 1, -1, -1):  # a bead ending at c adds its weight to the cell where it starts
        for s in range(3):  # every bead starting at c ends later, so the weights from c are complete
            rest[c, s] = _logaddexp(rest[c, s], common[c])
        for t in range(n_rows):
            start = pred[t, c]
            if start == n_cells:
                continue
            to, weight = state[t], scores[t, c]
            if to == 0:
                common[start] = _logaddexp(common[start], weight + rest[c, 0])
                continue
            for before in range(3):
                extension = gap_extension if before == to else 0.0
                rest[start, before] = _logaddexp(rest[start, before], weight + extension + rest[c, to])
    return rest
