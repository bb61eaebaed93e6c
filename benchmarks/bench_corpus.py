"""Corpus builds at scale: throughput, driver memory, no-op reruns and additions, Prefect's overhead.

    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_corpus                        # 1,000 and 10,000 articles
    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_corpus --articles 100 --big 0  # a quick look

Synthetic corpora of distinct articles are drawn from the 603 line-aligned ntrex128-dev gold pairs:
article ``i`` takes 10-15 lines at random (seeded by ``i``), one per paragraph, with the matching
English lines as its reference; each line is tagged ``[i.j]`` on both sides, so no two articles
share a sentence and every article costs the engine requests (a news archive rarely repeats a
sentence). They are written as JSONL manifests (one record per article, texts inline).

Every build is a real ``tarjama run`` process (the venv's ``tarjama``; its Prefect server is the
private one each run starts) translating with the ``google`` engine through the project's loopback
server (``tests/loopback_services.py``, imported from ``tests/``: benchmarks may use the test
server, tests never import benchmarks) with ``--latency`` seconds per request and the rate limit
off (``--rate-limit 0``), each configuration with a fresh tarjama home (translation memory) and
output folder, all sharing one Prefect database (migrated by a warm-up run first):

1. ``--workers 1`` (sequential), ``--workers 8`` (threads), ``--dask tcp://...`` with a
   ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1 (``--dask-threads`` each);
   articles per minute end to end (process start to exit) and while building (between the first
   and the last article's shard, sampled every 0.25 s);
2. a rerun of the threads build with nothing new (every shard reused; median of ``--noop-runs``),
   and with 10 articles added;
3. the driver's peak memory (VmHWM of the ``tarjama`` process; its private Prefect server, a
   child process, is reported apart) at ``--articles`` and at ``--big`` articles (threads);
4. Prefect's overhead per article: the sequential build's seconds per article beside the work the
   article's task timed itself (``timings_s`` in ``scores.json``), and beside the same work done by
   calling tarjama's functions in a plain loop in a fresh process (``--direct``, no Prefect).

Each build's row carries the machine's 1-minute load average at its start and end (the machine is
shared: compare ratios within one run). The last thing printed is one table: each of issue 10's
figures beside its target, and the ceiling this machine puts on concurrency (its cores divided by
the CPU seconds an article costs, against the sequential seconds per article): the ``google``
engine sends an article's sentences in one request, so at 0.1 s per request an article's CPU (the
driver's and the Prefect server's) is about as long as its wait, and threads cannot go past that
ceiling however many there are. Figures measured on 2026-11-29: ``benchmarks/results/corpus-and-warm.md``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from loopback_services import LoopbackServices  # noqa: E402

GOLD = ROOT / "corpus" / "ntrex128-dev" / "gold"
TARJAMA = str(Path(sys.executable).with_name("tarjama"))
DASK = str(Path(sys.executable).with_name("dask"))
ENGINE = "google"
POLL_S = 0.25


# --- the synthetic corpus -------------------------------------------------------------------------


@dataclass(frozen=True)
class Pool:
    arabic: list[str]
    english: list[str]

    @classmethod
    def load(cls) -> Pool:
        arabic = (GOLD / "ntrex128-dev.ar.lines").read_text(encoding="utf-8").splitlines()
        english = (GOLD / "ntrex128-dev.en.lines").read_text(encoding="utf-8").splitlines()
        return cls(arabic, english)

    def article(self, number: int) -> dict[str, object]:
        """Article ``number``: the same whenever it is made, distinct from every other one."""
        picker = random.Random(f"bench-corpus-{number}")
        lines = picker.sample(range(len(self.arabic)), picker.randint(10, 15))
        arabic = "\n".join(f"[{number}.{j}] {self.arabic[k]}" for j, k in enumerate(lines))
        english = "\n".join(f"[{number}.{j}] {self.english[k]}" for j, k in enumerate(lines))
        return {"id": f"a{number:06d}", "text": arabic, "references": [{"label": "en", "text": english}]}

    def manifest(self, path: Path, numbers: Sequence[int]) -> Path:
        with path.open("w", encoding="utf-8") as out:
            for number in numbers:
                out.write(json.dumps(self.article(number), ensure_ascii=False) + "\n")
        return path


# --- one measured `tarjama run` -------------------------------------------------------------------


@dataclass
class Build:
    """What one ``tarjama run`` process took."""

    label: str
    articles: int
    seconds: float
    cpu_s: float  # the driver's and its children's (the private Prefect server's), not the Dask workers'
    server_cpu_s: float  # the children's alone (the private Prefect server), as last seen
    driver_mb: float  # peak resident memory of the driver
    building_mb: float  # the driver's largest resident memory sampled until the last article was built
    server_mb: float
    load: tuple[float, float]  # the machine's 1-minute load average at the start and at the end (2 cores, shared)
    shard_times: list[float] = field(default_factory=list)
    scores: dict = field(default_factory=dict)

    @property
    def per_minute(self) -> float:
        return 60 * self.articles / self.seconds

    @property
    def building_per_minute(self) -> float | None:
        """Articles per minute between the first and the last new shard (start-up and export left out)."""
        span = self.shard_times[-1] - self.shard_times[0] if self.shard_times else 0.0
        if len(self.shard_times) < 3 or span <= 0:  # too few shards, or all seen in one poll
            return None
        return 60 * (len(self.shard_times) - 1) / span

    @property
    def work_s(self) -> float:
        """Seconds the articles' tasks timed themselves (translate, align, score, check), summed."""
        return sum(sum(a["timings_s"].values()) for a in self.scores.get("articles", []))


def _memory_kb(pid: int) -> tuple[int, int]:
    """The process's resident memory now and its peak so far (Linux ``VmRSS``, ``VmHWM``); 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    now, peak = (re.search(rf"^{key}:\s+(\d+) kB", status, re.MULTILINE) for key in ("VmRSS", "VmHWM"))
    return int(now.group(1)) if now else 0, int(peak.group(1)) if peak else 0


def _shards(folder: Path) -> set[str]:
    try:
        return {entry.name for entry in os.scandir(folder) if entry.name.endswith(".json")}
    except FileNotFoundError:
        return set()


def run_tarjama(label: str, args: Sequence[str], env: dict[str, str], out: Path, name: str, log: Path) -> Build:
    """Run ``tarjama run ARGS -o OUT --name NAME``; time it, follow its memory and the shards it writes."""
    shard_folder = out / ".shards"
    before = _shards(shard_folder)
    seen: dict[str, float] = {}
    resident: list[tuple[float, int]] = []
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [TARJAMA, "run", *args, "-o", str(out), "--name", name], stdout=sink, stderr=subprocess.STDOUT, env=env
        )
        driver = psutil.Process(process.pid)
        driver_kb = server_kb = 0
        children_cpu: dict[int, float] = {}
        while process.poll() is None:
            now_kb, peak_kb = _memory_kb(process.pid)
            driver_kb = max(driver_kb, peak_kb)
            try:
                children = driver.children(recursive=True)
            except psutil.NoSuchProcess:
                children = []
            server_kb = max(server_kb, sum(_rss_kb(child) for child in children))
            for child in children:
                try:
                    times = child.cpu_times()
                except psutil.Error:
                    continue
                children_cpu[child.pid] = times.user + times.system
            now = time.perf_counter() - started
            resident.append((now, now_kb))
            for shard in _shards(shard_folder) - before - seen.keys():
                seen[shard] = now
            time.sleep(POLL_S)
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = cpu_after.ru_utime + cpu_after.ru_stime - cpu_before.ru_utime - cpu_before.ru_stime
    last_built = max(seen.values(), default=seconds)
    building_kb = max((kb for t, kb in resident if t <= last_built), default=0)
    if process.returncode != 0:
        raise SystemExit(
            f"{label}: tarjama run exited with {process.returncode}; log: {log}\n{log.read_text()[-3000:]}"
        )
    scores = json.loads((out / name / "scores.json").read_text())
    return Build(
        label,
        len(scores["articles"]),
        seconds,
        cpu_s,
        sum(children_cpu.values()),
        driver_kb / 1024,
        building_kb / 1024,
        server_kb / 1024,
        (load_before, os.getloadavg()[0]),
        sorted(seen.values()),
        scores,
    )


def _rss_kb(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss // 1024
    except psutil.Error:
        return 0


# --- a Dask cluster on 127.0.0.1 ------------------------------------------------------------------


@contextmanager
def dask_cluster(logs: Path, threads: int) -> Iterator[str]:
    """A ``dask scheduler`` and two ``dask worker`` processes; the scheduler's address."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs.mkdir(parents=True, exist_ok=True)
    common = ["--dashboard-address", "127.0.0.1:0"]
    processes = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(port), *common],
            stdout=(logs / "scheduler.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
    ]
    for worker in (1, 2):
        processes.append(
            subprocess.Popen(
                [DASK, "worker", address, "--nthreads", str(threads), "--host", "127.0.0.1", *common],
                stdout=(logs / f"worker{worker}.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
        )
    try:
        deadline = time.monotonic() + 300
        while not all("Registered to" in (logs / f"worker{w}.log").read_text() for w in (1, 2)):
            if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
                raise SystemExit(f"the Dask cluster did not start; logs in {logs}")
            time.sleep(0.5)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the same work without Prefect ----------------------------------------------------------------


def direct(manifest: Path, url: str, count: int, folder: Path) -> dict[str, float]:
    """Build the first ``count`` articles of ``manifest`` by calling tarjama's functions in a loop.

    The work of one ``build_article`` task and of the driver's bookkeeping for it (memory lookup
    and store, the shard), without Prefect: what an article costs before any orchestration. The
    first article is left out of the timing (it loads the checks' language model).
    """
    import polars as pl

    from tarjama.checks import check_rows
    from tarjama.corpus import read_manifest
    from tarjama.engines import create_engine
    from tarjama.flows.pipeline import alignment_config
    from tarjama.memory import TranslationMemory
    from tarjama.parallel_corpus import bead_rows, to_frame, write_parquet
    from tarjama.regroup import align_article, item_translations, translation_texts
    from tarjama.score import score_corpus
    from tarjama.settings import Settings
    from tarjama.translate import translate_sentences

    settings = Settings.load(engine=ENGINE, engine_url=url, rate_limit=0)
    engine = create_engine(ENGINE, **settings.engine_options(ENGINE))
    config = alignment_config(settings)
    timed = cpu = 0.0
    articles = read_manifest(manifest)[:count]
    with TranslationMemory(folder / "memory.sqlite") as memory:
        for number, article in enumerate(articles):
            started, started_cpu = time.perf_counter(), time.process_time()
            document, references = article.load()
            texts = translation_texts(document, config.rows, settings.translate)
            translated = translate_sentences(texts, engine, memory)
            translations = item_translations(document, config.rows, settings.translate, translated)
            mt = [t.text for t in translations]
            frames = []
            for reference in references:
                alignment = align_article(document, mt, reference.texts, config)
                rows = to_frame(bead_rows(document, translations, reference, alignment.beads, config.rows))
                score_corpus(rows["english_mt"].to_list(), rows["english_reference"].to_list())
                frames.append(rows)
            frame, _failed = check_rows(pl.concat(frames), settings.checks)
            write_parquet(frame, folder / f"{article.id}.parquet")
            if number:
                timed += time.perf_counter() - started
                cpu += time.process_time() - started_cpu
    built = max(1, len(articles) - 1)
    return {"articles": built, "seconds_per_article": timed / built, "cpu_per_article": cpu / built}


def run_direct(manifest: Path, url: str, count: int, folder: Path) -> dict[str, float]:
    folder.mkdir(parents=True, exist_ok=True)
    answer = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.bench_corpus",
            "--direct",
            str(manifest),
            "--url",
            url,
            "--count",
            str(count),
            "--folder",
            str(folder),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if answer.returncode != 0:
        raise SystemExit(f"the plain loop (--direct) failed:\n{answer.stderr[-3000:]}")
    return json.loads(answer.stdout.strip().splitlines()[-1])


# --- the benchmark --------------------------------------------------------------------------------


def environment(home: Path, prefect_home: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TARJAMA_"))}
    return env | {
        "TARJAMA_HOME": str(home),
        "PREFECT_HOME": str(prefect_home),
        "TARJAMA_GOOGLE_URL": url,
        "COLUMNS": "200",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000, help="the corpus every configuration builds")
    parser.add_argument("--big", type=int, default=10000, help="the corpus for the memory ratio (0: skip)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the loopback server takes per request")
    parser.add_argument("--workers", type=int, default=8, help="threads for the concurrent builds")
    parser.add_argument("--dask-threads", type=int, default=4, help="threads per Dask worker (0: skip Dask)")
    parser.add_argument("--noop-runs", type=int, default=3, help="no-op reruns (the median is reported)")
    parser.add_argument("--direct-articles", type=int, default=100, help="articles built without Prefect")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    parser.add_argument("--direct", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.direct:
        print(json.dumps(direct(options.direct, options.url, options.count, options.folder)))
        return

    work = options.keep or Path(tempfile.mkdtemp(prefix="bench-corpus-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        benchmark(options, work)
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)


def benchmark(options: argparse.Namespace, work: Path) -> None:
    pool = Pool.load()
    n = options.articles
    corpus = pool.manifest(work / f"corpus-{n}.jsonl", range(n))
    added = pool.manifest(work / f"corpus-{n}-plus-10.jsonl", range(n + 10))
    prefect_home = work / "prefect"
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    engine = ["-e", ENGINE, "--rate-limit", "0"]
    print(
        f"{n} articles ({sum(len(str(pool.article(i)['text']).splitlines()) for i in range(n))} lines), "
        f"loopback {ENGINE} at {options.latency:g} s per request, rate limit off; work folder {work}\n"
        "articles/min end to end (process start to exit) and while building (first to last new shard); "
        "driver MB: peak, and largest while building; CPU: driver and its Prefect server (server: its part)\n",
        flush=True,
    )
    print(HEADER, flush=True)
    builds: dict[str, Build] = {}
    workers = ["--workers", str(options.workers)]
    with LoopbackServices(latency=options.latency, lifetime=6 * 3600) as services:
        url = services.url(ENGINE)

        def build(key: str, label: str, home: str, source: Path, out: str, *extra: str) -> Build:
            env = environment(work / home, prefect_home, url)
            result = run_tarjama(label, [str(source), *engine, *extra], env, work / out, key, logs / f"{key}.log")
            builds[key] = result
            print(row(result, builds.get("seq")), flush=True)
            return result

        warm = pool.manifest(work / "warm-up.jsonl", range(10**6, 10**6 + 2))
        build("warm", "warm-up (migrates the Prefect DB)", "home-warm", warm, "out-warm")
        build("seq", "sequential, --workers 1", "home-seq", corpus, "out-seq", "--workers", "1")
        plain = run_direct(corpus, url, options.direct_articles + 1, work / "direct")  # near the sequential build
        build("thr", f"threads, --workers {options.workers}", "home-thr", corpus, "out-thr", *workers)
        if options.dask_threads:
            with dask_cluster(logs / "dask", options.dask_threads) as address:
                build(
                    "dask",
                    f"Dask, 2 workers x {options.dask_threads} threads",
                    "home-dask",
                    corpus,
                    "out-dask",
                    "--dask",
                    address,
                    "--workers",
                    str(2 * options.dask_threads),
                )
        noops = [
            build(
                f"noop{i}", f"rerun, nothing new ({i} of {options.noop_runs})", "home-thr", corpus, "out-thr", *workers
            )
            for i in range(1, options.noop_runs + 1)
        ]
        median = sorted(noops, key=lambda b: b.seconds)[len(noops) // 2]
        builds["noop"] = dataclasses.replace(median, label=f"no-op rerun of {n}, median of {len(noops)}")
        build("plus10", "rerun, 10 articles added", "home-thr", added, "out-thr", *workers)
        if options.big:
            big_corpus = pool.manifest(work / f"corpus-{options.big}.jsonl", range(options.big))
            build(
                "big",
                f"{options.big} articles, --workers {options.workers}",
                "home-big",
                big_corpus,
                "out-big",
                *workers,
            )
    summary(builds, plain)


HEADER = (
    f"{'build':36} {'articles':>8} {'wall s':>7} {'CPU s':>7} {'server':>6} {'flow s':>7} {'/min e2e':>8} {'/min bld':>8} "
    f"{'vs seq':>6} {'driver MB':>9} {'bld MB':>7} {'server MB':>9} {'load':>9}"
)


def row(b: Build, sequential: Build | None) -> str:
    building = b.building_per_minute
    base = sequential.building_per_minute if sequential else None
    ratio = f"{building / base:5.1f}x" if building and base else f"{'':6}"
    return (
        f"{b.label:36} {b.articles:>8} {b.seconds:>7.1f} {b.cpu_s:>7.1f} {b.server_cpu_s:>6.1f} "
        f"{b.scores['wall_time_s']:>7.1f} "
        f"{b.per_minute:>8.0f} {building or 0:>8.0f} {ratio} {b.driver_mb:>9.0f} {b.building_mb:>7.0f} {b.server_mb:>9.0f} "
        f"{b.load[0]:>4.1f}-{b.load[1]:<4.1f}"
    )


def load_span(*runs: Build) -> str:
    """The 1-minute load average from the first run's start to the last run's end."""
    return f"{runs[0].load[0]:.1f}-{runs[-1].load[1]:.1f}"


def summary(builds: dict[str, Build], plain: dict[str, float]) -> None:
    """Prefect's overhead per article in detail, then the issue's figures beside their targets, in one table."""
    sequential, noop, plus = builds["seq"], builds["noop"], builds["plus10"]
    # CPU is steadier than wall time on a shared machine; the no-op rerun's CPU stands for the fixed
    # costs (start-up, reading the corpus, the merged outputs), so the rest is the articles' own
    cpu_per_article = (sequential.cpu_s - noop.cpu_s) / sequential.articles
    server_per_article = (sequential.server_cpu_s - noop.server_cpu_s) / sequential.articles
    seconds_per_article = 60 / (sequential.building_per_minute or sequential.per_minute)
    direct_s, direct_cpu = plain["seconds_per_article"], plain["cpu_per_article"]
    print("\nPrefect's overhead per article (sequential build)")
    print(f"  seconds per article while building:          {seconds_per_article:.3f}")
    print(f"  the task's own stages (timings_s), mean:     {sequential.work_s / sequential.articles:.3f}")
    print(f"  the same work in a plain loop, no Prefect:   {direct_s:.3f}  ({plain['articles']:.0f} articles)")
    print(
        f"  CPU per article: {cpu_per_article:.3f} s in the run (driver and Prefect server, less the no-op "
        f"rerun's; the server's part {server_per_article:.3f} s), {direct_cpu:.3f} s in the plain loop"
    )

    rows: list[tuple[str, str, str, str, str]] = []  # figure, measured, target, met, load average
    base = sequential.building_per_minute or sequential.per_minute
    rows.append(
        (
            f"articles/min, {sequential.label}",
            f"{base:.0f} building, {sequential.per_minute:.0f} end to end",
            "(today's path)",
            "",
            load_span(sequential),
        )
    )
    for key in ("thr", "dask"):
        if key in builds:
            b = builds[key]
            ratio = (b.building_per_minute or b.per_minute) / base
            rows.append(
                (
                    f"articles/min, {b.label}",
                    f"{b.building_per_minute or 0:.0f} building ({ratio:.1f}x), {b.per_minute:.0f} end to end "
                    f"({b.per_minute / sequential.per_minute:.1f}x)",
                    ">= 8x sequential",
                    "yes" if ratio >= 8 else "no",
                    load_span(b),
                )
            )
    # what this machine allows at most: every core busy with the articles' CPU (driver and Prefect server)
    cores = os.cpu_count() or 1
    rows.append(
        (
            f"ceiling on {cores} cores",
            f"{cores * seconds_per_article / cpu_per_article:.1f}x sequential ({cpu_per_article:.3f} CPU s and "
            f"{seconds_per_article:.3f} s per article)",
            "",
            "",
            load_span(sequential),
        )
    )
    reused = noop.scores["counts"]["reused_articles"]
    rows.append(
        (
            noop.label,
            f"{noop.seconds:.1f} s end to end ({noop.scores['wall_time_s']:.1f} s in the flow, {reused} reused)",
            "< 30 s",
            "yes" if noop.seconds < 30 and reused == noop.articles else "no",
            load_span(noop),
        )
    )
    plus_reused = plus.scores["counts"]["reused_articles"]
    rows.append(
        (
            f"adding 10 to {plus.articles - 10}",
            f"{plus.seconds:.1f} s end to end ({plus.scores['wall_time_s']:.1f} s in the flow), {plus_reused} "
            f"reused, {plus.articles} in the output",
            "only the 10 built",
            "yes" if plus_reused == plus.articles - 10 else "no",
            load_span(plus),
        )
    )
    if "big" in builds:
        small, big = builds["thr"], builds["big"]
        ratio = big.driver_mb / small.driver_mb
        rows.append(
            (
                f"driver peak memory, {small.articles} vs {big.articles}",
                f"{small.driver_mb:.0f} vs {big.driver_mb:.0f} MB: {ratio:.2f} (while building "
                f"{big.building_mb / small.building_mb:.2f})",
                "<= 1.5",
                "yes" if ratio <= 1.5 else "no",
                f"{load_span(small)}, {load_span(big)}",
            )
        )
    overhead = cpu_per_article - direct_cpu
    rows.append(
        (
            "Prefect's overhead per article",
            f"{overhead:.3f} CPU s ({100 * overhead / cpu_per_article:.0f}% of the article's CPU); wall "
            f"{seconds_per_article - direct_s:+.3f} s of {seconds_per_article:.3f} s",
            "well below the work",
            "",
            load_span(sequential),
        )
    )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    print("\nfigures (issue 10)")
    for figure, measured, target, met, load_average in [("figure", "measured", "target", "met", "load"), *rows]:
        print(
            f"  {figure:{widths[0]}}  {measured:{widths[1]}}  {target:{widths[2]}}  {met:{max(3, widths[3])}}  "
            f"{load_average}"
        )


if __name__ == "__main__":
    main()
