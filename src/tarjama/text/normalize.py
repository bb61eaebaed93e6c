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


ASCII_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬", "01234567890123456789.,")
"""Arabic-Indic and Eastern Arabic-Indic digits, and the Arabic decimal and thousands separators, as ASCII: a
number reads the same whichever digits wrote it (the number check, the aligner's numbers)."""

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
"""A number in ASCII digits, with its separators (``350,000``, ``5.6``); read after :data:`ASCII_DIGITS`."""


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


C0_CONTROLS = "\x00-\x08\x0e-\x1f"
"""The C0 control characters other than whitespace (tab, LF, VT, FF, CR), as the body of a regex character
class: what text has next to none of, and what every cleaning of text in tarjama removes or counts.
:func:`clean_translation` adds DEL, C1 and the bidi controls to it; the TMX export the two non-characters
XML 1.0 cannot carry either (VT and FF, which it cannot carry too, are made spaces before that); the
article reader counts these alone to tell UTF-16 or binary data from text."""

# What a terminal or a viewer would act on rather than show: whole ANSI escape sequences first (CSI, as in
# colour codes "ESC[31m"; OSC, as in a title "ESC]0;title BEL", when terminated), so no "[31m" is left
# behind; then every other C0 control but the whitespace ones, DEL, the C1 controls but NEL, and the bidi
# embeddings, overrides and isolates, one character at a time.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)")
_CONTROL = re.compile(f"[{C0_CONTROLS}\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")


def clean_translation(text: str) -> str:
    """An engine's answer without the characters no translation is made of, as tarjama keeps it: in the
    translation memory, the rows and every export (``tarjama.translation.translate`` cleans each answer
    once, as it arrives, and the memory each translation it serves, so one stored before is served clean).

    Removed: ANSI escape sequences whole (colour codes, terminal titles), the C0 controls but tab and the
    line breaks (LF, CR, VT, FF; the line formats already write those as spaces), DEL, the C1 controls but
    NEL (a line break too), and the bidi embeddings, overrides and isolates (U+202A-202E, U+2066-2069).
    Those last are legitimate in mixed Arabic text, but an MT line is English: the Unicode bidi algorithm
    orders an Arabic name left in it without them; an override shows characters in another order than the
    one stored (what a search, a diff or a score sees), and one left open runs on into what a viewer shows
    after it. tarjama takes them out of its Arabic input too (:func:`normalize_text`). The bidi marks
    (LRM, RLM, ALM) stay: they reorder nothing beyond themselves and can set a stray punctuation mark right.
    """
    if text.isprintable():  # the common case, without a regex: no control nor format character at all
        return text
    return _CONTROL.sub("", _ESCAPE_SEQUENCE.sub("", text))
