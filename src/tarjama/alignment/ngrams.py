"""Character n-gram matches between sentence spans of two texts, for chrF over every candidate bead.

chrF needs, per order k = 1..6, the clipped match count sum_g min(c_hyp(g), c_ref(g)) of the two
spans' character k-grams (whitespace removed, so n-grams cross the join of two sentences). An
aligner asks for it on ~100 span pairs per sentence, most of them unrelated. Intersecting
every pair's n-gram sets costs ~700 element steps a pair; here the work is proportional to the
n-grams a pair *shares*, which for unrelated sentences is a few dozen beyond the unigrams:

* every k-gram of both texts gets a dense integer id (exact: the id of a k-gram is that of the
  pair (id of its (k-1)-gram prefix, its last character), through a hash table);
* for a block of consecutive rows of cells, the reference k-grams in the block's window are
  indexed through an array over all k-gram ids (ids of neighbouring text are close, so it stays
  in cache; reset after the block): per k-gram, its *items*, one per (first
  sentence, last sentence) it occurs in, with a count, in text order;
* for a hypothesis span, each distinct k-gram is looked up there and the items in the row's
  window are listed by first sentence; a reference span ending at j is grown backwards from
  j - 1 a sentence at a time, and each item it takes in adds min(hypothesis count, span count)
  minus its previous value. A k-gram crossing a sentence join is an item whose first and last
  sentences differ, so it counts only for spans holding both: the statistics are those of the
  joined text.

Measured at 16,000 sentences (the first pass's 291k cells of the six classic bead types): ~4 us
a cell on a loaded 2-core machine (~5.5 us with a hash table per block and a count per (k-gram,
span) pair), against ~230 us for Python sets of n-gram strings.

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
        # each character's rank among the characters of both texts (not a cumulative sum over all
        # 1.1M code points: that took 2.7 ms, longer than the rest of the set-up of an article)
        _, dense = np.unique(np.concatenate([hyp_codes, ref_codes]), return_inverse=True)
        dense = dense.astype(np.int64, copy=False)
        hyp_dense, ref_dense = dense[: len(hyp_codes)], dense[len(hyp_codes) :]
        self.hyp_ids, self.ref_ids, n_ids = _gram_ids(hyp_dense, ref_dense, MAX_ORDER)
        self.window_entry = np.full(n_ids, -1, dtype=np.int32)  # k-gram id -> window index entry; -1 between calls
        self.ref_side = self.ref_ids, self.ref_offsets, _sentence_of(self.ref_offsets)
        self.hyp_side = self.hyp_ids, self.hyp_offsets, _sentence_of(self.hyp_offsets)

    def matches(self, i: Ints, j: Ints, bead_types: Sequence[tuple[int, int]]) -> npt.NDArray[np.int32]:
        """Per bead type t and cell k, the matches of orders 1..6 between hypothesis span
        [i[k] - di, i[k]) and reference span [j[k] - dj, j[k]); cells sorted by i; spans that do
        not exist (negative start) or are empty on a side get 0.

        Beads of more than :data:`SWAP_ABOVE` hypothesis sentences are counted from the reference
        side (matches are symmetric): the side whose spans are walked sentence by sentence
        should be the short one."""
        types = np.asarray(bead_types, dtype=np.int64).reshape(-1, 2)
        out = np.zeros((len(types), len(i), MAX_ORDER), dtype=np.int32)
        i, j = np.ascontiguousarray(i, dtype=np.int64), np.ascontiguousarray(j, dtype=np.int64)
        swapped = types[:, 0] > np.maximum(types[:, 1], SWAP_ABOVE)
        if (~swapped).any():
            direct = np.zeros((int((~swapped).sum()), len(i), MAX_ORDER), dtype=np.int32)
            _span_matches(
                i, j, types[~swapped], self.hyp_ids, self.hyp_offsets, *self.ref_side, self.window_entry, direct
            )
            out[~swapped] = direct
        if swapped.any():
            order = np.lexsort((i, j))
            reverse = np.zeros((int(swapped.sum()), len(i), MAX_ORDER), dtype=np.int32)
            _span_matches(
                j[order],
                i[order],
                types[swapped][:, ::-1].copy(),
                self.ref_ids,
                self.ref_offsets,
                *self.hyp_side,
                self.window_entry,
                reverse,
            )
            out[np.ix_(np.flatnonzero(swapped), order)] = reverse
        return out


def _sentence_of(offsets: Ints) -> Ints:
    """The sentence of each character position."""
    return np.repeat(np.arange(len(offsets) - 1, dtype=np.int64), np.diff(offsets))


def _offsets(chars: Sequence[str]) -> Ints:
    return np.concatenate(([0], np.cumsum([len(c) for c in chars], dtype=np.int64)))


def _code_points(text: str) -> Ints:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)


@numba.njit(cache=True)
def _gram_ids(hyp: Ints, ref: Ints, max_order: int) -> tuple[Ids, Ids, int]:  # pragma: no cover - compiled
    """Dense ids of the k-grams starting at each position, numbered over the reference's k-grams, one id space
    for all orders (a window's index is then a plain array), and the number of ids: -1 where fewer than k
    characters remain, or (hypothesis) where the reference has no such k-gram, which then cannot match."""
    n_hyp, n_ref = len(hyp), len(ref)
    hyp_ids = np.full((max_order, n_hyp), -1, dtype=np.int32)
    ref_ids = np.full((max_order, n_ref), -1, dtype=np.int32)
    alphabet = 1 + max(hyp.max() if n_hyp else 0, ref.max() if n_ref else 0)
    hyp_ids[0, :] = hyp
    ref_ids[0, :] = ref
    capacity = 1
    while capacity < 2 * n_ref + 2:
        capacity *= 2
    table = np.empty((capacity, 2), dtype=np.int64)  # (key, id) side by side: one cache line per probe
    size = alphabet  # ids of single characters are their codes
    for order in range(1, max_order):
        table[:, 0] = -1
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
    return hyp_ids, ref_ids, size


SWAP_ABOVE = 2
"""Hypothesis spans longer than this (and than their reference span) are counted from the reference side."""

BLOCK_ROWS = 32
"""Rows of cells whose reference windows share one local index (built once, probed by every row)."""

BLOCK_SENTENCES = 256
"""A block also ends before its window would cover more reference sentences than this."""


@numba.njit(cache=True)
def _span_matches(
    cell_i: Ints,
    cell_j: Ints,
    types: Ints,
    hyp_ids: Ids,
    hyp_offsets: Ints,
    ref_ids: Ids,
    ref_offsets: Ints,
    ref_sentence: Ints,
    window_entry: Ids,
    out: Ids,
) -> None:  # pragma: no cover - compiled
    """Fill out[t, c, order] (see :meth:`SpanMatcher.matches`).

    Rows of cells (one i each) are taken in blocks. For a block, the reference k-grams of its
    window are indexed (``window_entry``: k-gram id -> entry): per k-gram, its items (first sentence, last
    sentence, count) in text order. For a row, the hypothesis spans ending at i are nested
    (sentence i-1, then i-2 with it, ...): each k-gram of the longest is looked up once and counted
    per span length, and its items in the row's window are walked once into one list per first
    sentence. Then per cell (reference span end j) the reference span grows backwards a sentence
    at a time, and each item it takes in raises its k-gram's clipped match by what the added count
    brings below the hypothesis count: work per item of the spans, not per (k-gram, span) pair.
    Everything a row touches is in the block's index, which stays in cache."""
    max_order = hyp_ids.shape[0]
    n_cells, n_types = len(cell_i), len(types)
    max_dj, max_di = 1, 0
    for t in range(n_types):
        max_dj = max(max_dj, types[t, 1])
        max_di = max(max_di, types[t, 0])
    depth = np.zeros(max_di + 1, dtype=np.int64)  # per hypothesis span length, the longest reference span wanted
    for t in range(n_types):
        if types[t, 0] > 0 and types[t, 1] > 0:
            depth[types[t, 0]] = max(depth[types[t, 0]], types[t, 1])
    type_of = np.full((max_di + 1, max_dj + 1), -1, dtype=np.int64)  # matched bead types by (di, dj)
    for t in range(n_types):
        if types[t, 0] > 0 and types[t, 1] > 0:
            type_of[types[t, 0], types[t, 1]] = t
    row_starts = [0]
    for c in range(1, n_cells):
        if cell_i[c] != cell_i[c - 1]:
            row_starts.append(c)
    row_starts.append(n_cells)
    n_rows = len(row_starts) - 1
    longest = 1  # positions of the longest hypothesis span
    for r in range(n_rows):
        i = cell_i[row_starts[r]]
        longest = max(longest, hyp_offsets[i] - hyp_offsets[max(i - max_di, 0)] + 1)
    entry_of = np.empty(longest * max_order, dtype=np.int64)  # a row's distinct k-grams, as index entries
    counts = np.zeros((longest * max_order, max_di + 1), dtype=np.int64)  # their counts per span length
    block = 0
    while block < n_rows:
        # the block: rows block..stop-1, reference window [w0, w1)
        w0 = max(0, cell_j[row_starts[block]] - max_dj)
        w1 = cell_j[row_starts[block + 1] - 1]
        stop = block + 1
        while stop < n_rows and stop - block < BLOCK_ROWS:
            low = max(0, cell_j[row_starts[stop]] - max_dj)
            high = cell_j[row_starts[stop + 1] - 1]
            if max(w1, high) - min(w0, low) > BLOCK_SENTENCES or low > w1:  # too wide, or no sentence shared
                break
            w0, w1 = min(w0, low), max(w1, high)
            stop += 1
        # index the window's k-grams: id -> items; a k-gram belongs if it lies in sentences [w0, w1)
        p0, p1 = ref_offsets[w0], ref_offsets[w1]
        n_entries = 0
        entry_gram = np.empty(max_order * (p1 - p0) + 1, dtype=np.int64)
        entry_items = np.zeros(max_order * (p1 - p0) + 1, dtype=np.int64)
        last = np.full(max_order * (p1 - p0) + 1, -1, dtype=np.int64)
        for order in range(max_order):
            for t in range(p0, p1 - order):
                g = ref_ids[order, t]
                if g < 0:  # (counted from the reference side) a k-gram the other side lacks
                    continue
                e = window_entry[g]
                if e < 0:
                    e = n_entries
                    window_entry[g] = e
                    entry_gram[e] = g
                    n_entries += 1
                run = ref_sentence[t] * (w1 + 1) + ref_sentence[t + order]
                if last[e] != run:
                    entry_items[e + 1] += 1
                    last[e] = run
        for e in range(n_entries):
            entry_items[e + 1] += entry_items[e]
        item_first = np.empty(entry_items[n_entries], dtype=np.int64)
        item_last = np.empty(entry_items[n_entries], dtype=np.int64)
        item_count = np.zeros(entry_items[n_entries], dtype=np.int64)
        fill = entry_items[:n_entries].copy()
        for order in range(max_order):
            for t in range(p0, p1 - order):
                if ref_ids[order, t] < 0:
                    continue
                e = window_entry[ref_ids[order, t]]
                a, b = ref_sentence[t], ref_sentence[t + order]
                k = fill[e]
                if k > entry_items[e] and item_first[k - 1] == a and item_last[k - 1] == b:
                    item_count[k - 1] += 1
                else:
                    item_first[k], item_last[k], item_count[k] = a, b, 1
                    fill[e] += 1
        seen = np.full(n_entries, -1, dtype=np.int64)  # per entry, its place among the row's distinct k-grams
        cursor = entry_items[:n_entries].copy()
        n_items = entry_items[n_entries]
        # a row's items that hold one of its hypothesis k-grams, in one list per first sentence
        head = np.full(w1 - w0 + 1, -1, dtype=np.int64)
        item_next = np.empty(n_items, dtype=np.int64)
        item_distinct = np.empty(n_items, dtype=np.int64)
        item_ends = np.empty(n_items, dtype=np.int64)
        item_adds = np.empty(n_items, dtype=np.int64)
        in_span = np.zeros(longest, dtype=np.int64)  # per distinct k-gram, its count in the reference span
        span_of = np.full(longest, -1, dtype=np.int64)  # the (cell, order) in_span counts for, else 0
        matched = np.zeros(max_di + 1, dtype=np.int64)
        for r in range(block, stop):
            row_start, row_end = row_starts[r], row_starts[r + 1]
            i = cell_i[row_start]
            j_high = cell_j[row_end - 1]
            window = max(0, cell_j[row_start] - max_dj)
            top = 0  # the longest hypothesis span wanted here
            for di in range(1, min(i, max_di) + 1):
                if depth[di] > 0:
                    top = di
            reach = 0  # the longest reference span wanted by a hypothesis span of at most top sentences
            for di in range(1, top + 1):
                reach = max(reach, depth[di])
            end = hyp_offsets[i]
            for order in range(max_order):
                n_distinct = 0
                for step in range(1, top + 1):  # span [i - step, i): add the k-grams starting in sentence i - step
                    for pos in range(hyp_offsets[i - step], min(hyp_offsets[i - step + 1], end - order)):
                        g = hyp_ids[order, pos]
                        if g < 0:  # not in the reference at all
                            continue
                        e = window_entry[g]
                        if e < 0:  # not in this window
                            continue
                        u = seen[e]
                        if u < 0:
                            u = n_distinct
                            n_distinct += 1
                            seen[e] = u
                            entry_of[u] = e
                            counts[u, : top + 1] = 0
                        counts[u, step] += 1
                n_row_items = 0
                for u in range(n_distinct):
                    e = entry_of[u]
                    seen[e] = -1
                    for step in range(2, top + 1):
                        counts[u, step] += counts[u, step - 1]
                    first = cursor[e]  # rows come in order, so a k-gram's first item in the window moves forward
                    while first > entry_items[e] and item_first[first - 1] >= window:
                        first -= 1
                    while first < fill[e] and item_first[first] < window:
                        first += 1
                    cursor[e] = first
                    for k in range(first, fill[e]):
                        a = item_first[k]
                        if a >= j_high:
                            break
                        item_distinct[n_row_items] = u
                        item_ends[n_row_items] = item_last[k] + 1
                        item_adds[n_row_items] = item_count[k]
                        item_next[n_row_items] = head[a - w0]
                        head[a - w0] = n_row_items
                        n_row_items += 1
                # per cell (span end j), grow the reference span backwards a sentence at a time: a k-gram's
                # clipped match rises by what its added count brings below the hypothesis count
                for c in range(row_start, row_end):
                    j = cell_j[c]
                    span = c * max_order + order
                    matched[:] = 0
                    longest_span = min(reach, j - window)
                    for dj in range(1, longest_span + 1):
                        k = head[j - dj - w0]
                        while k >= 0:
                            if item_ends[k] <= j:
                                u = item_distinct[k]
                                before = in_span[u] if span_of[u] == span else 0
                                span_of[u] = span
                                after = before + item_adds[k]
                                in_span[u] = after
                                for di in range(1, top + 1):
                                    h = counts[u, di]
                                    if h > before:
                                        matched[di] += min(h, after) - before
                            k = item_next[k]
                        for di in range(1, top + 1):
                            t = type_of[di, dj]
                            if t >= 0:
                                out[t, c, order] = matched[di]
                head[window - w0 : j_high - w0 + 1] = -1
        for e in range(n_entries):
            window_entry[entry_gram[e]] = -1
        block = stop


def chrf_from_matches(
    matches: npt.NDArray[np.int32], hyp_chars: Ints, ref_chars: Ints, beta: float
) -> npt.NDArray[np.float64]:
    """sacrebleu's chrF (effective order: orders with n-grams on both sides) from match counts, in [0, 1].

    The float operations are those of a sentence-by-sentence computation, in the same order (compiled:
    numpy's temporaries cost more than the arithmetic)."""
    shape = matches.shape[:-1]
    hyp, ref = (np.broadcast_to(np.asarray(c, dtype=np.int64), shape).ravel() for c in (hyp_chars, ref_chars))
    return _chrf(matches.reshape(-1, MAX_ORDER), hyp, ref, float(beta**2)).reshape(shape)


@numba.njit(cache=True)
def _chrf(matches: Ids, hyp_chars: Ints, ref_chars: Ints, factor: float) -> npt.NDArray[np.float64]:  # pragma: no cover
    out = np.zeros(len(matches))
    for c in range(len(matches)):
        precision = recall = orders = 0.0
        for k in range(MAX_ORDER):
            n_hyp, n_ref = hyp_chars[c] - k, ref_chars[c] - k
            if n_hyp > 0 and n_ref > 0:
                precision += matches[c, k] / n_hyp
                recall += matches[c, k] / n_ref
                orders += 1.0
        if precision > 0:
            precision, recall = precision / orders, recall / orders
            out[c] = (1 + factor) * precision * recall / (factor * precision + recall)
    return out


def part_recall(
    matches: npt.NDArray[np.integer], part_chars: Ints, other_chars: Ints, first: int = 1
) -> npt.NDArray[np.float64]:
    """Character n-gram recall of a sentence in another (orders ``first``..6 averaged; from 1 as chrF's recall).
    Matches summed over several sentences of the other side are capped at the sentence's own n-grams."""
    return _part_recall(matches, np.asarray(part_chars, dtype=np.int64), np.asarray(other_chars, dtype=np.int64), first)


@numba.njit(cache=True)
def _part_recall(
    matches: npt.NDArray[np.integer], part_chars: Ints, other_chars: Ints, first: int
) -> npt.NDArray[np.float64]:  # pragma: no cover - compiled
    out = np.empty(len(part_chars))
    for c in range(len(part_chars)):
        total = orders = 0.0
        for k in range(first - 1, MAX_ORDER):
            grams = part_chars[c] - k
            if grams > 0 and other_chars[c] - k > 0:
                total += min(matches[c, k], grams) / grams
                orders += 1.0
        out[c] = total / max(orders, 1.0)
    return out
