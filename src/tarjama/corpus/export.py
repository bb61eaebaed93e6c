"""Exporting a parallel corpus: the format registry, deduplication and the confidence-filtered copy.

Formats are found by name (as sacrebleu finds metrics and OpusFilter filters); the registry holds
names only, and the format code and polars are imported when something is exported, so a CLI can
check ``--format`` before importing anything heavy.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tarjama.errors import TarjamaError

if TYPE_CHECKING:
    import polars as pl

    from tarjama.corpus.formats import CorpusFormat
    from tarjama.corpus.schema import DedupeCounts

FORMATS: dict[str, str] = {
    "tsv": "TSV",
    "parquet": "PARQUET",
    "jsonl": "JSONL",
    "moses": "MOSES",
    "tmx": "TMX",
    "hf": "HF",
}
"""Format name → the attribute of :mod:`tarjama.corpus.formats` that writes it."""

DEFAULT_FORMATS = ("tsv",)


def check_formats(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` without repeats, in order; an unknown name is a one-line :class:`TarjamaError`."""
    unknown = [name for name in names if name not in FORMATS]
    if unknown:
        raise TarjamaError(f"unknown export format {unknown[0]!r} (choose from {', '.join(FORMATS)})")
    return tuple(dict.fromkeys(names))


def get_format(name: str) -> CorpusFormat:
    (name,) = check_formats([name])
    format_: CorpusFormat = getattr(importlib.import_module("tarjama.corpus.formats"), FORMATS[name])
    return format_


FILTER_METADATA = "tarjama.filter"
"""The key of a filtered corpus's :meth:`CorpusFilter.format` in its Parquet metadata (and its dataset card)."""


@dataclass(frozen=True, slots=True)
class CorpusFilter:
    """What a filtered corpus keeps: rows aligned at least ``min_confidence`` surely, failing none of
    ``checks``; always pairs with a human reference only (``rows:reference-pairs``), without the references
    left out. Its :meth:`format` is recorded in
    the filtered files' metadata, ``scores.json`` and the report: two filters write files of one name."""

    min_confidence: float | None = None
    checks: tuple[str, ...] = ()

    def format(self) -> str:
        """``min-confidence:0.7|passing-checks:language,numbers|rows:reference-pairs`` (``none`` for a part not asked for)."""
        threshold = "none" if self.min_confidence is None else f"{self.min_confidence:g}"
        return f"min-confidence:{threshold}|passing-checks:{','.join(self.checks) or 'none'}|rows:reference-pairs"


@dataclass(frozen=True, slots=True)
class Export:
    """What :func:`export_corpus` wrote and what it dropped, for the run report."""

    files: dict[str, list[Path]]  # format name → files of the full corpus
    rows: int  # rows of the full corpus (after deduplication)
    dedupe: DedupeCounts | None = None  # None: not deduplicated
    filtered_files: dict[str, list[Path]] = field(default_factory=dict)  # the same formats, filtered
    filtered_rows: int | None = None
    left_out_references: int = 0  # (article, reference) pairs whose rows the filtered corpus leaves out
    filter: CorpusFilter | None = None  # None: no filtered corpus


def filtered_stem(stem: str, threshold: float) -> str:
    """``aligned`` → ``aligned.min-confidence-0.8``: the name the filtered corpus is written under."""
    return f"{stem}.min-confidence-{threshold:g}"


def scan(corpus: pl.DataFrame | pl.LazyFrame | Path | Sequence[Path]) -> pl.LazyFrame:
    """A corpus as a lazy frame: a frame as is; a parquet file, a folder of shards, or a list, scanned (each path
    by its exact name: :mod:`tarjama.corpus.readers`)."""
    import polars as pl

    from tarjama.corpus.readers import scan_parquet

    if isinstance(corpus, pl.DataFrame | pl.LazyFrame):
        return corpus.lazy()
    return scan_parquet(corpus)


def _write_all(
    corpus: pl.LazyFrame, folder: Path, names: Sequence[str], stem: str, provenance: Mapping[str, str] | None
) -> dict[str, list[Path]]:
    return {name: get_format(name).write(corpus, folder, stem, provenance) for name in names}


def export_corpus(
    corpus: pl.DataFrame | pl.LazyFrame | Path | Sequence[Path],
    folder: Path,
    formats: Sequence[str] = DEFAULT_FORMATS,
    *,
    stem: str = "aligned",
    dedupe: bool = False,
    min_confidence: float | None = None,
    passing: Sequence[str] = (),
    leave_out: Collection[tuple[str, str]] = (),
    provenance: Mapping[str, str] | None = None,
) -> Export:
    """Write ``corpus`` into ``folder`` in each of ``formats``; optionally deduplicated, and filtered beside it.

    With ``min_confidence``, the rows aligned at least that confidently are written again, in the same
    formats, under :func:`filtered_stem`: the full corpus is always kept. ``passing`` (check names)
    also keeps, in that filtered corpus, only rows that failed none of those checks. A filtered corpus is
    made to be used as pairs, so it holds rows with both an Arabic side and a human reference only
    (:func:`tarjama.corpus.schema.human_pair`: no one-sided row, no MT-only row) and none of the (article id, reference label) pairs in ``leave_out`` (references that seem to belong to
    another article, whose rows no confidence vouches for). Each file is atomic. ``provenance``
    (signatures) goes into the files of formats that carry metadata (Parquet's footer); the filtered
    corpus's also holds its filter (:data:`FILTER_METADATA`: :meth:`CorpusFilter.format`).
    """
    import polars as pl

    from tarjama.corpus.schema import check_confidence, human_pair
    from tarjama.corpus.schema import dedupe as drop_duplicates
    from tarjama.corpus.schema import min_confidence as at_least

    names = check_formats(formats)
    if min_confidence is not None:
        check_confidence(min_confidence)
    lazy = scan(corpus)
    counts = None
    if dedupe:
        lazy, counts = drop_duplicates(lazy)
    files = _write_all(lazy, folder, names, stem, provenance)
    rows = counts.kept if counts else lazy.select(pl.len()).collect().item()
    if min_confidence is None and not passing:
        return Export(files, rows, counts)
    filtered = lazy.filter(human_pair())
    if leave_out:
        foreign = pl.DataFrame(list(leave_out), schema=["article_id", "reference"], orient="row").lazy()
        filtered = filtered.join(foreign, on=["article_id", "reference"], how="anti", maintain_order="left")
    if min_confidence is not None:
        filtered = at_least(filtered, min_confidence)
    filtered_name = filtered_stem(stem, min_confidence) if min_confidence is not None else stem
    if passing:
        from tarjama.quality.checks import passes_checks

        filtered = filtered.filter(passes_checks(*passing))
        filtered_name += ".passing-checks"
    corpus_filter = CorpusFilter(min_confidence, tuple(passing))
    filtered_provenance = {**(provenance or {}), FILTER_METADATA: corpus_filter.format()}
    return Export(
        files,
        rows,
        counts,
        filtered_files=_write_all(filtered, folder, names, filtered_name, filtered_provenance),
        filtered_rows=filtered.select(pl.len()).collect().item(),
        left_out_references=len(set(leave_out)),
        filter=corpus_filter,
    )
