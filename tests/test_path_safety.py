"""Output folders whose names hold glob characters (``[``, ``*``, ``?``) are folders like any other.

polars reads a path as a glob pattern unless told not to: ``tarjama run -o 'out [v2]'`` built every
article, then failed at its end reading its own shards (``[v2]`` matched none of them), and a file under
``a*b`` was read together with ``aXb``'s. A real run (Prefect, the CLI, the loopback LibreTranslate) into
such a folder completes, and what reads runs (the outputs, ``compare``, ``runs``, the viewer) reads it.
The journals, opened read-only by URI, are found in a folder named with ``?`` or ``#`` too.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import polars as pl
import pytest
from conftest import TARJAMA, cli_env, prefect_server, write_articles
from loopback_services import LoopbackServices

from tarjama.app.web.viewer import load_corpus
from tarjama.corpus.export import scan
from tarjama.corpus.readers import parquet_schema, read_csv, read_parquet, scan_parquet
from tarjama.corpus.schema import read_tsv
from tarjama.translation.memory import JOURNALS, TranslationMemory, read_journals

GLOBBY = "out [v2] *?"


def test_readers_take_a_path_as_its_name_not_a_pattern(tmp_path: Path) -> None:
    own, decoy = tmp_path / "a*b [v2]?", tmp_path / "aXb v!"  # the decoy matches the first as a pattern
    for folder, value in ((own, 1), (decoy, 9)):
        (folder / "shards").mkdir(parents=True)
        pl.DataFrame({"a": [value]}).write_parquet(folder / "shards" / "x.parquet")
        pl.DataFrame({"a": [value]}).write_csv(folder / "x.tsv", separator="\t")
    shard = own / "shards" / "x.parquet"
    assert read_parquet(shard)["a"].to_list() == [1]
    assert scan_parquet(shard).collect()["a"].to_list() == [1]
    assert scan_parquet([shard, shard]).collect()["a"].to_list() == [1, 1]
    assert scan(own / "shards").collect()["a"].to_list() == [1]  # a folder of shards: its files
    assert parquet_schema(shard) == pl.Schema({"a": pl.Int64})
    assert read_csv(own / "x.tsv", separator="\t")["a"].to_list() == [1]
    shard.write_bytes(shard.read_bytes()[:-10])
    with pytest.raises(pl.exceptions.PolarsError):
        parquet_schema(shard)  # a damaged shard is still found damaged


@pytest.mark.slow  # a real Prefect server
def test_a_run_into_a_folder_named_like_a_glob_completes_and_reads_back(tmp_path: Path) -> None:
    home, out = tmp_path / "home", tmp_path / GLOBBY
    home.mkdir()
    articles = write_articles(tmp_path / "in [1]")
    with LoopbackServices(lifetime=900) as services, prefect_server(home, tmp_path / "server.log") as api:
        env = cli_env(home, PREFECT_API_URL=api, TARJAMA_LIBRE_URL=services.url("libre"))

        def tarjama(*args: object) -> subprocess.CompletedProcess:
            return subprocess.run(
                [TARJAMA, *map(str, args)], capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path
            )

        first = tarjama("run", articles, "-e", "libre", "-o", out, "--name", "r7", "--format", "tsv,parquet,jsonl")
        assert first.returncode == 0, first.stderr[-3000:]
        again = tarjama("run", articles, "-e", "libre", "-o", out, "--name", "r8")  # its shards read back
        assert again.returncode == 0, again.stderr[-3000:]
        assert "damaged" not in again.stderr
        listed = tarjama("runs", "--json")
        assert listed.returncode == 0, listed.stderr[-3000:]
        compared = tarjama("compare", out / "r7", out / "r8", "-o", out / "compare [x]")
        assert compared.returncode == 0, compared.stderr[-3000:]
    run = out / "r7"
    rows = read_tsv(run / "aligned.tsv")
    assert set(rows["article_id"]) == {"storm", "visit"}
    assert read_parquet(run / "aligned.parquet").equals(rows)
    with (run / "aligned.jsonl").open("rb") as jsonl:  # polars would take the name as a pattern
        assert pl.read_ndjson(jsonl).height == rows.height
    assert load_corpus(run / "aligned.parquet").frame.height == rows.height  # what `tarjama serve` shows
    outputs = {json.loads(line)["name"]: json.loads(line)["output"] for line in listed.stdout.splitlines()}
    assert outputs["r7"] == str(run) and outputs["r8"] == str(out / "r8")
    assert "comparison: " in compared.stdout


def test_journals_in_a_folder_named_with_question_mark_and_hash_are_read(tmp_path: Path) -> None:
    """A journal is opened read-only by URI: a ``?`` or ``#`` in its folder's name is part of the path."""
    journals = tmp_path / "memory ?mode=rw #1 [v2]" / JOURNALS
    journals.mkdir(parents=True)
    with TranslationMemory(journals / "host-1.sqlite") as journal:
        journal.store("libre", "libretranslate", "وصل الوزير.", "The minister arrived.")
    assert read_journals(journals, "libre", "libretranslate", ["وصل الوزير."]) == {
        "وصل الوزير.": "The minister arrived."
    }
