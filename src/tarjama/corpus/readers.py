"""Files read through polars by their exact names, never as glob patterns.

polars takes a path as a glob pattern unless told otherwise: a run into ``out [v2]`` failed at its end
(``[v2]`` is a character class, which matched none of its own files), and a file under ``a*b`` was read
together with ``aXb``'s. Every file tarjama hands polars is one it named (a run's outputs, a shard, a
manifest the inputs already resolved), so each is read with ``glob=False``, here. A folder is still
scanned as its files (polars lists it, in name order); writing (``sink_*``) takes no pattern.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl


def scan_parquet(paths: Path | Sequence[Path]) -> pl.LazyFrame:
    """The rows of a Parquet file, a folder of them, or a list of files, in that order, lazily."""
    return pl.scan_parquet(paths if isinstance(paths, Path) else list(paths), glob=False)


def read_parquet(path: Path, columns: Sequence[str] | None = None) -> pl.DataFrame:
    """A Parquet file's rows (only ``columns``, when given)."""
    return pl.read_parquet(path, columns=list(columns) if columns is not None else None, glob=False)


def parquet_schema(path: Path) -> pl.Schema:
    """A Parquet file's schema, from its footer: a truncated or garbage file fails here (``PolarsError``)."""
    return pl.scan_parquet(path, glob=False).collect_schema()


def read_csv(path: Path, **options: Any) -> pl.DataFrame:
    """A CSV or TSV file (``options`` as for ``pl.read_csv``)."""
    return pl.read_csv(path, glob=False, **options)
