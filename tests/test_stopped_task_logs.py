"""A run `tarjama serve` started and then stopped (the UI's Cancel, serve's Ctrl-C) printed two ERROR lines for each
task under way on serve's console ("Crash detected! ... TranslationStopped: ...", "Finished in state Crashed(...)"):
the records are Prefect's own, made here from the state Prefect makes of the exception, and go through Prefect's
console handler as they do in the run's process."""

from __future__ import annotations

import asyncio
import io
import logging
import signal
from collections.abc import Iterator

import pytest
from prefect.exceptions import TerminationSignal
from prefect.logging.handlers import PrefectConsoleHandler
from prefect.states import exception_to_crashed_state

from tarjama.errors import TarjamaError
from tarjama.flows.environment import stopped_tasks_off_the_console
from tarjama.translation.stopping import TranslationStopped


@pytest.fixture
def console() -> Iterator[tuple[PrefectConsoleHandler, io.StringIO]]:
    """Prefect's console handler on the root logger, as its logging configuration puts it, writing to a buffer."""
    stream = io.StringIO()
    handler = PrefectConsoleHandler(stream=stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler, stream
    finally:
        root.removeHandler(handler)


def record(name: str, level: int, message: str, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, None) if exc is not None else None
    return logging.getLogger(name).makeRecord(name, level, "task_engine.py", 1, message, (), exc_info)


def crash_lines(name: str, exc: BaseException) -> list[logging.LogRecord]:
    """What Prefect's task (or flow) engine logs when ``exc`` ends a run (``handle_crash``, ``log_finished_message``)."""
    state = asyncio.run(exception_to_crashed_state(exc))
    return [
        record(name, logging.ERROR, f"Crash detected! {state.message}"),
        record(name, logging.DEBUG, "Crash details:", exc),
        record(name, logging.ERROR, f"Finished in state {state}"),
    ]


def test_a_stopped_task_is_kept_off_the_console_and_everything_else_is_shown(console):
    handler, stream = console
    stopped_tasks_off_the_console()
    stopped_tasks_off_the_console()  # once, however often the run form's flow starts in a process
    assert len(handler.filters) == 1
    for line in crash_lines("prefect.task_runs", TranslationStopped()):
        assert not handler.handle(line), line.getMessage()
    assert stream.getvalue() == ""
    shown = [
        *crash_lines("prefect.task_runs", RuntimeError("the model ran out of memory")),  # a real crash
        record("prefect.task_runs", logging.ERROR, "Task run failed with exception: TarjamaError('disk full')"),
        record("prefect.flow_runs", logging.WARNING, "stopped: every translation paid for is kept"),  # the run's line
        *crash_lines("prefect.flow_runs", RuntimeError("the run's process ran out of memory")),  # a flow run's crash
        record("prefect.task_runs", logging.ERROR, "Finished in state Failed()", TarjamaError("disk full")),
    ]
    assert [handler.handle(line) for line in shown] == [True] * len(shown)
    printed = stream.getvalue()
    assert "TranslationStopped" not in printed
    assert "the model ran out of memory" in printed and "every translation paid for is kept" in printed


def test_a_flow_run_serve_stopped_is_said_once_in_its_own_words(console):
    """serve's Ctrl-C ends a run's flow with a signal: Prefect's "Crash detected! Execution was aborted by an
    interrupt signal." (an ERROR) and its "Finished in state Crashed(...)" said again what the run's own line had
    said, that it stopped and kept what it was paid for. They stay off the console; the same words from a task
    run, or another logger, are not this stop's and are shown."""
    handler, stream = console
    stopped_tasks_off_the_console()
    for signal_end in (KeyboardInterrupt(), TerminationSignal(signal.SIGTERM)):
        for line in crash_lines("prefect.flow_runs", signal_end):
            assert not handler.handle(line), line.getMessage()
    assert stream.getvalue() == ""
    elsewhere = record("prefect.engine", logging.ERROR, "Crash detected! Execution was aborted by an interrupt signal.")
    assert handler.handle(elsewhere)
    assert "interrupt signal" in stream.getvalue()
