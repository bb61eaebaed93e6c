"""Stopping translation on a signal without throwing away an answer the service was paid for.

A command stopped by Ctrl-C or SIGTERM used to leave its worker threads running while it ended: they
sent new requests after the signal, and answers that arrived were dropped with the process. Now the
command's main thread (:mod:`tarjama.app.stopping`) calls :func:`stop_translating` at the first signal,
then :func:`settle`, which waits a bounded time for the translation calls under way:

- no request starts once translating has stopped (:func:`check_translating` raises
  :class:`TranslationStopped` where one would: before every attempt of a web engine's request, a retry's
  wait cut short; before a local model starts on its next sentence, so the sentence under way is finished);
- an answer that arrives is stored as usual (a call stores each translation before it asks for the next),
  and the call then ends at its next request;
- a plug-in engine that sends through a client of its own is not stopped mid-call (it may call
  :func:`check_translating` before each request), only waited for.

A process-wide state, like the translation memory's journals: one command, one stop. Pure and
Prefect-free; the command layer decides when to stop and how long to wait.

Translation calls in other processes (a run's Dask workers) are stopped too, through a callable the
orchestration layer registers (:func:`stopping_elsewhere`): :func:`settle` calls it, and it stops them and
waits for their answers in flight there. A worker outlives the run that stopped it: its stop names that run
(``stop_translating(cause)``), and the next run's tasks lift it (:func:`resume_translating`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


class TranslationStopped(BaseException):
    """Raised where a request would start after translating stopped. A ``BaseException``, as
    ``KeyboardInterrupt`` is: an article's ``except Exception`` must not record it as that article's
    failure (and a run write its output without it)."""

    def __init__(self) -> None:
        super().__init__("translation interrupted by a signal: no new request is sent")


@dataclass(frozen=True)
class Settled:
    """What :func:`settle` saw: translations stored since the stop, and the calls and requests still under
    way when it gave up waiting (0 and 0: every answer that came is stored)."""

    kept: int
    calls: int
    requests: int

    def __add__(self, other: Settled) -> Settled:
        """What two places saw together (this process and its workers)."""
        return Settled(self.kept + other.kept, self.calls + other.calls, self.requests + other.requests)


class _State:
    def __init__(self) -> None:
        self.stopped = threading.Event()
        self.changed = threading.Condition()
        self.calls = 0  # translation calls under way: each may have a request out, or answers not yet stored
        self.requests = 0  # requests sent and not answered yet
        self.kept = 0  # translations stored after the stop
        self.cause: str | None = None  # the run that stopped this process (a Dask worker's), None: for good
        self.elsewhere: list[Callable[[float], Settled]] = []  # stops the calls in other processes too


_STATE = _State()


def stopped() -> bool:
    """Whether this process has stopped translating."""
    return _STATE.stopped.is_set()


def check_translating() -> None:
    """Raise :class:`TranslationStopped` if this process has stopped translating: call it before a request."""
    if _STATE.stopped.is_set():
        raise TranslationStopped


def stop_translating(cause: str | None = None) -> Settled:
    """Send no new request in this process from now on; what is under way at this moment. ``cause``: the
    run that stops a process serving several in turn (a Dask worker), whose next run's tasks lift the stop;
    without one, the stop is for good (the process is ending)."""
    with _STATE.changed:
        if not _STATE.stopped.is_set() or _STATE.cause is not None:
            _STATE.cause = cause
        _STATE.stopped.set()
    return under_way()


def resume_translating(run: str) -> None:
    """Translate again in this process if a run other than ``run`` stopped it (a Dask worker's task calls this
    first): that run's stop is over. A stop for good, or by ``run`` itself, stays."""
    with _STATE.changed:
        if _STATE.stopped.is_set() and _STATE.cause is not None and _STATE.cause != run:
            _STATE.stopped.clear()
            _STATE.cause = None
            _STATE.kept = 0


@contextmanager
def stopping_elsewhere(stop: Callable[[float], Settled]) -> Iterator[None]:
    """While in this block, :func:`settle` also stops the translation calls of this process's work in other
    processes (a run's Dask workers): ``stop(timeout)`` stops them, waits up to ``timeout`` seconds for their
    answers in flight (stored there as they arrive) and says what they kept and what is still under way."""
    _STATE.elsewhere.append(stop)
    try:
        yield
    finally:
        if not _STATE.stopped.is_set():  # stopped: the block may end before the stop is sent there
            _STATE.elsewhere.remove(stop)


def elsewhere() -> bool:
    """Whether a stop of this process also stops translation calls in other processes."""
    return bool(_STATE.elsewhere)


def under_way() -> Settled:
    with _STATE.changed:
        return Settled(_STATE.kept, _STATE.calls, _STATE.requests)


def pause(seconds: float) -> None:
    """Sleep ``seconds`` (a retry's wait), or less if translating stops meanwhile."""
    _STATE.stopped.wait(seconds)


@contextmanager
def translating() -> Iterator[None]:
    """A translation call: from its first request until its last answer is stored (:func:`settle` waits
    for it)."""
    check_translating()
    with _STATE.changed:
        _STATE.calls += 1
    try:
        yield
    finally:
        with _STATE.changed:
            _STATE.calls -= 1
            _STATE.changed.notify_all()


@contextmanager
def request() -> Iterator[None]:
    """One request on the wire: it does not start once translating has stopped."""
    check_translating()
    with _STATE.changed:
        _STATE.requests += 1
    try:
        yield
    finally:
        with _STATE.changed:
            _STATE.requests -= 1
            _STATE.changed.notify_all()


def kept() -> None:
    """A translation was stored: counted if it came after the stop."""
    if _STATE.stopped.is_set():
        with _STATE.changed:
            _STATE.kept += 1


def settle(timeout: float, poll_s: float = 0.1) -> Settled:
    """Wait up to ``timeout`` seconds for the translation calls under way to end (each stores what it
    received, and sends nothing more), here and in the other processes of :func:`stopping_elsewhere`. Polls,
    so that a signal handler in the calling (main) thread can end the wait at once."""
    deadline = time.monotonic() + max(timeout, 0.0)
    remote = [_Elsewhere(stop, timeout) for stop in list(_STATE.elsewhere)]
    with _STATE.changed:
        while (_STATE.calls or any(r.is_alive() for r in remote)) and (left := deadline - time.monotonic()) > 0:
            _STATE.changed.wait(min(poll_s, left))
        here = Settled(_STATE.kept, _STATE.calls, _STATE.requests)
    return sum((r.settled for r in remote), here)


class _Elsewhere(threading.Thread):
    """One :func:`stopping_elsewhere` stop, on a thread of its own: the caller's wait stays interruptible."""

    def __init__(self, stop: Callable[[float], Settled], timeout: float) -> None:
        super().__init__(name="tarjama-stop-elsewhere", daemon=True)
        self.stop, self.timeout = stop, timeout
        self.answer: Settled | None = None
        self.start()

    def run(self) -> None:
        try:
            self.answer = self.stop(self.timeout)
        except Exception:  # the other processes are gone, or unreachable: their calls count as abandoned
            return

    @property
    def settled(self) -> Settled:
        """What the other processes said; when they did not answer in time, their calls as still under way."""
        return self.answer if self.answer is not None else Settled(0, 1, 0)
