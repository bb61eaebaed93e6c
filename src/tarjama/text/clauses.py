"""Sub-sentence segmentation of Arabic: clause units that English may render as sentences.

Arabic news chains what English writes as several sentences into one, joined
by ``، و`` and discourse connectives (*waṣl*), with one period per paragraph.
A unit is a stretch of a sentence that can be translated and aligned on its
own; the aligner (:mod:`tarjama.alignment.regroup`) joins units again wherever the
reference keeps them in one sentence, so a needless split costs little and a
missed one costs a whole reference sentence.

Rules, applied to one sentence (whitespace already collapsed, as
:func:`tarjama.text.segment.split_sentences` returns it):

1. A unit can end only after ``،`` ``؛`` ``,`` or ``;`` followed by a space,
   and the split falls on that space: the separator stays at the end of the
   left unit, so ``" ".join(units) == sentence`` (every character once).
2. Never inside quotes or brackets. Brackets pair as usual; a double quote
   glued to the next word opens, one glued to the previous word (or followed
   by punctuation) closes, and one standing alone or glued on both sides opens
   when none is open and closes otherwise (Arabic uses ``“ ”`` and ``« »`` in
   either orientation). A quote left open at the end of the sentence protects
   nothing, since where it ends is unknown.
3. The next word must start a clause (matched without diacritics, with hamza
   forms of alif folded to ``ا``):

   - *connective*: a discourse particle (:data:`PARTICLES`: ``حيث كما إذ بينما
     فيما لكن ثم`` ..., two-word ``في حين``, ``غير أن``, ``إلا أن``), a
     participle of saying (:data:`PARTICIPLES`: ``مضيفا مشيرة مؤكدا قائلا
     مذكرا مبرزا`` ..., masculine, feminine or plural), or after ``؛`` any word;
   - *waw*: the conjunction ``و`` (attached, or standing alone before a word),
     unless the ``و`` belongs to the word's root (:data:`ROOT_WAW`:
     ``وزير وزارة وكالة وقت وسط وفقا`` ..., nouns that open appositions).
     ``، و`` also coordinates nouns (``الأمنية، والعسكرية``), which are short;
     so a *waw* split needs :attr:`ClauseRules.min_waw_words` on both sides.

   Not connectives, as counted below: ``ف`` (``فإن فقد``: the main clause after a
   fronted condition or topic), relatives (``الذي التي ما مما``), ``إن أن``
   (complement clauses of a verb of saying) and bare verbs without ``و``
   (``، أبرزت واشنطن``: the main clause after a fronted adverbial).
4. No unit may have fewer than :attr:`ClauseRules.min_words` words (``و`` and
   punctuation do not count): a split that would leave one is dropped, the
   split of the shorter neighbour first (``مشيرة، في هذا الصدد،`` stays whole).

Counts behind the lists (``python -m benchmarks.bench_chained --connectives``):
how often each kind of word follows a comma in the ntrex128-dev Arabic (603
lines, each translating one English sentence, so every cut inside a line is
one English does not make) and in the seed article (13 sentences), where
*true* means its 42-sentence reference starts a sentence there (read by hand).
A needless cut is cheap (the aligner regroups the units), a missing one costs
a reference sentence; so a kind is a connective when the seed shows it can
open an English sentence and ntrex shows it is not everywhere.

==========================  ============  ==================  ===================
word after the comma        ntrex lines   seed: true / false  decision
==========================  ============  ==================  ===================
و + word                    86            12 / 6              waw (length guard)
حيث                         9             3 / 0               connective
كما                         3             3 / 3               connective
participles of saying       2             8 / 1               connective
بعدما                       0             1 / 0               connective
بينما فيما لكن ثم, two-word  9             0 / 0               connective
relatives الذي التي ما مما   18            0 / 4               no
إن أن                       17            0 / 4               no
ف + word                    12            0 / 1               no
anything else               151           1 / 36              no (yes after ؛)
==========================  ============  ==================  ===================
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

_DIACRITICS = re.compile("[\u064b-\u0652\u0670]")
_EDGE_PUNCTUATION = "\"'“”«»„‘’()[]{}،,؛;:.!?؟…"
_SEPARATOR = re.compile(r"[،؛,;] ")
_DOUBLE_QUOTES = '"“”«»„'
_BRACKETS = {"(": ")", "[": "]", "{": "}"}
_FOLLOWERS = "،,؛;:.!?؟…" + "".join(_BRACKETS.values())


def fold(word: str) -> str:
    """``word`` as the lexicons spell it: no diacritics or edge punctuation, ``أ إ آ`` as ``ا``, ``ى`` as ``ي``."""
    word = _DIACRITICS.sub("", word).strip(_EDGE_PUNCTUATION)
    return word.translate(str.maketrans("أإآى", "اااي"))


def _forms(stems: str) -> frozenset[str]:
    """Masculine (``-ا``), feminine (``-ة``) and plural (``-ين``) accusative participles of each stem."""
    return frozenset(fold(stem) + ending for stem in stems.split() for ending in ("ا", "ة", "ين"))


PARTICIPLES = _forms(
    "مضيف مشير مؤكد قائل مذكر مبرز موضح معتبر لافت مسلط منوه مشدد واصف معرب داعي مطالب محذر "
    "متابع مستطرد معلن مردف متسائل"
)
"""Accusative participles of saying that open a reported clause (*ḥāl*): ``، مضيفا أن`` ≈ ". He added that"."""

SAYING_VERBS = frozenset(
    fold(word)
    for word in "قال قالت أضاف أضافت أكد أكدت أشار أشارت ذكر ذكرت أوضح أوضحت صرح صرحت أعلن أعلنت "
    "تابع تابعت أردف أردفت يقول تقول يضيف تضيف يؤكد تؤكد يشير تشير يوضح توضح".split()
)
"""Verbs of saying, third person: with ``كما`` they make a reporting tag (``كما أضاف هاميل.``)."""

PARTICLES = frozenset(fold(word) for word in "حيث كما إذ بينما فيما لكن لكنه لكنها لكنهم ثم بعدما".split())
"""Discourse particles that open a new clause after a comma."""

PAIRED_PARTICLES = frozenset(
    (fold(first), fold(second)) for first, second in (("في", "حين"), ("غير", "أن"), ("إلا", "أن"))
)
"""Two-word connectives: the first word alone is a preposition or an exception particle."""

ROOT_WAW = frozenset(
    fold(word)
    for word in "وزير وزيرة وزيرا وزراء وزارة وزارات وكالة وكالات وكيل ولاية ولايات واشنطن وثيقة وثائق وسائل "
    "وقت وقتها وسط وفق وفقا وحدة وحدات واحد واحدة وطن وطني وطنية".split()
)
"""Words in which ``و`` is a root letter, not the conjunction, that open appositions (``، وزير الخارجية``).

Whole words, not prefixes: ``وقتل`` is ``و`` + ``قتل`` and ``وفقد`` is ``و`` + ``فقد``."""


class Boundary(Enum):
    """What opens the clause after a separator; the kind decides the length guard."""

    CONNECTIVE = "connective"
    WAW = "waw"


@dataclass(frozen=True, slots=True)
class ClauseRules:
    """Length guards, in words (``و`` and punctuation not counted)."""

    min_words: int = 3
    """No unit shorter than this: 2 of ntrex128-dev's 563 body sentences are shorter, so a shorter
    piece is not a clause a translator would render alone (2, 3 and 4 score alike on the chained
    benchmark)."""
    min_waw_words: int = 3
    """Both units around a ``، و`` split at least this long (coordinated nouns are short). Chosen on
    the chained ntrex128-dev tuning half from 3, 4, 5, 6 and 8: sentence-level exact rows fall
    from 0.896 to 0.818 as it grows, exact rows stay at 0.97."""


DEFAULT_RULES = ClauseRules()

RULES_VERSION = 1
"""Raised whenever a change to the splitting rules (not their length guards, which the signature
records as they are) can move a unit boundary: articles cut by older rules are built again."""


def starts_with_conjunction_waw(word: str) -> bool:
    """Whether ``word`` is the conjunction ``و`` glued to a word (``وقال``, ``والشرطة``), not a root ``و`` (``وزير``)."""
    folded = fold(word)
    return len(folded) > 2 and folded[0] == "و" and folded not in ROOT_WAW


def boundary_kind(following: str) -> Boundary | None:
    """The kind of clause boundary before ``following`` (the rest of the sentence after a separator), if any."""
    words = following.split(" ", 3)
    first = fold(words[0])
    second = fold(words[1]) if len(words) > 1 else ""
    if first in PARTICLES or first in PARTICIPLES or (first, second) in PAIRED_PARTICLES:
        return Boundary.CONNECTIVE
    if first == "و" and second:
        return Boundary.WAW
    if starts_with_conjunction_waw(words[0]):
        rest = first[1:]
        return Boundary.CONNECTIVE if rest in SAYING_VERBS or rest in PARTICLES else Boundary.WAW
    return None


def opens_with_reporting_tag(sentence: str) -> bool:
    """Whether ``sentence`` opens with a short reporting clause (``كما أضاف هاميل.``, ``قالت الشرطة، ...``).

    The clause runs to the first comma or the end, at most five words, with a verb of saying first
    (after an optional ``كما``), and what follows a comma must open a clause (:func:`boundary_kind`). After a quoted sentence (``"…!" كما أضاف هاميل.``) it belongs to
    that sentence: see :func:`tarjama.text.segment.split_sentences`.
    """
    tag, *rest = re.split("[،,] ", sentence, maxsplit=1)
    if rest and boundary_kind(rest[0]) is None:  # ``قال جون، رئيس الجمعية: "..."`` is a new sentence
        return False
    words = tag.split()
    if not 2 <= len(words) <= 5 or any(mark in tag for mark in ':;؛"“”«»'):
        return False
    verb = fold(words[1]) if fold(words[0]) == "كما" else fold(words[0])
    return verb in SAYING_VERBS


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Character ranges inside matched quotes or brackets (rule 2), as ``(start, end)`` offsets."""
    spans: list[tuple[int, int]] = []
    quotes: list[int] = []
    brackets: list[tuple[int, str]] = []
    for at, char in enumerate(text):
        if char in _BRACKETS:
            brackets.append((at, _BRACKETS[char]))
        elif brackets and char == brackets[-1][1]:
            spans.append((brackets.pop()[0], at))
        elif char in _DOUBLE_QUOTES:
            before = text[at - 1] if at else " "
            after = text[at + 1] if at + 1 < len(text) else " "
            glued_before, glued_after = not before.isspace() and before not in _BRACKETS, not after.isspace()
            opens = glued_after and not glued_before
            closes = (glued_before and not glued_after) or after in _FOLLOWERS
            if opens or (not closes and not quotes):
                quotes.append(at)
            elif quotes:
                spans.append((quotes.pop(), at))
    return spans


def _words(text: str) -> int:
    """Words that carry content: not the lone conjunction ``و``, not punctuation."""
    return sum(1 for token in text.split() if fold(token) not in ("", "و"))


@dataclass(frozen=True, slots=True)
class _Cut:
    at: int  # offset of the space the split falls on
    kind: Boundary


def _candidates(sentence: str) -> list[_Cut]:
    spans = protected_spans(sentence)
    cuts = []
    for match in _SEPARATOR.finditer(sentence):
        if any(start < match.start() < end for start, end in spans):
            continue
        kind = Boundary.CONNECTIVE if match.group()[0] == "؛" else boundary_kind(sentence[match.end() :])
        if kind is not None:
            cuts.append(_Cut(match.end() - 1, kind))
    return cuts


def _minimum(cut: _Cut | None, rules: ClauseRules) -> int:
    if cut is None:  # a sentence edge
        return rules.min_words
    return rules.min_waw_words if cut.kind is Boundary.WAW else rules.min_words


def _pieces(sentence: str, cuts: list[_Cut]) -> list[str]:
    edges = [0, *(cut.at for cut in cuts), len(sentence)]
    return [sentence[start:end].strip() for start, end in zip(edges, edges[1:])]


def split_clauses(sentence: str, rules: ClauseRules = DEFAULT_RULES) -> list[str]:
    """The clause units of one Arabic sentence, by the module's rules; ``" ".join`` of them is ``sentence``."""
    cuts = _candidates(sentence)
    while cuts:
        pieces = _pieces(sentence, cuts)
        bounded = [None, *cuts, None]
        shortfalls = [
            (_words(piece) - max(_minimum(left, rules), _minimum(right, rules)), k)
            for k, (piece, left, right) in enumerate(zip(pieces, bounded, bounded[1:]))
        ]
        shortfall, k = min(shortfalls)
        if shortfall >= 0:
            break
        # Drop the cut on the side of the shorter neighbour, so the short piece joins it.
        left_words = _words(pieces[k - 1]) if k > 0 else None
        right_words = _words(pieces[k + 1]) if k + 1 < len(pieces) else None
        if right_words is None or (left_words is not None and left_words <= right_words):
            del cuts[k - 1]
        else:
            del cuts[k]
    return _pieces(sentence, cuts)


def split_all(sentences: Iterable[str], rules: ClauseRules = DEFAULT_RULES) -> list[list[str]]:
    """:func:`split_clauses` of each sentence."""
    return [split_clauses(sentence, rules) for sentence in sentences]
