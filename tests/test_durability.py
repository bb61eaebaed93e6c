"""Runs stopped at the worst moments, through the real CLI, real signals and a real Prefect server: nothing
half-written is left, nothing paid for is lost, no run stays "Running" for ever, and a memory gets only
its own runs' translations."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from conftest import ARTICLE, CORPUS, TARJAMA, Runs, finish, shared_runs

from tarjama.corpus.outputs import STAGING_MARK
from tarjama.text.article import load_document

pytestmark = pytest.mark.slow  # a real Prefect server and real runs

OTHER = CORPUS / "morocco-us-counterterrorism.ar.txt"
PER_REQUEST = 2


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Iterator[Runs]:
    with shared_runs(tmp_path_factory.mktemp("durability")) as started:
        yield started


def start(runs: Runs, article: Path, *args: object) -> subprocess.Popen:
    """A run of ``article`` with the loopback LibreTranslate, two units a request (so a run is several requests)."""
    return subprocess.Popen(
        [TARJAMA, "run", str(article), "-e", "libre", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=runs.env | {"TARJAMA_LIBRE_MAX_ITEMS": str(PER_REQUEST)},
    )


def stop_when(run: subprocess.Popen, ready: Callable[[], bool], sig: int) -> tuple[int, str]:
    """Send ``sig`` to ``run`` as soon as ``ready()`` (polled as fast as the run writes); its status and stderr."""
    deadline = time.monotonic() + 400
    while not ready() and run.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    if run.poll() is None:
        run.send_signal(sig)
    _, stderr = run.communicate(timeout=120)
    return run.returncode, stderr


def stopped_while_translating(runs: Runs, answered: int, sig: int, *args: object) -> tuple[int, str]:
    """A run of ``ARTICLE`` with ``args``, stopped by ``sig`` while it waits for the answer to its request
    after ``answered`` were answered; its status and stderr (the service's requests stay recorded)."""
    runs.services.clear()
    held_before = runs.services.held  # counted over the module's tests
    runs.services.hold_after(answered)
    try:
        run = start(runs, ARTICLE, *args)
        return stop_when(run, lambda: runs.services.held > held_before, sig)
    finally:
        runs.services.release()


def prefect_states(runs: Runs, name: str) -> list[str]:
    found = httpx.post(
        f"{runs.env['PREFECT_API_URL']}/flow_runs/filter",
        json={"flow_runs": {"name": {"any_": [name]}}},
        timeout=30,
    ).json()
    return sorted(r["state"]["type"] for r in found)


def sources_in(memory: Path) -> set[str]:
    with closing(sqlite3.connect(memory)) as db:
        return {row[0] for row in db.execute("SELECT source FROM translations")}


@pytest.mark.parametrize("moment", ["staging", "renamed"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_run_stopped_while_writing_its_outputs_leaves_all_or_nothing(tmp_path, runs, moment, sig):
    """Stopped while its output folder is staged, or just after it was renamed into place: either no run
    folder, ``latest`` unchanged, no staging folder and status 128 + signal, or the whole folder, ``latest``
    on it and status 0; never a half folder, a leftover staging folder or temporary file, or a complete
    folder with a message that nothing was written."""
    out, memory = tmp_path / "out", tmp_path / "memory.sqlite"
    code, stderr = finish(start(runs, ARTICLE, "--out", out, "--name", "before", "--memory", memory))
    assert code == 0, stderr[-3000:]
    name = f"{moment}-{sig.name.lower()}"
    run = start(runs, ARTICLE, "--out", out, "--name", name, "--memory", memory, "--format", "tsv,jsonl,tmx")
    if moment == "staging":  # the article is reused: the run goes straight to writing its outputs

        def ready() -> bool:
            return any(out.glob(f".{name}{STAGING_MARK}*"))
    else:

        def ready() -> bool:
            return (out / name).is_dir()

    code, stderr = stop_when(run, ready, sig)
    assert "Traceback" not in stderr, stderr[-3000:]
    if code == 0:
        assert {"aligned.tsv", "aligned.jsonl", "aligned.tmx", "aligned.parquet", "scores.json", "report.md"} <= {
            p.name for p in (out / name).iterdir()
        }
        assert json.loads((out / name / "scores.json").read_text())["run"] == name
        assert (out / "latest").resolve() == (out / name).resolve()
        assert "interrupted" not in stderr
    else:
        assert code == 128 + sig, stderr[-3000:]
        assert moment == "staging", "stopped after its folder was renamed into place, yet reported as interrupted"
        assert stderr.strip().splitlines()[-1].startswith("tarjama: error: interrupted:")
        assert not (out / name).exists()
        assert (out / "latest").resolve() == (out / "before").resolve()
    assert [p.name for p in out.iterdir() if STAGING_MARK in p.name] == []
    assert [str(p) for p in out.rglob("*") if p.name.endswith(".tmp")] == []
    assert prefect_states(runs, name) == ["COMPLETED" if code == 0 else "CANCELLED"]
    again = start(runs, ARTICLE, "--out", out, "--name", name, "--memory", memory)
    code_again, stderr_again = finish(again)  # "run the same command again": done, or it resumes
    if code == 0:
        assert code_again == 2 and "output directory already exists" in stderr_again
    else:
        assert code_again == 0, stderr_again[-3000:]


@pytest.mark.parametrize(("gap_s", "signals"), [(0.02, 2), (0.1, 2), (0.03, 8)])
def test_a_second_ctrl_c_while_a_written_run_is_ended_reports_it_written(tmp_path, runs, gap_s, signals):
    """Ctrl-C twice just after the run's folder was renamed into place, the second while the first is
    being handled (``gap_s`` apart: 0.02-0.1 s landed there), or a burst of them reaching the summary's
    printing: the run is complete, so the command prints its summary and ends with 0, where it used to say
    "no output was written" beside a complete folder, or fail with a traceback in the summary."""
    out, memory = tmp_path / "out", tmp_path / "memory.sqlite"
    code, stderr = finish(start(runs, ARTICLE, "--out", out, "--name", "before", "--memory", memory))
    assert code == 0, stderr[-3000:]
    run = start(runs, ARTICLE, "--out", out, "--name", "twice", "--memory", memory)
    deadline = time.monotonic() + 400
    while not (out / "twice").is_dir() and run.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    for _ in range(signals):
        if run.poll() is None:
            run.send_signal(signal.SIGINT)
        time.sleep(gap_s)
    stdout, stderr = run.communicate(timeout=120)
    assert "no output was written" not in stderr, stderr[-3000:]
    assert run.returncode == 0 and "tarjama run twice" in stdout, stderr[-3000:]
    assert json.loads((out / "twice" / "scores.json").read_text())["run"] == "twice"


def test_a_run_killed_and_resumed_under_its_name_is_crashed_not_running_for_ever(tmp_path, runs):
    """The documented way to resume a killed run is the same command, with the same ``--name``: that must
    not hide the killed run, which stayed "Running" in Prefect and `tarjama runs` for ever."""
    out, memory, name = tmp_path / "out", tmp_path / "memory.sqlite", "killed-and-resumed"
    stopped_while_translating(runs, 0, signal.SIGKILL, "--out", out, "--name", name, "--memory", memory)
    assert prefect_states(runs, name) == ["RUNNING"]
    code, stderr = finish(start(runs, ARTICLE, "--out", out, "--name", name, "--memory", memory))
    assert code == 0, stderr[-3000:]
    assert prefect_states(runs, name) == ["COMPLETED", "CRASHED"]
    listed = subprocess.run([TARJAMA, "runs", "--json"], capture_output=True, text=True, env=runs.env, timeout=300)
    assert listed.returncode == 0, listed.stderr[-3000:]
    states = sorted(r["state"] for r in map(json.loads, listed.stdout.splitlines()) if r["name"] == name)
    assert states == ["Completed", "Crashed"]


def test_translations_paid_for_go_to_their_own_memory_and_none_is_lost(tmp_path, runs):
    """A run into memory A killed mid-translation: its translations are not merged into memory B by the
    next run (another article, ``--memory B``), and the next run into A has them without asking again."""
    out, first, second = tmp_path / "out", tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    stopped_while_translating(runs, 1, signal.SIGKILL, "--out", out, "--name", "killed", "--memory", first)
    paid = {s for r in runs.services.requests() if r.status == 200 for s in r.segments}
    assert len(paid) == PER_REQUEST  # killed while its second request waited
    runs.services.clear()
    code, stderr = finish(start(runs, OTHER, "--out", out, "--name", "other-memory", "--memory", second))
    assert code == 0, stderr[-3000:]
    assert not paid & sources_in(second) - {u.text for u in load_document(OTHER, "ar").units}
    runs.services.clear()
    code, stderr = finish(start(runs, ARTICLE, "--out", out, "--name", "resumed", "--memory", first))
    assert code == 0, stderr[-3000:]
    assert paid <= sources_in(first)
    assert not paid & {s for r in runs.services.requests() for s in r.segments}  # none asked for again


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_keeps_its_translations_where_it_says(tmp_path, runs, sig):
    """The message said the translations were kept in the memory while they were in a journal until the
    next run (with any memory): now they are in the memory it names when the command ends."""
    out, memory = tmp_path / "out", tmp_path / "mine.sqlite"
    code, stderr = stopped_while_translating(runs, 1, sig, "--out", out, "--name", "stopped", "--memory", memory)
    assert code == 128 + sig, stderr[-3000:]
    assert f"every sentence translated so far is kept in {memory}," in stderr.strip().splitlines()[-1]
    paid = {s for r in runs.services.requests() if r.status == 200 for s in r.segments}
    assert len(paid) == PER_REQUEST and paid <= sources_in(memory)
