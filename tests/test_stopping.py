"""Ctrl-C and SIGTERM end a command at once even while worker threads wait on a service (issue 9, item 4)."""

from __future__ import annotations

import json
import signal
import subprocess

import pytest
from conftest import PYTHON, cli_env

from tarjama.app.stopping import call_until_signalled

# Like a run: a flow whose worker thread is inside a request that never gets an answer, in a thread pool
# that (as Prefect's task runner does) waits for its threads when the flow is left.
BUSY_FLOW = """
import socket
from concurrent.futures import ThreadPoolExecutor
from tarjama.app.stopping import Stopped, call_until_signalled, exit_now

silent = socket.socket()
silent.bind(("127.0.0.1", 0))
silent.listen()

def flow():
    with ThreadPoolExecutor(1) as pool:
        answer = pool.submit(lambda: socket.create_connection(silent.getsockname()).recv(1))
        print("busy", flush=True)
        return answer.result()

try:
    call_until_signalled(flow)
except Stopped as stopped:
    print("stopped by", stopped, flush=True)
    exit_now(stopped.exit_status)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_ends_the_command_without_waiting_for_busy_threads(tmp_path, sig):
    busy = subprocess.Popen(
        [PYTHON, "-c", BUSY_FLOW], stdout=subprocess.PIPE, text=True, env=cli_env(tmp_path / "home")
    )
    try:
        assert busy.stdout is not None and busy.stdout.readline() == "busy\n"
        busy.send_signal(sig)
        out, _ = busy.communicate(timeout=10)
    finally:
        busy.kill()
        busy.wait()
    assert busy.returncode == 128 + sig
    assert out == f"stopped by {signal.Signals(sig).name}\n"


def test_results_errors_and_signal_handlers_come_back():
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    assert call_until_signalled(lambda: 42) == 42
    with pytest.raises(ValueError, match="bad article"):
        call_until_signalled(lambda: int("bad article"))
    assert {s: signal.getsignal(s) for s in handlers} == handlers


# A process stopped a second time while ending its run (no waiting then): one run folder renamed into place
# before, one still being written on another thread, which must not appear after the process was told.
STOPPED_AGAIN = """
import json, sys, threading, time
from pathlib import Path
from tarjama.app.runs import written_output
from tarjama.corpus.outputs import staged_run_folder

out = Path(sys.argv[1])
with staged_run_folder(out, "renamed") as staging:
    (staging / "scores.json").write_text(json.dumps({"run": "renamed", "engine_requested": "libre", "articles": []}))
staged, go_on = threading.Event(), threading.Event()

def write():
    with staged_run_folder(out, "staged") as staging:
        staged.set()
        go_on.wait()

threading.Thread(target=write, daemon=True).start()
staged.wait()
renamed, unfinished = written_output(out / "renamed", wait=False), written_output(out / "staged", wait=False)
go_on.set()
time.sleep(1)
print(json.dumps([renamed and renamed.output_dir, unfinished, sorted(p.name for p in out.iterdir())]))
"""


def test_what_a_second_signal_reports_is_what_was_written_without_waiting(tmp_path):
    """A second Ctrl-C after the run's folder was renamed into place used to say "no output was written":
    the command now asks what this process renamed into place, at once, and nothing is renamed after."""
    out = tmp_path / "out"
    ended = subprocess.run(
        [PYTHON, "-c", STOPPED_AGAIN, str(out)],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path / "home"),
        timeout=60,
    )
    assert ended.returncode == 0, ended.stderr[-3000:]
    renamed, unfinished, left = json.loads(ended.stdout)
    assert renamed == str(out / "renamed") and unfinished is None
    assert left == ["latest", "renamed"]  # the unfinished run's folder neither renamed nor left behind
