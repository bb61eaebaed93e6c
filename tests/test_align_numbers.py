"""Numbers written in digits speak where the MT does not: a figure on one side of a pair only counts against it
(real NTREX news, the committed local MT, the alignment benchmark's perturbations)."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.alignment_data import (
    BeadScores,
    Case,
    load_arabic_documents,
    load_documents,
    perturb_document,
)
from benchmarks.bench_align import SEED_STRIDE, units_beads
from tarjama.alignment.align import AlignmentConfig, align
from tarjama.alignment.dp import Bead
from tarjama.alignment.numbers import NUMBER_DOUBT, number_masks, numbers_in, span_numbers, vouched_by_numbers


def test_numbers_are_read_in_one_spelling() -> None:
    assert numbers_in("His bond has been set at $350,000 in 2018.") == ["350000", "2018"]
    assert numbers_in("بلغت الكفالة ٣٥٠٬٠٠٠ دولار بنسبة ٥٫٦ في المئة") == ["350000", "5.6"]
    assert numbers_in("رقم ۱۲ و 5,6") == ["12", "5.6"]
    assert numbers_in("No figures here, only words.") == []


def test_a_span_holds_the_numbers_of_its_sentences() -> None:
    masks = number_masks(["in 1870", "no number", "in 1930", "in 1870 again"])
    assert masks[1] == 0 and masks[-1] == 0  # a sentence without digits; the empty set past the end
    assert span_numbers(masks, _cells(4), 1)[0] == masks[0]  # sentence 3 repeats sentence 0's one number
    both = span_numbers(masks, _cells(3), 3)[0]
    assert both == masks[0] | masks[2] and both != masks[0]
    assert span_numbers(masks, _cells(1), 3)[0] == masks[0]  # fewer sentences where the text starts


def _cells(*ends: int) -> np.ndarray:
    return np.array(ends, dtype=np.int64)


def _deleted_case(document: int, draw: int) -> Case:
    return perturb_document(
        load_documents()[document], load_arabic_documents()[document], "delete_5", seed=document + SEED_STRIDE * draw
    )


def test_a_figure_the_arabic_lacks_keeps_an_english_line_out_of_its_pair() -> None:
    """The Arabic of "His bond has been set at $350,000" was deleted; the next sentence's MT is too weak to hold
    its own English ("Ernst-Batow Rugg-Berger" for "East Baton Rouge Parish Coroner"), so the lengths glued the
    lone line to it. The figure the Arabic does not write keeps it alone."""
    case = _deleted_case(16, 4)
    bond = next(j for j, line in enumerate(case.reference) if "$350,000" in line)
    glued = {(b.source, b.reference) for b in align(case.mt, case.reference, source=case.arabic, numbers=False)}
    assert any(bond in reference and source for source, reference in glued)
    beads = {(b.source, b.reference) for b in align(case.mt, case.reference, source=case.arabic)}
    assert ((), (bond,)) in beads
    assert beads <= {(tuple(s), tuple(t)) for s, t in case.gold} | glued


def test_the_units_path_keeps_a_figure_the_arabic_lacks_out_of_its_pair_too() -> None:
    """The same deleted sentence with rows of clause units: the sentence stage's pass with the large beads (which
    leaves figures out of its search) glues the lone line into a 1-2; the figure keeps the whole-sentence
    stretch, where it stands alone."""
    case = _deleted_case(16, 4)
    bond = next(j for j, line in enumerate(case.reference) if "$350,000" in line)
    chained = align(
        case.mt,
        case.reference,
        source=case.arabic,
        bead_priors=AlignmentConfig().priors,
        gap_extension=0.0,
        numbers=False,
    )
    assert any(bond in b.reference and b.source for b in chained)
    rows = {(b.source, b.reference) for b in units_beads(case.arabic, case.mt, case.reference)}
    assert ((), (bond,)) in rows


@pytest.mark.parametrize("variant", ["delete_5", "all"])
def test_numbers_make_the_tuning_half_no_worse_and_deletions_better(variant: str) -> None:
    with_numbers, without = BeadScores(), BeadScores()
    documents, arabic = load_documents(), load_arabic_documents()
    for draw in range(5):
        for document in range(0, len(documents), 2):
            case = perturb_document(documents[document], arabic[document], variant, seed=document + SEED_STRIDE * draw)
            for scores, numbers in ((with_numbers, True), (without, False)):
                beads = align(case.mt, case.reference, source=case.arabic, numbers=numbers)
                scores.add([(b.source, b.reference) for b in beads], case.gold)
    assert with_numbers.strict()[2] > without.strict()[2] + 0.001


def test_a_pair_whose_figures_agree_is_not_doubted_for_weak_mt() -> None:
    """Nielsen's ratings (3.1, 2.94, 2.89 and 2.52 million viewers on both sides), with a line deleted nearby:
    the local model's MT of the Arabic is poor, so the search doubted the pair; four shared figures vouch for it."""
    case = _deleted_case(14, 4)
    ratings = next(j for j, line in enumerate(case.reference) if "2.94 million" in line)
    beads = align(case.mt, case.reference, source=case.arabic)
    row = next(b for b in beads if ratings in b.reference)
    assert (row.source, row.reference) in {(tuple(s), tuple(t)) for s, t in case.gold}
    assert row.confidence >= 0.9
    unvouched = align(case.mt, case.reference, source=case.arabic, numbers=False)
    assert next(b.confidence for b in unvouched if (b.source, b.reference) == (row.source, row.reference)) < 0.5


def test_a_row_missing_a_figure_is_not_vouched_for() -> None:
    """Shared figures vouch only where neither side writes one the other lacks."""
    masks = number_masks(["costs 12 dollars", "in 2019 and 2020"]), number_masks(["cost $12", "in 2019"])
    rows = [Bead((0,), (0,), 0.4), Bead((1,), (1,), 0.4), Bead((), (1,), 0.4)]
    vouched = vouched_by_numbers(rows, masks)
    assert vouched[0].confidence == pytest.approx(1 - 0.6 * NUMBER_DOUBT)
    assert vouched[1].confidence == 0.4 and vouched[2].confidence == 0.4
