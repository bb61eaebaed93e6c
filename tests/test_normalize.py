"""Normalisation: invisible characters, line breaks and Unicode forms that
differ between copies of the same Arabic text must not reach later stages."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from tarjama.text.normalize import normalize_text, split_paragraphs

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "morocco-us-counterterrorism.ar.txt"


def test_leading_bom_is_stripped() -> None:
    assert normalize_text("\ufeffكشفت زيارة") == "كشفت زيارة"


@pytest.mark.parametrize("newline", ["\r\n", "\r", "\u2029"])
def test_line_breaks_become_lf(newline: str) -> None:
    assert normalize_text(f"سطر أول{newline}سطر ثان") == "سطر أول\nسطر ثان"


def test_decomposed_letters_are_composed() -> None:
    # alef + combining hamza above -> alef with hamza above
    assert normalize_text("\u0627\u0654كد") == "\u0623كد"


@pytest.mark.parametrize("mark", [*"\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"])
def test_bidi_controls_are_removed(mark: str) -> None:
    assert normalize_text(f"وزير{mark} الخارجية{mark}") == "وزير الخارجية"


@pytest.mark.parametrize("invisible", ["\u0640", "\u200b", "\ufeff"])
def test_tatweel_and_zero_width_characters_are_removed(invisible: str) -> None:
    assert normalize_text(f"الخا{invisible}{invisible}رجية") == "الخارجية"


def test_horizontal_whitespace_collapses_and_lines_are_stripped() -> None:
    assert normalize_text(" \tمايك\u00a0\u00a0بومبيو\u2009وزير \u3000\n  ثم  ") == "مايك بومبيو وزير\nثم"


def test_paragraphs_are_kept() -> None:
    text = "الفقرة الأولى.\r\n\r\n \u200f\r\nالفقرة الثانية.\r\n"
    assert normalize_text(text) == "الفقرة الأولى.\n\n\nالفقرة الثانية."
    assert split_paragraphs(text) == ["الفقرة الأولى.", "الفقرة الثانية."]


def test_seed_article_survives_windows_round_trip() -> None:
    original = SEED.read_text(encoding="utf-8")
    mangled = "\ufeff" + original.replace("\n", " \r\n\r\n").replace("الأمريكية", "الأمر\u0640يكية\u200f")
    paragraphs = split_paragraphs(mangled)
    assert len(paragraphs) == 13
    assert paragraphs == split_paragraphs(original)
    assert all(unicodedata.is_normalized("NFC", paragraph) for paragraph in paragraphs)
