"""Shared test fixtures: repository paths, the ``tarjama`` executable, free ports, the real offline engine."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

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
