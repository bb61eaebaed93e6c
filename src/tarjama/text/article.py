"""Reading articles and references: decode, validate, normalise, segment.

Every check here exists so that a bad file fails before any translation is
paid for, with one line naming the file and the problem.

Corpus naming convention: an article is ``<id>.ar.txt`` (one paragraph per
line); its human references sit beside it as ``<id>.en.txt`` and, for more
than one, ``<id>.en-<label>.txt`` (e.g. ``<id>.en-b.txt``, the label without a dot).
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from enum import StrEnum
from io import BufferedReader
from pathlib import Path
from typing import Literal, NoReturn

from tarjama.errors import InputError, counted
from tarjama.text.clauses import DEFAULT_RULES, ClauseRules, split_clauses
from tarjama.text.normalize import C0_CONTROLS, split_paragraphs
from tarjama.text.segment import split_sentences

_ARABIC_LETTER = re.compile(r"[\u0621-\u064A\u066E-\u06D3\u06FA-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00C0-\u024F]")
_WORD = re.compile(r"[A-Za-z']+")
_ARABIC_WORD = re.compile(r"[\u0621-\u064A]+")
# Frequent English function words that are rare in other Latin-script languages.
_ENGLISH_MARKERS = frozenset(
    "the of and to is that for with was were are by this from his her have has it be which said "
    "not but they their will at he she its been would who".split()
)


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence with its 1-based position in the document and in its paragraph order.

    ``units`` are its clause units (:mod:`tarjama.text.clauses`), which joined with
    spaces give ``text``; a sentence not cut into clauses is one unit.
    """

    number: int
    paragraph: int
    text: str
    units: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.units:
            object.__setattr__(self, "units", (self.text,))
        elif " ".join(self.units) != self.text:
            raise ValueError(f"units of sentence {self.number} do not join to its text")


Granularity = Literal["units", "sentences"]
"""What an alignment's items are, and so what a row holds: whole clause units (rows follow the
reference's sentences wherever the Arabic can be cut there) or whole Arabic sentences."""


class UnitTranslation(StrEnum):
    """What the engine is given when rows follow clause units (measured in :mod:`tarjama.alignment.regroup`)."""

    UNITS = "units"  # each unit alone
    SENTENCES = "sentences"  # each sentence whole, its MT cut into one piece per unit


@dataclass(frozen=True, slots=True)
class Unit:
    """One clause unit: ``sentence`` indexes ``Document.sentences``, ``index`` counts within that sentence (0-based)."""

    sentence: int
    index: int
    text: str


@dataclass(frozen=True, slots=True)
class Document:
    id: str
    path: Path
    lang: str
    sentences: tuple[Sentence, ...]

    @property
    def texts(self) -> list[str]:
        return [s.text for s in self.sentences]

    @property
    def units(self) -> list[Unit]:
        """Every sentence's clause units, in order."""
        return [Unit(s, k, text) for s, sentence in enumerate(self.sentences) for k, text in enumerate(sentence.units)]

    def items(self, granularity: Granularity) -> list[tuple[Unit, ...]]:
        """What is aligned, in order: one unit each, or each sentence's units together."""
        if granularity == "units":
            return [(unit,) for unit in self.units]
        return [
            tuple(Unit(s, k, text) for k, text in enumerate(sentence.units))
            for s, sentence in enumerate(self.sentences)
        ]

    def unit_id(self, unit: Unit) -> str:
        """``"3.2"``: the unit's sentence number (as in ``source_ids``) and its 1-based place in that sentence."""
        return f"{self.sentences[unit.sentence].number}.{unit.index + 1}"


MAX_LINE_CHARS = 20_000
"""The longest line (paragraph) read. Real paragraphs are far shorter, and a whole news article on
one line rarely longer. One unbroken 200,000-character line drove ``tarjama align`` past 5 GB (the
aligner's memory grows faster than linearly with a sentence's length); at this limit it peaks near 260 MB."""

_BOMS = {  # the longest first: UTF-32LE's mark begins with UTF-16LE's
    b"\xff\xfe\x00\x00": "UTF-32LE",
    b"\x00\x00\xfe\xff": "UTF-32BE",
    b"\xff\xfe": "UTF-16LE",
    b"\xfe\xff": "UTF-16BE",
}
# C0 controls other than whitespace: UTF-8 text has next to none; UTF-16 read as UTF-8 is full of them.
_CONTROL = re.compile(f"[{C0_CONTROLS}]")
_CONTROL_BYTE = re.compile(f"[{C0_CONTROLS}]".encode("ascii"))
MIN_ARTICLE_SHARE = 0.1
"""Bytes that are not UTF-8 are taken for Windows-1256 Arabic when, decoded so, most of their letters are
Arabic and at least this share of their Arabic words hold the article ``ال`` (about a third in news text).
Russian (Windows-1251) and Greek (Windows-1253) text also decode to Arabic letters, in which that pair
is rare; Latin-1 or Windows-1252 text only for some accented letters (Windows-1256 keeps French ones)."""
_EXPECTED_CHAR = re.compile(r"[\s!-~\u00a0-\u024f\u0600-\u06ff\u0750-\u077f\u2000-\u206f\ufb50-\ufdff\ufe70-\ufeff]")


def _utf16_without_bom(data: bytes) -> str | None:
    """``UTF-16BE``/``UTF-16LE`` if ``data`` reads as Arabic or Latin text in that byte order, else ``None``.

    Both byte orders decode to some printable text (swapped Arabic is CJK and dingbats), so the order
    that gives mostly Arabic, Latin and whitespace is the one.
    """
    best, best_share = None, 0.9
    for codec in ("UTF-16BE", "UTF-16LE"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        share = len(_EXPECTED_CHAR.findall(text)) / len(text)
        if share >= best_share:
            best, best_share = codec, share
    return best


def _check_encoding(path: Path, data: bytes, text: str) -> None:
    """UTF-16 without a byte-order mark is valid UTF-8 full of NULs and controls: name it, not "no Arabic"."""
    if len(_CONTROL.findall(text)) > len(text) // 100:
        _refuse_binary(path, data)


def _looks_binary(data: bytes) -> bool:
    """Full of NUL and control bytes, as UTF-16 and binary files are and text is not, whatever its encoding."""
    return len(_CONTROL_BYTE.findall(data)) > len(data) // 100


def _refuse_binary(path: Path, data: bytes) -> NoReturn:
    codec = _utf16_without_bom(data)
    if codec is not None:
        raise InputError(path, f"not UTF-8: looks like {codec} without a byte-order mark (save it as UTF-8)")
    raise InputError(path, "not a text file (binary data: NUL and control bytes)")


def _check_line_lengths(path: Path, text: str) -> None:
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise InputError(
                path,
                f"line {number} has {len(line):,} characters; the longest line read is {MAX_LINE_CHARS:,} "
                "(put each paragraph on a line of its own)",
            )


class NotRegularFileError(OSError):
    """A FIFO, socket or device where a file was expected (as :class:`IsADirectoryError` is for a folder)."""


_SPECIAL_FILES = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _mode(path: Path) -> int:
    try:
        return os.stat(path).st_mode
    except ValueError:  # a NUL in the name (a manifest's "path" can hold one): no such file can exist
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), repr(str(path))) from None


def _refuse_unless_regular(path: Path, mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _SPECIAL_FILES if test(mode)), "a special file")
        raise NotRegularFileError(errno.EINVAL, f"is {kind}, not a regular file", str(path))


def open_regular(path: Path) -> BufferedReader:
    """``path`` opened for binary reading if it is a regular file (or a link to one), else an :class:`OSError`.

    Opening or reading a FIFO blocks until something writes to it, and a device may never end: so the
    type is checked before opening, and again on what was opened (non-blocking, so that a FIFO put in
    the file's place in between cannot block the open either).
    """
    _refuse_unless_regular(path, _mode(path))
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        _refuse_unless_regular(path, os.fstat(fd).st_mode)
    except OSError:
        os.close(fd)
        raise
    return open(fd, "rb")  # reads of a regular file never block, O_NONBLOCK or not


def _unreadable(path: Path, error: OSError) -> InputError:
    """The one line for a file that cannot be opened (missing, a folder, a FIFO, no permission)."""
    if isinstance(error, FileNotFoundError):
        return InputError(path, "file not found")
    if isinstance(error, IsADirectoryError):
        return InputError(path, "is a directory, expected a text file")
    if isinstance(error, NotRegularFileError):
        return InputError(path, str(error.strerror))
    return InputError(path, f"cannot be read ({error.strerror or error})")


def check_regular_file(path: Path) -> None:
    """An :class:`InputError` unless ``path`` is a regular file; the file is not opened."""
    try:
        _refuse_unless_regular(path, _mode(path))
    except OSError as error:
        raise _unreadable(path, error) from None


def not_utf8(error: UnicodeDecodeError) -> str:
    """What is wrong with bytes that are not UTF-8, in the words every input (a file, standard input) gets:
    the first bad byte and its offset, decoded from the start, and how to convert them when they read as
    Windows-1256 Arabic (the legacy Arabic encoding of Windows, and so of many saved news pages)."""
    problem = f"not valid UTF-8 (byte 0x{error.object[error.start]:02x} at offset {error.start})"
    if _looks_like_cp1256_arabic(bytes(error.object)):
        problem += "; looks like Windows-1256: convert it with iconv -f cp1256 -t utf-8"
    return problem


def _looks_like_cp1256_arabic(data: bytes) -> bool:
    try:
        text = data.decode("cp1256")
    except UnicodeDecodeError:  # the bytes Windows-1256 leaves undefined
        return False
    words = _ARABIC_WORD.findall(text)
    articles = sum("ال" in word for word in words)
    return len(words) > len(_WORD.findall(text)) and articles >= MIN_ARTICLE_SHARE * len(words)


def read_utf8(path: Path) -> str:
    """The file's text; a missing, empty, non-UTF-8 or binary file, an endless line, or anything that is not
    a regular file (a folder, FIFO, socket or device, refused unread), is an :class:`InputError`."""
    try:
        with open_regular(path) as handle:
            data = handle.read()
    except OSError as error:
        raise _unreadable(path, error) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        for mark, codec in _BOMS.items():
            if data.startswith(mark):
                raise InputError(
                    path, f"not UTF-8: {codec} (byte-order mark 0x{mark.hex()}; save it as UTF-8)"
                ) from None
        if _looks_binary(data):  # a binary file's first byte that is not UTF-8 says nothing useful
            _refuse_binary(path, data)
        raise InputError(path, not_utf8(error)) from None
    if not text.strip():
        raise InputError(path, "file is empty")
    _check_encoding(path, data, text)
    _check_line_lengths(path, text)
    return text


def document_id(path: Path) -> str:
    """``corpus/foo.ar.txt`` → ``foo``: the id used in outputs and artifact keys."""
    name = path.name
    for suffix in (".ar.txt", ".txt"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def reference_label(path: Path) -> str:
    """``foo.en.txt`` → ``en``, ``foo.en-b.txt`` → ``en-b``: names a reference in outputs."""
    parts = path.name.split(".")
    return parts[-2] if len(parts) >= 3 else path.stem


def split_reference_name(name: str) -> tuple[str, str] | None:
    """``x.en-b.txt`` → ``("x", "en-b")``: the article id and the label a conventional reference file name
    gives, or ``None`` if ``name`` is not ``<id>.en.txt`` or ``<id>.en-<label>.txt``.

    A label holds no dot, so a name has one reading: ``x.en-b.en.txt`` is article ``x.en-b``'s reference
    ``en``, never article ``x``'s reference ``en-b.en``, and a name ending ``.ar.txt`` is always an
    article, never a reference (``x.en-b.ar.txt`` is article ``x.en-b``).
    """
    article, dot, label = name.removesuffix(".txt").rpartition(".")
    if not name.endswith(".txt") or not dot or not article:
        return None
    if label != "en" and not (label.startswith("en-") and len(label) > len("en-")):
        return None
    return article, label


def labelled_references(folder: Path) -> dict[str, list[str]]:
    """The names in ``folder`` of labelled references (``<id>.en-<label>.txt``), by article id, each list in
    name order: one listing of the folder serves all its articles (:func:`find_references` listing the
    folder once per article took 47 s for 4,000 articles in one folder). A folder that cannot be listed
    has none (as :meth:`pathlib.Path.glob` finds none): its articles fail alone, in one line, when read."""
    try:
        with os.scandir(folder) as entries:
            names = sorted(entry.name for entry in entries)
    except OSError:
        return {}
    by_article: dict[str, list[str]] = {}
    for name in names:
        split = split_reference_name(name)
        if split is not None and split[1] != "en":
            by_article.setdefault(split[0], []).append(name)
    return by_article


def find_references(article: Path, labelled: dict[str, list[str]] | None = None) -> list[Path]:
    """The references that follow the naming convention beside ``article``: its id matched literally
    (an id such as ``report [1]`` is no pattern), each label without a dot. ``labelled``: what
    :func:`labelled_references` gives for the article's folder, if it was listed already."""
    stem = document_id(article)
    primary = article.with_name(f"{stem}.en.txt")
    if labelled is None:
        labelled = labelled_references(article.parent)
    others = [article.parent / name for name in labelled.get(stem, ())]
    return ([primary] if primary.exists() else []) + others  # a FIFO or folder there fails the article, in one line


_NOT_IN_A_NAME = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def name_problem(name: str) -> str | None:
    """What makes ``name`` unusable as an article id or a reference label, or ``None`` if nothing does.

    An id and a label are written into every output, and every output must hold the same one. So refused:

    - a control character (Unicode category Cc: tab, line breaks, NUL, ESC, ...) or a line or paragraph
      separator (U+2028, U+2029): the TSV and Moses files turn tabs and line breaks into spaces (they are
      their separators) where Parquet and JSON keep them, and no reader expects the others in a name.
      Format characters such as bidi controls are kept: every output carries them as they are, and
      every display of them escapes them.
    - whitespace at either end: kept, it is lost wherever an id is shown (report.md's tables, the viewer,
      a spreadsheet), so `` x`` and ``x`` would look like one id while being two; stripped, the id would
      no longer be the one the manifest or the file name gives, the id a user looks for.
    """
    if not name.strip():
        return "is empty" if not name else "is only whitespace"
    control = _NOT_IN_A_NAME.search(name)
    if control:
        return f"holds a control character ({control.group()!r})"
    if name != name.strip():
        return "begins or ends with whitespace"
    return None


def check_file_name(path: Path, name: str, what: str) -> None:
    """An :class:`InputError` naming ``path`` if ``name``, the ``what`` (``"article id"``, ``"reference
    label"``) its file name gives, is refused by :func:`name_problem`."""
    problem = name_problem(name)
    if problem:
        raise InputError(path, f"the {what} its name gives, {name!r}, {problem} (rename the file)")


MIN_WORDS_JUDGED = 8
"""A Latin-script text with fewer words and few common English words is taken as English: a headline
("Volcano spews ash on Mexico City") is too short for the language identifier to tell."""
MAX_ENGLISH_PROBABILITY = 0.01
"""Below this probability of English (py3langid), a text of enough words is in another language: English
lines that reach the identifier score 0.3 or more, French, Spanish, German, Italian, Portuguese and Dutch
sentences below 0.006 (benchmarks/results/reference-language.md)."""


def _check_language(path: Path, text: str, lang: str) -> None:
    """Refuse a text that is not in ``lang`` on positive evidence only: mostly Arabic letters for English, or
    another language the identifier is sure of; a short Latin-script text is English."""
    arabic = len(_ARABIC_LETTER.findall(text))
    latin = len(_LATIN_LETTER.findall(text))
    if lang == "ar":
        if arabic == 0 or arabic < latin:
            raise InputError(path, f"no Arabic text ({arabic} Arabic and {latin} Latin letters)")
        return
    if arabic > latin or latin == 0:
        raise InputError(path, f"not English ({arabic} Arabic and {latin} Latin letters)")
    words = [w.lower() for w in _WORD.findall(text)]
    markers = sum(w in _ENGLISH_MARKERS for w in words)
    if len(words) < MIN_WORDS_JUDGED or markers / len(words) >= 0.05:  # few words: too short to judge
        return
    from tarjama.text.language import language_identifier

    ranked = language_identifier().rank(text)
    english = dict(ranked).get("en", 0.0)
    if english < MAX_ENGLISH_PROBABILITY:
        raise InputError(
            path,
            f"not English (most likely {ranked[0][0]}: P(en) = {english:.3f} over {counted(len(words), 'word')}, "
            f"{counted(markers, 'common English word')})",
        )


def load_document(
    path: Path, lang: str, doc_id: str | None = None, clause_rules: ClauseRules | None = DEFAULT_RULES
) -> Document:
    """Read, check the language of, normalise and split one article (``ar``) or reference (``en``).

    Arabic sentences are also cut into clause units by ``clause_rules`` (``None``: one unit a sentence).
    """
    return parse_document(read_utf8(path), path, lang, doc_id, clause_rules)


def parse_document(
    text: str, path: Path, lang: str, doc_id: str | None = None, clause_rules: ClauseRules | None = DEFAULT_RULES
) -> Document:
    """Check the language of, normalise and split a text; ``path`` names where it came from (a file, or a
    manifest record) in messages and outputs."""
    if not text.strip():
        raise InputError(path, "text is empty")
    _check_line_lengths(path, text)
    _check_language(path, text, lang)
    return split_document(text, path, lang, doc_id, clause_rules)


def split_document(
    text: str, path: Path, lang: str, doc_id: str | None = None, clause_rules: ClauseRules | None = DEFAULT_RULES
) -> Document:
    """A document from text already read and checked: normalised, split into sentences and (Arabic) clause units."""
    sentences: list[Sentence] = []
    for paragraph_number, paragraph in enumerate(split_paragraphs(text), start=1):
        for sentence in split_sentences(paragraph, lang):
            units = split_clauses(sentence, clause_rules) if lang == "ar" and clause_rules else [sentence]
            sentences.append(Sentence(len(sentences) + 1, paragraph_number, sentence, tuple(units)))
    if not sentences:
        raise InputError(path, "no sentences after normalisation")
    return Document(doc_id or document_id(path), path, lang, tuple(sentences))
