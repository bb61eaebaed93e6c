"""The whole life of an article and of a corpus: engines, reuse, translate, align, score, check, rows, outputs.

Plain code that knows nothing of Prefect, so ``tarjama align``, the flow, the tests and any other
caller build articles through the same functions. What a caller adds is said through two seams:

- :class:`Events`: log lines and progress (the flow sends them to its run logger and artifacts; a
  plain caller to :mod:`logging`);
- :class:`BatchRunner`: where batches of articles are built (the flow's task runner: threads or
  Dask; here :class:`ThreadRunner`).

Reuse. A shard (:mod:`tarjama.corpus.shards`) is kept per article under a key that hashes the article's
texts with the :class:`PipelineSignature`, every setting that shapes a row; a rerun with the same
key reuses the shard, any other setting builds the article again (``rebuild`` forces it), and so does
an answer of its engine that was no translation (``ArticleResult.unanswered``): the next run asks again.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import hashlib
import json
import logging
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import polars as pl

import tarjama
from tarjama.alignment.align import AlignmentConfig, Bead, align_translation
from tarjama.corpus.inputs import ArticleInput, collect_articles
from tarjama.corpus.outputs import SHARDS
from tarjama.corpus.results import ArticleFailure, ArticleResult, CorpusCounts, PlotRecord, ReferenceResult, RunSummary
from tarjama.corpus.shards import ShardStore
from tarjama.errors import TarjamaError, counted, printable, storage_problem
from tarjama.quality.score import MetricScore, Statistics
from tarjama.settings import Settings
from tarjama.text.article import (
    Document,
    UnitTranslation,
    check_file_name,
    document_id,
    load_document,
    read_utf8,
    reference_label,
)
from tarjama.translation.engines import Engine, create_engine, engine_signature, get_spec
from tarjama.translation.translate import Translation, translate_missing

DEFAULT_RUN_FORMATS = ("tsv", "parquet")
MAX_ARTICLES_PER_TASK = 16
progress_log = logging.getLogger("tarjama.progress")
log = logging.getLogger("tarjama.corpus.build")


# --- the pipeline signature ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PipelineSignature:
    """Every setting that shapes an article's rows, as sacrebleu's signatures say how a score was made.

    Printed in ``scores.json``, the report and the Parquet metadata, and hashed with an article's
    texts into its shard key: two runs reuse each other's articles only if every field is equal.
    """

    segmenter: str  # the sentence splitter's rules version
    clauses: str  # the clause splitter's rules version and length guards
    engine: str  # the engine that translated (never "auto": the one chosen)
    engine_identity: str  # model, service URL and batching; a local model's file, prompt and decoding
    translate: str  # what the engine is given: units alone, or whole sentences (always, under rows of sentences)
    alignment: str  # the aligner's configuration (rows, beads, lengths, band, flag threshold)
    checks: str  # the reference-free checks run, with their settings (a plug-in's with a digest of its code)
    scoring: str  # the metrics of the rows' scores, their sacrebleu signatures and bootstrap
    version: str  # tarjama's own version

    def format(self) -> str:
        """``seg:1|clauses:1,3,3|engine:libre|identity:(...)|translate:units|align:(...)|...|version:X``."""
        return (
            f"seg:{self.segmenter}|clauses:{self.clauses}|engine:{self.engine}|identity:({self.engine_identity})"
            f"|translate:{self.translate}|align:({self.alignment})|checks:{self.checks}|score:({self.scoring})"
            f"|version:{self.version}"
        )

    def differing(self, other: PipelineSignature) -> list[str]:
        """The names of the fields where ``other`` differs from this signature."""
        return [f.name for f in dataclasses.fields(self) if getattr(self, f.name) != getattr(other, f.name)]


def pipeline_signature(settings: Settings) -> PipelineSignature:
    """The signature of a run with ``settings`` (its engine chosen already: see :func:`resolve_engine`)."""
    from tarjama.quality import score
    from tarjama.quality.checks import check_code, create_checks
    from tarjama.text import clauses, segment

    rules = clauses.DEFAULT_RULES
    alignment = alignment_config(settings)
    checks = create_checks(None if settings.checks is None else list(settings.checks))
    codes = [check_code(c) for c in checks]  # None for a built-in check: its code is tarjama's version
    check_settings = json.dumps(
        [[c.name, c.settings(), *([code] if code else [])] for c, code in zip(checks, codes, strict=True)],
        sort_keys=True,
        default=str,
    )
    check_names = [c.name if code is None else f"{c.name}@{code}" for c, code in zip(checks, codes, strict=True)]
    scoring = (
        f"{','.join(score.corpus_metrics())}|rows:{','.join(score.SENTENCE_METRICS)}|bs:{score.N_BOOTSTRAP}"
        f"|seed:{score.SEED}|sacrebleu:{_package_version('sacrebleu')}"
    )
    return PipelineSignature(
        segmenter=str(segment.RULES_VERSION),
        clauses=f"{clauses.RULES_VERSION},{rules.min_words},{rules.min_waw_words}",
        engine=settings.engine,
        engine_identity=engine_identity(settings),
        # what the engine was sent: under rows of sentences, whole sentences whatever --translate says
        translate=str(settings.translate) if alignment.rows == "units" else str(UnitTranslation.SENTENCES),
        alignment=alignment.signature().format().rsplit("|version:", 1)[0],  # the version: below
        checks=(",".join(check_names) or "none") + f"#{_short_hash(check_settings)}",
        scoring=scoring,
        version=tarjama.__version__,
    )


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def alignment_config(settings: Settings) -> AlignmentConfig:
    """The run's alignment configuration, the one `tarjama align --mt` uses too: its signature is in every output."""
    return AlignmentConfig(granularity=settings.rows)


_SIGNATURES: dict[str, dict[str, str]] = {}
_SIGNATURES_LOCK = threading.Lock()


def engine_signature_of(settings: Settings) -> dict[str, str]:
    """What shapes the engine's output (:meth:`Engine.signature`: model, URL, batch limits); for the local
    engine also its model file, prompt and decoding. Cached per process: a web engine is built to learn it,
    and a model file of the user's is hashed (once per file, :func:`~tarjama.translation.model_store.model_digest`);
    the cache is keyed by that file's size and time too, so a process that outlives a change sees it."""
    options = settings.engine_options(settings.engine)
    model_file = _model_file(options) if settings.engine == "local" else None
    key = json.dumps(
        [settings.engine, options, None if model_file is None else _file_mark(model_file)], sort_keys=True, default=str
    )
    with _SIGNATURES_LOCK:
        if key not in _SIGNATURES:
            local = _local_identity(model_file, settings.home) if settings.engine == "local" else {}
            _SIGNATURES[key] = engine_signature(settings.engine, options) | local
        return _SIGNATURES[key]


def _model_file(options: Mapping[str, Any]) -> Path | None:
    """The local engine's model file of the user's (``model_path``); None for the default model."""
    return Path(str(options["model_path"])) if options.get("model_path") else None


def _file_mark(path: Path) -> list[int] | None:
    from tarjama.translation.model_store import file_mark

    try:
        return file_mark(path.stat())
    except OSError:
        return None


def _local_identity(model_file: Path | None, home: Path) -> dict[str, str]:
    """A local model's file (its SHA-256), its prompt, decoding and repair.

    The default model is the file of :data:`~tarjama.translation.model_store.DEFAULT_MODEL`'s SHA-256:
    the engine runs no other (a file that fails the check is assembled again), so it is named by that
    digest without reading it. A file of the user's is hashed, once (:func:`model_digest`): its name and
    size would take a re-quantised model or a fine-tune under the same name for the file that built a shard.
    """
    from tarjama.translation.engines.local import REPAIR_REVISION, SYSTEM_PROMPT
    from tarjama.translation.model_store import DEFAULT_MODEL, model_digest

    if model_file is None:
        file = f"sha256:{DEFAULT_MODEL.sha256[:16]}"
    elif not model_file.is_file():
        file = "missing"
    else:
        digest = model_digest(model_file, home)
        file = "unreadable" if digest is None else f"sha256:{digest[:16]}"
    return {"file": file, "prompt": _short_hash(SYSTEM_PROMPT), "decoding": "greedy", "repair": REPAIR_REVISION}


def engine_identity(settings: Settings) -> str:
    return "|".join(f"{key}:{value}" for key, value in sorted(engine_signature_of(settings).items()) if key != "engine")


def engine_model_of(settings: Settings) -> str:
    return engine_signature_of(settings)["model"]


def engine_url_of(settings: Settings) -> str | None:
    """Where the engine sends its requests (a web engine's signature ``url``), else None: with the engine's
    name and model, what keys its translations in the memory (:func:`~tarjama.translation.memory.memory_model`)."""
    return engine_signature_of(settings).get("url")


def resolve_engine(settings: Settings) -> Settings:
    """``auto`` replaced by the engine it chooses now (Google when reachable, else local); others as they are."""
    if settings.engine != "auto":
        return settings
    from tarjama.translation.engines.auto import choose

    return settings.model_copy(update={"engine": choose(settings.engine_options("google"))})


def article_key(article: ArticleInput, signature: PipelineSignature) -> str:
    """The shard key of ``article`` built under ``signature``: its texts (and id, references and labels)
    hashed with every setting that shapes its rows."""
    return hashlib.sha256(f"{article.digest()}\n{signature.format()}".encode()).hexdigest()[:32]


# --- events ------------------------------------------------------------------------------------------------------


class Events(Protocol):
    """What a build tells its caller: log lines, and progress (sentences of an article, articles of a corpus).

    A log line names articles by id, and an id is a file name: a sink shows it escaped
    (:func:`tarjama.errors.printable`), so a terminal escape in a name cannot recolour a log."""

    def start(self, total: int) -> None: ...

    def log(self, level: int, message: str) -> None: ...

    def sentences(self, article_id: str, done: int, total: int) -> None: ...

    def articles(self, done: int, total: int) -> None: ...


class LogEvents:
    """Events as :mod:`logging` records of ``tarjama.corpus.build``: what a caller without Prefect gets."""

    def start(self, total: int) -> None:
        return None

    def log(self, level: int, message: str) -> None:
        log.log(level, "%s", printable(message))  # article ids in it come from file names

    def sentences(self, article_id: str, done: int, total: int) -> None:
        return None

    def articles(self, done: int, total: int) -> None:
        return None


# --- engines -----------------------------------------------------------------------------------------------------


class EnginePool:
    """One engine per process and configuration, shared by its articles: loading a local model takes
    seconds and a gigabyte. Keyed by everything that builds it, keys included (hashed)."""

    def __init__(self) -> None:
        self._engines: dict[str, Engine] = {}
        self._turns: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, name: str, settings: Settings, prepare: Callable[[Engine], object] | None = None) -> Engine:
        """The engine ``name`` as ``settings`` build it; ``prepare`` (a rate limit) runs once on a new one."""
        options = settings.engine_options(name)
        key = hashlib.sha256(json.dumps([name, options], sort_keys=True, default=str).encode()).hexdigest()
        with self._lock:
            if key not in self._engines:
                engine = create_engine(name, **options)
                if prepare is not None:
                    prepare(engine)
                self._engines[key] = engine
            return self._engines[key]

    @contextmanager
    def turn(self, name: str) -> Iterator[None]:
        """Articles translate one at a time through an engine that cannot decode two at once (a local
        model); web engines translate concurrently, their rate limit pacing the requests."""
        if get_spec(name).rate_limit is not None:
            yield
            return
        with self._lock:
            lock = self._turns.setdefault(name, threading.Lock())
        with lock:
            yield

    def close(self) -> None:
        """Close the engines built so far: connections, and the local model's memory. Not once the process
        has stopped translating on a signal: it is about to exit, and a closed connection would lose the
        answers in flight it waits for (:mod:`tarjama.translation.stopping`)."""
        from tarjama.translation.stopping import stopped

        if stopped():
            return
        with self._lock:
            engines = list(self._engines.values())
            self._engines.clear()
        for engine in engines:
            engine.close()


ENGINES = EnginePool()
"""This process's engines: a Dask worker builds its own on its first article."""


# --- one article -------------------------------------------------------------------------------------------------


@dataclass
class ArticleJob:
    """One article as the driver hands it to a worker: its texts, references, and the translations the
    memory already holds for it."""

    article: Document
    references: list[Document]
    known: dict[str, str]
    labels: list[str] = dataclasses.field(default_factory=list)  # the references' labels (a manifest's own)


@dataclass
class ArticleOutcome:
    """What a worker sends back: the summary, the rows, the translations it paid for, and the score
    statistics of the rows against the first reference (for the corpus's scores)."""

    result: ArticleResult
    rows: pl.DataFrame
    new_translations: list[tuple[str, str]]
    statistics: Statistics | None
    journal_problem: str | None = None  # why the journal could not be written: the translations are only here


@dataclass
class ArticleError:
    """An article that failed for a reason a retry cannot cure, in one line: it fails alone."""

    reason: str


JOURNAL_LOCK = threading.Lock()
"""Articles built on threads of one process share its journal file: two connections setting it up or
writing it at once can fail at once with "database is locked" (SQLite does not wait where waiting could
deadlock), so they take turns."""


def build_article(
    job: ArticleJob,
    settings: Settings,
    events: Events | None = None,
    prepare: Callable[[Engine], object] | None = None,
) -> ArticleOutcome:
    """Translate what ``job.known`` lacks, align to each reference, score and check: one article's rows.

    Runs wherever the caller puts it (a thread, a Dask worker on another machine). Every new
    translation goes to this process's journal the moment it arrives, and back to the driver in
    the outcome, which stores it in the translation memory: workers never write the memory itself,
    so it needs no shared file system and no lock across machines. A retry, or a re-run after a
    worker was killed, finds what was already paid for in the journals.
    """
    from tarjama.alignment.regroup import item_translations, translation_texts
    from tarjama.translation.memory import (
        TranslationMemory,
        journal_folder,
        journal_path,
        memory_model,
        read_journals,
    )

    events = events or LogEvents()
    article, references, known = job.article, job.references, job.known
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(timings.get(stage, 0.0) + now - clock, 3)
        clock = now

    name, model, url = settings.engine, engine_model_of(settings), engine_url_of(settings)
    config = alignment_config(settings)
    texts = translation_texts(article, config.rows, settings.translate)
    what = "sentence" if texts == article.texts else "clause unit"
    journals = journal_folder(settings.home, settings.memory_path)
    new: list[tuple[str, str]] = []
    journal: list[TranslationMemory] = []
    journal_problem: list[str] = []

    def store(source: str, target: str) -> None:
        new.append((source, target))  # first: back to the driver whatever becomes of the journal
        with JOURNAL_LOCK:  # one writer at a time on this process's journal file
            if journal_problem:
                return  # not written for the rest of this article: the driver stores what it gets
            try:
                if not journal:
                    journals.mkdir(parents=True, exist_ok=True)
                    journal.append(TranslationMemory(journal_path(journals)))
                journal[0].store(name, model, source, target, url=url)
            except (TarjamaError, sqlite3.Error, OSError) as problem:  # a full disk, a read-only home
                journal_problem.append(journal_write_problem(journal_path(journals), problem))

    last_update = 0.0

    def sentence_progress(done: int, total: int) -> None:
        nonlocal last_update
        now = time.monotonic()
        if total and (done in (0, total) or now - last_update >= 2.0):
            last_update = now
            events.log(logging.INFO, f"{article.id}: translated {done}/{counted(total, 'new ' + what)}")
            events.sentences(article.id, done, total)

    try:
        with ENGINES.turn(name):  # then the journals: an article waiting for its turn finds what the others paid for
            known = {**read_journals(journals, name, model, [s for s in texts if s not in known], url=url), **known}
            translation = translate_missing(
                texts,
                name,
                model,
                known,
                lambda: ENGINES.get(name, settings, prepare),
                store,
                sentence_progress,
                memory_field=memory_model(name, model, url),
            )
    finally:
        if journal:
            with JOURNAL_LOCK:
                journal[0].close()
    lap("translate")
    # answers that are no translation (memory.kept): used here, not stored, asked again by the next run
    translated, unanswered = translation.translations, len(translation.unanswered)
    from_memory = sum(t.from_memory for t in translated)
    # the rest of what this article did not store was translated by articles built at the same time
    shared = max(len({s for s in texts if s not in known}) - len(new) - unanswered, 0)
    events.log(
        logging.INFO,
        f"{article.id}: {counted(len(translated), what)}, {from_memory} from the memory, "
        f"{counted(len(new), 'distinct ' + what)} newly translated"
        + (f", {shared} by another article at the same time" if shared else ""),
    )
    if unanswered:  # the answers translate_missing did not store (memory.kept); the run warns once of all
        events.log(
            logging.INFO,
            f"{article.id}: engine {name} answered {counted(unanswered, what)} with no translation (empty, or the "
            "Arabic sent back): used in this run, not kept in the memory; the next run asks again",
        )
    translations = item_translations(article, config.rows, settings.translate, translated)
    rows = article_rows(article, translations, references, config, settings.checks, lap, job.labels)
    result = ArticleResult(
        article_id=article.id,
        path=str(article.path),
        sentences=len(article.sentences),
        units=len(article.units),
        engine=name,
        model=model,
        translated_texts=len(translated),
        from_memory=from_memory,
        unanswered=unanswered,
        references=rows.references,
        timings_s=timings,
        engine_signature=engine_signature_of(settings),
        checks_failed=rows.checks_failed,
    )
    return ArticleOutcome(result, rows.frame, new, rows.statistics, next(iter(journal_problem), None))


def journal_write_problem(path: Path, problem: Exception) -> str:
    """Why the journal ``path`` could not be written, in one line naming it (or its folder)."""
    from tarjama.translation.memory import storage_error

    if isinstance(problem, TarjamaError):
        return str(problem)
    if isinstance(problem, sqlite3.Error):
        return str(storage_error(path, problem) or f"{path}: cannot write ({problem})")
    if isinstance(problem, OSError):
        named = problem.filename or path
        return printable(f"{named}: cannot write ({storage_problem(problem) or problem.strerror or problem})")
    return printable(f"{path}: cannot write ({problem})")


@dataclass
class ArticleRows:
    """An article's rows against each of its references (or none), checked, with their summaries."""

    frame: pl.DataFrame
    references: list[ReferenceResult]
    checks_failed: dict[str, int]
    statistics: Statistics | None  # of the rows against the first reference, for a corpus's scores
    beads: Sequence[Bead]  # of the alignment to the first reference (or to none), for `tarjama align --beads`


def article_rows(
    article: Document,
    translations: Sequence[Translation],
    references: Sequence[Document],
    config: AlignmentConfig,
    checks: Sequence[str] | None = None,
    lap: Callable[[str], None] | None = None,
    labels: Sequence[str] = (),
) -> ArticleRows:
    """Align ``translations`` (one per item of ``config.rows``) to each reference, score, check: the rows
    ``tarjama run`` writes for an article and ``tarjama align --mt`` for a pair of files. ``labels`` name
    the references in the rows (a manifest's ``en``, ``en-b``); by default, from their file names."""
    from tarjama.alignment.regroup import align_article
    from tarjama.corpus.schema import bead_rows, to_frame
    from tarjama.quality.checks import check_rows
    from tarjama.quality.score import scores_from_statistics

    lap = lap or (lambda stage: None)
    mt = [t.text for t in translations]
    frames: list[pl.DataFrame] = []
    summaries = []
    first_statistics = None
    first_beads: Sequence[Bead] | None = None
    every: list[Document | None] = [*references] if references else [None]
    for index, reference in enumerate(every):
        alignment = align_article(article, mt, reference.texts if reference else None, config)
        first_beads = alignment.beads if first_beads is None else first_beads
        lap("align")
        row_dicts, statistics = bead_rows(article, translations, reference, alignment.beads, config.rows, metrics=None)
        rows = to_frame(row_dicts)
        if reference is not None and index < len(labels):
            rows = rows.with_columns(reference=pl.lit(labels[index], pl.String))
        frames.append(rows)
        one_sided = (rows["arabic"] == "") | (rows["english_reference"] == "")
        summary = ReferenceResult(
            rows=rows.height,
            flagged=int(rows["flagged"].sum()),
            unmatched=int(one_sided.sum()) if reference else 0,
            doubtful=int((one_sided | rows["flagged"]).sum()) if reference else 0,
        )
        if reference is not None and statistics is not None:
            first_statistics = statistics if first_statistics is None else first_statistics
            summary = summary.model_copy(
                update={
                    "reference": rows["reference"][0],
                    "path": str(reference.path),
                    "reference_sentences": len(reference.sentences),
                    "scores": scores_from_statistics(statistics),
                }
            )
            lap("score")
        summaries.append(summary)
    frame, failed_counts = check_rows(pl.concat(frames), checks)
    lap("check")
    return ArticleRows(frame, summaries, failed_counts, first_statistics, first_beads or [])


# --- tarjama align -----------------------------------------------------------------------------------------------


@dataclass
class AlignedFiles:
    """What ``tarjama align`` wrote: counts for its summary line and the alignment's signature."""

    arabic_sentences: int
    english_sentences: int
    rows: int
    flagged: int
    method: str
    signature: str


STDOUT = "-"


def _write_or_print(write: Callable[[Path], Path], target: Path) -> None:
    """``write`` into ``target``, or for ``-`` into a file sent to standard output: the same bytes either way."""
    if str(target) != STDOUT:
        write(target)
        return
    with tempfile.TemporaryDirectory() as folder, write(Path(folder) / "out").open("rb") as written:
        shutil.copyfileobj(written, sys.stdout.buffer)
    sys.stdout.buffer.flush()


def align_files(
    arabic: Path,
    english: Path,
    mt: Path | None,
    out: Path,
    settings: Settings,
    presegmented: bool = False,
    beads: Path | None = None,
) -> AlignedFiles:
    """Align two files without translating and write the rows as a TSV (``-``: standard output): through
    ``mt`` (one line per Arabic sentence, the rows a run would give, checked as a run checks them) or,
    without it, by sentence length. ``presegmented``: every line is one sentence, never re-split;
    ``beads``: the alignment also as Vecalign's bead lines.

    Either output may be ``-``: standard output (not both). Every problem with the inputs or the outputs'
    folders is a :class:`TarjamaError` raised before anything is written.
    """
    from tarjama.alignment.beads import load_presegmented, write_beads
    from tarjama.alignment.regroup import item_translations
    from tarjama.corpus.outputs import check_output_parent
    from tarjama.corpus.schema import bead_rows, to_frame, write_tsv

    load = load_presegmented if presegmented else load_document
    check_file_name(arabic, document_id(arabic), "article id")  # the rows' ids, as `tarjama run` checks them
    check_file_name(english, reference_label(english), "reference label")
    source = load(arabic, "ar")
    reference = load(english, "en", source.id)
    lines: list[str] = []
    if mt is not None:
        lines = [line.strip() for line in read_utf8(mt).splitlines() if line.strip()]
        if len(lines) != len(source.sentences):
            raise TarjamaError(
                f"{mt}: {len(lines)} MT lines, but {arabic} splits into {len(source.sentences)} Arabic sentences "
                "(give one line per Arabic sentence; `tarjama align` without --mt lists them in its arabic column)"
            )
    to_stdout = str(out) == STDOUT
    if not to_stdout:
        if out.is_dir():
            raise TarjamaError(f"{out}: output path is a directory, expected a TSV file name")
        check_output_parent(out)
    if beads is not None and str(beads) == STDOUT and to_stdout:
        raise TarjamaError("-o - and --beads -: standard output can take only one of them")
    if beads is not None and str(beads) != STDOUT:
        if not to_stdout and beads.resolve() == out.resolve():
            raise TarjamaError(f"{beads}: named for both the TSV (-o) and the beads (--beads); give each its own file")
        check_output_parent(beads)
    if mt is not None:  # the configuration `tarjama run` uses; each unit's MT cut from its sentence's line
        config = alignment_config(settings)
        per_sentence = [Translation(line, "mt-file", mt.name, False) for line in lines]
        translations = item_translations(source, config.rows, UnitTranslation.SENTENCES, per_sentence)
        built = article_rows(source, translations, [reference], config, settings.checks)
        frame, method, aligned_beads = built.frame, f"through MT {mt}", built.beads
    else:  # no MT: aligned by length, nothing to score or check
        config = AlignmentConfig(aligner="gale-church")
        translations = [Translation("", "none", "gale-church", False) for _ in source.sentences]
        alignment = align_translation(source.texts, None, reference.texts, config)
        frame = to_frame(bead_rows(source, translations, reference, alignment.beads, config.rows)[0])
        frame = frame.with_columns(sentence_chrf=pl.lit(None, pl.Float64), sentence_bleu=pl.lit(None, pl.Float64))
        method, aligned_beads = "by length (Gale-Church)", alignment.beads
    _write_or_print(lambda target: write_tsv(frame, target), out)
    if beads is not None:
        _write_or_print(lambda target: write_beads(source, aligned_beads, config.rows, target), beads)
    return AlignedFiles(
        len(source.sentences),
        len(reference.sentences),
        frame.height,
        int(frame["flagged"].sum()),
        method,
        config.signature().format(),
    )


# --- a corpus ----------------------------------------------------------------------------------------------------


class BatchHandle(Protocol):
    def result(self) -> list[ArticleOutcome | ArticleError]: ...


class BatchRunner(Protocol):
    """Where batches of articles are built: :func:`build_batch` on each, somewhere."""

    def submit(self, jobs: list[ArticleJob]) -> BatchHandle: ...

    def as_completed(self, handles: Sequence[BatchHandle]) -> Iterator[BatchHandle]: ...


class ThreadRunner:
    """Batches built on this process's threads: the runner of a caller without Prefect."""

    def __init__(self, settings: Settings, workers: int = 4, events: Events | None = None) -> None:
        self.settings, self.events = settings, events or LogEvents()
        self.pool = concurrent.futures.ThreadPoolExecutor(max(1, workers), thread_name_prefix="tarjama-build")

    def submit(self, jobs: list[ArticleJob]) -> BatchHandle:
        return self.pool.submit(build_batch, jobs, self.settings, self.events)

    def as_completed(self, handles: Sequence[BatchHandle]) -> Iterator[BatchHandle]:
        return concurrent.futures.as_completed(handles)  # type: ignore[arg-type]  # the futures of submit()

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def retryable(problem: BaseException) -> bool:
    """A failure a retry can cure: a service or network that may be back soon, or a memory another
    writer held past its timeout. Anything else (a user's problem, a programming error) fails at once."""
    import sqlite3

    import httpx

    from tarjama.translation.engines.transport import EngineUnavailable, ServiceAsksToWait

    if isinstance(problem, ServiceAsksToWait):  # the service's wish wins over any retry schedule
        return False
    if isinstance(problem, sqlite3.OperationalError):
        return "locked" in str(problem)
    return isinstance(problem, (EngineUnavailable, httpx.TransportError, ConnectionError, TimeoutError))


def one_line(problem: BaseException) -> str:
    text = str(problem).strip().splitlines()
    return f"{type(problem).__name__}: {text[0] if text else ''}" if not isinstance(problem, TarjamaError) else text[0]


def build_batch(
    jobs: list[ArticleJob],
    settings: Settings,
    events: Events | None = None,
    prepare: Callable[[Engine], object] | None = None,
) -> list[ArticleOutcome | ArticleError]:
    """Build ``jobs`` one after another: one outcome or one error per article.

    An article's own failure is its error and the others go on; a transient one (a service down)
    is raised, so the caller's retry finds every translation already paid for in the journals.
    """
    outcomes: list[ArticleOutcome | ArticleError] = []
    for job in jobs:
        try:
            outcomes.append(build_article(job, settings, events, prepare))
        except Exception as problem:
            if retryable(problem):
                raise
            outcomes.append(ArticleError(one_line(problem)))
    return outcomes


def articles_per_task(articles: int, workers: int) -> int:
    """How many articles one batch builds. An orchestrator's cost per task is fixed and about that of a
    small article's work, so a batch holds several; but at most a quarter of each worker's share, so
    every worker stays busy to the end."""
    return max(1, min(MAX_ARTICLES_PER_TASK, articles // (max(1, workers) * 4)))


ETA_AFTER_ARTICLES, ETA_AFTER_S = 5, 10.0
"""No ETA until this many articles are built and this many seconds have passed: the first articles carry the
start-up (the task runner, the engine, the batches filling the workers) and arrive a batch at a time, so an
ETA from them alone was far off (798 s after 2 of 300 articles that took 25 s in all)."""


READING, BUILDING, WRITING = "reading", "articles", "writing"
"""What a run is doing, as the live bar names it: a run of thousands of articles spent seconds reading its
inputs with the bar at 0/N, and its merge with the bar at N/N, saying nothing. No longer than "articles":
at 80 columns a longer label cut the bar's detail (the sentences translated, the rate)."""


def report_stage(stage: str) -> None:
    """A ``tarjama.progress`` record naming what the run does now (:data:`READING` ...), for the live bar."""
    progress_log.info("%s", stage, extra={"tarjama_progress": {"stage": stage}})


class CorpusProgress:
    """Articles done of total, sentences translated, rate and ETA: ``tarjama.progress`` log records the CLI
    shows live, and :meth:`Events.articles` at most every 2 s (and at the end)."""

    def __init__(self, total: int, events: Events) -> None:
        self.total, self.events = total, events
        self.done_articles = self.failed_articles = self.reused = self.translated = 0
        self.started = self.last = time.monotonic()

    def done(self, translated: int, reused: bool = False) -> None:
        self.done_articles += 1
        self.reused += reused
        self.translated += translated
        self._report()

    def failed(self) -> None:
        self.failed_articles += 1
        self._report()

    def _report(self) -> None:
        finished = self.done_articles + self.failed_articles
        elapsed = time.monotonic() - self.started
        built = finished - self.reused
        rate = built / elapsed if elapsed > 0 else 0.0
        settled = built >= ETA_AFTER_ARTICLES and elapsed >= ETA_AFTER_S
        eta = (self.total - finished) / rate if rate > 0 and settled else None
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
            self.events.articles(finished, self.total)


@dataclass(frozen=True)
class CorpusRequest:
    """What to build, and how: a run's parameters beside its :class:`Settings`."""

    sources: Sequence[str]
    references: Sequence[str] = ()
    out: Path = Path("output")
    run_name: str = ""
    formats: Sequence[str] = DEFAULT_RUN_FORMATS
    dedupe: bool = False
    min_confidence: float | None = None
    fail_fast: bool = False
    workers: int = 4
    filter_checks: Sequence[str] = ()
    rebuild: bool = False
    engine_requested: str = ""  # what the user asked for ("auto"), when the settings hold the engine chosen
    run_id: str = ""  # the orchestrator's id of the run, recorded in scores.json


@dataclass
class CorpusBuild:
    """The articles of a corpus built or reused, in input order, with the shard keys their rows are under and
    the SHA-256 of each shard's rows (by key; None for a shard an older tarjama wrote without it)."""

    inputs: list[ArticleInput]
    results: dict[str, ArticleResult]
    keys: dict[str, str]
    failures: list[ArticleFailure]
    reused: int
    rebuilt_under_other_settings: int
    rows_sha256: dict[str, str | None] = dataclasses.field(default_factory=dict)

    @property
    def ordered(self) -> list[str]:
        return [a.id for a in self.inputs if a.id in self.results]


def build_corpus(
    request: CorpusRequest,
    settings: Settings,
    runner: BatchRunner,
    events: Events | None = None,
) -> RunSummary:
    """Build a parallel corpus from ``request.sources`` into ``<out>/<run_name>/``: every article (reused
    from its shard when built before with the same texts and :class:`PipelineSignature`), then the
    merged outputs, report and plots (:func:`write_run`). ``-e auto`` is resolved here unless the caller
    did (:func:`resolve_engine`); both engines are recorded. A bad article fails alone, listed in
    ``scores.json``.
    """
    from tarjama.corpus.outputs import new_run_name

    events = events or LogEvents()
    started = time.perf_counter()
    check_request(request, settings)
    request = dataclasses.replace(request, engine_requested=request.engine_requested or settings.engine)
    settings = resolve_engine(settings)
    run_name = request.run_name or new_run_name(list(request.sources))
    built = build_articles(request, settings, runner, events)
    if not built.ordered:
        raise TarjamaError("no article could be built: " + "; ".join(f.reason for f in built.failures[:3]))
    return write_run(request, settings, run_name, built, events, started)


def check_request(request: CorpusRequest, settings: Settings) -> None:
    """What can be checked before anything is paid for: the run's name, the output folder, the memory, a
    filter on checks (the run form asks for them too, not only the CLI)."""
    from tarjama.corpus.outputs import check_latest, check_output_folder, check_run_name
    from tarjama.quality.checks import check_filters_run
    from tarjama.translation.memory import TranslationMemory

    if request.run_name:
        check_run_name(request.run_name)
    check_output_folder(request.out)  # and its .shards folder
    check_latest(request.out)
    TranslationMemory.check(settings.memory_path)
    check_filters_run(request.filter_checks, settings.checks)


def build_articles(request: CorpusRequest, settings: Settings, runner: BatchRunner, events: Events) -> CorpusBuild:
    """Every article of the request: reused from its shard, or built by ``runner`` a batch at a time, at
    most ``2 × workers`` batches in flight (the driver never holds the whole corpus)."""
    from tarjama.alignment.regroup import translation_texts
    from tarjama.translation.memory import TranslationMemory, save_journals

    signature = pipeline_signature(settings)
    model, url = engine_model_of(settings), engine_url_of(settings)
    report_stage(READING)
    inputs = collect_articles(list(request.sources), [Path(r) for r in request.references])
    shards = ShardStore(request.out / SHARDS)
    shards.sweep()  # once a run: write_run opens the store again only to read it
    events.start(len(inputs))
    report_stage(BUILDING)
    progress = CorpusProgress(len(inputs), events)
    built = CorpusBuild(inputs, {}, {}, [], 0, 0)
    pending: dict[BatchHandle, list[tuple[ArticleInput, str]]] = {}
    per_task = articles_per_task(len(inputs), request.workers)
    batch: list[tuple[ArticleInput, str]] = []
    jobs: list[ArticleJob] = []
    # what a killed run into this memory paid for; a damaged journal is set aside, with a warning
    save_journals(settings.home, settings.memory_path, lambda damage: events.log(logging.WARNING, damage))
    journal_problems: list[str] = []
    with TranslationMemory(settings.memory_path) as memory:

        def fail(article: ArticleInput, reason: str) -> None:
            built.failures.append(ArticleFailure(article_id=article.id, origin=article.origin, reason=reason))
            if request.fail_fast:  # the run fails with this one line: its error is the report
                raise TarjamaError(f"article {article.id} failed: {reason} (--fail-fast)")
            events.log(logging.ERROR, f"article {article.id} failed: {reason}")
            progress.failed()

        def settle(handle: BatchHandle) -> None:
            batch_articles = pending.pop(handle)
            try:
                outcomes = handle.result()
            except Exception as problem:  # the batch failed as a whole: a fault its retries did not cure
                outcomes = [ArticleError(one_line(problem))] * len(batch_articles)
            for (article, shard_key), outcome in zip(batch_articles, outcomes, strict=True):
                if isinstance(outcome, ArticleError):
                    fail(article, outcome.reason)
                    continue
                memory.store_many(settings.engine, model, outcome.new_translations, url=url)
                if outcome.journal_problem is not None:  # stored just now: the run fails once all are stored
                    journal_problems.append(outcome.journal_problem)
                built.rows_sha256[shard_key] = shards.put(
                    shard_key, outcome.rows, outcome.result, outcome.statistics, texts=article_text_key(article)
                )
                built.results[article.id], built.keys[article.id] = outcome.result, shard_key
                progress.done(len(outcome.new_translations))

        def submit() -> None:
            pending[runner.submit(list(jobs))] = list(batch)
            batch.clear()
            jobs.clear()
            while len(pending) >= max(1, request.workers) * 2:
                settle(next(runner.as_completed(list(pending))))

        for article in inputs:
            if journal_problems:  # the run fails: nothing more is sent to be translated, what is under way is kept
                break
            try:  # an article built before is reused without being read and split again
                shard_key: str | None = article_key(article, signature)
            except OSError:  # unreadable: article.load() below says why, in one line
                shard_key = None
            except UnicodeEncodeError as invalid:  # a manifest's text is not Unicode text: this article alone
                fail(article, f"{article.origin}: article {article.id} is not valid text ({invalid.reason})")
                continue
            if shard_key and not request.rebuild:
                record = shards.get(shard_key, article.id)
                for damage in shards.problems:
                    events.log(logging.WARNING, damage)
                shards.problems.clear()
                if record is not None and record.result.unanswered:  # its engine owes it translations: asked again
                    events.log(
                        logging.INFO,
                        f"{article.id}: built before with {counted(record.result.unanswered, 'answer')} that were "
                        "no translation: built again",
                    )
                elif record is not None:
                    built.results[article.id], built.keys[article.id] = read_here(record.result, article), shard_key
                    built.rows_sha256[shard_key] = record.rows_sha256
                    built.reused += 1
                    progress.done(0, reused=True)
                    continue
            try:
                document, refs = article.load()
                shard_key = shard_key or article_key(article, signature)
            except (TarjamaError, OSError) as problem:
                fail(article, str(problem))
                continue
            if shards.built_under_other_key(article_text_key(article), shard_key):
                built.rebuilt_under_other_settings += 1
            known = memory.lookup(
                settings.engine, model, translation_texts(document, settings.rows, settings.translate), url=url
            )
            batch.append((article, shard_key))
            jobs.append(ArticleJob(document, refs, known, [r.label for r in article.references]))
            if len(jobs) >= per_task:
                submit()
        if jobs and not journal_problems:
            submit()
        for handle in runner.as_completed(list(pending)):
            settle(handle)
    if journal_problems:  # a run whose answers a crash would lose is not one to go on with on that disk
        raise TarjamaError(
            f"{journal_problems[0]}; every sentence this run translated is kept in {settings.memory_path} and "
            "every article built is kept for the next run; no output was written; make room and run the same "
            "command again"
        )
    if built.rebuilt_under_other_settings:
        events.log(
            logging.INFO,
            f"{counted(built.rebuilt_under_other_settings, 'article')} built before under other settings: rebuilt "
            f"(pipeline signature {signature.format()})",
        )
    return built


def read_here(result: ArticleResult, article: ArticleInput) -> ArticleResult:
    """A reused article's summary with the paths this run read it from. Its shard is keyed by its texts, not
    by where they were (a copied folder, a reordered manifest reuse it): the rows are the same, but the
    summary kept beside them names the files, or manifest lines, of the run that built it."""
    paths = {reference.label: str(reference.source.origin) for reference in article.references}
    references = [
        ref.model_copy(update={"path": paths.get(ref.reference or "", ref.path)}) for ref in result.references
    ]
    return result.model_copy(update={"path": article.origin, "references": references})


def article_text_key(article: ArticleInput) -> str:
    """An article's identity without the settings (its id and texts): which shard it had last."""
    return article.digest()[:32]


def write_run(
    request: CorpusRequest, settings: Settings, run_name: str, built: CorpusBuild, events: Events, started: float
) -> RunSummary:
    """The merged outputs of a built corpus, written into a staging folder renamed ``<out>/<run_name>`` when
    complete: the export formats, ``scores.json``, ``report.md``/``.html`` and the plots."""
    from tarjama.corpus.export import export_corpus
    from tarjama.corpus.outputs import check_writing, staged_run_folder
    from tarjama.corpus.readers import scan_parquet
    from tarjama.corpus.report import render_html, render_report
    from tarjama.corpus.schema import write_text

    report_stage(WRITING)
    shards = ShardStore(request.out / SHARDS)
    ordered = built.ordered
    signature = pipeline_signature(settings)
    summary = RunSummary(
        run=run_name,
        flow_run_id=request.run_id,
        engine_requested=request.engine_requested or settings.engine,
        engine_used=settings.engine,
        articles=[built.results[i] for i in ordered],
        failures=built.failures,
        alignment_signature=alignment_config(settings).signature().format(),
        pipeline_signature=signature.format(),
    )
    keys = [built.keys[i] for i in ordered]
    corpus = shards.scan(keys)
    target = request.out / run_name
    # the references judged once: the filtered corpus leaves the foreign out, scores.json and the log warn
    missing, foreign = missing_references(summary.articles), foreign_references(summary.articles)
    judged = sum(1 for _ in judged_references(summary.articles))
    with staged_run_folder(request.out, run_name) as staging:
        exported = export_corpus(
            corpus,
            staging,
            list(dict.fromkeys([*request.formats, "parquet"])),  # the viewer reads the Parquet
            dedupe=request.dedupe,
            min_confidence=request.min_confidence,
            passing=request.filter_checks,
            leave_out=[(one.article_id, one.reference) for one in foreign],
            provenance={
                "tarjama.pipeline": summary.pipeline_signature,
                "tarjama.alignment": summary.alignment_signature,
                "tarjama.engine": f"{settings.engine}|{engine_model_of(settings)}",
            },
        )
        check_writing()  # a process stopping on a signal waits only for the step under way
        # what the Parquet holds: after --dedupe
        flagged = int(scan_parquet(staging / "aligned.parquet").select(pl.col("flagged").sum()).collect().item())
        summary = summary.model_copy(
            update={
                "overall": overall_scores(shards, built.keys, summary, built.rows_sha256, settings.home / "scores"),
                "warnings": [*reference_warnings(missing, foreign), *unanswered_warnings(summary.articles)],
                "checks_failed": total_failures(summary.articles),
                "plots": draw_plots(
                    corpus, staging, settings.home / "plots", shards.rows_digest(keys, built.rows_sha256)
                ),
                "counts": CorpusCounts(
                    rows=exported.rows,
                    flagged=flagged,
                    reused_articles=built.reused,
                    rebuilt_articles=built.rebuilt_under_other_settings,
                    duplicates_dropped=exported.dedupe.dropped if exported.dedupe else None,
                    filter=exported.filter,
                    filtered_rows=exported.filtered_rows,
                    filtered_left_out_references=exported.left_out_references,
                    files=sorted(  # a set: the hf format's one README.md names the full and the filtered files
                        {
                            p.name
                            for paths in [*exported.files.values(), *exported.filtered_files.values()]
                            for p in paths
                        }
                    ),
                ),
                "wall_time_s": round(time.perf_counter() - started, 3),
            }
        )
        check_writing()
        # the same bytes as json.dumps(model_dump()), without a dict per field (~80 MB at 10,000 articles)
        write_text(summary.model_dump_json(indent=2) + "\n", staging / "scores.json")
        report = render_report(summary)
        write_text(report, staging / "report.md")
        write_text(render_html(report, f"tarjama run {run_name}"), staging / "report.html")
    for warning in [*logged_warnings(missing, foreign, judged), *unanswered_warnings(summary.articles)]:
        events.log(logging.WARNING, warning)
    events.log(
        logging.INFO,
        f"wrote {target} ({counted(summary.counts.rows, 'row')}, {counted(len(ordered), 'article')}, "
        f"{len(built.failures)} failed)",
    )
    return summary.model_copy(update={"output_dir": str(target)})


MISMATCH_SHARE = 0.6
MISMATCH_CHRF = 25.0
MISMATCH_CHRF_ALONE, MISMATCH_ALONE_SENTENCES = 20.0, 2
"""A reference seems to be another article's when its chrF is below ``MISMATCH_CHRF_ALONE`` (with at least
``MISMATCH_ALONE_SENTENCES`` sentences), or below ``MISMATCH_CHRF`` with most rows flagged or without a
counterpart (the pair confidence alone may not flag such rows, since lengths can agree by chance). With
the local model's MT of ntrex128-dev, another article's reference gives chrF 13 to 21 for a whole
article, and two-sentence pieces of the right one fall below 20 once in a hundred, but one sentence in
18 does: a one-sentence reference is judged by its row alone. Its rows stay in the corpus; a filtered corpus
leaves them out (:func:`foreign_references`)."""


@dataclass(frozen=True, slots=True)
class ForeignReference:
    """A reference that seems to belong to another article (:data:`MISMATCH_CHRF_ALONE`)."""

    article_id: str
    reference: str  # its label
    path: str | None
    doubtful: int  # rows flagged or without a counterpart
    rows: int
    chrf: float

    def warning(self) -> str:
        return (
            f"article {self.article_id}: reference {self.reference} ({self.path}) seems to belong to another "
            f"article ({self.doubtful} of {self.rows} rows flagged or without a counterpart, chrF {self.chrf:.1f}); "
            "its rows stay in the corpus, and a filtered one (--min-confidence, --filter-checks) leaves them out"
        )


def judged_references(articles: Sequence[ArticleResult]) -> Iterator[tuple[str, str, ReferenceResult, float]]:
    """The references :func:`foreign_references` judges (with rows and a chrF): article id, label, result, chrF."""
    for article in articles:
        for ref in article.references:
            chrf = ref.score("chrF")
            if ref.reference and ref.rows and chrf is not None:
                yield article.article_id, ref.reference, ref, chrf


def foreign_references(articles: Sequence[ArticleResult]) -> list[ForeignReference]:
    """The references that seem to belong to another article: their rows pair sentences no confidence can
    vouch for (each row's lengths may agree by chance), so a filtered corpus leaves them out."""
    found = []
    for article_id, label, ref, chrf in judged_references(articles):
        long_enough = (ref.reference_sentences or 0) >= MISMATCH_ALONE_SENTENCES
        low = chrf < MISMATCH_CHRF_ALONE and long_enough
        if low or (ref.doubtful >= MISMATCH_SHARE * ref.rows and chrf < MISMATCH_CHRF):
            found.append(ForeignReference(article_id, label, ref.path, ref.doubtful, ref.rows, chrf))
    return found


def reference_warnings(missing: Sequence[str], foreign: Sequence[ForeignReference]) -> list[str]:
    """What a user should know before trusting the scores: articles without a reference (nothing scored:
    ``missing``, from :func:`missing_references`), and each reference that seems to belong to another
    article (``foreign``, from :func:`foreign_references`): what ``scores.json`` keeps."""
    return [*missing, *(one.warning() for one in foreign)]


def missing_references(articles: Sequence[ArticleResult]) -> list[str]:
    """One line for the articles without a reference, if any, naming the first few."""
    missing = [a.article_id for a in articles if not any(r.reference for r in a.references)]
    if not missing:
        return []
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return [f"articles without a reference, so no score: {len(missing)} of {len(articles)} ({shown})"]


def unanswered_warnings(articles: Sequence[ArticleResult]) -> list[str]:
    """One line for the articles whose engine answered texts with no translation, if any, naming the first few."""
    owed = [a for a in articles if a.unanswered]
    if not owed:
        return []
    shown = ", ".join(a.article_id for a in owed[:5]) + (f" and {len(owed) - 5} more" if len(owed) > 5 else "")
    total = sum(a.unanswered for a in owed)
    return [
        f"the engine answered {counted(total, 'text')} with no translation (empty, or the Arabic sent back), in "
        f"{counted(len(owed), 'article')} ({shown}): their rows have that answer, which is not kept in the "
        "translation memory; the next run asks again"
    ]


MAX_LISTED_WARNINGS = 5
"""How many references that seem another article's the run's log lists one by one; one more line counts them
all (``scores.json`` lists every one)."""
SUSPECT_MT_SHARE, SUSPECT_MT_REFERENCES = 0.5, 10
"""When more than this share of the judged references (of at least this many) seem another article's, the
translations are the likelier culprit (a wrong engine or language, a service answering something else)."""


def logged_warnings(missing: Sequence[str], foreign: Sequence[ForeignReference], judged: int) -> list[str]:
    """:func:`reference_warnings` as the run's log shows them: the first :data:`MAX_LISTED_WARNINGS`
    references that seem another article's, then one line that counts them all of the ``judged`` (see
    :func:`judged_references`), and says to suspect the translations when most do, so 1,800 of them are
    not 1,800 lines."""
    lines = [*missing, *(one.warning() for one in foreign[:MAX_LISTED_WARNINGS])]
    if len(foreign) > MAX_LISTED_WARNINGS:
        line = (
            f"{len(foreign)} of {judged} references seem to belong to another article "
            f"({MAX_LISTED_WARNINGS} listed above, {len(foreign) - MAX_LISTED_WARNINGS} more in scores.json)"
        )
        if judged >= SUSPECT_MT_REFERENCES and len(foreign) > SUSPECT_MT_SHARE * judged:
            line += "; when most do, suspect the translations rather than the references"
        lines.append(line)
    return lines


def draw_plots(
    corpus: pl.LazyFrame, folder: Path, cache: Path | None = None, cache_key: str | None = None
) -> list[PlotRecord]:
    """The run's plots in ``folder/plots``, counted over every row by polars' streaming engine (bounded
    memory); with a ``cache`` and a digest of the rows as ``cache_key`` (:meth:`ShardStore.rows_digest`), a rerun
    of the same rows copies them."""
    from tarjama.corpus.plots import plot_run

    return [
        PlotRecord(path=plot.path.relative_to(folder).as_posix(), title=plot.title, warning=plot.warning)
        for plot in plot_run(corpus, folder / "plots", cache, cache_key)
    ]


def total_failures(articles: Sequence[ArticleResult]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for article in articles:
        for name, count in article.checks_failed.items():
            totals[name] = totals.get(name, 0) + count
    return totals


def overall_scores(
    shards: ShardStore,
    keys: Mapping[str, str],
    summary: RunSummary,
    rows_sha256: Mapping[str, str | None] | None = None,
    cache: Path | None = None,
    n_bootstrap: int | None = None,
) -> list[MetricScore] | None:
    """Scores over all articles against each article's first reference (only for several articles):
    the articles' kept statistics stacked (a shard without them has its rows scored again).

    With a ``cache`` folder and the SHA-256 of each shard's rows (``rows_sha256``, as :class:`CorpusBuild`
    has them), the scores of the same rows against the same references, with the same metrics and
    bootstrap, are read from it instead (:mod:`tarjama.corpus.score_cache`): a warm rerun of 5,000
    articles scored them again in 13 s."""
    from tarjama.corpus.score_cache import keep_scores, kept_scores, scores_key
    from tarjama.quality.score import N_BOOTSTRAP, scores_from_statistics

    scored = [(keys[a.article_id], label) for a in summary.articles if (label := a.references[0].reference)]
    if len(summary.articles) < 2 or not scored:
        return None
    resamples = N_BOOTSTRAP if n_bootstrap is None else n_bootstrap
    if cache is None or rows_sha256 is None:
        return scores_from_statistics(shards.corpus_statistics(scored), resamples)
    key = scores_key(shards.rows_digest([k for k, _ in scored], rows_sha256), [r for _, r in scored], resamples)
    kept = kept_scores(cache, key)
    if kept is not None:
        return kept
    scores = scores_from_statistics(shards.corpus_statistics(scored), resamples)
    keep_scores(cache, key, scores)
    return scores
