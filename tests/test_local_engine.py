"""The offline engine with the real model, and the translation memory in front of it."""

import pytest

from tarjama.errors import TarjamaError
from tarjama.translation.engines.local import LocalEngine, clean_output
from tarjama.translation.memory import TranslationMemory
from tarjama.translation.model_store import DEFAULT_MODEL
from tarjama.translation.translate import translate_sentences

pytestmark = pytest.mark.slow  # a real Prefect server, model or browser: not in `make test-fast`

# Short news sentences of different lengths, so that in a batch later ones finish first.
SENTENCES = [
    "قال الرئيس إن الاقتصاد ينمو بسرعة رغم ارتفاع الأسعار في معظم المدن الكبرى هذا العام.",
    "المغرب بلد جميل.",
    "وصل وزير الخارجية إلى الرباط صباح اليوم.",
    "أعلنت الشركة عن أرباح قياسية.",
]


def test_clean_output_keeps_only_the_translation():
    assert clean_output('Translation: "The minister arrived."', "وصل الوزير.") == "The minister arrived."
    assert clean_output("The minister arrived.\n\nNote: literal.", "وصل الوزير.") == "The minister arrived."
    assert clean_output("He left. (Note: the verb is past tense)", "غادر.") == "He left."
    # quotes that the source itself has are kept
    assert clean_output('"We will go."', "”سنذهب.”") == '"We will go."'


def test_each_distinct_sentence_is_translated_once_and_never_again(local_engine, tmp_path):
    sentences = ["المغرب بلد جميل.", "وصل وزير الخارجية إلى الرباط.", "المغرب بلد جميل."]
    progress: list[tuple[int, int]] = []
    with TranslationMemory(tmp_path / "tm.sqlite") as memory:
        first = translate_sentences(sentences, local_engine, memory, lambda d, t: progress.append((d, t)))
    assert progress[0] == (0, 2) and progress[-1] == (2, 2)
    assert "Morocco" in first[0].text and "minister" in first[1].text.lower()
    assert first[0].text == first[2].text
    assert {(t.engine, t.model) for t in first} == {("local", DEFAULT_MODEL.name)}
    assert not any(t.from_memory for t in first)

    progress.clear()
    with TranslationMemory(tmp_path / "tm.sqlite") as memory:
        second = translate_sentences(sentences, local_engine, memory, lambda d, t: progress.append((d, t)))
    assert progress == [(0, 0)]
    assert [t.text for t in second] == [t.text for t in first]
    assert all(t.from_memory for t in second)


def test_output_is_deterministic(local_engine):
    sentence = "قال الرئيس إن الاقتصاد ينمو بسرعة."
    assert local_engine.translate_one(sentence) == local_engine.translate_one(sentence)


# A word each translation of SENTENCES must contain: it shows whose translation it is.
MARKERS = ["econom", "morocco", "minister", "profit"]


def test_batched_decoding_is_deterministic_and_keeps_each_translation_with_its_sentence(local_engine):
    """Batched output may differ from one-at-a-time output in a rare word, never in whose it is.

    llama.cpp's matrix kernels handle a pass's tokens in groups (e.g. 4 rows at a time,
    the remainder row by row), so a token's sums are rounded differently depending on
    which other sequences share its pass; where greedy decoding has a near-tie, such a
    rounding difference can pick another word. What must hold: the same input gives
    the same output, and each output is its own sentence's translation.
    """
    assert local_engine.parallel >= 2
    batched = list(local_engine.translate(SENTENCES))
    assert list(local_engine.translate(SENTENCES)) == batched
    for marker, text in zip(MARKERS, batched, strict=True):
        assert marker in text.lower(), (marker, batched)
    alone = [local_engine.translate_one(sentence) for sentence in SENTENCES]
    for marker, text in zip(MARKERS, alone, strict=True):
        assert marker in text.lower(), (marker, alone)
    reordered = list(local_engine.translate(SENTENCES[::-1]))[::-1]
    for marker, text in zip(MARKERS, reordered, strict=True):
        assert marker in text.lower(), (marker, reordered)


def test_translations_are_yielded_one_by_one_as_soon_as_they_are_ready(local_engine):
    produced = local_engine.translate(SENTENCES)
    first = next(produced)
    decoded = local_engine.decoding.generated_tokens
    assert first == local_engine.translate_one(SENTENCES[0])  # nothing lost by interleaving another call
    rest = list(produced)
    assert len(rest) == len(SENTENCES) - 1 and local_engine.decoding.generated_tokens > decoded


def test_empty_input_and_blank_sentences_cost_no_decoding(local_engine):
    before = local_engine.decoding.passes
    assert list(local_engine.translate([])) == []
    assert list(local_engine.translate(["", "  "])) == ["", ""]
    assert local_engine.decoding.passes == before
    assert list(local_engine.translate(["", SENTENCES[1], " "])) == ["", local_engine.translate_one(SENTENCES[1]), ""]


def test_a_sentence_longer_than_the_context_is_translated_in_pieces():
    engine = LocalEngine(threads=2, parallel=4, context=192)
    long_sentence = " ".join(SENTENCES * 3)  # ~90 words: its prompt alone is longer than 192 tokens
    assert len(engine._prompt(long_sentence)) > engine.context
    pieces = engine._requests(0, long_sentence)
    assert len(pieces) > 2 and all(len(piece.prompt) + piece.budget <= engine.context for piece in pieces)
    whole = engine.translate_one(long_sentence)
    assert len(whole.split()) > 40  # all of it came through, not one piece's worth
    assert whole.lower().index("econom") < whole.lower().rindex("profit")  # the pieces in order


def test_a_word_that_alone_exceeds_the_context_is_refused():
    engine = LocalEngine(threads=2, parallel=1, context=256)
    with pytest.raises(TarjamaError, match="does not fit"):
        list(engine.translate(["7" * 600]))  # one token per digit
