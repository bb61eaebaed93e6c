"""Shared test fixtures: repository paths, and the real offline engine loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def local_engine():
    """The real local engine with the real default model (assembled by `make test`'s set-up)."""
    from tarjama.engines import create_engine

    return create_engine("local")
