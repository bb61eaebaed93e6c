"""One alignment configuration for `tarjama run` and `tarjama align`, and its signature."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, assert_valid

import tarjama
from tarjama.alignment.align import AlignmentConfig, align_translation
from tarjama.text.article import load_document

SEED_MT = ROOT / "tests" / "fixtures" / "morocco-us-counterterrorism.mt.en.txt"


@pytest.fixture(scope="module")
def seed() -> tuple[list[str], list[str], list[str]]:
    """The seed article's Arabic sentences, their local-engine MT (one line each) and the English sentences."""
    arabic = load_document(CORPUS / "morocco-us-counterterrorism.ar.txt", "ar")
    english = load_document(CORPUS / "morocco-us-counterterrorism.en.txt", "en", arabic.id)
    mt = Path(SEED_MT).read_text(encoding="utf-8").splitlines()
    assert len(mt) == len(arabic.texts) == 13 and len(english.texts) == 42
    return arabic.texts, mt, english.texts


def test_default_signature_names_every_setting() -> None:
    signature = AlignmentConfig().signature().format()
    assert signature == (
        "aligner:chrf-len|rows:units|beads:1-1,1-2,2-1,2-2,1-3,1-4,1-5,1-6,3-1,2-3,3-2,1-0,0-1"
        "|unit-beads:1-1,2-1,1-2,3-1,2-2,1-3,3-2,2-3,4-1,1-4,5-1,6-1,1-0,0-1|len:src|band:10"
        f"|flag:0.5|version:{tarjama.__version__}"
    )
    sentences = AlignmentConfig(granularity="sentences").signature().format()
    assert sentences == (
        "aligner:chrf-len|rows:sentences|beads:1-1,1-2,2-1,2-2,1-0,0-1,1-3,3-1,2-3,3-2,1-4,4-1,1-5,1-6|len:src|band:10"
        f"|flag:0.5|version:{tarjama.__version__}"
    )
    length_only = AlignmentConfig(aligner="gale-church", band_half_width=4).signature().format()
    assert length_only.startswith(
        "aligner:gale-church|rows:sentences|beads:1-1,1-0,0-1,2-1,1-2,2-2,1-3,1-4,1-5,1-6,3-1,2-3,3-2|len:src|band:4|flag:0.5|"
    )
    custom = AlignmentConfig(bead_priors=(((1, 1), 0.9), ((1, 0), 0.05), ((0, 1), 0.05)), length_model="mt")
    assert custom.signature().format().startswith("aligner:chrf-len|rows:units|beads:1-1,1-0,0-1|unit-beads:")


def test_config_is_frozen_and_hashable() -> None:
    config = AlignmentConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.band_half_width = 3  # type: ignore[misc]
    assert hash(config) == hash(AlignmentConfig()) and config != AlignmentConfig(length_model="mt")


def test_seed_article_aligns_paragraph_by_paragraph(seed) -> None:
    """With the source lengths and the larger beads, each Arabic sentence takes its English paragraph."""
    arabic, mt, english = seed
    config = AlignmentConfig(granularity="sentences")
    alignment = align_translation(arabic, mt, english, config)
    beads = alignment.beads
    assert_valid(beads, len(arabic), len(english))
    assert len(beads) == 13 and all(len(b.source) == 1 and b.reference for b in beads)
    assert all(b.confidence >= config.flag_below for b in beads)
    assert alignment.signature == config.signature()


def test_mt_lengths_and_default_beads_lose_the_paragraphs(seed) -> None:
    """What `tarjama align --mt` did before it shared the configuration: many unmatched, flagged rows."""
    arabic, mt, english = seed
    six = (((1, 1), 0.89), ((1, 2), 0.045), ((2, 1), 0.045), ((2, 2), 0.01), ((1, 0), 0.01), ((0, 1), 0.01))
    config = AlignmentConfig(granularity="sentences", bead_priors=six, length_model="mt")
    beads = align_translation(arabic, mt, english, config).beads
    assert_valid(beads, len(arabic), len(english))
    assert len(beads) > 20 and sum(not b.source for b in beads) > 10


def test_length_aligner_needs_no_mt(seed) -> None:
    arabic, _, english = seed
    alignment = align_translation(arabic, None, english, AlignmentConfig(aligner="gale-church"))
    assert_valid(alignment.beads, len(arabic), len(english))
    assert alignment.signature.aligner == "gale-church"
    with pytest.raises(ValueError, match="needs the machine translation"):
        align_translation(arabic, None, english, AlignmentConfig())
