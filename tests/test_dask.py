"""Corpus builds on a real Dask cluster: a `dask scheduler` and two `dask worker` processes on 127.0.0.1.

The engine is the loopback LibreTranslate server (a few sentences per request, so an article takes
several requests). Built through Dask, the merged corpus equals the one built on threads; a worker
killed in the middle of an article loses nothing that was paid for: no answered sentence is ever
requested again.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from conftest import CORPUS, TARJAMA, cli_env, free_port
from loopback_services import LoopbackServices

pytestmark = pytest.mark.slow  # real scheduler and worker processes and a Prefect server

DASK = str(Path(sys.executable).with_name("dask"))
ARTICLES = ["abcnews.306758", "bbc.381647", "cnn.304404", "cnn.304447", "euronews-en.153835", "cnn.304489"]
PER_REQUEST = 3


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "articles"
    folder.mkdir()
    for article in ARTICLES:
        for path in (CORPUS / "ntrex128-dev").glob(f"{article}.*.txt"):
            shutil.copy(path, folder / path.name)
    return folder


def _wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


@pytest.fixture
def cluster(tmp_path) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "dask"
    logs.mkdir()
    common = ["--dashboard-address", "127.0.0.1:0"]
    scheduler = subprocess.Popen(
        [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), *common],
        stdout=(logs / "scheduler.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    workers = [
        subprocess.Popen(
            [DASK, "worker", address, "--nthreads", "1", "--host", "127.0.0.1", "--name", f"w{i}", *common],
            stdout=(logs / f"worker{i}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for i in (1, 2)
    ]
    _wait_for(
        lambda: all("Registered to" in (logs / f"worker{i}.log").read_text() for i in (1, 2)),
        120,
        "the Dask workers did not register",
    )
    try:
        yield address, workers
    finally:
        for process in [*workers, scheduler]:
            process.kill()
            process.wait(30)


def build(
    home: Path, out: Path, articles: Path, services: LoopbackServices, *extra: str
) -> subprocess.CompletedProcess:
    env = cli_env(home, TARJAMA_LIBRE_URL=services.url("libre"), TARJAMA_LIBRE_MAX_ITEMS=str(PER_REQUEST))
    return subprocess.run(
        [TARJAMA, "run", str(articles), "-e", "libre", "-o", str(out), "--name", "corpus", *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=1200,
    )


def test_a_dask_build_equals_a_threads_build(tmp_path, corpus, cluster):
    address, _workers = cluster
    with LoopbackServices(lifetime=1200) as services:
        threads = build(tmp_path / "home-threads", tmp_path / "threads", corpus, services)
        assert threads.returncode == 0, threads.stderr[-3000:]
        services.clear()
        on_dask = build(tmp_path / "home-dask", tmp_path / "dask", corpus, services, "--dask", address)
        assert on_dask.returncode == 0, on_dask.stderr[-3000:]
    assert (tmp_path / "dask" / "corpus" / "aligned.tsv").read_bytes() == (
        tmp_path / "threads" / "corpus" / "aligned.tsv"
    ).read_bytes()
    logs = (tmp_path / "dask").parent / "dask"
    ran = [p for p in logs.glob("worker*.log") if "Task run 'build " in p.read_text()]  # named by its articles
    assert ran, "no article ran on a Dask worker"


def test_dask_local_starts_its_own_cluster_and_builds_the_same_corpus(tmp_path, corpus):
    with LoopbackServices(lifetime=1200) as services:
        threads = build(tmp_path / "home-threads", tmp_path / "threads", corpus, services)
        assert threads.returncode == 0, threads.stderr[-3000:]
        services.clear()
        local = build(tmp_path / "home-local", tmp_path / "local", corpus, services, "--dask", "local", "-j", "4")
        assert local.returncode == 0, local.stderr[-3000:]
        assert "Creating a new Dask cluster with `distributed.deploy.local.LocalCluster`" in local.stdout + local.stderr
        assert services.answered("libre") > 0
    assert (tmp_path / "local" / "corpus" / "aligned.tsv").read_bytes() == (
        tmp_path / "threads" / "corpus" / "aligned.tsv"
    ).read_bytes()


def test_a_worker_killed_mid_article_loses_nothing_paid_for(tmp_path, corpus, cluster):
    address, workers = cluster
    with LoopbackServices(lifetime=1200) as services:
        services.hold_after(4)  # the fifth request waits: some sentences are paid for, the article is not done
        env = cli_env(
            tmp_path / "home", TARJAMA_LIBRE_URL=services.url("libre"), TARJAMA_LIBRE_MAX_ITEMS=str(PER_REQUEST)
        )
        run = subprocess.Popen(
            [TARJAMA, "run", str(corpus), "-e", "libre", "-o", str(tmp_path / "out"), "--name", "c", "--dask", address],
            stdout=(tmp_path / "run.log").open("wb"),
            stderr=subprocess.STDOUT,
            env=env,
        )
        _wait_for(lambda: services.held >= 1 or run.poll() is not None, 600, "no request was held")
        assert run.poll() is None, (tmp_path / "run.log").read_text()[-3000:]
        journals = tmp_path / "home" / "journals"
        assert list(journals.rglob("*.sqlite")), "no worker journal was written"
        for nanny in workers:  # kill the worker processes (their nannies start new ones): one is mid-request
            os.kill(_worker_pid(nanny), signal.SIGKILL)
        services.release()
        assert run.wait(900) == 0, (tmp_path / "run.log").read_text()[-3000:]
        answered = [s for r in services.requests() if r.status == 200 for s in r.segments]
    assert len(answered) == len(set(answered)), "a sentence already paid for was translated again"
    assert (tmp_path / "out" / "c" / "aligned.tsv").is_file()


def _worker_pid(worker: subprocess.Popen) -> int:
    """`dask worker` runs the worker in a child process (its nanny's): the journal is that child's."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children").read_text().split()
    return int(children[0]) if children else worker.pid


def test_a_stop_reaches_the_workers_and_keeps_what_they_were_paid_for(tmp_path, corpus, cluster):
    """Ctrl-C on a run whose articles translate on Dask workers: the workers, which never see the signal, used
    to go on sending requests (nine more in this test) until their articles were done. Now the stop reaches
    them: no request starts anywhere after the signal, the answers in flight are stored in their journals,
    and the next run on the same workers (which that stop no longer holds) pays for none of them again."""
    address, _workers = cluster
    home = tmp_path / "home"
    with LoopbackServices(lifetime=1200) as services:
        services.latency = 1.0
        env = cli_env(
            home,
            TARJAMA_LIBRE_URL=services.url("libre"),
            TARJAMA_LIBRE_MAX_ITEMS=str(PER_REQUEST),
            TARJAMA_HTTP_BACKOFF="0.1",
        )
        run = subprocess.Popen(
            [TARJAMA, "run", str(corpus), "-e", "libre", "-o", str(tmp_path / "out"), "--dask", address],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        _wait_for(
            lambda: (services.answered("libre") >= 1 and _in_flight(services)) or run.poll() is not None,
            600,
            "no answer",
        )
        assert run.poll() is None, run.communicate()[1][-3000:]
        sent = time.monotonic()
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=120)
        assert run.returncode == 130, stderr[-3000:]
        time.sleep(3)  # workers that did not stop would have sent their next requests by now
        late = [round(r.started - sent, 3) for r in services.requests("libre") if r.started > sent + 0.05]
        assert late == [], "requests sent after the signal"
        first = [s for r in services.requests("libre") if r.status == 200 for s in r.segments]
        assert first
        assert {services.english(s) for s in first} <= _kept(home / "memory.sqlite"), stderr[-3000:]  # as it says
        assert "waiting up to 10 s for the translations under way (and on the workers)" in stderr, stderr[-3000:]
        assert "arrived while stopping and are kept" in stderr.strip().splitlines()[-1], stderr[-3000:]

        services.latency = 0.0
        services.clear()
        again = build(home, tmp_path / "out", corpus, services, "--dask", address)
        assert again.returncode == 0, again.stderr[-3000:]
        second = [s for r in services.requests("libre") if r.status == 200 for s in r.segments]
    assert second and not set(first) & set(second), "the next run paid again for answers the stopped one received"


def _in_flight(services: LoopbackServices) -> list:
    """The requests the service is answering now (sent, answer not given yet)."""
    return [r for r in services.requests("libre") if r.status is None and r.fault is None]


def _kept(memory: Path) -> set[str]:
    """Every translation in the translation memory ``memory``."""
    with closing(sqlite3.connect(memory)) as db:
        return {row[0] for row in db.execute("SELECT target FROM translations")}
