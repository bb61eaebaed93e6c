"""What a careless user or an attacker does to a corpus build's inputs and shards, through :mod:`tarjama.corpus.build`."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import ARTICLES, build, libre, tmpfs, write_articles
from loopback_services import LoopbackServices

from tarjama.corpus.build import SHARDS, ArticleError, ArticleJob, build_batch
from tarjama.errors import TarjamaError
from tarjama.text.article import parse_document


def shard_files(out: Path, suffix: str) -> list[Path]:
    return sorted((out / SHARDS).glob(f"*{suffix}"))


def warnings(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and text in r.getMessage()]


def test_a_shard_copied_over_another_articles_is_rebuilt_not_merged(services, tmp_path, caplog) -> None:
    articles, out = write_articles(tmp_path / "articles"), tmp_path / "out"
    first = build(libre(tmp_path / "home", services), articles, out, "first")
    keys = {Path(a.path).name: None for a in first.articles}
    assert len(keys) == 2
    parquets, summaries = shard_files(out, ".parquet"), shard_files(out, ".json")
    shutil.copyfile(parquets[0], parquets[1])
    shutil.copyfile(summaries[0], summaries[1])
    with caplog.at_level(logging.WARNING, logger="tarjama.corpus.build"):
        again = build(libre(tmp_path / "home", services), articles, out, "again")
    assert again.counts.reused_articles == 1
    said = warnings(caplog, "was built for article")
    assert len(said) == 1 and said[0].endswith(": rebuilt")
    rows = pl.read_parquet(Path(again.output_dir or "") / "aligned.parquet")
    assert sorted(set(rows["article_id"])) == sorted(ARTICLES)
    assert rows.group_by("article_id", maintain_order=True).len()["len"].to_list() == [
        len(pl.read_parquet(Path(first.output_dir or "") / "aligned.parquet").filter(pl.col("article_id") == a))
        for a in rows.group_by("article_id", maintain_order=True).len()["article_id"]
    ]


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "summary-empty", "statistics-truncated"])
def test_a_damaged_shard_rebuilds_its_article_in_one_line(damage, services, tmp_path, caplog) -> None:
    articles, out = write_articles(tmp_path / "articles"), tmp_path / "out"
    build(libre(tmp_path / "home", services), articles, out, "first")
    parquet, summary, statistics = (
        shard_files(out, ".parquet")[0],
        shard_files(out, ".json")[0],
        shard_files(out, ".stats.npz")[0],
    )
    if damage == "garbage":
        parquet.write_bytes(b"not a parquet file at all" * 20)
    elif damage == "truncated":
        parquet.write_bytes(parquet.read_bytes()[:100])
    elif damage == "empty":
        parquet.write_bytes(b"")
    elif damage == "summary-empty":
        summary.write_bytes(b"")
    else:
        statistics.write_bytes(statistics.read_bytes()[:40])  # past the zip's first header, no directory
    with caplog.at_level(logging.WARNING, logger="tarjama.corpus.build"):
        again = build(libre(tmp_path / "home", services), articles, out, "again")
    assert again.counts.reused_articles == 1 and len(again.articles) == 2
    said = warnings(caplog, "is damaged")
    assert len(said) == 1 and "\n" not in said[0] and said[0].endswith(": rebuilt")
    # and the next run reuses both: the shard was written again
    third = build(libre(tmp_path / "home", services), articles, out, "third")
    assert third.counts.reused_articles == 2


def test_a_read_only_shards_folder_is_one_line(services, tmp_path) -> None:
    articles, out = write_articles(tmp_path / "articles"), tmp_path / "out"
    with tmpfs(out / SHARDS, "1m", "ro"):  # read-only for root too, whom modes do not stop
        with pytest.raises(TarjamaError, match=r"\.shards: not a writable folder"):
            build(libre(tmp_path / "home", services), articles, out, "first")
    assert not (out / "first").exists()


def test_a_dangling_shards_symlink_is_refused_and_nothing_is_created_at_its_target(services, tmp_path) -> None:
    articles, out = write_articles(tmp_path / "articles"), tmp_path / "out"
    out.mkdir()
    target = tmp_path / "elsewhere" / "shards"
    (out / SHARDS).symlink_to(target)
    with pytest.raises(TarjamaError, match=r"\.shards: a symlink to .*which does not exist"):
        build(libre(tmp_path / "home", services), articles, out, "first")
    assert not (tmp_path / "elsewhere").exists() and not (out / "first").exists()


def test_a_manifest_record_with_a_lone_surrogate_fails_alone(services, tmp_path) -> None:
    arabic, english = ARTICLES["storm"]
    manifest = tmp_path / "articles.jsonl"
    records = [
        {"id": "good", "text": arabic, "references": [{"label": "en", "text": english}]},
        {"id": "bad", "text": arabic[:20] + "\ud800" + arabic[20:]},
    ]
    manifest.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="ascii")
    summary = build(libre(tmp_path / "home", services), manifest, tmp_path / "out", "run")
    assert [a.article_id for a in summary.articles] == ["good"]
    assert [f.article_id for f in summary.failures] == ["bad"]
    assert "not valid text" in summary.failures[0].reason and "\n" not in summary.failures[0].reason


def test_a_manifests_reference_labels_are_what_the_rows_and_scores_carry(services, tmp_path) -> None:
    arabic, english = ARTICLES["visit"]
    (tmp_path / "human.txt").write_text(english, encoding="utf-8")
    manifest = tmp_path / "ids2.jsonl"
    record = {
        "id": "visit",
        "text": arabic,
        "references": [
            {"label": "en", "text": english},
            {"label": "en-b", "text": english.upper()},
            {"label": "human", "path": "human.txt"},
        ],
    }
    manifest.write_text(json.dumps(record) + "\n", encoding="utf-8")
    summary = build(libre(tmp_path / "home", services), manifest, tmp_path / "out", "run")
    folder = Path(summary.output_dir or "")
    assert [r.reference for r in summary.articles[0].references] == ["en", "en-b", "human"]
    rows = pl.read_parquet(folder / "aligned.parquet")
    assert list(dict.fromkeys(rows["reference"])) == ["en", "en-b", "human"]
    scores = json.loads((folder / "scores.json").read_text(encoding="utf-8"))
    assert [r["reference"] for r in scores["articles"][0]["references"]] == ["en", "en-b", "human"]
    report = (folder / "report.md").read_text(encoding="utf-8")
    assert "reference en-b (" in report and "reference human (" in report and "reference ids2" not in report


def test_with_dedupe_the_flagged_count_is_that_of_the_rows_written(services, tmp_path) -> None:
    articles = write_articles(tmp_path / "articles")
    for name in ("visit", "storm"):  # the same texts again under other ids: every row a duplicate
        for suffix in (".ar.txt", ".en.txt"):
            shutil.copyfile(articles / f"{name}{suffix}", articles / f"{name}-copy{suffix}")
    summary = build(libre(tmp_path / "home", services), articles, tmp_path / "out", "run", dedupe=True)
    rows = pl.read_parquet(Path(summary.output_dir or "") / "aligned.parquet")
    assert summary.counts.duplicates_dropped and summary.counts.rows == rows.height
    assert summary.counts.flagged == int(rows["flagged"].sum())
    report = (Path(summary.output_dir or "") / "report.md").read_text(encoding="utf-8")
    assert f"{rows.height} aligned rows, {int(rows['flagged'].sum())} flagged" in report


def test_a_service_asking_to_wait_longer_than_the_limit_is_not_retried_by_the_batch(tmp_path) -> None:
    """A 429 whose Retry-After exceeds the engine's limit is an article's failure, not a transient one:
    the batch returns it instead of raising, so no task retry (Prefect's) sends the request again."""
    arabic, _ = ARTICLES["storm"]
    document = parse_document(arabic, tmp_path / "storm.ar.txt", "ar")
    with LoopbackServices(lifetime=120) as services:
        services.persistent = "429:1000"
        outcomes = build_batch([ArticleJob(document, [], {})], libre(tmp_path / "home", services))
        sent = len(services.requests())
    assert len(outcomes) == 1 and isinstance(outcomes[0], ArticleError)
    assert "asks to wait 1000 s" in outcomes[0].reason
    assert sent == 1
