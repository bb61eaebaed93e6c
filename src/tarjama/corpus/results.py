"""Typed results of a run, as written to ``scores.json`` and read back by the report, the CLI and ``tarjama runs``.

One definition, so the writer and every reader agree on every field; ``schema_version`` changes
whenever a field changes meaning or disappears (adding a field keeps it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from tarjama.corpus.export import CorpusFilter
from tarjama.quality.score import MetricScore

SCHEMA_VERSION = 3
"""1: the untyped summaries of tarjama 0.1 (no version field). 2: typed, with signatures. 3: rows of
clause units: each article's ``units`` and ``translated_texts`` (``from_memory`` counts among those)."""


class ReferenceResult(BaseModel):
    """One article aligned to one reference (or to none: ``reference`` is None, nothing scored)."""

    reference: str | None = None  # the reference's label, e.g. "en"
    path: str | None = None
    reference_sentences: int | None = None
    rows: int
    flagged: int
    unmatched: int = 0  # rows with no counterpart on one side (1-0, 0-1)
    doubtful: int = 0  # rows flagged or with no counterpart, each counted once
    scores: list[MetricScore] = Field(default_factory=list)

    def score(self, metric: str) -> float | None:
        return next((s.score for s in self.scores if s.metric == metric), None)


class ArticleResult(BaseModel):
    article_id: str
    path: str
    sentences: int
    units: int  # clause units of its sentences (= sentences where none is cut)
    engine: str
    model: str
    translated_texts: int  # what the engine was given: clause units or whole sentences (--translate)
    from_memory: int  # of those, found in the translation memory
    unanswered: int = 0  # of those, distinct texts answered with no translation: not kept, asked again next run
    references: list[ReferenceResult]
    timings_s: dict[str, float] = Field(default_factory=dict)
    engine_signature: dict[str, str] = Field(default_factory=dict)
    checks_failed: dict[str, int] = Field(default_factory=dict)  # rows failing each reference-free check


class ArticleFailure(BaseModel):
    """An article that could not be built, and why (one line); the rest of the corpus was."""

    article_id: str
    origin: str
    reason: str


class CorpusCounts(BaseModel):
    """What the merged outputs hold."""

    rows: int = 0
    flagged: int = 0
    reused_articles: int = 0  # built by an earlier run with the same inputs and settings
    rebuilt_articles: int = 0  # built before under other settings (another pipeline signature), built again
    duplicates_dropped: int | None = None  # --dedupe
    filter: CorpusFilter | None = None  # --min-confidence, --filter-checks: the filtered corpus's (None: none)
    filtered_rows: int | None = None  # --min-confidence, --filter-checks: two-sided rows only
    filtered_left_out_references: int = 0  # references that seem another article's, left out of the filtered corpus
    files: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _filter_from_its_fields(cls, data: Any) -> Any:
        """The filter from ``scores.json``'s ``min_confidence`` and ``filter_checks`` (its ``filter``, their
        format, is written from them; a file from before it was recorded has them alone)."""
        if isinstance(data, dict) and not isinstance(data.get("filter"), CorpusFilter):
            data = dict(data)
            threshold, checks = data.pop("min_confidence", None), tuple(data.pop("filter_checks", None) or ())
            data["filter"] = CorpusFilter(threshold, checks) if threshold is not None or checks else None
        return data

    @model_serializer(mode="wrap")
    def _filter_as_its_fields(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """The filter in ``scores.json`` as its fields, in place: ``min_confidence``, ``filter_checks`` (the
        filtered rows failed none of these) and ``filter``, its :meth:`~CorpusFilter.format`, as the filtered
        Parquet's metadata ``tarjama.filter`` says (docs/outputs.md)."""
        written: dict[str, Any] = {}
        for name, value in handler(self).items():
            if name == "filter":
                one = self.filter
                written["min_confidence"] = one.min_confidence if one else None
                written["filter_checks"] = list(one.checks) if one else []
                written["filter"] = one.format() if one else None
            else:
                written[name] = value
        return written


class PlotRecord(BaseModel):
    """A plot in the run folder: its file (relative to the folder), title, and a warning when the sample is small."""

    path: str
    title: str
    warning: str | None = None


class RunSummary(BaseModel):
    """A run as ``scores.json`` records it."""

    schema_version: int = SCHEMA_VERSION
    run: str
    flow_run_id: str = ""
    engine_requested: str  # as asked for, e.g. "auto"
    engine_used: str = ""  # the engine that translated, e.g. "local" when auto found no network
    articles: list[ArticleResult]
    failures: list[ArticleFailure] = Field(default_factory=list)
    counts: CorpusCounts = Field(default_factory=CorpusCounts)
    overall: list[MetricScore] | None = None  # over all articles, first reference each (several articles only)
    checks_failed: dict[str, int] = Field(default_factory=dict)  # rows failing each reference-free check
    plots: list[PlotRecord] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)  # e.g. articles without a reference, or with another's
    alignment_signature: str = ""
    pipeline_signature: str = ""  # every setting that shaped the rows (tarjama.corpus.build.PipelineSignature)
    wall_time_s: float | None = None
    output_dir: str | None = None

    def engines(self) -> list[str]:
        return sorted({article.engine for article in self.articles})

    def bleu(self) -> float | None:
        """Over all articles if there were several, else the article's against its first reference."""
        scores = self.overall or next((r.scores for a in self.articles for r in a.references if r.scores), [])
        return next((s.score for s in scores if s.metric == "BLEU"), None)

    @classmethod
    def read(cls, folder: Path) -> RunSummary | None:
        """The summary in ``folder/scores.json``, or None when there is none this version can read."""
        try:
            return cls.model_validate_json((folder / "scores.json").read_bytes())
        except (OSError, ValueError):
            return None
