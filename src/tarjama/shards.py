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
from tarjama.score import Statistics


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
