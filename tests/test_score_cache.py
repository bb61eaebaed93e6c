"""The overall scores a rerun of the same rows reads from the tarjama home instead of scoring the corpus again
(13 s of 55 at 5,000 articles): the same scores as fresh ones; other rows, references or bootstrap miss; a
damaged entry is ignored and written again."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from tarjama.corpus.build import overall_scores
from tarjama.corpus.results import ArticleResult, ReferenceResult, RunSummary
from tarjama.corpus.shards import ShardStore
from tarjama.quality.score import corpus_statistics

PAIRS = [
    ("The minister visited Rabat on Friday.", "The minister went to Rabat on Friday."),
    ("Both sides agreed to cooperate.", "The two sides agreed to work together."),
    ("Talks will resume next month.", "Talks are to resume next month."),
    ("The army said three soldiers were hurt.", "Three soldiers were wounded, the army said."),
    ("Prices rose by five percent.", "Prices went up five per cent."),
    ("The airport reopened after the storm.", "The airport opened again once the storm passed."),
]


def _article(article_id: str, label: str | None = "en") -> ArticleResult:
    return ArticleResult(
        article_id=article_id, path=f"{article_id}.ar.txt", sentences=3, units=3, engine="libre", model="m",
        translated_texts=3, from_memory=0, references=[ReferenceResult(reference=label, rows=3, flagged=0)],
    )  # fmt: skip


def _store(folder: Path, pairs_of: dict[str, list[tuple[str, str]]]) -> tuple[ShardStore, dict[str, str | None]]:
    """A shard an article, holding its rows and their score statistics, as a run puts them."""
    store, recorded = ShardStore(folder), {}
    for key, pairs in pairs_of.items():
        mt, reference = [p[0] for p in pairs], [p[1] for p in pairs]
        rows = pl.DataFrame({"english_mt": mt, "english_reference": reference, "reference": ["en"] * len(pairs)})
        recorded[key] = store.put(key, rows, _article(key), corpus_statistics(mt, reference))
    return store, recorded


def _summary(ids: list[str]) -> RunSummary:
    return RunSummary(run="r", engine_requested="libre", articles=[_article(i) for i in ids])


def test_kept_scores_are_the_fresh_ones_and_serve_a_rerun_without_its_statistics(tmp_path) -> None:
    store, recorded = _store(tmp_path / "shards", {"a": PAIRS[:3], "b": PAIRS[3:]})
    keys, summary, cache = {"a": "a", "b": "b"}, _summary(["a", "b"]), tmp_path / "home" / "scores"
    fresh = overall_scores(store, keys, summary, n_bootstrap=200)
    assert fresh and overall_scores(store, keys, summary, recorded, cache, n_bootstrap=200) == fresh
    assert len(list(cache.iterdir())) == 1
    for path in (tmp_path / "shards").glob("*.stats.npz"):  # what a rescoring reads
        path.unlink()
    for path in (tmp_path / "shards").glob("*.parquet"):
        path.unlink()
    assert overall_scores(store, keys, summary, recorded, cache, n_bootstrap=200) == fresh


def test_other_bootstrap_rows_or_references_miss_the_kept_scores(tmp_path) -> None:
    store, recorded = _store(tmp_path / "shards", {"a": PAIRS[:3], "b": PAIRS[3:]})
    keys, summary, cache = {"a": "a", "b": "b"}, _summary(["a", "b"]), tmp_path / "scores"
    kept = overall_scores(store, keys, summary, recorded, cache, n_bootstrap=200)
    other_bootstrap = overall_scores(store, keys, summary, recorded, cache, n_bootstrap=100)
    assert other_bootstrap == overall_scores(store, keys, summary, n_bootstrap=100) != kept
    reordered = _summary(["b", "a"])  # the same rows in another order: the same digest would be wrong
    assert overall_scores(store, keys, reordered, recorded, cache, n_bootstrap=200) == overall_scores(
        store, keys, reordered, n_bootstrap=200
    )
    other = {"a": PAIRS[:3], "b": [(reference, reference) for _, reference in PAIRS[3:]]}
    other_store, other_recorded = _store(tmp_path / "other", other)  # the same keys, other rows
    rescored = overall_scores(other_store, keys, summary, other_recorded, cache, n_bootstrap=200)
    assert rescored == overall_scores(other_store, keys, summary, n_bootstrap=200) != kept
    labelled = summary.model_copy(update={"articles": [_article("a"), _article("b", "en2")]})
    overall_scores(store, keys, labelled, recorded, cache, n_bootstrap=200)  # another reference: another entry
    assert len(list(cache.iterdir())) == 5


def test_a_damaged_entry_is_ignored_and_written_again(tmp_path) -> None:
    store, recorded = _store(tmp_path / "shards", {"a": PAIRS[:3], "b": PAIRS[3:]})
    keys, summary, cache = {"a": "a", "b": "b"}, _summary(["a", "b"]), tmp_path / "scores"
    fresh = overall_scores(store, keys, summary, recorded, cache, n_bootstrap=200)
    (entry,) = cache.iterdir()
    for damage in ("", '{"key": "x"', json.dumps({"key": entry.stem, "scores": [{"metric": "BLEU"}]})):
        entry.write_text(damage)
        assert overall_scores(store, keys, summary, recorded, cache, n_bootstrap=200) == fresh
        assert json.loads(entry.read_text())["key"] == entry.stem
