"""The ``tarjama`` command line: a thin layer that builds the settings, checks inputs, and calls the library.

Everything a user can get wrong (a file, an engine name, a URL, the output folder, the translation
memory, a run name) is checked before Prefect or a model starts, so a mistake fails in a fraction
of a second with one line and exit status 2, and nothing is written. Heavy imports (Prefect,
polars, the engines) happen inside the commands, so ``tarjama --help`` answers at once.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console

from tarjama.errors import TarjamaError

if TYPE_CHECKING:
    from rich.table import Table

    from tarjama.results import RunSummary
    from tarjama.runs import RunInfo
    from tarjama.settings import Settings

EXIT_USAGE = 2  # bad input or set-up: one line, nothing written
EXIT_FAILED = 1  # the work itself failed (a service down after every retry, a server that would not start)
EXIT_INTERRUPTED = 130  # Ctrl-C: what was translated is kept
MAX_SUMMARY_ARTICLES = 20
RUN_ID_PREFIX = 8  # characters of a flow-run id `tarjama runs` shows

app = typer.Typer(
    help="Arabic→English translation and bilingual alignment, orchestrated by Prefect.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
model_app = typer.Typer(help="The offline model used by the local engine.", no_args_is_help=True)
app.add_typer(model_app, name="model")
console = Console()
errors = Console(stderr=True)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    errors.print(f"tarjama: error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def say(line: str) -> None:
    console.print(line, markup=False, highlight=False, soft_wrap=True)


def _version(value: bool) -> None:
    if value:
        say(f"tarjama {version('tarjama')}")
        raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Arabic→English translation and bilingual alignment, orchestrated by Prefect."""


# --- shared options --------------------------------------------------------------------------

OutOption = Annotated[
    Path, typer.Option("--out", "-o", metavar="PATH", help="Output folder; each run writes <out>/<run>/.")
]
EngineOption = Annotated[
    str, typer.Option("--engine", "-e", metavar="NAME", help="auto, google, local, ... (see `tarjama engines`).")
]
RowsOption = Annotated[
    str | None,
    typer.Option(
        "--rows",
        metavar="units|sentences",
        help="What a row's Arabic is made of: clause units regrouped to follow the reference's sentences (default), "
        "or whole Arabic sentences. Also TARJAMA_ROWS.",
    ),
]
MemoryOption = Annotated[
    Path | None,
    typer.Option(
        "--memory",
        metavar="FILE",
        help="Translation memory (SQLite file). Default: <home>/memory.sqlite (`tarjama config` shows where).",
    ),
]


def load_settings(**flags: object) -> Settings:
    from tarjama.settings import Settings

    return Settings.load(**flags)  # type: ignore[arg-type]


# --- run -------------------------------------------------------------------------------------


EXIT_SOME_FAILED = 3  # the corpus was built, but some articles failed (listed in scores.json and the report)


@app.command()
def run(
    sources: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH...",
            help="Arabic articles (<id>.ar.txt, UTF-8, one paragraph per line), folders (every *.ar.txt below), "
            "globs, or manifests (.jsonl or .parquet, one article per record).",
            show_default=False,
        ),
    ],
    reference: Annotated[
        list[Path] | None,
        typer.Option(
            "--reference",
            "-r",
            metavar="FILE",
            help="English reference file (repeatable). Default: <id>.en*.txt beside each article.",
        ),
    ] = None,
    engine: EngineOption = "auto",
    out: OutOption = Path("output"),
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            metavar="FILE.gguf",
            help="GGUF model for the local engine (default: Qwen2.5-Coder-1.5B-Instruct Q4_K_M).",
        ),
    ] = None,
    memory: MemoryOption = None,
    name: Annotated[
        str,
        typer.Option(
            "--name", metavar="NAME", help="Run name (the output sub-folder). Default: time, first id, random suffix."
        ),
    ] = "",
    engine_url: Annotated[
        str,
        typer.Option(
            "--engine-url",
            metavar="URL",
            help="Base URL of the web engine's service: a LibreTranslate server, an Ollama/llama.cpp/vLLM server "
            "for openai-compat, ...",
        ),
    ] = "",
    engine_model: Annotated[
        str, typer.Option("--engine-model", metavar="MODEL", help="Model name for chatgpt or openai-compat.")
    ] = "",
    rate_limit: Annotated[
        float | None,
        typer.Option(
            "--rate-limit",
            metavar="PER_SECOND",
            help="Requests per second for the web engine, enforced by the Prefect global concurrency limit "
            "tarjama-engine-<engine>; 0 turns it off. Default: per engine (see `tarjama engines`).",
        ),
    ] = None,
    formats: Annotated[
        list[str] | None,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMAT",
            help="Output format (repeatable): tsv, parquet, jsonl, moses, tmx. Default: tsv and parquet.",
        ),
    ] = None,
    dedupe: Annotated[
        bool, typer.Option("--dedupe", help="Drop exact duplicate (Arabic, English) pairs across articles.")
    ] = False,
    min_confidence: Annotated[
        float | None,
        typer.Option(
            "--min-confidence",
            metavar="X",
            help="Also write a corpus of the rows aligned with at least this confidence (0-1), beside the full one.",
        ),
    ] = None,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Stop at the first article that fails (default: build the rest).")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", "-j", metavar="N", min=1, help="Articles processed at once on this machine.")
    ] = 4,
    checks: Annotated[
        str | None,
        typer.Option(
            "--checks",
            metavar="NAMES",
            help="Reference-free checks to run, comma-separated (numbers, arabic-script, language, length-ratio, "
            "repetition, latin-names), or `none`. Default: all.",
        ),
    ] = None,
    filter_checks: Annotated[
        str,
        typer.Option(
            "--filter-checks",
            metavar="NAMES",
            help="Also write a filtered corpus without the rows failing these checks (comma-separated).",
        ),
    ] = "",
    rows: RowsOption = None,
    translate: Annotated[
        str | None,
        typer.Option(
            "--translate",
            metavar="units|sentences",
            help="With rows of units: translate each clause unit alone (default: best chrF in our measurements), "
            "or each sentence whole and cut its MT among its units. Also TARJAMA_TRANSLATE.",
        ),
    ] = None,
    dask: Annotated[
        str,
        typer.Option(
            "--dask",
            metavar="ADDRESS",
            help="Run the per-article work on a Dask cluster: a scheduler address (tcp://host:8786), or `local` "
            "for a LocalCluster of 2 worker processes sharing --workers threads.",
        ),
    ] = "",
) -> None:
    """Build a parallel corpus from PATHs: split, translate, align, score; write aligned.tsv and .parquet,
    scores.json and report.md (and the --format files) into <out>/<run>/.

    Articles already built by an earlier run with the same inputs and settings are reused. Exit status:
    0 all built, 3 some articles failed (the rest is built; see scores.json), 2 bad input, 1 the run failed.
    """
    try:
        settings = load_settings(  # first: a misspelt engine or variable answers before polars and numpy load
            engine=engine,
            engine_url=engine_url,
            engine_model=engine_model,
            model=model,
            memory=memory,
            rate_limit=rate_limit,
            checks=checks,
            rows=rows,
            translate=translate,
        )
        from tarjama.article import load_document
        from tarjama.checks import create_check
        from tarjama.corpus import collect_articles
        from tarjama.export import check_formats
        from tarjama.memory import TranslationMemory
        from tarjama.outputs import check_output_folder, check_run_name, new_run_name
        from tarjama.parallel_corpus import check_confidence

        filtering = [name.strip() for name in filter_checks.split(",") if name.strip()]
        for check_name in filtering:
            create_check(check_name)
        chosen_formats = check_formats(formats or ["tsv", "parquet"])
        if min_confidence is not None:
            check_confidence(min_confidence)
        run_name = check_run_name(name) if name else new_run_name(sources)
        # a file named on the command line must be right: check it now (the list is not kept: the
        # flow reads the sources again, and a manifest's texts would be held twice through the run)
        total = 0  # the progress bar's, known before the run starts
        for article in collect_articles(sources, reference or []):
            total += 1
            if str(article.source.origin) in sources and article.source.is_file:
                load_document(article.source.origin, "ar")
                for ref in article.references:
                    load_document(ref.source.origin, "en")
        check_output_folder(out)
        if (out / run_name).exists():
            raise TarjamaError(f"{out / run_name}: output directory already exists")
        TranslationMemory.check(settings.memory_path)
        runner = task_runner(dask, workers)
    except TarjamaError as problem:
        fail(str(problem))

    from tarjama.stopping import Stopped, call_until_signalled, exit_now

    try:
        with prefect_flow(settings, total) as run_flow:
            flow = run_flow.with_options(task_runner=runner())
            try:
                summary = call_until_signalled(
                    lambda: flow(
                        sources,
                        settings,
                        [str(r) for r in reference or []],
                        out=str(out),
                        run_name=run_name,
                        formats=list(chosen_formats),
                        dedupe=dedupe,
                        min_confidence=min_confidence,
                        fail_fast=fail_fast,
                        workers=workers,
                        filter_checks=filtering,
                    )
                )
            except (Stopped, KeyboardInterrupt) as stop:
                from tarjama.runs import mark_stopped

                mark_stopped(run_name, f"stopped by {stop if isinstance(stop, Stopped) else 'SIGINT'}")
                raise
    except TarjamaError as problem:
        fail(str(problem), EXIT_FAILED)
    except (Stopped, KeyboardInterrupt) as stop:
        errors.print(
            f"tarjama: error: interrupted: every sentence translated so far is kept in {settings.memory_path}, "
            "and every article built is kept for the next run; no output was written; run the same command "
            "again to resume",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        exit_now(stop.exit_status if isinstance(stop, Stopped) else EXIT_INTERRUPTED)
    print_summary(summary)
    if summary.failures:
        raise typer.Exit(EXIT_SOME_FAILED)


@contextmanager
def prefect_flow(settings: Settings, total: int) -> Iterator[Any]:
    """The run's flow, talking to its Prefect API, under the progress bar and the interrupt filter.

    The flow is imported before the bar starts: the import sets up Prefect's log handlers, which the
    bar then routes through itself."""
    from tarjama.flows.environment import configure_prefect, prefect_api_for_command

    configure_prefect(settings.home)  # before Prefect is imported: it reads its settings when it loads
    with prefect_api_for_command(settings.home, settings.prefect_server_idle):
        from tarjama.flows.pipeline import run as run_flow

        with live_progress(total), quiet_interrupts():
            yield run_flow


LOCAL_DASK_PROCESSES = 2


def task_runner(dask: str, workers: int) -> Callable[[], Any]:
    """The task runner the options ask for, built later (once Prefect may be imported): threads, or Dask."""
    if not dask:

        def threads() -> Any:
            from prefect.task_runners import ThreadPoolTaskRunner

            return ThreadPoolTaskRunner(max_workers=workers)

        return threads
    if dask != "local" and not dask.startswith(("tcp://", "tls://", "ucx://", "inproc://")) and ":" not in dask:
        raise TarjamaError(f"--dask {dask!r}: a scheduler address such as tcp://127.0.0.1:8786, or `local`")

    def on_dask() -> Any:
        from prefect_dask import DaskTaskRunner

        if dask == "local":
            # two processes use both cores of a small machine; threads keep --workers articles in flight
            threads = max(1, workers // LOCAL_DASK_PROCESSES)
            return DaskTaskRunner(
                cluster_kwargs={"n_workers": LOCAL_DASK_PROCESSES, "threads_per_worker": threads, "processes": True}
            )
        return DaskTaskRunner(address=dask if "://" in dask else f"tcp://{dask}")

    return on_dask


@contextmanager
def quiet_interrupts() -> Iterator[None]:
    """Ctrl-C loses nothing, so it deserves one line (ours), not a "Crash detected!" error per flow and task."""
    import logging

    class Interrupted(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            message = record.getMessage()
            return not (message.startswith("Crash detected!") and "interrupt" in message)

    quiet = Interrupted()
    loggers = [logging.getLogger(name) for name in ("prefect.flow_runs", "prefect.task_runs")]
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)


@contextmanager
def live_progress(total: int | None = None) -> Iterator[None]:
    """Articles done of ``total``, sentences translated, rate and ETA, live on a terminal (rich), with
    log lines printed above it (:func:`log_lines_above`)."""
    if not errors.is_terminal:
        yield
        return
    import logging

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    progress = Progress(
        TextColumn("articles"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=errors,
        transient=True,
    )
    task_id = progress.add_task("articles", total=total, detail="")

    class Sink(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            state = getattr(record, "tarjama_progress", None)
            if not state:
                return
            eta = f", ETA {state['eta']:.0f} s" if state.get("eta") else ""
            detail = f"{state['translated']} sentences translated, {state['rate'] * 60:.1f} articles/min{eta}"
            if state["failed"]:
                detail += f", {state['failed']} failed"
            progress.update(task_id, completed=state["done"], total=state["total"], detail=detail)

    sink = Sink()
    logger = logging.getLogger("tarjama.progress")
    level = logger.level
    logger.setLevel(logging.INFO)  # its records are INFO: under the root's default WARNING none would reach the sink
    logger.addHandler(sink)
    try:
        with progress, log_lines_above(progress.console):
            yield
    finally:
        logger.removeHandler(sink)
        logger.setLevel(level)


@contextmanager
def log_lines_above(screen: Console) -> Iterator[None]:
    """Log lines that handlers write to the terminal go through ``screen``, which prints them above its
    live bar: written straight to the terminal (as Prefect's console handler does, whose rich console
    bypasses rich's own redirection), they were glued onto the bar's line (``0:00:0303:31:47 | INFO``)."""
    import logging

    class ThroughConsole(logging.Filter):
        def __init__(self, handler: logging.Handler) -> None:
            super().__init__()
            self.handler = handler

        def filter(self, record: logging.LogRecord) -> bool:
            line = self.handler.format(record)
            screen.print(line, markup=False, highlight=False, soft_wrap=True, emoji=False)
            return False  # the handler itself writes nothing

    loggers = [
        logging.getLogger(),
        *(v for v in logging.root.manager.loggerDict.values() if isinstance(v, logging.Logger)),
    ]
    terminal = {sys.stderr.fileno(), sys.stdout.fileno()} if hasattr(sys.stderr, "fileno") else set()
    added: list[tuple[logging.Handler, logging.Filter]] = []
    for handler in {h for logger in loggers for h in logger.handlers}:
        stream = getattr(handler, "stream", None)
        try:
            to_terminal = stream is not None and stream.fileno() in terminal
        except (OSError, ValueError, AttributeError):
            to_terminal = False
        if to_terminal:
            added.append((handler, ThroughConsole(handler)))
            handler.addFilter(added[-1][1])
    try:
        yield
    finally:
        for handler, through in added:
            handler.removeFilter(through)


def print_summary(summary: RunSummary) -> None:
    from rich.table import Table

    shown = summary.articles[:MAX_SUMMARY_ARTICLES]
    table = Table(title=f"tarjama run {summary.run}")
    numeric = {"sentences", "rows", "BLEU", "chrF", "TER"}
    for column in ("article", "engine", "sentences", "reference", "rows", "BLEU", "chrF", "TER"):
        table.add_column(column, justify="right" if column in numeric else "left")
    for article in shown:
        for ref in article.references:
            scores = {s.metric: f"{s.score:.2f}" for s in ref.scores}
            table.add_row(
                article.article_id,
                article.engine,
                str(article.sentences),
                ref.reference or "-",
                str(ref.rows),
                scores.get("BLEU", "-"),
                scores.get("chrF", "-"),
                scores.get("TER", "-"),
            )
    if summary.overall:
        scores = {s.metric: f"{s.score:.2f}" for s in summary.overall}
        table.add_row(
            f"all {len(summary.articles)} articles",
            "",
            str(sum(a.sentences for a in summary.articles)),
            "first",
            str(summary.counts.rows),
            scores.get("BLEU", "-"),
            scores.get("chrF", "-"),
            scores.get("TER", "-"),
        )
    console.print(table)
    if len(summary.articles) > len(shown):
        say(f"... and {len(summary.articles) - len(shown)} more articles (report.md has them all)")
    counts = summary.counts
    say(
        f"{len(summary.articles)} articles ({counts.reused_articles} reused from earlier runs), {counts.rows} rows, "
        f"{counts.flagged} flagged"
        + (f", {counts.duplicates_dropped} duplicates dropped" if counts.duplicates_dropped else "")
    )
    for failure in summary.failures:
        errors.print(
            f"tarjama: article {failure.article_id} failed: {failure.reason}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    say(f"aligned TSV: {Path(summary.output_dir or '.') / 'aligned.tsv'}")


# --- align -----------------------------------------------------------------------------------


@app.command()
def align(
    arabic: Annotated[Path, typer.Argument(metavar="ARABIC", help="Arabic text (UTF-8, one paragraph per line).")],
    english: Annotated[
        Path, typer.Argument(metavar="ENGLISH", help="English translation of it (UTF-8, one paragraph per line).")
    ],
    mt: Annotated[
        Path | None,
        typer.Option(
            "--mt",
            metavar="FILE",
            help="Machine translation of ARABIC: exactly one line per Arabic sentence (as tarjama splits it; blank "
            "lines ignored). Without it, sentences are aligned by length (Gale-Church).",
        ),
    ] = None,
    out: Annotated[
        Path,
        typer.Option("--out", "-o", metavar="PATH", help="TSV to write (same columns as `tarjama run`'s aligned.tsv)."),
    ] = Path("aligned.tsv"),
    rows: RowsOption = None,
) -> None:
    """Align given files without translating: ARABIC to ENGLISH, through --mt if given, else by sentence length.

    No engine and no Prefect: pure and fast. Rows below the confidence threshold are flagged, never dropped.
    """
    from tarjama.align import AlignmentConfig, align_translation
    from tarjama.article import UnitTranslation, load_document, read_utf8
    from tarjama.parallel_corpus import bead_rows, to_frame, write_tsv
    from tarjama.regroup import align_article, item_translations
    from tarjama.translate import Translation

    try:
        granularity = load_settings(rows=rows).rows
        source = load_document(arabic, "ar")
        reference = load_document(english, "en", source.id)
        lines: list[str] = []
        if mt is not None:
            lines = [line.strip() for line in read_utf8(mt).splitlines() if line.strip()]
            if len(lines) != len(source.sentences):
                raise TarjamaError(
                    f"{mt}: {len(lines)} MT lines, but {arabic} splits into {len(source.sentences)} Arabic sentences "
                    "(give one line per Arabic sentence; `tarjama align` without --mt lists them in its arabic column)"
                )
        if out.is_dir():
            raise TarjamaError(f"{out}: output path is a directory, expected a TSV file name")
        check_output_parent(out)
    except TarjamaError as problem:
        fail(str(problem))
    if mt is not None:  # the configuration `tarjama run` uses; each unit's MT cut from its sentence's line
        config = AlignmentConfig(granularity=granularity)
        per_sentence = [Translation(line, "mt-file", mt.name, False) for line in lines]
        translations = item_translations(source, config.rows, UnitTranslation.SENTENCES, per_sentence)
        alignment = align_article(source, [t.text for t in translations], reference.texts, config)
    else:
        config = AlignmentConfig(aligner="gale-church")
        translations = [Translation("", "none", "gale-church", False) for _ in source.sentences]
        alignment = align_translation(source.texts, None, reference.texts, config)
    frame = to_frame(bead_rows(source, translations, reference, alignment.beads, config.rows)[0])
    if mt is not None:  # the same reference-free checks as a run's rows
        from tarjama.checks import check_rows

        frame, _ = check_rows(frame)
    if mt is None:  # no MT: nothing to score
        import polars as pl

        frame = frame.with_columns(sentence_chrf=pl.lit(None, pl.Float64), sentence_bleu=pl.lit(None, pl.Float64))
    try:
        write_tsv(frame, out)
    except TarjamaError as problem:
        fail(str(problem))
    flagged = int(frame["flagged"].sum())
    method = f"through MT {mt}" if mt is not None else "by length (Gale-Church)"
    say(
        f"{len(source.sentences)} Arabic and {len(reference.sentences)} English sentences aligned {method}: "
        f"{frame.height} rows, {flagged} flagged"
    )
    say(f"alignment: {alignment.signature.format()}")
    say(f"aligned TSV: {out}")


def check_output_parent(target: Path) -> None:
    """The folder a file is to be written in must be a folder (or creatable as one)."""
    existing = next((p for p in target.absolute().parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise TarjamaError(f"{target}: {existing} is not a directory")


# --- score and compare ----------------------------------------------------------------------


@app.command()
def score(
    hypothesis: Annotated[Path, typer.Argument(metavar="HYP", help="Machine translation, one segment per line.")],
    reference: Annotated[Path, typer.Argument(metavar="REF", help="Reference translation, line-aligned with HYP.")],
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", metavar="N", min=0, help="Bootstrap resamples for the 95% intervals.")
    ] = 1000,
    rows: Annotated[bool, typer.Option("--rows", help="Also print each line's chrF and BLEU.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Score HYP against REF as `sacrebleu REF -i HYP -m bleu chrf ter --confidence` does: the same numbers and signatures."""
    from tarjama.score import score_files

    try:
        scores = score_files(hypothesis, reference, bootstrap)
    except TarjamaError as problem:
        fail(str(problem))
    if as_json:
        say(json.dumps(scores.as_dict(), ensure_ascii=False, indent=2))
        return
    for metric in scores.corpus:
        say(metric.formatted)
    small = next((m for m in scores.corpus if m.small_sample), None)
    if small is not None:
        errors.print(
            f"tarjama: warning: only {small.segments} segments: the confidence intervals mean little",
            markup=False,
            highlight=False,
        )
    if rows:
        for row in scores.rows:
            say(f"{row.row}\tchrF {row.chrf:.2f}\tBLEU {row.bleu:.2f}")


@app.command()
def compare(
    systems: Annotated[
        list[Path],
        typer.Argument(
            metavar="BASELINE OTHER...",
            help="Run folders (with aligned.tsv) over the same articles, or translation files with --ref. "
            "The first is the baseline.",
        ),
    ],
    ref: Annotated[
        Path | None, typer.Option("--ref", metavar="FILE", help="Reference file, when SYSTEMS are translation files.")
    ] = None,
    test: Annotated[
        str, typer.Option("--test", metavar="bs|ar", help="Paired bootstrap (bs) or approximate randomisation (ar).")
    ] = "bs",
    samples: Annotated[
        int, typer.Option("--samples", metavar="N", min=0, help="Resamples or trials (0: sacrebleu's default).")
    ] = 0,
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="PATH", help="Folder for the comparison's report.")
    ] = Path("output"),
) -> None:
    """Is one engine better than another on these articles, and is the difference real?

    Paired significance tests as sacrebleu's --paired-bs/--paired-ar define them, for BLEU, chrF, chrF++
    and TER; per-article deltas with intervals; the rows with the biggest gains and losses. Writes
    <out>/compare-<time>/ (report.md, scores.json, plots/) and prints the report.
    """
    from tarjama.compare import System, common_segments, compare_systems, render_comparison
    from tarjama.outputs import check_output_folder, new_run_name, staged_run_folder
    from tarjama.parallel_corpus import read_tsv, write_json, write_text
    from tarjama.results import SCHEMA_VERSION
    from tarjama.score import read_lines

    if len(systems) < 2:
        fail("compare needs a baseline and at least one other system")
    if test not in ("bs", "ar"):
        fail(f"--test {test!r}: bs (paired bootstrap) or ar (approximate randomisation)")
    try:
        check_output_folder(out)
        articles = None
        if ref is not None:
            references = read_lines(ref)
            named = [System(path.name, read_lines(path)) for path in systems]
        else:
            frames = {}
            for folder in systems:
                if not (folder / "aligned.tsv").is_file():
                    raise TarjamaError(
                        f"{folder}: not a run folder (no aligned.tsv); give translation files with --ref"
                    )
                frames[folder.name] = read_tsv(folder / "aligned.tsv")
            segments = common_segments(frames)
            references, articles = segments.references, segments.articles
            named = [System(name, segments.hypotheses[name]) for name in frames]
        comparison = compare_systems(references, named, test, samples, articles=articles)  # type: ignore[arg-type]
    except TarjamaError as problem:
        fail(str(problem))
    report = render_comparison(comparison)
    say(report)
    from tarjama.plots import plot_article_deltas

    folder_name = f"compare-{new_run_name([])}"
    with staged_run_folder(out, folder_name) as staging:
        images = []
        if comparison.articles:
            for metric in ("chrF", "BLEU"):
                plot = plot_article_deltas(
                    comparison.articles, metric, staging / "plots" / f"deltas-{metric}.png", comparison.baseline
                )
                images.append(f"![{plot.title}](plots/deltas-{metric}.png)")
                if plot.warning:
                    images.append(f"**Warning:** {plot.warning}")
        write_text(report + "\n" + "\n\n".join(images) + "\n", staging / "report.md")
        write_json({"schema_version": SCHEMA_VERSION, "comparison": comparison.as_dict()}, staging / "scores.json")
    say(f"comparison: {out / folder_name / 'report.md'}")


# --- engines and settings --------------------------------------------------------------------


@app.command()
def engines(
    check_secrets: Annotated[
        bool, typer.Option("--check-secrets", help="Also look for keys in Prefect Secret blocks (starts Prefect).")
    ] = False,
    show_settings: Annotated[
        bool, typer.Option("--settings", help="Print the effective settings (keys masked) instead.")
    ] = False,
) -> None:
    """List the translation engines, what each needs, their rate limits, and whether each is ready here."""
    from rich.table import Table

    from tarjama.engines import all_specs

    try:
        settings = load_settings()
        specs = all_specs()
    except TarjamaError as problem:
        fail(str(problem))
    if show_settings:
        print_settings(settings)
        return
    from_blocks: set[str] = set()
    if check_secrets:
        from tarjama.flows.environment import configure_prefect

        configure_prefect(settings.home)
        from tarjama.flows.limits import with_secret_blocks

        before = set(settings.secrets)
        settings = with_secret_blocks(settings, [spec.name for spec in specs])
        from_blocks = {s.name for s in specs for c in s.credentials if c.env in set(settings.secrets) - before}
    table = Table(title="tarjama engines")
    for column in ("engine", "what", "needs", "rate limit", "ready"):
        table.add_column(column)
    for spec in specs:
        rate, source = settings.engine_rate(spec.name)
        limit = "-" if rate is None else ("off" if rate == 0 else f"{rate:g}/s")
        if rate and source != "default":
            limit += f" ({source})"
        missing = settings.readiness(spec)
        ready = "yes" if missing is None else f"no: {missing}"
        if missing is None and spec.name in from_blocks:
            ready = "yes (key from a Prefect Secret block)"
        table.add_row(spec.name, spec.summary, spec.needs, limit, ready)
    console.print(table)


def print_settings(settings: Settings) -> None:
    from rich.table import Table

    table = Table(title="tarjama settings")
    table.add_column("setting")
    table.add_column("value", overflow="fold")
    for name, value in settings.describe():
        table.add_row(name, value)
    console.print(table)


@app.command()
def config() -> None:
    """Print the effective settings (flags aside): home, memory, engines' options; keys masked."""
    try:
        print_settings(load_settings())
    except TarjamaError as problem:
        fail(str(problem))


@model_app.command("fetch")
def model_fetch() -> None:
    """Assemble and verify the default offline model (once; later calls only check it)."""
    from tarjama.model_store import ensure_model

    try:
        path = ensure_model(folder=load_settings().engine_options("local").get("model_dir"), say=say)
    except TarjamaError as problem:
        fail(str(problem))
    say(f"model: {path}")


# --- serve, runs, download -------------------------------------------------------------------


@app.command()
def serve(
    host: Annotated[
        str,
        typer.Option(
            "--host",
            metavar="ADDRESS",
            help="Address to bind the Prefect server and the download server to (0.0.0.0: every interface).",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", metavar="PORT", help="Port of the Prefect server (UI and API).")
    ] = 4200,
    download_port: Annotated[
        int, typer.Option("--download-port", metavar="PORT", help="Port of the download server (0: any free port).")
    ] = 4201,
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", metavar="PATH", help="Output folder: runs write here, downloads are served from here."
        ),
    ] = Path("output"),
    article: Annotated[
        list[Path] | None,
        typer.Option(
            "--article",
            "-a",
            metavar="FILE",
            help="Default article(s) of the UI's run form (repeatable). Default: the seed article.",
        ),
    ] = None,
    engine: EngineOption = "auto",
) -> None:
    """Start (or reuse) the Prefect server and UI, deploy tarjama-run, serve run outputs for download; Ctrl-C stops."""
    from tarjama.article import load_document
    from tarjama.outputs import check_output_folder

    seed = Path.cwd() / "corpus" / "morocco-us-counterterrorism.ar.txt"
    articles = article or ([seed] if seed.is_file() else [])
    try:
        settings = load_settings(engine=engine)
        for path in articles:
            load_document(path, "ar")
        check_output_folder(out)
    except TarjamaError as problem:
        fail(str(problem))
    from tarjama.flows.environment import configure_prefect

    configure_prefect(settings.home)
    from tarjama.serve import serve as serve_all

    try:
        serve_all(settings, host, port, download_port, out, articles, say=say)
    except TarjamaError as problem:
        fail(str(problem), EXIT_FAILED)


@app.command()
def runs(
    limit: Annotated[int, typer.Option("--limit", "-n", metavar="N", help="How many runs, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per run, full ids, for scripts.")] = False,
) -> None:
    """List recent tarjama runs: id, name, state, start, articles, engine, BLEU, output folder."""
    import os

    from tarjama.flows.environment import configure_prefect
    from tarjama.runs import recent_runs
    from tarjama.settings import resolve_home

    home, _ = resolve_home(os.environ, Path.cwd())  # all it needs: loading every engine's settings took a second
    configure_prefect(home)
    try:
        found = recent_runs(home, limit)
    except TarjamaError as problem:
        fail(str(problem), EXIT_FAILED)
    if as_json:
        for info in found:
            say(json.dumps(info.as_json(), ensure_ascii=False))
        return
    console.print(runs_table(found))


def runs_table(found: list[RunInfo]) -> Table:
    """The runs as a table whose id prefixes never wrap (a terminal of 80 columns folds every other column)."""
    from rich.table import Table

    table = Table(title="tarjama runs")
    table.add_column("id", no_wrap=True, min_width=RUN_ID_PREFIX)
    for column in ("name", "state", "start", "articles", "engine", "BLEU", "output"):
        table.add_column(column, justify="right" if column == "BLEU" else "left", overflow="fold")
    for info in found:
        table.add_row(
            info.id[:RUN_ID_PREFIX],  # a unique prefix is enough for `tarjama download`; --json has the full id
            info.name,
            info.state,
            info.start.astimezone().strftime("%Y-%m-%d %H:%M:%S") if info.start else "-",
            ", ".join(info.articles) or "-",
            info.engine,
            f"{info.bleu:.2f}" if info.bleu is not None else "-",
            str(info.output) if info.output else "-",
        )
    return table


@app.command()
def download(
    run_id: Annotated[
        str,
        typer.Argument(
            metavar="RUN",
            help="Flow-run id or a unique prefix of it, run name, output folder name, or `latest`.",
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="PATH",
            help="Where to write it (a file, a folder, or - for stdout). Default: ./<run>-<file>",
        ),
    ] = None,
    file: Annotated[
        str,
        typer.Option(
            "--file",
            "-f",
            metavar="NAME",
            help="Which output: aligned.tsv, aligned.parquet, scores.json, report.md, or any other file of the run "
            "(aligned.jsonl, aligned.tmx, plots/<name>.png, ...).",
        ),
    ] = "aligned.tsv",
    folder: Annotated[
        Path, typer.Option("--from", metavar="FOLDER", help="Output folder to look in for `latest` and folder names.")
    ] = Path("output"),
) -> None:
    """Write one output file of RUN (by default its aligned TSV)."""
    from tarjama.runs import check_output_name
    from tarjama.runs import download as download_run

    try:
        check_output_name(file)
        settings = load_settings()
    except TarjamaError as problem:
        fail(str(problem))
    try:
        label, written = download_run(settings, run_id, out, file, folder)
    except TarjamaError as problem:
        fail(str(problem), EXIT_FAILED)
    if written is not None:
        errors.print(f"run {label}: wrote {written}", highlight=False, markup=False, soft_wrap=True)


def entry() -> None:
    """Console-script entry point."""
    sys.exit(app())
