"""The ``tarjama`` command line: a thin layer that builds the settings, checks inputs, and calls the library.

Everything a user can get wrong (a file, an engine name, a URL, the output folder, the translation
memory, a run name) is checked before Prefect or a model starts, so a mistake fails in a fraction
of a second with one line and exit status 2, and nothing is written. Heavy imports (Prefect,
polars, the engines) happen inside the commands, so ``tarjama --help`` answers at once.
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import os
import sys
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from tarjama.errors import TarjamaError, counted, printable

if TYPE_CHECKING:
    from rich.table import Table

    from tarjama.app.runs import RunInfo
    from tarjama.corpus.results import RunSummary
    from tarjama.settings import Settings
    from tarjama.translation.engines import EngineSpec

EXIT_USAGE = 2  # bad input or set-up: one line, nothing written
EXIT_FAILED = 1  # the work itself failed (a service down after every retry, a server that would not start)
EXIT_INTERRUPTED = 130  # Ctrl-C: what was translated is kept
MAX_SUMMARY_ARTICLES = 20
RUN_ID_PREFIX = 8  # characters of a flow-run id `tarjama runs` shows
MAX_RUNS_LISTED = 200  # the most flow runs the Prefect API returns at once

CommandFunction = TypeVar("CommandFunction", bound=Callable[..., Any])


def command(typer_app: typer.Typer, name: str | None = None) -> Callable[[CommandFunction], CommandFunction]:
    """Register a command of ``typer_app`` with its docstring as help, each paragraph reflowed onto one line:
    Rich prints a help text's line breaks as they are, which cut `--help` sentences in two. Click's markers
    keep their meaning: nothing after ``\\f`` is shown, and a paragraph opening with ``\\b`` keeps its lines."""

    def register(function: CommandFunction) -> CommandFunction:
        shown = inspect.cleandoc(function.__doc__ or "").partition("\f")[0]
        paragraphs = [p if p.startswith("\b") else " ".join(p.split()) for p in shown.split("\n\n")]
        return typer_app.command(name, help="\n\n".join(paragraphs))(function)

    return register


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
    str | None,
    typer.Option(
        "--engine",
        "-e",
        metavar="NAME",
        help="auto, google, local, ... (see `tarjama engines`). Also TARJAMA_ENGINE. Default: auto.",
        show_default=False,
    ),
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


def names_of(values: list[str] | None, known: Collection[str], flag: str) -> list[str]:
    """The names of a flag given as comma lists, repeated, or both (``-f tsv,tmx -f jsonl``), each known."""
    from tarjama.settings import did_you_mean

    names = [name.strip() for value in values or [] for name in value.split(",") if name.strip()]
    for name in names:
        if name not in known:
            raise TarjamaError(
                f"{flag}: unknown name {name!r}{did_you_mean(name, list(known))} (choose from {', '.join(known)})"
            )
    return names


def check_engine_usable(settings: Settings, *, workers_elsewhere: bool) -> None:
    """An engine that cannot run here fails now, in one line, before Prefect starts: a required option unset,
    a module not installed, a key neither set nor in a Secret block of this home's Prefect (asked without
    starting it; a key is taken on trust only when Prefect cannot say), or a web service that does not
    answer (one TCP connection, no request: ``auto`` makes its own probe and falls back to the local model).
    A URL chosen from a key the flow will read (DeepL's, from a Secret block): every URL it may be."""
    from tarjama.settings import check_engine_reachable
    from tarjama.translation.engines import get_spec

    if settings.engine != "auto":
        from tarjama.app.runs import secret_block_exists

        spec, options = get_spec(settings.engine), settings.engine_options(settings.engine)
        missing = spec.setup_problem(options, modules=not workers_elsewhere)  # workers elsewhere: their modules
        if missing:
            raise TarjamaError(f"engine {settings.engine}: {missing}")
        for credential in spec.unset_credentials(options):
            if secret_block_exists(settings.home, credential.block) is False:
                raise TarjamaError(credential.unset(settings.engine))
    if settings.engine != "auto":
        check_engine_reachable(settings.engine, settings)


def arrived_while_stopping(kept: int) -> str:
    """``1 translation arrived while stopping and is kept``, ``3 translations ... are kept``."""
    return f"{counted(kept, 'translation')} arrived while stopping and {'is' if kept == 1 else 'are'} kept"


# --- run -------------------------------------------------------------------------------------


EXIT_SOME_FAILED = 3  # the corpus was built, but some articles failed (listed in scores.json and the report)


@command(app)
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
            help="English reference file (repeatable). Default: <id>.en.txt and <id>.en-<label>.txt beside each article.",
        ),
    ] = None,
    engine: EngineOption = None,
    out: OutOption = Path("output"),
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            metavar="FILE.gguf",
            help="GGUF model for the local engine (default: Qwen2.5-Coder-1.5B-Instruct Q4_K_M). Also TARJAMA_MODEL. "
            "Refused with a web engine.",
        ),
    ] = None,
    memory: MemoryOption = None,
    name: Annotated[
        str,
        typer.Option(
            "--name",
            metavar="NAME",
            help="Run name: the output sub-folder, written once (a later run needs another name). Default: the UTC "
            "time, the first PATH's name (`run` if none is left, as for a quoted glob), -and-N-more for N more PATHs, "
            "and a random suffix, e.g. 20261207-053255-news-bc74982d.",
        ),
    ] = "",
    engine_url: Annotated[
        str | None,
        typer.Option(
            "--engine-url",
            metavar="URL",
            help="Base URL of the web engine's service: a LibreTranslate server, an Ollama/llama.cpp/vLLM server "
            "for openai-compat, ... Also TARJAMA_<ENGINE>_URL.",
        ),
    ] = None,
    engine_model: Annotated[
        str | None,
        typer.Option(
            "--engine-model",
            metavar="MODEL",
            help="Model name for chatgpt or openai-compat. Also TARJAMA_<ENGINE>_MODEL.",
        ),
    ] = None,
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
            help="Output formats, comma-separated and/or repeated: tsv, parquet, jsonl, moses, tmx, hf. "
            "Default: tsv,parquet.",
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
            help="Also write a corpus of the pairs aligned with at least this confidence (0-1), beside the full one: "
            "only rows with both Arabic and a human reference (no empty side, no MT-only row), without the rows of "
            "references that seem another article's.",
        ),
    ] = None,
    fail_fast: Annotated[
        bool, typer.Option("--fail-fast", help="Stop at the first article that fails (default: build the rest).")
    ] = False,
    workers: Annotated[
        int, typer.Option("--workers", "-j", metavar="N", min=1, help="Articles processed at once on this machine.")
    ] = 4,
    checks: Annotated[
        list[str] | None,
        typer.Option(
            "--checks",
            metavar="NAMES",
            help="Reference-free checks to run, comma-separated and/or repeated (numbers, arabic-script, language, "
            "length-ratio, repetition, latin-names), or `none`. Also TARJAMA_CHECKS. Default: all.",
        ),
    ] = None,
    filter_checks: Annotated[
        list[str] | None,
        typer.Option(
            "--filter-checks",
            metavar="NAMES",
            help="Also write a filtered corpus of the pairs (Arabic and a human reference) that fail none of these "
            "checks (comma-separated and/or repeated).",
        ),
    ] = None,
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
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild", help="Build every article again, even those an earlier run built with the same settings."
        ),
    ] = False,
) -> None:
    """Build a parallel corpus from PATHs: split, translate, align, score; write aligned.tsv and .parquet,
    scores.json and report.md (and the --format files) into <out>/<run>/.

    Articles already built by an earlier run with the same inputs and settings (the same pipeline signature)
    are reused, unless --rebuild.

    Exit status: 0 all built, 3 some articles failed (the rest is built; see scores.json), 2 bad input, 1 the
    run failed, 130 / 143 interrupted by Ctrl-C / SIGTERM (what was translated is kept: run the same command
    again to resume).
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
        from tarjama.corpus.export import FORMATS, check_formats
        from tarjama.corpus.inputs import collect_articles
        from tarjama.corpus.outputs import (
            HOME_ROLE,
            check_free_space,
            check_latest,
            check_output_folder,
            check_run_name,
            new_run_name,
        )
        from tarjama.corpus.schema import check_confidence
        from tarjama.quality.checks import check_filters_run
        from tarjama.settings import check_names
        from tarjama.text.article import load_document
        from tarjama.translation.memory import TranslationMemory

        filtering = list(check_names(",".join(filter_checks or []), "--filter-checks"))
        check_filters_run(filtering, settings.checks)
        chosen_formats = check_formats(names_of(formats, FORMATS, "--format") or ["tsv", "parquet"])
        if min_confidence is not None:
            check_confidence(min_confidence)
        run_name = check_run_name(name) if name else new_run_name(sources)
        # a file named on the command line must be right: check it now (the list is not kept: the
        # flow reads the sources again, and a manifest's texts would be held twice through the run)
        total = 0  # the progress bar's, known before the run starts
        given = {Path(source) for source in sources}  # as the articles name them: newz/ and ./newz are newz
        for article in collect_articles(sources, reference or []):
            total += 1
            if article.source.origin in given and article.source.is_file:
                load_document(article.source.origin, "ar")
                for ref in article.references:
                    load_document(ref.source.origin, "en")
        check_output_folder(out)
        check_latest(out)
        if (out / run_name).exists():
            what_to_do = " (choose another --name, or leave --name out for a new one)" if name else ""
            raise TarjamaError(f"{out / run_name}: output directory already exists{what_to_do}")
        check_free_space(settings.home, HOME_ROLE)  # before the memory is made or Prefect starts there
        TranslationMemory.check(settings.memory_path)
        runner = task_runner(dask, workers, quiet_workers=task_lines_hidden(total))
        check_engine_usable(settings, workers_elsewhere=bool(dask) and dask != "local")
    except TarjamaError as problem:
        fail(str(problem))

    from tarjama.app.runs import (
        StoppedRun,
        crash_abandoned_runs,
        recorded_while_running,
        runs_sharing_memory,
        stop_run,
        with_served_links,
        written_output,
    )
    from tarjama.app.stopping import (
        Stopped,
        abandoned,
        call_until_signalled,
        exit_now,
        ignore_signals,
        raise_on_signals,
    )

    def say(line: str) -> None:
        errors.print(f"tarjama: {line}", markup=False, highlight=False, soft_wrap=True)

    settings, unserved = with_served_links(settings, out)
    if unserved:
        errors.print(f"tarjama: warning: {unserved}", markup=False, highlight=False, soft_wrap=True)
    stopped: StoppedRun | None = None
    try:
        raise_on_signals()  # from here on, what was written decides how a signal ends the command
        with prefect_flow(settings, total) as run_flow:
            # runs of this home killed earlier: Crashed, not Running for ever (before this run's record is made)
            crash_abandoned_runs(settings.home)
            flow = copy.copy(run_flow)  # with_options() would build the parameters' schema again (0.1 s)
            flow.task_runner = runner()
            with recorded_while_running(settings.home, run_name, settings.memory_path) as record:
                for other, pid in runs_sharing_memory(settings.home, settings.memory_path):
                    errors.print(
                        f"tarjama: warning: run {other} (process {pid}) is using the same translation memory"
                        f" ({settings.memory_path}): sentences both runs need may be translated, and paid for, twice",
                        markup=False,
                        highlight=False,
                        soft_wrap=True,
                    )
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
                            rebuild=rebuild,
                        ),
                        stop_wait=settings.stop_wait,
                        say=say,
                    ).unquote()  # the flow returns it quoted, so Prefect does not walk its thousands of articles
                except (Stopped, KeyboardInterrupt) as stop:
                    record.settled = False  # a second signal while ending it leaves the record: Crashed later
                    stopped = stop_run(
                        settings, out / run_name, f"stopped by {stop if isinstance(stop, Stopped) else 'SIGINT'}"
                    )
                    record.settled = True
                    raise
    except TarjamaError as problem:
        fail(str(problem), EXIT_FAILED)
    except (Stopped, KeyboardInterrupt) as stop:
        ignore_signals()  # what follows only says how the run ended, then exits
        # stopped again while the run was being ended (or outside the flow): what was written decides, at once
        written = stopped.summary if stopped is not None else written_output(out / run_name, wait=False)
        if written is not None:  # the signal came after the output was written
            print_summary(written)
            exit_now(EXIT_SOME_FAILED if written.failures else 0)
        from tarjama.translation.memory import journal_folder

        # stopped again while ending: the workers' journals are merged by the next run
        kept_in = stopped.kept_in if stopped is not None else journal_folder(settings.home, settings.memory_path)
        later = "" if kept_in == settings.memory_path else f", merged into {settings.memory_path} by the next run"
        settled = stop.settled if isinstance(stop, Stopped) else None
        after = [arrived_while_stopping(settled.kept)] if settled and settled.kept else []
        after += filter(None, [abandoned(settled)])
        errors.print(
            f"tarjama: error: interrupted: every sentence translated so far is kept in {kept_in}{later}, "
            f"and every article built is kept for the next run; {''.join(part + '; ' for part in after)}"
            "no output was written; run the same command again to resume",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        exit_now(stop.exit_status if isinstance(stop, Stopped) else EXIT_INTERRUPTED)
    ignore_signals()  # the run is complete: a Ctrl-C now would only cut its summary short
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
    with prefect_api_for_command(settings.home, settings.prefect_server_idle) as api:
        from tarjama.flows.pipeline import run as run_flow

        with live_progress(total), quiet_interrupts(), api.flow_runs():
            yield run_flow


LOCAL_DASK_PROCESSES = 2


def check_scheduler(address: str) -> None:
    """A Dask scheduler address must name a host and port where something listens: probed now, in one
    line, rather than by Prefect and Dask after seconds of start-up and many tracebacks."""
    from tarjama.settings import unreachable

    scheme, _, rest = address.rpartition("://")
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    if (
        scheme not in ("", "tcp", "tls")
        or not host
        or not (port.isascii() and port.isdigit())
        or not 0 < int(port) < 65536
    ):
        raise TarjamaError(f"--dask {address!r}: a scheduler address such as tcp://127.0.0.1:8786, or `local`")
    problem = unreachable(host, int(port))
    if problem:
        raise TarjamaError(f"--dask {address!r}: no Dask scheduler answers there ({problem})")


WORKER_CONSOLE_QUIET = {"PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "WARNING"}
"""The environment of a local Dask cluster's worker processes under the live bar: their task runs' INFO lines
(:func:`task_run_chatter`, which sees only this process's records) go to the Prefect API, not the terminal."""


def task_runner(dask: str, workers: int, quiet_workers: bool = False) -> Callable[[], Any]:
    """The task runner the options ask for, built later (once Prefect may be imported): threads, or Dask.
    ``quiet_workers``: a local cluster's workers print only warnings and errors (:data:`WORKER_CONSOLE_QUIET`)."""
    if not dask:

        def threads() -> Any:
            from prefect.task_runners import ThreadPoolTaskRunner

            return ThreadPoolTaskRunner(max_workers=workers)

        return threads
    if dask != "local":
        check_scheduler(dask)

    def on_dask() -> Any:
        from prefect_dask import DaskTaskRunner

        if dask == "local":
            # two processes use both cores of a small machine; threads keep --workers articles in flight
            threads = max(1, workers // LOCAL_DASK_PROCESSES)
            cluster = {"n_workers": LOCAL_DASK_PROCESSES, "threads_per_worker": threads, "processes": True}
            return DaskTaskRunner(cluster_kwargs=cluster | ({"env": WORKER_CONSOLE_QUIET} if quiet_workers else {}))
        return DaskTaskRunner(address=dask if "://" in dask else f"tcp://{dask}")

    return on_dask


@contextmanager
def quiet_interrupts() -> Iterator[None]:
    """Ctrl-C loses nothing, so it deserves one line (ours), not a "Crash detected!" error per flow and task,
    nor a "Finished in state Crashed" one per task a stop ended before its next request: the records
    :func:`tarjama.flows.environment.stopped_by_signal` tells, which ``serve`` keeps off its console too."""
    import logging

    from tarjama.flows.environment import RUN_LOGGERS, stopped_by_signal

    class Interrupted(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return not stopped_by_signal(record)

    quiet = Interrupted()
    loggers = [logging.getLogger(name) for name in RUN_LOGGERS]
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)


PIPED_ARTICLE_LINES = 20
"""Piped, a run of up to this many articles prints each article's log lines; a larger one prints its progress
every :data:`PIPED_PROGRESS_EVERY` seconds instead (a run of 5,000 articles printed 5,348 lines; the Prefect UI
keeps every one)."""

PIPED_PROGRESS_EVERY = 30.0


def task_lines_hidden(total: int | None, screen: Console = errors) -> bool:
    """Whether a run's task runs' INFO lines stay off the console (with the API and UI): under the live bar, and
    piped when the run has more than :data:`PIPED_ARTICLE_LINES` articles (:func:`live_progress`)."""
    return screen.is_terminal or (total is not None and total > PIPED_ARTICLE_LINES)


@contextmanager
def live_progress(total: int | None = None, screen: Console = errors) -> Iterator[None]:
    """Articles done of ``total``, the ETA, the time so far, sentences translated and the rate, live on a
    terminal (rich), with log lines printed above it (:func:`log_lines_above`); its label says what the run
    does (:func:`tarjama.corpus.build.report_stage`: reading its articles, building them, writing the corpus).

    The count, ETA and time never wrap; on a narrow terminal the detail (sentences, rate) is cut. The
    ``tarjama.progress`` records feed the bar alone: on a terminal the bar says it all, so they do not reach
    the log handlers. Nor do the task runs' INFO lines reach the terminal (:func:`task_run_chatter`): they
    still go to the Prefect API. Piped, a small run prints its log lines as they come, and a run of more than
    :data:`PIPED_ARTICLE_LINES` articles a line of progress now and then (:func:`progress_lines`) in place of
    its task runs' INFO lines."""
    if not screen.is_terminal:
        if not task_lines_hidden(total, screen):
            yield
            return
        with progress_lines(screen, PIPED_PROGRESS_EVERY, total), log_lines_above(screen, hide=task_run_chatter):
            yield
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Column

    from tarjama.corpus.build import BUILDING

    def fixed() -> Column:
        return Column(no_wrap=True)

    progress = Progress(
        TextColumn("{task.fields[stage]}", table_column=fixed()),
        BarColumn(bar_width=None, table_column=Column(no_wrap=True, ratio=1, max_width=40)),
        MofNCompleteColumn(table_column=fixed()),
        TextColumn("{task.fields[eta]}", table_column=fixed()),
        TimeElapsedColumn(table_column=fixed()),
        TextColumn("{task.fields[detail]}", table_column=Column(no_wrap=True, overflow="ellipsis", ratio=4)),
        console=screen,
        transient=True,
        expand=True,  # the bar and the detail share what the rest leaves of the line: they alone shrink
    )
    task_id = progress.add_task("articles", total=total, detail="", eta="", stage=BUILDING)

    def show(state: Mapping[str, Any]) -> None:
        if "stage" in state:  # what the run does now: reading its inputs, building, writing the corpus
            progress.update(task_id, stage=state["stage"])
            return
        progress.update(
            task_id, completed=state["done"], total=state["total"], detail=_progress_detail(state), eta=_eta(state)
        )

    with progress_records(show), progress, log_lines_above(progress.console, hide=task_run_chatter):
        yield


@contextmanager
def progress_lines(screen: Console, every: float, total: int | None = None) -> Iterator[None]:
    """The run's progress as a plain line at most every ``every`` seconds, and when its articles are done:
    ``articles 1200/5000, ETA 0:04:10, 3400 sentences translated, 52.1 articles/min``; a line when the run
    turns to another stage (``reading 0/5000``, ``articles 0/5000``, ``writing 5000/5000``); and while no
    article finishes, the count and the time so far every ``every`` seconds (``articles 0/5000, 0:01:30 so
    far``): with a slow engine the first article takes minutes, and a piped log said nothing until then."""
    import threading
    import time
    from datetime import timedelta

    from tarjama.corpus.build import BUILDING

    lock, quiet = threading.Lock(), threading.Event()
    started = printed = time.monotonic()
    stage, done, of = BUILDING, 0, total

    def say(*parts: str) -> None:
        nonlocal printed
        printed = time.monotonic()
        line = ", ".join(part for part in (f"{stage} {done}/{of if of is not None else '?'}", *parts) if part)
        screen.print(line, markup=False, highlight=False, soft_wrap=True)

    def show(state: Mapping[str, Any]) -> None:
        nonlocal stage, done, of
        with lock:
            if "stage" in state:
                stage = state["stage"]
                say()
                return
            done, of = state["done"], state["total"]
            if time.monotonic() - printed >= every or done >= of:
                say(_eta(state), _progress_detail(state))

    def heartbeat() -> None:
        while not quiet.wait(every):
            with lock:
                if time.monotonic() - printed >= every:
                    say(f"{timedelta(seconds=round(time.monotonic() - started))} so far")

    beating = threading.Thread(target=heartbeat, name="tarjama-progress-lines", daemon=True)
    if every > 0:
        beating.start()
    try:
        with progress_records(show):
            yield
    finally:
        quiet.set()
        if beating.is_alive():
            beating.join()


@contextmanager
def progress_records(show: Callable[[Mapping[str, Any]], None]) -> Iterator[None]:
    """``show`` is given the state of each ``tarjama.progress`` record, and no record reaches another handler
    (a line per article) nor Prefect's API."""

    class Sink(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            state = getattr(record, "tarjama_progress", None)
            if state:
                show(state)

    sink = Sink()
    logger = logging.getLogger("tarjama.progress")
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)  # its records are INFO: under the root's default WARNING none would reach the sink
    logger.propagate = False
    logger.addHandler(sink)
    try:
        yield
    finally:
        logger.removeHandler(sink)
        logger.setLevel(level)
        logger.propagate = propagate


def _eta(state: Mapping[str, Any]) -> str:
    from datetime import timedelta

    return f"ETA {timedelta(seconds=round(state['eta']))}" if state.get("eta") is not None else ""


def _progress_detail(state: Mapping[str, Any]) -> str:
    detail = f"{state['translated']} sentences translated, {state['rate'] * 60:.1f} articles/min"
    return detail + (f", {state['failed']} failed" if state["failed"] else "")


def task_run_chatter(record: logging.LogRecord) -> bool:
    """A task run's INFO record (each article's "translated 0/6 new sentences", its summary, Prefect's
    "Finished in state Completed()"): under the live bar, some sixty lines for forty articles, saying what
    the bar says. Told by level and by what a record carries, never by its words, so a failure is shown
    however Prefect puts it: its warnings and errors are not chatter (a task run that failed, or ran out
    of retries, is an ERROR), nor an INFO record that carries a failure, as Prefect's notice that a
    failed task run will be retried carries its exception (or failed state) as an argument."""
    return (
        record.levelno < logging.WARNING
        and (record.name == "prefect.task_runs" or record.name.startswith("prefect.task_runs."))
        and not carries_failure(record)
    )


def carries_failure(record: logging.LogRecord) -> bool:
    """Whether ``record`` has an exception, or a failed or crashed Prefect state, among its arguments or
    as its ``exc_info``."""
    from prefect.client.schemas.objects import State

    arguments = record.args.values() if isinstance(record.args, Mapping) else record.args or ()
    return record.exc_info is not None or any(
        isinstance(one, BaseException) or (isinstance(one, State) and (one.is_failed() or one.is_crashed()))
        for one in arguments
    )


@contextmanager
def log_lines_above(
    screen: Console, hide: Callable[[logging.LogRecord], bool] = lambda record: False
) -> Iterator[None]:
    """Log lines that handlers write to the terminal go through ``screen``, which prints them above its
    live bar: written straight to the terminal (as Prefect's console handler does, whose rich console
    bypasses rich's own redirection), they were glued onto the bar's line (``0:00:0303:31:47 | INFO``).
    Records for which ``hide`` is true are not written to the terminal at all (other handlers get them)."""

    class ThroughConsole(logging.Filter):
        def __init__(self, handler: logging.Handler) -> None:
            super().__init__()
            self.handler = handler

        def filter(self, record: logging.LogRecord) -> bool:
            if hide(record):
                return False
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
    from rich.text import Text

    def cell(value: object) -> Text:
        """Input text (ids, labels) as plain text: no rich markup, no terminal escapes or bidi overrides."""
        return Text(printable(str(value)))

    shown = summary.articles[:MAX_SUMMARY_ARTICLES]
    table = Table(title=cell(f"tarjama run {summary.run}"))
    numeric = {"sentences", "rows", "BLEU", "chrF", "TER"}
    for column in ("article", "engine", "sentences", "reference", "rows", "BLEU", "chrF", "TER"):
        # folded, not cut: three `abcnews.306…` at 80 columns could not be told apart
        table.add_column(column, justify="right" if column in numeric else "left", overflow="fold")
    for article in shown:
        for ref in article.references:
            scores = {s.metric: f"{s.score:.2f}" for s in ref.scores}
            table.add_row(
                cell(article.article_id),
                cell(article.engine),
                str(article.sentences),
                cell(ref.reference or "-"),
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
        say(f"... and {counted(len(summary.articles) - len(shown), 'more article')} (report.md has them all)")
    counts = summary.counts
    say(
        f"{counted(len(summary.articles), 'article')} ({counts.reused_articles} reused from earlier runs), "
        f"{counted(counts.rows, 'row')}, "
        f"{counts.flagged} flagged"
        + (f", {counted(counts.duplicates_dropped, 'duplicate')} dropped" if counts.duplicates_dropped else "")
    )
    if counts.rebuilt_articles:
        say(f"{counted(counts.rebuilt_articles, 'article')} built before under other settings: built again")
    # the run's warnings (summary.warnings) and each failed article with its reason are the flow's log
    # lines, shown once, during the run (the moment an article fails); here only how many failed
    if summary.failures:
        errors.print(
            f"tarjama: {counted(len(summary.failures), 'article')} failed: why is logged above, and in scores.json "
            "and report.md",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    folder = Path(summary.output_dir or ".")
    written = [*summary.counts.files, "scores.json", "report.md", "report.html"]
    say(printable(f"wrote {folder}: {', '.join(written)}"))
    if "aligned.tsv" in summary.counts.files:
        say(printable(f"aligned TSV: {folder / 'aligned.tsv'}"))


# --- align -----------------------------------------------------------------------------------


@command(app)
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
        typer.Option(
            "--out",
            "-o",
            metavar="PATH",
            help="TSV to write (same columns as `tarjama run`'s aligned.tsv); - for standard output.",
        ),
    ] = Path("aligned.tsv"),
    rows: RowsOption = None,
    presegmented: Annotated[
        bool,
        typer.Option(
            "--presegmented",
            help="Every file is already one sentence a line (as hunalign and Vecalign take it): each line is aligned "
            "whole, never re-split. A blank line in ARABIC or ENGLISH is refused; blank --mt lines are ignored.",
        ),
    ] = False,
    beads: Annotated[
        Path | None,
        typer.Option(
            "--beads",
            metavar="FILE",
            help="Also write the beads as Vecalign does, one a line: `[0, 1]:[0]:0.8731` (0-based Arabic and English "
            "sentence numbers, confidence); - for standard output.",
        ),
    ] = None,
) -> None:
    """Align given files without translating: ARABIC to ENGLISH, through --mt if given, else by sentence length.

    No engine and no Prefect: pure and fast. Rows below the confidence threshold are flagged, never dropped.
    """
    from tarjama.corpus.build import align_files

    try:
        aligned = align_files(arabic, english, mt, out, load_settings(rows=rows), presegmented, beads)
    except TarjamaError as problem:
        fail(str(problem))
    report = note if "-" in (str(out), str(beads)) else say  # the TSV or the beads have standard output to themselves
    report(
        f"{aligned.arabic_sentences} Arabic and {aligned.english_sentences} English sentences aligned "
        f"{aligned.method}: {counted(aligned.rows, 'row')}, {aligned.flagged} flagged"
    )
    report(f"alignment: {aligned.signature}")
    report(f"aligned TSV: {out}")
    if beads is not None:
        report(f"beads: {beads}")


def note(line: str) -> None:
    errors.print(line, markup=False, highlight=False, soft_wrap=True)


@command(app)
def split(
    source: Annotated[
        str, typer.Argument(metavar="FILE|-", help="Text (UTF-8, one paragraph per line); - reads standard input.")
    ],
    lang: Annotated[
        str | None,
        typer.Option("--lang", metavar="ar|en", help="The text's language. Default: ar if most letters are Arabic."),
    ] = None,
    units: Annotated[
        bool, typer.Option("--units", help="One clause unit a line (what rows are made of), not one sentence.")
    ] = False,
    out: Annotated[
        str, typer.Option("--out", "-o", metavar="FILE|-", help="Where to write; - (the default) is standard output.")
    ] = "-",
) -> None:
    """Print FILE one sentence a line, split as `tarjama run` splits it: the input `align --presegmented` and
    `align --mt` take."""
    from tarjama.alignment.beads import STDIN, guess_lang, read_input, split_text
    from tarjama.corpus.outputs import check_output_parent
    from tarjama.corpus.schema import write_text
    from tarjama.text.segment import LANGS

    if lang is not None and lang not in LANGS:
        fail(f"--lang {lang!r}: expected one of {', '.join(LANGS)}")
    try:
        if out != STDIN:
            check_output_parent(Path(out))
        path, text = read_input(source)
        lines = "".join(line + "\n" for line in split_text(text, path, lang or guess_lang(text), units))
        if out == STDIN:
            sys.stdout.write(lines)
        else:
            write_text(lines, Path(out))
    except TarjamaError as problem:
        fail(str(problem))


# --- score and compare ----------------------------------------------------------------------


@command(app)
def score(
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="HYP|- [REF]...",
            help="Machine translation, one segment per line (- reads standard input), then references line-aligned with it.",
        ),
    ],
    references: Annotated[
        list[Path] | None,
        typer.Option("--reference", "-r", metavar="FILE", help="A reference (repeatable), as REF after HYP."),
    ] = None,
    metrics: Annotated[
        list[str] | None,
        typer.Option(
            "--metrics",
            "-m",
            metavar="NAMES",
            help="bleu, chrf, chrf++, ter: comma-separated or repeated. Default: all.",
        ),
    ] = None,
    tokenize: Annotated[
        str | None, typer.Option("--tokenize", "-tok", metavar="NAME", help="BLEU's tokenizer, as sacrebleu's -tok.")
    ] = None,
    lowercase: Annotated[
        bool, typer.Option("--lowercase", "-lc", help="BLEU ignores case, as sacrebleu's -lc.")
    ] = False,
    width: Annotated[int, typer.Option("--width", "-w", metavar="N", min=0, help="Decimals printed.")] = 2,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", metavar="N", min=0, help="Bootstrap resamples for the 95% intervals.")
    ] = 1000,
    rows: Annotated[bool, typer.Option("--rows", help="Also print each line's chrF and BLEU.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Score HYP against each REF as `sacrebleu REF... -i HYP -m bleu chrf ter --confidence` does: the same numbers
    and signatures, with sacrebleu's -m, -tok, -lc and -w."""
    from tarjama.quality.score import ScoreOptions, sacrebleu_text, score_files

    hypothesis, *refs = files
    refs += references or []
    try:
        if not refs:
            raise TarjamaError("no reference: give REF after HYP, or -r FILE")
        names = [name.strip() for option in metrics or [] for name in option.split(",") if name.strip()]
        options = ScoreOptions.checked(names, tokenize, lowercase, width)
        scores = score_files(hypothesis, refs, bootstrap, options)
    except TarjamaError as problem:
        fail(str(problem))
    if as_json:
        say(json.dumps(scores.as_dict(), ensure_ascii=False, indent=2))
        return
    for line in sacrebleu_text(scores.corpus):
        say(line)
    small = next((m for m in scores.corpus if m.small_sample), None)
    if small is not None and bootstrap > 0:  # without resamples there are no intervals to doubt
        errors.print(
            f"tarjama: warning: only {counted(small.segments, 'segment')}: the confidence intervals mean little",
            markup=False,
            highlight=False,
        )
    if rows:
        for row in scores.rows:
            say(f"{row.row}\tchrF {row.chrf:.{width}f}\tBLEU {row.bleu:.{width}f}")


@command(app)
def compare(
    systems: Annotated[
        list[Path],
        typer.Argument(
            metavar="BASELINE OTHER...",
            help="Run folders over the same articles (their aligned.parquet, else aligned.tsv), or translation files "
            "with --ref. The first is the baseline.",
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
    <out>/compare-<time>-run-<suffix>/ (report.md, scores.json, plots/; `latest` keeps pointing at the newest run) and
    prints the report.
    """
    from tarjama.app.stopping import Stopped, ignore_signals, raise_once_on_signals
    from tarjama.quality.compare import compare_runs, render_comparison

    raise_once_on_signals()  # a signal while the comparison is staged removes its staging folder, then ends
    try:
        made = compare_runs(systems, ref, test, samples, out)
    except TarjamaError as problem:
        fail(str(problem))
    except Stopped as stop:
        from tarjama.corpus.outputs import stop_writing

        written = stop_writing(wait=False)  # the folder renamed into place, if the signal came after that
        fail(
            f"interrupted ({stop}): "
            + (f"the comparison is in {written[0]}" if written else "no comparison was written"),
            stop.exit_status,
        )
    ignore_signals()  # the comparison is written: a signal now would only cut its report short
    say(render_comparison(made.comparison, max_articles=MAX_SUMMARY_ARTICLES))
    say(f"comparison: {made.folder / 'report.md'}")


# --- engines and settings --------------------------------------------------------------------


@command(app)
def engines(
    check_secrets: Annotated[
        bool,
        typer.Option(
            "--check-secrets", help="Also look for keys in Prefect Secret blocks (through the home's Prefect server)."
        ),
    ] = False,
    show_settings: Annotated[
        bool,
        typer.Option("--settings", help="Print the effective settings (keys masked) instead, as `tarjama config`."),
    ] = False,
) -> None:
    """List the translation engines, what each needs, their rate limits, and whether each is ready here."""
    from rich.table import Table
    from rich.text import Text

    from tarjama.translation.engines import all_specs, broken_engines, engine_names

    try:
        settings = load_settings()
        specs = all_specs()
    except TarjamaError as problem:
        fail(str(problem))
    if show_settings:
        print_effective_settings(settings)
        return
    from_blocks: set[str] = set()
    if check_secrets:
        before = set(settings.secrets)
        try:
            settings = with_blocks_if_any(settings, specs)
        except TarjamaError as problem:
            fail(str(problem), EXIT_FAILED)
        from_blocks = {s.name for s in specs for c in s.credentials if c.env in set(settings.secrets) - before}
    from concurrent.futures import ThreadPoolExecutor

    table = Table(title="tarjama engines")
    for column in ("engine", "what", "needs", "rate limit", "ready"):
        table.add_column(column, overflow="fold")  # a variable to set, cut to `TARJAMA_LIBR…`, could not be read
    with ThreadPoolExecutor(max_workers=len(specs)) as pool:  # each web service probed at once, not in turn
        statuses = dict(zip([s.name for s in specs], pool.map(lambda spec: engine_status(settings, spec), specs)))
    if "auto" in statuses:
        statuses["auto"] = auto_status(statuses["google"], statuses["local"])
    by_name = {spec.name: spec for spec in specs}
    broken = broken_engines()
    for name in engine_names():
        if name in broken:  # plug-in text, shown as it is: never read as Rich markup
            table.add_row(Text(name), "-", "-", "-", Text(printable(f"no: plug-in broken: {broken[name]}")))
            continue
        spec = by_name[name]
        rate, source = settings.engine_rate(name)
        limit = "-" if rate is None else ("off" if rate == 0 else f"{rate:g}/s")
        if rate and source != "default":
            limit += f" ({source})"
        ready = statuses[name]
        if ready == "yes" and name in from_blocks:
            ready = "yes (key from a Prefect Secret block)"
        table.add_row(*(Text(printable(cell)) for cell in (name, spec.summary, spec.needs, limit, ready)))
    console.print(table)


def auto_status(google: str, local: str) -> str:
    """``auto`` is ready when an engine it chooses from is: Google answering, else the offline model."""
    if google == "yes":
        return "yes" if local == "yes" else "yes (google; no offline fallback)"
    if local == "yes":
        return "yes (offline: local; google not reachable)"
    return f"no: google: {google.removeprefix('no: ')}; local: {local.removeprefix('no: ')}"


def with_blocks_if_any(settings: Settings, specs: list[EngineSpec]) -> Settings:
    """``settings`` plus the keys it lacks that Prefect Secret blocks hold, asked of the same API as the
    other commands (the user's, ``serve``'s, else the home's shared server, started if need be). Where
    no block can be (every key set, or no Prefect server nor database for this home) Prefect is not
    started at all: a temporary server took seconds to say there was nothing."""
    from tarjama.app.runs import prefect_at_hand

    if all(c.env in settings.secrets for s in specs for c in s.credentials) or not prefect_at_hand(settings.home):
        return settings
    from tarjama.flows.environment import configure_prefect, prefect_api_for_command

    configure_prefect(settings.home)
    with prefect_api_for_command(settings.home, settings.prefect_server_idle):
        from tarjama.flows.limits import with_secret_blocks

        return with_secret_blocks(settings, [spec.name for spec in specs])


def engine_status(settings: Settings, spec: EngineSpec) -> str:
    """``yes``; else what is missing (a key first); ``needs network`` for a web service that cannot be reached."""
    from tarjama.settings import engine_unreachable

    missing = settings.readiness(spec) if spec.check is None else None  # a check may probe: after the network
    if missing:
        return f"no: {missing}"
    network = engine_unreachable(spec.name, settings)
    if network:
        return f"needs network ({network[0]}: {network[1]})"
    missing = settings.readiness(spec) if spec.check is not None else None
    return "yes" if missing is None else f"no: {missing}"


def print_effective_settings(settings: Settings, *, every_engine: bool = False) -> None:
    """The listing of ``tarjama config`` and ``tarjama engines --settings``: ``settings`` as a run gets them
    (the download URL of a running ``tarjama serve``), and which of the keys not set are in a Prefect Secret
    block of this home (looked up read-only, starting nothing; a value is never read)."""
    from tarjama.app.runs import secret_blocks_exist, with_served_download_url
    from tarjama.settings import setting_defs

    settings = with_served_download_url(settings)
    unset = [d.block for d in setting_defs() if d.block is not None and d.key not in settings.sources]
    blocks = secret_blocks_exist(settings.home, unset)
    print_settings(settings.describe(every_engine=every_engine, blocks=blocks))


def print_settings(rows: list[tuple[str, str, str]]) -> None:
    """Each setting as it is: a value from the environment (``/tmp/h[old]``) is text, never Rich markup."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title="tarjama settings")
    table.add_column("setting")
    table.add_column("value", overflow="fold")
    table.add_column("from", overflow="fold")
    for row in rows:
        table.add_row(*(Text(printable(cell)) for cell in row))
    console.print(table)


@command(app)
def config(
    every_engine: Annotated[
        bool, typer.Option("--all", help="Every engine's settings, defaults included (default: the engines in use).")
    ] = False,
) -> None:
    """Print the effective settings and where each came from (variable, Secret block, running serve, default).

    Every general setting and every setting of the engine in use (auto: google and local); another engine's
    only when set, or all with --all. Keys are masked: a Secret block of this home's Prefect is looked up
    (read-only, starting nothing) and shown as set, never read. download_url is the one a run gets while
    `tarjama serve` runs. Flags apply to the command they are given to; docs/settings.md lists every setting."""
    try:
        settings = load_settings()
    except TarjamaError as problem:
        fail(str(problem))
    print_effective_settings(settings, every_engine=every_engine)


@command(model_app, "fetch")
def model_fetch() -> None:
    """Assemble and verify the default offline model (once; later calls only check it)."""
    from tarjama.translation.model_store import ensure_model

    try:
        path = ensure_model(folder=load_settings().engine_options("local").get("model_dir"), say=say)
    except TarjamaError as problem:
        fail(str(problem))
    say(f"model: {path}")


# --- serve, runs, download -------------------------------------------------------------------


@command(app)
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
        int, typer.Option("--port", metavar="PORT", min=1, max=65535, help="Port of the Prefect server (UI and API).")
    ] = 4200,
    download_port: Annotated[
        int,
        typer.Option(
            "--download-port", metavar="PORT", min=0, max=65535, help="Port of the download server (0: any free port)."
        ),
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
            help="Default article(s) of the UI's run form (repeatable). Default: the seed article, "
            "corpus/morocco-us-counterterrorism.ar.txt, where serve starts; without one, use the form's Custom run.",
        ),
    ] = None,
    engine: EngineOption = None,
) -> None:
    """Start a Prefect server and UI of its own (a port in use is refused), deploy tarjama-run, serve run outputs for download; Ctrl-C stops."""
    from tarjama.corpus.outputs import HOME_ROLE, check_free_space, check_output_folder
    from tarjama.text.article import load_document

    seed = Path.cwd() / "corpus" / "morocco-us-counterterrorism.ar.txt"
    articles = article or ([seed] if seed.is_file() else [])
    try:
        if port == download_port:
            raise TarjamaError(f"--port and --download-port are both {port}: the two servers need a port each")
        settings = load_settings(engine=engine)
        for path in articles:
            load_document(path, "ar")
        check_output_folder(out)
        check_free_space(settings.home, HOME_ROLE)  # before Prefect starts there
    except TarjamaError as problem:
        fail(str(problem))
    from tarjama.flows.environment import configure_prefect

    configure_prefect(settings.home)
    from tarjama.app.serve import serve as serve_all

    try:
        serve_all(settings, host, port, download_port, out, articles, say=say)
    except TarjamaError as problem:
        fail(str(problem), EXIT_FAILED)


@command(app)
def runs(
    limit: Annotated[
        int,
        typer.Option("--limit", "-n", metavar="N", min=1, max=MAX_RUNS_LISTED, help="How many runs, newest first."),
    ] = 20,
    as_json: Annotated[
        bool,
        typer.Option("--json", help='One JSON object per run, full ids, for scripts (the inputs are its "articles").'),
    ] = False,
) -> None:
    """List recent tarjama runs: id, name, state, start, inputs, engine, BLEU, output folder."""
    from tarjama.app.runs import recent_runs
    from tarjama.flows.environment import configure_prefect
    from tarjama.settings import checked_home

    try:  # a bad general TARJAMA_* variable is one line; engines' settings are not read (nor used)
        home = checked_home()
    except TarjamaError as problem:
        fail(str(problem))
    configure_prefect(home)
    try:
        found = recent_runs(home, limit)
    except TarjamaError as problem:
        fail(str(problem), EXIT_FAILED)
    if found.note:
        errors.print(f"tarjama: note: {found.note}", markup=False, highlight=False, soft_wrap=True)
    if as_json:
        for info in found.runs:
            say(json.dumps(info.as_json(), ensure_ascii=False))
        return
    console.print(runs_table(found.runs, console.width))


RUNS_COLUMNS = {
    "id": RUN_ID_PREFIX,
    "name": None,
    "state": 9,
    "start": 11,
    "inputs": None,  # the files, folders, globs or manifests the run was given
    "engine": 7,
    "BLEU": 5,
    "output": None,
}
PRODUCED_OUTPUT = {"Completed"}  # the states of runs that wrote a corpus; the others show no BLEU and no folder


def runs_table(found: list[RunInfo], width: int = 80) -> Table:
    """The runs as a table that reads in ``width`` columns: one line a run, id prefixes whole, other cells
    cut with an ellipsis, output folders relative to the current one, nothing shown for runs that wrote nothing."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title="tarjama runs", box=None, padding=(0, 1, 0, 0), header_style="bold underline")
    for column, fixed in RUNS_COLUMNS.items():
        table.add_column(
            column, justify="right" if column == "BLEU" else "left", no_wrap=True, overflow="ellipsis", width=fixed
        )
    for info in found:
        produced = info.state in PRODUCED_OUTPUT
        cells = (
            info.id[:RUN_ID_PREFIX],  # a unique prefix is enough for `tarjama download`; --json has the full id
            info.name,
            info.state,
            info.start.astimezone().strftime("%m-%d %H:%M") if info.start else "",
            ", ".join(info.articles),
            info.engine,
            f"{info.bleu:.2f}" if produced and info.bleu is not None else "",
            short_path(info.output) if produced and info.output else "",
        )
        table.add_row(*(Text(printable(cell)) for cell in cells))  # names and paths as they are, not Rich markup
    if Console(width=10_000).measure(table).maximum > width:  # too wide: name, articles, output share what is left
        table.expand = True
        for flexible in table.columns:
            flexible.ratio, flexible.min_width = (None, None) if flexible.width else (1, 6)
    return table


def short_path(path: Path) -> str:
    """``path`` relative to the current folder when below it, else with the home folder as ``~``."""
    path = path.absolute()
    for base, shown in ((Path.cwd(), ""), (Path.home(), "~/")):
        if path.is_relative_to(base):
            return f"{shown}{path.relative_to(base)}"
    return str(path)


@command(app)
def download(
    run_id: Annotated[
        str,
        typer.Argument(
            metavar="RUN",
            help="Flow-run id or a unique prefix of it (4 characters or more), run name, output folder name, or "
            "`latest`.",
        ),
    ],
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            "-o",
            metavar="PATH",
            help="Where to write it: a file, a folder (made if it ends with /), or - for stdout. "
            "Default: ./<run>-<file>",
        ),
    ] = None,
    file: Annotated[
        str,
        typer.Option(
            "--file",
            metavar="NAME",
            help="Which output: aligned.tsv, aligned.parquet, scores.json, report.md, or any other file of the run "
            "(aligned.jsonl, aligned.tmx, plots/<name>.png, ...).",
        ),
    ] = "aligned.tsv",
    folder: Annotated[
        Path | None,
        typer.Option(
            "--from", metavar="FOLDER", help="Output folder to look in for `latest` and folder names (default: output)."
        ),
    ] = None,
) -> None:
    """Write one output file of RUN (by default its aligned TSV)."""
    from tarjama.app.runs import check_output_name
    from tarjama.app.runs import download as download_run
    from tarjama.app.stopping import ignore_signals

    try:
        check_output_name(file)
        if folder is not None and not folder.is_dir():  # else `latest` was the newest run of another folder
            raise TarjamaError(f"--from {folder}: no such folder (give the output folder your runs wrote into)")
        settings = load_settings()
    except TarjamaError as problem:
        fail(str(problem))
    folder = Path("output") if folder is None else folder
    try:
        into_folder = out is not None and out != "-" and out.endswith(("/", os.sep))  # Path("dl/") drops the /
        label, written = download_run(settings, run_id, Path(out) if out else None, file, folder, into_folder)
    except TarjamaError as problem:
        fail(str(problem), EXIT_FAILED)
    ignore_signals()  # the file is written: a signal now would only cut the line that says so
    where = written if written is not None else f"{file} to standard output"
    errors.print(printable(f"run {label}: wrote {where}"), highlight=False, markup=False, soft_wrap=True)


def _subcommand_path(argv: Sequence[str]) -> list[str]:
    """The (sub)command names at the start of ``argv`` (``["model", "fetch"]``), for a usage error's pointer to help."""
    import typer.core
    import typer.main

    names: list[str] = []
    command = typer.main.get_command(app)
    for word in argv:
        found = command.commands.get(word) if isinstance(command, typer.core.TyperGroup) else None
        if found is None:
            break
        names.append(word)
        command = found
    return names


def entry() -> None:
    """Console-script entry point: click's own usage errors (a misspelt flag, a port out of range) in one
    line like every other error, instead of a box of help around them."""
    from typer import _click as click  # typer's own copy of click: its exceptions are not exported elsewhere

    try:
        status = app(standalone_mode=False, prog_name="tarjama")
    except click.exceptions.NoArgsIsHelpError as problem:
        problem.show()
        status = problem.exit_code
    except click.exceptions.ClickException as problem:
        message = problem.format_message()
        if isinstance(problem, click.exceptions.NoSuchOption):  # its suggestion is formatted as a Python tuple
            close = list(problem.possibilities or [])[:1]  # difflib's closest first
            message = problem.message + (f" (did you mean {close[0]}?)" if close else "")
        command = (
            problem.ctx.command_path if isinstance(problem, click.exceptions.UsageError) and problem.ctx else "tarjama"
        )
        if command == "tarjama":  # an option's missing value is found before the subcommand's context exists
            command = " ".join(["tarjama", *_subcommand_path(sys.argv[1:])])
        errors.print(
            f"tarjama: error: {' '.join(message.split())} (see `{command} --help`)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
        status = problem.exit_code
    except click.exceptions.Abort:
        errors.print("Aborted!", markup=False, highlight=False)
        status = EXIT_FAILED
    sys.exit(status if isinstance(status, int) else 0)
