"""The shard store: a corpus's kept score statistics stacked exactly, in bounded memory; what a killed run
left in it is removed."""

import dataclasses
import os
import secrets
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import PYTHON, cli_env, libre, write_articles

from tarjama.corpus.build import SHARDS, CorpusRequest, LogEvents, ThreadRunner, build_corpus
from tarjama.corpus.outputs import UNMARKED_TEMPORARY_AGE_S, remove_stale_temporaries, staged_run_folder
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


# Like a run writing a shard (or any file of its output folder): a real process inside atomic_path, which
# goes on when it reads a line (a live run) or is SIGKILLed there (a killed one).
HOLD_A_WRITE = """
import sys
from pathlib import Path
from tarjama.corpus.schema import atomic_path
with atomic_path(Path(sys.argv[1])) as tmp:
    tmp.write_text("half written")
    print("writing", flush=True)
    sys.stdin.readline()
    tmp.write_text("complete")
"""


def holding_a_write(target: Path) -> subprocess.Popen:
    writer = subprocess.Popen(
        [PYTHON, "-c", HOLD_A_WRITE, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=cli_env(target.parent / "home"),
    )
    assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
    return writer


def temporaries(folder: Path) -> list[Path]:
    return sorted(folder.glob(".*.tmp"))


@pytest.mark.parametrize("where", [SHARDS, f"{SHARDS}/by-article", "."])
def test_a_killed_writers_temporary_is_removed_and_a_live_ones_kept(tmp_path, where):
    """A run SIGKILLed while it writes a file leaves its temporary folder: the next sweep of the shard
    store, or the next run into the output folder, removes it, while another live run's stays untouched."""
    out = tmp_path / "out"
    folder = out / where
    folder.mkdir(parents=True)
    killed, live = holding_a_write(folder / "killed.parquet"), holding_a_write(folder / "live.parquet")
    try:
        killed.kill()
        killed.wait()
        left, kept = temporaries(folder)  # sorted: .killed.parquet.* before .live.parquet.*
        assert left.name.startswith(".killed.parquet.") and kept.name.startswith(".live.parquet.")
        if where == ".":
            with staged_run_folder(out, "next") as staging:
                (staging / "aligned.tsv").write_text("rows")
        else:
            store = ShardStore(out / SHARDS)
            assert temporaries(folder) == [left, kept]  # opening the store changes nothing
            assert store.sweep() == [left]
        assert temporaries(folder) == [kept]
        assert live.communicate("go on\n", timeout=30)[0] == "" and live.returncode == 0
    finally:
        for writer in (killed, live):
            writer.kill()
            writer.wait()
    assert (folder / "live.parquet").read_text() == "complete" and not (folder / "killed.parquet").exists()
    assert temporaries(folder) == []


def test_a_run_sweeps_its_shard_store_once_when_it_starts(services, tmp_path):
    """The sweep is the run's first step, and its only one: a temporary left by a run killed after this one
    started stays until the next run (the end of the run opens the store again, to read it)."""
    out = tmp_path / "out"
    settings = libre(tmp_path / "home", services)
    planted: list[Path] = []

    class KilledMeanwhile(LogEvents):
        def start(self, total: int) -> None:  # after the run has opened, and swept, its shard store
            (out / SHARDS).mkdir(parents=True, exist_ok=True)
            killed = holding_a_write(out / SHARDS / "killed.parquet")
            killed.kill()
            killed.wait()
            planted.extend(temporaries(out / SHARDS))

    runner = ThreadRunner(settings, workers=1)
    try:
        request = CorpusRequest(sources=[str(write_articles(tmp_path / "articles"))], out=out, run_name="first")
        build_corpus(request, settings, runner, KilledMeanwhile())
        assert len(planted) == 1 and temporaries(out / SHARDS) == planted
        build_corpus(dataclasses.replace(request, run_name="second"), settings, runner)
    finally:
        runner.close()
    assert temporaries(out / SHARDS) == []


def test_a_temporary_from_before_the_process_mark_is_removed_once_unwritten_for_a_day(tmp_path):
    """Before 0.3.4 a temporary named no process (``.<name>.<random>.tmp``): one not written for a day is a
    killed run's and goes; a recent one, or an old private folder whose file is still being written (an old
    version's run going on after the upgrade), stays; and so does any other dotfile."""
    folder = tmp_path / SHARDS
    folder.mkdir()
    day_ago = time.time() - UNMARKED_TEMPORARY_AGE_S - 60

    def aged(path: Path) -> Path:
        os.utime(path, (day_ago, day_ago), follow_symlinks=False)
        return path

    def private_folder(name: str) -> tuple[Path, Path]:  # as atomic_path made them before 0.3.4
        private = Path(tempfile.mkdtemp(dir=folder, prefix=f".{name}.", suffix=".tmp"))
        (private / name).write_text("half written")
        return private, private / name

    killed, inside = private_folder("killed.parquet")
    aged(inside)
    aged(killed)
    writing, inside = private_folder("writing.parquet")
    aged(writing)  # its file was written just now
    handle, name = tempfile.mkstemp(dir=folder, prefix=".older.tsv.", suffix=".tmp")  # before private folders
    os.close(handle)
    older = aged(Path(name))
    recent = Path(tempfile.mkstemp(dir=folder, prefix=".recent.tsv.", suffix=".tmp")[1])
    link = folder / f".latest.{secrets.token_hex(4)}.tmp"
    link.symlink_to("first")
    aged(link)
    plots = folder / ".0123abcd.4242.tmp"  # the plots cache's staging folder, named by its pid
    plots.mkdir()
    aged(plots)
    theirs = [folder / ".notes.tmp", folder / ".draft.v2.tmp", folder / "kept.parquet"]
    for path in theirs:
        path.touch()
        aged(path)
    removed = remove_stale_temporaries(folder)
    assert sorted(removed) == sorted([killed, older, link, plots])
    assert sorted(folder.iterdir()) == sorted([writing, recent, *theirs])
    assert inside.read_text() == "half written"


def _result() -> ArticleResult:
    return ArticleResult(
        article_id="a", path="p", sentences=1, units=1, engine="e", model="m", translated_texts=1, from_memory=0,
        references=[],
    )  # fmt: skip


def test_a_shard_written_again_changes_the_rows_digest_though_its_size_and_time_are_the_same(tmp_path):
    """The plot cache's key was a hash of every shard's bytes, reading them all on each rerun; it is now
    the digest each shard's summary recorded when its rows were written. Rewritten with other rows of the
    same size, and its modification time set back (a coarse clock, a copy that keeps times), a shard
    still changes it; left alone, it does not."""
    store = ShardStore(tmp_path)
    recorded = {key: store.put(key, pl.DataFrame({"english_mt": ["one"]}), _result()) for key in ("a", "b")}
    before, kept = store.rows_digest(["a", "b", "a"], recorded), (tmp_path / "a.parquet").stat()
    assert store.rows_digest(["a", "b", "a"], recorded) == before
    assert store.rows_digest(["b", "a", "a"], recorded) != before  # in that order
    recorded["a"] = store.put("a", pl.DataFrame({"english_mt": ["two"]}), _result())
    os.utime(tmp_path / "a.parquet", ns=(kept.st_atime_ns, kept.st_mtime_ns))
    rewritten = (tmp_path / "a.parquet").stat()
    assert (rewritten.st_size, rewritten.st_mtime_ns) == (kept.st_size, kept.st_mtime_ns)
    assert store.rows_digest(["a", "b", "a"], recorded) != before


def test_the_same_rows_in_another_output_folder_share_the_rows_digest(tmp_path):
    """A rerun into a fresh output folder builds the same rows into new shard files: keyed by the files'
    identity on disk, the plot cache missed and every plot was drawn again; other rows still differ."""
    first, again, other = (ShardStore(tmp_path / name) for name in ("first", "again", "other"))
    digests = {
        store: store.rows_digest(["a"], {"a": store.put("a", pl.DataFrame({"english_mt": [text]}), _result())})
        for store, text in ((first, "one"), (again, "one"), (other, "two"))
    }
    assert digests[first] == digests[again]
    assert digests[other] != digests[first]


def test_the_rows_digest_is_the_one_the_reuse_check_found_without_reading_the_summaries_again(tmp_path):
    """The digest a summary records reaches the plot cache's key through the reuse check (:meth:`get`), which
    read the summary already: the key was computed by reading every summary a second time. A summary an
    older tarjama wrote, without the digest, counts by its rows file's mark (size, modification and change
    times), which a rewrite with the same size and modification time still moves."""
    store = ShardStore(tmp_path)
    written = {key: store.put(key, pl.DataFrame({"english_mt": [key]}), _result()) for key in ("a", "b")}
    found = {key: record.rows_sha256 for key in ("a", "b") if (record := store.get(key, "a")) is not None}
    assert found == written
    digest = store.rows_digest(["a", "b"], found)
    for key in ("a", "b"):
        (tmp_path / f"{key}.json").unlink()  # not read again: the digest is the same without them
    assert store.rows_digest(["a", "b"], found) == digest

    old = ShardStore(tmp_path / "old")
    old.put("a", pl.DataFrame({"english_mt": ["one"]}), _result())
    summary = tmp_path / "old" / "a.json"
    summary.write_text(summary.read_text().replace('"rows_sha256":', '"older_field":'))
    record = old.get("a", "a")
    assert record is not None and record.rows_sha256 is None
    before, kept = old.rows_digest(["a"], {"a": None}), (tmp_path / "old" / "a.parquet").stat()
    assert old.rows_digest(["a"], {}) == before
    time.sleep(0.01)
    old.put("a", pl.DataFrame({"english_mt": ["two"]}), _result())  # the same size
    os.utime(tmp_path / "old" / "a.parquet", ns=(kept.st_atime_ns, kept.st_mtime_ns))
    assert (tmp_path / "old" / "a.parquet").stat().st_size == kept.st_size
    assert old.rows_digest(["a"], {"a": None}) != before
