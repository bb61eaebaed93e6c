"""The driver's peak memory at two corpus sizes (issue 10's ratio), alone: two threads builds.

    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_memory                 # 1,000 and 10,000 articles
    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_memory --sizes 100,1000

The same builds as ``bench_corpus``'s threads and big builds (its synthetic corpora, the loopback
``google`` engine at 0.1 s a request, ``--workers 8``, a fresh home and Prefect database per size),
without its other configurations: the driver's peak (VmHWM) and its largest resident size while
articles were being built, and their ratio.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from benchmarks.bench_corpus import LoopbackServices, Pool, environment, run_tarjama


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="corpus sizes, comma-separated (smallest first)")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    options = parser.parse_args()
    work = options.keep or Path(tempfile.mkdtemp(prefix="bench-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    pool, peaks = Pool.load(), []
    try:
        with LoopbackServices(lifetime=6 * 3600, latency=0.1) as services:
            for n in (int(size) for size in options.sizes.split(",")):
                corpus = pool.manifest(work / f"corpus-{n}.jsonl", range(n))
                env = environment(work / f"home-{n}", work / f"prefect-{n}", services.url("google"))
                args = [str(corpus), "-e", "google", "--rate-limit", "0", "--workers", "8"]
                build = run_tarjama(str(n), args, env, work / f"out-{n}", "run", work / f"log-{n}.txt")
                peaks.append((n, build.driver_mb, build.building_mb))
                print(
                    f"{n} articles: wall {build.seconds:.0f} s, driver peak {build.driver_mb:.0f} MB, "
                    f"while building {build.building_mb:.0f} MB, its Prefect server {build.server_mb:.0f} MB, "
                    f"load {build.load[0]:.1f}-{build.load[1]:.1f}",
                    flush=True,
                )
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    (small, small_peak, small_building), (big, big_peak, big_building) = peaks[0], peaks[-1]
    print(
        f"ratio {big} / {small} articles: peak {big_peak / small_peak:.2f}, "
        f"while building {big_building / small_building:.2f} (target <= 1.5)"
    )


if __name__ == "__main__":
    main()
