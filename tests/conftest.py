"""Shared test fixtures: repository paths, the ``tarjama`` executable, free ports, the real offline engine."""

from __future__ import annotations

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
    """A minimal environment for running the CLI: its own tarjama home, a wide terminal."""
    return {"PATH": "/usr/bin:/bin", "HOME": str(Path.home()), "TARJAMA_HOME": str(home), "COLUMNS": "250", **extra}


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
