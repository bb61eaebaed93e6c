"""A process's requests paced at a rate, with permission fetched from a shared limit a batch at a time.

A shared rate limit (Prefect's global concurrency limit with slot decay, see ``flows/limits.py``)
costs one round trip to its server per acquisition, and Prefect's client queues the acquisitions
of one limit one behind the other: asking for one slot per request capped a run near 5 requests/s
whatever the rate (``benchmarks/results/rate-limit.md``). :class:`PacedBatches` asks the shared
limit for ``batch`` slots at a time, before the last ones are spent, and hands them to this
process's threads one every ``1 / rate`` seconds:

- a process never sends faster than ``rate`` (the local pacing), and never sends more than the
  shared limit granted (every request spends one granted slot), so parallel runs and workers
  sharing the limit stay under it together on average;
- granted slots not spent within ``hold`` seconds are dropped, so slots taken long ago cannot
  add a burst later: in any window a process sends at most what the limit granted in that
  window and the ``hold`` seconds before it.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from collections import deque
from collections.abc import Callable

BATCH_SECONDS = 0.5  # a batch is half a second of requests at the rate: two round trips a second
HOLD_SECONDS = 1.0  # at least: granted slots older than this are dropped
SPACING_SLOTS = 0.3  # asks are at least batch / rate + this / rate apart, see PacedBatches,
SPACING_SECONDS = 0.05  # or + this, when shorter (at low rates a slot is long)


def limit_slots(rate: float) -> int:
    """The slots of the shared limit for ``rate`` requests per second: a second's worth (its burst)."""
    return max(1, round(rate))


def batch_size(rate: float) -> int:
    """Slots asked for at once: half a second's worth, leaving one slot of the limit spare (a slot
    Prefect's decay lost, see :class:`PacedBatches`, does not make the next ask wait)."""
    return max(1, min(limit_slots(rate) - 1, math.ceil(rate * BATCH_SECONDS)))


class PacedBatches:
    """A throttle (called before every request) pacing this process at ``rate`` requests per second
    with slots from ``take(n)``, which blocks until ``n`` slots of the shared limit are granted.

    Batches are asked for on a thread of their own, when half a batch or less is left, and no
    sooner than ``batch / rate`` seconds and a margin after the previous ask: Prefect decays a
    limit's slots by ``floor(rate * seconds since the limit's last change)``, so asks just under
    ``batch / rate`` apart would lose a slot each time, and the lost slots would pile up until the
    limit refuses (HTTP 423) and the run waits. The margin (0.3 slot, at most 0.05 s) caps a lone
    process a little under the rate: about 90 % at 5 requests/s (batches of 3), 99 % at 50.
    Failing to get a batch (Prefect unreachable, the limit deleted) raises in the calls that waited
    for it; the next call asks again.
    """

    def __init__(self, rate: float, take: Callable[[int], None], batch: int | None = None) -> None:
        if rate <= 0:
            raise ValueError(f"rate must be positive, not {rate!r}")
        self.rate = rate
        self.batch = batch or batch_size(rate)
        self.hold = max(HOLD_SECONDS, 2 * self.batch / rate)
        self.interval = 1.0 / rate
        self.spacing = self.batch / rate + min(SPACING_SLOTS / rate, SPACING_SECONDS)
        self._take = take
        self._low = self.batch // 2 + 1  # fewer left than this: the next batch is asked for
        self._lots: deque[list[float]] = deque()  # [expires, slots left], oldest first
        self._fetching = False
        self.asks = 0  # batches asked for
        self._failed: tuple[int, BaseException] | None = None  # the ask that failed, and why
        self._asked = -math.inf  # when the previous ask was sent
        self._next = 0.0  # when the next request may go
        self._ready = threading.Condition()

    def __call__(self) -> None:
        waited_for = 0  # the ask this call waited for: its failure is this call's
        with self._ready:
            while True:
                now = time.monotonic()
                left = self._left(now)
                if left < self._low and not self._fetching:
                    self._fetching = True
                    self.asks += 1
                    # in the caller's context: Prefect keeps the server to ask there (a Dask worker's task)
                    fetch = contextvars.copy_context().run
                    threading.Thread(target=fetch, args=(self._fetch,), name="tarjama-rate-limit", daemon=True).start()
                if left:
                    break
                if waited_for and self._failed is not None and self._failed[0] == waited_for:
                    raise self._failed[1]
                waited_for = self.asks
                self._ready.wait()
            self._lots[0][1] -= 1
            slot = max(now, self._next)
            self._next = slot + self.interval
        pause = slot - time.monotonic()
        if pause > 0:
            time.sleep(pause)

    def _left(self, now: float) -> int:
        while self._lots and (self._lots[0][0] <= now or self._lots[0][1] <= 0):
            self._lots.popleft()
        return int(sum(lot[1] for lot in self._lots))

    def _fetch(self) -> None:
        failed: BaseException | None = None
        try:
            pause = self._asked + self.spacing - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            self._asked = time.monotonic()
            self._take(self.batch)
        except BaseException as problem:  # handed to the callers waiting for these slots
            failed = problem
        with self._ready:
            self._fetching = False
            if failed is None:
                self._lots.append([time.monotonic() + self.hold, float(self.batch)])
            if failed is not None:
                self._failed = (self.asks, failed)
            self._ready.notify_all()
