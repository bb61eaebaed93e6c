"""Calls translating at once in one process (articles on threads) send each sentence once: a sentence another call
is asking the engine for is waited for, and translated again only if that call fails. Against a real loopback
LibreTranslate service that counts what it is sent."""

from __future__ import annotations

import logging
import re
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import TARJAMA, cli_env, libre
from loopback_services import LoopbackServices, fake_english

from tarjama.corpus.build import CorpusRequest, ThreadRunner, build_corpus
from tarjama.settings import Settings
from tarjama.translation.engines import create_engine
from tarjama.translation.engines.transport import EngineError
from tarjama.translation.memory import TranslationMemory
from tarjama.translation.translate import IN_FLIGHT, Translation, translate_sentences

FAST = {"timeout": 5.0, "retries": 2, "backoff": 0.05}
POOL = [
    "وصل الوزير إلى المدينة صباح اليوم.",
    "واستقبله المحافظ في المطار.",
    "وقالت الشرطة إن الحادث وقع ليلا.",
    "ولم يصب أحد بأذى.",
    "وتستمر الأمطار حتى نهاية الأسبوع.",
    "وحذرت الأرصاد السائقين.",
    "افتتح المعرض أبوابه للزوار.",
    "ارتفعت أسعار الخبز في الأسواق.",
    "أغلقت المدارس بسبب الثلوج.",
]


def sent_segments(services: LoopbackServices) -> Counter[str]:
    """How many times the service was sent each segment."""
    return Counter(segment for record in services.requests("libre") for segment in record.segments)


def test_threads_translating_overlapping_sentences_send_each_one_once(tmp_path: Path) -> None:
    lists = [POOL[i : i + 5] + POOL[i : i + 1] for i in range(0, 5)]  # overlapping, each with a repeat of its own
    results: dict[int, list[Translation]] = {}
    start = threading.Barrier(len(lists))
    with LoopbackServices(latency=0.4) as services:  # every call's request outlasts the others' claims
        engine = create_engine("libre", url=services.url("libre"), **FAST)
        with TranslationMemory(tmp_path / "memory.sqlite") as memory:  # its first look-up reads the installed engines
            assert memory.lookup("libre", engine.model, POOL, url=engine.signature()["url"]) == {}

        def call(index: int) -> None:
            with TranslationMemory(tmp_path / "memory.sqlite") as memory:
                start.wait()
                results[index] = translate_sentences(lists[index], engine, memory)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(len(lists))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        sent = sent_segments(services)

    wanted = set().union(*lists)
    assert sent == Counter(wanted), sent  # each distinct sentence once, over all the calls (was 25 for 9)
    for index, sentences in enumerate(lists):
        assert [t.text for t in results[index]] == [fake_english(s) for s in sentences]
    with TranslationMemory(tmp_path / "memory.sqlite") as memory:  # stored by the call that paid for it
        assert memory.lookup("libre", engine.model, wanted, url=engine.signature()["url"]) == {
            s: fake_english(s) for s in wanted
        }
    assert len(IN_FLIGHT) == 0  # every claim ended


def test_a_sentence_whose_call_failed_is_translated_by_the_call_waiting_for_it(tmp_path: Path) -> None:
    theirs, own = POOL[:2], POOL[2:4]
    outcome: dict[str, object] = {}
    with LoopbackServices(latency=0.5) as services:
        services.inject("400")  # the first request fails, and is not retried
        engine = create_engine("libre", url=services.url("libre"), **FAST)

        def call(name: str, sentences: list[str]) -> None:
            with TranslationMemory(tmp_path / "memory.sqlite") as memory:
                try:
                    outcome[name] = translate_sentences(sentences, engine, memory)
                except EngineError as problem:
                    outcome[name] = problem

        failing = threading.Thread(target=call, args=("failing", theirs))
        failing.start()
        deadline = time.monotonic() + 30
        while not services.requests("libre") and time.monotonic() < deadline:  # its request is on its way
            time.sleep(0.01)
        waiting = threading.Thread(target=call, args=("waiting", [*theirs, *own]))
        waiting.start()
        failing.join(timeout=60)
        waiting.join(timeout=60)
        requests = [(record.segments, record.status) for record in services.requests("libre")]

    assert isinstance(outcome["failing"], EngineError), outcome["failing"]
    translated = outcome["waiting"]
    assert isinstance(translated, list)
    assert [t.text for t in translated] == [fake_english(s) for s in [*theirs, *own]]
    # the failed call's sentences, then the waiting call's own (not the failed ones again while they were claimed),
    # then the failed ones, claimed again by the call that was waiting for them
    assert requests == [(theirs, 400), (own, 200), (theirs, 200)], requests
    with TranslationMemory(tmp_path / "memory.sqlite") as memory:
        assert len(memory) == 4
    assert len(IN_FLIGHT) == 0


SHARED = [  # three paragraphs in every article
    "وصل الوزير إلى المدينة صباح اليوم. واستقبله المحافظ في المطار.",
    "وقالت الشرطة إن الحادث وقع ليلا. ولم يصب أحد بأذى.",
    "وتستمر الأمطار حتى نهاية الأسبوع. وحذرت الأرصاد السائقين.",
]
OWN = [  # and one of its own
    "افتتح المعرض أبوابه للزوار. وحضر الافتتاح مئات الناس.",
    "ارتفعت أسعار الخبز في الأسواق.",
    "فاز الفريق المحلي بالمباراة. واحتفل المشجعون بالفوز.",
    "أغلقت المدارس بسبب الثلوج.",
]
DISTINCT = 12  # sentences: 6 shared, 6 of their own


def write_sharing_articles(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, own in enumerate(OWN):
        (folder / f"article{index}.ar.txt").write_text("\n".join([own, *SHARED]) + "\n", encoding="utf-8")
    return folder


def test_articles_built_at_once_sharing_paragraphs_pay_for_each_sentence_once(tmp_path: Path, caplog) -> None:
    articles = write_sharing_articles(tmp_path / "articles")
    with LoopbackServices(latency=0.4) as services:
        settings = libre(tmp_path / "home", services, rate_limit=0)
        runner = ThreadRunner(settings, workers=4)  # the four articles at once, as `tarjama run -j 4`
        request = CorpusRequest(sources=[str(articles)], out=tmp_path / "out", run_name="r")
        with caplog.at_level(logging.INFO, logger="tarjama"):
            try:
                summary = build_corpus(request, settings, runner)
            finally:
                runner.close()
        sent = sent_segments(services)
    assert len(sent) == DISTINCT and set(sent.values()) == {1}, sent  # was 30 segments for 12
    assert len(summary.articles) == 4 and not summary.failures
    assert sum(article.translated_texts for article in summary.articles) == 30
    shared = [int(n) for n in re.findall(r", (\d+) by another article at the same time", caplog.text)]
    assert sum(shared) == 30 - DISTINCT, caplog.text  # each article's log line says whose they are
    with TranslationMemory(settings.memory_path) as memory:
        assert len(memory) == DISTINCT


@pytest.mark.slow
def test_tarjama_run_with_four_workers_requests_each_shared_sentence_once(tmp_path: Path) -> None:
    articles = write_sharing_articles(tmp_path / "articles")
    with LoopbackServices(latency=0.4, lifetime=900) as services:
        env = cli_env(tmp_path / "home", TARJAMA_LIBRE_URL=services.url("libre"))
        command = [TARJAMA, "run", str(articles), "-e", "libre", "--rate-limit", "0", "-j", "4", "-o", tmp_path / "out"]
        done = subprocess.run(list(map(str, command)), capture_output=True, text=True, env=env, timeout=600)
        sent = sent_segments(services)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(sent) == DISTINCT and set(sent.values()) == {1}, sent


@pytest.mark.slow
def test_an_article_waiting_for_the_local_models_turn_finds_what_the_article_before_it_paid_for(
    tmp_path: Path, local_engine
) -> None:
    """The local model decodes one article at a time: the second article reads the journals once its turn comes,
    not before, so it finds the sentence the first one decoded meanwhile instead of decoding it again."""
    articles = tmp_path / "articles"
    articles.mkdir()
    for name in ("first", "second"):
        (articles / f"{name}.ar.txt").write_text("وصل الوزير إلى المدينة.\n", encoding="utf-8")
    settings = Settings.load({"TARJAMA_HOME": str(tmp_path / "home")}, tmp_path, engine="local")
    runner = ThreadRunner(settings, workers=2)  # both articles at once
    try:
        summary = build_corpus(
            CorpusRequest(sources=[str(articles)], out=tmp_path / "out", run_name="r"), settings, runner
        )
    finally:
        runner.close()
    assert len(summary.articles) == 2 and not summary.failures
    assert sorted(article.from_memory for article in summary.articles) == [0, 1]  # decoded once (was [0, 0])
