"""Character n-gram matches between sentence spans of two texts, for chrF over every candidate bead.

chrF needs, per order k = 1..6, the clipped match count sum_g min(c_hyp(g), c_ref(g)) of the two
spans' character k-grams (whitespace removed, so n-grams cross the join of two sentences). An
aligner asks for it on ~100 span pairs per sentence, most of them unrelated. Intersecting
every pair's n-gram sets costs ~700 element steps a pair; here the work is proportional to the
n-grams a pair *shares*, which for unrelated sentences is a few dozen beyond the unigrams:

* every k-gram of both texts gets a dense integer id (exact: the id of a k-gram is that of the
  pair (id of its (k-1)-gram prefix, its last character), through a hash table);
* the reference side is indexed: per k-gram id, its *items*, one per (first sentence, last
  sentence) it occurs in, with a count, in text order;
* for a hypothesis span, its k-grams are counted in a table; for each distinct one, the items
  in the band's window are walked and added to the count of every reference span of the
  requested lengths that contains them; the span's match is then min(hypothesis count, span
  count). A k-gram crossing a sentence join is an item whose first and last sentences differ,
  so it counts only for spans holding both: the statistics are those of the joined text.

The loops are compiled with numba (``cache=True``: compiled once per installation, in
``__pycache__``); the array set-up and chrF arithmetic are numpy.
"""

from __future__ import annotations

from collections.abc import Sequence

import numba
import numpy as np
import numpy.typing as npt

MAX_ORDER = 6
"""chrF's character n-gram order (sacrebleu's default)."""

Ints = npt.NDArray[np.int64]
Ids = npt.NDArray[np.int32]


class SpanMatcher:
    """Clipped character n-gram matches between hypothesis spans and reference spans, in bulk."""

    def __init__(self, hypotheses: Sequence[str], references: Sequence[str]) -> None:
        hyp_chars = ["".join(s.split()) for s in hypotheses]
        ref_chars = ["".join(s.split()) for s in references]
        self.hyp_offsets = _offsets(hyp_chars)
        self.ref_offsets = _offsets(ref_chars)
        hyp_codes, ref_codes = _code_points("".join(hyp_chars)), _code_points("".join(ref_chars))
        alphabet = np.zeros(0x110000, dtype=np.int64)
        alphabet[hyp_codes] = alphabet[ref_codes] = 1
        dense = np.cumsum(alphabet) - 1
        self.hyp_ids, self.ref_ids, vocabulary = _gram_ids(dense[hyp_codes], dense[ref_codes], MAX_ORDER)
        ref_sentence = np.repeat(np.arange(len(references), dtype=np.int64), np.diff(self.ref_offsets))
        self.items = _reference_items(self.ref_ids, ref_sentence, vocabulary)
        self.table = np.zeros(int(vocabulary.max(initial=0)), dtype=np.int64)
        # per k-gram, where its items in the last window began: a hint (windows mostly advance), kept across calls
        self.cursor = self.items[0].copy()

    def matches(self, i: Ints, j: Ints, bead_types: Sequence[tuple[int, int]]) -> npt.NDArray[np.int64]:
        """Per bead type t and cell k, the matches of orders 1..6 between hypothesis span
        [i[k] - di, i[k]) and reference span [j[k] - dj, j[k]); cells sorted by i; spans that do
        not exist (negative start) or are empty on a side get 0."""
        types = np.asarray(bead_types, dtype=np.int64).reshape(-1, 2)
        out = np.zeros((len(types), len(i), MAX_ORDER), dtype=np.int64)
        bounds, items = self.items
        _span_matches(
            np.ascontiguousarray(i, dtype=np.int64),
            np.ascontiguousarray(j, dtype=np.int64),
            types,
            self.hyp_ids,
            self.hyp_offsets,
            bounds,
            items,
            self.cursor,
            self.table,
            out,
        )
        return out


def _offsets(chars: Sequence[str]) -> Ints:
    return np.concatenate(([0], np.cumsum([len(c) for c in chars], dtype=np.int64)))


def _code_points(text: str) -> Ints:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)


@numba.njit(cache=True)
def _gram_ids(hyp: Ints, ref: Ints, max_order: int) -> tuple[Ids, Ids, Ints]:  # pragma: no cover - compiled
    """Dense ids of the k-grams starting at each position, numbered over the reference's k-grams: -1 where fewer
    than k characters remain, or (hypothesis) where the reference has no such k-gram, which then cannot match."""
    n_hyp, n_ref = len(hyp), len(ref)
    hyp_ids = np.full((max_order, n_hyp), -1, dtype=np.int32)
    ref_ids = np.full((max_order, n_ref), -1, dtype=np.int32)
    vocabulary = np.zeros(max_order, dtype=np.int64)
    alphabet = 1 + max(hyp.max() if n_hyp else 0, ref.max() if n_ref else 0)
    hyp_ids[0, :] = hyp
    ref_ids[0, :] = ref
    vocabulary[0] = alphabet
    capacity = 1
    while capacity < 2 * n_ref + 2:
        capacity *= 2
    table = np.empty((capacity, 2), dtype=np.int64)  # (key, id) side by side: one cache line per probe
    for order in range(1, max_order):
        table[:, 0] = -1
        size = 0
        for side in range(2):  # the reference's k-grams get ids; the hypothesis's are looked up
            chars, ids = (ref, ref_ids) if side == 0 else (hyp, hyp_ids)
            for t in range(len(chars) - order):
                prefix = ids[order - 1, t]
                if prefix < 0:
                    continue
                key = np.int64(prefix) * alphabet + chars[t + order]
                mixed = (key ^ (key >> 31)) * 0x5851F42D4C957F2D
                slot = (mixed ^ (mixed >> 32)) & (capacity - 1)
                while table[slot, 0] != -1 and table[slot, 0] != key:
                    slot = (slot + 1) & (capacity - 1)
                if table[slot, 0] == key:
                    ids[order, t] = table[slot, 1]
                elif side == 0:
                    table[slot, 0], table[slot, 1] = key, size
                    ids[order, t] = size
                    size += 1
        vocabulary[order] = size
    return hyp_ids, ref_ids, vocabulary


@numba.njit(cache=True)
def _reference_items(ref_ids: Ids, sentence: Ints, vocabulary: Ints) -> tuple[Ids, Ids]:  # pragma: no cover
    """Per order and k-gram id, its items in text order: (first sentence, last sentence, count) rows of ``items``.

    The items of (order, id) are items[bounds[order, id] : bounds[order, id + 1]]."""
    max_order, length = ref_ids.shape
    width = vocabulary.max() + 1 if max_order else 1
    bounds = np.zeros((max_order, width), dtype=np.int32)
    items = np.empty((max_order * length, 3), dtype=np.int32)
    last = np.full(width, -1, dtype=np.int64)  # the gram's latest item, while filling
    base = 0
    for order in range(max_order):
        ids = ref_ids[order]
        # count items (runs of one gram with the same first and last sentence), then place them
        sizes = np.zeros(width, dtype=np.int64)
        last[:] = -1
        for t in range(length):
            g = ids[t]
            if g >= 0:
                key = sentence[t] * length + sentence[t + order]
                if last[g] != key:
                    sizes[g] += 1
                    last[g] = key
        bounds[order, 0] = base
        for g in range(1, width):
            bounds[order, g] = bounds[order, g - 1] + sizes[g - 1]
        fill = bounds[order].copy()
        for t in range(length):
            g = ids[t]
            if g < 0:
                continue
            a, b = sentence[t], sentence[t + order]
            slot = fill[g]
            if slot > bounds[order, g] and items[slot - 1, 0] == a and items[slot - 1, 1] == b:
                items[slot - 1, 2] += 1
            else:
                items[slot, 0], items[slot, 1], items[slot, 2] = a, b, 1
                fill[g] += 1
        base = bounds[order, width - 1] + sizes[width - 1]
    return bounds, items[:base]


@numba.njit(cache=True)
def _span_matches(
    cell_i: Ints,
    cell_j: Ints,
    types: Ints,
    hyp_ids: Ids,
    hyp_offsets: Ints,
    bounds: Ids,
    items: Ids,
    cursor: Ids,
    table: Ints,
    out: Ints,
) -> None:  # pragma: no cover - compiled
    """Fill out[t, c, order] (see :meth:`SpanMatcher.matches`), one cell row (one i) at a time.

    The hypothesis spans ending at i are nested (sentence i-1, then i-2 with it, ...), so each of
    their distinct k-grams is counted per span length, its reference items in the row's window are
    walked once, and the clipped match is added to every (hypothesis, reference) span pair."""
    max_order = hyp_ids.shape[0]
    n_types = len(types)
    cell_start, cell_stop = 0, len(cell_i)
    max_dj, max_di = 1, 0
    for t in range(n_types):
        max_dj = max(max_dj, types[t, 1])
        max_di = max(max_di, types[t, 0])
    depth = np.zeros(max_di + 1, dtype=np.int64)  # per hypothesis span length, the longest reference span wanted
    for t in range(n_types):
        if types[t, 1] > 0 and types[t, 0] > 0:
            depth[types[t, 0]] = max(depth[types[t, 0]], types[t, 1])
    widest, longest = 1, 1
    row_start = cell_start
    while row_start < cell_stop:  # the widest row and longest hypothesis span, for the scratch buffers
        i = cell_i[row_start]
        row_end = row_start
        while row_end < cell_stop and cell_i[row_end] == i:
            row_end += 1
        widest = max(widest, cell_j[row_end - 1] - cell_j[row_start] + max_dj)
        longest = max(longest, hyp_offsets[i] - hyp_offsets[max(i - max_di, 0)] + 1)
        row_start = row_end
    n_slots = widest * max_dj
    span_count = np.zeros(n_slots, dtype=np.int64)
    span_match = np.zeros((max_di + 1, n_slots, max_order), dtype=np.int64)
    touched = np.empty(n_slots, dtype=np.int64)
    distinct = np.empty(longest, dtype=np.int64)
    counts = np.zeros((longest, max_di + 1), dtype=np.int64)  # per distinct gram and hypothesis span length
    row_start = cell_start
    while row_start < cell_stop:
        i = cell_i[row_start]
        row_end = row_start
        while row_end < cell_stop and cell_i[row_end] == i:
            row_end += 1
        j_low, j_high = cell_j[row_start], cell_j[row_end - 1]
        window = max(0, j_low - max_dj)
        top = 0  # the longest hypothesis span wanted here
        for di in range(1, min(i, max_di) + 1):
            if depth[di] > 0:
                top = di
        reach = 0
        for di in range(1, top + 1):
            reach = max(reach, depth[di])
        span_match[: top + 1, :, :] = 0
        end = hyp_offsets[i]
        for order in range(max_order):
            n_distinct = 0
            for step in range(1, top + 1):  # span [i - step, i): add the k-grams starting in sentence i - step
                for pos in range(hyp_offsets[i - step], min(hyp_offsets[i - step + 1], end - order)):
                    g = hyp_ids[order, pos]
                    if g < 0:  # not in the reference
                        continue
                    u = table[g] - 1
                    if u < 0:
                        u = n_distinct
                        n_distinct += 1
                        table[g] = u + 1
                        distinct[u] = g
                        counts[u, : top + 1] = 0
                    counts[u, step] += 1
            for u in range(n_distinct):
                g = distinct[u]
                table[g] = 0
                for step in range(2, top + 1):
                    counts[u, step] += counts[u, step - 1]
                first, stop = bounds[order, g], bounds[order, g + 1]
                item = cursor[order, g]
                if item > first and items[item - 1, 0] >= window:  # the window moved back: search again
                    lo, hi = first, item
                    while lo < hi:
                        mid = (lo + hi) // 2
                        if items[mid, 0] >= window:
                            hi = mid
                        else:
                            lo = mid + 1
                    item = lo
                while item < stop and items[item, 0] < window:
                    item += 1
                cursor[order, g] = item
                n_touched = 0
                while item < stop and items[item, 0] < j_high:
                    a, b, count = items[item, 0], items[item, 1], items[item, 2]
                    for d in range(max(b - a + 1, 1), reach + 1):
                        for j0 in range(max(b - d + 1, window), a + 1):
                            slot = (j0 - window) * max_dj + d - 1
                            if span_count[slot] == 0:
                                touched[n_touched] = slot
                                n_touched += 1
                            span_count[slot] += count
                    item += 1
                for k in range(n_touched):
                    slot = touched[k]
                    d = slot % max_dj + 1
                    for di in range(1, top + 1):
                        if counts[u, di] > 0 and d <= depth[di]:
                            span_match[di, slot, order] += min(counts[u, di], span_count[slot])
                    span_count[slot] = 0
        for t in range(n_types):
            di, dj = types[t, 0], types[t, 1]
            if di == 0 or dj == 0 or di > top:
                continue
            for c in range(row_start, row_end):
                j0 = cell_j[c] - dj
                if j0 >= window:
                    out[t, c, :] = span_match[di, (j0 - window) * max_dj + dj - 1, :]
        row_start = row_end


def chrf_from_matches(
    matches: npt.NDArray[np.int64], hyp_chars: Ints, ref_chars: Ints, beta: float
) -> npt.NDArray[np.float64]:
    """sacrebleu's chrF (effective order: orders with n-grams on both sides) from match counts, in [0, 1].

    The float operations are those of a sentence-by-sentence computation, in the same order."""
    precision = np.zeros(matches.shape[:-1])
    recall = np.zeros(matches.shape[:-1])
    orders = np.zeros(matches.shape[:-1])
    for k in range(MAX_ORDER):
        n_hyp, n_ref = hyp_chars - k, ref_chars - k
        present = (n_hyp > 0) & (n_ref > 0)
        precision += np.where(present, matches[..., k] / np.where(present, n_hyp, 1), 0.0)
        recall += np.where(present, matches[..., k] / np.where(present, n_ref, 1), 0.0)
        orders += present
    some = precision > 0
    safe_orders = np.where(some, orders, 1.0)
    precision, recall = precision / safe_orders, recall / safe_orders
    factor = beta**2
    denominator = np.where(some, factor * precision + recall, 1.0)
    return np.where(some, (1 + factor) * precision * recall / denominator, 0.0)
