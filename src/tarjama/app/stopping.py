"""Ending a command at once on Ctrl-C or SIGTERM while its worker threads are busy.

A corpus run builds articles on worker threads, and a worker may be inside a request to a translation
service for minutes (the request's timeout, then retries). On Ctrl-C or SIGTERM in the main thread,
Prefect's flow engine shuts its task runner down and waits for those threads before it lets the
exception through, and Python would join them again at exit: the command hangs. Nothing needs that
wait, since a worker stores every translation the moment it arrives. So the command runs the flow on a
thread of its own, its main thread turns either signal into :class:`Stopped` at once, and the command
ends with :func:`exit_now` after its own clean-up (the private Prefect server is stopped by the
``with`` block it lives in, and dies with the process anyway).

Except for translations under way: before it ends, the command stops translating (no new request is
sent) and waits a bounded time for the answers to the requests in flight, which are stored as they
arrive (:mod:`tarjama.translation.stopping`); a second signal ends that wait at once.
"""

from __future__ import annotations

import contextvars
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, NoReturn, TypeVar

from tarjama.errors import counted
from tarjama.translation.stopping import Settled, elsewhere, settle, stop_translating, under_way

T = TypeVar("T")
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(Exception):
    """SIGINT or SIGTERM arrived; ``exit_status`` is the shell's convention, 128 + the signal number."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.exit_status = 128 + signum
        self.settled: Settled | None = None  # the translations under way when the command gave up on them
        super().__init__(signal.Signals(signum).name)


def call_until_signalled(
    call: Callable[[], T], poll_s: float = 0.2, stop_wait: float = 10.0, say: Callable[[str], None] | None = None
) -> T:
    """``call()``'s result (or exception), computed on a daemon thread; :class:`Stopped` when SIGINT or
    SIGTERM arrives, once the translations under way are settled (:func:`finish_translations`, up to
    ``stop_wait`` seconds; a second signal: at once). Must be called from the main thread (only it
    receives signals)."""
    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()  # the thread sees the caller's context (Prefect keeps settings there)

    def target() -> None:
        try:
            outcome["result"] = context.run(call)
        except BaseException as error:  # handed to the main thread, which raises it
            outcome["error"] = error

    previous = {signum: signal.signal(signum, _raise_stopped) for signum in SIGNALS}
    worker = threading.Thread(target=target, name="tarjama-flow", daemon=True)
    try:
        worker.start()
        try:
            while worker.is_alive():
                worker.join(poll_s)
        except Stopped as first:
            try:
                first.settled = finish_translations(stop_wait, say)
            except Stopped as again:  # the second signal: no more waiting
                again.settled = under_way()
                raise
            raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _raise_stopped(signum: int, _frame: FrameType | None) -> NoReturn:
    raise Stopped(signum)


def raise_on_signals() -> None:
    """Turn SIGINT and SIGTERM into :class:`Stopped` in the main thread from now on, so that a command
    decides how a signal ends it by what it has written (SIGTERM's default ended it with -15 even after
    its output was complete). Main thread only."""
    for signum in SIGNALS:
        signal.signal(signum, _raise_stopped)


def raise_once_on_signals() -> None:
    """Turn the first SIGINT or SIGTERM into :class:`Stopped` in the main thread, and ignore those that come
    after it, so the clean-up the exception unwinds through (a staging folder removed) is not cut short: for
    a command that writes in its main thread and has nothing to wait for (``compare``). SIGTERM's default
    ended the process at once, and left its staging folder to the next run. Main thread only."""
    for signum in SIGNALS:
        signal.signal(signum, _raise_stopped_once)


def _raise_stopped_once(signum: int, _frame: FrameType | None) -> NoReturn:
    ignore_signals()
    raise Stopped(signum)


def finish_translations(wait_s: float, say: Callable[[str], None] | None = None) -> Settled:
    """Stop translating (no request starts from now on) and wait up to ``wait_s`` seconds for the calls
    under way, which store every answer that still arrives; ``say`` gets one line when there is something
    to wait for."""
    now = stop_translating()
    if (now.calls or elsewhere()) and say is not None:
        what = (
            f"the answers to {counted(now.requests, 'request')} in flight"
            if now.requests
            else "the translations under way"
        ) + (" (and on the workers)" if elsewhere() else "")
        say(
            f"stopping: no new request is sent; waiting up to {wait_s:g} s for {what}, which are kept "
            "(Ctrl-C again to stop at once and lose them)"
        )
    return settle(wait_s)


def settle_after_signal(wait_s: float, say: Callable[[str], None] | None = None) -> Settled:
    """:func:`finish_translations` in a process whose main thread runs the flow itself, where the first
    SIGINT or SIGTERM has just been raised as an exception (``KeyboardInterrupt``, Prefect's
    ``TerminationSignal``): a run ``tarjama serve`` started, cancelled from the Prefect UI (the runner's
    SIGTERM) or stopped with ``serve`` (its SIGTERM, and on a terminal the Ctrl-C too). Further signals are
    ignored while it waits, since one stop reaches this process two or three times (the terminal's SIGINT,
    serve's SIGTERM, the runner's cancellation); what stops it at once is what ends the process outright:
    ``serve``'s second Ctrl-C, or the runner's SIGKILL after its grace. ``say`` gets the waiting line and
    one line on what arrived and what was abandoned."""
    main = threading.current_thread() is threading.main_thread()
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in SIGNALS} if main else {}
    try:
        settled = finish_translations(wait_s, say)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if say is not None:
        kept = f"{counted(settled.kept, 'translation')} arrived while stopping and are kept" if settled.kept else ""
        said = "; ".join(filter(None, [kept, abandoned(settled)]))
        say(f"stopped: every translation paid for is kept{'; ' + said if said else ''}")
    return settled


def abandoned(settled: Settled | None) -> str:
    """What a stopped command says of the translations it gave up waiting for (a clause, "" if none)."""
    if settled is None or not settled.calls:
        return ""
    if settled.requests:
        given_up = (
            f"{counted(settled.requests, 'request')} still in flight {'was' if settled.requests == 1 else 'were'}"
        )
    else:
        given_up = "the translations still under way were"
    return f"{given_up} abandoned (the next run asks for those sentences again)"


def ignore_signals() -> None:
    """Ignore SIGINT and SIGTERM from now until the process ends: its work is over (the run's output is in
    place, or it is about to exit anyway), and a signal now would only cut short the lines that say how it
    ended (a second Ctrl-C while the summary printed gave a traceback and a failing status). Ignored, not
    blocked: a thread's signal mask would leave the signal to another thread, and Python would still raise
    it in the main one. Main thread only, like every handler change."""
    for signum in SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def exit_now(status: int) -> NoReturn:
    """End the process with ``status`` without joining worker threads (which Python's exit would wait for)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(status)
