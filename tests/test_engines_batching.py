"""Batching against real HTTP on loopback: how many requests an article takes, and what comes back."""

from __future__ import annotations

import re

import pytest
from conftest import CORPUS
from deep_translator import GoogleTranslator, LibreTranslator
from loopback_services import LoopbackServices, fake_english

from tarjama.settings import Settings
from tarjama.text.article import load_document
from tarjama.translation.engines import create_engine
from tarjama.translation.engines.batching import pack, split_long

SEED = load_document(CORPUS / "morocco-us-counterterrorism.ar.txt", "ar").texts
NTREX = [load_document(path, "ar").texts for path in sorted((CORPUS / "ntrex128-dev").glob("*.ar.txt"))]
FAST = {"timeout": 5.0, "retries": 2, "backoff": 0.05}


pytestmark = pytest.mark.usefixtures("cleared_services")  # one set of services for the module, cleared per test


@pytest.fixture(scope="module")
def services():
    with LoopbackServices(lifetime=300) as running:
        yield running


def greedy_batches(lengths: list[int], limit: int, separator: int) -> int:
    """Requests needed when consecutive texts are packed greedily (an independent count)."""
    batches, current = 0, None
    for length in lengths:
        if current is not None and current + separator + length <= limit:
            current += separator + length
        else:
            batches, current = batches + 1, length
    return batches


# --------------------------------------------------------------------------- pure helpers


def test_pack_is_greedy_and_respects_both_limits():
    assert pack([3, 3, 3], max_chars=7, separator=1) == [2, 1]
    assert pack([3, 3, 3], max_chars=100, separator=1, max_items=2) == [2, 1]
    assert pack([10, 1], max_chars=5) == [1, 1]  # an item over the limit still goes, alone
    assert pack([], max_chars=5) == []


def test_split_long_cuts_after_clause_marks_and_loses_nothing():
    text = "الجملة الأولى طويلة، والثانية أيضا؛ والثالثة: كذلك هنا"
    pieces = split_long(text, 25)
    assert all(len(piece) <= 25 for piece in pieces)
    assert " ".join(pieces) == text
    assert len(pieces) == 3 and all(p[-1] in "،؛:" for p in pieces[:-1])  # greedy: clauses share pieces
    assert split_long(text, 20) == ["الجملة الأولى طويلة،", "والثانية أيضا؛", "والثالثة: كذلك هنا"]
    # a clause longer than the limit is cut at spaces, a word longer than it anywhere
    assert split_long("كلمة " * 10, 12) == ["كلمة كلمة", "كلمة كلمة", "كلمة كلمة", "كلمة كلمة", "كلمة كلمة"]
    assert split_long("ا" * 25, 10) == ["ا" * 10, "ا" * 10, "ا" * 5]


# --------------------------------------------------------------------------- request counts


def test_seed_article_goes_in_two_google_requests_instead_of_thirteen(services):
    google = create_engine("google", url=services.url("google"), **FAST)
    assert list(google.translate(SEED)) == [fake_english(s) for s in SEED]
    requests = services.requests("google")
    expected = greedy_batches([len(s) for s in SEED], 4999, 1)
    assert len(requests) == expected == 2
    assert all(r.method == "GET" and r.query["sl"] == ["ar"] and r.query["tl"] == ["en"] for r in requests)
    assert all(len(r.query["q"][0]) < 5000 for r in requests)  # Google's limit
    assert [s for r in requests for s in r.segments] == SEED  # each sentence once, in order
    # greedy: the next sentence would not have fitted into the previous request
    first = requests[0].query["q"][0]
    assert len(first) + 1 + len(requests[1].segments[0]) > 4999

    services.clear()
    unbatched = create_engine("google", url=services.url("google"), batch=False, **FAST)
    assert list(unbatched.translate(SEED)) == [fake_english(s) for s in SEED]
    assert len(services.requests("google")) == len(SEED) == 13


def test_deep_translator_sends_one_request_per_sentence(services):
    """The baseline: deep-translator's own translate_batch, pointed at the loopback server."""
    translator = GoogleTranslator(source="ar", target="en")
    translator._base_url = services.url("google")  # deep-translator has no public option for this URL
    assert translator.translate_batch(SEED[:4]) == [fake_english(s) for s in SEED[:4]]
    assert len(services.requests("google")) == 4
    services.clear()
    libre = LibreTranslator(source="ar", target="en", api_key="unused", custom_url=services.url("libre"))
    assert libre.translate_batch(SEED[:3]) == [fake_english(s) for s in SEED[:3]]
    assert len(services.requests("libre")) == 3


def test_libre_sends_the_seed_article_as_one_list(services):
    libre = create_engine("libre", url=services.url("libre"), **FAST)
    assert list(libre.translate(SEED)) == [fake_english(s) for s in SEED]
    (request,) = services.requests("libre")
    assert request.method == "POST" and request.path == "/libre/translate"
    assert request.segments == SEED


@pytest.mark.slow
def test_ntrex_documents_take_one_google_request_each(services):
    google = create_engine("google", url=services.url("google"), **FAST)
    sentences = 0
    for document in NTREX:
        before = len(services.requests("google"))
        assert list(google.translate(document)) == [fake_english(s) for s in document]
        used = len(services.requests("google")) - before
        assert used == greedy_batches([len(s) for s in document], 4999, 1)
        sentences += len(document)
    assert len(services.requests("google")) == len(NTREX) == 40
    assert sentences >= 10 * len(NTREX)  # at least 10x fewer requests than one per sentence


def test_limits_from_the_environment_are_honoured(services, tmp_path):
    environ = {
        "TARJAMA_LIBRE_MAX_ITEMS": "3",
        "TARJAMA_LIBRE_URL": services.url("libre"),
        "TARJAMA_HOME": str(tmp_path),
    }
    libre = create_engine("libre", **(Settings.load(environ).engine_options("libre") | FAST))
    assert list(libre.translate(SEED)) == [fake_english(s) for s in SEED]
    assert [len(r.segments) for r in services.requests("libre")] == [3, 3, 3, 3, 1]


def test_sentences_over_the_limit_are_split_at_clauses_and_rejoined(services):
    limit = 300
    google = create_engine("google", url=services.url("google"), max_chars=limit, **FAST)
    assert list(google.translate(SEED)) == [fake_english(s) for s in SEED]
    requests = services.requests("google")
    assert all(len(r.query["q"][0]) <= limit for r in requests)
    pieces = [segment for r in requests for segment in r.segments]
    assert " ".join(pieces) == " ".join(" ".join(s.split()) for s in SEED)
    long_ones = [s for s in SEED if len(s) > limit]
    assert long_ones, "the seed article has sentences over 300 characters"
    # every piece of a split sentence but its last ends at a clause mark
    ends = [p[-1] for p in pieces if p not in SEED and not any(s.endswith(p) for s in SEED)]
    assert ends and all(mark in "،؛:" for mark in ends)


def test_wrong_segment_count_falls_back_to_smaller_batches(services):
    google = create_engine("google", url=services.url("google"), max_chars=2000, **FAST)
    first = greedy_batches([len(s) for s in SEED], 2000, 1)
    services.inject("wrong-count")  # the first answer has one segment too few
    assert list(google.translate(SEED)) == [fake_english(s) for s in SEED]
    sizes = [len(r.segments) for r in services.requests("google")]
    n = sizes[0]
    assert sizes[1:3] == [(n + 1) // 2, n // 2]  # the batch again, in two halves
    assert len(sizes) == first + 2
    assert google.stats.split_batches == 1

    services.clear()
    services.inject("wrong-count", "wrong-count")
    libre = create_engine("libre", url=services.url("libre"), max_items=4, **FAST)
    assert list(libre.translate(SEED[:4])) == [fake_english(s) for s in SEED[:4]]
    assert [len(r.segments) for r in services.requests("libre")] == [4, 2, 1, 1, 2]  # down to single sentences


def test_every_web_engine_translates_through_its_own_protocol():
    key = "loopback-key-0123"
    with LoopbackServices(keys=(key,), lifetime=120) as services:
        cases = {
            "google": ("google", {}),
            "mymemory": ("mymemory", {}),
            "libre": ("libre", {"api_key": key}),
            "deepl": ("deepl", {"api_key": key}),
            "microsoft": ("microsoft", {"api_key": key}),
            "qcri": ("qcri", {"api_key": key}),
            "yandex": ("yandex", {"api_key": key}),
            "baidu": ("baidu", {"appid": key, "appkey": "app-key-0123"}),
            "chatgpt": ("openai", {"api_key": key}),
            "openai-compat": ("openai", {"api_key": key, "model": "qwen2.5:7b"}),
        }
        document = SEED[:5]
        for name, (service, options) in cases.items():
            services.clear()
            engine = create_engine(name, url=services.url(service), **options, **FAST)
            assert list(engine.translate(document)) == [fake_english(s) for s in document], name
            requests = services.requests(service)
            assert " ".join(s for r in requests for s in r.segments) == " ".join(document), name
            assert all(r.status == 200 for r in requests), name
            assert engine.stats.requests == len(requests), name
            if name not in ("mymemory", "openai-compat"):  # 499-character limit; one sentence per request
                assert len(requests) < len(document), name
        assert re.fullmatch(
            r"qwen2\.5:7b", create_engine("openai-compat", url=services.url("openai"), model="qwen2.5:7b").model
        )
