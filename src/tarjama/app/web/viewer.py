"""What the corpus viewer shows: one page of an aligned corpus, filtered, searched and sorted (no server here).

A corpus can have tens of thousands of rows, so the browser never receives
all of them: it asks for one page at a time, and filtering, searching and
sorting run here on the polars frame read from ``aligned.parquet``.

Columns: the viewer needs the three texts (``arabic``, ``english_mt``,
``english_reference``); any other column of
:data:`tarjama.corpus.schema.SCHEMA` that is missing reads as null. Columns
named ``check_<name>`` of boolean type are reference-free checks: true means
the row passed, false that it failed, null that the check did not apply.
Any further column is shown as it is.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tarjama.corpus.readers import read_parquet
from tarjama.corpus.schema import SCHEMA
from tarjama.errors import InputError

TEXT_COLUMNS = ("arabic", "english_mt", "english_reference")
CHECK_PREFIX = "check_"
POSITION = "_position"  # the row's 0-based position in the file: its identity in the viewer
HAYSTACK = "_haystack"  # the three texts lower-cased and folded once, so that a search does not fold them again
MAX_PAGE_ROWS = 200
DEFAULT_PAGE_ROWS = 50
MAX_SEARCH_CHARS = 200

SORT_KEYS: dict[str, tuple[str, bool]] = {
    "chrf": ("sentence_chrf", False),  # worst first: what a reviewer looks at
    "-chrf": ("sentence_chrf", True),
    "confidence": ("alignment_confidence", False),
    "-confidence": ("alignment_confidence", True),
}


ARABIC_FOLDS: dict[str, str] = {
    **dict.fromkeys("أإآٱ", "ا"),  # alef with hamza above or below, madda, wasla: bare alef
    "ؤ": "و",  # hamza on waw
    "ئ": "ي",  # hamza on ya
    "ى": "ي",  # alef maqsura: ya
    "ة": "ه",  # ta marbuta: ha
    **dict.fromkeys(
        [chr(c) for c in range(0x064B, 0x0660)] + ["\u0670", "\u0640"] + [chr(c) for c in range(0x06D6, 0x06EE)], ""
    ),  # tanween, short vowels, shadda, sukun, dagger alef, Quranic marks, tatweel
}
"""How a search compares Arabic: spellings a reader takes for the same word ("إندونيسيا", "اندونيسيا",
"إندونيسيّا") fold to one, in the query and in the rows alike."""
_FOLD_TABLE = str.maketrans(ARABIC_FOLDS)


def fold(text: str) -> str:
    """``text`` as a search compares it: lower-cased, Arabic letter variants folded, marks dropped."""
    return text.lower().translate(_FOLD_TABLE)


def fold_expr(expr: pl.Expr) -> pl.Expr:
    """:func:`fold` on a column (its per-character folds, applied by polars)."""
    return expr.str.to_lowercase().str.replace_many(list(ARABIC_FOLDS), list(ARABIC_FOLDS.values()))


def match_spans(text: str | None, needle: str) -> list[tuple[int, int]]:
    """Where the folded ``needle`` occurs in ``text``, as [start, end) in the browser's (UTF-16) string
    indices, each widened over the marks that follow its last letter."""
    if not text or not needle:
        return []
    folded, origin, units = [], [], [0]
    for index, char in enumerate(text):
        units.append(units[-1] + (2 if ord(char) > 0xFFFF else 1))
        for piece in fold(char):
            folded.append(piece)
            origin.append(index)
    haystack, spans = "".join(folded), []
    at = haystack.find(needle)
    while at != -1:
        start, last = origin[at], origin[at + len(needle) - 1] + 1
        while last < len(text) and not fold(text[last]):
            last += 1
        spans.append((units[start], units[last]))
        at = haystack.find(needle, at + len(needle))
    return spans


class QueryError(ValueError):
    """A request parameter out of range or unknown (HTTP 400)."""


MAX_OFFSET = 2**53  # beyond any corpus, and what a browser's numbers still count exactly


class RowQuery(BaseModel):
    """Which rows the browser asks for; the names are the URL's query parameters."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    offset: int = Field(0, ge=0, le=MAX_OFFSET)  # polars slices by a 64-bit offset: a larger one raised, a 500
    limit: int = Field(DEFAULT_PAGE_ROWS, ge=1, le=MAX_PAGE_ROWS)
    show: Literal["all", "flagged", "failed", "review"] = "all"  # review: flagged or failed a check
    check: str | None = Field(None, max_length=100)  # only rows that failed this check
    article: str | None = Field(None, max_length=500)
    q: str = Field("", max_length=MAX_SEARCH_CHARS)  # search in the three texts, folded (:func:`fold`)
    sort: Literal["file", "chrf", "-chrf", "confidence", "-confidence"] = "file"

    @classmethod
    def from_params(cls, params: dict[str, str]) -> RowQuery:
        """Parse URL parameters; anything wrong is one :class:`QueryError` line naming the parameter."""
        try:
            return cls.model_validate(params)
        except ValidationError as problem:
            first = problem.errors()[0]
            name = ".".join(str(part) for part in first["loc"]) or "query"
            raise QueryError(f"{name}: {first['msg']}") from None


@dataclass(frozen=True)
class Corpus:
    """An aligned corpus as the viewer needs it: every schema column present, checks and extras named."""

    frame: pl.DataFrame
    checks: tuple[str, ...]  # check_* columns, in file order
    extras: tuple[str, ...]  # columns neither in SCHEMA nor checks

    @property
    def columns(self) -> list[str]:
        return [name for name in self.frame.columns if name not in (POSITION, HAYSTACK)]


def load_corpus(path: Path) -> Corpus:
    """Read ``aligned.parquet``; a file that is not one is an :class:`InputError` naming it."""
    try:
        frame = read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as problem:
        reason = str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__
        raise InputError(path, f"not a readable Parquet file ({reason})") from None
    missing = [name for name in TEXT_COLUMNS if name not in frame.columns]
    if missing:
        raise InputError(path, f"not an aligned corpus: no column {', '.join(missing)}")
    reserved = [name for name in (POSITION, HAYSTACK) if name in frame.columns]
    if reserved:
        raise InputError(path, f"column name {reserved[0]} is reserved")
    frame = frame.with_columns(
        pl.lit(None, dtype).alias(name) for name, dtype in SCHEMA.items() if name not in frame.columns
    )
    frame = frame.with_columns(_check_flags(frame))
    checks = tuple(n for n in frame.columns if n.startswith(CHECK_PREFIX) and frame.schema[n] == pl.Boolean)
    extras = tuple(n for n in frame.columns if n not in SCHEMA and n not in checks)
    haystack = pl.concat_str([pl.col(name).fill_null("") for name in TEXT_COLUMNS], separator="\n")
    return Corpus(frame.with_row_index(POSITION).with_columns(fold_expr(haystack).alias(HAYSTACK)), checks, extras)


class CorpusCache:
    """The last few corpora read, keyed by file identity, so paging does not re-read the Parquet file.

    A run folder is written once, but a rewritten file (new size or
    modification time) is read again.
    """

    def __init__(self, capacity: int = 4) -> None:
        self.capacity = capacity
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, int, int], Corpus] = OrderedDict()

    def get(self, path: Path) -> Corpus:
        status = path.stat()
        key = (str(path), status.st_mtime_ns, status.st_size)
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        corpus = load_corpus(path)
        with self._lock:
            self._entries[key] = corpus
            while len(self._entries) > self.capacity:
                self._entries.popitem(last=False)
        return corpus


def _check_flags(frame: pl.DataFrame) -> list[pl.Expr]:
    """``check_<name>`` booleans from the schema's ``checks_failed`` list, one per check that failed somewhere:
    false where the row failed it, true where it passed, null where nothing was checked (no MT)."""
    if frame.height == 0 or frame.schema.get("checks_failed") != pl.String:
        return []
    cells = frame["checks_failed"].drop_nulls().unique().to_list()
    names = sorted({name for cell in cells for name in cell.split(",") if name})
    listed = pl.col("checks_failed").fill_null("").str.split(",")
    checked = pl.col("english_mt").fill_null("") != ""
    return [
        pl.when(checked).then(~listed.list.contains(name)).otherwise(None).alias(f"{CHECK_PREFIX}{name}")
        for name in names
        if f"{CHECK_PREFIX}{name}" not in frame.columns
    ]


def failed_any(checks: tuple[str, ...]) -> pl.Expr:
    """True where at least one check failed (false); null (not applicable) is not a failure."""
    if not checks:
        return pl.lit(False)
    return pl.any_horizontal([pl.col(name).not_().fill_null(False) for name in checks])


def select_rows(corpus: Corpus, query: RowQuery) -> pl.DataFrame:
    """The rows matching ``query``, in its order (not yet paged)."""
    frame = corpus.frame
    flagged = pl.col("flagged").fill_null(False)
    if query.show == "flagged":
        frame = frame.filter(flagged)
    elif query.show == "failed":
        frame = frame.filter(failed_any(corpus.checks))
    elif query.show == "review":
        frame = frame.filter(flagged | failed_any(corpus.checks))
    if query.check is not None:
        if query.check not in corpus.checks:
            raise QueryError(f"check: no check column {query.check!r} in this corpus")
        frame = frame.filter(pl.col(query.check).not_().fill_null(False))
    if query.article is not None:
        frame = frame.filter(pl.col("article_id") == query.article)
    needle = fold(query.q.strip())
    if needle:
        frame = frame.filter(pl.col(HAYSTACK).str.contains(needle, literal=True))
    if query.sort in SORT_KEYS:
        column, descending = SORT_KEYS[query.sort]
        frame = frame.sort([column, POSITION], descending=[descending, False], nulls_last=True)
    return frame


def jsonable(value: Any) -> Any:
    """A cell as JSON can carry it: NaN and infinities become null, unusual types their text."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def page(corpus: Corpus, query: RowQuery) -> dict[str, Any]:
    """One page of matching rows, with the counts the pager needs, and where each text matches the search."""
    matching = select_rows(corpus, query)
    needle = fold(query.q.strip())
    rows = []
    for record in matching.slice(query.offset, query.limit).drop(HAYSTACK).to_dicts():
        rows.append(
            {
                "position": record.pop(POSITION),
                "cells": {name: jsonable(value) for name, value in record.items()},
                "failed_checks": [name for name in corpus.checks if record[name] is False],
                "matches": {name: match_spans(record[name], needle) for name in TEXT_COLUMNS},
            }
        )
    return {
        "total": corpus.frame.height,
        "matched": matching.height,
        "offset": query.offset,
        "limit": query.limit,
        "rows": rows,
    }


def summary(corpus: Corpus) -> dict[str, Any]:
    """Counts for the viewer's header and filters: rows, flagged, failed checks, articles."""
    frame = corpus.frame
    articles = (
        frame.group_by("article_id", maintain_order=True).len().rows() if frame.height else []  # (id, rows) pairs
    )
    chrf = frame["sentence_chrf"].drop_nulls().drop_nans()
    return {
        "rows": frame.height,
        "flagged": int(frame["flagged"].fill_null(False).sum()),
        "failed": int(frame.select(failed_any(corpus.checks).sum()).item()) if corpus.checks else 0,
        "checks": {name: int(frame[name].not_().fill_null(False).sum()) for name in corpus.checks},
        "articles": [{"id": jsonable(article), "rows": count} for article, count in articles],
        "mean_chrf": round(float(chrf.mean()), 2) if len(chrf) else None,  # type: ignore[arg-type]
        "has_reference": bool(frame["english_reference"].fill_null("").str.len_chars().gt(0).any()),
        "columns": corpus.columns,
        "extras": list(corpus.extras),
    }
