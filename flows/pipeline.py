"""Prefect flows: one flow per article (a task per stage), and a run flow that writes the outputs.

Everything that decides *what* happens lives in ``tarjama``; this module only
adds orchestration: retries for transient translation failures, logging to
the run logger, progress and result artifacts, and the output directory,
which is built in a staging folder and renamed into place only when
complete, so a failed run leaves no half-written output (its translations
are already safe in the translation memory).
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Sequence
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
from prefect.runtime import flow_run

from tarjama.align import Bead, align, align_without_reference, bead_priors_for
from tarjama.article import Document, document_id, find_references, load_document
from tarjama.download import file_url, viewer_url
from tarjama.engines import Engine, create_engine
from tarjama.engines.transport import EngineUnavailable
from tarjama.flows.limits import attach_throttle, with_secret_blocks
from tarjama.memory import TranslationMemory
from tarjama.outputs import new_run_name, staged_run_folder
from tarjama.parallel_corpus import bead_rows, to_frame, write_json, write_parquet, write_text, write_tsv
from tarjama.report import render_article, render_report
from tarjama.results import ArticleResult, ReferenceResult, RunSummary
from tarjama.score import MetricScore, score_corpus
from tarjama.settings import Settings
from tarjama.translate import Translation, translate_sentences

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
            _ENGINES[key] = create_engine(name, **options)
        return _ENGINES[key]


def close_engines() -> None:
    """Close the engines built by this process's run: connections, and the local model's memory."""
    with _ENGINES_LOCK:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for engine in engines:
        engine.close()


def _transient(task: Any, task_run: Any, state: Any) -> bool:
    try:
        state.result()
    except TRANSIENT:
        return True
    except sqlite3.OperationalError as problem:  # another writer held the memory past its timeout
        return "locked" in str(problem)
    except Exception:
        return False
    return False


@task(cache_policy=NO_CACHE)
def read_document(path: str, lang: str, doc_id: str | None = None) -> Document:
    return load_document(Path(path), lang, doc_id)


@task(cache_policy=NO_CACHE)
def choose_engine(settings: Settings) -> Engine:
    """Build (once per process) the engine; a web engine gets its Prefect rate limit (``flows.limits``).

    Keys no variable set are read here from Prefect Secret blocks, on the machine that translates.
    """
    resolved = with_secret_blocks(settings, ["google"] if settings.engine == "auto" else [settings.engine])
    engine = _engine(settings.engine, resolved)
    throttle = attach_throttle(engine, settings)
    get_run_logger().info("engine %s, model %s%s", engine.name, engine.model, f"; {throttle}" if throttle else "")
    return engine


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 10, 30], retry_condition_fn=_transient)
def translate(article: Document, engine: Engine, memory_path: str) -> list[Translation]:
    """Translate through the memory; a retry resumes after the last stored sentence."""
    logger = get_run_logger()
    progress_id: UUID = create_progress_artifact(  # type: ignore[assignment]  # sync call: a UUID
        0.0, key=artifact_key(article.id, "progress"), description=f"Translating {article.id}"
    )
    last_update = 0.0

    def report(done: int, total: int) -> None:
        nonlocal last_update
        now = time.monotonic()
        if done == total or now - last_update >= 2.0:
            last_update = now
            update_progress_artifact(progress_id, 100.0 * done / total if total else 100.0)
            if total:
                logger.info("translated %d/%d new sentences", done, total)

    stats_before = engine.stats
    with TranslationMemory(Path(memory_path)) as memory:
        translations = translate_sentences(article.texts, engine, memory, on_progress=report)
    reused = sum(t.from_memory for t in translations)
    distinct = len({t for t, tr in zip(article.texts, translations) if not tr.from_memory})
    logger.info(
        "%d sentences: %d from the translation memory, %d newly translated (%d distinct sentences sent)",
        len(translations),
        reused,
        len(translations) - reused,
        distinct,
    )
    spent = engine.stats - stats_before
    if spent.requests:
        logger.info(
            "engine %s: %d requests (%d retries, %d batches split after a wrong segment count)",
            engine.name,
            spent.requests,
            spent.retries,
            spent.split_batches,
        )
    return translations


@task(cache_policy=NO_CACHE)
def align_to_reference(source: Document, translations: Sequence[Translation], reference: Document | None) -> list[Bead]:
    """MT-to-reference alignment; the Arabic sentences give the length prior (steadier than MT lengths)."""
    if reference is None:
        return align_without_reference(len(translations))
    priors = bead_priors_for(len(source.sentences), len(reference.sentences))
    return align([t.text for t in translations], reference.texts, source=source.texts, bead_priors=priors)


@task(cache_policy=NO_CACHE)
def score(frame: pl.DataFrame) -> list[MetricScore]:
    return score_corpus(frame["english_mt"].to_list(), frame["english_reference"].to_list())


def _article_run_name() -> str:
    return document_id(Path(flow_run.parameters["article"]))


def _run_name() -> str:
    """The run's name is also its output folder: given, or made from the time and first article."""
    return flow_run.parameters.get("run_name") or new_run_name(flow_run.parameters.get("articles") or [])


@flow(name="translate-article", flow_run_name=_article_run_name)
def translate_article(article: str, references: list[str], settings: Settings) -> tuple[ArticleResult, pl.DataFrame]:
    """Split, translate, align and score one article; returns its summary and rows."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(timings.get(stage, 0.0) + now - clock, 3)
        clock = now

    source = read_document(article, "ar")
    refs = [read_document(path, "en", source.id) for path in references]
    lap("read_and_split")
    chosen = choose_engine(settings)
    lap("load_engine")
    translations = translate(source, chosen, str(settings.memory_path))
    lap("translate")
    frames: list[pl.DataFrame] = []
    summaries = []
    every: list[Document | None] = [*refs] if refs else [None]
    for reference in every:
        beads = align_to_reference(source, translations, reference)
        lap("align")
        rows = to_frame(bead_rows(source, translations, reference, beads))
        frames.append(rows)
        summary = ReferenceResult(rows=rows.height, flagged=int(rows["flagged"].sum()))
        if reference is not None:
            summary = summary.model_copy(
                update={
                    "reference": rows["reference"][0],
                    "path": str(reference.path),
                    "reference_sentences": len(reference.sentences),
                    "scores": score(rows),
                }
            )
            lap("score")
        summaries.append(summary)
    result = ArticleResult(
        article_id=source.id,
        path=str(source.path),
        sentences=len(source.sentences),
        engine=chosen.name,
        model=chosen.model,
        from_memory=sum(t.from_memory for t in translations),
        references=summaries,
        timings_s=timings,
        engine_signature=chosen.signature(),
    )
    frame = pl.concat(frames)
    _publish_article(result, frame)
    return result, frame


def _publish_article(result: ArticleResult, frame: pl.DataFrame) -> None:
    """The article's report and first rows as artifacts, keyed by article so history accumulates."""
    create_markdown_artifact(
        render_article(result) + _counts_markdown(frame, [result]),
        key=artifact_key(result.article_id, "report"),
        description=f"tarjama report for {result.article_id}",
    )
    create_table_artifact(
        frame.head(TABLE_ROWS).to_dicts(),
        key=artifact_key(result.article_id, "rows"),
        description=f"First {TABLE_ROWS} aligned rows",
    )


def _counts_markdown(frame: pl.DataFrame, articles: Sequence[ArticleResult]) -> str:
    counts = [
        f"{sum(a.sentences for a in articles)} Arabic sentences",
        f"{frame.height} aligned rows",
        f"{int(frame['flagged'].sum())} flagged rows",
    ]
    return "\nCounts: " + ", ".join(counts) + "\n"


def _publish_outputs(summary: RunSummary, frame: pl.DataFrame, target: Path, settings: Settings) -> None:
    """On the run's page: its report, first rows and links to the files that ``tarjama serve`` offers.

    The links are keyed by article (``<article>-aligned-tsv``, ``-aligned-parquet``) so each
    article's downloads accumulate on the Artifacts page; the run report and table are unkeyed
    (each article's keyed report and rows are on its ``translate-article`` run). The output folder
    is also recorded as the flow-run label ``tarjama.output`` for ``tarjama runs`` and ``download``.
    """
    links = {
        name: file_url(settings.download_url, f"{target.name}/{name}") for name in ("aligned.tsv", "aligned.parquet")
    }
    for article in summary.articles:
        for name, url in links.items():
            create_link_artifact(
                url,
                link_text=f"{name} of run {summary.run}",
                key=artifact_key(article.article_id, name.replace(".", "-")),
                description=f"{name} of run {summary.run}, served by tarjama serve (file: {target / name})",
            )
    viewer = viewer_url(settings.download_url, target.name)
    header = [
        f"# tarjama run {summary.run}",
        "",
        "Download: " + " · ".join(f"[{name}]({url})" for name, url in links.items()),
        "",
        f"[View the corpus side by side]({viewer}) (Arabic | MT | reference, filters and search; needs `tarjama serve`)",
        "",
        f"Output folder: `{target.resolve()}`",
        _counts_markdown(frame, summary.articles),
    ]
    report = render_report(summary).split("\n", 1)[1]  # its own title is replaced by the header above
    create_markdown_artifact("\n".join(header) + report, description=f"tarjama run {summary.run}")
    create_table_artifact(
        frame.head(TABLE_ROWS).to_dicts(), description=f"First {TABLE_ROWS} aligned rows of run {summary.run}"
    )
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            client.update_flow_run_labels(UUID(flow_run.get_id()), {"tarjama.output": str(target.resolve())})
    except Exception as problem:  # the outputs are written; a missing label only slows `tarjama download`
        get_run_logger().warning("could not label the flow run with its output folder: %s", problem)


def _references_of(article: str, references: dict[str, list[str]] | None) -> list[str]:
    """The references given for ``article``; for an article not in the mapping (a run started
    from the UI with articles only), those found beside it by the naming convention."""
    if references and article in references:
        return references[article]
    return [str(path) for path in find_references(Path(article))]


@flow(name="tarjama-run", flow_run_name=_run_name)
def run(
    articles: list[str],
    settings: Settings,
    references: dict[str, list[str]] | None = None,
    out: str = "output",
    run_name: str = "",
) -> RunSummary:
    """Translate every article and write ``<out>/<run_name>/`` (aligned.tsv, .parquet, scores.json, report.md).

    ``references`` maps each article path to its reference paths; articles it does not
    name use the references found beside them (``<id>.en.txt``, ``<id>.en-<label>.txt``).
    """
    logger = get_run_logger()
    run_name = run_name or flow_run.get_name() or new_run_name(articles)
    started = time.perf_counter()
    try:
        outcomes = [translate_article(a, _references_of(a, references), settings) for a in articles]
    finally:
        close_engines()
    frame = pl.concat([rows for _, rows in outcomes]) if outcomes else to_frame([])
    results = [result for result, _ in outcomes]
    summary = RunSummary(
        run=run_name,
        flow_run_id=str(flow_run.get_id() or ""),
        engine_requested=settings.engine,
        articles=results,
        overall=_overall_scores(outcomes),
        wall_time_s=round(time.perf_counter() - started, 3),
    )
    target = Path(out) / run_name
    with staged_run_folder(Path(out), run_name) as staging:
        write_tsv(frame, staging / "aligned.tsv")
        write_parquet(frame, staging / "aligned.parquet")
        write_json(summary.model_dump(mode="json"), staging / "scores.json")
        write_text(render_report(summary), staging / "report.md")
    logger.info("wrote %s", target / "aligned.tsv")
    summary = summary.model_copy(update={"output_dir": str(target)})
    _publish_outputs(summary, frame, target, settings)
    return summary


def _overall_scores(outcomes: Sequence[tuple[ArticleResult, pl.DataFrame]]) -> list[MetricScore] | None:
    """Scores over all articles against each article's first reference (only for several articles)."""
    primary = [
        rows.filter(pl.col("reference") == result.references[0].reference)
        for result, rows in outcomes
        if result.references[0].reference is not None
    ]
    if len(outcomes) < 2 or not primary:
        return None
    return score(pl.concat(primary))
