"""Warm reruns of the seed article, end to end, and where their time goes.

    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_warm [--runs 5]

The seed article (``corpus/morocco-us-counterterrorism.ar.txt``) is run once with the ``google``
engine against the project's loopback server (``tests/loopback_services.py``), which fills the
translation memory, starts the home's shared Prefect server and leaves the home's warm process
(``tarjama.app.preload``) behind; then each warm run is a real ``tarjama run`` command, timed from
its start to its exit, median of ``--runs``:

- *same output folder*: the article's shard is reused, nothing is translated, aligned or scored;
- *fresh output folder*: every sentence comes from the memory, the alignment and scores are redone;
- *server stopped first*: a same-folder run after the shared server has stopped (it starts one, as
  the first command after an idle time does);
- *TARJAMA_PRELOAD=off*: a same-folder run in the command's own process, as before the warm process;

first with the shared server that the earlier runs left running, then with a ``tarjama serve``
running for the same home (runs find it through ``<home>/serve.json`` and use its API). The kinds
of run alternate, so a change in the machine's load hits them all. Also timed: ``tarjama --help``,
``tarjama runs`` (with the shared server running and, after it stopped, from the database on disk),
Python's imports of a warm run (``-X importtime``), and the phases of a run seen from outside
(until Prefect's first log line, the flow itself, after its last). Wall times on a machine shared
with other work swing with its load; CPU seconds (the process and the children it waited for, and a
run the warm process forked, as its log says) are steadier. Figures: ``benchmarks/results/warm-reruns.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from loopback_services import LoopbackServices  # noqa: E402

SEED = ROOT / "corpus" / "morocco-us-counterterrorism.ar.txt"
TARJAMA = str(Path(sys.executable).with_name("tarjama"))
FLOW_START = re.compile(r"Beginning flow run")
FLOW_END = re.compile(r"Flow run '[^']*' - Finished in state")
RUN_CPU = re.compile(r"^run \d+ ended with status \d+; CPU ([\d.]+) s$", re.MULTILINE)  # the warm process's log


@dataclass
class Timed:
    """One process: seconds from start to exit, CPU seconds it and the children it waited for used
    (what an idle machine would need, roughly: the wall times here include waiting for other
    users' processes), and when each line of its output arrived."""

    seconds: float
    cpu_s: float
    lines: list[tuple[float, str]] = field(default_factory=list)

    def first(self, pattern: re.Pattern[str]) -> float | None:
        return next((t for t, line in self.lines if pattern.search(line)), None)


def timed(command: Sequence[str], env: dict[str, str]) -> Timed:
    """Run ``command``, its output read line by line as it comes; fail loudly if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    lines = [(time.perf_counter() - started, line.rstrip("\n")) for line in process.stdout or []]
    process.wait()
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    if process.returncode != 0:
        tail = "\n".join(line for _, line in lines[-30:])
        raise SystemExit(f"{' '.join(command)} exited with {process.returncode}:\n{tail}")
    return Timed(seconds, cpu_s, lines)


class Warm:
    """The tarjama home, output folders and environment of the warm runs."""

    def __init__(self, work: Path, url: str) -> None:
        self.work = work
        self.home = work / "home"
        self.out = work / "out"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TARJAMA_"))}
        self.env |= {"TARJAMA_HOME": str(self.home), "TARJAMA_GOOGLE_URL": url, "COLUMNS": "200"}
        self.count = 0

    def run(self, fresh_folder: bool, *python: str, preload: bool = True) -> Timed:
        """A run; its CPU is the command's and, if the warm process ran it, the run's (from its log)."""
        self.count += 1
        out = self.work / f"fresh-{self.count}" if fresh_folder else self.out
        command = [*python, TARJAMA, "run", str(SEED), "-e", "google", "-o", str(out), "--name", f"w{self.count}"]
        ended = len(RUN_CPU.findall(_read(self.home / "preload.log")))
        result = timed(command, self.env | {"TARJAMA_PRELOAD": "on" if preload else "off"})
        forked = RUN_CPU.findall(_read(self.home / "preload.log"))[ended:]
        result.cpu_s += sum(float(cpu) for cpu in forked)
        return result

    def same(self) -> Timed:
        return self.run(False)

    def fresh(self) -> Timed:
        return self.run(True)

    def same_in_process(self) -> Timed:
        return self.run(False, preload=False)

    def wait_for_warm_process(self) -> None:
        """The first run left a warm process behind (``tarjama.app.preload``); it imports for a few seconds."""
        deadline = time.monotonic() + 300
        while "warm process" not in _read(self.home / "preload.log"):
            if time.monotonic() > deadline:
                raise SystemExit(f"no warm process: {_read(self.home / 'preload.log')[-2000:]}")
            time.sleep(0.5)


def _read(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def medians(kinds: dict[str, Callable[[], Timed]], runs: int) -> dict[str, list[Timed]]:
    """Each kind of run ``runs`` times, the kinds alternating."""
    done: dict[str, list[Timed]] = {name: [] for name in kinds}
    for _ in range(runs):
        for name, run in kinds.items():
            done[name].append(run())
    return done


def median_s(results: Sequence[Timed]) -> float:
    return statistics.median(r.seconds for r in results)


def phases(results: Sequence[Timed]) -> str:
    """Median seconds until the flow's first log line, in the flow, and after its last line."""
    before, inside, after = [], [], []
    for r in results:
        start, end = r.first(FLOW_START), r.first(FLOW_END)
        if start is not None and end is not None:
            before.append(start)
            inside.append(end - start)
            after.append(r.seconds - end)
    if not before:
        return "phases not found in the output"
    return (
        f"before the flow {statistics.median(before):.2f} s, flow {statistics.median(inside):.2f} s, "
        f"after it {statistics.median(after):.2f} s"
    )


@contextmanager
def serving(warm: Warm) -> Iterator[None]:
    """A ``tarjama serve`` for the warm runs' home, on free ports; stopped with Ctrl-C's signal."""
    ports = [free_port(), free_port()]
    log = (warm.work / "serve.log").open("wb")
    process = subprocess.Popen(
        [TARJAMA, "serve", "--port", str(ports[0]), "--download-port", str(ports[1]), "-o", str(warm.out)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=warm.env,
    )
    try:
        deadline = time.monotonic() + 300
        while "Press Ctrl-C" not in (warm.work / "serve.log").read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"tarjama serve did not start: {(warm.work / 'serve.log').read_text()[-2000:]}")
            time.sleep(0.5)
        yield
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_shared_server(warm: Warm) -> None:
    """Stop the home's shared Prefect server, if one runs (as its idle time would), and wait for it to go
    (its process: killed by a signal it may leave its record, which the next command finds stale)."""
    try:
        pid = json.loads((warm.home / "prefect-server.json").read_text())["pid"]
    except (OSError, ValueError, KeyError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 60
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)


def runs_s(warm: Warm, runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``tarjama runs``."""
    done = [timed([TARJAMA, "runs"], warm.env) for _ in range(runs)]
    return statistics.median(r.seconds for r in done), statistics.median(r.cpu_s for r in done)


def import_times(warm: Warm) -> list[tuple[float, str]]:
    """Seconds a warm run spends importing each top-level package (``python -X importtime``: the
    self time of every module, summed by the package it belongs to), the heaviest first."""
    result = warm.run(False, sys.executable, "-X", "importtime", preload=False)
    found: dict[str, float] = {}
    for _, line in result.lines:
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        package = parts[2].strip().split(".")[0]
        found[package] = found.get(package, 0.0) + int(parts[0]) / 1e6
    return sorted(((s, p) for p, s in found.items()), reverse=True)


def help_s(warm: Warm, runs: int) -> tuple[float, float]:
    """Median wall and CPU seconds of ``tarjama --help``."""
    done = [timed([TARJAMA, "--help"], warm.env) for _ in range(runs)]
    return statistics.median(r.seconds for r in done), statistics.median(r.cpu_s for r in done)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each kind (the median is reported)")
    parser.add_argument("--no-serve", action="store_true", help="skip the runs with a `tarjama serve` running")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    options = parser.parse_args()
    work = options.keep or Path(tempfile.mkdtemp(prefix="bench-warm-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        with LoopbackServices(latency=0.1, lifetime=3 * 3600) as services:
            warm = Warm(work, services.url("google"))
            fill = warm.same()
            print(f"first run (translates, migrates a fresh Prefect database): {fill.seconds:.1f} s", flush=True)
            wall, cpu = help_s(warm, options.runs)
            print(f"tarjama --help: median {wall:.2f} s (CPU {cpu:.2f} s) of {options.runs}", flush=True)
            wall, cpu = runs_s(warm, options.runs)
            print(f"tarjama runs, shared server running: median {wall:.2f} s (CPU {cpu:.2f} s)", flush=True)

            def cold() -> Timed:
                stop_shared_server(warm)
                return warm.same()

            warm.wait_for_warm_process()
            kinds = {
                "same output folder": warm.same,
                "fresh output folder": warm.fresh,
                "server stopped first": cold,
                "same, TARJAMA_PRELOAD=off": warm.same_in_process,
            }
            report("shared Prefect server (left running by the runs before)", medians(kinds, options.runs))
            stop_shared_server(warm)
            wall, cpu = runs_s(warm, options.runs)
            print(f"tarjama runs, no server (the database on disk): median {wall:.2f} s (CPU {cpu:.2f} s)", flush=True)
            if not options.no_serve:
                with serving(warm):
                    served = medians({"same output folder": warm.same, "fresh output folder": warm.fresh}, options.runs)
                    wall, cpu = runs_s(warm, options.runs)
                report("with `tarjama serve` running", served)
                print(f"  tarjama runs: median {wall:.2f} s (CPU {cpu:.2f} s)")
            print("\nwhere the time goes")
            imports = import_times(warm)
            print(
                f"  imports of a run without the warm process: {sum(s for s, _ in imports):.2f} s in all "
                "(python -X importtime, self times summed by package); the heaviest:"
            )
            for seconds, package in imports[:12]:
                print(f"    {seconds:6.2f} s  {package}")
            stop_shared_server(warm)
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


def report(title: str, results: dict[str, list[Timed]]) -> None:
    print(f"\n{title}  (CPU: the command's and, in the warm process, the run's; not the Prefect server's)")
    for name, runs in results.items():
        seconds = ", ".join(f"{r.seconds:.1f}" for r in runs)
        cpu = statistics.median(r.cpu_s for r in runs)
        print(f"  {name:20}: median {median_s(runs):5.2f} s  ({seconds}), CPU {cpu:.1f} s; {phases(runs)}", flush=True)


if __name__ == "__main__":
    main()
