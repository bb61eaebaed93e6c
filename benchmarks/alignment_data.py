"""Alignment test sets with known gold beads, built from line-aligned NTREX.

The true sentence alignment of a real article pair is unknown, but NTREX is
line-aligned: perturbing its lines in known ways (merging, deleting,
re-splitting) yields real text whose gold beads are known, for the aligner's
tests and for benchmarks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from itertools import groupby
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLD = REPO / "corpus" / "ntrex128-dev" / "gold"
MT_FIXTURE = REPO / "tests" / "fixtures" / "ntrex128-dev.mt.en.txt"

Pair = tuple[str, str]  # (MT, reference) of one source line
GoldBead = tuple[tuple[int, ...], tuple[int, ...]]  # (MT indices, reference indices)
_Unit = tuple[list[str], list[str]]  # the MT and reference sentences of one gold bead


def load_documents(mt_path: Path | None = MT_FIXTURE, source_lines: Sequence[str] | None = None) -> list[list[Pair]]:
    """NTREX (MT, reference) line pairs, one list per document.

    Uses ``source_lines`` when given, else the real MT at ``mt_path`` when it exists, otherwise ``stand_in_mt``.
    """
    reference = (GOLD / "ntrex128-dev.en.lines").read_text(encoding="utf-8").splitlines()
    docids = (GOLD / "ntrex128-dev.docids.lines").read_text(encoding="utf-8").splitlines()
    if source_lines is not None:
        mt = list(source_lines)
    elif mt_path is not None and mt_path.exists():
        mt = mt_path.read_text(encoding="utf-8").splitlines()
    else:
        mt = stand_in_mt(reference, seed=0)
    if not len(mt) == len(reference) == len(docids):
        raise ValueError(f"{mt_path}: {len(mt)} lines, expected {len(reference)}")
    rows = zip(docids, mt, reference)
    return [[(m, r) for _, m, r in group] for _, group in groupby(rows, key=lambda row: row[0])]


def load_arabic_documents() -> list[list[Pair]]:
    """NTREX (Arabic source, reference) line pairs, one list per document: the same documents as
    :func:`load_documents`, with the Arabic in place of the MT."""
    arabic = (GOLD / "ntrex128-dev.ar.lines").read_text(encoding="utf-8").splitlines()
    return load_documents(None, source_lines=arabic)


def stand_in_mt(reference: Sequence[str], seed: int, drop: float = 0.3, swap: float = 0.05) -> list[str]:
    """A crude MT substitute: each reference line with ~``drop`` of its words removed and a few adjacent words swapped."""
    rng = random.Random(seed)
    noisy = []
    for line in reference:
        words = [w for w in line.split() if rng.random() >= drop] or line.split()[:1]
        for k in range(len(words) - 1):
            if rng.random() < swap:
                words[k], words[k + 1] = words[k + 1], words[k]
        noisy.append(" ".join(words))
    return noisy


def _merge_reference(a: Pair, b: Pair) -> _Unit:
    return [a[0], b[0]], [f"{a[1]} {b[1]}"]


def _merge_source(a: Pair, b: Pair) -> _Unit:
    return [f"{a[0]} {b[0]}"], [a[1], b[1]]


def _resplit_reference(a: Pair, b: Pair) -> _Unit:
    """2-2: the reference splits the same two sentences at another point (half of the shorter one moves across)."""
    left, right = a[1].split(), b[1].split()
    if len(left) < 2 or len(right) < 2:
        return _merge_reference(a, b)
    words, boundary = left + right, len(left)
    boundary += len(right) // 2 if len(right) <= len(left) else -(len(left) // 2)
    return [a[0], b[0]], [" ".join(words[:boundary]), " ".join(words[boundary:])]


def _merge_reference3(a: Pair, b: Pair, c: Pair) -> _Unit:
    return [a[0], b[0], c[0]], [f"{a[1]} {b[1]} {c[1]}"]


def _merge_source3(a: Pair, b: Pair, c: Pair) -> _Unit:
    return [f"{a[0]} {b[0]} {c[0]}"], [a[1], b[1], c[1]]


def _three_to_two(a: Pair, b: Pair, c: Pair) -> _Unit:
    """3-2: the reference renders three sentences as two, split inside the middle one."""
    middle = b[1].split()
    if len(middle) < 2:
        return _merge_reference3(a, b, c)
    cut = len(middle) // 2
    return [a[0], b[0], c[0]], [" ".join([a[1], *middle[:cut]]), " ".join([*middle[cut:], c[1]])]


def _keep(a: Pair) -> _Unit:
    return [a[0]], [a[1]]


def _delete_reference(a: Pair) -> _Unit:
    return [a[0]], []


def _delete_source(a: Pair) -> _Unit:
    return [], [a[1]]


# Each operation turns this many consecutive line pairs into one gold bead.
_OPERATIONS: dict[str, tuple[int, Callable[..., _Unit]]] = {
    "merge_reference": (2, _merge_reference),
    "merge_source": (2, _merge_source),
    "resplit_reference": (2, _resplit_reference),
    "delete_reference": (1, _delete_reference),
    "delete_source": (1, _delete_source),
    "merge_reference3": (3, _merge_reference3),
    "merge_source3": (3, _merge_source3),
    "three_to_two": (3, _three_to_two),
}

# Per variant, the probability that each operation starts at a given line.
VARIANTS: dict[str, dict[str, float]] = {
    "clean": {},
    "merge_reference": {"merge_reference": 0.25},
    "merge_source": {"merge_source": 0.25},
    "delete": {"delete_reference": 0.07, "delete_source": 0.07},
    "resplit": {"resplit_reference": 0.2},
    "combined": {
        "merge_reference": 0.1,
        "merge_source": 0.1,
        "resplit_reference": 0.05,
        "delete_reference": 0.04,
        "delete_source": 0.04,
    },
    # The benchmark's variants (benchmarks/bench_align.py), at the rates; "splitter" is built by
    # ``resplit_with_splitter`` instead of by these operations.
    "merge_en_15": {"merge_reference": 0.15},
    "merge_ar_15": {"merge_source": 0.15},
    "delete_5": {"delete_reference": 0.025, "delete_source": 0.025},
    "all": {"merge_reference": 0.15, "merge_source": 0.15, "delete_reference": 0.025, "delete_source": 0.025},
    # Larger beads (issue 11): three English lines as one (3-1), three Arabic lines as one (1-3), three as two (3-2).
    "merge3_en_10": {"merge_reference3": 0.1},
    "merge3_ar_10": {"merge_source3": 0.1},
    "three_two_10": {"three_to_two": 0.1},
}

BENCH_VARIANTS = (
    "clean",
    "merge_en_15",
    "merge_ar_15",
    "delete_5",
    "all",
    "splitter",
    "merge3_en_10",
    "merge3_ar_10",
    "three_two_10",
)
"""Variants of the alignment benchmark, in table order."""


def perturb(pairs: Sequence[Pair], variant: str, seed: int) -> tuple[list[str], list[str], list[GoldBead]]:
    """(MT sentences, reference sentences, gold beads) of one document after ``variant``'s operations.

    ``variant="splitter"`` re-splits the reference with tarjama's own splitter (see ``resplit_with_splitter``).
    """
    if variant == "splitter":
        return resplit_with_splitter(pairs)
    rng = random.Random(seed)
    units: list[_Unit] = []
    k = 0
    while k < len(pairs):
        width, operation = _OPERATIONS.get(_draw(rng, VARIANTS[variant]) or "", (1, _keep))
        if k + width > len(pairs):
            width, operation = 1, _keep
        units.append(operation(*pairs[k : k + width]))
        k += width
    mt: list[str] = []
    reference: list[str] = []
    gold: list[GoldBead] = []
    for mt_part, ref_part in units:
        mt_indices = tuple(range(len(mt), len(mt) + len(mt_part)))
        gold.append((mt_indices, tuple(range(len(reference), len(reference) + len(ref_part)))))
        mt += mt_part
        reference += ref_part
    return mt, reference, gold


def resplit_with_splitter(pairs: Sequence[Pair]) -> tuple[list[str], list[str], list[GoldBead]]:
    """The document's reference lines joined into one paragraph and re-split by ``tarjama.segment.split_sentences``.

    Gold beads: each predicted sentence is mapped to the gold line(s) its
    characters overlap (offsets in the whitespace-collapsed paragraph); lines
    and sentences linked by overlap form one bead (MT line k stays line k).
    """
    from tarjama.segment import split_sentences

    lines = [" ".join(r.split()) for _, r in pairs]
    line_spans, offset = [], 0
    for line in lines:
        line_spans.append((offset, offset + len(line)))
        offset += len(line) + (1 if line else 0)
    paragraph = " ".join(line for line in lines if line)
    sentences = split_sentences(paragraph, "en")
    sentence_spans, offset = [], 0
    for sentence in sentences:
        start = paragraph.index(sentence, offset)
        sentence_spans.append((start, start + len(sentence)))
        offset = start + len(sentence)
    gold: list[GoldBead] = []
    k = s = 0  # next line, next sentence
    while k < len(lines) or s < len(sentences):
        if k < len(lines) and not lines[k]:
            gold.append(((k,), ()))
            k += 1
            continue
        if k >= len(lines) or s >= len(sentences):  # cannot happen with a lossless splitter; kept total
            gold.append(((k,), ()) if k < len(lines) else ((), (s,)))
            k, s = (k + 1, s) if k < len(lines) else (k, s + 1)
            continue
        mt_ids, ref_ids = [k], [s]
        end = max(line_spans[k][1], sentence_spans[s][1])
        k, s = k + 1, s + 1
        while True:  # grow the bead while the next line or sentence starts before its current end
            if k < len(lines) and lines[k] and line_spans[k][0] < end:
                mt_ids.append(k)
                end = max(end, line_spans[k][1])
                k += 1
            elif s < len(sentences) and sentence_spans[s][0] < end:
                ref_ids.append(s)
                end = max(end, sentence_spans[s][1])
                s += 1
            else:
                break
        gold.append((tuple(mt_ids), tuple(ref_ids)))
    return [m for m, _ in pairs], sentences, gold


def _draw(rng: random.Random, probabilities: dict[str, float]) -> str | None:
    roll = rng.random()
    for operation, probability in probabilities.items():
        if roll < probability:
            return operation
        roll -= probability
    return None


def strict_counts(predicted: Sequence[GoldBead], gold: Sequence[GoldBead]) -> tuple[int, int, int]:
    """(exact bead matches, predicted beads, gold beads); unmatched 1-0/0-1 beads count like any other."""
    return len(set(predicted) & set(gold)), len(predicted), len(gold)


def precision_recall_f1(matches: int, n_predicted: int, n_gold: int) -> tuple[float, float, float]:
    precision = matches / n_predicted if n_predicted else 1.0
    recall = matches / n_gold if n_gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def lax_strict_counts(predicted: Sequence[GoldBead], gold: Sequence[GoldBead]) -> tuple[int, int, int, int]:
    """(tp strict, fp strict, tp lax, fp lax) of ``predicted`` against ``gold``, as Vecalign's ``score.py``.

    Sennrich & Volk (2011): a predicted bead is a strict match if it equals a
    gold bead, a lax match if it is a strict match or shares at least one
    sentence on *both* sides with a gold bead (so an unmatched 1-0/0-1 bead is
    lax-correct only when it is strictly correct). Beads empty on both sides
    are ignored. Swap the arguments for the recall counts.
    """
    gold_set = {bead for bead in gold if bead[0] or bead[1]}
    linked: dict[int, set[int]] = {}
    for src, tgt in gold_set:
        for i in src:
            linked.setdefault(i, set()).update(tgt)
    tp_strict = fp_strict = tp_lax = fp_lax = 0
    for bead in {bead for bead in predicted if bead[0] or bead[1]}:
        if bead in gold_set:
            tp_strict += 1
            tp_lax += 1
            continue
        fp_strict += 1
        targets = set().union(*(linked.get(i, set()) for i in bead[0]))
        if targets.intersection(bead[1]):
            tp_lax += 1
        else:
            fp_lax += 1
    return tp_strict, fp_strict, tp_lax, fp_lax


class BeadScores:
    """Accumulated strict and lax P/R/F1 over documents (Vecalign's ``score_multiple``)."""

    def __init__(self) -> None:
        self.precision = [0, 0, 0, 0]
        self.recall = [0, 0, 0, 0]

    def add(self, predicted: Sequence[GoldBead], gold: Sequence[GoldBead]) -> None:
        self.precision = [a + b for a, b in zip(self.precision, lax_strict_counts(predicted, gold))]
        self.recall = [a + b for a, b in zip(self.recall, lax_strict_counts(gold, predicted))]

    def strict(self) -> tuple[float, float, float]:
        return _prf(self.precision[0], self.precision[1], self.recall[0], self.recall[1])

    def lax(self) -> tuple[float, float, float]:
        return _prf(self.precision[2], self.precision[3], self.recall[2], self.recall[3])


def _prf(tp_p: int, fp_p: int, tp_r: int, fn_r: int) -> tuple[float, float, float]:
    precision = tp_p / (tp_p + fp_p) if tp_p + fp_p else 0.0
    recall = tp_r / (tp_r + fn_r) if tp_r + fn_r else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1
