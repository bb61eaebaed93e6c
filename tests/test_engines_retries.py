"""Timeouts, retries and backoff against a loopback server that injects faults."""

from __future__ import annotations

import re
import socket
import time

import pytest
from conftest import CORPUS
from loopback_services import LoopbackServices, fake_english

from tarjama.errors import TarjamaError
from tarjama.text.article import load_document
from tarjama.translation.engines import EngineStats, create_engine
from tarjama.translation.engines.transport import EngineRejected, EngineUnavailable

SENTENCES = load_document(CORPUS / "morocco-us-counterterrorism.ar.txt", "ar").texts[:3]
EXPECTED = [fake_english(s) for s in SENTENCES]
TIMEOUT = 1.0  # generous: the machine may be busy, and a slow answer must not look like a hang


pytestmark = pytest.mark.usefixtures("cleared_services")  # one set of services for the module, cleared per test


@pytest.fixture(scope="module")
def services():
    with LoopbackServices(hang_seconds=4 * TIMEOUT, lifetime=300) as running:
        yield running


def engine(services, name="google", *, retries=4, backoff=0.05, **options):
    service = "openai" if name in ("chatgpt", "openai-compat") else name
    return create_engine(name, url=services.url(service), timeout=TIMEOUT, retries=retries, backoff=backoff, **options)


def gaps(records) -> list[float]:
    return [b.started - a.started for a, b in zip(records, records[1:])]


def test_429_without_retry_after_backs_off_exponentially(services):
    services.inject("429", "429", "429")
    google = engine(services, backoff=0.2)
    assert list(google.translate(SENTENCES)) == EXPECTED
    records = services.requests()
    assert [r.status for r in records] == [429, 429, 429, 200]
    first, second, third = gaps(records)
    # equal jitter: the n-th retry waits between half and all of 0.2 * 2**(n-1) seconds
    assert 0.1 <= first < 0.2 + 1.0  # (plus the time a busy machine takes to answer)
    assert 0.2 <= second < 0.4 + 1.0
    assert 0.4 <= third < 0.8 + 1.0
    assert google.stats == EngineStats(requests=4, retries=3, split_batches=0)


@pytest.mark.parametrize("fault", ["429:1.2", "429-date:2"])
def test_429_retry_after_is_honoured(services, fault):
    services.inject(fault)
    google = engine(services, backoff=0.01)
    assert list(google.translate(SENTENCES)) == EXPECTED
    records = services.requests()
    assert [r.status for r in records] == [429, 200]
    assert gaps(records)[0] >= (1.2 if fault == "429:1.2" else 0.9)  # an HTTP date has whole seconds


@pytest.mark.parametrize("fault", ["500", "502", "503", "504", "hang", "drop", "truncate", "garbage"])
@pytest.mark.parametrize("name", ["google", "libre"])
def test_transient_faults_are_retried(services, name, fault):
    services.inject(fault)
    translator = engine(services, name)
    started = time.monotonic()
    assert list(translator.translate(SENTENCES)) == EXPECTED
    records = services.requests()
    assert len(records) == 2 and records[0].fault == fault and records[1].status == 200
    assert records[0].segments == records[1].segments  # the same request again
    if fault == "hang":  # the timeout fired, well before the server would have given up
        # (the server stamps a request once it has read it, a moment after the client's clock started)
        assert 0.9 * TIMEOUT <= gaps(records)[0] < services.hang_seconds
    assert time.monotonic() - started < 10


@pytest.mark.parametrize(
    ("name", "fault", "status"),
    [
        ("google", "400", 400),
        ("google", "403", 403),
        ("google", "404", 404),
        ("google", "302", 302),
        ("libre", "400", 400),
        ("libre", "401", 401),
    ],
)
def test_errors_that_will_not_change_are_not_retried(services, name, fault, status):
    services.inject(fault, fault)
    translator = engine(services, name)
    with pytest.raises(EngineRejected) as caught:
        list(translator.translate(SENTENCES))
    assert len(services.requests()) == 1
    message = str(caught.value)
    assert message.startswith(f"engine {name}: HTTP {status}")
    assert "not followed" in message if status == 302 else "not retried" in message
    assert "leaked-if-followed" not in message


def test_a_bad_key_is_not_retried_and_the_key_is_not_shown():
    with LoopbackServices(keys=("the-right-key-1",), lifetime=60) as services:
        libre = create_engine("libre", url=services.url("libre"), api_key="wrong-key-98765", retries=4, backoff=0.01)
        with pytest.raises(EngineRejected) as caught:
            list(libre.translate(SENTENCES))
        assert len(services.requests()) == 1
        assert "403" in str(caught.value) and "Invalid API key" in str(caught.value)
        assert "wrong-key-98765" not in str(caught.value) and "wrong-key-98765" not in repr(libre)


@pytest.mark.parametrize(
    ("fault", "what"),
    [("503", "HTTP 503"), ("hang", "timed out"), ("drop", "connection dropped"), ("garbage", "unusable answer")],
)
@pytest.mark.slow
def test_persistent_faults_end_in_a_clear_error(services, fault, what):
    services.persistent = fault
    google = engine(services, retries=3, backoff=0.02)
    with pytest.raises(EngineUnavailable) as caught:
        list(google.translate(SENTENCES))
    assert len(services.requests()) == 4  # the first attempt and three retries, then no more
    message = str(caught.value)
    assert message.startswith("engine google: ") and what in message
    assert "gave up after 4 attempt(s)" in message and f"GET {services.root}/google/m" in message
    assert "?" not in message  # no query string (it may carry a key, and the text)
    assert isinstance(caught.value, TarjamaError)  # the CLI shows it as one line, and Prefect does not retry it


def test_a_retry_after_beyond_the_limit_gives_up_at_once(services):
    services.inject("429:3600")
    with pytest.raises(EngineUnavailable, match="asks to wait 3600 s"):
        list(engine(services).translate(SENTENCES))
    assert len(services.requests()) == 1


def test_request_too_large_splits_the_batch_and_lowers_the_limit(services):
    services.inject("413")
    google = engine(services)
    assert list(google.translate(SENTENCES)) == EXPECTED
    sizes = [len(r.query["q"][0]) for r in services.requests()]
    assert sizes[0] == sum(map(len, SENTENCES)) + 2  # everything in one request, refused
    assert all(size <= sizes[0] // 2 for size in sizes[1:])  # later requests within half of it
    assert google.batcher.max_chars <= sizes[0] // 2


def test_the_throttle_runs_before_every_request_retries_included(services):
    calls: list[float] = []
    services.inject("500", "429")
    google = engine(services, throttle=lambda: calls.append(time.monotonic()))
    assert list(google.translate(SENTENCES)) == EXPECTED
    assert len(calls) == len(services.requests()) == 3
    assert all(call <= record.started for call, record in zip(calls, services.requests()))


def test_a_single_sentence_refused_as_too_large_is_cut_at_clauses(services):
    services.inject("413", "413")
    sentence = load_document(CORPUS / "morocco-us-counterterrorism.ar.txt", "ar").texts[0]
    google = engine(services)
    assert list(google.translate([sentence])) == [fake_english(sentence)]
    records = services.requests()
    assert [r.status for r in records[:2]] == [413, 413] and all(r.status == 200 for r in records[2:])
    pieces = [r.query["q"][0] for r in records[2:]]
    assert " ".join(pieces) == sentence and len(pieces) >= 3
    # cut after a clause mark, except inside a clause longer than the final limit (cut at a space)
    limit = google.batcher.max_chars
    assert all(len(piece) <= limit for piece in pieces)
    long_clauses = [c for c in re.split(r"(?<=[،؛:])\s+", sentence) if len(c) > limit]
    for piece, following in zip(pieces, pieces[1:]):
        assert piece[-1] in "،؛:" or any(f"{piece.split()[-1]} {following.split()[0]}" in c for c in long_clauses)
    assert sum(piece[-1] in "،؛:" for piece in pieces) >= 3


@pytest.mark.parametrize(("fault", "said"), [("503", "HTTP 503 Service Unavailable from GET"), ("hang", "timed out")])
def test_the_request_is_named_as_what_answered_or_what_was_tried(services, fault, said):
    """An answer comes "from" the request; a connection that failed read "could not connect from POST https://..."."""
    services.persistent = fault
    with pytest.raises(EngineUnavailable) as caught:
        list(engine(services, retries=1, backoff=0.01).translate(SENTENCES))
    assert said in str(caught.value)
    assert ("from GET" in str(caught.value)) == (fault == "503")


def test_a_service_nothing_listens_at_is_could_not_connect_and_the_request(caplog):
    with socket.socket() as taken:  # bound, not listening: connection refused, and no other process gets the port
        taken.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{taken.getsockname()[1]}/"
        libre = create_engine("libre", url=url, retries=1, backoff=0.01)
        with pytest.raises(EngineUnavailable) as caught:
            list(libre.translate(SENTENCES))
    assert str(caught.value).startswith(f"engine libre: could not connect (POST {url}translate); gave up after 2 ")
    assert f"engine libre: could not connect (POST {url}translate) (attempt 1 of 2); retrying in" in caplog.text
