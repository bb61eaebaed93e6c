"""Alignment test sets with known gold beads, built from line-aligned NTREX.

The true sentence alignment of a real article pair is unknown, but NTREX is
line-aligned: perturbing its lines in known ways (merging, deleting,
re-splitting) yields real text whose gold beads are known, for the aligner's
tests and for benchmarks.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


ONE_SIDED_SOURCE: tuple[tuple[str, str], ...] = (
    ("بقلم: أحمد منصور", "By: Ahmed Mansour"),
    ("الصورة: رويترز", "Photo: Reuters"),
    ("المصدر: وكالات", "Source: agencies"),
    ("القاهرة - أ ف ب", "Cairo - AFP"),
    ("اقرأ أيضا: أسعار النفط ترتفع من جديد", "Read also: Oil prices rise again"),
    ("ملاحظة المحرر: تم تحديث هذا الخبر", "Editor's note: This story has been updated"),
)
"""Short lines news carries on the Arabic side only (byline, credit, dateline, "read also", editor's note),
with the English a sound MT would give them."""

ONE_SIDED_REFERENCE: tuple[str, ...] = (
    "By Sarah Collins, Reuters",
    "LONDON (Reuters) -",
    "Photo: Getty Images",
    "Read more: Markets close lower",
    "(Reporting by John Davis; Editing by Mark Potter)",
    "Image caption: Crowds gathered outside the court",
    "Editor's note: An earlier version of this story misstated a date.",
)
"""Short lines on the English side only (byline, dateline, credit, caption, "Read more", editor's note)."""


def _insert_source(rng: random.Random, column: int) -> _Unit:
    """A one-sided line on the source side: the Arabic (``column`` 0) or its MT (``column`` 1)."""
    return [rng.choice(ONE_SIDED_SOURCE)[column]], []


def _insert_reference(rng: random.Random, column: int) -> _Unit:
    return [], [rng.choice(ONE_SIDED_REFERENCE)]


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

# Operations that add a one-sided line before the next line pair (they take the random generator and the
# source column: the same draws give the Arabic line and its MT, so both source sides stay parallel).
_INSERTIONS: dict[str, Callable[[random.Random, int], _Unit]] = {
    "insert_source": _insert_source,
    "insert_reference": _insert_reference,
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
    # One-sided lines (issue 20): 5% short lines inserted on one side only, alone and with "all".
    "one_sided": {"insert_source": 0.025, "insert_reference": 0.025},
    "all+one_sided": {
        "merge_reference": 0.15,
        "merge_source": 0.15,
        "delete_reference": 0.025,
        "delete_source": 0.025,
        "insert_source": 0.025,
        "insert_reference": 0.025,
    },
}
VARIANTS["broken_mt"] = VARIANTS["clean"]
VARIANTS["all+broken_mt"] = VARIANTS["all"]
VARIANTS["all+both"] = VARIANTS["all+one_sided"]

BROKEN_MT_RATE: dict[str, float] = {"broken_mt": 0.05, "all+broken_mt": 0.05, "all+both": 0.05}
"""Per variant, the share of MT lines replaced by broken output (:func:`break_mt`) before the perturbation."""

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
    "broken_mt",
    "one_sided",
    "all+broken_mt",
    "all+one_sided",
    "all+both",
)
"""Variants of the alignment benchmark, in table order."""


PREAMBLES = (
    "Sure, here is the English translation:",
    "Here is the translation of the text into English:",
    "Certainly! The translation is:",
)


def break_mt(mt: Sequence[Pair], arabic: Sequence[Pair], rate: float, seed: int) -> list[Pair]:
    """``mt`` with about ``rate`` of its MT lines replaced by what a small local engine gets wrong.

    Five kinds, equally often: a loop (a few words repeated to 5-10 times the Arabic line's length),
    a truncation to its first 2-4 words, an empty line, the Arabic copied, a chat preamble before the
    quoted translation. The reference is unchanged, so the gold beads are too."""
    rng = random.Random(seed * 7919 + 1)
    broken = []
    for (line, reference), (source, _) in zip(mt, arabic):
        if rng.random() >= rate:
            broken.append((line, reference))
            continue
        words = line.split() or ["the"]
        kind = rng.randrange(5)
        if kind == 0:
            phrase = " ".join(words[: rng.randint(2, 5)])
            goal = len(source) * rng.uniform(5, 10)
            line = " ".join([phrase] * max(2, math.ceil(goal / (len(phrase) + 1))))
        elif kind == 1:
            line = " ".join(words[: rng.randint(2, 4)])
        elif kind == 2:
            line = ""
        elif kind == 3:
            line = source
        else:
            line = f'{rng.choice(PREAMBLES)} "{line}"'
        broken.append((line, reference))
    return broken


@dataclass(frozen=True, slots=True)
class Case:
    """One perturbed document: its Arabic and MT sentences (one to one), the reference, the gold beads."""

    arabic: list[str]
    mt: list[str]
    reference: list[str]
    gold: list[GoldBead]


def perturb_document(mt: Sequence[Pair], arabic: Sequence[Pair], variant: str, seed: int) -> Case:
    """``variant`` applied to one document, the same way to its MT and its Arabic, broken MT included."""
    rate = BROKEN_MT_RATE.get(variant, 0.0)
    if rate:
        mt = break_mt(mt, arabic, rate, seed)
    broken, reference, gold = perturb(mt, variant, seed, source_column=1)
    return Case(perturb(arabic, variant, seed, source_column=0)[0], broken, reference, gold)


def perturb(
    pairs: Sequence[Pair], variant: str, seed: int, source_column: int = 1
) -> tuple[list[str], list[str], list[GoldBead]]:
    """(MT sentences, reference sentences, gold beads) of one document after ``variant``'s operations.

    ``variant="splitter"`` re-splits the reference with tarjama's own splitter (see ``resplit_with_splitter``).
    ``source_column``: which text of :data:`ONE_SIDED_SOURCE` an inserted source line takes (0: Arabic,
    1: English MT); the random draws are the same either way.
    """
    if variant == "splitter":
        return resplit_with_splitter(pairs)
    rng = random.Random(seed)
    units: list[_Unit] = []
    k = 0
    while k < len(pairs):
        drawn = _draw(rng, VARIANTS[variant]) or ""
        if drawn in _INSERTIONS:
            units.append(_INSERTIONS[drawn](rng, source_column))
            continue
        width, operation = _OPERATIONS.get(drawn, (1, _keep))
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
    """The document's reference lines joined into one paragraph and re-split by ``tarjama.text.segment.split_sentences``.

    Gold beads: each predicted sentence is mapped to the gold line(s) its
    characters overlap (offsets in the whitespace-collapsed paragraph); lines
    and sentences linked by overlap form one bead (MT line k stays line k).
    """
    from tarjama.text.segment import split_sentences

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


class FlagScores:
    """How well ``flagged`` (confidence below a threshold) finds the wrong rows, summed over documents.

    A row (bead) is wrong when it is not exactly a gold bead. Precision: the share of flagged rows that
    are wrong; recall: the share of wrong rows that are flagged; and the share of correct rows flagged."""

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold
        self.flagged_wrong = self.flagged_right = self.wrong = self.right = 0

    def add(self, predicted: Sequence[tuple[GoldBead, float]], gold: Sequence[GoldBead]) -> None:
        gold_set = set(gold)
        for bead, confidence in predicted:
            flagged = confidence < self.threshold
            if bead in gold_set:
                self.right += 1
                self.flagged_right += flagged
            else:
                self.wrong += 1
                self.flagged_wrong += flagged

    def precision(self) -> float:
        flagged = self.flagged_wrong + self.flagged_right
        return self.flagged_wrong / flagged if flagged else 1.0

    def recall(self) -> float:
        return self.flagged_wrong / self.wrong if self.wrong else 1.0

    def correct_flagged(self) -> float:
        return self.flagged_right / self.right if self.right else 0.0
