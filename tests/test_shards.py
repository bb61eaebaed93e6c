"""The shard store: a corpus's kept score statistics stacked exactly, in bounded memory."""

import numpy as np
import polars as pl
import pytest

from tarjama.corpus.results import ArticleResult
from tarjama.corpus.shards import ShardStore


@pytest.mark.slow
def test_stacked_statistics_are_the_pieces_in_order_whatever_their_sizes_and_types(tmp_path):
    """Hundreds of shards of 1-14 segments (the stack grows several times) give the pieces
    concatenated in the order asked, as float64 (exact for counts; TER's are not all integers)."""
    rng = np.random.default_rng(7)
    store, pieces = ShardStore(tmp_path), {"BLEU": [], "TER": []}
    for number in range(300):
        statistics = {"BLEU": rng.integers(0, 9, (rng.integers(1, 15), 10))}
        statistics["TER"] = statistics["BLEU"][:, :2] + (0.5 if number == 200 else 0)
        result = ArticleResult(
            article_id=str(number), path="p", sentences=1, units=1, engine="e", model="m", translated_texts=1,
            from_memory=0, references=[],
        )  # fmt: skip
        store.put(f"k{number:03d}", pl.DataFrame({"x": [1]}), result, statistics)
        for name, values in statistics.items():
            pieces[name].append(values)
    order = [*rng.permutation(300), 7]  # the order asked for, not the files'; a shard two articles share counts twice
    stacked = store.corpus_statistics([(f"k{number:03d}", "en") for number in order])
    for name, kept in pieces.items():
        expected = np.concatenate([kept[number] for number in order])
        assert stacked[name].dtype == np.float64 and np.array_equal(stacked[name], expected)
    assert len(stacked["BLEU"]) > 1024
