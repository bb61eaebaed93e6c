"""The warm process (``tarjama.app.preload``): a later ``tarjama run`` of a home runs in a child forked from
it, with the command's own streams, folder, environment and exit status; signals and the command's
death reach the run; changed code or Prefect settings are never served by an old process."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from conftest import ARTICLE, TARJAMA, alive, cli_env
from loopback_services import LoopbackServices

import tarjama
from tarjama.app.preload import changed_files, outside_module_files, socket_path

pytestmark = pytest.mark.slow
WAIT_S = 180  # the warm process's imports, on a busy machine


def warm_env(home: Path, services: LoopbackServices, **extra: str) -> dict[str, str]:
    return cli_env(
        home,
        TARJAMA_PRELOAD="on",
        TARJAMA_LIBRE_URL=services.url("libre"),
        TARJAMA_HTTP_BACKOFF="0.1",
        **extra,
    )


def log_of(home: Path) -> str:
    return (home / "preload.log").read_text() if (home / "preload.log").exists() else ""


def wait_for(condition, what: str, timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def warm_pids(home: Path) -> list[int]:
    return [int(pid) for pid in re.findall(r"^warm process (\d+) ", log_of(home), re.MULTILINE)]


def run(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TARJAMA, "run", str(ARTICLE), "-e", "libre", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def warm(tmp_path: Path):
    """A home whose first run (in-process) left a warm process behind; stopped at the end."""
    home = tmp_path / "home"
    work = tmp_path / "work"
    work.mkdir()
    with LoopbackServices(lifetime=1800) as services:
        env = warm_env(home, services)
        first = run(env, work, "--name", "first")
        assert first.returncode == 0, first.stderr
        wait_for(lambda: "warm process" in log_of(home), "the warm process")
        try:
            yield home, work, env
        finally:
            for pid in warm_pids(home):
                if alive(pid):
                    os.kill(pid, signal.SIGTERM)


def test_a_later_run_is_served_by_the_warm_process_with_its_own_streams_folder_and_status(warm) -> None:
    home, work, env = warm
    path = socket_path(home)
    assert path is not None
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # only the user may connect
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    second = run(env, work, "--name", "second")
    assert second.returncode == 0, second.stderr
    assert re.search(r"^run \d+ ended with status 0;", log_of(home), re.MULTILINE)  # it ran in the warm process
    assert "1 reused from earlier runs" in second.stdout + second.stderr  # the summary reached our pipe
    port = json.loads((home / "prefect-server.json").read_text())["port"]  # the shared server the first run left
    assert f"Prefect's settings loaded for the API http://127.0.0.1:{port}/api" in log_of(home)  # before the run
    assert (work / "output" / "second" / "aligned.tsv").is_file()  # relative to the command's own folder

    bad = run(env, work, "--name", "second")  # exists already: bad input, one line, status 2
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "tarjama: error: output/second: output directory already exists "
        "(choose another --name, or leave --name out for a new one)"
    ]
    assert re.search(r"^run \d+ ended with status 2;", log_of(home), re.MULTILINE)


def test_changed_prefect_settings_are_not_served_by_an_old_process(warm) -> None:
    home, work, env = warm
    (old,) = warm_pids(home)
    changed = run(env | {"PREFECT_LOGGING_LEVEL": "INFO"}, work, "--name", "changed")
    assert changed.returncode == 0, changed.stderr
    assert "run " not in log_of(home)  # ran in-process: the old process refused it...
    wait_for(lambda: not alive(old), "the old warm process to stop")  # ...and stopped
    wait_for(lambda: len(warm_pids(home)) == 2, "a new warm process")  # the command left a new one


def test_another_import_path_is_not_served_by_an_old_process(warm, tmp_path: Path) -> None:
    """A command whose ``PYTHONPATH`` differs may import another plug-in of the same name: the old process,
    whose imports followed its own path, refuses it (before, it ran the command with its own plug-ins)."""
    home, work, env = warm
    (old,) = warm_pids(home)
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    path = os.pathsep.join(p for p in (env.get("PYTHONPATH"), str(plugins)) if p)
    moved = run(env | {"PYTHONPATH": path}, work, "--name", "moved")
    assert moved.returncode == 0, moved.stderr
    assert "run " not in log_of(home)  # ran in-process
    assert "code, import path or Prefect settings changed: stopping" in log_of(home)
    wait_for(lambda: not alive(old), "the old warm process to stop")


def test_an_edited_plug_in_module_is_found_changed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plug-in imported from outside the interpreter's folders is stamped; editing it in place (same folder,
    so no installed folder's time changes) shows as changed, and tarjama's and installed modules are not stamped."""
    (tmp_path / "tarjama_test_plugin.py").write_text("LIMIT = 12\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("tarjama_test_plugin")  # made just above: no package of the project's

    files = outside_module_files()
    plugin = str(tmp_path / "tarjama_test_plugin.py")
    assert plugin in files
    # tarjama's code by its folders, not by a "/tarjama/" in the path: a checkout is often a folder of that name,
    # and the tests' own modules there (conftest.py) are outside the interpreter's folders, so they are stamped
    flows = importlib.util.find_spec("tarjama.flows")
    ours = [Path(tarjama.__file__).parent, *map(Path, flows.submodule_search_locations if flows else [])]
    assert not any(
        "/site-packages/" in name or any(Path(name).resolve().is_relative_to(folder.resolve()) for folder in ours)
        for name in files
    )
    assert changed_files(files) == []
    (tmp_path / "tarjama_test_plugin.py").write_text("LIMIT = 300\n")
    assert changed_files(files) == [plugin]


def test_ctrl_c_reaches_the_run_and_killing_the_command_kills_its_run(warm, tmp_path: Path) -> None:
    home, work, env = warm
    slow = dict(env)
    with LoopbackServices(latency=5.0, lifetime=600) as services:  # a new article, translated slowly
        slow["TARJAMA_LIBRE_URL"] = services.url("libre")

        def start(source: str) -> tuple[subprocess.Popen[str], int]:
            # each run a new article: a stopped run keeps the answers it waited for, so a rerun would be fast
            article = tmp_path / source / "slow.ar.txt"
            article.parent.mkdir()
            shutil.copy(ARTICLE.with_name(f"{source}.ar.txt"), article)
            runs_before = len(re.findall(r"^run (\d+) started", log_of(home), re.MULTILINE))
            command = subprocess.Popen(
                [TARJAMA, "run", str(article), "-e", "libre"], env=slow, cwd=work, stderr=subprocess.PIPE, text=True
            )
            wait_for(
                lambda: len(re.findall(r"^run (\d+) started", log_of(home), re.MULTILINE)) > runs_before, "the run"
            )
            child = int(re.findall(r"^run (\d+) started", log_of(home), re.MULTILINE)[-1])
            time.sleep(3)
            return command, child

        command, child = start("abcnews.306758")
        command.send_signal(signal.SIGINT)
        _, stderr = command.communicate(timeout=120)
        assert command.returncode == 130, stderr
        assert "interrupted" in stderr
        wait_for(lambda: not alive(child), "the interrupted run to end", 60)

        command, child = start("abcnews.306764")
        command.kill()  # SIGKILL: nothing can be forwarded, yet the run must not outlive its command
        command.wait()
        wait_for(
            lambda: re.search(rf"^run {child} ended with status 137;", log_of(home), re.MULTILINE),
            "the run of a killed command to be killed",
            30,
        )


def test_a_run_whose_warm_process_is_killed_still_reports_its_own_status(warm, tmp_path: Path) -> None:
    """SIGKILL of the warm process during a run it forked: the run goes on (its parent is now init) and the
    command exits with the run's status, which the run reports itself (before, the command waited for the
    warm process's report and exited 1: "the warm process ended without the run's exit status")."""
    home, work, env = warm
    (warm_pid,) = warm_pids(home)
    slow = dict(env)
    with LoopbackServices(latency=4.0, lifetime=600) as services:  # a new article, translated slowly
        slow["TARJAMA_LIBRE_URL"] = services.url("libre")
        article = tmp_path / "slow.ar.txt"
        shutil.copy(ARTICLE.with_name("abcnews.306758.ar.txt"), article)
        command = subprocess.Popen(
            [TARJAMA, "run", str(article), "-e", "libre", "--name", "orphan"],
            env=slow,
            cwd=work,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        wait_for(lambda: re.search(r"^run \d+ started", log_of(home), re.MULTILINE), "the run")
        child = int(re.findall(r"^run (\d+) started", log_of(home), re.MULTILINE)[-1])
        time.sleep(2)
        os.kill(warm_pid, signal.SIGKILL)
        wait_for(lambda: not alive(warm_pid), "the warm process to die", 30)
        assert alive(child)  # the run outlives its warm process
        _, stderr = command.communicate(timeout=300)
    assert command.returncode == 0, stderr
    assert "ended without" not in stderr
    assert (work / "output" / "orphan" / "aligned.tsv").is_file()
    assert not alive(child)  # the command returned once its run had ended


def test_preload_off_leaves_no_warm_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with LoopbackServices(lifetime=600) as services:
        done = run(warm_env(home, services) | {"TARJAMA_PRELOAD": "off"}, tmp_path)
    assert done.returncode == 0, done.stderr
    time.sleep(5)
    assert not (home / "preload.log").exists()
