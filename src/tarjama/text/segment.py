"""Rule-based sentence splitting for Arabic and English paragraphs.

Rules, applied to one paragraph (its whitespace collapsed to single spaces):

1. A sentence can end only after a run of terminators ``. ! ? ؟ … ۔`` (so also
   ``...`` and ``?!``) plus any closing quotes or brackets glued to it
   (``" ' ” “ ’ » « ) ] }`` -- Arabic text uses ``“ ”`` and ``« »`` in either
   orientation), and only if a space follows. ``، ؛ : , ;`` never end one.
   Needing a space protects decimals and numbers (``3.5``, ``1.5m``, ``٣٫٥``),
   URLs and e-mail addresses.
2. The next word must be able to start a sentence: after any opening quotes
   or brackets, a letter, digit or currency sign; in English not a lowercase
   letter (Arabic has no case), so ``"Go?" she asked`` stays one sentence.
3. A single ``.`` directly followed by the space does not end a sentence after
   - a list marker: a number or letter that is all the sentence has so far
     (``1.``, ``٣.``, ``b.``);
   - a title that always precedes a name (``Mr. Dr. Prof. Sen. Capt. ...``);
   - an Arabic single-letter abbreviation (``د. أ. م. ص. ق.م.``), unless
     it follows a number, where ``م.``/``ه.``/``ق.م.`` is an era marker that
     often ends a sentence (``عام 2019 م.``);
   - any other abbreviation or initial (``etc. Inc. a.m. U.S. Oct. J. R.``)
     unless the next word is a common sentence starter (``The``, ``He``,
     ``However`` ...): these can end a sentence, but far more often do not.
4. A double quote standing alone between spaces right after a sentence end
   closes that sentence when the quotes before it are unbalanced
   (``القانون. ” وقال``), so no sentence starts with a closing quote.
5. In Arabic, a sentence that ends inside quotes keeps a short reporting clause
   that follows it (``"يوجد قرش!" كما أضاف هاميل.``), with whatever the
   clause chains after a comma: Arabic has no case to show that ``كما``
   continues the sentence, so the clause is recognised by
   :func:`tarjama.text.clauses.opens_with_reporting_tag` (a verb of saying, at most
   five words) and the clause splitter cuts after it.
"""

from __future__ import annotations

import re

from tarjama.text.clauses import opens_with_reporting_tag

RULES_VERSION = 1
"""Raised whenever a change to these rules can move a sentence boundary: it is part of every run's
pipeline signature, so articles split by older rules are built again rather than reused."""

LANGS = ("ar", "en")

_DOUBLE_QUOTES = '"“”«»„'
_QUOTES = _DOUBLE_QUOTES + "'‘’‹›"
_OPENERS = _QUOTES + "([{"
_CURRENCY = "$£€¥"
_TERMINATORS = ".!?؟…۔"
_CANDIDATE = re.compile(r"(?P<term>[%s]+)(?P<close>[%s)\]}]*) " % (re.escape(_TERMINATORS), re.escape(_QUOTES)))
_ENDING = re.compile(r"[%s][%s)\]}]*\s*$" % (re.escape(_TERMINATORS), re.escape(_QUOTES)))
_DOUBLE_QUOTE = re.compile("[%s]" % _DOUBLE_QUOTES)
_NEXT_WORD = re.compile(r"[%s ]*([%s]?\w*)" % (re.escape(_OPENERS), re.escape(_CURRENCY)))

_LIST_MARKER = re.compile(r"\d{1,3}|[^\W\d_]")
_ARABIC_ABBREVIATION = re.compile(r"(?:[\u0621-\u064a]\.)*[\u0621-\u064a]")
_ERA_MARKERS = frozenset({"م", "ه", "ق.م"})
_INITIALS = re.compile(r"[A-Z]|(?:[A-Za-z]\.)+[A-Za-z]")  # J, U.S, a.m, e.g


def ends_as_sentence(text: str) -> bool:
    """Whether ``text`` ends with a sentence terminator (closing quotes and brackets aside). A line that does not
    (a headline, byline, dateline, caption) was cut from the next by a line break, not at a sentence end."""
    return bool(_ENDING.search(text))


_TITLES = frozenset(
    "mr mrs ms messrs dr prof rev fr st mt gen gov sen rep pres hon lt col maj "
    "capt cmdr adm brig sgt cpl det insp supt".split()
)
_ABBREVIATIONS = frozenset(
    "etc vs inc ltd co corp bros jr sr no nos approx est dept univ "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# No one-letter words: "J. A. Smith" must not split before "A".
_SENTENCE_STARTERS = frozenset(
    "the an this that these those there here it its he she his her they their we our "
    "you my but and or so yet however meanwhile also still then now instead in on at "
    "as if when while after before since although though because what who why how where "
    "many some most all both each one no not".split()
)


def split_sentences(paragraph: str, lang: str) -> list[str]:
    """Split one paragraph into sentences by the module's rules.

    Returns the stripped, non-empty sentences; joined with single spaces they
    give back the paragraph with its whitespace collapsed.
    """
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}: expected one of {', '.join(LANGS)}")
    text = " ".join(paragraph.split())
    sentences: list[str] = []
    start = 0  # where the current sentence starts
    quotes, counted = 0, 0  # double quotes in text[:counted]
    for match in _CANDIDATE.finditer(text):
        end = match.end()  # just after the space; text is stripped, so end < len(text)
        if text[end] in _DOUBLE_QUOTES and text[end + 1 : end + 2] in ("", " "):
            quotes += len(_DOUBLE_QUOTE.findall(text, counted, end))
            counted = end
            if quotes % 2:  # a lone quote while one is open closes it (rule 4)
                end += 2
        if end >= len(text) or not _can_start(text, end, lang):
            continue
        if match["term"] == "." and not match["close"] and _is_abbreviation(text, start, match.start(), end):
            continue
        sentences.append(text[start:end].rstrip())
        start = end
    if start < len(text):
        sentences.append(text[start:])
    return _attach_reporting_tags(sentences) if lang == "ar" else sentences


def _attach_reporting_tags(sentences: list[str]) -> list[str]:
    """Each reporting clause joined to the quoted sentence before it (rule 5)."""
    joined: list[str] = []
    for sentence in sentences:
        if joined and joined[-1][-1] in _DOUBLE_QUOTES and opens_with_reporting_tag(sentence):
            joined[-1] = f"{joined[-1]} {sentence}"
        else:
            joined.append(sentence)
    return joined


def _can_start(text: str, at: int, lang: str) -> bool:
    """Whether the word at ``text[at]`` can begin a sentence (rule 2).

    Opening quotes may stand apart from their word (``” نحن``), so spaces after them are skipped.
    """
    first = _next_word(text, at)[:1]  # a currency sign or word character, if any
    return first != "" and not (lang == "en" and first.islower())


def _next_word(text: str, at: int) -> str:
    """The word starting at ``text[at]`` after any opening quotes, brackets and spaces ('' if none)."""
    match = _NEXT_WORD.match(text, at)
    return match[1] if match else ""


def _word_before(text: str, end: int, floor: int) -> str:
    """The space-delimited word that ends just before ``text[end]``, starting no earlier than ``floor``."""
    return text[max(text.rfind(" ", floor, end) + 1, floor) : end]


def _is_abbreviation(text: str, sentence_start: int, dot: int, next_word: int) -> bool:
    """Whether the period at ``text[dot]`` ends an abbreviation, not a sentence (rule 3)."""
    raw = _word_before(text, dot, sentence_start)
    word = raw.lstrip(_OPENERS)
    if len(raw) == dot - sentence_start and _LIST_MARKER.fullmatch(word):
        return True
    if word.lower() in _TITLES:
        return True
    if _ARABIC_ABBREVIATION.fullmatch(word):
        previous_end = dot - len(raw) - 1
        previous = _word_before(text, previous_end, sentence_start) if previous_end > sentence_start else ""
        return not (word in _ERA_MARKERS and previous.isdigit())
    if word.lower() in _ABBREVIATIONS or _INITIALS.fullmatch(word):
        return _next_word(text, next_word).lower() not in _SENTENCE_STARTERS
    return False
