"""Run names, output folders, staging and servers, tried the way a careless user or a crash would (issue 9)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import pytest
from conftest import ARTICLE, TARJAMA, alive, cli_env, descendants
from loopback_services import LoopbackServices

from tarjama.corpus.outputs import check_run_name, new_run_name, remove_stale_staging, staged_run_folder
from tarjama.errors import TarjamaError


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TARJAMA, "run", str(ARTICLE), *args],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path / "home"),
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "latest"], "--name 'latest': reserved for the link to the newest run"),
        (["--name", "../x"], "--name '../x': a run name is one folder name"),
        (["--name", "/abs/path"], "--name '/abs/path': a run name is one folder name"),
        (["--engine", "nosuch"], "unknown engine 'nosuch'"),
        (["--engine", "libre", "--engine-url", "notaurl"], "--engine-url='notaurl': not an http(s) URL"),
        (
            ["--engine", "libre", "--engine-url", "http://host:99999"],
            "--engine-url='http://host:99999': not an http(s) URL",
        ),
        (["--memory", "{dir}"], "translation memory is a directory"),
        (["--memory", "{text}"], "unusable translation memory (file is not a database)"),
        (["--out", "{text}/below"], "exists and is not a directory"),
        (["--out", "/proc/tarjama-out"], "/proc"),
    ],
)
@pytest.mark.slow
def test_bad_run_settings_fail_at_once_in_one_line(tmp_path, args, message):
    text = tmp_path / "notes.txt"
    text.write_text("not a database, not a folder\n" * 100)
    (tmp_path / "a-dir").mkdir()
    args = [a.format(dir=tmp_path / "a-dir", text=text) for a in args]
    out = ["--out", str(tmp_path / "out")] if "--out" not in args else []
    result = run_cli(tmp_path, *out, *args)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tarjama: error: ") and message in lines[0], lines
    assert not (tmp_path / "home" / "prefect").exists()
    assert not (tmp_path / "out").exists() and text.read_text().startswith("not a database")


@pytest.mark.parametrize(
    ("shards", "message"),
    [
        ("dangling", ".shards: a symlink to {target}, which does not exist (remove it)"),
        ("file", ".shards: not a writable folder (built articles are kept there for the next run)"),
    ],
)
def test_an_unusable_shards_folder_fails_before_prefect_starts_in_one_line(tmp_path, shards, message):
    """docs/bad-input.md: exit 2, one line. The flow found it, after Prefect had started: exit 1."""
    out, target = tmp_path / "out", tmp_path / "elsewhere" / "shards"
    out.mkdir()
    if shards == "dangling":
        (out / ".shards").symlink_to(target)
    else:
        (out / ".shards").write_text("not a folder\n")
    with LoopbackServices() as services:  # an engine that answers: nothing else stops the run
        result = subprocess.run(
            [TARJAMA, "run", str(ARTICLE), "--out", str(out), "--engine", "google"],
            capture_output=True,
            text=True,
            env=cli_env(tmp_path / "home", TARJAMA_GOOGLE_URL=services.url("google")),
            timeout=300,
        )
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines() == [f"tarjama: error: {out}/{message.format(target=target)}"]
    assert not (tmp_path / "home" / "prefect").exists() and not (tmp_path / "elsewhere").exists()
    assert [p.name for p in out.iterdir()] == [".shards"]


@pytest.mark.slow
def test_align_output_below_a_file_is_one_line(tmp_path):
    text = tmp_path / "file.txt"
    text.write_text("x\n")
    reference = ARTICLE.with_name("euronews-en.153835.en.txt")
    result = subprocess.run(
        [TARJAMA, "align", str(ARTICLE), str(reference), "-o", str(text / "out.tsv")],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path / "home"),
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"tarjama: error: {text / 'out.tsv'}: {text} is not a directory"]


def test_run_names_are_unique_and_single_safe_segments():
    names = {new_run_name([str(ARTICLE)]) for _ in range(200)}
    assert len(names) == 200
    for name in names:
        assert check_run_name(name) == name
    for bad in ("latest", "..", "a/b", ".hidden", "", "x" * 300, "tab\there"):
        with pytest.raises(TarjamaError):
            check_run_name(bad)


def test_staging_is_private_and_a_taken_name_is_refused(tmp_path):
    first, second = staged_run_folder(tmp_path, "same"), staged_run_folder(tmp_path, "same")
    first_staging, second_staging = first.__enter__(), second.__enter__()  # two runs writing at once
    assert first_staging != second_staging
    (first_staging / "a.txt").write_text("first")
    (second_staging / "a.txt").write_text("second")
    first.__exit__(None, None, None)  # the first finishes and takes the name
    with pytest.raises(TarjamaError, match="already exists"):
        second.__exit__(None, None, None)
    assert (tmp_path / "same" / "a.txt").read_text() == "first"
    assert (tmp_path / "latest").resolve() == (tmp_path / "same").resolve()
    assert [p.name for p in tmp_path.iterdir() if ".partial-" in p.name] == []


def test_stale_staging_of_a_dead_run_is_removed_and_a_live_ones_kept(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    for name, owner in (
        ("dead", {"host": socket.gethostname(), "pid": dead.pid}),
        ("live", {"host": socket.gethostname(), "pid": os.getpid()}),
        ("remote", {"host": "another-machine", "pid": 1}),
    ):
        staging = tmp_path / f".{name}.partial-x"
        staging.mkdir()
        (staging / "owner").write_text(json.dumps(owner))
        (staging / "aligned.tsv").write_text("half written")
    removed = remove_stale_staging(tmp_path)
    assert [p.name for p in removed] == [".dead.partial-x"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".live.partial-x", ".remote.partial-x"]


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_killed_run_leaves_no_prefect_server_behind(tmp_path, sig):
    """Killed while a worker thread waits on the service: the run ends at once (Ctrl-C and SIGTERM with one
    line and status 128 + signal); the shared Prefect server it started stays for the next command (a
    signal to the run never reaches it) and stops after its idle time, the dead run's lease no obstacle."""
    idle_s = 15
    with LoopbackServices(lifetime=600) as services:
        services.hold_after(0)  # the first request waits: the run is busy translating when killed
        env = cli_env(
            tmp_path / "home", TARJAMA_LIBRE_URL=services.url("libre"), TARJAMA_PREFECT_SERVER_IDLE=str(idle_s)
        )
        run = subprocess.Popen(
            [TARJAMA, "run", str(ARTICLE), "-e", "libre", "-o", str(tmp_path / "out")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        deadline = time.monotonic() + 400
        while services.held < 1:
            assert run.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
        servers = [p for p in descendants(run.pid) if b"server" in Path(f"/proc/{p}/cmdline").read_bytes()]
        assert servers, "the run has no Prefect server child"
        run.send_signal(sig)
        try:
            _, stderr = run.communicate(timeout=30)  # the held request is still held: nothing waits for it
        finally:
            services.release()
            if run.poll() is None:
                run.kill()
        if sig == signal.SIGKILL:
            assert run.returncode == -sig
        else:
            assert run.returncode == 128 + sig, stderr[-3000:]
            assert stderr.strip().splitlines()[-1].startswith("tarjama: error: interrupted: every sentence")
            assert "View at" not in stderr  # no link to a UI the shared server does not serve
        assert all(alive(p) for p in servers), "the signal to the run reached the shared server"
        deadline = time.monotonic() + idle_s + 90
        while any(alive(p) for p in servers) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not any(alive(p) for p in servers), "the shared Prefect server outlived its idle time"
    databases = [tmp_path / "home" / "prefect" / "prefect.db", tmp_path / "home" / "memory.sqlite"]
    for database in databases:  # both survived the kill of their writers intact
        with closing(sqlite3.connect(database)) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", database


@pytest.mark.slow
def test_ctrl_c_says_in_one_line_what_was_kept(tmp_path):
    with LoopbackServices(lifetime=600) as services:
        services.hold_after(0)
        run = subprocess.Popen(
            [TARJAMA, "run", str(ARTICLE), "-e", "libre", "-o", str(tmp_path / "out")],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(tmp_path / "home", TARJAMA_LIBRE_URL=services.url("libre")),
        )
        deadline = time.monotonic() + 400
        while services.held < 1:
            assert run.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=120)
        services.release()
    assert run.returncode == 130, stderr[-3000:]
    assert "Crash detected" not in stderr and "Traceback" not in stderr
    assert "tarjama: error: interrupted: every sentence translated so far is kept in" in stderr
    assert not (tmp_path / "out" / "latest").exists()
