"""Web engines' rate limit against a real Prefect server, and runs sharing a translation memory.

A tester's runs (300 requests, 0.1 s each, four workers) took 61 s at ``--rate-limit 50`` and 66 s at
1000 against 23 s unthrottled, and reached 2.8 requests/s at 5: one slot of Prefect's limit per request
cost a round trip each, one after the other (``benchmarks/results/rate-limit.md``)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ARTICLE, PYTHON, Runs, finish, shared_runs

from tarjama.translation.engines.pacing import PacedBatches, batch_size


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Iterator[Runs]:
    with shared_runs(tmp_path_factory.mktemp("runs")) as started:
        yield started


THROTTLED = """
import json, sys, threading, time
from tarjama.flows.limits import ensure_limit, make_throttle, prefect_take
from tarjama.settings import Settings
from tarjama.translation.engines.pacing import PacedBatches

def send(throttles, requests, workers=4):
    left = iter(range(requests))
    lock = threading.Lock()
    def work(throttle):
        while True:
            with lock:
                if next(left, None) is None:
                    return
            throttle()
    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(throttles[i % len(throttles)],)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started

found = {}
ensure_limit("warm", 1.0)  # the client's first connection, outside the figures
slow = Settings.load(rate_limit=5.0)
throttle, found["described"] = make_throttle("libre", slow)
found["same_throttle"] = make_throttle("libre", slow)[0] is throttle  # every batch of a run shares it
found["slow"] = send([throttle], 20)
fast, _ = make_throttle("libre", Settings.load(rate_limit=50.0))
found["fast"] = send([fast], 100)
found["fast_asks"] = fast.asks
# two processes' throttles on one limit: only Prefect's limit holds them back together
name = ensure_limit("shared", 10.0)
found["shared"] = send([PacedBatches(10.0, prefect_take(name)), PacedBatches(10.0, prefect_take(name))], 60)
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def throttled(runs, tmp_path_factory) -> dict:
    env = runs.env | {"TARJAMA_HOME": str(tmp_path_factory.mktemp("home"))}
    done = subprocess.run([PYTHON, "-c", THROTTLED], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.slow
def test_a_low_rate_still_holds(throttled):
    """20 requests at 5/s: one every 0.2 s, so at least 3.8 s however many threads ask."""
    assert throttled["described"] == "rate limit tarjama-engine-libre: 5 requests/s (--rate-limit)"
    assert throttled["same_throttle"]
    assert throttled["slow"] >= 3.5


@pytest.mark.slow
def test_a_high_rate_is_not_capped_near_five_a_second(throttled):
    """100 requests at 50/s take 2 s, asking Prefect for slots a few times, not once a request (which
    capped the tester's runs near 5/s)."""
    assert throttled["fast"] < 4.0
    assert throttled["fast_asks"] <= 100 // batch_size(50.0) + 2


@pytest.mark.slow
def test_processes_sharing_the_limit_stay_under_it_together(throttled):
    """Two throttles of their own (two processes) at 10/s, 60 requests: each alone would take 3 s; the
    shared Prefect limit (10 slots, decaying at 10 a second) makes them take at least 5 s together."""
    assert throttled["shared"] >= 4.5


def test_pacing_spends_each_granted_slot_once_and_spaces_the_requests():
    """Without Prefect: ``take`` counts the slots granted; 12 requests at 20/s from three threads."""
    granted = []
    throttle = PacedBatches(20.0, granted.append)
    started = time.monotonic()
    sent = []

    def work() -> None:
        for _ in range(4):
            throttle()
            sent.append(time.monotonic())

    import threading

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(sent) == 12
    assert sum(granted) >= 12 and all(n == batch_size(20.0) for n in granted)
    assert max(sent) - started >= 11 * 0.05 * 0.95
    gaps = [b - a for a, b in zip(sorted(sent), sorted(sent)[1:], strict=False)]
    assert min(gaps) >= 0.05 * 0.8


def test_a_failed_ask_reaches_the_callers_and_the_next_call_asks_again():
    asked = []

    def take(slots: int) -> None:
        asked.append(slots)
        if len(asked) == 1:
            raise ConnectionError("Prefect is down")

    throttle = PacedBatches(100.0, take)
    with pytest.raises(ConnectionError, match="Prefect is down"):
        throttle()
    throttle()
    assert len(asked) == 2


@pytest.mark.slow
def test_a_second_run_on_the_same_memory_is_warned(runs, tmp_path: Path):
    """Two runs of one article started together, same home and memory, both paid for its sentences."""
    memory = tmp_path / "memory.sqlite"
    runs.services.clear()
    held = runs.services.held
    runs.services.hold_after(0)  # the first run waits on its first request: still running when the second starts
    try:
        first = runs.start(ARTICLE, "--out", tmp_path / "out", "--name", "first", "--memory", memory)
        deadline = time.monotonic() + 400
        while runs.services.held <= held:
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()[1][-3000:]
            time.sleep(0.5)
        second = runs.start(ARTICLE, "--out", tmp_path / "out", "--name", "second", "--memory", memory)
        while runs.services.held <= held + 1:  # the second is translating: its warning is written
            assert second.poll() is None and time.monotonic() < deadline, second.communicate()[1][-3000:]
            time.sleep(0.5)
    finally:
        runs.services.release()
    (first_status, first_err), (second_status, second_err) = finish(first), finish(second)
    assert first_status == 0, first_err[-3000:]
    assert second_status == 0, second_err[-3000:]
    assert "same translation memory" not in first_err
    warning = [line for line in second_err.splitlines() if "same translation memory" in line]
    assert warning == [
        f"tarjama: warning: run first (process {first.pid}) is using the same translation memory ({memory}):"
        " sentences both runs need may be translated, and paid for, twice"
    ]
