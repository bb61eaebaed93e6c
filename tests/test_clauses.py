"""Clause units: the segmentation rules on hand-made cases, and exact reproduction of real text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tarjama.text.article import load_document, split_document
from tarjama.text.clauses import ClauseRules, opens_with_reporting_tag, protected_spans, split_clauses
from tarjama.text.normalize import normalize_text, split_paragraphs
from tarjama.text.segment import split_sentences

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "morocco-us-counterterrorism.ar.txt"
NTREX = ROOT / "corpus" / "ntrex128-dev"

LONG = "أكد وزير الخارجية الأمريكي أهمية التعاون الأمني بين البلدين"  # 9 words


# Each case is the expected units; the sentence is their join.
@pytest.mark.parametrize(
    "expected",
    [
        # و + verb, participles of saying, discourse particles
        [f"{LONG}،", "وأضاف أن الزيارة تعزز الشراكة الاستراتيجية بين البلدين."],
        [f"{LONG}،", "مضيفا أن الزيارة تعزز الشراكة الاستراتيجية بين البلدين."],
        [f"{LONG}،", "مشيرةً إلى أن الزيارة تعزز الشراكة."],
        [f"{LONG}،", "حيث قال إن المغرب شريك قوي،", "كما ترأس مجموعة العمل."],
        [f"{LONG}،", "غير أن المعارضة انتقدت الزيارة بشدة."],
        [f"{LONG}؛", "الوفد يصل غدا."],  # after ؛ any word opens a clause
        [f"{LONG},", "وقال المتحدث إن الاجتماع كان مثمرا."],  # a Latin comma too
        # the conjunction standing apart from its word
        [f"{LONG}،", "و أجرى الوزير مباحثات مع نظيره المغربي."],
    ],
)
def test_splits_at_clause_openers(expected: list[str]) -> None:
    assert split_clauses(" ".join(expected)) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        # coordinated nouns after ، و are too short to be clauses
        f"{LONG}، والعسكرية.",
        f"{LONG}، ونظيره بوريطة.",
        # و is a root letter: an apposition, not a clause
        "التقى الرئيس بالسيد مايك بومبيو، وزير الخارجية الأمريكي الذي يزور المملكة رسميا.",
        # words that are not connectives: ف, relatives, إن, bare verbs after a fronted phrase
        "وبالنسبة للكنائس في المدن الصغيرة، فإنه يقلق بشأن الأموال والمباني.",
        f"{LONG}، الذي يقوم بزيارة رسمية للمملكة منذ يوم الخميس.",
        "وعلى الصعيد الإقليمي والدولي، أبرزت واشنطن المساهمة المحورية للمغرب.",
        # never inside quotes or brackets
        f"{LONG} قائلا “لقد استمرت صداقتنا، وسويا سنسعى لإطلاق إمكانات جميع مواطنينا”.",
        f"{LONG} («لقد استمرت صداقتنا، وسويا سنسعى لإطلاق إمكانات مواطنينا»).",
        f"{LONG} (وهي زيارة نادرة، وقال المسؤولون إنها ناجحة جدا) أمس.",
        # a comma with no space after it (a number) is no separator
        f"{LONG} بنسبة 3،5 وقال آخرون إن النسبة أعلى بكثير.",
    ],
)
def test_keeps_whole(sentence: str) -> None:
    assert split_clauses(sentence) == [sentence]


def test_no_unit_too_short() -> None:
    """مشيرة، في هذا الصدد، ... stays one unit: the cut before في is no clause, and مشيرة alone is one word."""
    sentence = f"{LONG}، مشيرة، في هذا الصدد، الى احتضان المملكة المؤتمر الإقليمي الأول."
    assert split_clauses(sentence) == [f"{LONG}،", "مشيرة، في هذا الصدد، الى احتضان المملكة المؤتمر الإقليمي الأول."]
    short = f"{LONG}، كما قال، وأضاف أن الزيارة تعزز الشراكة الاستراتيجية."
    units = split_clauses(short)
    assert all(len(unit.split()) >= 3 for unit in units)
    assert " ".join(units) == short


def test_length_guards_are_the_rules() -> None:
    sentence = f"{LONG}، وغياب الامن بالمنطقة جنوب الصحراء."  # 5 words after the و
    assert split_clauses(sentence, ClauseRules(min_words=3, min_waw_words=5)) == [
        f"{LONG}،",
        "وغياب الامن بالمنطقة جنوب الصحراء.",
    ]
    assert split_clauses(sentence, ClauseRules(min_words=3, min_waw_words=6)) == [sentence]


def test_quotes_in_either_orientation() -> None:
    """Glued to the next word opens, glued to the previous closes; alone, it toggles; unclosed protects nothing."""
    text = "قائلا ” أن اللقاء، وقال” ثم “أحد الشركاء، وقال” ثم ” تأكيد عزمه، وقال"
    spans = [text[start : end + 1] for start, end in protected_spans(text)]
    assert spans == ["” أن اللقاء، وقال”", "“أحد الشركاء، وقال”"]


def test_reporting_tag() -> None:
    assert opens_with_reporting_tag("كما أضاف هاميل.")
    assert opens_with_reporting_tag("قالت الشرطة، وتم نقل الطفل إلى المستشفى.")
    assert not opens_with_reporting_tag('قال جون جولدسميث، رئيس مجتمع كرومويل: "كان أمرًا حتميًا."')
    assert not opens_with_reporting_tag("وقال هاميل.")  # و opens a new sentence
    assert not opens_with_reporting_tag("كما أضاف المتحدث باسم الشرطة المحلية في المدينة.")


def _ntrex_sentences() -> list[str]:
    return [
        sentence
        for path in sorted(NTREX.glob("*.ar.txt"))
        for paragraph in split_paragraphs(path.read_text(encoding="utf-8"))
        for sentence in split_sentences(paragraph, "ar")
    ]


@pytest.mark.parametrize("rules", [ClauseRules(), ClauseRules(min_words=1, min_waw_words=1)])
def test_units_reproduce_every_sentence(rules: ClauseRules) -> None:
    """Every ntrex and seed sentence: the units joined with spaces are the sentence, each character once."""
    sentences = _ntrex_sentences() + [
        s for p in split_paragraphs(SEED.read_text(encoding="utf-8")) for s in split_sentences(p, "ar")
    ]
    assert len(sentences) > 600
    cut = 0
    for sentence in sentences:
        units = split_clauses(sentence, rules)
        assert " ".join(units) == sentence
        assert all(unit and unit == unit.strip() for unit in units)
        cut += len(units) > 1
    assert cut >= 30  # the rules do cut real text


def test_seed_units() -> None:
    """The seed article: each paragraph reproduced by its units, and the clauses its reference makes sentences."""
    document = load_document(SEED, "ar")
    paragraphs = split_paragraphs(SEED.read_text(encoding="utf-8"))
    for number, paragraph in enumerate(paragraphs, start=1):
        units = [u for s in document.sentences if s.paragraph == number for u in s.units]
        assert " ".join(units) == normalize_text(paragraph)
    starts = [unit.text.split()[0] for unit in document.units]
    assert len(document.units) >= 42
    for opener in ("وأظهرت", "قائلا", "مضيفا", "واختار", "وجرى", "مذكرة", "مبرزا"):
        assert opener in starts
    assert "وسويا" not in starts  # inside a quotation
    assert "يضيف" not in starts  # "، يضيف البيان،": a parenthetical, not a clause opener


def test_english_and_unsplit_documents_have_one_unit_a_sentence() -> None:
    english = load_document(SEED.with_name("morocco-us-counterterrorism.en.txt"), "en")
    assert all(s.units == (s.text,) for s in english.sentences)
    arabic = split_document(SEED.read_text(encoding="utf-8"), SEED, "ar", clause_rules=None)
    assert [u.text for u in arabic.units] == arabic.texts


def test_chained_ntrex_boundaries_are_unit_boundaries() -> None:
    """Chaining (benchmarks.chained_data) turns sentence ends into ، + و; the units recover most of them."""
    from benchmarks.chained_data import build, chain_run

    assert chain_run(["قال الوزير كذا.", "الوفد يصل غدا.", "وسيغادر بعدها."]) == [
        "قال الوزير كذا،",
        "والوفد يصل غدا،",
        "وسيغادر بعدها.",
    ]
    joins = found = 0
    for chained in build():
        for run, paragraph in zip(chained.runs, chained.paragraphs):
            assert " ".join(clause.text for clause in run) == paragraph
            units = [u for s in split_sentences(paragraph, "ar") for u in split_clauses(s)]
            assert " ".join(units) == paragraph
            ends = {sum(len(u) + 1 for u in units[: k + 1]) for k in range(len(units))}
            for k in range(1, len(run)):
                joins += 1
                found += sum(len(c.text) + 1 for c in run[:k]) in ends
    assert joins > 250 and found / joins >= 0.9
