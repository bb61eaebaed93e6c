"""Rows that follow the reference's sentences: clause units translated, aligned and regrouped.

An Arabic sentence is cut into clause units (:mod:`tarjama.clauses`), each
unit gets its own English MT, and the MT of the units is aligned to the
reference sentences with beads of several units to one sentence (the
reference keeps them together), one to several (it splits a unit) or a few
to a few. A row then holds one reference sentence wherever the Arabic can be
cut there, and the Arabic of a row is whole units, so the rows' Arabic joined
in order is the article, each character once.

How the units get their MT (:class:`UnitTranslation`). Measured with the
local engine by ``benchmarks/bench_units.py`` (corpus chrF against the
references; model seconds as a ratio to ``units``, modes interleaved sentence
by sentence on 2 shared cores):

==========================  ============  ============  ===============  ===============
mode                        seed chrF     ntrex chrF    seed time        ntrex time
==========================  ============  ============  ===============  ===============
``units`` (default)         53.7          45.2          1.00 (627 s)     1.00 (152 s)
unit with its sentence      53.4          43.6          2.86             3.18
``sentences``, MT cut       52.0          39.6          0.81             1.56
==========================  ============  ============  ===============  ===============

(seed: 13 paragraphs, 49 units; ntrex: 5 chained runs, 17 units.) Units
alone translate best: the 1.5B model garbles or loops on long sentences, and
a unit needs no context to be rendered. Giving the sentence as context costs
about three times the time (the whole sentence is read again for each unit)
for no gain, so it is not offered. Whole sentences are a little faster on the
seed's paragraph-long sentences, but their MT must be cut at guessed points,
which costs rows as well as chrF (seed: 38 rows instead of 40); they remain
selectable:

- ``units``: each unit translated alone;
- ``sentences``: each sentence translated whole, its MT cut into one piece
  per unit at English sentence ends and commas where the lengths fit
  (:func:`attribute_mt`); also how per-sentence MT from a file is used.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from tarjama.align import Bead, align, align_without_reference
from tarjama.article import Document, Sentence
from tarjama.engines.base import Engine
from tarjama.memory import TranslationMemory
from tarjama.parallel_corpus import FLAG_BELOW, bead_rows
from tarjama.translate import Progress, Translation, translate_sentences

SENTENCE_BEAD_PRIORS: Mapping[tuple[int, int], float] = MappingProxyType(
    {
        (1, 1): 0.89,
        (1, 2): 0.045,
        (2, 1): 0.045,
        (2, 2): 0.01,
        (1, 3): 0.01,
        (1, 4): 0.005,
        (1, 5): 0.0033,
        (1, 6): 0.0025,
        (3, 1): 0.005,
        (2, 3): 0.003,
        (3, 2): 0.003,
        (1, 0): 0.01,
        (0, 1): 0.01,
    }
)
"""Bead priors of the first stage, sentences against reference sentences.

:data:`tarjama.align.SPLITTING_BEAD_PRIORS` always (a reference may split any one sentence into
up to 6), plus 3-1, 2-3 and 3-2, where a reference sentence takes the end of one Arabic sentence
and the start of the next: the second stage can then give each its units."""


UNIT_BEAD_PRIORS: Mapping[tuple[int, int], float] = MappingProxyType(
    {
        (1, 1): 0.80,
        (2, 1): 0.08,
        (1, 2): 0.02,
        (3, 1): 0.02,
        (2, 2): 0.005,
        (1, 3): 0.005,
        (3, 2): 0.005,
        (2, 3): 0.005,
        (4, 1): 0.005,
        (1, 4): 0.003,
        (5, 1): 0.002,
        (6, 1): 0.001,
        (1, 0): 0.005,
        (0, 1): 0.005,
    }
)
"""Bead priors of the second stage, clause units against the reference sentences of one sentence bead.

Units are cut generously, so several units to one sentence is the common
merge (up to 6, as a paragraph-long sentence of short clauses may be one
English sentence); one unit to several sentences happens where a quotation or
a long clause cannot be cut. Chosen on the chained ntrex128-dev tuning half
among a few variants (``benchmarks/bench_chained.py``); the held-out half was
not looked at."""


class UnitTranslation(StrEnum):
    """What the engine is given to translate (see the module docstring)."""

    UNITS = "units"
    SENTENCES = "sentences"


_CUT = re.compile(r"(?<=[.!?;:,])[\"'”’)]* ")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]* $")


def attribute_mt(mt: str, units: Sequence[str]) -> list[str]:
    """``mt`` (one sentence's translation) cut into one piece per unit, in order.

    Cuts fall after punctuation (sentence ends preferred) or, failing that,
    at spaces, where the pieces' shares of the English best match the units'
    shares of the Arabic: squared share error in units of the typical error,
    plus a cost per cut kind. Pieces are never empty while ``mt`` has enough
    words; joined with spaces they give back ``mt``'s words.
    """
    words = mt.split()
    if len(units) == 1 or not words:
        return [" ".join(words)] + [""] * (len(units) - 1)
    text = " ".join(words)
    # Candidate cuts: after word w (1..len-1), with a cost by kind.
    offsets, position = [], 0
    for word in words:
        position += len(word) + 1
        offsets.append(position)
    cut_cost = []
    for w in range(1, len(words)):
        before = text[: offsets[w - 1]]
        if _SENTENCE_END.search(before):
            cut_cost.append(0.0)
        elif _CUT.search(before[-3:]):
            cut_cost.append(1.0)
        else:
            cut_cost.append(4.0)
    total_ar = sum(len(u) for u in units)
    target = [sum(len(u) for u in units[: k + 1]) / total_ar for k in range(len(units) - 1)]
    share = [offsets[w - 1] / (len(text) + 1) for w in range(1, len(words))]
    k_cuts = min(len(units) - 1, len(words) - 1)
    # best[k][w]: cost of placing cut k (0-based) after word w+1, cuts strictly increasing.
    spread = 0.08  # typical share error of a right cut (English and Arabic clause lengths differ)
    best = [[math.inf] * len(share) for _ in range(k_cuts)]
    back = [[-1] * len(share) for _ in range(k_cuts)]
    for k in range(k_cuts):
        for w in range(k, len(share)):
            here = ((share[w] - target[k]) / spread) ** 2 + cut_cost[w]
            if k == 0:
                best[k][w] = here
                continue
            prev = min(range(k - 1, w), key=lambda v: best[k - 1][v])
            best[k][w], back[k][w] = best[k - 1][prev] + here, prev
    w = min(range(len(share)), key=lambda v: best[k_cuts - 1][v])
    cuts = []
    for k in range(k_cuts - 1, -1, -1):
        cuts.append(w + 1)
        w = back[k][w]
    edges = [0, *reversed(cuts), len(words)]
    pieces = [" ".join(words[a:b]) for a, b in zip(edges, edges[1:])]
    return pieces + [""] * (len(units) - len(pieces))


def translate_units(
    document: Document,
    engine: Engine,
    memory: TranslationMemory,
    mode: UnitTranslation = UnitTranslation.UNITS,
    on_progress: Progress | None = None,
) -> list[Translation]:
    """One translation per unit of ``document``, through the translation memory, made as ``mode`` says."""
    if mode is UnitTranslation.UNITS:
        return translate_sentences([u.text for u in document.units], engine, memory, on_progress)
    return units_from_sentences(document, translate_sentences(document.texts, engine, memory, on_progress))


def units_from_sentences(document: Document, translations: Sequence[Translation]) -> list[Translation]:
    """Per-unit translations cut from per-sentence ones (:func:`attribute_mt`), keeping their provenance."""
    if len(translations) != len(document.sentences):
        raise ValueError(f"{len(translations)} translations for {len(document.sentences)} sentences")
    return [
        Translation(piece, translation.engine, translation.model, translation.from_memory)
        for sentence, translation in zip(document.sentences, translations)
        for piece in attribute_mt(translation.text, sentence.units)
    ]


def align_units(
    document: Document,
    translations: Sequence[Translation],
    reference: Sequence[str] | None,
    sentence_priors: Mapping[tuple[int, int], float] = SENTENCE_BEAD_PRIORS,
    unit_priors: Mapping[tuple[int, int], float] = UNIT_BEAD_PRIORS,
) -> list[Bead]:
    """Beads over the units of ``document`` (one translation each) against reference sentences.

    Two stages. First the sentences (each one's MT is its units' MT joined) are aligned as
    before units existed; then, inside each sentence bead that holds several units and
    several reference sentences, the units are aligned to those sentences, several to one or
    one to several. So where the reference does not split a sentence the rows are those of
    the sentence aligner (on un-chained ntrex128-dev, single-stage unit alignment lost 0.011
    strict F1 on the tuning half by attaching short units to a neighbouring sentence), and a
    unit never leaves its sentence bead. A unit bead's confidence is that of its sentence
    bead times its own. Without a reference, one row a unit.
    """
    units = document.units
    if reference is None:
        return align_without_reference(len(units))
    mt = [t.text for t in translations]
    by_sentence = [[i for i, unit in enumerate(units) if unit.sentence == s] for s in range(len(document.sentences))]
    sentence_beads = align(
        [" ".join(mt[i] for i in group) for group in by_sentence],
        reference,
        source=document.texts,
        bead_priors=sentence_priors,
    )
    beads = []
    for bead in sentence_beads:
        inside = [i for s in bead.source for i in by_sentence[s]]
        if len(inside) < 2 or len(bead.reference) < 2:
            beads.append(Bead(tuple(inside), bead.reference, bead.confidence))
            continue
        sub = align(
            [mt[i] for i in inside],
            [reference[j] for j in bead.reference],
            source=[units[i].text for i in inside],
            bead_priors=unit_priors,
        )
        beads += [
            Bead(
                tuple(inside[k] for k in part.source),
                tuple(bead.reference[k] for k in part.reference),
                bead.confidence * part.confidence,
            )
            for part in sub
        ]
    return beads


def unit_rows(
    article: Document,
    translations: Sequence[Translation],
    reference: Document | None,
    beads: Sequence[Bead],
    flag_below: float = FLAG_BELOW,
) -> list[dict[str, Any]]:
    """One row per bead of units: :func:`tarjama.parallel_corpus.bead_rows` over the units, plus ``source_units``.

    ``source_ids`` lists the sentences the row's units come from, each once, and ``source_units``
    the units themselves (``"3.2,3.3,4.1"``), so a row can be traced to the exact Arabic it holds.
    """
    units = article.units
    by_unit = Document(
        article.id,
        article.path,
        article.lang,
        tuple(
            Sentence(article.sentences[u.sentence].number, article.sentences[u.sentence].paragraph, u.text)
            for u in units
        ),
    )
    rows = bead_rows(by_unit, translations, reference, beads, flag_below)
    for row, bead in zip(rows, beads):
        row["source_ids"] = ",".join(dict.fromkeys(row["source_ids"].split(","))) if bead.source else ""
        row["source_units"] = ",".join(article.unit_id(units[i]) for i in bead.source)
    return rows
