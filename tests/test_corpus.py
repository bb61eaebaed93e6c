"""Corpus builds: inputs from folders, globs and manifests; bad articles fail alone; reruns and additions are incremental."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import polars as pl
import pytest
from conftest import NTREX, TARJAMA, cli_env, copy_articles
from loopback_services import LoopbackServices

from tarjama.corpus.inputs import PARQUET_CHUNK_ROWS, collect_articles, read_manifest
from tarjama.corpus.schema import read_tsv
from tarjama.errors import TarjamaError
from tarjama.text.article import parse_document

FIRST = ["abcnews.306758", "bbc.381647", "cnn.304404"]


def test_folders_globs_and_files_give_each_article_once_with_its_references(tmp_path):
    folder = copy_articles(tmp_path / "a", FIRST)
    nested = copy_articles(tmp_path / "a" / "more", ["cnn.304447"])
    from_folder = collect_articles([folder])
    assert [a.id for a in from_folder] == sorted(FIRST) + ["cnn.304447"]  # every *.ar.txt below, in path order
    assert all([r.label for r in a.references] == ["en"] for a in from_folder)
    from_glob = collect_articles([f"{tmp_path}/a/*.ar.txt"])
    assert [a.id for a in from_glob] == sorted(FIRST)
    assert (
        collect_articles([nested / "cnn.304447.ar.txt"])[0].references[0].source.origin == nested / "cnn.304447.en.txt"
    )
    other = copy_articles(tmp_path / "b", ["bbc.381647"])
    with pytest.raises(TarjamaError, match="article id 'bbc.381647' appears twice: .*/a/bbc.* and .*/b/bbc"):
        collect_articles([folder, other / "bbc.381647.ar.txt"])
    with pytest.raises(TarjamaError, match="matches no file"):
        collect_articles([f"{tmp_path}/nothing/*.ar.txt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(TarjamaError, match="no \\*.ar.txt articles"):
        collect_articles([tmp_path / "empty"])


def test_one_file_reached_by_two_paths_is_one_article(tmp_path, monkeypatch):
    folder = copy_articles(tmp_path / "in", FIRST[:2])
    monkeypatch.chdir(tmp_path)
    found = collect_articles(["in/*.ar.txt", "in", folder / f"{FIRST[0]}.ar.txt"])
    assert [a.id for a in found] == FIRST[:2]
    given = collect_articles(["in", "in/*.ar.txt"], [Path("in") / f"{FIRST[0]}.en.txt"])
    assert [[r.label for r in a.references] for a in given] == [["en"], ["en"]]


def test_two_references_with_one_label_are_refused(tmp_path):
    """Their rows would share keys: the same file twice, two files labelled ``en``, or a manifest's two."""
    folder = copy_articles(tmp_path / "a", FIRST[:1])
    other = copy_articles(tmp_path / "b", FIRST[:1])
    article, reference = folder / f"{FIRST[0]}.ar.txt", folder / f"{FIRST[0]}.en.txt"
    with pytest.raises(TarjamaError, match=rf"has 2 references labelled 'en' \({reference}, 2 times\)"):
        collect_articles([article], [reference, reference])
    twin = other / f"{FIRST[0]}.en.txt"
    with pytest.raises(TarjamaError, match=rf"has 2 references labelled 'en' \({reference} and {twin}\)"):
        collect_articles([article], [reference, twin])
    manifest = tmp_path / "m.jsonl"
    refs = [{"label": "en", "text": "The one."}, {"text": "The other."}]
    manifest.write_text(json.dumps({"id": "d", "text": "نص", "references": refs}) + "\n")
    with pytest.raises(TarjamaError, match=r"article 'd' has 2 references labelled 'en' \(.*m.jsonl:1 "):
        collect_articles([manifest])


def test_the_ntrex_folder_is_its_40_articles_not_its_gold_lines():
    """The line-aligned gold sits below the folder; a run over the folder must not take it for an article."""
    articles = collect_articles([NTREX])
    assert len(articles) == 40 and all(a.references for a in articles)
    assert not any("gold" in str(a.source.origin) for a in articles)


def test_manifests_jsonl_and_parquet_give_the_same_articles(tmp_path):
    records = [
        {
            "id": article,
            "text": (NTREX / f"{article}.ar.txt").read_text(),
            "references": [{"label": "en", "text": (NTREX / f"{article}.en.txt").read_text()}],
        }
        for article in FIRST
    ]
    records.append({"id": "by-path", "path": str(NTREX / "cnn.304447.ar.txt")})
    jsonl = tmp_path / "crawl.jsonl"
    jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    parquet = tmp_path / "crawl.parquet"
    pl.DataFrame(records).write_parquet(parquet)
    for manifest in (jsonl, parquet):
        articles = read_manifest(manifest)
        assert [a.id for a in articles] == [*FIRST, "by-path"]
        document, references = articles[0].load()
        assert document.id == FIRST[0] and references[0].sentences
        assert articles[-1].load()[0].path == NTREX / "cnn.304447.ar.txt"
        assert articles[0].digest() == collect_articles([NTREX / f"{FIRST[0]}.ar.txt"])[0].digest()


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_a_manifests_texts_are_read_when_an_article_is_built_not_held(tmp_path, suffix):
    """A run holds where each text is, not the text (a crawl dump's texts would be held for the whole
    run): an article reads its record when it is loaded, and a manifest emptied meanwhile fails that
    article in one line naming the manifest."""
    records = [{"id": a, "text": (NTREX / f"{a}.ar.txt").read_text()} for a in FIRST[:2]]
    manifest = tmp_path / f"crawl{suffix}"
    if suffix == ".jsonl":
        manifest.write_text("\n\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    else:
        pl.DataFrame(records).write_parquet(manifest)
    first, second = read_manifest(manifest)
    assert second.load()[0].texts == parse_document(records[1]["text"], Path("x"), "ar").texts
    assert first.source.digest() == collect_articles([NTREX / f"{FIRST[0]}.ar.txt"])[0].source.digest()
    manifest.write_bytes(b"")
    with pytest.raises(TarjamaError) as caught:
        second.load()
    assert str(manifest) in str(caught.value) and "changed" in str(caught.value) and "\n" not in str(caught.value)


def test_a_parquet_manifest_gives_every_row_its_own_text_across_chunks(tmp_path):
    """Rows are read a chunk at a time (one row costs what hundreds do); in order or not, each article
    gets its own row's text, on either side of every chunk boundary."""
    count = PARQUET_CHUNK_ROWS * 2 + 3
    texts = [f"هذا هو المقال رقم {n} في الملف." for n in range(count)]
    manifest = tmp_path / "crawl.parquet"
    pl.DataFrame({"id": [f"a{n}" for n in range(count)], "text": texts}).write_parquet(manifest)
    articles = read_manifest(manifest)
    for n in [*range(count), *reversed(range(0, count, 97))]:
        assert articles[n].load()[0].texts == [texts[n]], n


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "crawl.jsonl:1: not JSON"),
        ('{"text": "مرحبا"}', 'crawl.jsonl:1: needs an "id"'),
        ('{"id": "x"}', 'crawl.jsonl:1: needs a "text" or a "path"'),
        ('{"id": "x", "text": ""}', 'crawl.jsonl:1: the "text" is empty'),
        ('{"id": "x", "text": " \\n "}', 'crawl.jsonl:1: the "text" is only whitespace'),
        ('{"id": "x", "path": ""}', 'crawl.jsonl:1: the "path" is empty'),
        ('{"id": "x", "text": "مرحبا", "references": [{"label": "en", "text": ""}]}', '1 (reference en): the "text"'),
        ('["a"]', "crawl.jsonl:1: expected a JSON object per line"),
    ],
)
def test_a_bad_manifest_is_one_line_naming_the_record(tmp_path, line, message):
    manifest = tmp_path / "crawl.jsonl"
    manifest.write_text(line + "\n")
    with pytest.raises(TarjamaError) as caught:
        read_manifest(manifest)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_a_manifest_may_begin_with_a_byte_order_mark(tmp_path):
    """As an article file may (editors on Windows write one); before, its first line was "not JSON"."""
    records = [{"id": a, "text": (NTREX / f"{a}.ar.txt").read_text()} for a in FIRST[:2]]
    manifest = tmp_path / "crawl.jsonl"
    manifest.write_bytes(b"\xef\xbb\xbf" + "\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode())
    first, second = read_manifest(manifest)
    assert (first.id, second.id) == tuple(FIRST[:2])
    expected = parse_document(records[0]["text"], Path("x"), "ar").texts
    assert first.load()[0].texts == expected  # its line read again when built, mark and all


def test_a_file_that_is_not_parquet_says_why(tmp_path):
    manifest = tmp_path / "crawl.parquet"
    manifest.write_bytes(b"not parquet")
    with pytest.raises(TarjamaError) as caught:
        read_manifest(manifest)
    assert str(caught.value) == (
        f"{manifest}: unreadable Parquet manifest (File out of specification: A Parquet file must contain a "
        "header and footer with at least 12 bytes)"
    )


def run(tmp_path: Path, services: LoopbackServices, *args: str) -> subprocess.CompletedProcess:
    env = cli_env(tmp_path / "home", TARJAMA_GOOGLE_URL=services.url("google"))
    return subprocess.run(
        [TARJAMA, "run", *args, "-e", "google", "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


@pytest.mark.slow
def test_a_bad_article_fails_alone_and_reruns_are_incremental(tmp_path):
    folder = copy_articles(tmp_path / "articles", FIRST)
    (folder / "broken.ar.txt").write_text("This article is in English, not Arabic.\n")
    with LoopbackServices(lifetime=1200) as services:
        first = run(tmp_path, services, str(folder), "--name", "first")
        assert first.returncode == 3, first.stderr[-3000:]  # built, but an article failed
        assert "article broken failed" in first.stderr and "no Arabic text" in first.stderr
        summary = json.loads((tmp_path / "out" / "first" / "scores.json").read_text())
        assert [a["article_id"] for a in summary["articles"]] == sorted(FIRST)
        # what shaped the MT is recorded with each article: the engine's model, URL and batch limits
        signature = summary["articles"][0]["engine_signature"]
        assert signature["engine"] == "google" and signature["url"].startswith("http://127.0.0.1:")
        assert "chars" in signature["batch"]
        assert summary["failures"][0]["article_id"] == "broken" and "no Arabic text" in summary["failures"][0]["reason"]
        assert "## Failed articles" in (tmp_path / "out" / "first" / "report.md").read_text()
        rows = read_tsv(tmp_path / "out" / "first" / "aligned.tsv")
        assert sorted(set(rows["article_id"])) == sorted(FIRST)
        (folder / "broken.ar.txt").unlink()

        services.clear()
        again = run(tmp_path, services, str(folder), "--name", "again")
        assert again.returncode == 0, again.stderr[-3000:]
        assert services.requests("google") == []  # nothing translated, aligned or scored again
        again_summary = json.loads((tmp_path / "out" / "again" / "scores.json").read_text())
        assert again_summary["counts"]["reused_articles"] == len(FIRST)
        assert read_tsv(tmp_path / "out" / "again" / "aligned.tsv").equals(rows)
        assert again_summary["pipeline_signature"] == summary["pipeline_signature"] != ""

        forced = run(tmp_path, services, str(folder), "--name", "forced", "--rebuild")
        assert forced.returncode == 0, forced.stderr[-3000:]
        assert services.requests("google") == []  # built again from the translation memory
        forced_summary = json.loads((tmp_path / "out" / "forced" / "scores.json").read_text())
        assert forced_summary["counts"]["reused_articles"] == 0
        assert read_tsv(tmp_path / "out" / "forced" / "aligned.tsv").equals(rows)

        copy_articles(folder, ["cnn.304447"])
        added = run(tmp_path, services, str(folder), "--name", "added")
        assert added.returncode == 0, added.stderr[-3000:]
        sent = [s for r in services.requests("google") for s in r.segments]
        new_article = collect_articles([folder / "cnn.304447.ar.txt"])[0].load()[0]
        assert set(sent) == {u.text for u in new_article.units}  # only the added article went to the engine
        grown = read_tsv(tmp_path / "out" / "added" / "aligned.tsv")
        assert sorted(set(grown["article_id"])) == sorted([*FIRST, "cnn.304447"])

        failfast = copy_articles(tmp_path / "ff", FIRST[:1])
        (failfast / "aaa-broken.ar.txt").write_text("English again.\n")
        stopped = run(tmp_path, services, str(failfast), "--name", "ff", "--fail-fast")
        assert stopped.returncode in (1, 2) and not (tmp_path / "out" / "ff").exists()


@pytest.mark.slow
def test_a_failed_article_is_reported_once_on_the_console(tmp_path):
    """Its reason is logged the moment it fails and the summary only counts it (it was listed again there);
    under --fail-fast the run's error is the one report (the log line before it said the same)."""
    folder = copy_articles(tmp_path / "articles", ["abcnews.306758"])
    (folder / "broken.ar.txt").write_text("This article is in English, not Arabic.\n")
    with LoopbackServices(lifetime=600) as services:
        done = run(tmp_path, services, str(folder), "--name", "once")
        stopped = run(tmp_path, services, str(folder), "--name", "stopped", "--fail-fast")
    output = done.stdout + done.stderr
    assert done.returncode == 3, output[-3000:]
    reported = [line for line in output.splitlines() if "no Arabic text" in line]
    assert len(reported) == 1 and "article broken failed: " in reported[0], output[-3000:]
    assert "tarjama: 1 article failed: why is logged above, and in scores.json and report.md" in done.stderr
    assert stopped.returncode == 1 and not (tmp_path / "out" / "stopped").exists(), stopped.stderr[-3000:]
    reported = [line for line in stopped.stderr.splitlines() if "no Arabic text" in line]
    assert reported and all("(--fail-fast)" in line for line in reported), reported
    assert reported[-1].startswith("tarjama: error: article broken failed: ")


@pytest.mark.slow
def test_an_article_failing_inside_a_task_of_several_fails_alone(tmp_path):
    """With one worker, a task builds several articles (Prefect's cost per task is shared): an article the
    engine refuses fails alone, and the article built in the same task beside it is kept."""
    names = sorted(p.name.removesuffix(".ar.txt") for p in NTREX.glob("*.ar.txt"))[:8]
    folder = copy_articles(tmp_path / "articles", names)
    with LoopbackServices(lifetime=900) as services:
        services.inject("", "", "400", service="google")  # the third article's request is refused for good
        done = run(tmp_path, services, str(folder), "--name", "batched", "--workers", "1")
    output = done.stdout + done.stderr
    assert done.returncode == 3, output[-3000:]
    summary = json.loads((tmp_path / "out" / "batched" / "scores.json").read_text())
    assert len(summary["failures"]) == 1 and "HTTP 400" in summary["failures"][0]["reason"]
    failed = summary["failures"][0]["article_id"]
    assert sorted(a["article_id"] for a in summary["articles"]) == sorted(set(names) - {failed})
    tasks = set(re.findall(r"Task run '(build [^']+)'", output))
    assert 1 < len(tasks) < len(names), tasks  # several articles a task, and more than one task
    assert all(task.split()[1] in names for task in tasks)  # named by the articles they build
