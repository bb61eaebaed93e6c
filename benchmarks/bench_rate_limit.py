"""Requests per second through tarjama's Prefect rate limit: one slot per request vs paced batches.

    PYTHONPATH=src:. .venv/bin/python benchmarks/bench_rate_limit.py [--rates 5,50,1000] [--requests 150]
        [--workers 4] [--latency 0.1] [--repeat 2]

Starts a private tarjama home's shared Prefect server (under a temporary folder) and a loopback HTTP
service answering every request after ``--latency`` seconds. For each rate, ``--workers`` threads send
``--requests`` requests between them, each after the throttle, alternating the two throttles
``--repeat`` times (the machine may be loaded: compare the two within a round):

- ``slot``: ``prefect.concurrency.sync.rate_limit(name, occupy=1, strict=True)`` before every request
  (tarjama up to 0.3.4);
- ``paced``: :class:`tarjama.translation.engines.pacing.PacedBatches` over the same limit (batches of
  slots, requests paced at the rate in the process).

Each throttle gets a limit of its own (``tarjama.flows.limits.ensure_limit``), new and full. Printed per
run: wall seconds, requests per second, and the most requests the service saw in any one second (what a
paid service's own limit would count).
"""

from __future__ import annotations

import argparse
import bisect
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx


class Service:
    """A loopback HTTP service: every POST is answered after ``latency`` seconds; arrival times kept."""

    def __init__(self, latency: float) -> None:
        arrivals: list[float] = []
        self.arrivals = arrivals
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    arrivals.append(time.monotonic())
                time.sleep(latency)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/translate"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def busiest_second(times: list[float]) -> int:
    """The most arrivals in any window of one second."""
    times = sorted(times)
    return max((bisect.bisect_left(times, t + 1.0) - i for i, t in enumerate(times)), default=0)


def send(throttle: Callable[[], None], service: Service, requests: int, workers: int) -> tuple[float, int]:
    """Wall seconds for ``requests`` throttled requests from ``workers`` threads, and the busiest second."""
    left = iter(range(requests))
    lock = threading.Lock()
    before = len(service.arrivals)

    def work() -> None:
        with httpx.Client(timeout=30) as client:
            while True:
                with lock:
                    if next(left, None) is None:
                        return
                throttle()
                client.post(service.url, json={"q": "نص"}).raise_for_status()

    started = time.monotonic()
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.monotonic() - started, busiest_second(service.arrivals[before:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="5,50,1000")
    parser.add_argument("--requests", type=int, default=150)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="bench-rate-limit-"))
    os.environ["TARJAMA_HOME"] = str(home)
    from tarjama.app.prefect_server import shared_api
    from tarjama.flows.environment import configure_prefect, own_server_settings

    configure_prefect(home)
    with shared_api(home, idle_s=30) as url:
        os.environ.update(own_server_settings(url, ui=False))
        from prefect.concurrency.sync import rate_limit

        from tarjama.flows.limits import ensure_limit, prefect_take
        from tarjama.translation.engines.pacing import PacedBatches

        service = Service(args.latency)
        ensure_limit(f"warm-{uuid.uuid4().hex[:8]}", 1.0)  # the client's first connection, outside the figures
        print(f"{args.requests} requests, {args.workers} workers, service latency {args.latency:g} s")
        wall, busiest = send(lambda: None, service, args.requests, args.workers)
        print(f"no throttle: {wall:.2f} s, {args.requests / wall:.1f} requests/s, busiest second {busiest}")
        print(f"{'rate':>6} {'throttle':>8} {'wall s':>7} {'req/s':>7} {'busiest 1 s':>11}")
        for rate in [float(r) for r in args.rates.split(",")]:
            for _ in range(args.repeat):
                for kind in ("slot", "paced"):
                    name = ensure_limit(f"bench-{kind}-{uuid.uuid4().hex[:8]}", rate)
                    throttle: Callable[[], None]
                    if kind == "slot":

                        def throttle(name: str = name) -> None:
                            rate_limit(name, occupy=1, strict=True)
                    else:
                        throttle = PacedBatches(rate, prefect_take(name))
                    wall, busiest = send(throttle, service, args.requests, args.workers)
                    asked = (
                        f" {throttle.asks} batches of {throttle.batch}" if isinstance(throttle, PacedBatches) else ""
                    )
                    print(
                        f"{rate:6g} {kind:>8} {wall:7.2f} {args.requests / wall:7.1f} {busiest:11d}{asked}", flush=True
                    )


if __name__ == "__main__":
    sys.exit(main())
