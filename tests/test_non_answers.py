"""A web engine's answer that is no translation (nothing, or the Arabic sent back) serves its run and is never kept.

A LibreTranslate server (the loopback one, real HTTP) that answers one sentence with "" and another with
the sentence itself: the rows get those answers, so the run completes; the translation memory and the
journal keep only the real translations; the empty row fails the ``language`` check; and the next run,
against the server fixed, asks for those two again, and only for them.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import polars as pl
import pytest
from conftest import build, libre, write_articles
from loopback_services import LoopbackServices, fake_english

from tarjama.corpus.schema import read_tsv
from tarjama.quality.checks import create_checks, run_checks
from tarjama.text.article import load_document
from tarjama.translation.broken import non_answer
from tarjama.translation.engines.base import create_engine
from tarjama.translation.memory import JOURNALS, TranslationMemory, kept, read_journals
from tarjama.translation.translate import IN_FLIGHT, translate_missing, translate_sentences

SENTENCES = [
    "وصل الوزير إلى الرباط صباح اليوم.",
    "ضربت عاصفة قوية الساحل الشمالي للبلاد.",
    "وأجرى المدير العام مباحثات مع الوزير الأمريكي.",
    "انقطعت الكهرباء عن آلاف المنازل.",
]
EMPTY, ECHOED = SENTENCES[1], SENTENCES[2]


def stored(database: Path, engine: str = "libre") -> dict[str, str]:
    with closing(sqlite3.connect(database)) as db:
        return dict(db.execute("SELECT source, target FROM translations WHERE engine=?", (engine,)))


@pytest.mark.parametrize(
    ("source", "answer", "why"),
    [
        (SENTENCES[0], "", "empty"),
        (SENTENCES[0], " \n ", "empty"),
        (SENTENCES[0], SENTENCES[0], "arabic"),
        (SENTENCES[0], "The minister arrived in الرباط this morning.", ""),  # one word left: arabic-script's job
        ("شركة Microsoft  Corporation Windows Server", "شركة Microsoft Corporation\nWindows Server", "copy"),
        ("BBC", "BBC", ""),  # no Arabic letter: its own translation
        ("٢٠٢٤", "2024", ""),
        (SENTENCES[0], "The minister arrived in Rabat this morning.", ""),
    ],
)
def test_an_answer_that_is_no_translation_is_named(source: str, answer: str, why: str) -> None:
    assert non_answer(source, answer) == why
    assert kept("libre", source, answer) == (why == "")
    assert kept("local", source, answer)  # the local engine repairs its own output and keeps what it gives


def test_non_answers_an_earlier_version_stored_are_not_served(tmp_path: Path) -> None:
    good = "The minister arrived in Rabat this morning."
    with TranslationMemory(tmp_path / "memory.sqlite") as memory:
        for engine, model in [("libre", "libretranslate"), ("local", "qwen")]:
            memory.store(engine, model, SENTENCES[0], good)
            memory.store(engine, model, EMPTY, "")
            memory.store(engine, model, ECHOED, ECHOED)
        assert memory.lookup("libre", "libretranslate", SENTENCES) == {SENTENCES[0]: good}
        assert memory.lookup("local", "qwen", SENTENCES) == {SENTENCES[0]: good, EMPTY: "", ECHOED: ECHOED}
    journals = tmp_path / JOURNALS
    journals.mkdir()
    with TranslationMemory(journals / "host-1.sqlite") as journal:
        journal.store("libre", "libretranslate", SENTENCES[0], good)
        journal.store("libre", "libretranslate", EMPTY, "")
    assert read_journals(journals, "libre", "libretranslate", SENTENCES) == {SENTENCES[0]: good}


def test_the_memory_keeps_only_real_translations_and_the_next_run_asks_for_the_rest(tmp_path: Path) -> None:
    with LoopbackServices(lifetime=120) as services, TranslationMemory(tmp_path / "memory.sqlite") as memory:
        services.answers = {EMPTY: "", ECHOED: ECHOED}
        with create_engine("libre", url=services.url("libre"), retries=0) as engine:
            first = translate_sentences(SENTENCES, engine, memory)
        assert [t.text for t in first] == [fake_english(SENTENCES[0]), "", ECHOED, fake_english(SENTENCES[3])]
        assert set(stored(memory.path)) == {SENTENCES[0], SENTENCES[3]}  # the run had them; the memory has not

        services.clear()  # the server is fixed
        with create_engine("libre", url=services.url("libre"), retries=0) as engine:
            second = translate_sentences(SENTENCES, engine, memory)
        assert [s for r in services.requests("libre") for s in r.segments] == [EMPTY, ECHOED]
        assert [t.from_memory for t in second] == [True, False, False, True]
        assert all(t.text and not non_answer(s, t.text) for s, t in zip(SENTENCES, second))
        assert set(stored(memory.path)) == set(SENTENCES)


def test_translate_missing_names_the_answers_it_did_not_store(tmp_path: Path) -> None:
    """An article counted what was owed by asking :func:`kept` again of every text; the call that stored
    them knows: its own non-answers, and those another call (an article at the same time) got and did not
    store either, are named, once each; a translation, its own or the other call's, is not."""
    theirs = ["انقطعت المياه عن المدينة.", "وعاد التيار الكهربائي مساء."]
    with LoopbackServices(lifetime=120) as services:
        services.answers = {EMPTY: "", ECHOED: ECHOED}
        with create_engine("libre", url=services.url("libre"), retries=0) as engine:
            others, _ = IN_FLIGHT.claim("libre", "field", theirs)  # another call asking for these

            def built() -> object:  # once this call has claimed its own: the other call's answers arrive
                others[0].stored = True  # a translation, stored by the other call
                IN_FLIGHT.end(others[0], "The water was cut off.")
                IN_FLIGHT.end(others[1], "")  # no translation: not stored by the other call either
                return engine

            stored: dict[str, str] = {}
            translated = translate_missing(
                [*SENTENCES, EMPTY, *theirs], "libre", engine.model, {SENTENCES[3]: "Power was cut."}, built,
                stored.__setitem__, memory_field="field",
            )  # fmt: skip
    assert [t.text for t in translated.translations] == [
        fake_english(SENTENCES[0]), "", ECHOED, "Power was cut.", "", "The water was cut off.", ""
    ]  # fmt: skip
    assert translated.unanswered == {EMPTY, ECHOED, theirs[1]}
    assert stored == {SENTENCES[0]: fake_english(SENTENCES[0])}
    assert [s for r in services.requests("libre") for s in r.segments] == SENTENCES[:3]


NEWS = (
    "وصل وزير الخارجية إلى الرباط صباح اليوم.\n"
    "وأجرى الوزير مباحثات مع نظيره المغربي.\n"
    "وتناولت المباحثات التعاون في مجال الطاقة.\n"
    "ويغادر الوزير المغرب مساء غد.\n",
    "The foreign minister arrived in Rabat this morning.\n"
    "The minister held talks with his Moroccan counterpart.\n"
    "The talks covered cooperation in energy.\n"
    "The minister leaves Morocco tomorrow evening.\n",
)
"""An article of four one-clause sentences and its reference: the sentence answered with nothing keeps a row of
its own (a broken MT line keeps its one-to-one pair), which the checks see."""


def test_a_corpus_run_keeps_no_non_answer_flags_the_empty_row_and_the_next_run_asks_again(
    services: LoopbackServices, tmp_path: Path
) -> None:
    """Through the Prefect-free core, as `tarjama run` builds (journal, memory, shards, checks, filtered corpus)."""
    articles, out = write_articles(tmp_path / "articles"), tmp_path / "output"
    (articles / "news.ar.txt").write_text(NEWS[0], encoding="utf-8")
    (articles / "news.en.txt").write_text(NEWS[1], encoding="utf-8")
    units, english = {}, {}
    for name in ("news", "storm", "visit"):  # each unit answered with its reference's sentence: confident rows
        units[name] = [u.text for u in load_document(articles / f"{name}.ar.txt", "ar").units]
        english |= dict(zip(units[name], load_document(articles / f"{name}.en.txt", "en").texts, strict=True))
    empty, echoed = units["news"][1], units["news"][2]
    services.answers = english | {empty: "", echoed: echoed}
    settings = libre(tmp_path / "home", services)

    first = build(settings, articles, out, "first", filter_checks=("language",))
    assert {a.article_id: a.unanswered for a in first.articles} == {"news": 2, "storm": 0, "visit": 0}
    assert first.warnings[-1].startswith(
        "the engine answered 2 texts with no translation (empty, or the Arabic sent back), in 1 article (news)"
    )
    rows = read_tsv(Path(first.output_dir or "") / "aligned.tsv")
    by_arabic = {row["arabic"]: row for row in rows.iter_rows(named=True)}
    assert by_arabic[empty]["english_mt"] == "" and by_arabic[echoed]["english_mt"] == echoed  # the run completes
    assert "language" in by_arabic[empty]["checks_failed"].split(",")
    assert "language: no translation (the MT is empty)" in by_arabic[empty]["check_notes"]
    passing = read_tsv(Path(first.output_dir or "") / "aligned.passing-checks.tsv")["arabic"].to_list()
    assert empty not in passing and units["news"][0] in passing
    # nothing the engine owes is kept: not in the memory, not in this process's journal
    assert set(stored(settings.memory_path)) == set(english) - {empty, echoed}
    journals = list((settings.home / JOURNALS).rglob("*.sqlite"))
    assert journals and all(not {empty, echoed} & set(stored(journal)) for journal in journals)

    services.clear()
    services.answers = dict(english)  # the server is fixed
    second = build(libre(tmp_path / "home", services), articles, out, "second")
    assert [s for r in services.requests("libre") for s in r.segments] == [empty, echoed]
    assert second.counts.reused_articles == 2  # the articles owed nothing
    assert all(a.unanswered == 0 for a in second.articles)
    assert not any("no translation" in warning for warning in second.warnings)
    assert set(stored(settings.memory_path)) == set(english)
    rows = read_tsv(Path(second.output_dir or "") / "aligned.tsv")
    assert "no translation" not in " ".join(rows["check_notes"].to_list())
    assert rows.filter(pl.col("arabic") == empty)["english_mt"].to_list() == [english[empty]]

    third = build(libre(tmp_path / "home", services), articles, out, "third")
    assert third.counts.reused_articles == 3 and len(services.requests("libre")) == 1  # owed nothing now


def test_an_empty_answer_merged_into_its_neighbours_row_adds_no_space(
    services: LoopbackServices, tmp_path: Path
) -> None:
    """The aligner puts a unit answered with nothing in one row with the next: that row's MT is the next one's."""
    articles = write_articles(tmp_path / "articles")
    units = [u.text for u in load_document(articles / "visit.ar.txt", "ar").units]
    english = dict(zip(units, load_document(articles / "visit.en.txt", "en").texts, strict=True))
    services.answers = english | {units[0]: ""}
    summary = build(libre(tmp_path / "home", services), articles, tmp_path / "output", "run")
    rows = read_tsv(Path(summary.output_dir or "") / "aligned.tsv").filter(pl.col("article_id") == "visit")
    merged = rows.filter(pl.col("arabic").str.starts_with(units[0]))["english_mt"].to_list()
    assert merged == [english[units[1]]]


def test_an_empty_mt_fails_the_language_check_whatever_its_length() -> None:
    pairs = [
        (SENTENCES[0], ""),
        (SENTENCES[0], "  "),
        ("٢٠٢٤", "2024"),
        (SENTENCES[0], "The minister arrived in Rabat this morning."),
    ]
    outcomes = run_checks(pairs, create_checks(["language"]))
    assert [o.failed for o in outcomes] == [("language",), ("language",), (), ()]
    assert outcomes[0].notes == "language: no translation (the MT is empty)"
