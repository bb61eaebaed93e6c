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

import hashlib
import io
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import polars as pl
from pydantic import BaseModel

from tarjama.corpus.outputs import remove_stale_temporaries, writing
from tarjama.corpus.readers import parquet_schema, scan_parquet
from tarjama.corpus.results import ArticleResult
from tarjama.corpus.schema import write_bytes, write_parquet, write_text
from tarjama.quality.score import Statistics, corpus_statistics
from tarjama.translation.model_store import file_mark

BY_ARTICLE = "by-article"  # per article: the key it was last built under


class ShardRecord(BaseModel):
    """A shard's summary file: the key and article it was built for, the article's summary, and the SHA-256 of
    its rows file as written (what :meth:`ShardStore.rows_digest` counts instead of the rows)."""

    key: str
    article_id: str
    result: ArticleResult
    rows_sha256: str | None = None


def _first_line(problem: BaseException) -> str:
    lines = str(problem).strip().splitlines()
    return lines[0] if lines else type(problem).__name__


class ShardStore:
    def __init__(self, folder: Path) -> None:
        """The shards in ``folder``. Opening them changes nothing there: a run removes what a killed run
        left by :meth:`sweep`, once."""
        self.folder = folder
        self.problems: list[str] = []  # shards found damaged or misplaced, one line each (see :meth:`get`)

    def sweep(self) -> list[Path]:
        """Remove the temporaries a killed run left in the store (see
        :func:`~tarjama.corpus.outputs.remove_stale_temporaries`); return them. A run sweeps once, when it
        starts: what a run killed meanwhile leaves is the next run's to remove."""
        return [path for place in (self.folder, self.folder / BY_ARTICLE) for path in remove_stale_temporaries(place)]

    def _paths(self, key: str) -> tuple[Path, Path]:
        return self.folder / f"{key}.parquet", self.folder / f"{key}.json"

    def put(
        self,
        key: str,
        rows: pl.DataFrame,
        result: ArticleResult,
        statistics: Statistics | None = None,
        texts: str | None = None,
    ) -> str:
        """Keep an article's rows, statistics and summary under ``key``; the summary, written last, records
        the key and article it was built for. ``texts`` (the article's identity without its settings)
        remembers which key it was last built under, so a run under other settings can say it rebuilt it.
        Return the SHA-256 of the rows file, as the summary records it (for :meth:`rows_digest`)."""
        rows_path, summary_path = self._paths(key)
        with writing():  # a process stopped by a signal leaves no temporary file behind
            write_parquet(rows, rows_path)
            with rows_path.open("rb") as written:  # just written: read from the page cache, once
                rows_sha256 = hashlib.file_digest(written, "sha256").hexdigest()
            if statistics is not None:
                buffer = io.BytesIO()
                np.savez(buffer, **statistics)  # type: ignore[arg-type]  # numpy types **kwds as if one could be allow_pickle
                write_bytes(buffer.getvalue(), self._statistics_path(key))
            write_text(
                ShardRecord(
                    key=key, article_id=result.article_id, result=result, rows_sha256=rows_sha256
                ).model_dump_json(),
                summary_path,
            )
            if texts is not None:
                write_text(key, self.folder / BY_ARTICLE / texts)
        return rows_sha256

    def built_under_other_key(self, texts: str, key: str) -> bool:
        """Whether the article ``texts`` names was last built under another key (other settings)."""
        try:
            last = (self.folder / BY_ARTICLE / texts).read_text().strip()
        except (OSError, ValueError):
            return False
        return last != key

    def _statistics_path(self, key: str) -> Path:
        return self.folder / f"{key}.stats.npz"

    def statistics(self, key: str) -> Statistics | None:
        """The score statistics of the article's rows against its first reference, or None (not kept)."""
        try:
            with np.load(self._statistics_path(key), allow_pickle=False) as stored:
                return {name: stored[name] for name in stored.files}
        except (OSError, ValueError, zipfile.BadZipFile):
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

    def get(self, key: str, article_id: str) -> ShardRecord | None:
        """The summary file of the complete shard ``key`` built for ``article_id``, or None: never built or
        half written (nothing to say), or damaged or built for another article (:attr:`problems` says which,
        in one line: the article is rebuilt, never merged)."""
        rows_path, summary_path = self._paths(key)
        if not summary_path.is_file():  # written last: never built, or interrupted before it was complete
            return None
        try:
            record = ShardRecord.model_validate_json(summary_path.read_bytes())
            parquet_schema(rows_path)  # its footer: a truncated or garbage file fails here, not at export
            if self._statistics_path(key).exists():
                np.load(self._statistics_path(key), allow_pickle=False).close()  # reads the zip's directory
        except (OSError, ValueError, zipfile.BadZipFile, pl.exceptions.PolarsError) as problem:
            self.problems.append(
                f"shard {rows_path.name} of article {article_id} is damaged ({_first_line(problem)}): rebuilt"
            )
            return None
        if record.key != key or record.article_id != article_id or record.result.article_id != article_id:
            self.problems.append(
                f"shard {rows_path.name} was built for article {record.article_id}, not {article_id}: rebuilt"
            )
            return None
        return record

    def rows_digest(self, keys: Sequence[str], recorded: Mapping[str, str | None]) -> str:
        """A digest of the rows of ``keys``' shards, in that order, from ``recorded``: the SHA-256 of each
        shard's rows as :meth:`put` returned it or :meth:`get` found it in the summary, so neither the rows
        nor the summaries are read again. Two stores holding the same rows (a rerun into a fresh output
        folder) share it, so the plots drawn for one serve the other, while stores whose shards share a key
        but hold other rows (another memory's translations) never do. A shard without one (its summary
        written by an older tarjama) counts by its rows file's path and
        :func:`~tarjama.translation.model_store.file_mark`."""
        total = hashlib.sha256()
        for key in keys:
            digest = recorded.get(key)
            if digest is None:
                rows_path = self._paths(key)[0]
                digest = f"{rows_path}:{':'.join(map(str, file_mark(rows_path.stat())))}"
            total.update(f"{key}\t{digest}\n".encode())
        return total.hexdigest()

    def scan(self, keys: Sequence[str]) -> pl.LazyFrame:
        """The rows of ``keys``' shards, in that order, lazily."""
        return scan_parquet([self._paths(key)[0] for key in keys])


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
