"""What other sentence aligners take and give: pre-segmented text in, bead lines out.

hunalign, Vecalign and Bleualign read text that is already one sentence a line, and Vecalign writes
its alignment as one bead a line, ``[0, 1]:[0]:0.8731`` (0-based line numbers of each side, then a
score), which alignment evaluation scripts read. With these, tarjama can stand in for them, and
:func:`split_text` makes such files with the splitter the pipeline uses.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from tarjama.alignment.dp import Bead
from tarjama.corpus.schema import write_text
from tarjama.errors import InputError
from tarjama.text.article import (
    _ARABIC_LETTER,
    _LATIN_LETTER,
    Document,
    Granularity,
    Sentence,
    _check_language,
    document_id,
    not_utf8,
    parse_document,
    read_utf8,
)
from tarjama.text.normalize import normalize_text


def load_presegmented(path: Path, lang: str, doc_id: str | None = None) -> Document:
    """A document whose sentences are the file's lines, each whole: normalised as any input, never re-split.

    Line n is sentence n (and its only clause unit), so beads number sentences as the file numbers lines.
    A blank line would shift that numbering (an aligner's input has none), so it is refused.
    """
    text = read_utf8(path)
    lines = normalize_text(text).split("\n")
    blank = next((number for number, line in enumerate(lines, start=1) if not line), None)
    if blank is not None:
        raise InputError(path, f"line {blank} is blank; pre-segmented text is one sentence on every line")
    _check_language(path, text, lang)
    sentences = tuple(Sentence(number, number, line) for number, line in enumerate(lines, start=1))
    return Document(doc_id or document_id(path), path, lang, sentences)


def bead_line(source: Sequence[int], target: Sequence[int], confidence: float) -> str:
    """``[0, 1]:[0]:0.8731``: Vecalign's bead line (0-based sentence numbers), with tarjama's confidence."""
    return f"{list(source)}:{list(target)}:{confidence:.4f}"


def write_beads(source: Document, beads: Sequence[Bead], granularity: Granularity, target: Path) -> Path:
    """Each bead as a :func:`bead_line` of Arabic and English sentence numbers (0-based), atomically.

    A bead's source items are clause units or sentences; its line names the sentences they come from,
    so with clause-unit rows a sentence cut between two rows is on both of their lines.
    """
    items = source.items(granularity)
    lines = [
        bead_line(
            list(dict.fromkeys(unit.sentence for i in bead.source for unit in items[i])),
            bead.reference,
            bead.confidence,
        )
        for bead in beads
    ]
    return write_text("".join(line + "\n" for line in lines), target)


STDIN = "-"


def read_input(name: str) -> tuple[Path, str]:
    """The text of file ``name``, or of standard input for ``-``, checked as every input is (UTF-8, not empty)."""
    if name != STDIN:
        return Path(name), read_utf8(Path(name))
    source = Path("<stdin>")
    try:
        text = sys.stdin.buffer.read().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputError(source, not_utf8(error)) from None
    if not text.strip():
        raise InputError(source, "text is empty")
    return source, text


def guess_lang(text: str) -> str:
    """``ar`` when most of the letters are Arabic, else ``en``: the two languages tarjama splits."""
    return "ar" if len(_ARABIC_LETTER.findall(text)) > len(_LATIN_LETTER.findall(text)) else "en"


def split_text(text: str, source: Path, lang: str, units: bool = False) -> list[str]:
    """The sentences of ``text`` (or, with ``units``, their clause units) as the pipeline cuts them: normalised,
    a paragraph a line, its language checked. English sentences are not cut into units."""
    document = parse_document(text, source, lang)
    return [unit for sentence in document.sentences for unit in sentence.units] if units else document.texts
