"""Prefect flow: a corpus run whose tasks build articles (several a task), then the merged outputs.

Everything that decides *what* happens lives in ``tarjama``; this module only
adds orchestration: retries for transient translation failures, logging to
the run logger, progress and result artifacts, and the output directory,
which is built in a staging folder and renamed into place only when
complete, so a failed run leaves no half-written output (its translations
are already safe in the translation memory).
"""

import hashlib
import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.futures import as_completed
from prefect.runtime import flow_run

import tarjama
from tarjama.align import AlignmentConfig
from tarjama.article import Document, document_id
from tarjama.checks import check_rows
from tarjama.corpus import ArticleInput, collect_articles
from tarjama.download import file_url, viewer_url
from tarjama.engines import Engine, create_engine, engine_signature, get_spec
from tarjama.engines.auto import choose
from tarjama.engines.transport import EngineUnavailable
from tarjama.errors import TarjamaError
from tarjama.export import export_corpus
from tarjama.flows.limits import attach_throttle, make_throttle, with_secret_blocks
from tarjama.memory import TranslationMemory, journal_path, merge_journals, read_journals
from tarjama.outputs import check_output_folder, check_run_name, new_run_name, staged_run_folder
from tarjama.parallel_corpus import bead_rows, to_frame, write_text
from tarjama.plots import plot_run
from tarjama.regroup import align_article, item_translations, translation_texts
from tarjama.report import render_html, render_report
from tarjama.results import ArticleFailure, ArticleResult, CorpusCounts, PlotRecord, ReferenceResult, RunSummary
from tarjama.score import MetricScore, Statistics, scores_from_statistics
from tarjama.settings import Settings
from tarjama.shards import ShardStore
from tarjama.translate import translate_missing

SHARDS = ".shards"
DEFAULT_RUN_FORMATS = ("tsv", "parquet")
progress_log = logging.getLogger("tarjama.progress")
TABLE_ROWS = 50
TRANSIENT = (EngineUnavailable, httpx.TransportError, ConnectionError, TimeoutError)
"""Failures a retry can cure: a service or network that may be back in a minute. Anything else (a
user's problem, a programming error, an unusable translation memory) fails at once."""


def artifact_key(*parts: str) -> str:
    """Prefect artifact keys allow only lowercase letters, digits and dashes."""
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")


_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _engine(name: str, settings: Settings) -> Engine:
    """One engine per run and configuration, shared by its articles: loading a local model takes
    seconds and a gigabyte. Keyed by everything that builds it, keys included (hashed)."""
    options = settings.engine_options(name)
    key = hashlib.sha256(json.dumps([name, options], sort_keys=True, default=str).encode()).hexdigest()
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            engine = create_engine(name, **options)
            attach_throttle(engine, settings)
            _ENGINES[key] = engine
        return _ENGINES[key]


def close_engines() -> None:
    """Close the engines built by this process's run: connections, and the local model's memory."""
    with _ENGINES_LOCK:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for engine in engines:
        engine.close()


def retryable(problem: BaseException) -> bool:
    """A failure a retry can cure: a service or network that may be back soon, or a memory another
    writer held past its timeout."""
    if isinstance(problem, sqlite3.OperationalError):
        return "locked" in str(problem)
    return isinstance(problem, TRANSIENT)


def _transient(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except Exception as problem:
        return retryable(problem)
    return False


@dataclass
class ArticleJob:
    """One article as the driver hands it to a worker: its texts, references, and the translations the
    memory already holds for it."""

    article: Document
    references: list[Document]
    known: dict[str, str]


@dataclass
class ArticleOutcome:
    """What a worker sends back: the summary, the rows, the translations it paid for, and the score
    statistics of the rows against the first reference (for the corpus's scores)."""

    result: ArticleResult
    rows: pl.DataFrame
    new_translations: list[tuple[str, str]]
    statistics: Statistics | None


@dataclass
class ArticleError:
    """An article that failed for a reason a retry cannot cure, in one line: it fails alone."""

    reason: str


MAX_ARTICLES_PER_TASK = 16


def articles_per_task(articles: int, workers: int) -> int:
    """How many articles one task builds. Prefect's cost per task (submission, state changes through its
    API server) is fixed and about that of a small article's work, so a task builds several; but at
    most a quarter of each worker's share, so every worker stays busy to the end."""
    return max(1, min(MAX_ARTICLES_PER_TASK, articles // (max(1, workers) * 4)))


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 10, 30], retry_condition_fn=_transient)
def build_articles(
    jobs: list[ArticleJob], settings: Settings, progress_artifact: UUID | None = None
) -> list[ArticleOutcome | ArticleError]:
    """Build ``jobs`` one after another (:func:`build_article`): one outcome or one error per article.

    An article's own failure is its error and the others go on; a transient one (a service down)
    fails the task, whose retry finds every translation already paid for in the journals.
    """
    outcomes: list[ArticleOutcome | ArticleError] = []
    for job in jobs:
        try:
            outcomes.append(build_article(job, settings, progress_artifact))
        except Exception as problem:
            if retryable(problem):
                raise
            outcomes.append(ArticleError(one_line(problem)))
    return outcomes


def build_article(job: ArticleJob, settings: Settings, progress_artifact: UUID | None = None) -> ArticleOutcome:
    """Translate what ``known`` lacks, align to each reference, score: one article's rows and summary.

    Runs wherever the task runner puts it (a thread, a Dask worker on another machine). Every new
    translation goes to this process's journal the moment it arrives, and back to the driver in
    the outcome, which stores it in the translation memory: workers never write the memory itself,
    so it needs no shared file system and no lock across machines. A retry, or a task re-run after
    its worker was killed, finds what was already paid for in the journals.
    """
    article, references, known = job.article, job.references, job.known
    logger = get_run_logger()
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(timings.get(stage, 0.0) + now - clock, 3)
        clock = now

    name, model = settings.engine, engine_model_of(settings)
    config = alignment_config(settings)
    texts = translation_texts(article, config.rows, settings.translate)
    what = "sentences" if texts == article.texts else "clause units"
    journals = settings.home / "journals"
    known = {**read_journals(journals, name, model, [s for s in texts if s not in known]), **known}
    new: list[tuple[str, str]] = []
    journal: list[TranslationMemory] = []

    def store(source: str, target: str) -> None:
        if not journal:
            journals.mkdir(parents=True, exist_ok=True)
            journal.append(TranslationMemory(journal_path(journals)))
        journal[0].store(name, model, source, target)
        new.append((source, target))

    last_update = 0.0

    def sentence_progress(done: int, total: int) -> None:
        """Log the article's sentences moving; a run of one article also moves its progress artifact
        (a corpus run's artifact counts articles instead)."""
        nonlocal last_update
        now = time.monotonic()
        if total and (done in (0, total) or now - last_update >= 2.0):
            last_update = now
            logger.info("%s: translated %d/%d new %s", article.id, done, total, what)
            if progress_artifact is not None:
                update_progress_artifact(progress_artifact, 90.0 * done / total)

    try:
        with _engine_turn(name):
            translated = translate_missing(
                texts, name, model, known, lambda: _engine(name, settings), store, sentence_progress
            )
    finally:
        if journal:
            journal[0].close()
    lap("translate")
    logger.info(
        "%s: %d %s, %d from the memory, %d distinct %s newly translated",
        article.id,
        len(translated),
        what,
        sum(t.from_memory for t in translated),
        len(new),
        what,
    )
    translations = item_translations(article, config.rows, settings.translate, translated)
    mt = [t.text for t in translations]
    frames: list[pl.DataFrame] = []
    summaries = []
    first_statistics: Statistics | None = None
    every: list[Document | None] = [*references] if references else [None]
    for reference in every:
        alignment = align_article(article, mt, reference.texts if reference else None, config)
        lap("align")
        row_dicts, statistics = bead_rows(article, translations, reference, alignment.beads, config.rows, metrics=None)
        rows = to_frame(row_dicts)
        frames.append(rows)
        summary = ReferenceResult(rows=rows.height, flagged=int(rows["flagged"].sum()))
        if reference is not None and statistics is not None:
            first_statistics = statistics if first_statistics is None else first_statistics
            scores = scores_from_statistics(statistics)
            summary = summary.model_copy(
                update={
                    "reference": rows["reference"][0],
                    "path": str(reference.path),
                    "reference_sentences": len(reference.sentences),
                    "scores": scores,
                }
            )
            lap("score")
        summaries.append(summary)
    frame, failed_counts = check_rows(pl.concat(frames), settings.checks)
    lap("check")
    result = ArticleResult(
        article_id=article.id,
        path=str(article.path),
        sentences=len(article.sentences),
        units=len(article.units),
        engine=name,
        model=model,
        translated_texts=len(translated),
        from_memory=sum(t.from_memory for t in translated),
        references=summaries,
        timings_s=timings,
        engine_signature=engine_signature_of(settings),
        checks_failed=failed_counts,
    )
    return ArticleOutcome(result, frame, new, first_statistics)


_TURNS: dict[str, threading.Lock] = {}


@contextmanager
def _engine_turn(name: str) -> Iterator[None]:
    """Articles translate one at a time through an engine that cannot decode two at once (a local
    model); web engines translate concurrently, their Prefect rate limit pacing the requests."""
    if get_spec(name).rate_limit is not None:
        yield
        return
    with _ENGINES_LOCK:
        lock = _TURNS.setdefault(name, threading.Lock())
    with lock:
        yield


def alignment_config(settings: Settings) -> AlignmentConfig:
    """The run's alignment configuration, the one `tarjama align --mt` uses too: its signature is in every output."""
    return AlignmentConfig(granularity=settings.rows)


def engine_signature_of(settings: Settings) -> dict[str, str]:
    """What shapes the run's engine's output (model, URL, batch limits), recorded with every article;
    cached per process: a web engine is built to learn it."""
    key = json.dumps([settings.engine, settings.engine_options(settings.engine)], sort_keys=True, default=str)
    with _ENGINES_LOCK:
        if key not in _SIGNATURES:
            _SIGNATURES[key] = engine_signature(settings.engine, settings.engine_options(settings.engine))
        return _SIGNATURES[key]


def engine_model_of(settings: Settings) -> str:
    return engine_signature_of(settings)["model"]


_SIGNATURES: dict[str, dict[str, str]] = {}


def _run_name() -> str:
    """The run's name is also its output folder: given, or made from the time and first article."""
    return flow_run.parameters.get("run_name") or new_run_name(flow_run.parameters.get("sources") or [])


def article_key(article: ArticleInput, settings: Settings, model: str) -> str:
    """What an article's rows depend on: its texts, the engine and model, the aligner and tarjama's version.

    A rerun finds an article with the same key already built and reuses its shard."""
    shaping = {
        "article": article.digest(),
        "engine": settings.engine,
        "model": model,
        "aligner": alignment_config(settings).signature().format(),
        "translate": str(settings.translate),
        "tarjama": tarjama.__version__,
    }
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:32]


@flow(name="tarjama-run", flow_run_name=_run_name)
def run(
    sources: list[str],
    settings: Settings,
    references: list[str] | None = None,
    out: str = "output",
    run_name: str = "",
    formats: list[str] | None = None,
    dedupe: bool = False,
    min_confidence: float | None = None,
    fail_fast: bool = False,
    workers: int = 4,
    filter_checks: list[str] | None = None,
) -> RunSummary:
    """Build a parallel corpus from ``sources`` (files, folders, globs, manifests) into ``<out>/<run_name>/``.

    Articles already built with the same inputs and settings (``<out>/.shards``) are reused; the
    others run as tasks on the flow's task runner (threads, or Dask with ``--dask``), at most
    ``workers`` at a time on threads. A bad article fails alone, listed in ``scores.json``.
    """
    logger = get_run_logger()
    if run_name:  # the deployment's run form takes it as --name does: checked before anything is paid for
        check_run_name(run_name)
    check_output_folder(Path(out))
    TranslationMemory.check(settings.memory_path)
    run_name = run_name or flow_run.get_name() or new_run_name(sources)
    started = time.perf_counter()
    if settings.engine == "auto":
        settings = settings.model_copy(update={"engine": choose(settings.engine_options("google"))})
    settings = with_secret_blocks(settings, [settings.engine])
    attach = attach_throttle_for(settings)
    model = engine_model_of(settings)
    logger.info("engine %s, model %s%s", settings.engine, model, f"; {attach}" if attach else "")
    inputs = collect_articles(sources, [Path(r) for r in references or []])
    shards = ShardStore(Path(out) / SHARDS)
    artifacts_key = corpus_key(sources)
    progress = CorpusProgress(len(inputs), logger, artifacts_key)
    results: dict[str, ArticleResult] = {}
    keys: dict[str, str] = {}
    failures: list[ArticleFailure] = []
    reused = 0
    try:  # the engines close however the run ends (connections, a local model's memory)
        with TranslationMemory(settings.memory_path) as memory:
            merge_journals(memory, settings.home / "journals")
            pending: dict[Any, list[tuple[ArticleInput, str]]] = {}
            per_task = articles_per_task(len(inputs), workers)
            batch: list[tuple[ArticleInput, str]] = []
            jobs: list[ArticleJob] = []

            def fail(article: ArticleInput, reason: str) -> None:
                failures.append(ArticleFailure(article_id=article.id, origin=article.origin, reason=reason))
                logger.error("article %s failed: %s", article.id, reason)
                progress.failed(article.id)
                if fail_fast:
                    raise TarjamaError(f"article {article.id} failed: {reason} (--fail-fast)")

            def settle(future: Any) -> None:
                built = pending.pop(future)
                try:
                    outcomes: list[ArticleOutcome | ArticleError] = future.result()
                except Exception as problem:  # the task failed as a whole: a fault its retries did not cure
                    outcomes = [ArticleError(one_line(problem))] * len(built)
                for (article, shard_key), outcome in zip(built, outcomes, strict=True):
                    if isinstance(outcome, ArticleError):
                        fail(article, outcome.reason)
                        continue
                    memory.store_many(settings.engine, model, outcome.new_translations)
                    shards.put(shard_key, outcome.rows, outcome.result, outcome.statistics)
                    results[article.id], keys[article.id] = outcome.result, shard_key
                    progress.done(outcome.result, len(outcome.new_translations))

            def submit() -> None:
                one = progress.artifact if len(inputs) == 1 else None
                pending[build_articles.submit(list(jobs), settings, one)] = list(batch)
                batch.clear()
                jobs.clear()
                while len(pending) >= max(1, workers) * 2:  # a window: the driver never holds the whole corpus
                    settle(next(as_completed(list(pending))))

            for article in inputs:
                try:  # an article built before is reused without being read and split again
                    shard_key: str | None = article_key(article, settings, model)
                except OSError:  # unreadable: article.load() below says why, in one line
                    shard_key = None
                cached = shards.get(shard_key) if shard_key else None
                if cached is not None and shard_key:
                    results[article.id], keys[article.id] = cached, shard_key
                    reused += 1
                    progress.done(cached, 0, reused=True)
                    continue
                try:
                    document, refs = article.load()
                    shard_key = shard_key or article_key(article, settings, model)
                except (TarjamaError, OSError) as problem:
                    fail(article, str(problem))
                    continue
                known = memory.lookup(
                    settings.engine, model, translation_texts(document, settings.rows, settings.translate)
                )
                batch.append((article, shard_key))
                jobs.append(ArticleJob(document, refs, known))
                if len(jobs) >= per_task:
                    submit()
            if jobs:
                submit()
            for future in as_completed(list(pending)):
                settle(future)
    finally:
        close_engines()
    ordered = [a.id for a in inputs if a.id in results]
    if not ordered:
        raise TarjamaError("no article could be built: " + "; ".join(f.reason for f in failures[:3]))
    summary = RunSummary(
        run=run_name,
        flow_run_id=str(flow_run.get_id() or ""),
        engine_requested=settings.engine,
        articles=[results[i] for i in ordered],
        failures=failures,
        alignment_signature=alignment_config(settings).signature().format(),
    )
    corpus = shards.scan([keys[i] for i in ordered])
    target = Path(out) / run_name
    with staged_run_folder(Path(out), run_name) as staging:
        exported = export_corpus(
            corpus,
            staging,
            list(dict.fromkeys([*(formats or DEFAULT_RUN_FORMATS), "parquet"])),  # the viewer reads the Parquet
            dedupe=dedupe,
            min_confidence=min_confidence,
            passing=filter_checks or (),
            provenance={
                "tarjama.alignment": summary.alignment_signature,
                "tarjama.engine": f"{settings.engine}|{model}",
            },
        )
        flagged = int(corpus.select(pl.col("flagged").sum()).collect().item())
        summary = summary.model_copy(
            update={
                "overall": _overall_scores(shards, keys, summary),
                "checks_failed": _total_failures(summary.articles),
                "plots": draw_plots(corpus, staging),
                "counts": CorpusCounts(
                    rows=exported.rows,
                    flagged=flagged,
                    reused_articles=reused,
                    duplicates_dropped=exported.dedupe.dropped if exported.dedupe else None,
                    min_confidence=min_confidence,
                    filtered_rows=exported.filtered_rows,
                    files=sorted(
                        p.name for paths in [*exported.files.values(), *exported.filtered_files.values()] for p in paths
                    ),
                ),
                "wall_time_s": round(time.perf_counter() - started, 3),
            }
        )
        # the same bytes as json.dumps(model_dump()), without a dict per field (~80 MB at 10,000 articles)
        write_text(summary.model_dump_json(indent=2) + "\n", staging / "scores.json")
        report = render_report(summary)
        write_text(report, staging / "report.md")
        write_text(render_html(report, f"tarjama run {run_name}"), staging / "report.html")
    logger.info("wrote %s (%d rows, %d articles, %d failed)", target, summary.counts.rows, len(ordered), len(failures))
    summary = summary.model_copy(update={"output_dir": str(target)})
    _publish_outputs(summary, target, settings, artifacts_key, corpus.head(TABLE_ROWS).collect())
    return summary


def draw_plots(corpus: pl.LazyFrame, folder: Path) -> list[PlotRecord]:
    """The run's plots in ``folder/plots``, counted over every row by polars' streaming engine (bounded memory)."""
    return [
        PlotRecord(path=plot.path.relative_to(folder).as_posix(), title=plot.title, warning=plot.warning)
        for plot in plot_run(corpus, folder / "plots")
    ]


def _total_failures(articles: Sequence[ArticleResult]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for article in articles:
        for name, count in article.checks_failed.items():
            totals[name] = totals.get(name, 0) + count
    return totals


def one_line(problem: BaseException) -> str:
    text = str(problem).strip().splitlines()
    return f"{type(problem).__name__}: {text[0] if text else ''}" if not isinstance(problem, TarjamaError) else text[0]


def attach_throttle_for(settings: Settings) -> str | None:
    """Create or update the engine's Prefect rate limit; the workers' engines take slots from it."""
    if get_spec(settings.engine).rate_limit is None:
        return None
    _throttle, description = make_throttle(settings.engine, settings)
    return description


def _overall_scores(shards: ShardStore, keys: dict[str, str], summary: RunSummary) -> list[MetricScore] | None:
    """Scores over all articles against each article's first reference (only for several articles):
    the articles' kept statistics stacked (a shard without them has its rows scored again)."""
    scored = [(keys[a.article_id], label) for a in summary.articles if (label := a.references[0].reference)]
    if len(summary.articles) < 2 or not scored:
        return None
    return scores_from_statistics(shards.corpus_statistics(scored))


class CorpusProgress:
    """Articles done of total, sentences translated, rate and ETA: one corpus-level Prefect progress
    artifact (updated at most every 2 s) and ``tarjama.progress`` log records the CLI shows live."""

    def __init__(self, total: int, logger: Any, key: str) -> None:
        self.total, self.logger = total, logger
        self.done_articles = self.failed_articles = self.reused = self.translated = 0
        self.started = self.last = time.monotonic()
        self.artifact: UUID = create_progress_artifact(  # type: ignore[assignment]  # sync call: a UUID
            0.0, key=artifact_key(key, "progress"), description=f"Articles built, of {total}"
        )

    def done(self, result: ArticleResult, translated: int, reused: bool = False) -> None:
        self.done_articles += 1
        self.reused += reused
        self.translated += translated
        self._report()

    def failed(self, article_id: str) -> None:
        self.failed_articles += 1
        self._report()

    def _report(self) -> None:
        finished = self.done_articles + self.failed_articles
        elapsed = time.monotonic() - self.started
        built = finished - self.reused
        rate = built / elapsed if elapsed > 0 else 0.0
        eta = (self.total - finished) / rate if rate > 0 else None
        progress_log.info(
            "%d/%d articles (%d reused, %d failed), %d sentences translated",
            finished,
            self.total,
            self.reused,
            self.failed_articles,
            self.translated,
            extra={
                "tarjama_progress": {
                    "done": finished,
                    "total": self.total,
                    "failed": self.failed_articles,
                    "translated": self.translated,
                    "rate": rate,
                    "eta": eta,
                }
            },
        )
        now = time.monotonic()
        if finished == self.total or now - self.last >= 2.0:
            self.last = now
            update_progress_artifact(self.artifact, 100.0 * finished / self.total if self.total else 100.0)


def corpus_key(sources: Sequence[str]) -> str:
    """What a run's artifacts are keyed by, so a corpus rebuilt again and again keeps one history:
    the article id for one article, else the folder's or manifest's name."""
    first = Path(sources[0]) if sources else Path("corpus")
    name = document_id(first) if first.name.endswith(".ar.txt") else first.stem or first.name
    return name + (f"-and-{len(sources) - 1}-more" if len(sources) > 1 else "")


def _publish_outputs(summary: RunSummary, target: Path, settings: Settings, key: str, rows: pl.DataFrame) -> None:
    """On the run's page: its report, a table of articles, the first rows, links to the files and the viewer.

    A few artifacts per run, whatever the number of articles, keyed by :func:`corpus_key` so the
    Artifacts page keeps one entry of each, with its history. The output folder is also recorded as
    the flow-run label ``tarjama.output`` for ``tarjama runs`` and ``download``.
    """
    links = {
        name: file_url(settings.download_url, f"{target.name}/{name}") for name in ("aligned.tsv", "aligned.parquet")
    }
    viewer = viewer_url(settings.download_url, target.name)
    for name, url in links.items():
        create_link_artifact(
            url,
            link_text=f"{name} of run {summary.run}",
            key=artifact_key(key, name.replace(".", "-")),
            description=f"{name} of run {summary.run}, served by tarjama serve (file: {target / name})",
        )
    header = [
        f"# tarjama run {summary.run}",
        "",
        "Download: " + " · ".join(f"[{name}]({url})" for name, url in links.items()),
        "",
        f"[View the corpus side by side]({viewer}) (Arabic | MT | reference, filters and search; needs `tarjama serve`)",
        "",
        f"Output folder: `{target.resolve()}`",
        "",
        f"Counts: {sum(a.sentences for a in summary.articles)} Arabic sentences, {summary.counts.rows} aligned rows, "
        f"{summary.counts.flagged} flagged rows",
        "",
    ]
    report = render_report(summary, TABLE_ROWS).split("\n", 1)[1]  # its title is replaced by the header above
    for plot in summary.plots:  # the UI shows the plots that `tarjama serve` offers
        report = report.replace(
            f"]({plot.path})", f"]({file_url(settings.download_url, f'{target.name}/{plot.path}')})"
        )
    markdown = "\n".join(header) + report
    # keyed (one history per corpus on the Artifacts page) and unkeyed (titled by its description on the run's page)
    for report_key in (artifact_key(key, "report"), None):
        create_markdown_artifact(markdown, key=report_key, description=f"tarjama run {summary.run}")
    create_table_artifact(
        [
            {
                "article": a.article_id,
                "sentences": a.sentences,
                "rows": sum(r.rows for r in a.references),
                "flagged": sum(r.flagged for r in a.references),
                "BLEU": a.references[0].score("BLEU"),
                "chrF": a.references[0].score("chrF"),
            }
            for a in summary.articles
        ]
        + [{"article": f.article_id, "failed": f.reason} for f in summary.failures],
        key=artifact_key(key, "articles"),
        description=f"Articles of run {summary.run}",
    )
    first_rows = rows.select("article_id", "english_mt", "english_reference", "arabic", "alignment_confidence")
    for rows_key in (artifact_key(key, "rows"), None):
        create_table_artifact(
            first_rows.to_dicts(),
            key=rows_key,
            description=f"First {TABLE_ROWS} aligned rows of run {summary.run}: MT beside reference",
        )
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            client.update_flow_run_labels(UUID(flow_run.get_id()), {"tarjama.output": str(target.resolve())})
    except Exception as problem:  # the outputs are written; a missing label only slows `tarjama download`
        get_run_logger().warning("could not label the flow run with its output folder: %s", problem)
