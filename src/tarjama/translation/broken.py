"""Broken machine translation: lines that are no translation of their source at all.

A small local model sometimes loops, stops after a few words, copies the Arabic, or answers with a
chat preamble ("Sure, here is the English translation:") instead of a translation. The aligner
(:mod:`tarjama.alignment.align`) takes such a line as no evidence about where its source belongs; the
local engine (:mod:`tarjama.translation.engines.local`) translates it again. A web engine's answer that is
no translation at all (:func:`non_answer`) is not kept in the translation memory: the next run asks again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_ARABIC_LETTER = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
PREAMBLE = re.compile(
    r"^\W*(sure|certainly|of course|okay|here is|here's|below is|the following)\b.{0,80}?"
    r"\b(translat\w*|english)\b[^:\n]{0,40}:",
    re.IGNORECASE,
)
"""A chat preamble up to its colon (what follows, if anything, is the translation)."""
LOOP_DISTINCT_BELOW = 0.5
"""An MT line of 8+ words whose word 4-grams are less than half distinct is looping (real sentences, even
long, repetitive ones from the local engine, stay above 0.8)."""
TRUNCATED_BELOW, RUNAWAY_ABOVE = 0.3, 3.0
"""MT length over the length its source predicts (at the text's median ratio) outside these bounds marks
a truncated or runaway line (only with the source, and for sources of 40+ characters)."""


def broken_mt(mt: Sequence[str], source: Sequence[str] | None = None, ratio: float | None = None) -> list[str]:
    """Per MT sentence, why it is no evidence about where its source belongs ("" if it is sound).

    ``empty``; ``arabic`` (the source copied: over 30% of its letters Arabic); ``loop`` (word 4-grams
    mostly repeated, :data:`LOOP_DISTINCT_BELOW`, or far longer than its source predicts); ``preamble`` (a chat
    preamble such as "Sure, here is the English translation:"); ``truncated`` (far shorter than its
    source predicts). The length checks need ``source``; a line's predicted length is its source's
    times ``ratio`` (MT over source characters), by default the text's median ratio."""
    if ratio is None:
        ratios = sorted(_chars(m) / _chars(s) for m, s in zip(mt, source or ()) if _chars(m) and _chars(s))
        ratio = ratios[len(ratios) // 2] if ratios else 1.0
    reasons = []
    for k, line in enumerate(mt):
        chars = _chars(line)
        arabic = len(_ARABIC_LETTER.findall(line))
        words = line.lower().split()
        grams = set(zip(words, words[1:], words[2:], words[3:]))
        expected = ratio * _chars(source[k]) if source is not None else 0.0
        if not chars:
            reasons.append("empty")
        elif arabic and arabic > 0.3 * sum(ch.isalpha() for ch in line):
            reasons.append("arabic")
        elif (len(words) >= 8 and len(grams) < LOOP_DISTINCT_BELOW * (len(words) - 3)) or (
            expected >= 40 and chars > RUNAWAY_ABOVE * expected
        ):
            reasons.append("loop")
        elif PREAMBLE.match(line):
            reasons.append("preamble")
        elif expected >= 40 and chars < TRUNCATED_BELOW * expected:
            reasons.append("truncated")
        else:
            reasons.append("")
    return reasons


def non_answer(source: str, answer: str) -> str:
    """Why an engine's ``answer`` to ``source`` is no translation at all ("" if it is one): ``empty`` or
    ``arabic`` (mostly Arabic letters), as :func:`broken_mt` names them, or ``copy``: the source itself,
    whitespace aside, where the source has an Arabic letter (a source of digits or Latin letters alone, such
    as "BBC" or "2024", may be its own translation).

    A service answers so when it is failing (an empty field, the text sent back unchanged): the answer
    is what its row gets in this run, but it is not worth keeping (:func:`tarjama.translation.memory.kept`)."""
    why = broken_mt([answer])[0]
    if why in ("empty", "arabic"):
        return why
    if answer.split() == source.split() and _ARABIC_LETTER.search(source):
        return "copy"
    return ""


def _chars(sentence: str) -> int:
    return len("".join(sentence.split()))
