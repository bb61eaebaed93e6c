"""A third-party engine installed through the ``tarjama.engines`` entry-point group, run by the real CLI and Prefect.

The plug-in is a real distribution (a module plus its ``.dist-info`` with ``entry_points.txt``) put
on ``PYTHONPATH``, which is where ``importlib.metadata`` finds installed distributions. Its engine
can be told to fail, which checks the retry policy: a transient failure is retried, a
programming error is not.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import textwrap
import tomllib
from pathlib import Path

import polars as pl
import pytest
from conftest import ARTICLE, ROOT, TARJAMA, cli_env, ready_column
from loopback_services import LoopbackServices, fake_english

from tarjama.corpus.results import SCHEMA_VERSION
from tarjama.corpus.schema import read_tsv

pytestmark = pytest.mark.slow  # a real Prefect server, model or browser: not in `make test-fast`

PLUGIN = '''
"""A tiny engine: "translates" by tagging each sentence; fails on request."""
from pathlib import Path

from tarjama.translation.engines import Engine, EngineSpec, Option
from tarjama.translation.engines.transport import EngineUnavailable


class TinyEngine(Engine):
    name = "tiny"
    model = "tiny-1"

    def __init__(self, fail: str = "", marker: str | None = None, closed: str | None = None) -> None:
        self.fail, self.marker = fail, Path(marker) if marker else None
        self.closed = Path(closed) if closed else None
        if self.closed:  # a line per engine built, and one per engine closed
            with self.closed.open("a") as log:
                log.write("built\\n")

    def translate(self, sentences):
        if self.fail == "bug":
            raise ValueError("a bug in the plug-in")
        if self.fail == "transient-once" and self.marker and not self.marker.exists():
            self.marker.write_text("failed once")
            raise EngineUnavailable(self.name, "service unavailable (503), try later")
        for sentence in sentences:
            yield f"tiny English for {len(sentence)} characters"

    def close(self):
        if self.closed:
            with self.closed.open("a") as log:
                log.write("closed\\n")


SPEC = EngineSpec(
    name="tiny",
    summary="a test plug-in",
    needs="nothing",
    factory=TinyEngine,
    options=(
        Option("fail", "TARJAMA_TINY_FAIL"),
        Option("marker", "TARJAMA_TINY_MARKER"),
        Option("closed", "TARJAMA_TINY_CLOSED"),
    ),
)
'''


@pytest.fixture(scope="module")
def plugin_path(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("plugin-site")
    (site / "tiny_engine.py").write_text(textwrap.dedent(PLUGIN))
    info = site / "tiny_engine-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-engine\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[tarjama.engines]\ntiny = tiny_engine:SPEC\n")
    return site


def tarjama(site: Path, home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    paths = [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]  # the plug-in, and a worktree's code if any
    env = cli_env(home, PYTHONPATH=os.pathsep.join(paths), **extra)
    return subprocess.run([TARJAMA, *args], capture_output=True, text=True, env=env, timeout=600)


def _every_engine_built_was_closed(log: Path) -> bool:
    """The run's own engine and any built only to learn its signature: each built one closed."""
    lines = log.read_text().split()
    return lines.count("built") >= 2 and lines.count("closed") == lines.count("built")


def test_an_installed_plugin_is_listed_and_runs(plugin_path, tmp_path):
    listing = tarjama(plugin_path, tmp_path / "home", "engines")
    assert listing.returncode == 0, listing.stderr
    assert any(line.split("│")[1].strip() == "tiny" for line in listing.stdout.splitlines() if "│" in line)

    out, closed = tmp_path / "out", tmp_path / "closed"
    done = tarjama(
        plugin_path,
        tmp_path / "home",
        *("run", str(ARTICLE), "-e", "tiny", "-o", str(out), "--name", "t"),
        TARJAMA_TINY_CLOSED=str(closed),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert _every_engine_built_was_closed(closed)
    rows = read_tsv(out / "t" / "aligned.tsv")
    assert set(rows["engine"]) == {"tiny"} and set(rows["model"]) == {"tiny-1"}
    # how the rows were aligned, and by what, in every output that travels without the others
    scores = json.loads((out / "t" / "scores.json").read_text())
    assert scores["schema_version"] == SCHEMA_VERSION and scores["alignment_signature"].startswith("aligner:")
    assert f"`{scores['alignment_signature']}`" in (out / "t" / "report.md").read_text()
    footer = pl.read_parquet_metadata(out / "t" / "aligned.parquet")
    assert footer["tarjama.alignment"] == scores["alignment_signature"] and footer["tarjama.engine"] == "tiny|tiny-1"
    assert all(text.startswith("tiny English for") for text in rows["english_mt"] if text)


def test_a_transient_failure_is_retried(plugin_path, tmp_path):
    marker = tmp_path / "marker"
    done = tarjama(
        plugin_path,
        tmp_path / "home",
        *("run", str(ARTICLE), "-e", "tiny", "-o", str(tmp_path / "out"), "--name", "t"),
        TARJAMA_TINY_FAIL="transient-once",
        TARJAMA_TINY_MARKER=str(marker),
    )
    assert marker.exists()  # it did fail once
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Retry" in done.stdout + done.stderr
    assert (tmp_path / "out" / "t" / "aligned.tsv").is_file()


def test_a_programming_error_is_not_retried(plugin_path, tmp_path):
    closed = tmp_path / "closed"
    done = tarjama(
        plugin_path,
        tmp_path / "home",
        *("run", str(ARTICLE), "-e", "tiny", "-o", str(tmp_path / "out"), "--name", "t", "--fail-fast"),
        TARJAMA_TINY_FAIL="bug",
        TARJAMA_TINY_CLOSED=str(closed),
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1
    assert "a bug in the plug-in" in output
    assert "Retrying" not in output and "Retry " not in output
    assert not (tmp_path / "out" / "t").exists()
    assert _every_engine_built_was_closed(closed)  # a run that fails closes them too


def test_the_documented_plugin_runs_as_written(tmp_path):
    """docs/engines.md's example plug-in, installed as its pyproject.toml says, runs against a
    LibreTranslate-speaking service given by --engine-url."""
    section = (ROOT / "docs" / "engines.md").read_text().split("## Engine plugins")[1]
    project = tomllib.loads(re.search(r"```toml\n(.*?)```", section, re.DOTALL)[1])
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)[1]
    site = tmp_path / "site"
    site.mkdir()
    (module,) = project["tool"]["setuptools"]["py-modules"]
    (site / f"{module}.py").write_text(code)
    name, points = project["project"]["name"], project["project"]["entry-points"]["tarjama.engines"]
    info = site / f"{name.replace('-', '_')}-{project['project']['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[tarjama.engines]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()))

    listing = tarjama(site, tmp_path / "home", "engines")
    assert listing.returncode == 0, listing.stderr
    assert ready_column(listing.stdout)["mine"] == "no: TARJAMA_MINE_URL not set"
    with LoopbackServices() as services:
        done = tarjama(
            site,
            tmp_path / "home",
            *("run", str(ARTICLE), "-e", "mine", "--engine-url", services.url("libre"), "-o", str(tmp_path / "out")),
            *("--name", "t"),
        )
        sent = [segment for record in services.requests("libre") for segment in record.segments]
    assert done.returncode == 0, done.stderr[-3000:]
    rows = read_tsv(tmp_path / "out" / "t" / "aligned.tsv")
    assert set(rows["engine"]) == {"mine"} and set(rows["model"]) == {"mine-1"}
    answered = {word for segment in sent for word in fake_english(segment).split()}
    assert sent and answered >= {word for text in rows["english_mt"] for word in text.split()}
