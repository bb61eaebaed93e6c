"""Shared test fixtures: repository paths, and the real offline engine loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


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
