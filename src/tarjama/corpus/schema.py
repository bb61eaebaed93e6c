"""The parallel corpus: one polars schema, atomic writers, and the corpus-wide filters.

The schema is defined here once; rows are built against it, and the TSV and
Parquet files are both written from the same frame, so the two can never
disagree about columns or types. Writers take a frame or a lazy frame (for
example parquet shards scanned by polars), so a corpus larger than memory is
streamed to disk rather than collected.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from tarjama.alignment.dp import Bead
from tarjama.corpus.outputs import temporary_mark
from tarjama.corpus.readers import read_csv
from tarjama.errors import TarjamaError, storage_problem
from tarjama.quality.score import SENTENCE_METRICS, Statistics, corpus_statistics, sentence_scores
from tarjama.text.article import Document, Granularity, reference_label
from tarjama.text.normalize import _INVISIBLE
from tarjama.translation.translate import Translation

SCHEMA = pl.Schema(
    {
        "article_id": pl.String,
        "reference": pl.String,  # which reference file (label, e.g. "en"); "" when there is none
        "row": pl.Int32,  # 1-based, within article and reference
        "source_ids": pl.String,  # 1-based Arabic sentence numbers of the bead, comma-separated, each once
        "source_units": pl.String,  # its clause units, "sentence.unit" (1-based): "3.2,3.3,4.1"
        "reference_ids": pl.String,  # 1-based reference sentence numbers, comma-separated
        "arabic": pl.String,
        "english_mt": pl.String,
        "english_reference": pl.String,
        "engine": pl.String,
        "model": pl.String,
        "alignment_confidence": pl.Float64,
        "flagged": pl.Boolean,  # alignment_confidence < FLAG_BELOW: kept, but marked for review
        "sentence_chrf": pl.Float64,  # null when there is no reference
        "sentence_bleu": pl.Float64,
        "checks_failed": pl.String,  # reference-free checks the MT failed, comma-separated (tarjama.quality.checks)
        "check_notes": pl.String,  # why, "name: detail; ..." (empty when every check passed)
    }
)

FLAG_BELOW = 0.5
"""Rows whose alignment confidence is below this are flagged (``flagged`` is true), never dropped.

The MT aligner's confidence is a pair confidence: do this Arabic and this
English belong together? It is the bead's posterior probability times a pair
probability from its MT's margin over unrelated sentences (none when the MT
line is broken), its length agreement and the support of each sentence of a
multi-sentence row (:mod:`tarjama.alignment.confidence`), so a correct pair
with poor MT is not flagged: how good
the MT is stays with ``sentence_chrf``/``sentence_bleu`` and the checks
(``--filter-checks``). An unmatched (1-0/0-1) row carries the posterior that
its sentence has no counterpart, so a byline the aligner is sure of is a
correct row, not a flagged one. The length aligner gives matched beads their
posterior and unmatched ones near 0. A source sentence aligned without a
reference has confidence 1.0 and is not flagged.
"""

_TSV_UNSAFE = re.compile(r"[\t\r\n\v\f\u2028\u2029\x85]+")


def empty_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def to_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows (dicts keyed by the schema's columns) as a frame of exactly :data:`SCHEMA`.

    Text columns are never null (a missing text is ""), as in the TSV, so every format reads back equal.
    """
    if not rows:
        return empty_frame()
    frame = pl.DataFrame(rows, schema=SCHEMA, orient="row")
    return frame.with_columns(pl.col(name).fill_null("") for name, dtype in SCHEMA.items() if dtype == pl.String)


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def one_line(text: pl.Expr) -> pl.Expr:
    """Tabs and line breaks inside text become spaces: what line- and tab-delimited formats need."""
    return text.str.replace_all(_TSV_UNSAFE.pattern, " ")


def tsv_safe(frame: Frame) -> Frame:
    """Every text column :func:`one_line`, so every TSV line has the same fields."""
    return frame.with_columns(one_line(pl.col(name)) for name, dtype in SCHEMA.items() if dtype == pl.String)


def _existing_kind(target: Path) -> str | None:
    """What ``target`` names once symlinks are followed: ``"file"``, ``"stream"``, ``None`` if nothing; else refused."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return None
    except OSError as error:  # a symlink loop, a parent that is a regular file, no permission
        raise TarjamaError(f"{target}: cannot write here ({error.strerror})") from None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return "stream"
    kind = "a directory" if stat.S_ISDIR(mode) else "a block device" if stat.S_ISBLK(mode) else "a socket"
    raise TarjamaError(f"{target}: is {kind}, expected a file to write")


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Where to write ``target`` so that no reader sees it half-written and nothing but a file is ever replaced.

    A regular file (or a new name) is written to a temporary file beside it, which replaces it only if the
    block succeeds. A symlink is followed: the file it points to is replaced and the link stays a link.
    A character device or a FIFO (``/dev/null``, ``/dev/stdout``, a named pipe) is written through,
    never renamed over: that would destroy it (as root, ``-o /dev/null`` once replaced the system's
    ``/dev/null`` with a regular file). It gets the bytes in one open, from a private temporary copy,
    because a writer may open its target more than once (polars' streaming sink did, now and then)
    and a pipe's reader stops at the first close. A directory, block device or socket is
    refused with a :class:`TarjamaError`, and so is a write that fails for lack of space (``/dev/full``,
    a full disk) or on a read-only file system.
    """
    try:
        if _existing_kind(target) == "stream":
            with tempfile.TemporaryDirectory(prefix="tarjama-") as folder:
                staged = Path(folder) / "out"
                yield staged
                with staged.open("rb") as source, open(target, "wb") as sink:
                    shutil.copyfileobj(source, sink)
            return
        real = Path(os.path.realpath(target))
        real.parent.mkdir(parents=True, exist_ok=True)
        # A private folder, removed whole: a streaming sink's thread can still create its file after the
        # sink has raised, and then finds no folder to create it in. Named by its process, so that one
        # left by a killed process is removed by the next run (:func:`remove_stale_temporaries`).
        private = Path(tempfile.mkdtemp(dir=real.parent, prefix=f".{real.name}.", suffix=f".{temporary_mark()}"))
        tmp = private / real.name
        try:
            yield tmp
            os.chmod(tmp, 0o644)
            tmp.replace(real)
        finally:
            shutil.rmtree(private, ignore_errors=True)
    except (OSError, pl.exceptions.PolarsError) as error:  # a full disk or read-only file system: one line
        problem = storage_problem(error)
        if problem is None:
            raise
        raise TarjamaError(f"{target}: cannot write ({problem})") from None


def _write(target: Path, writer: Callable[[Path], object]) -> Path:
    with atomic_path(target) as tmp:
        writer(tmp)
    return target


def write_tsv(frame: pl.DataFrame | pl.LazyFrame, target: Path) -> Path:
    """The corpus TSV dialect: UTF-8 without BOM, a header row, one row per ``\\n``-ended line, no quoting at all.

    Unquoted on purpose, as Moses/OPUS-style corpus tools (``cut``, ``paste``, ``awk -F'\\t'``) expect: a
    field is exactly the text between tabs, so quotes in text (quoted speech) are just characters. That is
    safe because tabs and line breaks inside text become spaces first. Nulls are empty cells; booleans are
    ``true``/``false``. Dataframe readers must be told quoting is off, or they eat quotes:

    - polars: ``pl.read_csv(f, separator="\\t", quote_char=None, infer_schema=False, empty_string_is_null=False)``
    - pandas: ``pd.read_csv(f, sep="\\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)``
    - csv: ``csv.reader(open(f, encoding="utf-8", newline=""), delimiter="\\t", quoting=csv.QUOTE_NONE)``

    Each gives every cell back as the exact string written; :func:`read_tsv` gives the typed frame.
    """
    safe = tsv_safe(frame.lazy())
    return _write(target, lambda tmp: safe.sink_csv(tmp, separator="\t", quote_style="never", null_value=""))


PARQUET_ROW_GROUP = 8_192
"""Rows a Parquet row group holds. polars' sink buffers a whole row group before writing it, and by
default a 10,000-article corpus (125,000 rows) made one: 220 MB; at 8,192 rows, 40-60 MB and a 3% larger file."""


def write_parquet(frame: pl.DataFrame | pl.LazyFrame, target: Path, metadata: dict[str, str] | None = None) -> Path:
    """``metadata``: key-value pairs in the file's footer (a run's alignment and engine signatures)."""
    return _write(
        target, lambda tmp: frame.lazy().sink_parquet(tmp, metadata=metadata, row_group_size=PARQUET_ROW_GROUP)
    )


def write_jsonl(frame: pl.DataFrame | pl.LazyFrame, target: Path) -> Path:
    """One JSON object per row and line, UTF-8 unescaped; text as is (JSON escapes its own line breaks)."""
    return _write(target, lambda tmp: frame.lazy().sink_ndjson(tmp))


def write_bytes(data: bytes, target: Path) -> Path:
    return _write(target, lambda tmp: tmp.write_bytes(data))


def write_text(text: str, target: Path) -> Path:
    return _write(target, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(data: Any, target: Path) -> Path:
    return write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", target)


def copy_file(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` by content (``shutil.copyfile`` refuses to write into a FIFO)."""

    def copy(tmp: Path) -> None:
        with source.open("rb") as reader, tmp.open("wb") as writer:
            shutil.copyfileobj(reader, writer)

    return _write(target, copy)


def read_tsv(path: Path) -> pl.DataFrame:
    """Read an aligned TSV back with the schema's types (empty cells in float columns are nulls; true/false booleans)."""
    return read_csv(path, separator="\t", quote_char=None, schema=SCHEMA, null_values=[""]).with_columns(
        pl.col(name).fill_null("") for name, dtype in SCHEMA.items() if dtype == pl.String
    )


def english_side() -> pl.Expr:
    """The English of a row's pair: the human reference when the row has one, else the machine translation."""
    return pl.when(pl.col("reference") != "").then(pl.col("english_reference")).otherwise(pl.col("english_mt"))


def human_pair() -> pl.Expr:
    """Whether a row is a pair a filtered corpus keeps: its Arabic and a human reference both there.

    A row with one side empty is a sentence with no counterpart, which the full corpus keeps and a filtered
    corpus, made to be used as pairs, leaves out however sure the aligner is of it. A row of an article
    without a reference (MT only) has no human side either: its English would be the machine translation,
    and a set of pairs mixing MT with human references is not what "pairs to train on" promises (its
    confidence, 1.0, vouches for nothing), so it is left out too."""
    has_reference = pl.col("reference").fill_null("") != ""
    return (pl.col("arabic").fill_null("") != "") & has_reference & (pl.col("english_reference").fill_null("") != "")


def _normalised(text: pl.Expr) -> pl.Expr:
    """``text`` as :func:`tarjama.text.normalize.normalize_text` leaves a line: no invisible marks, NFC, single spaces."""
    return (
        text.str.replace_all(_INVISIBLE.pattern, "").str.normalize("NFC").str.replace_all(r"\s+", " ").str.strip_chars()
    )


@dataclass(frozen=True, slots=True)
class DedupeCounts:
    rows: int  # before deduplication
    dropped: int  # rows whose (Arabic, English) pair an earlier row already has

    @property
    def kept(self) -> int:
        return self.rows - self.dropped


def dedupe(corpus: Frame) -> tuple[Frame, DedupeCounts]:
    """The corpus without exact duplicate (Arabic, English) pairs after normalisation; the first of each is kept.

    A news archive repeats boilerplate (datelines, agency credits, "read more") across articles, which would
    weigh on anything trained on the corpus. Order is kept; the counts are for the report. Counting runs the
    query once (a pass over the shards for a lazy corpus); writing the result runs it again.
    """
    pair = pl.struct(_normalised(pl.col("arabic")).alias("ar"), _normalised(english_side()).alias("en"))
    marked = corpus.with_columns(pair.is_first_distinct().alias("_first"))
    rows, kept = marked.lazy().select(pl.len(), pl.col("_first").sum()).collect().row(0)
    return marked.filter(pl.col("_first")).drop("_first"), DedupeCounts(rows, rows - kept)


def check_confidence(threshold: float) -> float:
    """``threshold`` if it is a confidence (0 to 1); else a one-line :class:`TarjamaError`, before any work."""
    if not 0.0 <= threshold <= 1.0:
        raise TarjamaError(f"minimum confidence {threshold}: expected a number from 0 to 1")
    return threshold


def min_confidence(corpus: Frame, threshold: float) -> Frame:
    """The rows aligned with at least ``threshold`` confidence: the filtered corpus written beside the full one."""
    return corpus.filter(pl.col("alignment_confidence") >= check_confidence(threshold))


def _ids(numbers: list[int]) -> str:
    return ",".join(str(n) for n in numbers)


def bead_rows(
    article: Document,
    translations: Sequence[Translation],
    reference: Document | None,
    beads: Sequence[Bead],
    granularity: Granularity,
    flag_below: float = FLAG_BELOW,
    metrics: Collection[str] | None = SENTENCE_METRICS,
) -> tuple[list[dict[str, Any]], Statistics | None]:
    """One schema row per bead: the Arabic of its items joined, their MT, its scores, its provenance;
    and the rows' score statistics for ``metrics`` (None: every corpus metric, for the corpus scores).

    A bead's source indexes ``article.items(granularity)`` (clause units, or whole sentences), and
    ``translations`` has one entry per item. Joining units with a space gives back their sentence,
    so the rows' Arabic in order is the article, each character once. ``flagged`` is true when the
    bead's confidence is below ``flag_below``. The rows' sentence chrF and BLEU are read from the
    statistics (None without a reference or rows), so each row's n-grams are extracted once, not
    once for its own scores and again for the article's.
    """
    rows = _unscored_rows(article, translations, reference, beads, granularity, flag_below)
    return rows, _score_rows(rows, metrics) if reference is not None and rows else None


def _unscored_rows(
    article: Document,
    translations: Sequence[Translation],
    reference: Document | None,
    beads: Sequence[Bead],
    granularity: Granularity,
    flag_below: float,
) -> list[dict[str, Any]]:
    items = article.items(granularity)
    if len(translations) != len(items):
        raise ValueError(f"{len(translations)} translations for {len(items)} {granularity} of {article.id}")
    rows = []
    for number, bead in enumerate(beads, start=1):
        units = [unit for i in bead.source for unit in items[i]]
        mt_parts = [translations[i] for i in bead.source]
        provenance = mt_parts[0] if mt_parts else translations[0]
        ref_sentences = [reference.sentences[j] for j in bead.reference] if reference else []
        rows.append(
            {
                "article_id": article.id,
                "reference": reference_label(reference.path) if reference else "",
                "row": number,
                "source_ids": _ids(list(dict.fromkeys(article.sentences[u.sentence].number for u in units))),
                "source_units": ",".join(article.unit_id(u) for u in units),
                "reference_ids": _ids([s.number for s in ref_sentences]),
                "arabic": " ".join(u.text for u in units),
                "english_mt": " ".join(t.text for t in mt_parts if t.text),  # an empty answer adds no space
                "english_reference": " ".join(s.text for s in ref_sentences),
                "engine": provenance.engine,
                "model": provenance.model,
                "alignment_confidence": round(bead.confidence, 4),
                "flagged": round(bead.confidence, 4) < flag_below,
                "sentence_chrf": None,  # null when there is no reference
                "sentence_bleu": None,
                "checks_failed": "",
                "check_notes": "",
            }
        )
    return rows


def _score_rows(rows: list[dict[str, Any]], metrics: Collection[str] | None = None) -> Statistics:
    """Fill the rows' sentence chrF and BLEU from their statistics for ``metrics`` (all by default; chrF and
    BLEU at least); return the statistics."""
    mt: list[str] = [row["english_mt"] for row in rows]
    ref: list[str] = [row["english_reference"] for row in rows]
    statistics = corpus_statistics(mt, ref, metrics=metrics)
    for row, (chrf, bleu) in zip(rows, sentence_scores(statistics)):
        row["sentence_chrf"], row["sentence_bleu"] = round(chrf, 4), round(bleu, 4)
    return statistics
