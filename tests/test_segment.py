"""Sentence splitting: hand-written hard cases, the seed article, and boundary
F1 against the NTREX-128 gold sentences."""

from __future__ import annotations

import pytest
from conftest import ROOT

from scripts import eval_splitter
from tarjama.text.normalize import split_paragraphs
from tarjama.text.segment import LANGS, split_sentences

SEED = ROOT / "corpus" / "morocco-us-counterterrorism.ar.txt"

SEED_PARAGRAPHS = split_paragraphs(SEED.read_text(encoding="utf-8"))


# Each case is the expected sentences; the paragraph split is their join.
@pytest.mark.parametrize(
    "expected",
    [
        # decimals, numbers with units, URLs and e-mail addresses
        ["Growth was 3.5 percent, or 3,5 in Europe.", "About 1.5m people voted."],
        ["See www.bbc.co.uk/news for more.", "Write to news@bbc.co.uk.", "Thanks."],
        # titles, initials and abbreviations
        ["Mr. Adams met Dr. PawPaw and the Rev. John Howard Johnson at St. Martin's.", "They talked."],
        ["J. R. R. Tolkien met Dionisio A. Lind at the U.N. General Assembly on Oct. 2, 1968."],
        ["Winds were 85 mph as of 5 a.m. Eastern time Sunday.", "There were no reports by 1 p.m.", "However."],
        ["Rosa will flood the southwest U.S.", "The U.S. Drought Monitor agrees, i.e. it is dry, etc. and so on."],
        # numbered lists
        ["1. Buy milk.", "2. Call Dr. Lee.", "3. Go home."],
        # quotes and lowercase continuations
        ['He said: "We will go."', "Then he left."],
        ['"Will you go?" she asked.', '"Yes!"', "Smith said."],
        ["They're nippers, very inquisitive ... they aren't out to hurt you."],
        # other terminators; : ; , never end a sentence
        ["Really?!", "Wait...", "It costs $5.", "(It did.)", "Done."],
        ["Two things: first; second, third.", "Done."],
    ],
)
def test_english_hard_cases(expected: list[str]) -> None:
    assert split_sentences(" ".join(expected), "en") == expected


@pytest.mark.parametrize(
    "expected",
    [
        ["هل ستذهب؟", "نعم سأذهب."],
        ["انتظرنا طويلا…", "ثم وصل القطار۔", "وغادرنا."],
        ["بلغ النمو ٣٫٥ في المئة.", "وارتفع إلى 3.5 ثم 3,5 لاحقا."],
        # single-letter abbreviations before a name or number; era markers after a year
        ["قال د. أحمد إن أ. محمد و م. خالد حضروا، انظر ص. 12 من التقرير.", "ثم غادروا."],
        ["بنيت المدينة عام 500 ق.م.", "وازدهرت عام 1771 م.", "ثم تراجعت."],
        ["١. البند الأول.", "٢. البند الثاني."],
        # ، ؛ : never end a sentence, nor does a terminator followed by one
        ["قال الوزير: إن الاجتماع انتهى، وأضاف؛ سنعود غدا"],
        ["انتهى الاجتماع... ، وقال الوزير إنه راض."],
        # closing quotes stay with their sentence, in any orientation
        ['وقال "هذا صحيح."', "ثم غادر."],
        ["وقال «هذا صحيح.»", "ثم غادر."],
        ["أعلنت الشركة ذلك.", "Apple رفضت التعليق."],
        # a reporting clause after a quoted sentence stays with it (rule 5), also when it chains on
        ['صرخ: "يوجد قرش في المياه!" كما أضاف هاميل.', "ثم غادر."],
        ['صرخ: "يوجد قرش في المياه!" قال هاميل، وتم نقل الطفل جوا إلى المستشفى.'],
        # ... but not a new sentence that happens to open with a verb of saying
        ['وقال "انتهى الأمر!"', 'قال جون جولدسميث، رئيس الجمعية: "كان أمرا حتميا."'],
        ['وقال "انتهى الأمر!"', "وأضاف هاميل."],
    ],
)
def test_arabic_hard_cases(expected: list[str]) -> None:
    assert split_sentences(" ".join(expected), "ar") == expected


def test_seed_paragraphs_are_single_sentences() -> None:
    """Long comma chains with odd-orientation quotes contain no sentence end."""
    for paragraph in SEED_PARAGRAPHS:
        assert split_sentences(paragraph, "ar") == [paragraph]


def test_seed_article_as_one_paragraph_splits_at_each_paragraph_end() -> None:
    # several paragraphs end in a closing quote before the period: ... إفريقيا”.
    assert split_sentences(" ".join(SEED_PARAGRAPHS), "ar") == SEED_PARAGRAPHS


QUOTE_START = "قائلا ” أن اللقاء بعبد اللطيف الحموشي اليوم يؤكد على أهمية تعاوننا"


@pytest.mark.parametrize(
    "expected",
    [
        # a glued closing quote after the period, and one before ،
        [f"{QUOTE_START}.”", "مضيفا ” نحن نقدر شراكتنا مع المغرب.”، واختار نشر صور لقائه."],
        # a lone closing quote after the period, while a quotation is open
        [f"{QUOTE_START}. ”", "مضيفا ” نحن نقدر شراكتنا."],
        # a lone opening quote after the period, with every quotation closed
        ["ابتهاجه بالزيارة الرسمية لمقر “الديستي”.", "” نحن نقدر شراكتنا مع المغرب”، واختار نشر صور لقائه."],
    ],
)
def test_seed_article_quote_cases(expected: list[str]) -> None:
    assert split_sentences(" ".join(expected), "ar") == expected


@pytest.mark.parametrize("lang", LANGS)
def test_sentences_rebuild_the_paragraph(lang: str) -> None:
    for sentences in eval_splitter.gold_documents(lang):
        paragraph = " ".join(sentences)
        predicted = split_sentences(paragraph, lang)
        assert all(sentence and sentence == sentence.strip() for sentence in predicted)
        assert " ".join(predicted) == " ".join(paragraph.split())


def test_unsupported_language_is_rejected() -> None:
    with pytest.raises(ValueError, match="fr"):
        split_sentences("Bonjour. Salut.", "fr")


@pytest.mark.parametrize("lang", LANGS)
def test_ntrex_boundary_f1(lang: str) -> None:
    """Headline apart, as the pipeline reads the corpus files."""
    documents = eval_splitter.gold_documents(lang)
    score = eval_splitter.boundary_score(eval_splitter.paragraphs(documents, headline_apart=True), lang)
    assert score.f1 >= 0.95, score


@pytest.mark.parametrize("lang", LANGS)
def test_ntrex_whole_documents_are_not_oversplit(lang: str) -> None:
    """Joined headlines hide 8-9% of the boundaries from any splitter, but none may be invented."""
    documents = eval_splitter.gold_documents(lang)
    score = eval_splitter.boundary_score(eval_splitter.paragraphs(documents, headline_apart=False), lang)
    assert score.precision >= 0.98, score
