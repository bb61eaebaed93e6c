"""The offline engine with the real model, and the translation memory in front of it."""

import pytest

from tarjama.engines.local import clean_output
from tarjama.memory import TranslationMemory
from tarjama.model_store import DEFAULT_MODEL
from tarjama.translate import translate_sentences

pytestmark = pytest.mark.slow  # a real Prefect server, model or browser: not in `make test-fast`


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
