"""Commands that only print or list import only what they use: `tarjama --help` and `tarjama runs`
answered in seconds when they imported Prefect, polars, numpy or sacrebleu on the way."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import cli_env

HEAVY = ("prefect", "polars", "matplotlib", "numpy", "sacrebleu", "numba", "httpx", "deep_translator", "asyncio")

IN_PROCESS = """
import json, sys
sys.argv = ["tarjama", *sys.argv[1:]]
from tarjama.app.cli import entry
try:
    entry()
except SystemExit:
    pass
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))), file=sys.stderr)
"""


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["--help"], ()),
        # `runs` checks the general settings (a bad TARJAMA_* variable is one line), not the engine table
        (["runs"], ()),
        (["runs", "--json"], ()),
    ],
)
def test_listing_commands_import_nothing_heavy(tmp_path, args, allowed):
    heavy = tuple(name for name in HEAVY if name not in allowed)
    code = f"HEAVY = {heavy!r}\n{IN_PROCESS}"
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=cli_env(tmp_path / "home"), timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []
