"""Shared test fixtures: repository paths, the ``tarjama`` executable, free ports, the real offline engine."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
PYTHON = sys.executable
TARJAMA = str(Path(sys.executable).with_name("tarjama"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        current = todo.pop()
        for children in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                kids = {int(k) for k in children.read_text().split()}
            except OSError:
                continue
            todo += list(kids - found)
            found |= kids
    return found


def alive(pid: int) -> bool:
    """Running and not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """A minimal environment for running the CLI: its own tarjama home, a wide terminal.

    ``PYTHONPATH`` passes through (it is unset in CI), so a worktree's code is what the CLI runs.
    """
    passed = {k: v for k, v in os.environ.items() if k == "PYTHONPATH"}
    return (
        {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "TARJAMA_HOME": str(home), "COLUMNS": "250"}
        | passed
        | extra
    )


@contextmanager
def prefect_server(home: Path, logs: Path):
    """A Prefect API server for this module's runs; stopped (its process group) on exit."""
    port = free_port()
    (home / "prefect").mkdir(parents=True, exist_ok=True)
    env = cli_env(home, COLUMNS="200") | {
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    with open(logs, "w") as log:
        server = subprocess.Popen(
            [
                PYTHON,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-services",
                "--no-ui",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 600  # first start: database migrations, on a busy machine
        while True:
            assert server.poll() is None, logs.read_text()[-3000:]
            try:
                if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the Prefect server did not start"
            time.sleep(1)
        yield api
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=30)


def assert_valid(beads, n: int, m: int) -> None:
    """Beads are monotone, contiguous, non-empty and cover every index on each side exactly once."""
    assert [i for b in beads for i in b.source] == list(range(n))
    assert [j for b in beads for j in b.reference] == list(range(m))
    for bead in beads:
        assert bead.source or bead.reference
        assert 0.0 <= bead.confidence <= 1.0


@pytest.fixture(scope="session")
def local_engine():
    """The real local engine with the real default model (assembled by `make test`'s set-up)."""
    from tarjama.engines import create_engine

    return create_engine("local")
