"""Corpus builds at scale: throughput, driver memory, no-op reruns and additions, Prefect's overhead.

    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_corpus                        # 1,000 and 10,000 articles
    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_corpus --articles 100 --big 0  # a quick look

Synthetic corpora of distinct articles are drawn from the 603 line-aligned ntrex128-dev gold pairs:
article ``i`` takes 10-15 lines at random (seeded by ``i``), one per paragraph, with the matching
English lines as its reference; each line is tagged ``[i.j]`` on both sides, so no two articles
share a sentence and every article costs the engine requests (a news archive rarely repeats a
sentence). They are written as JSONL manifests (one record per article, texts inline), and for
today's path as files (``<id>.ar.txt`` with its reference ``<id>.en.txt``, that code's convention).

Every build is a real ``tarjama run`` process (the venv's ``tarjama``; its Prefect server is the
private one each run starts) translating with the ``google`` engine through the project's loopback
server (``tests/loopback_services.py``, imported from ``tests/``: benchmarks may use the test
server, tests never import benchmarks) with ``--latency`` seconds per request and the rate limit
off (``--rate-limit 0``), each configuration with a fresh tarjama home (translation memory) and
output folder, all sharing one Prefect database (migrated by a warm-up run first):

1. today's path: the code as it was when issue 10 was filed (commit ``dc406e1``, checked out into
   a temporary git worktree and run with this interpreter, ``PYTHONPATH=<worktree>/src:<worktree>``),
   whose ``tarjama run FILE...`` built the articles one after another, a ``translate-article``
   subflow each with a task per stage and five artifacts (progress, report, rows, two download
   links), holding every row until the end, on the first ``--baseline-articles`` articles (it is
   the slow one); its building rate comes from the log (a subflow's "Finished in state Completed"
   line, sampled like the shards), and the benchmark checks that it sent its translations through
   the loopback server and wrote every article's rows. Its own Prefect handling is kept: no
   ``PREFECT_API_URL``, so ephemeral mode on the shared ``PREFECT_HOME``. Then
   ``--workers 1`` (sequential), ``--workers 8`` (threads), ``--dask tcp://...`` with a
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
ceiling however many there are. The concurrent builds' speed-ups are given against both today's
path (issue 10's target) and ``--workers 1`` (the new code, one article at a time). Figures
measured on 2026-11-29: ``benchmarks/results/corpus-and-warm.md``, with today's path:
``benchmarks/results/todays-path.md``.
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
from collections.abc import Callable, Iterator, Sequence
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
TODAY = "dc406e1"  # the last commit before the work on issues 8-13: the code issue 10 calls "today"


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

    def texts(self, number: int) -> tuple[str, str, str]:
        """Article ``number``'s id, Arabic and English: the same whenever made, distinct from every other one."""
        picker = random.Random(f"bench-corpus-{number}")
        lines = picker.sample(range(len(self.arabic)), picker.randint(10, 15))
        arabic = "\n".join(f"[{number}.{j}] {self.arabic[k]}" for j, k in enumerate(lines))
        english = "\n".join(f"[{number}.{j}] {self.english[k]}" for j, k in enumerate(lines))
        return f"a{number:06d}", arabic, english

    def article(self, number: int) -> dict[str, object]:
        """Article ``number`` as a manifest record."""
        identifier, arabic, english = self.texts(number)
        return {"id": identifier, "text": arabic, "references": [{"label": "en", "text": english}]}

    def manifest(self, path: Path, numbers: Sequence[int]) -> Path:
        with path.open("w", encoding="utf-8") as out:
            for number in numbers:
                out.write(json.dumps(self.article(number), ensure_ascii=False) + "\n")
        return path

    def files(self, folder: Path, numbers: Sequence[int]) -> list[Path]:
        """The articles as ``<id>.ar.txt`` with their references ``<id>.en.txt`` (today's path reads no manifest)."""
        folder.mkdir(parents=True, exist_ok=True)
        articles = []
        for number in numbers:
            identifier, arabic, english = self.texts(number)
            (folder / f"{identifier}.ar.txt").write_text(arabic + "\n", encoding="utf-8")
            (folder / f"{identifier}.en.txt").write_text(english + "\n", encoding="utf-8")
            articles.append(folder / f"{identifier}.ar.txt")
        return articles


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


def new_shards(folder: Path) -> Callable[[], set[str]]:
    """The articles built so far by a run: the shards it wrote (those there before it started left out)."""
    before = _shards(folder)
    return lambda: _shards(folder) - before


def finished_subflows(log: Path, run_name: str) -> Callable[[], set[str]]:
    """The articles built so far by today's path: its ``translate-article`` subflows the log says completed.

    That code writes nothing before the end of the run; each article's subflow logs
    ``Flow run '<article id>' - Finished in state Completed()``. The log is read from where the
    last call stopped (a 1,000-article log is megabytes).
    """
    finished = re.compile(r"Flow run '([^']+)' - Finished in state Completed\(\)")
    done: set[str] = set()
    offset = 0
    pending = b""

    def built() -> set[str]:
        nonlocal offset, pending
        try:
            with log.open("rb") as stream:
                stream.seek(offset)
                chunk = stream.read()
        except FileNotFoundError:
            return done
        offset += len(chunk)
        *lines, pending = (pending + chunk).split(b"\n")
        for line in lines:
            match = finished.search(line.decode("utf-8", "replace"))
            if match and match.group(1) != run_name:
                done.add(match.group(1))
        return done

    return built


def run_tarjama(
    label: str,
    args: Sequence[str],
    env: dict[str, str],
    out: Path,
    name: str,
    log: Path,
    command: Sequence[str] = (TARJAMA,),
    progress: Callable[[], set[str]] | None = None,
) -> Build:
    """Run ``COMMAND run ARGS -o OUT --name NAME``; time it, follow its memory and the articles it builds.

    ``progress`` names the articles built so far (default: the new shards in ``OUT/.shards``).
    """
    built = progress or new_shards(out / ".shards")
    seen: dict[str, float] = {}
    resident: list[tuple[float, int]] = []
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [*command, "run", *args, "-o", str(out), "--name", name], stdout=sink, stderr=subprocess.STDOUT, env=env
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
            for article in built() - seen.keys():
                seen[article] = now
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


# --- today's path: the code issue 10 was filed against --------------------------------------------


@contextmanager
def checked_out(commit: str) -> Iterator[Path]:
    """``commit`` in a temporary git worktree of this repository, removed afterwards."""
    parent = Path(tempfile.mkdtemp(prefix="bench-corpus-today-"))
    tree = parent / commit
    added = subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit], capture_output=True, text=True
    )
    if added.returncode != 0:
        shutil.rmtree(parent, ignore_errors=True)
        raise SystemExit(f"could not check out {commit} for today's path: {added.stderr.strip()}")
    try:
        yield tree
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)
        shutil.rmtree(parent, ignore_errors=True)


# that commit's ``tarjama`` entry point (``flows.cli:app``), run by this interpreter; -P keeps the current
# folder (this checkout, whose ``flows`` is the new code) off the path
TODAY_COMMAND = (sys.executable, "-P", "-c", "import sys; from flows.cli import app; sys.argv[0] = 'tarjama'; app()")


def today_environment(env: dict[str, str], tree: Path) -> dict[str, str]:
    """``env`` with the checked-out code first on the path, after checking that it is what Python imports."""
    env = env | {"PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree}"}
    where = subprocess.run(
        [sys.executable, "-P", "-c", "import flows.cli, tarjama; print(flows.cli.__file__); print(tarjama.__file__)"],
        capture_output=True,
        text=True,
        env=env,
    )
    modules = where.stdout.split()
    if where.returncode != 0 or len(modules) != 2 or not all(Path(m).is_relative_to(tree) for m in modules):
        raise SystemExit(f"today's path does not import the code of {tree}: {where.stdout}{where.stderr[-2000:]}")
    return env


def check_today(build: Build, out: Path, requests: int, answered: int) -> str:
    """Today's path really translated through the loopback server and wrote every article's rows: a line saying so."""
    import polars as pl

    rows = pl.read_parquet(out / "aligned.parquet", columns=["article_id", "english_mt"])
    articles = rows["article_id"].n_unique()
    translated = rows.filter(pl.col("english_mt").str.len_chars() > 0).height
    if answered < build.articles or articles != build.articles or not translated:
        raise SystemExit(
            f"today's path did not build through the loopback server: {answered} of {requests} requests answered, "
            f"{articles} of {build.articles} articles in {out / 'aligned.parquet'}"
        )
    return (
        f"today's path sent {requests} requests to the loopback {ENGINE} ({answered} answered) and wrote "
        f"{rows.height} rows ({translated} with a translation) of {articles} articles to {out / 'aligned.tsv'}"
    )


# --- the same work without Prefect ----------------------------------------------------------------


def direct(manifest: Path, url: str, count: int, folder: Path) -> dict[str, float]:
    """Build the first ``count`` articles of ``manifest`` by calling tarjama's functions in a loop.

    The work of one ``build_article`` task and of the driver's bookkeeping for it (memory lookup
    and store, the shard), without Prefect: what an article costs before any orchestration. The
    first article is left out of the timing (it loads the checks' language model).
    """
    import polars as pl

    from tarjama.alignment.regroup import align_article, item_translations, translation_texts
    from tarjama.corpus.build import alignment_config
    from tarjama.corpus.inputs import read_manifest
    from tarjama.corpus.schema import bead_rows, to_frame, write_parquet
    from tarjama.quality.checks import check_rows
    from tarjama.quality.score import scores_from_statistics
    from tarjama.settings import Settings
    from tarjama.translation.engines import create_engine
    from tarjama.translation.memory import TranslationMemory
    from tarjama.translation.translate import translate_sentences

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
                row_dicts, statistics = bead_rows(
                    document, translations, reference, alignment.beads, config.rows, metrics=None
                )
                if statistics is not None:
                    scores_from_statistics(statistics)
                frames.append(to_frame(row_dicts))
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
    parser.add_argument(
        "--baseline-articles", type=int, default=100, help="the first articles built by today's path (0: skip it)"
    )
    parser.add_argument("--baseline-commit", default=TODAY, help="the commit that is today's path")
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

        def record(key: str, result: Build) -> Build:
            builds[key] = result
            print(row(result, builds.get("seq"), builds.get("today")), flush=True)
            return result

        def build(key: str, label: str, home: str, source: Path, out: str, *extra: str) -> Build:
            env = environment(work / home, prefect_home, url)
            return record(
                key, run_tarjama(label, [str(source), *engine, *extra], env, work / out, key, logs / f"{key}.log")
            )

        warm_up = range(10**6, 10**6 + 2)
        build(
            "warm",
            "warm-up (migrates the Prefect DB)",
            "home-warm",
            pool.manifest(work / "warm-up.jsonl", warm_up),
            "out-warm",
        )
        today_check = None
        if options.baseline_articles:
            commit = options.baseline_commit
            with checked_out(commit) as tree:

                def today(key: str, label: str, articles: list[Path]) -> Build:
                    env = today_environment(environment(work / f"home-{key}", prefect_home, url), tree)
                    log = logs / f"{key}.log"
                    files = [str(article) for article in articles]
                    return run_tarjama(
                        label,
                        [*files, *engine],
                        env,
                        work / f"out-{key}",
                        key,
                        log,
                        TODAY_COMMAND,
                        finished_subflows(log, key),
                    )

                record(
                    "today-warm",
                    today("today-warm", "warm-up, today's path", pool.files(work / "today-warm-up", warm_up)),
                )
                asked, answered = len(services.requests(ENGINE)), services.answered(ENGINE)
                subset = pool.files(work / "today-articles", range(min(n, options.baseline_articles)))
                record("today", today("today", f"today's path, commit {commit}", subset))
                today_check = check_today(
                    builds["today"],
                    work / "out-today" / "today",
                    len(services.requests(ENGINE)) - asked,
                    services.answered(ENGINE) - answered,
                )
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
    summary(builds, plain, today_check)


HEADER = (
    f"{'build':36} {'articles':>8} {'wall s':>7} {'CPU s':>7} {'server':>6} {'flow s':>7} {'/min e2e':>8} {'/min bld':>8} "
    f"{'vs seq':>6} {'vs today':>8} {'driver MB':>9} {'bld MB':>7} {'server MB':>9} {'load':>9}"
)


def speedup(b: Build, base: Build | None, width: int) -> str:
    """``b``'s articles per minute while building over ``base``'s (blank when either is unknown)."""
    building = b.building_per_minute
    reference = base.building_per_minute if base else None
    return f"{building / reference:{width - 1}.1f}x" if building and reference else " " * width


def row(b: Build, sequential: Build | None, today: Build | None = None) -> str:
    return (
        f"{b.label:36} {b.articles:>8} {b.seconds:>7.1f} {b.cpu_s:>7.1f} {b.server_cpu_s:>6.1f} "
        f"{b.scores['wall_time_s']:>7.1f} {b.per_minute:>8.0f} {b.building_per_minute or 0:>8.0f} "
        f"{speedup(b, sequential, 6)} {speedup(b, today, 8)} {b.driver_mb:>9.0f} {b.building_mb:>7.0f} {b.server_mb:>9.0f} "
        f"{b.load[0]:>4.1f}-{b.load[1]:<4.1f}"
    )


def load_span(*runs: Build) -> str:
    """The 1-minute load average from the first run's start to the last run's end."""
    return f"{runs[0].load[0]:.1f}-{runs[-1].load[1]:.1f}"


def _in_brackets(parts: list[str]) -> str:
    return f" ({', '.join(parts)})" if parts else ""


def summary(builds: dict[str, Build], plain: dict[str, float], today_check: str | None = None) -> None:
    """Prefect's overhead per article in detail, then the issue's figures beside their targets, in one table.

    Speed-ups are against today's path (the issue's target) when it was built, and always against
    ``--workers 1``; end-to-end ratios against today's path favour it when it built fewer articles
    (its start-up is spread over fewer), so the building ratios are the ones to read.
    """
    sequential, noop, plus, today = builds["seq"], builds["noop"], builds["plus10"], builds.get("today")
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
    if today:
        # its warm-up run (2 articles) stands for its fixed costs, as the no-op rerun does above
        today_cpu = (today.cpu_s - builds["today-warm"].cpu_s) / max(1, today.articles - builds["today-warm"].articles)
        print(
            f"  {today.label}: {60 / (today.building_per_minute or today.per_minute):.3f} s per article while "
            f"building, its tasks' stages (timings_s) {today.work_s / today.articles:.3f} s; CPU per article "
            f"{today_cpu:.3f} s (less its warm-up run's), {today_cpu / cpu_per_article:.1f}x the sequential build's"
        )
    if today_check:
        print(f"  {today_check}")

    rows: list[tuple[str, str, str, str, str]] = []  # figure, measured, target, met, load average
    base = sequential.building_per_minute or sequential.per_minute
    today_base = (today.building_per_minute or today.per_minute) if today else None

    if today and today_base:
        rows.append(
            (
                f"articles/min, {today.label}",
                f"{today_base:.0f} building, {today.per_minute:.0f} end to end ({today.articles} articles)",
                "(the issue's baseline)",
                "",
                load_span(today),
            )
        )
    for key in ("seq", "thr", "dask"):
        if key not in builds:
            continue
        b = builds[key]
        rate = b.building_per_minute or b.per_minute
        building, end_to_end = [], []  # speed-ups while building and end to end
        if b is not sequential:
            building.append(f"{rate / base:.1f}x --workers 1")
            end_to_end.append(f"{b.per_minute / sequential.per_minute:.1f}x")
        if today and today_base:
            building.append(f"{rate / today_base:.1f}x today's path")
            end_to_end.append(f"{b.per_minute / today.per_minute:.1f}x")
        target, met = "", ""
        if b is sequential and not today_base:
            target = "(today's path)"
        elif b is not sequential:
            target = ">= 8x today's path" if today_base else ">= 8x sequential"
            met = "yes" if rate / (today_base or base) >= 8 else "no"
        rows.append(
            (
                f"articles/min, {b.label}",
                f"{rate:.0f} building{_in_brackets(building)}, {b.per_minute:.0f} end to end{_in_brackets(end_to_end)}",
                target,
                met,
                load_span(b),
            )
        )
    # what this machine allows at most: every core busy with the articles' CPU (driver and Prefect server)
    cores = os.cpu_count() or 1
    rows.append(
        (
            f"ceiling on {cores} cores",
            f"{cores * seconds_per_article / cpu_per_article:.1f}x --workers 1"
            + (f", {60 * cores / cpu_per_article / today_base:.1f}x today's path" if today_base else "")
            + f" ({cpu_per_article:.3f} CPU s and {seconds_per_article:.3f} s per article)",
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
