"""A run `tarjama serve` started keeps every answer it was paid for when it is cancelled from the Prefect UI or
when `serve` is stopped while requests are in flight, and the next run does not pay for them again.

Both used to lose them: the run's process ended (its engines closed under the requests in flight) without
waiting, and its main thread, waiting on the batches without a timeout, ran the signal's handler only when
the next batch finished, while the others went on sending requests."""

from __future__ import annotations

import signal
import sqlite3
import time
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from conftest import copy_articles, csrf_headers, free_port, start_serve, stop, wait_ready
from loopback_services import LoopbackServices, Record

pytestmark = pytest.mark.slow  # a real Prefect server, `tarjama serve` and its runs' processes

ARTICLE_IDS = ["abcnews.306758", "abcnews.306764", "bbc.381647", "bbc.381679"]


def paid_for_and_kept(home: Path) -> set[str]:
    """Every translation the runs of ``home`` stored: its memory, and the journals the next run merges."""
    found: set[str] = set()
    for path in [home / "memory.sqlite", *home.glob("journals/**/*.sqlite")]:
        with closing(sqlite3.connect(path)) as db:
            found |= {row[0] for row in db.execute("SELECT target FROM translations")}
    return found


def in_flight(services: LoopbackServices) -> list[Record]:
    return [r for r in services.requests("libre") if r.status is None and r.fault is None]


def answered(services: LoopbackServices) -> list[str]:
    return [s for r in services.requests("libre") if r.status == 200 for s in r.segments]


def start_run(api: str, deployment: str) -> str:
    for _attempt in range(10):  # SQLite under load may answer 503 (database locked) for a moment
        response = httpx.post(
            f"{api}/deployments/{deployment}/create_flow_run",
            json={"parameters": {}},  # the form's defaults: serve's --article files
            headers=csrf_headers(api),
            timeout=30,
        )
        if response.status_code != 503:
            break
        time.sleep(2)
    return str(response.raise_for_status().json()["id"])


def when_in_flight(services: LoopbackServices, serve_output, timeout: float = 300) -> float:
    """Wait until the current run has answers stored and requests in flight; the monotonic time then."""
    deadline = time.monotonic() + timeout
    while not (services.answered("libre") >= 1 and in_flight(services)):
        assert time.monotonic() < deadline, serve_output()[-3000:]
        time.sleep(0.005)
    return time.monotonic()


def test_cancel_and_stopping_serve_keep_the_answers_in_flight(tmp_path):
    home, out = tmp_path / "home", tmp_path / "output"
    articles = sorted(copy_articles(tmp_path / "articles", ARTICLE_IDS).glob("*.ar.txt"))
    with LoopbackServices(lifetime=900) as services:
        serve = start_serve(
            home,
            out,
            free_port(),
            free_port(),
            *[arg for article in articles for arg in ("--article", str(article))],
            session=True,
            TARJAMA_ENGINE="libre",
            TARJAMA_LIBRE_URL=services.url("libre"),
            TARJAMA_LIBRE_MAX_ITEMS="3",  # three segments a request: an article takes several
            TARJAMA_HTTP_BACKOFF="0.1",
        )
        try:
            state = wait_ready(serve)
            api = state["api_url"]
            services.latency = 1.0

            # Cancel in the Prefect UI (what its button sends) while requests are in flight
            run_id = start_run(api, state["deployment_id"])
            when_in_flight(services, serve.output)
            httpx.post(
                f"{api}/flow_runs/{run_id}/set_state",
                json={"state": {"type": "CANCELLING"}, "force": True},
                headers=csrf_headers(api),
                timeout=30,
            ).raise_for_status()
            deadline = time.monotonic() + 120
            while (ended := httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()["state"])["type"] not in {
                "CANCELLED",
                "CRASHED",
                "FAILED",
                "COMPLETED",
            }:
                assert time.monotonic() < deadline, serve.output()[-3000:]
                time.sleep(0.5)
            assert ended["type"] == "CANCELLED", ended
            first = answered(services)
            assert first and len(first) < 36, "the run was not stopped mid-translation"
            assert {services.english(s) for s in first} <= paid_for_and_kept(home), serve.output()[-3000:]
            assert "stopped: every translation paid for is kept" in serve.output()

            # the same run again, then serve stopped by Ctrl-C on its terminal while requests are in flight
            services.clear()
            start_run(api, state["deployment_id"])
            sent = when_in_flight(services, serve.output)
        finally:
            code = stop(serve, signal.SIGINT, group=True)
            services.latency = 0.0
        assert code == 0, serve.output()[-3000:]
        second = answered(services)
        assert not set(first) & set(second), "the next run paid again for answers the cancelled one received"
        assert {services.english(s) for s in second} <= paid_for_and_kept(home), serve.output()[-3000:]
        late = [round(r.started - sent, 3) for r in services.requests("libre") if r.started > sent + 0.05]
        assert late == [], "requests sent after the Ctrl-C"
    output = serve.output()
    assert "send no new request and keep the answers in flight (waiting up to 10 s)" in output
    assert output.count("stopped: every translation paid for is kept") == 2, output[-3000:]
    assert "arrived while stopping and are kept" in output
