"""Rows that follow the reference's sentences: clause units translated, aligned and regrouped.

An Arabic sentence is cut into clause units (:mod:`tarjama.text.clauses`), each
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
from collections.abc import Sequence
from dataclasses import replace

from tarjama.alignment.align import Alignment, AlignmentConfig, Bead, align, align_translation, align_without_reference
from tarjama.alignment.numbers import number_masks, numbers_missed_by
from tarjama.text.article import Document, Granularity, UnitTranslation
from tarjama.translation.translate import Translation

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


def translation_texts(document: Document, rows: Granularity, mode: UnitTranslation) -> list[str]:
    """What the engine is given for ``document``: its units' texts, or its whole sentences'."""
    if rows == "units" and mode is UnitTranslation.UNITS:
        return [unit.text for unit in document.units]
    return document.texts


def item_translations(
    document: Document, rows: Granularity, mode: UnitTranslation, translations: Sequence[Translation]
) -> list[Translation]:
    """One translation per aligned item (``document.items(rows)``), from those of :func:`translation_texts`."""
    if rows == "units" and mode is UnitTranslation.SENTENCES:
        return units_from_sentences(document, translations)
    return list(translations)


def units_from_sentences(document: Document, translations: Sequence[Translation]) -> list[Translation]:
    """Per-unit translations cut from per-sentence ones (:func:`attribute_mt`), keeping their provenance."""
    if len(translations) != len(document.sentences):
        raise ValueError(f"{len(translations)} translations for {len(document.sentences)} sentences")
    return [
        Translation(piece, translation.engine, translation.model, translation.from_memory)
        for sentence, translation in zip(document.sentences, translations)
        for piece in attribute_mt(translation.text, sentence.units)
    ]


def align_article(
    document: Document,
    mt: Sequence[str] | None,
    reference: Sequence[str] | None,
    config: AlignmentConfig = AlignmentConfig(),
) -> Alignment:
    """Beads over ``document.items(config.rows)`` (one MT each) against the reference sentences.

    The one entry point of ``tarjama run`` and ``tarjama align``, so the same texts give the same
    rows through both. Without a reference, one row an item.
    """
    items = document.items(config.rows)
    if mt is not None and len(mt) != len(items):
        raise ValueError(f"{len(mt)} translations for {len(items)} {config.rows} of {document.id}")
    if reference is None:
        return Alignment(tuple(align_without_reference(len(items))), config.signature())
    if config.rows == "sentences":
        return align_translation(document.texts, mt, reference, config)
    if mt is None:
        raise ValueError("rows of clause units need the machine translation of each unit")
    return Alignment(tuple(align_units(document, mt, reference, config)), config.signature())


def align_units(
    document: Document, mt: Sequence[str], reference: Sequence[str], config: AlignmentConfig = AlignmentConfig()
) -> list[Bead]:
    """Beads over the units of ``document`` (``mt``: one translation each) against reference sentences.

    Two stages. First the sentences (each one's MT is its units' MT joined) are aligned
    (:func:`sentence_stage`); then, inside each sentence bead that holds several units and several
    reference sentences, the units are aligned to those sentences with ``config.unit_bead_priors``,
    several to one or one to several. So where the reference does not split a sentence the rows
    are those of the sentence aligner (on un-chained ntrex128-dev, single-stage unit alignment lost
    0.011 strict F1 on the tuning half by attaching short units to a neighbouring sentence), and a
    unit never leaves its sentence bead; nor, in a bead the first stage is sure of
    (:data:`SURE_SENTENCE_BEAD`), are its whole sentences regrouped. Confidence: :func:`unit_confidence`.
    """
    units = document.units
    by_sentence: list[list[int]] = [[] for _ in document.sentences]
    for i, unit in enumerate(units):
        by_sentence[unit.sentence].append(i)
    source_lengths = config.length_model == "src"
    sentence_beads = sentence_stage(
        [" ".join(mt[i] for i in group) for group in by_sentence],
        reference,
        document.texts,
        [len(group) for group in by_sentence],
        config,
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
            source=[units[i].text for i in inside] if source_lengths else None,
            bead_priors=dict(config.unit_bead_priors),
            source_units=True,
        )
        if bead.confidence >= SURE_SENTENCE_BEAD and _regroups_whole_sentences(
            sub, [units[i].sentence for i in inside]
        ):
            beads.append(Bead(tuple(inside), bead.reference, bead.confidence))
            continue
        beads += [
            Bead(
                tuple(inside[k] for k in part.source),
                tuple(bead.reference[k] for k in part.reference),
                unit_confidence(bead, part),
            )
            for part in sub
        ]
    return beads


SURE_SENTENCE_BEAD = 0.9
"""A sentence bead the first stage is at least this sure of is cut by the second only inside its sentences, never
regrouped at their ends. Such a regrouping (two of three sentences to one reference sentence, the third to the
next) is a sentence-level answer the first stage weighed and set aside, and the second stage's priors, made for
clause units, favour several to one: it cut right 3-2 beads that way where the reference splits a sentence the
units cannot. Where the first stage doubts its bead, the regrouping is kept: it found the right 1-1 pairs of
a 2-2 (how the level was chosen: ``benchmarks/results/units-vs-sentences.md``)."""


def _regroups_whole_sentences(rows: Sequence[Bead], sentence_of: Sequence[int]) -> bool:
    """Whether ``rows`` (a sentence bead's units aligned inside it; ``sentence_of``: each unit's sentence) give its
    sentences to two or more reference sentences' rows without cutting one between them (a unit left without
    English aside)."""
    rows_of: dict[int, set[int]] = {}
    for row, part in enumerate(rows):
        for k in part.source if part.reference else ():
            rows_of.setdefault(sentence_of[k], set()).add(row)
    return all(len(held) == 1 for held in rows_of.values()) and len(set().union(*rows_of.values())) >= 2


def unit_confidence(sentence_bead: Bead, unit_bead: Bead) -> float:
    """The confidence of a row of units cut from ``sentence_bead`` (``unit_bead``: the cut, aligned inside it).

    A row with both sides has its sentence bead's pair confidence: the Arabic and English of a sentence
    bead belong together, and the cut inside it only decides where a row ends (an uncertain cut moves a
    clause between two rows of the same pair; taking the cut's posterior as well flagged correct rows
    whose clauses could go either way: ntrex128-dev tuning half, benchmarks/results/alignment-flags.md).
    A clause or sentence left without a counterpart inside a matched bead keeps the cut's posterior
    too: how sure the aligner is that it has none."""
    if unit_bead.source and unit_bead.reference:
        return sentence_bead.confidence
    return sentence_bead.confidence * unit_bead.confidence


def sentence_stage(
    mt: Sequence[str],
    reference: Sequence[str],
    source: Sequence[str],
    unit_counts: Sequence[int],
    config: AlignmentConfig = AlignmentConfig(),
) -> list[Bead]:
    """The sentence beads of :func:`align_units`: those of ``--rows sentences``, re-cut only where chains ask.

    A chained Arabic sentence (clauses joined by ``، و``) is often several reference sentences, so
    the sentence stage needs the larger beads at ``config.priors``' strength (1-3 up to 1-6, 3-1,
    2-3, 3-2); on ordinary text those beads glue true 1-1, 1-2 and 0-1 beads together (ntrex128-dev
    tuning half, all perturbations: strict F1 0.948 against 0.976 for whole sentences). So the
    sentences are aligned twice, with the whole-sentence priors and with ``config.priors``, and
    wherever the two paths part (between two points both pass through) the second is taken only
    if it joins no three Arabic sentences in one bead and either it has at least as many beads
    (it cuts the stretch differently, gluing nothing) or each of its beads is at most two
    sentences a side or one sentence cut into at least as many units as it has reference
    sentences (a chain the second stage can divide, a unit or more to each); and, given the
    source, if its beads write no more figures on one side only than the whole-sentence
    stretch's (:func:`tarjama.alignment.numbers.numbers_missed_by`). Else the
    whole-sentence stretch is kept, so on un-chained text the rows read as the sentence beads
    ``--rows sentences`` gives. A stretch the two paths cut alike takes, bead by bead, the higher of
    the two confidences: each model doubts a bead only against its own alternatives (the larger
    beads' alignment spreads its posteriors over 1-3 .. 1-6 beads that ordinary text lacks, the
    whole-sentence one over 1-2 + 0-1 where a chain needs a 1-3), and taking either one alone
    flagged correct rows the other was sure of (ntrex128-dev and chained tuning halves,
    ``benchmarks/results/alignment-flags.md``). Figures: ``benchmarks/results/units-vs-sentences.md``.
    """
    lengths = source if config.length_model == "src" else None
    whole_priors = replace(config, granularity="sentences").priors
    whole = align(mt, reference, source=lengths, bead_priors=whole_priors, band_half_width=config.band_half_width)
    if dict(whole_priors) == dict(config.priors):  # priors given in the configuration: one alignment
        return whole
    chained = align(
        mt,
        reference,
        source=lengths,
        bead_priors=config.priors,
        band_half_width=config.band_half_width,
        gap_extension=0.0,  # cheap runs of 0-1 beads would take the place of its full-strength 1-3 .. 1-6 beads
        # nor numbers: each small piece of a chain misses the figures of the rest, so the small beads' path, near
        # which the large beads are searched, left the chain as 1-0 and 0-1 rows
        numbers=False,
    )
    common = set(_ends(whole)) & set(_ends(chained))
    masks = None if lengths is None else (number_masks(source), number_masks(reference))
    beads: list[Bead] = []
    for plain, chain in zip(_stretches(whole, common), _stretches(chained, common)):
        if [(b.source, b.reference) for b in chain] == [(b.source, b.reference) for b in plain]:
            beads += [replace(b, confidence=max(b.confidence, c.confidence)) for b, c in zip(plain, chain)]
            continue
        divided = all(
            max(len(b.source), len(b.reference)) <= 2
            or (len(b.source) == 1 and unit_counts[b.source[0]] >= len(b.reference))
            for b in chain
        )
        taken = all(len(b.source) < 3 for b in chain) and (len(chain) >= len(plain) or divided)
        if taken and masks is not None:  # the chained pass leaves figures out of its search: they judge here
            taken = numbers_missed_by(chain, masks) <= numbers_missed_by(plain, masks)
        beads += chain if taken else plain
    return beads


def _ends(beads: Sequence[Bead]) -> list[tuple[int, int]]:
    """The (sentences, reference sentences) covered after each bead of a path."""
    ends, i, j = [], 0, 0
    for bead in beads:
        i, j = i + len(bead.source), j + len(bead.reference)
        ends.append((i, j))
    return ends


def _stretches(beads: Sequence[Bead], cuts: set[tuple[int, int]]) -> list[list[Bead]]:
    """A path's beads in runs that end at the points of ``cuts`` (every path ends at one)."""
    stretches: list[list[Bead]] = [[]]
    for bead, end in zip(beads, _ends(beads)):
        stretches[-1].append(bead)
        if end in cuts:
            stretches.append([])
    return stretches[:-1]
