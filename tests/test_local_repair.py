"""The local engine's repair of broken output: cleaning, re-translation in pieces, and the memory's keys."""

import sqlite3
from pathlib import Path

import pytest

from tarjama.text.normalize import normalize_text
from tarjama.translation.broken import broken_mt
from tarjama.translation.engines.local import (
    REPAIR_REVISION,
    broken_output,
    clean_output,
    repair_pieces,
    reusable,
)
from tarjama.translation.memory import TranslationMemory, memory_model
from tarjama.translation.model_store import DEFAULT_MODEL

SOURCE = "وصل وزير الخارجية إلى الرباط صباح اليوم."
GOLD = Path(__file__).resolve().parent.parent / "corpus" / "ntrex128-dev" / "gold" / "ntrex128-dev.ar.lines"


def test_a_chat_preamble_is_stripped_and_the_translation_after_it_kept():
    # as the model answered two ntrex128-dev lines: the preamble, a blank line, the quoted translation
    reply = 'Sure, here\'s the English translation:\n\n"The minister arrived in Rabat."\n\nThis keeps the tone.'
    assert clean_output(reply, SOURCE) == "The minister arrived in Rabat."
    assert clean_output("Here is the English translation of the Arabic text: The minister arrived.", SOURCE) == (
        "The minister arrived."
    )
    assert clean_output("Sure, here is the English translation:", SOURCE) == ""  # nothing else: nothing kept
    assert clean_output("Certainly, the English team won the match.", SOURCE) == (
        "Certainly, the English team won the match."
    )


def test_instructions_echoed_back_are_no_translation():
    assert clean_output("No notes, no explanations, no quotation marks around it.", SOURCE) == ""
    assert clean_output("No notes, no explanations. The minister arrived.", SOURCE) == "The minister arrived."
    assert clean_output("The report has no notes.", SOURCE) == "The report has no notes."


def test_a_quotation_wrapper_is_stripped_but_quotations_inside_are_kept():
    assert clean_output("“The minister arrived.”", SOURCE) == "The minister arrived."
    assert clean_output("\"He said 'we will go' today.\"", SOURCE) == "He said 'we will go' today."
    assert clean_output('"The minister said: "we will go.""', SOURCE) == 'The minister said: "we will go."'
    # two quotations, not one wrapper
    assert clean_output('"Yes," he said, "we will go."', SOURCE) == '"Yes," he said, "we will go."'
    # a source that is itself a quotation keeps its quotes
    assert clean_output('"We will go."', "”سنذهب.”") == '"We will go."'


def test_broken_output_is_judged_against_the_length_its_source_predicts():
    long_source = normalize_text(GOLD.read_text(encoding="utf-8").splitlines()[368])
    assert broken_output("No notes, no explanations, no quotation marks around it.", long_source) == "truncated"
    assert broken_output("The minister arrived in Rabat this morning.", SOURCE) == ""
    assert broken_output(" ".join(["the minister arrived"] * 8), SOURCE) == "loop"
    assert broken_output(SOURCE, SOURCE) == "arabic"
    # a reply about translating, as the model gave for two long ntrex128-dev sentences
    chat = "First of all, thank you for your kind words. I am glad that you found the translation helpful."
    assert broken_output(chat, long_source) == "chatter"
    assert broken_output("He took the English translation of the book.", SOURCE) == ""
    # the aligner's detector over a text is the same function at the text's own median ratio
    assert broken_mt(["The minister arrived in Rabat this morning.", ""], [SOURCE, SOURCE]) == ["", "empty"]


def test_a_broken_sentence_is_cut_into_clause_units_or_else_halves():
    chained = "قال الوزير إن الاقتصاد ينمو، وأضاف أن الأسعار ترتفع في المدن الكبرى."
    assert repair_pieces(chained) == ["قال الوزير إن الاقتصاد ينمو،", "وأضاف أن الأسعار ترتفع في المدن الكبرى."]
    assert repair_pieces(SOURCE) == ["وصل وزير الخارجية", "إلى الرباط صباح اليوم."]
    assert repair_pieces("مرحبا") == ["مرحبا"]


def test_the_memory_keeps_what_was_paid_for_before_the_repair_and_serves_only_what_is_still_valid(tmp_path):
    path, model = tmp_path / "memory.sqlite", DEFAULT_MODEL.name
    sound, broken = "The minister arrived in Rabat this morning.", "Sure, here is the English translation:"
    with TranslationMemory(path):
        pass  # the schema
    with sqlite3.connect(path) as db:  # a memory written before the repair: keyed by the bare model
        db.executemany(
            "INSERT INTO translations (engine, model, source, target) VALUES ('local', ?, ?, ?)",
            [(model, SOURCE, sound), (model, "المغرب بلد جميل.", broken)],
        )
    assert reusable(SOURCE, sound) and not reusable("المغرب بلد جميل.", broken)
    with TranslationMemory(path) as memory:
        assert memory.lookup("local", model, [SOURCE, "المغرب بلد جميل."]) == {SOURCE: sound}
        memory.store("local", model, "المغرب بلد جميل.", "Morocco is a beautiful country.")
        assert memory.lookup("local", model, ["المغرب بلد جميل."]) == {
            "المغرب بلد جميل.": "Morocco is a beautiful country."
        }
        assert memory.lookup("libre", model, [SOURCE]) == {}  # other engines keep their own keys
    with sqlite3.connect(path) as db:  # nothing paid for was overwritten
        rows = set(db.execute("SELECT model, target FROM translations"))
    assert rows == {
        (model, sound),
        (model, broken),
        (f"{model}@{REPAIR_REVISION}", "Morocco is a beautiful country."),
    }
    assert memory_model("libre", "x") == "x" and memory_model("no-such-engine", "x") == "x"


@pytest.mark.slow  # loads the real model
def test_a_sentence_the_model_fails_to_translate_is_translated_again_in_pieces(local_engine):
    # ntrex128-dev line 368: the model echoes its instructions instead of translating it
    source = normalize_text(GOLD.read_text(encoding="utf-8").splitlines()[368])
    local_engine.repair = False
    try:
        unrepaired = local_engine.translate_one(source)
    finally:
        local_engine.repair = True
    assert broken_output(unrepaired, source) == "empty"  # the echoed instructions are cleaned away
    repaired = local_engine.translate_one(source)
    assert broken_output(repaired, source) == ""
    assert "385" in repaired and "notes" not in repaired  # a distance from the source, no instructions
