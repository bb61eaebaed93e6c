"""Prefect flows: one flow per article (a task per stage), and a run flow that writes the outputs.

Everything that decides *what* happens lives in ``tarjama``; this module only
adds orchestration: retries for transient translation failures, logging to
the run logger, progress and result artifacts, and the output directory,
which is built in a staging folder and renamed into place only when
complete, so a failed run leaves no half-written output (its translations
are already safe in the translation memory).
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

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

from flows.environment import tarjama_home
from tarjama.align import Bead, align, align_without_reference, bead_priors_for
from tarjama.article import Document, document_id, find_references, load_document
from tarjama.download import download_base_url, file_url
from tarjama.engines import Engine, create_engine
from tarjama.errors import TarjamaError
from tarjama.memory import TranslationMemory
from tarjama.parallel_corpus import bead_rows, to_frame, write_json, write_parquet, write_text, write_tsv
from tarjama.report import render_report
from tarjama.score import score_corpus
from tarjama.translate import Translation, translate_sentences

TABLE_ROWS = 50


def artifact_key(*parts: str) -> str:
    """Prefect artifact keys allow only lowercase letters, digits and dashes."""
    return re.sub(r"[^a-z0-9-]+", "-", "-".join(parts).lower()).strip("-")


def default_memory_path() -> Path:
    return tarjama_home() / "memory.sqlite"


@cache
def _engine(name: str, model_path: str | None, settings: tuple[tuple[str, str], ...] = ()) -> Engine:
    """One engine per process and configuration: loading a local model takes seconds and a gigabyte.

    ``settings`` (the ``TARJAMA_*`` environment: engine URLs, limits, ...) is
    part of the cache key. A web engine whose key is not in the environment
    gets it from its Prefect Secret block (``flows.limits.secret_options``).
    """
    from flows.limits import secret_options

    options: dict[str, Any] = {"model_path": model_path} if model_path else {}
    options |= secret_options(name)
    return create_engine(name, **options)


def _transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry network trouble and the like; never a problem the user must fix."""
    try:
        state.result()
    except TarjamaError:
        return False
    except Exception:
        return True
    return False


@task(cache_policy=NO_CACHE)
def read_document(path: str, lang: str, doc_id: str | None = None) -> Document:
    return load_document(Path(path), lang, doc_id)


@task(cache_policy=NO_CACHE)
def choose_engine(name: str, model_path: str | None) -> Engine:
    """Build (once per process) the engine; a web engine gets its Prefect rate limit (``flows.limits``)."""
    import os

    from flows.limits import attach_throttle

    settings = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("TARJAMA_")))
    engine = _engine(name, model_path, settings)
    throttle = attach_throttle(engine)
    get_run_logger().info("engine %s, model %s%s", engine.name, engine.model, f"; {throttle}" if throttle else "")
    return engine


@task(cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 10, 30], retry_condition_fn=_transient)
def translate(article: Document, engine: Engine, memory_path: str) -> list[Translation]:
    """Translate through the memory; a retry resumes after the last stored sentence."""
    logger = get_run_logger()
    progress_id = create_progress_artifact(
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

    stats_before = dict(getattr(engine, "stats", {}))
    with TranslationMemory(Path(memory_path)) as memory:
        translations = translate_sentences(article.texts, engine, memory, on_progress=report)
    reused = sum(t.from_memory for t in translations)
    logger.info(
        "%d sentences: %d from the translation memory, %d newly translated",
        len(translations),
        reused,
        len(translations) - reused,
    )
    if stats_before:  # a web engine: how many requests this article took
        spent = {k: v - stats_before.get(k, 0) for k, v in engine.stats.items()}  # type: ignore[attr-defined]
        logger.info(
            "engine %s: %d requests (%d retries, %d batches split after a wrong segment count)",
            engine.name,
            spent["requests"],
            spent["retries"],
            spent["split_batches"],
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
def score(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    scores = score_corpus([r["english_mt"] for r in rows], [r["english_reference"] for r in rows])
    return [s.as_dict() for s in scores]


def _article_run_name() -> str:
    return document_id(Path(flow_run.parameters["article"]))


def _run_name() -> str:
    """The run's name is also its output folder: given, or made from the time and first article."""
    return flow_run.parameters.get("run_name") or new_run_name(flow_run.parameters.get("articles") or [])


@flow(name="translate-article", flow_run_name=_article_run_name)
def translate_article(
    article: str,
    references: list[str],
    engine: str = "auto",
    model_path: str | None = None,
    memory_path: str | None = None,
) -> dict[str, Any]:
    """Split, translate, align and score one article; returns its rows and summary."""
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
    chosen = choose_engine(engine, model_path)
    lap("load_engine")
    translations = translate(source, chosen, memory_path or str(default_memory_path()))
    lap("translate")
    rows: list[dict[str, Any]] = []
    summaries = []
    for reference in refs or [None]:
        beads = align_to_reference(source, translations, reference)
        lap("align")
        reference_rows = bead_rows(source, translations, reference, beads)
        rows += reference_rows
        summary: dict[str, Any] = {
            "rows": len(reference_rows),
            "flagged": sum(1 for row in reference_rows if row["flagged"]),
        }
        if reference is not None:
            summary |= {
                "reference": reference_rows[0]["reference"],
                "path": str(reference.path),
                "reference_sentences": len(reference.sentences),
                "scores": score(reference_rows),
            }
            lap("score")
        summaries.append(summary)
    result = {
        "article_id": source.id,
        "path": str(source.path),
        "sentences": len(source.sentences),
        "engine": chosen.name,
        "model": chosen.model,
        "from_memory": sum(t.from_memory for t in translations),
        "references": summaries,
        "timings_s": timings,
        "rows": rows,
    }
    _publish_article(result)
    return result


def _publish_article(result: dict[str, Any]) -> None:
    """The article's report and first rows as artifacts, keyed by article so history accumulates."""
    summary = {k: v for k, v in result.items() if k != "rows"}
    create_markdown_artifact(
        render_report({"articles": [summary]}) + _counts_markdown(result["rows"], [result]),
        key=artifact_key(result["article_id"], "report"),
        description=f"tarjama report for {result['article_id']}",
    )
    first = [{k: v for k, v in row.items()} for row in result["rows"][:TABLE_ROWS]]
    create_table_artifact(
        first, key=artifact_key(result["article_id"], "rows"), description=f"First {TABLE_ROWS} aligned rows"
    )


def _counts_markdown(rows: list[dict[str, Any]], articles: list[dict[str, Any]]) -> str:
    """Sentences and aligned rows, and flagged rows when the aligner flags them (a ``flagged`` column)."""
    counts = [f"{sum(a['sentences'] for a in articles)} Arabic sentences", f"{len(rows)} aligned rows"]
    if rows and "flagged" in rows[0]:
        counts.append(f"{sum(1 for r in rows if r['flagged'])} flagged rows")
    return "\nCounts: " + ", ".join(counts) + "\n"


def _publish_outputs(summary: dict[str, Any], frame: pl.DataFrame, target: Path) -> None:
    """On the run's page: its report, first rows and links to the files that ``tarjama serve`` offers.

    The links are keyed by article (``<article>-aligned-tsv``, ``-aligned-parquet``) so each
    article's downloads accumulate on the Artifacts page; the run report and table are unkeyed
    (each article's keyed report and rows are on its ``translate-article`` run). The output folder
    is also recorded as the flow-run label ``tarjama.output`` for ``tarjama runs`` and ``download``.
    """
    base = download_base_url()
    links = {name: file_url(base, f"{target.name}/{name}") for name in ("aligned.tsv", "aligned.parquet")}
    for article in summary["articles"]:
        for name, url in links.items():
            create_link_artifact(
                url,
                link_text=f"{name} of run {summary['run']}",
                key=artifact_key(article["article_id"], name.replace(".", "-")),
                description=f"{name} of run {summary['run']}, served by tarjama serve (file: {target / name})",
            )
    rows = frame.to_dicts()
    header = [
        f"# tarjama run {summary['run']}",
        "",
        "Download: " + " · ".join(f"[{name}]({url})" for name, url in links.items()),
        "",
        f"Output folder: `{target.resolve()}`",
        _counts_markdown(rows, summary["articles"]),
    ]
    report = render_report(summary).split("\n", 1)[1]  # its own title is replaced by the header above
    create_markdown_artifact("\n".join(header) + report, description=f"tarjama run {summary['run']}")
    create_table_artifact(rows[:TABLE_ROWS], description=f"First {TABLE_ROWS} aligned rows of run {summary['run']}")
    try:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            client.update_flow_run_labels(flow_run.get_id(), {"tarjama.output": str(target.resolve())})
    except Exception as problem:  # the outputs are written; a missing label only slows `tarjama download`
        get_run_logger().warning("could not label the flow run with its output folder: %s", problem)


def _references_of(article: str, references: dict[str, list[str]] | None) -> list[str]:
    """The references given for ``article``; for an article not in the mapping (a run started
    from the UI with articles only), those found beside it by the naming convention."""
    if references and article in references:
        return references[article]
    return [str(path) for path in find_references(Path(article))]


def new_run_name(articles: Sequence[str]) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    first = document_id(Path(articles[0])) if articles else "run"
    more = f"-and-{len(articles) - 1}-more" if len(articles) > 1 else ""
    return f"{stamp}-{first}{more}"


@flow(name="tarjama-run", flow_run_name=_run_name)
def run(
    articles: list[str],
    references: dict[str, list[str]] | None = None,
    engine: str = "auto",
    out: str = "output",
    run_name: str = "",
    model_path: str | None = None,
    memory_path: str | None = None,
) -> dict[str, Any]:
    """Translate every article and write ``<out>/<run_name>/`` (aligned.tsv, .parquet, scores.json, report.md).

    ``references`` maps each article path to its reference paths; articles it does not
    name use the references found beside them (``<id>.en.txt``, ``<id>.en-<label>.txt``).
    """
    logger = get_run_logger()
    run_name = run_name or flow_run.get_name() or new_run_name(articles)
    started = time.perf_counter()
    results = [translate_article(a, _references_of(a, references), engine, model_path, memory_path) for a in articles]
    frame = to_frame([row for result in results for row in result["rows"]])
    summary = {
        "run": run_name,
        "flow_run_id": str(flow_run.get_id() or ""),
        "engine_requested": engine,
        "articles": [{k: v for k, v in r.items() if k != "rows"} for r in results],
        "overall": _overall_scores(results),
        "wall_time_s": round(time.perf_counter() - started, 3),
    }
    target = Path(out) / run_name
    _write_outputs(frame, summary, target)
    logger.info("wrote %s", target / "aligned.tsv")
    summary["output_dir"] = str(target)
    _publish_outputs(summary, frame, target)
    return summary


def _overall_scores(results: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Scores over all articles against each article's first reference (only for several articles)."""
    primary = [
        row
        for r in results
        for row in r["rows"]
        if r["references"][0].get("reference") and row["reference"] == r["references"][0]["reference"]
    ]
    if len(results) < 2 or not primary:
        return None
    return [
        s.as_dict() for s in score_corpus([r["english_mt"] for r in primary], [r["english_reference"] for r in primary])
    ]


def _write_outputs(frame: pl.DataFrame, summary: dict[str, Any], target: Path) -> None:
    """Write everything into a staging folder, then rename it into place in one step."""
    if target.exists():
        raise TarjamaError(f"{target}: output directory already exists")
    staging = target.with_name(f".{target.name}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        write_tsv(frame, staging / "aligned.tsv")
        write_parquet(frame, staging / "aligned.parquet")
        write_json(summary, staging / "scores.json")
        write_text(render_report(summary), staging / "report.md")
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    _point_latest(target)


def _point_latest(target: Path) -> None:
    """``<out>/latest`` → the newest run, replaced atomically."""
    link = target.parent / "latest"
    tmp = target.parent / ".latest.tmp"
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target.name)
    tmp.replace(link)
