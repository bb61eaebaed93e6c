"""The translation memory knows which server translated: a web engine pointed elsewhere than its default URL
keys its translations by that URL (``model via <url>``), so two servers never serve each other's; at the
default URL the key is the model alone, as before 0.3.5, so a memory written then is still served.

A tester found it: a run against one LibreTranslate server, then the same run with ``--engine-url`` of
another, sent nothing and served the first server's translations under a signature naming the second."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from conftest import build, libre, write_articles
from loopback_services import LoopbackServices

from tarjama.corpus.schema import read_tsv
from tarjama.translation.engines import create_engine
from tarjama.translation.engines.base import get_spec
from tarjama.translation.engines.transport import safe_url
from tarjama.translation.memory import TranslationMemory, journal_path, read_journals
from tarjama.translation.translate import translate_sentences

SENTENCES = [
    "ضربت عاصفة قوية الساحل الشمالي للبلاد يوم الثلاثاء.",
    "وأجرى المدير العام مباحثات مع الوزير الأمريكي.",
    "وجرى اللقاء بحضور عدد من المسؤولين.",
]
FAST = {"timeout": 5.0, "retries": 0, "backoff": 0.05}


def asked(server: LoopbackServices) -> list[str]:
    return [segment for record in server.requests() for segment in record.segments]


def stored(path: Path) -> set[tuple[str, str]]:
    """The (engine, model) keys of what the memory file at ``path`` holds, read as any SQLite reader would."""
    with sqlite3.connect(path) as db:
        return set(db.execute("SELECT DISTINCT engine, model FROM translations"))


@pytest.mark.parametrize(
    ("engine", "service", "options"),
    [("libre", "libre", {}), ("openai-compat", "openai", {"model": "qwen2.5:7b"})],
    ids=["libre", "openai-compat-same-model"],
)
def test_two_servers_translations_are_kept_apart(tmp_path, engine, service, options):
    path = tmp_path / "memory.sqlite"
    with (
        LoopbackServices(accent="A", lifetime=120) as a,
        LoopbackServices(accent="B", lifetime=120) as b,
        TranslationMemory(path) as memory,
    ):

        def translate(server: LoopbackServices) -> list[str]:
            with create_engine(engine, url=server.url(service), **FAST, **options) as built:
                return [t.text for t in translate_sentences(SENTENCES, built, memory)]

        assert translate(a) == [a.english(s) for s in SENTENCES]
        assert translate(b) == [b.english(s) for s in SENTENCES]  # B is asked: A's answers are not B's
        assert sorted(asked(b)) == sorted(SENTENCES)
        sent_to_a = len(a.requests())
        assert translate(a) == [a.english(s) for s in SENTENCES]  # back to A: its own answers, from the memory
        assert len(a.requests()) == sent_to_a and sorted(asked(b)) == sorted(SENTENCES)  # nobody asked
        assert len(memory) == 2 * len(SENTENCES)
    model = options.get("model", "libretranslate")
    assert stored(path) == {
        (engine, f"{model} via {a.url(service).rstrip('/')}"),
        (engine, f"{model} via {b.url(service).rstrip('/')}"),
    }


def test_what_was_stored_before_for_a_server_is_not_served_and_stays(tmp_path):
    """Before 0.3.5 a LibreTranslate translation was stored under the model alone, from whichever server:
    it is not served for any server now, and is not removed."""
    path = tmp_path / "memory.sqlite"
    with TranslationMemory(path) as memory:
        memory.store("libre", "libretranslate", SENTENCES[0], "from some server, once")
    with LoopbackServices(accent="A", lifetime=120) as a, TranslationMemory(path) as memory:
        with create_engine("libre", url=a.url("libre"), **FAST) as engine:
            translated = translate_sentences(SENTENCES, engine, memory)
        assert [t.text for t in translated] == [a.english(s) for s in SENTENCES]
        assert not any(t.from_memory for t in translated) and asked(a) == SENTENCES
        assert len(memory) == 1 + len(SENTENCES)
    assert ("libre", "libretranslate") in stored(path)


WITH_A_DEFAULT_URL = ["google", "mymemory", "deepl", "microsoft", "qcri", "yandex", "baidu", "chatgpt"]


@pytest.mark.parametrize("name", WITH_A_DEFAULT_URL)
@pytest.mark.parametrize("url", ["unset", "given"])
def test_at_the_default_url_a_memory_written_before_is_served(tmp_path, name, url):
    """A memory written by 0.3.4 (keyed by engine, model and source alone) serves an engine at its default
    URL, whether the URL is left unset or given as it is: nothing is sent (every request would fail)."""
    secrets = {credential.option: f"{name}-test-key:fx" for credential in get_spec(name).credentials}
    with create_engine(name, **secrets, **FAST) as unset:
        default = unset.url  # a web engine's
    given = {"url": default} if url == "given" else {}
    path = tmp_path / "memory.sqlite"
    with create_engine(name, **secrets, **given, **FAST) as engine:

        def no_request() -> None:
            raise AssertionError(f"engine {name} sent a request")

        engine.throttle = no_request  # run before every request
        assert engine.signature()["url"] == safe_url(default)
        TranslationMemory(path).close()
        with sqlite3.connect(path) as db:  # the key as 0.3.4 wrote it
            db.executemany(
                "INSERT INTO translations (engine, model, source, target) VALUES (?, ?, ?, ?)",
                [(name, engine.model, source, f"old {i}") for i, source in enumerate(SENTENCES)],
            )
        with TranslationMemory(path) as memory:
            translated = translate_sentences(SENTENCES, engine, memory)
        assert [t.text for t in translated] == [f"old {i}" for i in range(len(SENTENCES))]
        assert all(t.from_memory for t in translated) and engine.stats.requests == 0
        assert stored(path) == {(name, engine.model)}


def test_a_corpus_built_against_another_server_asks_it_and_back_asks_nobody(tmp_path):
    """The run's path: the driver's lookup and store, and the workers' journals (this process's journal
    stays, as a live writer's does, and the next build reads it)."""
    articles, out, home = write_articles(tmp_path / "articles"), tmp_path / "out", tmp_path / "home"

    def english_mt(summary) -> list[str]:
        return [text for text in read_tsv(Path(summary.output_dir) / "aligned.tsv")["english_mt"] if text]

    with LoopbackServices(accent="A", lifetime=300) as a, LoopbackServices(accent="B", lifetime=300) as b:
        first = build(libre(home, a), articles, out, "a")
        sent_to_a = len(a.requests())
        assert sent_to_a and all(text.startswith("A ") for text in english_mt(first))
        second = build(libre(home, b), articles, out, "b")
        assert b.requests() and all(text.startswith("B ") for text in english_mt(second))
        assert {article.from_memory for article in second.articles} == {0}
        assert {article.engine_signature["url"] for article in second.articles} == {b.url("libre")}
        again = build(libre(home, a), articles, out, "a-again", rebuild=True)  # rebuilt: from the memory
        assert len(a.requests()) == sent_to_a and english_mt(again) == english_mt(first)
        assert all(article.from_memory == article.translated_texts for article in again.articles)
    assert stored(home / "memory.sqlite") == {
        ("libre", f"libretranslate via {a.root}/libre"),
        ("libre", f"libretranslate via {b.root}/libre"),
    }


def test_a_journal_serves_only_the_server_that_translated(tmp_path):
    folder, a, b = tmp_path / "journals", "http://127.0.0.1:18731/", "http://127.0.0.1:18732"
    folder.mkdir()
    with TranslationMemory(journal_path(folder)) as journal:
        journal.store("libre", "libretranslate", SENTENCES[0], "from A", url=a)
    assert read_journals(folder, "libre", "libretranslate", SENTENCES, url=b) == {}
    assert read_journals(folder, "libre", "libretranslate", SENTENCES, url=a) == {SENTENCES[0]: "from A"}
    assert read_journals(folder, "libre", "libretranslate", SENTENCES, url="http://127.0.0.1:18731") == {
        SENTENCES[0]: "from A"  # the same server, written without its trailing slash
    }
