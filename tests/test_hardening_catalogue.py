"""Issue 9's cases that need a real file system, a real device or several real runs, through the real CLI.

Full and read-only disks are real file systems: a small tmpfs mounted for the test (the tests run as
root, as the failures were found, and as `tests/test_writers.py`'s device nodes need). Device nodes
are made with ``mknod`` in the test's own folder, never the system's ``/dev``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest
from conftest import (
    ARTICLE,
    PYTHON,
    TARJAMA,
    Runs,
    cli_env,
    device,
    fill,
    fill_once_translating,
    finish,
    shared_runs,
    staging_writer,
    tmpfs,
)

from tarjama.corpus.export import FORMATS, get_format
from tarjama.corpus.outputs import STAGING_MARK, staged_run_folder
from tarjama.corpus.schema import SCHEMA, to_frame
from tarjama.errors import TarjamaError
from tarjama.translation.memory import TranslationMemory

REFERENCE = ARTICLE.with_name("euronews-en.153835.en.txt")
NULL, FULL = os.makedev(1, 3), os.makedev(1, 7)  # the device numbers of /dev/null and /dev/full


def tarjama(home: Path, *args: object, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TARJAMA, *map(str, args)], capture_output=True, text=True, env=cli_env(home), cwd=cwd, timeout=120
    )


def one_error_line(result: subprocess.CompletedProcess, code: int) -> str:
    """The single ``tarjama: error:`` line a failure must be, without the prefix."""
    assert result.returncode == code, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tarjama: error: "), lines
    return lines[0].removeprefix("tarjama: error: ")


def integrity(database: Path) -> str:
    with closing(sqlite3.connect(database)) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


# --- item 6: --out on a read-only file system or a full disk, found before anything starts --------------


@pytest.mark.slow
def test_out_on_a_read_only_file_system_is_one_line_before_anything_starts(tmp_path):
    with tmpfs(tmp_path / "disk", "1m", "ro") as disk:
        result = tarjama(tmp_path / "home", "run", ARTICLE, "--out", disk / "out")
        assert one_error_line(result, 2) == f"{disk / 'out'}: cannot write in {disk} (Read-only file system)"
    assert not (tmp_path / "home" / "prefect").exists()


@pytest.mark.slow
def test_out_on_a_full_disk_is_one_line_before_anything_starts(tmp_path):
    with tmpfs(tmp_path / "disk") as disk:
        fill(disk)
        result = tarjama(tmp_path / "home", "run", ARTICLE, "--out", disk / "out")
        assert one_error_line(result, 2) == (
            f"{disk / 'out'}: disk full (0 KiB free in {disk}; tarjama needs at least 1 MiB there)"
        )
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]
    assert not (tmp_path / "home" / "prefect").exists()


@pytest.mark.parametrize("name", FORMATS)
def test_every_format_on_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, name):
    """The writers behind run outputs, shards and exports (polars reports a full disk in its own ways)."""
    rows = [
        {column: None for column in SCHEMA}
        | {"article_id": "a", "reference": "en", "row": i, "arabic": f"جملة {i} " * 40, "english_mt": f"s{i} " * 40}
        for i in range(2000)
    ]
    corpus = to_frame(rows).lazy()
    with tmpfs(tmp_path / "disk", "1m") as disk:
        (disk / "corpus").mkdir()
        fill(disk)
        with pytest.raises(TarjamaError) as raised:
            get_format(name).write(corpus, disk / "corpus", "aligned")
        assert re.fullmatch(
            rf"{disk}/corpus/aligned\.[a-z.]+: cannot write \(No space left on device\)", str(raised.value)
        )
        assert sorted(p.name for p in disk.rglob("*")) == ["corpus", "filler"]


# --- item 7: a translation memory on a full disk (a new one, and one that holds translations) -----------


@pytest.mark.slow
@pytest.mark.parametrize("existing", [False, True], ids=["new-memory", "memory-with-translations"])
def test_memory_on_a_full_disk_is_one_line_before_anything_starts(tmp_path, existing):
    with tmpfs(tmp_path / "disk") as disk:
        memory = disk / "memory.sqlite"
        if existing:
            with TranslationMemory(memory) as stored:
                stored.store("libre", "libretranslate", "جملة.", "A sentence.")
        filler = fill(disk)
        result = tarjama(
            tmp_path / "home", "run", ARTICLE, "--memory", memory, "-e", "libre", "--engine-url", "http://127.0.0.1:9"
        )
        assert one_error_line(result, 2) == (
            f"{memory}: disk full (0 KiB free in {disk}; tarjama needs at least 1 MiB there)"
        )
        filler.unlink()  # SQLite cannot even open a WAL database for reading on a full disk
        if existing:
            assert integrity(memory) == "ok"
            with TranslationMemory(memory) as stored:
                assert len(stored) == 1
        else:
            assert not memory.exists()
    assert not (tmp_path / "home" / "prefect").exists()


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "serve"])
def test_a_home_on_a_full_disk_is_one_line_before_anything_starts(tmp_path, command):
    """The home holds Prefect's database: on a full disk, `run` made the memory, then waited 240 s for a
    Prefect server that could not start there, and failed pointing at its log."""
    memory, out = tmp_path / "memory.sqlite", tmp_path / "out"
    with tmpfs(tmp_path / "disk") as disk:
        home = disk / "home"
        home.mkdir()
        fill(disk)
        if command == "run":
            args = ["run", ARTICLE, "--memory", memory, "-e", "libre", "--engine-url", "http://127.0.0.1:9"]
        else:  # ports nothing listens on: refused before either is bound
            args = ["serve", "--port", "9", "--download-port", "10", "--article", ARTICLE]
        result = tarjama(home, *args, "--out", out)
        assert one_error_line(result, 2) == (
            f"{home}: disk full (0 KiB free in {home}; tarjama needs at least 1 MiB there for its home: "
            "Prefect's database, logs and the run journals)"
        )
        assert sorted(p.relative_to(disk).as_posix() for p in disk.rglob("*")) == ["filler", "home"]
    assert not memory.exists() and not out.exists()


# --- item 1 through the CLI: `align -o` and `download -o` write through devices and links -------------


@pytest.mark.slow
def test_align_writes_through_a_device_and_a_symlink_never_replacing_them(tmp_path):
    null = device(tmp_path / "null", NULL)
    result = tarjama(tmp_path / "home", "align", ARTICLE, REFERENCE, "-o", null)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(null.lstat().st_mode) and null.lstat().st_rdev == NULL
    (tmp_path / "data").mkdir()
    link = tmp_path / "link.tsv"
    link.symlink_to(Path("data") / "aligned.tsv")
    result = tarjama(tmp_path / "home", "align", ARTICLE, REFERENCE, "-o", link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(Path("data") / "aligned.tsv")
    assert (tmp_path / "data" / "aligned.tsv").read_text().split("\n")[0] == "\t".join(SCHEMA)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "link.tsv", "null"]  # no temporary left


@pytest.mark.slow
@pytest.mark.parametrize("where", ["device", "disk"], ids=["dev-full", "full-disk"])
def test_align_to_a_full_device_or_disk_is_one_line_and_leaves_nothing(tmp_path, where):
    with tmpfs(tmp_path / "disk") as disk:
        if where == "device":
            target = device(tmp_path / "full", FULL)
        else:
            fill(disk)
            target = disk / "aligned.tsv"
        result = tarjama(tmp_path / "home", "align", ARTICLE, REFERENCE, "-o", target)
        assert one_error_line(result, 2) == f"{target}: cannot write (No space left on device)"
        assert sorted(p.name for p in disk.iterdir()) == ([] if where == "device" else ["filler"])
    if where == "device":
        assert stat.S_ISCHR(target.lstat().st_mode) and target.lstat().st_rdev == FULL


def _finished_run(out: Path) -> Path:
    """An output folder holding one finished run and its ``latest`` link, as ``tarjama run`` leaves it."""
    folder = out / "20261129-120000-euronews-en.153835-ab12"
    folder.mkdir(parents=True)
    (folder / "aligned.tsv").write_text("\t".join(SCHEMA) + "\n", encoding="utf-8")
    (folder / "scores.json").write_text(json.dumps({"run": folder.name}), encoding="utf-8")
    (out / "latest").symlink_to(folder.name)
    return folder


@pytest.mark.slow
def test_download_writes_through_a_device_and_a_symlink_never_replacing_them(tmp_path):
    run = _finished_run(tmp_path / "output")
    null = device(tmp_path / "null", NULL)
    result = tarjama(tmp_path / "home", "download", "latest", "--from", tmp_path / "output", "-o", null)
    assert result.returncode == 0, result.stderr
    assert stat.S_ISCHR(null.lstat().st_mode) and null.lstat().st_rdev == NULL
    link = tmp_path / "mine.tsv"
    link.symlink_to("kept.tsv")
    result = tarjama(tmp_path / "home", "download", "latest", "--from", tmp_path / "output", "-o", link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and (tmp_path / "kept.tsv").read_bytes() == (run / "aligned.tsv").read_bytes()
    full = device(tmp_path / "full", FULL)
    result = tarjama(tmp_path / "home", "download", "latest", "--from", tmp_path / "output", "-o", full)
    assert one_error_line(result, 1) == f"{full}: cannot write (No space left on device)"
    assert stat.S_ISCHR(full.lstat().st_mode) and full.lstat().st_rdev == FULL


# --- item 2: what `--name latest` used to leave behind breaks no later run ----------------------------


def test_a_folder_called_latest_and_an_old_temporary_link_break_no_later_run(tmp_path):
    (tmp_path / "latest").mkdir()  # the folder `--name latest` wrote
    (tmp_path / ".latest.tmp").symlink_to("latest")  # and the temporary link it left
    for name in ("first", "second"):
        with staged_run_folder(tmp_path, name) as staging:
            (staging / "aligned.tsv").write_text(name)
    assert [(tmp_path / name / "aligned.tsv").read_text() for name in ("first", "second")] == ["first", "second"]
    assert (tmp_path / "latest").is_dir() and not (tmp_path / "latest").is_symlink()  # a user's folder: left alone


# --- runs against one Prefect server: concurrency (item 3), stale staging (item 5), a disk that fills ---


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Iterator[Runs]:
    with shared_runs(tmp_path_factory.mktemp("runs")) as started:
        yield started


@pytest.mark.slow
def test_three_runs_started_together_all_finish_and_stale_staging_goes(tmp_path, runs):
    out, memory = tmp_path / "out", tmp_path / "memory.sqlite"
    killed = staging_writer(out, "killed-while-writing")
    killed.kill()  # SIGKILL while writing its outputs (item 5)
    killed.wait()
    live = staging_writer(out, "still-writing")
    try:
        folders: dict[str, list[Path]] = {}
        for memory_state in ("cold", "warm"):  # warm: nothing to translate, all three write at once
            shutil.rmtree(out / ".shards", ignore_errors=True)  # no article reused: each run builds its own
            started = [runs.start(ARTICLE, "--out", out, "--memory", memory) for _ in range(3)]
            for code, stderr in map(finish, started):
                assert code == 0, (memory_state, stderr[-3000:])
            done = {p for p in out.iterdir() if not p.name.startswith(".") and p.name != "latest"}
            folders[memory_state] = sorted(done - {p for runs in folders.values() for p in runs})
            assert len(folders[memory_state]) == 3, folders
        every = folders["cold"] + folders["warm"]
        assert all({"aligned.parquet", "aligned.tsv", "report.md", "scores.json"} <= set(os.listdir(f)) for f in every)
        assert len({(folder / "aligned.tsv").read_bytes() for folder in every}) == 1
        for folder in folders["warm"]:
            article = json.loads((folder / "scores.json").read_text())["articles"][0]
            assert article["from_memory"] == article["translated_texts"] >= article["sentences"]
        assert (out / "latest").resolve() in every
        staging = sorted(p.name for p in out.iterdir() if STAGING_MARK in p.name)
        assert len(staging) == 1 and staging[0].startswith(".still-writing.partial-")  # the live one is kept
        assert integrity(memory) == "ok"
    finally:
        live.kill()
        live.wait()


@pytest.mark.slow
def test_a_disk_that_fills_while_translating_is_one_line_and_leaves_nothing(tmp_path, runs):
    services = runs.services
    memory = tmp_path / "memory.sqlite"
    with tmpfs(tmp_path / "disk") as disk:
        run = fill_once_translating(
            services, lambda: runs.start(ARTICLE, "--out", disk / "out", "--memory", memory), disk
        )
        code, stderr = finish(run)
        assert code == 1, stderr[-3000:]
        assert stderr.strip().splitlines()[-1].startswith(f"tarjama: error: {disk / 'out'}")
        assert stderr.strip().endswith(": cannot write (No space left on device)")
        assert "Traceback" not in stderr  # Prefect logs a user's problem in one line too
        assert [p.relative_to(disk) for p in disk.rglob("*") if not p.is_dir()] == [Path("filler")]  # nothing partial
    assert integrity(memory) == "ok"
    with TranslationMemory(memory) as stored:
        assert len(stored) > 0  # what was translated is kept for the rerun


DEPLOYMENT_RUN = """
import json, sys
from tarjama.flows.pipeline import run
from tarjama.settings import Settings

article, out, name = sys.argv[1:]
try:
    run([article], Settings.load(engine="libre"), out=out, run_name=name)
except Exception as problem:
    print(json.dumps({"error": type(problem).__name__, "message": str(problem)}))
"""


@pytest.mark.slow
@pytest.mark.parametrize("name", ["latest", "../x", "/abs/path"])
def test_a_bad_run_name_from_the_run_form_is_refused_before_translating(tmp_path, runs, name):
    """The deployment's run form hands ``run_name`` to the flow as ``--name`` does to the CLI (item 2)."""
    runs.services.clear()
    done = subprocess.run(
        [PYTHON, "-c", DEPLOYMENT_RUN, str(ARTICLE), str(tmp_path / "out"), name],
        capture_output=True,
        text=True,
        env=runs.env | {"TARJAMA_HOME": str(tmp_path / "home")},
        timeout=600,
    )
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    assert outcome["error"] == "TarjamaError" and f"--name {name!r}" in outcome["message"], outcome
    assert runs.services.requests() == []  # nothing was translated (paid for) first
    assert not (tmp_path / "x").exists() and not Path("/abs/path").exists()


@pytest.mark.slow
def test_an_article_of_one_repeated_sentence_reports_one_sentence_sent(tmp_path, runs):
    """Also seen: 1,890 copies of a sentence were logged as "1890 newly translated" when one was sent."""
    article = tmp_path / "repeated.ar.txt"
    article.write_text("وصل وزير الخارجية إلى الرباط يوم الجمعة.\n" * 1890, encoding="utf-8")
    runs.services.clear()
    code, stderr = finish(runs.start(article, "--out", tmp_path / "out", "--memory", tmp_path / "memory.sqlite"))
    assert code == 0, stderr[-3000:]
    assert "repeated: 1890 sentences, 0 from the memory, 1 distinct sentence newly translated" in stderr
    assert [segment for request in runs.services.requests() for segment in request.segments] == [
        "وصل وزير الخارجية إلى الرباط يوم الجمعة."
    ]


RACE_FOR_THE_LIMIT = """
import threading
from tarjama.flows.limits import ensure_limit

failures = []
for attempt in range(10):
    barrier = threading.Barrier(6)

    def start_a_run(engine=f"race-{attempt}"):
        barrier.wait()
        try:
            ensure_limit(engine, 2.0)
        except Exception as problem:
            failures.append(type(problem).__name__)

    threads = [threading.Thread(target=start_a_run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
print(failures)
"""


@pytest.mark.slow
def test_runs_starting_together_all_get_their_rate_limit(runs):
    """Item 3 again: each run creates or updates its engine's Prefect rate limit as it starts, and a run
    that lost the race to create it failed (ObjectAlreadyExists) while the others translated."""
    done = subprocess.run([PYTHON, "-c", RACE_FOR_THE_LIMIT], capture_output=True, text=True, env=runs.env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"


def stopped_while_translating(runs, tmp_path: Path, name: str, stop) -> tuple[int, str]:
    """Start a run that waits on its first request to the service, ``stop(process)`` it there; its exit
    status and standard error once it has ended."""
    runs.services.clear()
    held_before = runs.services.held  # the services are shared by the module's tests
    runs.services.hold_after(0)  # the first request waits: the run is busy translating when stopped
    try:
        run = runs.start(ARTICLE, "--out", tmp_path / "out", "--name", name, "--memory", tmp_path / "memory.sqlite")
        deadline = time.monotonic() + 400
        while runs.services.held <= held_before:
            assert run.poll() is None and time.monotonic() < deadline, run.communicate()[1][-3000:]
            time.sleep(0.5)
        stop(run)
        _, stderr = run.communicate(timeout=60)
    finally:
        runs.services.release()
    return run.returncode, stderr


def prefect_states(runs, name: str) -> list[tuple[str, str]]:
    """The state type and message of each flow run named ``name``, as Prefect has them."""
    found = httpx.post(
        f"{runs.env['PREFECT_API_URL']}/flow_runs/filter",
        json={"flow_runs": {"name": {"any_": [name]}}},
        timeout=30,
    ).json()
    return [(r["state"]["type"], r["state"]["message"]) for r in found]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stopped_run_is_cancelled_in_prefect_not_left_running(tmp_path, runs, sig):
    """Also seen: a run ended by Ctrl-C or SIGTERM stayed "Running" in the Prefect UI for ever."""
    name = f"stopped-{sig.name.lower()}"
    status, stderr = stopped_while_translating(runs, tmp_path, name, lambda run: run.send_signal(sig))
    assert status == 128 + sig, stderr[-3000:]
    assert prefect_states(runs, name) == [("CANCELLED", f"stopped by {sig.name}")]


@pytest.mark.slow
def test_a_killed_run_is_marked_crashed_when_the_next_command_starts(tmp_path, runs):
    """A run killed outright (SIGKILL) stayed "Running" in Prefect and in `tarjama runs` for ever."""
    name = "killed-outright"
    stopped_while_translating(runs, tmp_path, name, lambda run: run.kill())
    assert prefect_states(runs, name)[0][0] == "RUNNING"
    listed = subprocess.run([TARJAMA, "runs", "--json"], capture_output=True, text=True, env=runs.env, timeout=300)
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert prefect_states(runs, name) == [("CRASHED", "its tarjama run process was killed")]
    listed_runs = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["state"] for r in listed_runs if r["name"] == name] == ["Crashed"]


@pytest.mark.slow
def test_a_killed_run_has_none_of_the_outputs_a_later_run_of_its_name_wrote(tmp_path, runs):
    """Seen: `tarjama run A --name k` killed (SIGKILL), then run again to the end: `tarjama runs` showed the
    killed run with the later run's BLEU and folder, and `tarjama download <its id>` wrote the later run's file."""
    name = "killed-then-rerun"
    stopped_while_translating(runs, tmp_path, name, lambda run: run.kill())
    rerun = runs.start(ARTICLE, "--out", tmp_path / "out", "--name", name, "--memory", tmp_path / "memory.sqlite")
    code, stderr = finish(rerun)
    assert code == 0, stderr[-3000:]
    listed = subprocess.run([TARJAMA, "runs", "--json"], capture_output=True, text=True, env=runs.env, timeout=300)
    assert listed.returncode == 0, listed.stderr[-3000:]
    killed, done = [json.loads(line) for line in listed.stdout.splitlines() if json.loads(line)["name"] == name][::-1]
    assert (done["state"], done["output"]) == ("Completed", str(tmp_path / "out" / name)) and done["bleu"] is not None
    assert (killed["state"], killed["bleu"], killed["output"]) == ("Crashed", None, None)
    downloaded = subprocess.run(
        [TARJAMA, "download", killed["id"][:8]], capture_output=True, text=True, env=runs.env, cwd=tmp_path, timeout=300
    )
    assert one_error_line(downloaded, 1) == f"run {name} ({killed['id']}) is Crashed and wrote no outputs"
    assert not list(tmp_path.glob("*-aligned.tsv"))


# --- the README's catalogue: each case with the message it prints today ------------------------------


@pytest.mark.slow
def test_the_readme_catalogue_is_what_the_quick_cases_print_today():
    """The catalogue table of ``docs/bad-input.md`` lists every item of issue 9, and its one-line cases
    (files, settings, disks, writers, the TSV dialect) print what the table says, as
    ``scripts/bad_input_catalogue.py`` finds by running them; its slow sections (runs, kills, the server)
    are tested above and in ``tests/test_webapp.py``."""
    root = Path(__file__).resolve().parent.parent
    page = (root / "docs" / "bad-input.md").read_text(encoding="utf-8")
    table = page.split("## The catalogue", 1)[1].split("\n\n")[2].splitlines()
    assert {line.split(" | ")[0].removeprefix("| ") for line in table[2:]} == {
        "bad input",
        "also seen",
        *map(str, range(1, 13)),
    }
    done = subprocess.run(
        [PYTHON, root / "scripts" / "bad_input_catalogue.py", "bad_input", "run_settings", "disks", "writers"]
        + ["tsv_dialect"],
        capture_output=True,
        text=True,
        env=os.environ | {"PYTHONPATH": os.pathsep.join([str(root / "src"), str(root)])},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    printed = done.stdout.strip().splitlines()[2:]
    assert len(printed) == 36 and [line for line in printed if line not in table] == []
