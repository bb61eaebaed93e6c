"""Per-article results kept between runs: a Parquet shard of rows and a JSON summary per article key.

Beside them, the score statistics of the rows against the article's first reference (``.npz``), from
which a corpus's scores are summed instead of rescoring every row.

A corpus run writes each article's rows the moment the article is done, so an interrupted run
leaves them for the next run, and a rerun with the same inputs and settings reuses them instead of
translating, aligning and scoring again. The merged outputs are built from shards by polars,
without the corpus ever being Python objects. Both files are written atomically; the summary last,
so a shard counts only once both are complete.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

from tarjama.parallel_corpus import write_bytes, write_parquet, write_text
from tarjama.results import ArticleResult
from tarjama.score import Statistics, corpus_statistics


class ShardStore:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.parquet", self.folder / f"{key}.json"

    def put(self, key: str, rows: pl.DataFrame, result: ArticleResult, statistics: Statistics | None = None) -> None:
        rows_path, summary_path = self._paths(key)
        write_parquet(rows, rows_path)
        if statistics is not None:
            buffer = io.BytesIO()
            np.savez(buffer, **statistics)  # type: ignore[arg-type]  # numpy types **kwds as if one could be allow_pickle
            write_bytes(buffer.getvalue(), self._statistics_path(key))
        write_text(result.model_dump_json(), summary_path)

    def _statistics_path(self, key: str) -> Path:
        return self.folder / f"{key}.stats.npz"

    def statistics(self, key: str) -> Statistics | None:
        """The score statistics of the article's rows against its first reference, or None (not kept)."""
        try:
            with np.load(self._statistics_path(key), allow_pickle=False) as stored:
                return {name: stored[name] for name in stored.files}
        except (OSError, ValueError):
            return None

    def corpus_statistics(self, articles: Sequence[tuple[str, str]]) -> Statistics:
        """The statistics of ``articles`` (each its shard's key and the label of the reference it was
        scored against, its first), stacked in that order: a corpus's scores without rescoring its rows.
        Two articles with the same texts share a shard, and count twice, as their rows do.

        Each shard's statistics are copied into float64 arrays that grow in place as they are read,
        so the corpus's (about 0.4 KB a segment) are in memory once, not also as 4 pieces a shard
        nor again as floats for the bootstrap. A shard kept without statistics has its rows against
        its reference scored again.
        """
        stacks: dict[str, _Stack] = {}
        for key, reference in articles:
            for name, values in (self.statistics(key) or self._rescored(key, reference)).items():
                stacks.setdefault(name, _Stack()).append(values)
        return {name: stack.array() for name, stack in stacks.items()}

    def _rescored(self, key: str, reference: str) -> Statistics:
        rows = self.scan([key]).filter(pl.col("reference") == reference).collect()
        return corpus_statistics(rows["english_mt"].to_list(), rows["english_reference"].to_list())

    def get(self, key: str) -> ArticleResult | None:
        """The summary of a complete shard, or None (never built, half written, or unreadable)."""
        rows_path, summary_path = self._paths(key)
        if not rows_path.is_file():
            return None
        try:
            return ArticleResult.model_validate_json(summary_path.read_bytes())
        except (OSError, ValueError):
            return None

    def scan(self, keys: Sequence[str]) -> pl.LazyFrame:
        """The rows of ``keys``' shards, in that order, lazily."""
        return pl.scan_parquet([self._paths(key)[0] for key in keys])


class _Stack:
    """Rows appended to one float64 array that grows in place (``realloc``: a large block is remapped,
    not copied), so a corpus's statistics are never held twice while they are stacked. float64 holds
    the counts exactly and is what the bootstrap computes in, so scoring them needs no copy either."""

    def __init__(self) -> None:
        self._rows: np.ndarray | None = None
        self._used = 0

    def append(self, values: np.ndarray) -> None:
        if self._rows is None:
            self._rows = np.empty((max(1024, len(values)), *values.shape[1:]), np.float64)
        needed = self._used + len(values)
        if needed > len(self._rows):
            self._rows.resize((max(needed, 2 * len(self._rows)), *self._rows.shape[1:]), refcheck=False)
        self._rows[self._used : needed] = values
        self._used = needed

    def array(self) -> np.ndarray:
        assert self._rows is not None  # a stack is made by its first append
        self._rows.resize((self._used, *self._rows.shape[1:]), refcheck=False)
        return self._rows
