"""The whole pipeline through the CLI and a real (ephemeral) Prefect server, with the real local engine."""

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import ARTICLE, TARJAMA, cli_env

from tarjama.corpus.schema import FLAG_BELOW, SCHEMA, read_tsv
from tarjama.text.article import load_document
from tarjama.translation.model_store import DEFAULT_MODEL

pytestmark = pytest.mark.slow  # a real Prefect server, model or browser: not in `make test-fast`

REFERENCE = ARTICLE.with_name("euronews-en.153835.en.txt")


def numbers(column: pl.Series) -> list[int]:
    return [int(i) for ids in column if ids for i in ids.split(",")]


def tarjama(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = cli_env(home, COLUMNS="200")
    return subprocess.run([TARJAMA, *args], capture_output=True, text=True, env=env, timeout=900)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Run the same article twice against one home: the second run must be served by the memory."""
    base = tmp_path_factory.mktemp("e2e")
    home, out = base / "home", base / "output"
    runs = [
        tarjama(home, "run", str(ARTICLE), "--engine", "local", "--out", str(out), "--name", name)
        for name in ("first", "second")
    ]
    return home, out, runs


def test_run_writes_aligned_outputs(two_runs):
    _home, out, (first, _) = two_runs
    assert first.returncode == 0, first.stderr[-3000:]
    assert "aligned TSV:" in first.stdout
    run_dir = out / "first"
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "aligned.parquet",
        "aligned.tsv",
        "plots",
        "report.html",
        "report.md",
        "scores.json",
    ]

    lines = (run_dir / "aligned.tsv").read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == list(SCHEMA)
    assert all(line.count("\t") == len(SCHEMA) - 1 for line in lines)

    tsv = read_tsv(run_dir / "aligned.tsv")
    assert tsv.equals(pl.read_parquet(run_dir / "aligned.parquet"))
    # how the rows were made travels with them, as in scores.json
    provenance = pl.read_parquet_metadata(run_dir / "aligned.parquet")
    scores = json.loads((run_dir / "scores.json").read_text())
    assert provenance["tarjama.alignment"] == scores["alignment_signature"] != ""
    assert provenance["tarjama.engine"].startswith("local|") and len(provenance["tarjama.engine"]) > len("local|")
    # every reference sentence and every Arabic clause unit appears exactly once, in order
    reference = load_document(REFERENCE, "en")
    source = load_document(ARTICLE, "ar")
    assert numbers(tsv["reference_ids"]) == list(range(1, len(reference.sentences) + 1))
    assert [u for ids in tsv["source_units"] if ids for u in ids.split(",")] == [
        source.unit_id(u) for u in source.units
    ]
    assert list(dict.fromkeys(numbers(tsv["source_ids"]))) == list(range(1, len(source.sentences) + 1))
    assert " ".join(tsv["arabic"]) == " ".join(source.texts)
    assert set(tsv["article_id"]) == {"euronews-en.153835"} and set(tsv["engine"]) == {"local"}
    assert set(tsv["model"]) == {DEFAULT_MODEL.name}
    assert tsv["english_mt"].str.contains(r"[A-Za-z]").all()
    assert tsv["arabic"].str.contains(r"[\u0600-\u06FF]").all()
    assert tsv["alignment_confidence"].is_between(0, 1).all()
    # flagged is a true/false column set from the confidence, and counted in the summary and report
    assert {line.split("\t")[list(SCHEMA).index("flagged")] for line in lines[1:]} <= {"true", "false"}
    assert tsv["flagged"].to_list() == (tsv["alignment_confidence"] < FLAG_BELOW).to_list()
    assert tsv["sentence_chrf"].is_not_null().all()

    scores = json.loads((run_dir / "scores.json").read_text())
    article = scores["articles"][0]
    metrics = {s["metric"]: s for s in article["references"][0]["scores"]}
    assert set(metrics) == {"BLEU", "chrF", "chrF++", "TER"}
    assert all(m["signature"].startswith("nrefs:1|bs:1000") for m in metrics.values())
    assert 0 < metrics["chrF"]["score"] < 100
    assert article["from_memory"] == 0
    assert "BLEU" in (run_dir / "report.md").read_text()
    assert article["references"][0]["flagged"] == tsv["flagged"].sum()
    assert f"{tsv['flagged'].sum()} flagged" in (run_dir / "report.md").read_text()


def test_second_run_translates_nothing(two_runs):
    _, out, (_, second) = two_runs
    assert second.returncode == 0, second.stderr[-3000:]
    summary = json.loads((out / "second" / "scores.json").read_text())
    assert summary["counts"]["reused_articles"] == 1  # the first run's shard: nothing translated, aligned or scored
    first = read_tsv(out / "first" / "aligned.tsv")
    assert read_tsv(out / "second" / "aligned.tsv").equals(first)


def prefect_query(home, imports: str, body: str):
    """What ``body`` (inside ``async with get_client() as client:``) prints last as JSON, asked of the
    home's Prefect server in a fresh interpreter, as a user's script would."""
    query = (
        "import asyncio, json\n"
        "from tarjama.flows.environment import configure_prefect\n"
        "from tarjama.settings import Settings\n"
        "configure_prefect(Settings.load().home)\n"
        "from prefect.client.orchestration import get_client\n"
        f"{imports}"
        "async def main():\n"
        "    async with get_client() as client:\n"
        f"{body}"
        "asyncio.run(main())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", query], capture_output=True, text=True, env=cli_env(home), timeout=600
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_flow_runs_are_recorded_as_completed(two_runs):
    home, _, _ = two_runs
    runs = prefect_query(
        home,
        "",
        "        runs = await client.read_flow_runs()\n"
        "        print(json.dumps(sorted([r.name, r.state.type.value] for r in runs)))\n",
    )
    # one flow run per corpus run: articles are tasks, not subflow runs (a 1,000-article run stays usable)
    assert runs == [["first", "COMPLETED"], ["second", "COMPLETED"]]


def test_a_run_of_reused_articles_makes_its_progress_bar_once_at_100(two_runs):
    home, _, _ = two_runs
    progress = prefect_query(
        home,
        "from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey\n",
        "        found = await client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_='-progress')))\n"
        "        runs = {r.id: r.name for r in await client.read_flow_runs()}\n"
        "        print(json.dumps({runs[a.flow_run_id]: [a.data, a.created == a.updated] for a in found}))\n",
    )
    assert progress["first"] == [100.0, False]  # made when the article's task started, moved as it was built
    assert progress["second"] == [100.0, True]  # everything reused: made once, complete, never updated
