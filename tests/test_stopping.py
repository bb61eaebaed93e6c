"""Ctrl-C and SIGTERM end a command at once even while worker threads wait on a service (issue 9, item 4)."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from conftest import ARTICLE, PYTHON, TARJAMA, Runs, cli_env, copy_articles, shared_runs
from loopback_services import LoopbackServices, Record

from tarjama.app.stopping import call_until_signalled

# Like a run: a flow whose worker thread is inside a request that never gets an answer, in a thread pool
# that (as Prefect's task runner does) waits for its threads when the flow is left.
BUSY_FLOW = """
import socket
from concurrent.futures import ThreadPoolExecutor
from tarjama.app.stopping import Stopped, call_until_signalled, exit_now

silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen()

def flow():
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(lambda: socket.create_connection(silent.getsockname()).recv(1))
        print("busy", flush=True)
        return answer.result()

try:
    call_until_signalled(flow)
except Stopped as stopped:
    print("stopped by", stopped, flush=True)
    exit_now(stopped.exit_status)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_command_without_waiting_for_busy_threads(tmp_path, sig):
    busy = subprocess.Popen(
        [PYTHON, "-c", BUSY_FLOW], stdout=subprocess.PIPE, text=True, env=cli_env(tmp_path / "home")
    )
    try:
        assert busy.stdout is not None and busy.stdout.readline() == "busy\n"
        busy.send_signal(sig)
        out, _ = busy.communicate(timeout=10)
    finally:
        busy.kill()
        busy.wait()
    assert busy.returncode == 128 + sig
    assert out == f"stopped by {signal.Signals(sig).name}\n"


def test_results_errors_and_signal_handlers_come_back():
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    assert call_until_signalled(lambda: 42) == 42
    with pytest.raises(ValueError, match="bad article"):
        call_until_signalled(lambda: int("bad article"))
    assert {s: signal.getsignal(s) for s in handlers} == handlers


# In a process of its own: the stop is process-wide.
ELSEWHERE = """
import time
from tarjama.translation import stopping

stopping.stop_translating("run-a")  # a Dask worker stopped by run a
stopping.resume_translating("run-a")
assert stopping.stopped(), "a task of the run that stopped the worker translated again"
stopping.resume_translating("run-b")
assert not stopping.stopped(), "the next run's task found the worker still stopped"

asked = []

def workers(timeout):
    asked.append(timeout)
    time.sleep(0.3)  # their answers in flight arrive
    return stopping.Settled(kept=2, calls=0, requests=0)

with stopping.stopping_elsewhere(workers):
    stopping.stop_translating()  # this process, for good
    assert stopping.settle(5) == stopping.Settled(kept=2, calls=0, requests=0)
assert asked == [5]
stopping.resume_translating("run-b")
assert stopping.stopped(), "a stop for good was lifted"

with stopping.stopping_elsewhere(lambda timeout: time.sleep(30)):  # workers that do not answer
    started = time.monotonic()
    settled = stopping.settle(0.5)
assert time.monotonic() - started < 2 and settled.calls == 1, settled
print("ok")
"""


def test_a_stop_reaches_other_processes_and_a_workers_stop_ends_with_its_run(tmp_path):
    """The translations of a run on Dask workers are stopped and waited for with this process's (their answers
    counted with its own), within the same wait; a worker's stop holds for the run that sent it only."""
    ended = subprocess.run(
        [PYTHON, "-c", ELSEWHERE], capture_output=True, text=True, env=cli_env(tmp_path / "home"), timeout=60
    )
    assert (ended.returncode, ended.stdout) == (0, "ok\n"), ended.stderr[-3000:]


# A process stopped a second time while ending its run (no waiting then): one run folder renamed into place
# before, one still being written on another thread, which must not appear after the process was told.
STOPPED_AGAIN = """
import json, sys, threading, time
from pathlib import Path
from tarjama.app.runs import written_output
from tarjama.corpus.outputs import staged_run_folder

out = Path(sys.argv[1])
with staged_run_folder(out, "renamed") as staging:
    (staging / "scores.json").write_text(json.dumps({"run": "renamed", "engine_requested": "libre", "articles": []}))
staged, go_on = threading.Event(), threading.Event()

def write():
    with staged_run_folder(out, "staged") as staging:
        staged.set()
        go_on.wait()

threading.Thread(target=write, daemon=True).start()
staged.wait()
renamed, unfinished = written_output(out / "renamed", wait=False), written_output(out / "staged", wait=False)
go_on.set()
time.sleep(1)
print(json.dumps([renamed and renamed.output_dir, unfinished, sorted(p.name for p in out.iterdir())]))
"""


def test_what_a_second_signal_reports_is_what_was_written_without_waiting(tmp_path):
    """A second Ctrl-C after the run's folder was renamed into place used to say "no output was written":
    the command now asks what this process renamed into place, at once, and nothing is renamed after."""
    out = tmp_path / "out"
    ended = subprocess.run(
        [PYTHON, "-c", STOPPED_AGAIN, str(out)],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path / "home"),
        timeout=60,
    )
    assert ended.returncode == 0, ended.stderr[-3000:]
    renamed, unfinished, left = json.loads(ended.stdout)
    assert renamed == str(out / "renamed") and unfinished is None
    assert left == ["latest", "renamed"]  # the unfinished run's folder neither renamed nor left behind


# ---------------------------------------------------------------------------- a real run stopped mid-translation

ARTICLE_IDS = ["abcnews.306758", "abcnews.306764", "bbc.381647", "bbc.381679"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    with shared_runs(tmp_path_factory.mktemp("stopping")) as started:
        yield started


def targets_in(memory: Path) -> set[str]:
    with closing(sqlite3.connect(memory)) as db:
        return {row[0] for row in db.execute("SELECT target FROM translations")}


def start_run(runs: Runs, tmp_path: Path, **env: str) -> subprocess.Popen:
    """A run of four articles through the loopback LibreTranslate into a fresh memory, ``<tmp_path>/m.sqlite``."""
    articles = copy_articles(tmp_path / "articles", ARTICLE_IDS)
    return subprocess.Popen(
        [
            TARJAMA,
            "run",
            str(articles),
            "-e",
            "libre",
            "-o",
            str(tmp_path / "out"),
            "--memory",
            str(tmp_path / "m.sqlite"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=runs.env | env,
    )


def signal_when(run: subprocess.Popen, ready: Callable[[], bool], sig: int) -> float:
    """Send ``sig`` to ``run`` once ``ready()``; when it was sent (monotonic, the loopback server's clock)."""
    deadline = time.monotonic() + 400
    while not ready():
        assert run.poll() is None, run.communicate()[1][-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.005)
    sent = time.monotonic()
    run.send_signal(sig)
    return sent


def in_flight(services: LoopbackServices) -> list[Record]:
    """The requests the service is answering now (sent, answer not given yet)."""
    return [r for r in services.requests("libre") if r.status is None and r.fault is None]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "per_request", "latency"),
    [(signal.SIGINT, "3", 1.0), (signal.SIGTERM, "3", 1.0), (signal.SIGINT, "", 2.5)],
)
def test_a_signal_sends_no_new_request_and_keeps_every_answer_that_comes(tmp_path, runs, sig, per_request, latency):
    """Stopped while requests are in flight (three segments a request, or a whole article a request): the
    run used to send new requests after the signal and exit before the answers came, which the next run paid
    for again. Now no request starts after the signal, and every segment the service answered is in the
    memory when the command ends, which says it waited."""
    services = runs.services
    services.clear()
    services.latency = latency
    try:
        run = start_run(runs, tmp_path, **({"TARJAMA_LIBRE_MAX_ITEMS": per_request} if per_request else {}))
        # some answers stored, and requests in flight
        sent = signal_when(run, lambda: services.answered("libre") >= 1 and len(in_flight(services)) >= 1, sig)
        _, stderr = run.communicate(timeout=120)
    finally:
        services.latency = 0.0
    assert run.returncode == 128 + sig, stderr[-3000:]
    assert "Traceback" not in stderr and "Crash" not in stderr, stderr[-3000:]
    late = [round(r.started - sent, 3) for r in services.requests("libre") if r.started > sent + 0.05]
    assert late == [], "requests sent after the signal"
    answered = [s for r in services.requests("libre") if r.status == 200 for s in r.segments]
    assert answered
    assert {services.english(s) for s in answered} <= targets_in(tmp_path / "m.sqlite"), stderr[-3000:]
    assert "stopping: no new request is sent; waiting up to 10 s for the answers to" in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("tarjama: error: interrupted: every sentence translated so far is kept in"), last
    assert re.search(r" \d+ translations? arrived while stopping and (is|are) kept;", last), last
    assert "abandoned" not in last, last
    assert not (tmp_path / "out" / "latest").exists()


@pytest.mark.slow
def test_a_second_ctrl_c_stops_at_once_and_says_what_it_abandoned(tmp_path, runs):
    """Requests that are never answered: the first Ctrl-C waits (and says a second one stops at once), the
    second ends the command at once, saying the requests in flight were abandoned; nothing was sent after."""
    services = runs.services
    services.clear()
    held = services.held
    services.hold_after(1)  # one request answered, then none
    try:
        run = start_run(runs, tmp_path, TARJAMA_LIBRE_MAX_ITEMS="3", TARJAMA_STOP_WAIT="60")
        sent = signal_when(run, lambda: services.held > held, signal.SIGINT)
        time.sleep(2)
        assert run.poll() is None  # waiting for the held requests
        count = len(services.requests("libre"))
        again = time.monotonic()
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=60)
        ended = time.monotonic() - again
    finally:
        services.release()
    assert run.returncode == 130, stderr[-3000:]
    assert ended < 20
    assert len(services.requests("libre")) == count
    assert [r for r in services.requests("libre") if r.started > sent + 0.05] == []
    assert "(Ctrl-C again to stop at once and lose them)" in stderr
    last = stderr.strip().splitlines()[-1]
    assert re.search(
        r"\d+ requests? still in flight (was|were) abandoned \(the next run asks for those sentences again\)", last
    ), last
    answered = [s for r in services.requests("libre") if r.status == 200 for s in r.segments]
    assert {services.english(s) for s in answered} <= targets_in(tmp_path / "m.sqlite"), stderr[-3000:]


@pytest.mark.slow
def test_sigterms_after_the_output_was_written_end_the_run_as_done(tmp_path, runs):
    """SIGTERM again and again from the moment the run's folder is in place until the command ends: the run
    is complete, so it ends with 0 and its summary, as documented; SIGTERM's default handler, back once the
    flow had returned, used to end it with -15 while it closed its Prefect connection."""
    runs.services.clear()
    out = tmp_path / "out"
    run = subprocess.Popen(
        [TARJAMA, "run", str(ARTICLE), "-e", "libre", "-o", str(out), "--name", "done"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=runs.env | {"TARJAMA_MEMORY": str(tmp_path / "m.sqlite")},
    )
    signal_when(run, lambda: (out / "done").is_dir() or run.poll() is not None, signal.SIGTERM)
    while run.poll() is None:
        run.send_signal(signal.SIGTERM)
        time.sleep(0.02)
    stdout, stderr = run.communicate(timeout=60)
    assert run.returncode == 0, stderr[-3000:]
    assert "tarjama run done" in stdout, stdout[-3000:]
