"""Text normalisation run on every input before segmentation.

Arabic web and news text carries invisible characters (bidi marks, BOM,
zero-width spaces), decorative tatweel and decomposed letters that make
identical words compare unequal and confuse the splitter and aligner, so
they are removed or composed here, once, for every later stage.
"""

from __future__ import annotations

import re
import unicodedata

# Bidi controls (LRM, RLM, ALM, embeddings/overrides, isolates), tatweel,
# zero-width space and BOM: they change no meaning, only how text displays.
_INVISIBLE = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\u0640\u200b\ufeff]")


def normalize_text(text: str) -> str:
    """Return ``text`` cleaned, with its lines (paragraphs) kept, joined by LF.

    Line breaks are whatever ``str.splitlines`` breaks on (LF, CRLF, CR,
    U+2028, U+2029, ...), so every later stage sees the same paragraphs;
    a final line break is dropped. Within a line, any run of whitespace
    (tabs, NBSP, thin spaces, ...) becomes one space and the ends are stripped.
    """
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def split_paragraphs(text: str) -> list[str]:
    """Return the non-empty lines of the normalised text: one per paragraph."""
    return [line for line in normalize_text(text).split("\n") if line]
