"""Journals that are damaged or cannot be written, memories on a disk that fills up mid-run, and an
``<out>/latest`` that is not a link: real files, real (tmpfs) full disks, the real CLI where it matters.

Full disks are small tmpfs mounts, as in ``tests/test_hardening_catalogue.py`` (the tests run as root).
"""

from __future__ import annotations

import logging
import sqlite3
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import (
    ARTICLE,
    TARJAMA,
    Runs,
    build,
    cli_env,
    fill,
    fill_once_translating,
    finish,
    libre,
    shared_runs,
    tmpfs,
    write_articles,
)

from tarjama.errors import TarjamaError
from tarjama.translation.memory import TranslationMemory, journal_folder, save_journals

ROWS = 3000


def journal_with_rows(path: Path, rows: int = ROWS) -> Path:
    """A journal as a worker leaves it: ``rows`` translations, closed (its WAL folded in)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with TranslationMemory(path) as journal:
        journal.store_many("google", "nmt", [(f"جملة {i} " + "ب" * 200, f"sentence {i}") for i in range(rows)])
    return path


def set_aside_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.damaged-*"))


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "damaged journal" in r.getMessage()
    ]


# --- a damaged journal no longer blocks every later run into its memory --------------------------------------


@pytest.mark.parametrize("damage", ["not-sqlite", "truncated", "damaged-pages"])
def test_a_damaged_journal_is_set_aside_with_what_can_be_read_merged(tmp_path, damage) -> None:
    home, memory = tmp_path / "home ?#%", tmp_path / "memory.sqlite"  # odd characters in its path
    folder = journal_folder(home, memory)
    journal = folder / "vm-999992.sqlite"
    if damage == "not-sqlite":
        folder.mkdir(parents=True)
        journal.write_bytes(b"these are not the bytes of a database\n" * 200)
    else:
        data = bytearray(journal_with_rows(journal).read_bytes())
        if damage == "truncated":  # a disk that filled up, a copy cut short
            data = data[: len(data) // 2]
        else:  # pages in the middle overwritten
            data[20 * 4096 : 40 * 4096] = b"\xff" * (20 * 4096)
        journal.write_bytes(bytes(data))
    original = journal.read_bytes()
    told: list[str] = []

    merged = save_journals(home, memory, told.append)

    aside = set_aside_files(folder)
    assert len(aside) == 1 and aside[0].read_bytes() == original  # its bytes kept, out of the journals' way
    assert not journal.exists()
    assert len(told) == 1 and told[0].startswith(f"{journal}: damaged journal (")
    assert told[0].endswith(f"into {memory}; the file is set aside as {aside[0].name}")
    with TranslationMemory(memory) as stored:
        assert len(stored) == merged
    if damage == "not-sqlite":
        assert merged == 0
    else:  # paid translations: read up to the damage (from both ends where it is in the middle)
        assert ROWS // 3 < merged < ROWS, merged
    assert f"{merged} translation" in told[0]
    assert save_journals(home, memory, told.append) == 0 and len(told) == 1  # the next run: nothing to say


def test_a_good_journal_beside_a_damaged_one_is_merged_and_removed(tmp_path) -> None:
    home, memory = tmp_path / "home", tmp_path / "memory.sqlite"
    folder = journal_folder(home, memory)
    journal_with_rows(folder / "vm-999991.sqlite", 10)
    folder.joinpath("vm-999992.sqlite").write_bytes(b"\0garbage" * 1000)
    assert save_journals(home, memory, lambda _: None) == 10
    assert [p.name.split(".damaged-")[0] for p in folder.iterdir()] == ["vm-999992.sqlite"]


def test_a_run_into_a_memory_with_a_damaged_journal_goes_on_and_warns(services, tmp_path, caplog) -> None:
    home, memory = tmp_path / "home", tmp_path / "memory.sqlite"
    folder = journal_folder(home, memory)
    folder.mkdir(parents=True)
    folder.joinpath("vm-999992.sqlite").write_bytes(b"not a database " * 100)
    with caplog.at_level(logging.WARNING, logger="tarjama.corpus.build"):
        summary = build(libre(home, services, memory=str(memory)), write_articles(tmp_path / "a"), tmp_path / "o", "r")
    assert len(summary.articles) == 2 and not summary.failures
    said = warnings(caplog)
    assert len(said) == 1 and said[0].startswith(f"{folder / 'vm-999992.sqlite'}: damaged journal (file is not")
    assert len(set_aside_files(folder)) == 1


# --- a full disk mid-run: one line naming the file, nothing paid for lost ---------------------------------------


def build_filling(disk: Path, services, home: Path, memory: Path, out: Path) -> BaseException | None:
    """Build :data:`conftest.ARTICLES` while ``disk`` fills up: after the checks made before anything is
    paid for, while the first request is with the service. What the build raised."""
    settings = libre(home, services, memory=str(memory)).model_copy(update={"http_backoff": 0.05})
    articles = write_articles(out.parent / "articles")
    raised: list[BaseException] = []

    def run() -> None:
        try:
            build(settings, articles, out, "r")
        except BaseException as problem:  # handed to the test
            raised.append(problem)

    held = services.held  # cumulative: requests held before this test's
    services.hold_after(0)
    builder = threading.Thread(target=run)
    builder.start()
    try:
        while services.held <= held:
            assert builder.is_alive(), raised
            builder.join(0.1)
        fill(disk)
    finally:
        services.release()
    builder.join(300)
    assert not builder.is_alive()
    return raised[0] if raised else None


def asks_again(services, home: Path, memory: Path, out: Path) -> int:
    """How many requests a rebuild of the same articles sends: 0 when every translation was kept."""
    services.clear()
    build(libre(home, services, memory=str(memory)), out.parent / "articles", out, "again", rebuild=True)
    return len(services.requests())


def test_a_memory_whose_disk_fills_up_mid_run_is_one_line_naming_it_and_loses_nothing(services, tmp_path) -> None:
    home, out = tmp_path / "home", tmp_path / "out"
    with tmpfs(tmp_path / "disk") as disk:
        memory = disk / "memory.sqlite"
        raised = build_filling(disk, services, home, memory, out)
        assert isinstance(raised, TarjamaError), repr(raised)
        assert str(raised).startswith(f"{memory}: disk full (0 KiB free in {disk}")
        (disk / "filler").unlink()
        with sqlite3.connect(memory) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        save_journals(home, memory)  # as the next run does first
        assert asks_again(services, home, memory, out) == 0


def test_a_journal_whose_disk_fills_up_mid_run_keeps_every_answer_and_fails_in_one_line(services, tmp_path) -> None:
    memory, out = tmp_path / "memory.sqlite", tmp_path / "out"
    with tmpfs(tmp_path / "disk") as home:
        raised = build_filling(home, services, home, memory, out)
        assert isinstance(raised, TarjamaError), repr(raised)
        message = str(raised)
        assert message.startswith(f"{journal_folder(home, memory)}"), message
        assert "disk full (0 KiB free in " in message
        assert f"every sentence this run translated is kept in {memory}" in message
        assert "\n" not in message
        assert not list(out.glob("r*"))  # no output: the run failed
    # the home is gone with its journals: every answer is in the memory all the same
    assert asks_again(services, tmp_path / "home2", memory, out) == 0


# --- <out>/latest that is not a link -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["directory", "file"])
def test_a_latest_that_is_not_a_link_is_refused_before_anything_starts(tmp_path, kind) -> None:
    out = tmp_path / "out"
    out.mkdir()
    if kind == "directory":
        (out / "latest").mkdir()
    else:
        (out / "latest").write_text("my notes\n")
    home = tmp_path / "home"
    result = subprocess.run(
        [TARJAMA, "run", str(ARTICLE), "-o", str(out)], capture_output=True, text=True, env=cli_env(home), timeout=120
    )
    assert result.returncode == 2, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"tarjama: error: {out / 'latest'}: a {kind}, not a link: tarjama points latest at the newest run in {out} "
        "(move it away, or give another --out)"
    ]
    assert sorted(p.name for p in out.iterdir()) == ["latest"]
    assert not (home / "prefect").exists()  # refused before Prefect starts


def test_the_core_refuses_a_latest_that_is_not_a_link_too(services, tmp_path) -> None:
    out = tmp_path / "out"
    (out / "latest").mkdir(parents=True)
    with pytest.raises(TarjamaError, match="latest: a directory, not a link"):
        build(libre(tmp_path / "home", services), write_articles(tmp_path / "a"), out, "r")
    assert services.requests() == []


# --- the same through the CLI, against a shared Prefect server ---------------------------------------------------


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Iterator[Runs]:
    with shared_runs(tmp_path_factory.mktemp("journals")) as started:
        yield started


@pytest.mark.slow
def test_a_cli_run_with_a_damaged_journal_warns_in_one_line_and_succeeds(tmp_path, runs) -> None:
    memory = tmp_path / "m_j.sqlite"
    folder = journal_folder(Path(runs.env["TARJAMA_HOME"]), memory)
    folder.mkdir(parents=True)
    folder.joinpath("vm-999992.sqlite").write_bytes(b"not a database " * 100)
    code, stderr = finish(runs.start(ARTICLE, "--out", tmp_path / "out", "--memory", memory))
    assert code == 0, stderr[-3000:]
    assert "Traceback" not in stderr
    said = [line for line in stderr.splitlines() if "damaged journal" in line]
    assert len(said) == 1 and f"{folder / 'vm-999992.sqlite'}: damaged journal (file is not a database)" in said[0]
    assert len(set_aside_files(folder)) == 1


@pytest.mark.slow
def test_a_cli_run_whose_home_disk_fills_up_keeps_every_answer_and_fails_in_one_line(tmp_path, runs) -> None:
    memory, out = tmp_path / "memory.sqlite", tmp_path / "out"
    services = runs.services
    services.clear()  # the module's runs share it: only this run's requests
    with tmpfs(tmp_path / "disk", "8m") as home:
        command = [TARJAMA, "run", str(ARTICLE), "-e", "libre", "--out", str(out), "--memory", str(memory)]
        env = runs.env | {"TARJAMA_HOME": str(home)}
        run = fill_once_translating(
            services,
            lambda: subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env),
            home,
        )
        code, stderr = finish(run)
    assert code == 1, stderr[-3000:]
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"tarjama: error: {journal_folder(home, memory)}"), stderr[-3000:]
    assert f"every sentence this run translated is kept in {memory}" in last
    paid = {s for r in services.requests() if r.status == 200 for s in r.segments}
    with sqlite3.connect(memory) as db:
        stored = {source for (source,) in db.execute("SELECT source FROM translations")}
    assert paid and paid <= stored  # no answer lost


@pytest.mark.slow
def test_a_cli_run_whose_memory_disk_fills_up_is_one_line_naming_it(tmp_path, runs) -> None:
    services = runs.services
    services.clear()  # the module's runs share it: only this run's requests
    with tmpfs(tmp_path / "disk") as disk:
        memory = disk / "memory.sqlite"
        run = fill_once_translating(
            services, lambda: runs.start(ARTICLE, "--out", tmp_path / "out", "--memory", memory), disk
        )
        code, stderr = finish(run)
        assert code == 1, stderr[-3000:]
        assert "Traceback" not in stderr
        assert stderr.strip().splitlines()[-1] == (
            f"tarjama: error: {memory}: disk full (0 KiB free in {disk}; tarjama needs at least 1 MiB there)"
        )
        (disk / "filler").unlink()
        paid = {s for r in services.requests() if r.status == 200 for s in r.segments}
        save_journals(Path(runs.env["TARJAMA_HOME"]), memory)  # as the next run does first
        with sqlite3.connect(memory) as db:
            assert paid and paid <= {source for (source,) in db.execute("SELECT source FROM translations")}
