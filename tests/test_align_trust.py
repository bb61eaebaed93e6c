"""Rows you can trust: broken MT costs no pair, one-sided lines stand alone, and the confidence asks only
whether the Arabic and the English belong together (real NTREX news, the committed local MT)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from conftest import assert_valid

from benchmarks.alignment_data import (
    ONE_SIDED_REFERENCE,
    ONE_SIDED_SOURCE,
    load_arabic_documents,
    load_documents,
    perturb_document,
)
from tarjama.alignment.align import align, broken_mt
from tarjama.corpus.schema import FLAG_BELOW

Document = tuple[list[str], list[str], list[str]]  # Arabic, MT, English, line-aligned


@pytest.fixture(scope="module")
def documents() -> list[Document]:
    return [
        ([a for a, _ in arabic], [m for m, _ in mt], [e for _, e in mt])
        for arabic, mt in zip(load_arabic_documents(), load_documents())
        if len(mt) >= 6
    ]


def _loop(mt: str, arabic: str) -> str:
    """What the local engine does on a bad day: a few words repeated to about 7 times the source's length."""
    phrase = " ".join(mt.split()[:4])
    return " ".join([phrase] * (7 * len(arabic) // (len(phrase) + 1) + 2))


BREAKS: dict[str, Callable[[str, str], str]] = {
    "loop": _loop,
    "truncated": lambda mt, arabic: " ".join(mt.split()[:3]),
    "empty": lambda mt, arabic: "",
    "arabic": lambda mt, arabic: arabic,
    "preamble": lambda mt, arabic: f'Sure, here is the English translation: "{mt}"',
}


def _broken_at(documents: list[Document], kind: str) -> list[tuple[Document, int, list[str]]]:
    """Each document with the MT of its middle line broken as ``kind`` says, that line's number, the
    unbroken MT."""
    cases = []
    for arabic, mt, english in documents:
        k = len(mt) // 2
        broken = [*mt[:k], BREAKS[kind](mt[k], arabic[k]), *mt[k + 1 :]]
        cases.append(((arabic, broken, english), k, mt))
    return cases


def test_broken_mt_lines_are_named() -> None:
    arabic = ["ذهب الرئيس إلى باريس يوم الجمعة لإجراء محادثات مع نظيره الفرنسي حول الأمن."] * 6
    mt = [
        "The president went to Paris on Friday for talks with his French counterpart on security.",
        "The president went to Paris The president went to Paris The president went to Paris",
        "The",
        "",
        arabic[0],
        'Sure, here is the English translation: "The president went to Paris on Friday."',
    ]
    assert broken_mt(mt, arabic) == ["", "loop", "truncated", "empty", "arabic", "preamble"]
    assert broken_mt(mt)[2] == ""  # without the source a short line may be a short sentence


@pytest.mark.parametrize("kind", BREAKS)
def test_a_broken_mt_line_keeps_its_one_to_one_pair(documents: list[Document], kind: str) -> None:
    """A looping, truncated, empty, copied or chatty MT line is no evidence: its pair stays 1-1, and the
    other rows are those of the unbroken document."""
    for (arabic, mt, english), k, unbroken in _broken_at(documents, kind):
        beads = align(mt, english, source=arabic)
        assert_valid(beads, len(mt), len(english))
        pairs = [(b.source, b.reference) for b in beads]
        assert ((k,), (k,)) in pairs, (kind, k)
        assert pairs == [(b.source, b.reference) for b in align(unbroken, english, source=arabic)], (kind, k)


def test_correct_pairs_of_the_committed_mt_are_not_flagged() -> None:
    """The 40 ntrex128-dev documents with the local engine's MT, whose every line pair is a correct row:
    poor MT used to get 29 of them flagged."""
    flagged = 0
    for arabic, mt in zip(load_arabic_documents(), load_documents()):
        beads = align([m for m, _ in mt], [e for _, e in mt], source=[a for a, _ in arabic])
        flagged += sum(b.confidence < FLAG_BELOW and len(b.source) == 1 and b.source == b.reference for b in beads)
    assert flagged < 5


@pytest.mark.parametrize("kind", BREAKS)
def test_a_correct_pair_with_bad_mt_is_not_flagged(documents: list[Document], kind: str) -> None:
    """Pair confidence asks whether the Arabic and the English belong together, not how good the MT is."""
    flagged = 0
    for (arabic, mt, english), k, _ in _broken_at(documents, kind):
        bead = next(b for b in align(mt, english, source=arabic) if k in b.source)
        flagged += bead.confidence < FLAG_BELOW
    assert flagged <= len(documents) // 20, f"{flagged} of {len(documents)} correct pairs flagged"


def test_a_correct_one_to_two_pair_with_hallucinated_mt_is_not_flagged() -> None:
    """ntrex128-dev document 24's local MT of lines 11-12 is a hallucination ("The sun rises in the east
    ... No notes, no explanations ..."): with the two Arabic lines merged, the 1-2 row is right, and its
    English sentences find no support in MT that supports nothing; that lack no longer flags it (0.16 before)."""
    mt_pairs, arabic_pairs = load_documents()[24], load_arabic_documents()[24]
    k = next(i for i, (mt, _) in enumerate(mt_pairs) if mt.startswith("No notes")) - 1
    mt, english, arabic = [m for m, _ in mt_pairs], [e for _, e in mt_pairs], [a for a, _ in arabic_pairs]
    mt[k : k + 2], arabic[k : k + 2] = [" ".join(mt[k : k + 2])], [" ".join(arabic[k : k + 2])]
    row = next(b for b in align(mt, english, source=arabic) if k in b.source)
    assert (row.source, row.reference) == ((k,), (k, k + 1))
    assert row.confidence >= FLAG_BELOW


ALONE_FLOOR = 0.45
"""Share of one-sided lines that must come out alone and unflagged, a little below the measured 18/37 (source
side) and 26/37 (reference side); before the lone-part check 7/37 and 11/37 came out alone at all."""


@pytest.mark.parametrize("side", ["source", "reference"])
def test_a_one_sided_byline_stays_alone(documents: list[Document], side: str) -> None:
    """A byline, credit or dateline on one side only, after a sentence the two sides translate one to
    one, is a 1-0 or 0-1 row of its own, not glued to that sentence's pair."""
    alone = tried = 0
    for n, (arabic, mt, english) in enumerate(documents):
        clean = [(b.source, b.reference) for b in align(mt, english, source=arabic)]
        k = next((i for i in range(len(mt) // 2, len(mt)) if ((i,), (i,)) in clean), None)
        if k is None:
            continue
        tried += 1
        if side == "source":
            ar_line, mt_line = ONE_SIDED_SOURCE[n % len(ONE_SIDED_SOURCE)]
            arabic, mt = [*arabic[: k + 1], ar_line, *arabic[k + 1 :]], [*mt[: k + 1], mt_line, *mt[k + 1 :]]
            lone = ((k + 1,), ())
        else:
            english = [*english[: k + 1], ONE_SIDED_REFERENCE[n % len(ONE_SIDED_REFERENCE)], *english[k + 1 :]]
            lone = ((), (k + 1,))
        beads = align(mt, english, source=arabic)
        pairs = [(b.source, b.reference) for b in beads]
        alone += lone in pairs and ((k,), (k,)) in pairs and beads[pairs.index(lone)].confidence >= FLAG_BELOW
    print(f"\n{side}: {alone} of {tried} one-sided lines alone and not flagged")
    assert alone >= ALONE_FLOOR * tried


def _middle_swapped(documents: list[Document], side: str) -> list[tuple[Document, int]]:
    """Each document with its middle line's MT (``side="mt"``) or reference (``"reference"``) replaced by
    the next document's middle line: a correct pair with sound but unrelated MT, or a wrong pair."""
    cases = []
    for n, (arabic, mt, english) in enumerate(documents):
        k, (_, other_mt, other_english) = len(mt) // 2, documents[(n + 1) % len(documents)]
        if side == "mt":
            mt = [*mt[:k], other_mt[len(other_mt) // 2], *mt[k + 1 :]]
        else:
            english = [*english[:k], other_english[len(other_english) // 2], *english[k + 1 :]]
        cases.append(((arabic, mt, english), k))
    return cases


def test_a_correct_pair_with_sound_but_unrelated_mt_is_not_flagged(documents: list[Document]) -> None:
    """MT that is fluent but says something else (the local engine's hallucinations) scores no better
    against its reference than against any sentence; with lengths that agree, the pair stays unflagged."""
    flagged = 0
    for (arabic, mt, english), k in _middle_swapped(documents, "mt"):
        bead = next(b for b in align(mt, english, source=arabic) if k in b.source)
        flagged += bead.confidence < FLAG_BELOW and bead.reference == (k,)
    assert flagged <= len(documents) // 20, f"{flagged} of {len(documents)} correct pairs flagged"


def test_a_wrong_pair_is_flagged_or_left_alone(documents: list[Document]) -> None:
    """A reference sentence from another article (sound MT that matches it no better than unrelated
    sentences, lengths that need not agree) ends in a flagged row or alone; before, 15 of 37 did."""
    doubted = 0
    for (arabic, mt, english), k in _middle_swapped(documents, "reference"):
        rows = [b for b in align(mt, english, source=arabic) if k in b.reference]
        doubted += all(not b.source or b.confidence < FLAG_BELOW for b in rows)
    assert doubted >= 0.45 * len(documents), f"{doubted} of {len(documents)} foreign sentences doubted"


@pytest.mark.parametrize(("side", "share"), [("source", 0.78), ("reference", 0.89)])
def test_a_one_sided_line_stands_alone_or_flags_the_row_it_is_glued_to(
    documents: list[Document], side: str, share: float
) -> None:
    """A byline or caption either comes out as a row of its own, or the part of the 1-2/2-1 row the other
    side does not support makes that row doubtful. The aligner and the confidence of 0.2.0 did so for 26
    (source side) and 31 (reference side) of 37 documents; now 30 and 35."""
    handled = 0
    for n, (arabic, mt, english) in enumerate(documents):
        k = len(mt) // 2
        if side == "source":
            ar_line, mt_line = ONE_SIDED_SOURCE[n % len(ONE_SIDED_SOURCE)]
            arabic, mt = [*arabic[: k + 1], ar_line, *arabic[k + 1 :]], [*mt[: k + 1], mt_line, *mt[k + 1 :]]
            rows = [b for b in align(mt, english, source=arabic) if k + 1 in b.source]
            alone = all(not b.reference for b in rows)
        else:
            english = [*english[: k + 1], ONE_SIDED_REFERENCE[n % len(ONE_SIDED_REFERENCE)], *english[k + 1 :]]
            rows = [b for b in align(mt, english, source=arabic) if k + 1 in b.reference]
            alone = all(not b.source for b in rows)
        handled += alone or any(b.confidence < FLAG_BELOW for b in rows)
    assert handled >= share * len(documents), f"{side}: {handled} of {len(documents)} one-sided lines alone or flagged"


def _unmatched_rows(variant: str, draws: int) -> tuple[list[float], list[float]]:
    """The confidences of the correct and of the wrong 1-0/0-1 rows on every document perturbed as ``variant``
    says, ``draws`` times each (the alignment benchmark's perturbations)."""
    correct: list[float] = []
    wrong: list[float] = []
    for draw in range(draws):
        for n, (mt_pairs, arabic_pairs) in enumerate(zip(load_documents(), load_arabic_documents())):
            case = perturb_document(mt_pairs, arabic_pairs, variant, seed=n + 1000 * draw)
            gold = {(tuple(s), tuple(t)) for s, t in case.gold}
            for b in align(case.mt, case.reference, source=case.arabic):
                if not (b.source and b.reference):
                    (correct if (b.source, b.reference) in gold else wrong).append(b.confidence)
    return correct, wrong


def test_a_lone_line_that_recalls_nothing_of_its_neighbours_is_not_flagged() -> None:
    """A byline or caption with no counterpart whose MT (or English) shares nothing with the rows beside it is
    not flagged because the search weighed gluing it there (6 of 177 correct lone rows were, all perturbations
    and one-sided lines, five draws); a lone sentence that belongs to a neighbour's row (its MT matches
    there) is still doubted (3 of 11 were flagged, 2 are; since 0.3.8 numbers put three of those 11 right, and
    1 of the 8 left is flagged)."""
    correct, wrong = _unmatched_rows("all+one_sided", draws=5)
    assert sum(c < FLAG_BELOW for c in correct) <= 1
    assert sum(c < FLAG_BELOW for c in wrong) >= 1
