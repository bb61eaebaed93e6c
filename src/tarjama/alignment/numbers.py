"""Numbers written in digits, as evidence of which sentences translate each other.

A translator copies figures (years, scores, sums, percentages), so a number on one side of a pair and not on
the other says the pair is wrong whatever the MT says. Each sentence's numbers are kept as a 64-bit set (a
number sets the bit of its CRC-32 modulo 64), so a span's numbers are the OR of its sentences' and the misses
of every candidate bead are counted with one XOR; two numbers of one bead sharing a bit (about one pair in
64) count as one.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tarjama.alignment.dp import Bead, Cells, Scores
from tarjama.text.normalize import ASCII_DIGITS, NUMBER

_THOUSANDS = re.compile(r",(?=\d{3}(?!\d))")

NumberSets = npt.NDArray[np.uint64]


def numbers_in(sentence: str) -> list[str]:
    """The numbers of a sentence in one spelling: ASCII digits, no thousands separator, a point for decimals
    (``"350,000"`` and ``"٣٥٠٬٠٠٠"`` are ``"350000"``; ``"5,6"`` and ``"٥٫٦"`` are ``"5.6"``)."""
    return [_THOUSANDS.sub("", number).replace(",", ".") for number in NUMBER.findall(sentence.translate(ASCII_DIGITS))]


def number_masks(sentences: Sequence[str]) -> NumberSets:
    """Each sentence's numbers as a 64-bit set, and an empty set after the last (for cells past the end)."""
    masks = np.zeros(len(sentences) + 1, dtype=np.uint64)
    for k, sentence in enumerate(sentences):
        for number in numbers_in(sentence):
            masks[k] |= np.uint64(1 << (zlib.crc32(number.encode()) % 64))
    return masks


def span_numbers(masks: NumberSets, end: Cells, size: int) -> NumberSets:
    """The numbers of the ``size`` sentences before each ``end`` (fewer where the text starts)."""
    span = np.zeros(len(end), dtype=np.uint64)
    for back in range(1, size + 1):
        span |= np.where(end - back >= 0, masks[np.maximum(end - back, 0)], np.uint64(0))
    return span


NUMBER_MISSED, NUMBERS_COUNTED = 3.0, 2
"""Nats a matched bead loses for each number written in digits on one side and not on the other (source and
reference), counting at most ``NUMBERS_COUNTED``; both aligners (MT with lengths, lengths alone). Translators copy
figures, so a number on one side only says the pair is wrong, or a sentence is missing from it, whatever the MT
or the lengths say; the Arabic's digits are the author's, so they speak where the MT is weak or broken (the MT's
own are not read: the local model invents figures). The cap keeps a sentence full of figures that one text writes
differently (times, prices, OCR) from being pushed out of its pair (how both were chosen:
``benchmarks/results/alignment-constants.md``)."""


def numbers_missed_cost(masks: tuple[NumberSets, NumberSets], i: Cells, j: Cells, di: int, dj: int) -> Scores:
    """The nats the beads of ``di`` source and ``dj`` reference sentences ending at cells (i, j) lose for numbers
    written on one side only (:data:`NUMBER_MISSED` each, at most :data:`NUMBERS_COUNTED` counted)."""
    source, reference = masks
    missed = np.bitwise_count(span_numbers(source, i, di) ^ span_numbers(reference, j, dj))
    return NUMBER_MISSED * np.minimum(missed, NUMBERS_COUNTED).astype(float)


NUMBER_DOUBT = 0.2
"""How much of a matched row's doubt is left for each number both its sides write, when neither writes one the
other lacks: a pair of neighbours shares a figure far less often than a pair shares one (6 against 103 in the
tuning half's clean text), so a row whose figures agree is not doubted for weak MT or a near alternative."""


def bead_numbers(bead: Bead, masks: tuple[NumberSets, NumberSets]) -> tuple[int, int]:
    """The numbers of a matched bead's source sentences and of its reference sentences, as 64-bit sets."""
    source, reference = masks
    ours = span_numbers(source, np.array([bead.source[-1] + 1]), len(bead.source))[0]
    theirs = span_numbers(reference, np.array([bead.reference[-1] + 1]), len(bead.reference))[0]
    return int(ours), int(theirs)


def numbers_missed_by(beads: Sequence[Bead], masks: tuple[NumberSets, NumberSets]) -> int:
    """How many numbers the matched beads of ``beads`` write on one side only, all told (uncapped)."""
    return sum(
        (ours ^ theirs).bit_count()
        for ours, theirs in (bead_numbers(b, masks) for b in beads if b.source and b.reference)
    )


def vouched_by_numbers(beads: Sequence[Bead], masks: tuple[NumberSets, NumberSets]) -> list[Bead]:
    """``beads`` with each matched bead's doubt multiplied by :data:`NUMBER_DOUBT` for each number its two sides
    share, unless one side writes a number the other does not."""
    vouched = []
    for bead in beads:
        shared = 0
        if bead.source and bead.reference:
            ours, theirs = bead_numbers(bead, masks)
            shared = 0 if ours ^ theirs else ours.bit_count()
        doubt = (1.0 - bead.confidence) * NUMBER_DOUBT**shared
        vouched.append(bead if not shared else Bead(bead.source, bead.reference, 1.0 - doubt))
    return vouched
