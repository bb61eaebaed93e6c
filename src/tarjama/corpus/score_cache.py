"""A run's overall scores kept in the tarjama home, by what decides them, so a rerun of the same rows reads them.

A warm rerun of 5,000 articles spent 13 s scoring the corpus again (8.8 s of bootstrap, 4.3 s reading
5,000 statistics files) for the scores it had written the time before. The key is a digest of the rows
scored (:meth:`~tarjama.corpus.shards.ShardStore.rows_digest`, as the plots' cache uses), the reference
each article was scored against, and everything else that shapes a score: the metrics and their
sacrebleu signatures, the bootstrap's resamples and seed, the small-sample threshold, tarjama's
version and :data:`SCORES_VERSION`. One small JSON file an entry; a damaged or unreadable one is
ignored (and written again), and a cache that cannot be written costs the next run a rescoring,
never this one its scores.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

from tarjama.corpus.outputs import remove_stale_temporaries
from tarjama.corpus.schema import write_text
from tarjama.errors import TarjamaError
from tarjama.quality.score import MIN_SEGMENTS_FOR_CI, SEED, MetricScore, corpus_metrics

SCORES_VERSION = 1
"""Part of every key: raise it when the overall scores are computed differently from the same statistics."""
KEPT_SCORES = 256
"""Entries a cache keeps, the least recently used going first (an entry is about 2 KB)."""


def scores_key(rows_digest: str, references: Sequence[str], n_bootstrap: int) -> str:
    """The key of the overall scores of the rows ``rows_digest`` names, each article scored against its
    reference labelled in ``references`` (in order), with ``n_bootstrap`` resamples."""
    import tarjama

    metrics = {}
    for name, metric in corpus_metrics().items():
        metric.num_refs = 1  # as scores_from_statistics sets it: one reference an article
        metrics[name] = metric.get_signature().format()
    shaping = json.dumps(
        {
            "version": SCORES_VERSION,
            "tarjama": tarjama.__version__,
            "metrics": metrics,
            "bootstrap": n_bootstrap,
            "seed": SEED,
            "small_sample": MIN_SEGMENTS_FOR_CI,
            "references": list(references),
            "rows": rows_digest,
        },
        sort_keys=True,
    )
    return hashlib.sha256(shaping.encode()).hexdigest()[:32]


def kept_scores(cache: Path, key: str) -> list[MetricScore] | None:
    """The scores kept under ``key``, or None: none kept, or the entry is damaged (then it is rebuilt)."""
    path = cache / f"{key}.json"
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        if entry["key"] != key:
            return None
        scores = [MetricScore(**score) for score in entry["scores"]]
        if not scores or not all(isinstance(s.score, float | int) and isinstance(s.metric, str) for s in scores):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.utime(path)  # recently used: pruned last
    except OSError:
        pass
    return scores


def keep_scores(cache: Path, key: str, scores: Sequence[MetricScore]) -> None:
    """Keep ``scores`` under ``key``, written whole or not at all; then prune the cache to its size."""
    try:
        cache.mkdir(parents=True, exist_ok=True)
        write_text(json.dumps({"key": key, "scores": [dataclasses.asdict(s) for s in scores]}), cache / f"{key}.json")
    except (OSError, TarjamaError):
        return
    remove_stale_temporaries(cache)
    try:
        entries = sorted((e for e in os.scandir(cache) if e.name.endswith(".json")), key=_mtime)
        for old in entries[:-KEPT_SCORES]:
            Path(old.path).unlink(missing_ok=True)
    except OSError:
        return


def _mtime(entry: os.DirEntry[str]) -> float:
    try:
        return entry.stat().st_mtime
    except OSError:
        return 0.0
