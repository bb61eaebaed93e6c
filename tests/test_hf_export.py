"""The `hf` export: the Hub's `translation` layout and a dataset card, read back by `datasets.load_dataset`."""

from __future__ import annotations

import json

import polars as pl
import pytest
import yaml
from conftest import CORPUS as ARTICLES
from conftest import finish, shared_runs
from test_export import CORPUS

from tarjama.dataset_card import CardConfig, dataset_card, markdown_text, size_category
from tarjama.export import export_corpus
from tarjama.parallel_corpus import english_side

SEED = ARTICLES / "morocco-us-counterterrorism.ar.txt"
PROVENANCE = {"tarjama.alignment": "aligner:chrf-len|beads:1-1", "tarjama.engine": "google|<b>nmt</b> | `x` *y*\n# z"}


@pytest.fixture(scope="module")
def datasets_offline(tmp_path_factory):
    """``datasets``, imported with the Hub switched off: reading a local folder must need no network."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf-home")))  # nothing written to the user's home
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("HF_DATASETS_OFFLINE", "1")
        import datasets

        yield datasets


def _expected(frame: pl.DataFrame) -> list[dict[str, str]]:
    return frame.select(pl.col("arabic").alias("ar"), english_side().alias("en")).to_dicts()


def test_load_dataset_reads_the_run_folder_as_is(tmp_path, datasets_offline):
    """Beside the other formats and the filtered corpus: the card says which files make each configuration."""
    folder = tmp_path / "run"
    export_corpus(CORPUS, folder, ["tsv", "jsonl", "moses", "hf"], min_confidence=0.5, provenance=PROVENANCE)
    cache = tmp_path / "cache"
    full = datasets_offline.load_dataset(str(folder), cache_dir=str(cache))
    assert list(full) == ["train"]
    assert full["train"]["translation"] == _expected(CORPUS)
    assert full["train"]["article_id"] == CORPUS["article_id"].to_list()
    assert full["train"]["alignment_confidence"] == CORPUS["alignment_confidence"].to_list()
    filtered = datasets_offline.load_dataset(str(folder), "min-confidence-0.5", cache_dir=str(cache))
    assert filtered["train"]["translation"] == _expected(CORPUS.filter(pl.col("alignment_confidence") >= 0.5))


def test_each_line_is_a_translation_object(tmp_path):
    (rows, card) = export_corpus(CORPUS, tmp_path, ["hf"]).files["hf"]
    assert (rows.name, card.name) == ("aligned.hf.jsonl", "README.md")
    first = json.loads(rows.read_text(encoding="utf-8").splitlines()[0])
    assert first == {
        "translation": {"ar": CORPUS["arabic"][0], "en": CORPUS["english_reference"][0]},
        "article_id": "bbc.1",
        "reference": "en",
        "row": 1,
        "alignment_confidence": CORPUS["alignment_confidence"][0],
    }


def test_the_card_header_is_the_hubs_and_the_run_text_is_escaped(tmp_path):
    export_corpus(CORPUS, tmp_path, ["hf"], min_confidence=0.5, provenance=PROVENANCE)
    text = (tmp_path / "README.md").read_text(encoding="utf-8")
    _, header, body = text.split("---\n", 2)
    meta = yaml.safe_load(header)
    assert meta["language"] == ["ar", "en"] and meta["license"] == "unknown"
    assert meta["size_categories"] == ["n<1K"] and meta["task_categories"] == ["translation"]
    assert meta["configs"] == [
        {"config_name": "default", "data_files": [{"split": "train", "path": "aligned.hf.jsonl"}]},
        {
            "config_name": "min-confidence-0.5",
            "data_files": [{"split": "train", "path": "aligned.min-confidence-0.5.hf.jsonl"}],
        },
    ]
    assert "aligner:chrf\\-len\\|beads:1\\-1" in body  # the signature, shown literally
    assert "<b>" not in body and "&lt;b&gt;nmt&lt;/b&gt; \\| \\`x\\` \\*y\\* \\# z" in body
    assert f"| default | aligned\\.hf\\.jsonl | {CORPUS.height} |" in body


def test_yaml_values_from_the_run_stay_values():
    card = dataset_card([CardConfig('x"\n- config_name: evil', "a: b.hf.jsonl", 5)])
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["configs"] == [
        {"config_name": 'x"\n- config_name: evil', "data_files": [{"split": "train", "path": "a: b.hf.jsonl"}]}
    ]


@pytest.mark.parametrize(
    ("rows", "category"), [(0, "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"), (250_000, "100K<n<1M"), (10**6, "n>1M")]
)
def test_size_categories_are_the_hubs(rows, category):
    assert size_category(rows) == category


def test_markdown_text_is_one_literal_line():
    assert markdown_text("a\n*b* [c](d) <e>") == "a \\*b\\* \\[c\\]\\(d\\) &lt;e&gt;"


@pytest.mark.slow
def test_a_real_runs_folder_loads_with_datasets(tmp_path, datasets_offline):
    """`tarjama run --format hf --min-confidence 0.5`: the run folder (TSV, Parquet, plots, report) loads as it is."""
    out = tmp_path / "out"
    with shared_runs(tmp_path) as runs:
        status, stderr = finish(runs.start(SEED, "-o", out, "--name", "r", "--format", "hf", "--min-confidence", "0.5"))
    assert status == 0, stderr[-3000:]
    folder = out / "r"
    corpus = pl.read_parquet(folder / "aligned.parquet")
    loaded = datasets_offline.load_dataset(str(folder), cache_dir=str(tmp_path / "cache"))
    assert loaded["train"]["translation"] == _expected(corpus)
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "tarjama\\.alignment: aligner:chrf\\-len" in card and "tarjama\\.engine: libre" in card
