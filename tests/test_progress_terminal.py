"""The live progress display of a corpus run, on a real pseudo-terminal (issue 10: "works in a terminal").

`tarjama run` draws a rich progress bar on stderr only when stderr is a terminal; piped (as in CI
logs) it prints log lines alone. Both are checked on a real run of three articles through the
loopback engine, with latency so the bar is redrawn while articles are still being built; the bar's
layout at 80 columns and its ETA, which a three-article run is too short to show, in-process.
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest
from conftest import TARJAMA, cli_env, copy_articles
from loopback_services import LoopbackServices
from rich.console import Console

from tarjama.app.cli import PIPED_ARTICLE_LINES, live_progress, progress_lines, task_run_chatter
from tarjama.corpus.build import (
    BUILDING,
    ETA_AFTER_ARTICLES,
    ETA_AFTER_S,
    READING,
    WRITING,
    CorpusProgress,
    LogEvents,
    report_stage,
)

COLOURS = re.compile(r"\x1b\[[0-9;]*m")
CURSOR = re.compile(r"\x1b\[[0-9;?]*[A-Za-ln-z]|\x1b\][^\x07]*\x07|\r")  # moves and erasures: a new frame
STAGE = f"(?:{BUILDING}|{READING}|{WRITING})"  # the bar's label
BAR = re.compile(STAGE + r"\s.*?(\d+)/3\s.*?\d+:\d\d:\d\d\s+(\d+) sentences translated, [\d.]+ articles/min")
ANY_BAR = re.compile(STAGE + r"\s.*?\d+/(\d+|\?)\s")
LOG_LINE = re.compile(r"\d\d:\d\d:\d\d\.\d{3} \| (INFO|WARNING|ERROR)")
TASK_INFO = re.compile(r"\| INFO +\| Task run ")
FLOW_DONE = "Finished in state Completed()"
FOREIGN = "seems to belong to another article"  # the loopback's transliterations score chrF 10 or so


def read_all(fd: int, process: subprocess.Popen, timeout: float) -> str:
    """Everything written to the terminal until the process ends (the master side must be drained)."""
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the terminal closed: the process has exited
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    return b"".join(chunks).decode("utf-8", "replace")


def on_a_terminal(command: list[str], env: dict[str, str], columns: int) -> tuple[int, str]:
    """Run ``command`` on a real pseudo-terminal ``columns`` wide: its exit status and what it drew, a line per
    frame (colours dropped, cursor moves and erasures made line breaks)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    os.set_blocking(master, False)
    process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    try:
        screen = CURSOR.sub("\n", COLOURS.sub("", read_all(master, process, timeout=600)))
    finally:
        os.close(master)
    return process.wait(timeout=60), screen


@pytest.mark.slow
def test_a_terminal_shows_articles_done_sentences_and_rate_and_a_pipe_does_not(tmp_path):
    corpus = copy_articles(tmp_path / "corpus", ["abcnews.306758", "bbc.381647", "cnn.304404"])
    with LoopbackServices(lifetime=900, latency=0.05) as services:
        env = cli_env(tmp_path / "home", TARJAMA_GOOGLE_URL=services.url("google"), TERM="xterm-256color")
        env.pop("COLUMNS")
        command = [TARJAMA, "run", str(corpus), "-e", "google", "--rate-limit", "0", "-j", "1"]
        code, screen = on_a_terminal([*command, "-o", str(tmp_path / "tty")], env, columns=80)  # a common width
        assert code == 0, screen[-3000:]
        frames = [(int(done), int(sentences)) for done, sentences in BAR.findall(screen)]
        assert frames, screen[-3000:]
        assert frames == sorted(frames), frames  # articles done and sentences translated only grow
        assert frames[-1][0] == 3 and frames[-1][1] > 0, frames
        assert any(done < 3 for done, _ in frames), frames  # drawn while the corpus was being built
        totals = {total for total in ANY_BAR.findall(screen)}
        assert totals == {"3"}, totals  # the total is known from the first frame, not `0/?` until an article is done
        glued = [line for line in screen.splitlines() if ANY_BAR.search(line) and LOG_LINE.search(line)]
        assert not glued, glued[:3]  # each log line on a line of its own, above the bar
        assert LOG_LINE.search(screen)  # and they are shown
        assert "tarjama.progress" not in screen  # but not a line per article: the bar shows progress
        chatter = [line for line in screen.splitlines() if TASK_INFO.search(line)]
        assert not chatter, chatter[:3]  # nor the task runs' INFO lines (a summary per article, "Finished in ...")
        assert FLOW_DONE in screen  # the flow run's own lines are still shown
        foreign = [line for line in screen.splitlines() if FOREIGN in line]
        assert len(foreign) == 3 and all(LOG_LINE.search(line) for line in foreign), foreign  # each warned once
        assert "tarjama: warning" not in screen

        piped = subprocess.run(
            [*command, "-o", str(tmp_path / "pipe")], capture_output=True, text=True, env=env, timeout=600
        )
    assert piped.returncode == 0, piped.stderr[-3000:]
    assert not BAR.search(piped.stderr) and "\x1b[" not in piped.stderr
    assert "tarjama.progress" not in piped.stderr  # piped, progress records were never shown: still not
    assert piped.stderr.count(FOREIGN) == 3 and "tarjama: warning" not in piped.stderr
    assert "aligned TSV" in piped.stdout + piped.stderr
    assert len(TASK_INFO.findall(piped.stderr)) >= 3  # piped, the task runs' INFO lines are shown as they were


@pytest.mark.slow
def test_a_local_dask_cluster_under_the_bar_keeps_its_task_runs_info_lines_off_the_terminal(tmp_path):
    """With ``--dask local`` the task runs log in the worker processes, whose own console handler printed their
    INFO lines (a summary per article, "Finished in state ...") under the bar: the workers now print warnings
    and errors only (their records still go to the Prefect API)."""
    corpus = copy_articles(tmp_path / "corpus", ["abcnews.306758", "bbc.381647"])
    with LoopbackServices(lifetime=900) as services:
        env = cli_env(tmp_path / "home", TARJAMA_GOOGLE_URL=services.url("google"), TERM="xterm-256color")
        command = [TARJAMA, "run", str(corpus), "-e", "google", "--rate-limit", "0", "--dask", "local"]
        code, screen = on_a_terminal([*command, "-o", str(tmp_path / "out")], env, columns=200)
    assert code == 0, screen[-3000:]
    assert "aligned TSV" in screen, screen[-3000:]
    chatter = [line for line in screen.splitlines() if TASK_INFO.search(line)]
    assert not chatter, chatter[:3]
    assert FLOW_DONE in screen  # the flow run's own lines (this process's) are still shown


def test_at_80_columns_the_bar_cuts_its_detail_not_the_count_or_the_eta(caplog) -> None:
    """At 80 columns the count and the ETA were cut (``articles   20… 0 sentences translated, ...``); and
    each progress record, made INFO for the bar, also reached the log handlers: a line per article."""
    screen = io.StringIO()
    state = {"done": 1020, "total": 2000, "failed": 3, "translated": 12345, "rate": 2.5, "eta": 392.0}
    with live_progress(2000, Console(file=screen, width=80, force_terminal=True, color_system=None)):
        logging.getLogger("tarjama.progress").info("1020/2000 articles", extra={"tarjama_progress": state})
    frames = [f for f in CURSOR.sub("\n", screen.getvalue()).splitlines() if "1020/2000" in f]
    assert frames, screen.getvalue()
    assert all(len(frame) <= 80 for frame in frames), frames
    assert all("ETA 0:06:32" in frame and "12345 sentences" in frame for frame in frames), frames
    assert not [r for r in caplog.records if r.name == "tarjama.progress"]


@pytest.mark.parametrize("stage", [READING, WRITING])
def test_the_bar_says_what_the_run_does_before_and_after_its_articles(stage) -> None:
    """A run of 5,000 articles spent 13 s reading its inputs with the bar at 0/5000 and 30 s writing the corpus
    at 5000/5000, with nothing to say it was not stuck: the bar's label names the stage."""
    screen = io.StringIO()
    with live_progress(5000, Console(file=screen, width=120, force_terminal=True, color_system=None)):
        report_stage(stage)
    frames = [f for f in CURSOR.sub("\n", screen.getvalue()).splitlines() if "/5000" in f]
    assert frames and frames[-1].lstrip().startswith(stage), frames


def test_no_eta_until_a_few_articles_are_built_and_some_seconds_have_passed(caplog) -> None:
    """The first articles carry the start-up and come a batch at a time: an ETA from them was far off."""
    progress = CorpusProgress(300, LogEvents())
    progress.started -= 2 * ETA_AFTER_S  # as if the run had started long ago
    with caplog.at_level(logging.INFO, logger="tarjama.progress"):
        for _ in range(ETA_AFTER_ARTICLES):
            progress.done(4)
        progress.done(0, reused=True)  # reused articles cost nothing: they do not count towards the rate
    etas = [r.tarjama_progress["eta"] for r in caplog.records if hasattr(r, "tarjama_progress")]
    assert etas[: ETA_AFTER_ARTICLES - 1] == [None] * (ETA_AFTER_ARTICLES - 1), etas
    assert all(eta is not None and eta > 0 for eta in etas[ETA_AFTER_ARTICLES - 1 :]), etas
    fresh = CorpusProgress(300, LogEvents())
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="tarjama.progress"):
        for _ in range(2 * ETA_AFTER_ARTICLES):
            fresh.done(4)  # many articles at once, a second into the run: still no ETA
    assert [r.tarjama_progress["eta"] for r in caplog.records] == [None] * 2 * ETA_AFTER_ARTICLES


def test_on_a_terminal_task_runs_info_lines_reach_the_api_but_not_the_screen() -> None:
    """Under the bar a 40-article run printed some sixty ``Task run ... - Finished in state Completed()``
    and per-article summary lines between its redraws; its warnings and errors, a retry's notice and the
    flow run's lines are still shown, and every record still reaches the other handlers (Prefect's API)."""
    screen = io.StringIO()
    to_terminal = logging.StreamHandler(sys.stderr)  # as Prefect's console handler writes
    to_terminal.setFormatter(logging.Formatter("%(name)s | %(levelname)s | %(message)s"))
    to_api = RecordsKept()
    tasks, flows = logging.getLogger("prefect.task_runs"), logging.getLogger("prefect.flow_runs")
    levels, propagates = (tasks.level, flows.level), (tasks.propagate, flows.propagate)
    for logger in (tasks, flows):
        logger.setLevel(logging.INFO)
        logger.propagate = False  # only these two handlers: Prefect's own, set up by earlier tests, stay out
        logger.addHandler(to_terminal)
        logger.addHandler(to_api)
    try:
        with live_progress(3, Console(file=screen, width=200, force_terminal=True, color_system=None)):
            tasks.info("abcnews.306758: 6 sentences, 0 from the memory, 6 distinct sentences newly translated")
            tasks.info("Finished in state %s", "Completed()")
            # as Prefect logs it: the exception itself an argument
            tasks.info(
                "Task run failed with %s: %r - Retry %s/%s will start %s", "exception", OSError(503), 1, 3, "now"
            )
            tasks.warning("article abcnews.306758: damaged")
            tasks.error("article bbc.381647 failed: no answer")
            flows.info("Finished in state %s", "Completed()")
    finally:
        for logger, level, propagate in zip((tasks, flows), levels, propagates, strict=True):
            logger.removeHandler(to_terminal)
            logger.removeHandler(to_api)
            logger.setLevel(level)
            logger.propagate = propagate
    shown = [line for line in CURSOR.sub("\n", screen.getvalue()).splitlines() if " | " in line]
    assert shown == [
        "prefect.task_runs | INFO | Task run failed with exception: OSError(503) - Retry 1/3 will start now",
        "prefect.task_runs | WARNING | article abcnews.306758: damaged",
        "prefect.task_runs | ERROR | article bbc.381647 failed: no answer",
        "prefect.flow_runs | INFO | Finished in state Completed()",
    ], screen.getvalue()
    assert len(to_api.records) == 6


def test_a_failing_task_runs_records_are_shown_whatever_prefect_calls_them() -> None:
    """The task runs' chatter was told from a retry's notice by Prefect's words ("Task run failed"): reworded,
    a failure would have gone unseen under the bar. It is told by level, and by the failure a record carries."""
    from prefect.states import Completed, Failed

    def record(level: int, message: str, *arguments: object, name: str = "prefect.task_runs") -> logging.LogRecord:
        return logging.getLogger(name).makeRecord(name, level, __file__, 1, message, arguments, None)

    def failure() -> BaseException:
        try:
            raise TimeoutError("the engine did not answer")
        except TimeoutError as problem:
            return problem

    shown = [
        record(logging.ERROR, "Finished in state %s", Failed()),
        record(logging.ERROR, "A wording no release has used yet"),
        record(logging.WARNING, "Something odd, said otherwise"),
        record(logging.INFO, "Will try %r again in %s", failure(), "a second"),  # a retry's notice, reworded
        record(logging.INFO, "Will try again after %s", Failed(message="503")),
        record(logging.INFO, "Finished in state %s", "Completed()", name="prefect.flow_runs"),
    ]
    with_exc_info = record(logging.INFO, "Retrying")
    with_exc_info.exc_info = (TimeoutError, failure(), None)
    hidden = [
        record(logging.INFO, "Finished in state %s", Completed()),
        record(logging.INFO, "abcnews.306758: 6 sentences, 0 from the memory, 6 distinct sentences newly translated"),
        record(logging.INFO, "Task run failed", name="prefect.task_runs.engine"),  # the words alone say nothing
        record(logging.DEBUG, "Beginning execution..."),
    ]
    assert [task_run_chatter(one) for one in [*shown, with_exc_info]] == [False] * (len(shown) + 1)
    assert [task_run_chatter(one) for one in hidden] == [True] * len(hidden)


def _progress_state(done: int, total: int) -> dict[str, object]:
    return {"done": done, "total": total, "failed": 0, "translated": 3 * done, "rate": 0.5, "eta": None}


def test_piped_a_large_run_prints_its_progress_not_a_line_per_article() -> None:
    """Piped, a run of 5,000 articles printed 5,348 lines, one or two an article. Above
    ``PIPED_ARTICLE_LINES`` articles the task runs' INFO lines stay with the Prefect API, and a progress line
    says how far the run is; warnings and errors are still printed."""
    screen = io.StringIO()
    to_pipe = logging.StreamHandler(sys.stderr)  # as Prefect's console handler writes
    to_pipe.setFormatter(logging.Formatter("%(name)s | %(levelname)s | %(message)s"))
    to_api = RecordsKept()
    tasks = logging.getLogger("prefect.task_runs")
    level, propagate = tasks.level, tasks.propagate
    tasks.setLevel(logging.INFO)
    tasks.propagate = False
    tasks.addHandler(to_pipe)
    tasks.addHandler(to_api)
    total = PIPED_ARTICLE_LINES + 1
    try:
        with live_progress(total, Console(file=screen, width=200, force_terminal=False, color_system=None)):
            for done in range(1, total + 1):
                tasks.info(f"article-{done}: 6 sentences, 0 from the memory, 6 distinct sentences newly translated")
                logging.getLogger("tarjama.progress").info(
                    "progress", extra={"tarjama_progress": _progress_state(done, total)}
                )
            tasks.warning("article-3: damaged")
    finally:
        tasks.removeHandler(to_pipe)
        tasks.removeHandler(to_api)
        tasks.setLevel(level)
        tasks.propagate = propagate
    lines = screen.getvalue().splitlines()
    assert lines == [
        f"{BUILDING} {total}/{total}, {3 * total} sentences translated, 30.0 articles/min",
        "prefect.task_runs | WARNING | article-3: damaged",
    ], lines
    assert len(to_api.records) == total + 1


def test_piped_progress_lines_come_at_most_so_often() -> None:
    screen = io.StringIO()
    progress = logging.getLogger("tarjama.progress")
    with progress_lines(Console(file=screen, width=200, force_terminal=False), every=0.0, total=2):
        report_stage(READING)
        progress.info("progress", extra={"tarjama_progress": _progress_state(1, 2)})
        progress.info("progress", extra={"tarjama_progress": {**_progress_state(2, 2), "eta": 65.0, "failed": 1}})
        report_stage(WRITING)
    assert screen.getvalue().splitlines() == [
        f"{READING} 0/2",
        f"{READING} 1/2, 3 sentences translated, 30.0 articles/min",
        f"{READING} 2/2, ETA 0:01:05, 6 sentences translated, 30.0 articles/min, 1 failed",
        f"{WRITING} 2/2",
    ]
    screen = io.StringIO()
    with progress_lines(Console(file=screen, width=200, force_terminal=False), every=3600.0):
        for done in range(1, 4):
            progress.info("progress", extra={"tarjama_progress": _progress_state(done, 3)})
    assert screen.getvalue().splitlines() == [f"{BUILDING} 3/3, 9 sentences translated, 30.0 articles/min"]


def test_piped_progress_says_the_run_is_alive_while_no_article_finishes() -> None:
    """With a slow engine the first article takes minutes: a piped log says the run has started and, every
    ``every`` seconds without a line, how long it has been at work."""
    screen = io.StringIO()
    with progress_lines(Console(file=screen, width=200, force_terminal=False), every=0.2, total=5000):
        report_stage(BUILDING)
        time.sleep(0.9)
    lines = screen.getvalue().splitlines()
    assert lines[0] == f"{BUILDING} 0/5000"
    assert 2 <= len(lines) <= 6, lines
    assert all(re.fullmatch(rf"{BUILDING} 0/5000, 0:00:0[0-1] so far", line) for line in lines[1:]), lines
    settled = len(screen.getvalue())
    time.sleep(0.5)
    assert len(screen.getvalue()) == settled  # the heartbeat stops with the run


class RecordsKept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
