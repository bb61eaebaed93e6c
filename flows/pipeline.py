"""Prefect flow: a corpus run whose tasks build articles (several a task), then the merged outputs.

The work is :mod:`tarjama.corpus.build`'s, which knows nothing of Prefect; this module only adds
orchestration: the build's log lines on the run logger, progress and result artifacts, retries
for transient translation failures, the task runner (threads or Dask), and the engines' Prefect
rate limits and Secret blocks.
"""

import asyncio
import queue
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import polars as pl
from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_progress_artifact,
    update_progress_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.exceptions import TerminationSignal
from prefect.runtime import flow_run, task_run
from prefect.utilities.annotations import quote

from tarjama.app.download import file_url, viewer_url
from tarjama.app.stopping import settle_after_signal
from tarjama.corpus import build
from tarjama.corpus.build import ArticleError, ArticleJob, ArticleOutcome, BatchHandle, CorpusRequest
from tarjama.corpus.outputs import new_run_name
from tarjama.corpus.readers import scan_parquet
from tarjama.corpus.report import md_table, md_text, render_report
from tarjama.corpus.results import RunSummary
from tarjama.errors import printable
from tarjama.flows.limits import attach_throttle, make_throttle, with_secret_blocks
from tarjama.settings import Settings, check_engine_reachable
from tarjama.text.article import document_id
from tarjama.translation.engines import Engine, get_spec
from tarjama.translation.stopping import Settled, resume_translating, settle, stop_translating, stopping_elsewhere

CORPUS_FILES = ("aligned.tsv", "aligned.parquet")  # linked from the run's page
TABLE_ROWS = 50
WAKE_S = 0.2  # how long a signal may wait for the flow's main thread to run its handler


def artifact_key(*parts: str) -> str:
    """Prefect artifact keys allow only lowercase letters, digits and dashes."""
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")


def _transient(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except Exception as problem:
        return build.retryable(problem)
    return False


class TaskEvents:
    """A task's build events: log lines on the run logger; a run of one article also moves its progress
    artifact with the article's sentences (a corpus run's artifact counts articles instead)."""

    def __init__(self, progress_artifact: UUID | None = None) -> None:
        self.progress_artifact = progress_artifact

    def start(self, total: int) -> None:
        return None

    def log(self, level: int, message: str) -> None:
        get_run_logger().log(level, "%s", printable(message))  # article ids in it come from file names

    def sentences(self, article_id: str, done: int, total: int) -> None:
        if self.progress_artifact is not None and total:
            update_progress_artifact(self.progress_artifact, 90.0 * done / total)

    def articles(self, done: int, total: int) -> None:
        return None


class FlowEvents(TaskEvents):
    """The flow's build events: one corpus-level progress artifact, keyed so a corpus keeps one history.

    The artifact is made when the first batch is submitted, or at the first progress if none is: a run
    whose articles are all reused makes it once, at 100 %, instead of at 0 % and again at the end."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.total = 0

    def start(self, total: int) -> None:
        self.total = total

    def artifact(self, percent: float = 0.0) -> UUID:
        """The progress artifact, made now at ``percent`` if it does not exist yet."""
        if self.progress_artifact is None:
            made: UUID = create_progress_artifact(  # type: ignore[assignment]  # sync call: a UUID
                percent, key=artifact_key(self.key, "progress"), description=f"Articles built, of {self.total}"
            )
            self.progress_artifact = made
        return self.progress_artifact

    def articles(self, done: int, total: int) -> None:
        percent = 100.0 * done / total if total else 100.0
        if self.progress_artifact is None:
            self.artifact(percent)
        else:
            update_progress_artifact(self.progress_artifact, percent)


def _batch_name() -> str:
    """A task is named by the articles it builds, as the Prefect UI lists it."""
    jobs: list[ArticleJob] = task_run.parameters.get("jobs") or []
    ids = [job.article.id for job in jobs]
    if not ids:
        return "build"
    return f"build {ids[0]}" + (f" and {len(ids) - 1} more" if len(ids) > 1 else "")


@task(
    cache_policy=NO_CACHE,
    retries=3,
    retry_delay_seconds=[2, 10, 30],
    retry_condition_fn=_transient,
    task_run_name=_batch_name,
)
def build_articles(
    jobs: list[ArticleJob], settings: Settings, progress_artifact: UUID | None = None
) -> list[ArticleOutcome | ArticleError]:
    """Build ``jobs`` (:func:`tarjama.corpus.build.build_batch`); a transient failure fails the task, whose
    retry finds every translation already paid for in the journals."""

    resume_translating(str(flow_run.get_id() or ""))  # a Dask worker that another run stopped works for this one

    def throttled(engine: Engine) -> object:
        return attach_throttle(engine, settings)

    return build.build_batch(jobs, settings, TaskEvents(progress_artifact), throttled)


class TaskRunner:
    """Batches as tasks of the flow's task runner (threads, or Dask with ``--dask``)."""

    def __init__(self, settings: Settings, events: FlowEvents) -> None:
        self.settings, self.events = settings, events

    def submit(self, jobs: list[ArticleJob]) -> BatchHandle:
        progress = self.events.artifact()
        return build_articles.submit(jobs, self.settings, progress if self.events.total == 1 else None)

    def as_completed(self, handles: Sequence[BatchHandle]) -> Iterator[BatchHandle]:
        """``handles`` as they finish, waited for in slices of :data:`WAKE_S`: in a process whose main thread
        runs the flow (a run ``tarjama serve`` started), a signal's handler runs only when that thread wakes,
        and a wait without a timeout (Prefect's ``as_completed``) held a Cancel back until the next batch
        finished, while its requests went on."""
        finished: queue.SimpleQueue[BatchHandle] = queue.SimpleQueue()
        for handle in handles:
            handle.add_done_callback(finished.put)  # type: ignore[attr-defined]  # the PrefectFutures of submit()
        for _ in handles:
            while True:
                try:
                    yield finished.get(timeout=WAKE_S)
                    break
                except queue.Empty:
                    continue


def _run_name() -> str:
    """The run's name is also its output folder: given, or made from the time and first article."""
    return flow_run.parameters.get("run_name") or new_run_name(flow_run.parameters.get("sources") or [])


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
    rebuild: bool = False,
) -> quote:
    """Build a parallel corpus from ``sources`` (files, folders, globs, manifests) into ``<out>/<run_name>/``
    (:func:`tarjama.corpus.build.build_corpus`).

    Articles already built with the same inputs and settings (``<out>/.shards``) are reused unless
    ``rebuild``; the others run as tasks on the flow's task runner, at most ``workers`` at a time on
    threads. A bad article fails alone, listed in ``scores.json``.

    The run's summary is returned quoted (``.unquote()`` it): Prefect walks a flow's return value for
    futures, and walking one that lists 5,000 articles took 2.3 s of a warm rerun.
    """
    logger = get_run_logger()
    requested = settings.engine
    request = CorpusRequest(
        sources=sources,
        references=references or [],
        out=Path(out),
        run_name=run_name or flow_run.get_name() or new_run_name(sources),
        formats=formats or build.DEFAULT_RUN_FORMATS,
        dedupe=dedupe,
        min_confidence=min_confidence,
        fail_fast=fail_fast,
        workers=workers,
        filter_checks=filter_checks or (),
        rebuild=rebuild,
        engine_requested=requested,
        run_id=str(flow_run.get_id() or ""),
    )
    build.check_request(request, settings)  # the deployment's run form too: before anything is paid for
    settings = build.resolve_engine(settings)
    settings = with_secret_blocks(settings, [settings.engine])
    if requested != "auto":  # auto probed; with a key from a Secret block DeepL's URL is known only now
        check_engine_reachable(settings.engine, settings)
    attach = attach_throttle_for(settings)
    logger.info(
        "engine %s, model %s%s", settings.engine, build.engine_model_of(settings), f"; {attach}" if attach else ""
    )
    logger.info("pipeline signature %s", build.pipeline_signature(settings).format())
    key = corpus_key(sources)
    events = FlowEvents(key)
    try:  # the engines close however the run ends (connections, a local model's memory)
        with workers_stopped_too(request.run_id):
            summary = build.build_corpus(request, settings, TaskRunner(settings, events), events)
    except (TerminationSignal, KeyboardInterrupt):
        # raised only where the flow runs on the main thread: a run of `tarjama serve` (a Cancel, serve stopped);
        # Prefect ends the run once the answers in flight are in (tarjama run stops on its own main thread)
        settle_after_signal(settings.stop_wait, logger.warning)
        raise
    finally:
        build.ENGINES.close()
    target = Path(summary.output_dir or out)
    first_rows = scan_parquet(target / "aligned.parquet").head(TABLE_ROWS).collect()
    _publish_outputs(summary, target, settings, key, first_rows)
    return quote(summary)  # nothing in it for Prefect to resolve


@contextmanager
def workers_stopped_too(run: str) -> Iterator[None]:
    """On Dask, a stop of this process (Ctrl-C on ``tarjama run``, a Cancel) also stops the run's translation
    calls on the workers, which never see this process's signal: no request starts there any more, and the
    answers in flight are waited for and stored in the workers' journals (:func:`_stop_worker`). Their stop
    names this run; a later run's tasks on the same workers lift it. On threads: nothing to do."""
    context = FlowRunContext.get()
    dask = context.task_runner if context is not None else None
    prefect_dask = sys.modules.get("prefect_dask")  # not imported (0.8 s): no Dask runner
    if prefect_dask is None or not isinstance(dask, prefect_dask.DaskTaskRunner):
        yield
        return

    def stop(timeout: float) -> Settled:
        answers: dict[str, Settled] = dask.client.run(_stop_worker, run, timeout)
        return sum(answers.values(), Settled(0, 0, 0))

    with stopping_elsewhere(stop):
        yield


async def _stop_worker(run: str, timeout: float) -> Settled:
    """On a Dask worker (``Client.run``, on its event loop): stop translating for ``run``, and wait up to
    ``timeout`` seconds, off the loop, for the calls under way to store their answers."""
    stop_translating(run)
    return await asyncio.to_thread(settle, timeout)


def attach_throttle_for(settings: Settings) -> str | None:
    """Create or update the engine's Prefect rate limit; the workers' engines take slots from it."""
    if get_spec(settings.engine).rate_limit is None:
        return None
    _throttle, description = make_throttle(settings.engine, settings)
    return description


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
    served = settings.download_url
    written = [name for name in CORPUS_FILES if name in summary.counts.files]  # -f jsonl writes no TSV
    links = {} if served is None else {name: file_url(served, f"{target.name}/{name}") for name in written}
    for name, url in links.items():
        create_link_artifact(
            url,
            link_text=f"{name} of run {printable(summary.run)}",
            key=artifact_key(key, name.replace(".", "-")),
            description=f"{name} of run {md_text(summary.run)}, served by tarjama serve (file: {md_text(target / name)})",
        )
    if served is None:  # a `tarjama serve` offers another folder: a link would lead nowhere, or to another run
        where = [
            "Download: not offered by the running `tarjama serve`, which serves another folder "
            f"(tarjama serve --out {md_text(target.parent.resolve())} would)",
            "",
        ]
    else:
        where = [
            "Download: " + " · ".join(f"[{name}]({url})" for name, url in links.items()),
            "",
            f"[View the corpus side by side]({viewer_url(served, target.name)}) (Arabic | MT | reference, filters "
            "and search; needs `tarjama serve`)",
            "",
        ]
    header = [
        f"# tarjama run {md_text(summary.run)}",
        "",
        *where,
        f"Output folder: {md_text(target.resolve())}",
        "",
        f"Counts: {sum(a.sentences for a in summary.articles)} Arabic sentences, {summary.counts.rows} aligned rows, "
        f"{summary.counts.flagged} flagged rows",
        "",
    ]

    def plot_url(path: str) -> str | None:  # the UI shows the plots `tarjama serve` offers, and names the others
        return None if served is None else file_url(served, f"{target.name}/{path}")

    report = render_report(summary, TABLE_ROWS, plot_url).split("\n", 1)[1]  # its title: the header above
    markdown = "\n".join(header) + report
    create_markdown_artifact(
        markdown, key=artifact_key(key, "report"), description=f"tarjama run {md_text(summary.run)}"
    )
    # Markdown tables, not table artifacts: the UI's second version shows a table's cells as plain text,
    # where the escapes that keep its first version safe read as `&quot;` and `\(` (see md_table)
    articles: list[dict[str, object]] = [
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
    articles += [{"article": f.article_id, "failed": f.reason} for f in summary.failures]
    create_markdown_artifact(
        md_table(articles), key=artifact_key(key, "articles"), description=f"Articles of run {md_text(summary.run)}"
    )
    first_rows = rows.select("article_id", "english_mt", "english_reference", "arabic", "alignment_confidence")
    create_markdown_artifact(
        md_table(first_rows.to_dicts()),
        key=artifact_key(key, "rows"),
        description=f"First {TABLE_ROWS} aligned rows of run {md_text(summary.run)}: MT beside reference",
    )
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            client.update_flow_run_labels(UUID(flow_run.get_id()), {"tarjama.output": str(target.resolve())})
    except Exception as problem:  # the outputs are written; a missing label only slows `tarjama download`
        get_run_logger().warning("could not label the flow run with its output folder: %s", problem)
