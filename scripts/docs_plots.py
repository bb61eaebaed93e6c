"""Regenerate the documentation's plots (``docs/plot-*.png``) from a real run over committed data, offline.

Why this way: the pictures should be what a user gets, so they come from a
real ``tarjama run`` of the 40 ntrex128-dev articles with the local engine
(Prefect flow, splitter, aligner, scoring, checks, ``plots/``), not from
hand-built frames. The run's translation memory is filled beforehand with
the local engine's committed MT (``tests/fixtures/ntrex128-dev*.mt.en.*``),
so no sentence reaches the model and every rerun draws the same pictures.

No second engine's MT of these articles is committed, so the comparison
plot compares that run with the same MT **post-edited where the
reference-free checks flagged it** (those rows replaced by the reference):
what fixing the flagged rows would buy, article by article.

Usage: ``PYTHONPATH=src .venv/bin/python scripts/docs_plots.py [--work DIR]``
(``--work`` keeps the runs, their reports and the comparison).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

from tarjama.corpus.schema import read_tsv, write_tsv
from tarjama.text.normalize import normalize_text
from tarjama.translation.memory import TranslationMemory

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus" / "ntrex128-dev"
FIXTURES = ROOT / "tests" / "fixtures"
DOCS = ROOT / "docs"
TARJAMA = Path(sys.executable).with_name("tarjama")
ENGINE = "local"
RUN, EDITED = "ntrex128-dev-local", "ntrex128-dev-post-edited"
RUN_PLOTS = {
    "row-chrf.png": "plot-row-chrf.png",
    "alignment-confidence.png": "plot-alignment-confidence.png",
    "bead-types.png": "plot-bead-types.png",
    "length-ratio.png": "plot-length-ratio.png",
}
COMPARE_PLOTS = {"deltas-chrF.png": "plot-compare-deltas-chrf.png"}


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def committed_translations() -> tuple[str, dict[str, str]]:
    """The local engine's model name and its committed MT, keyed by Arabic text as the translation memory is."""
    model = json.loads((FIXTURES / "ntrex128-dev.mt.en.json").read_text(encoding="utf-8"))["model"]
    arabic = [normalize_text(line).strip() for line in _lines(CORPUS / "gold" / "ntrex128-dev.ar.lines")]
    translations = dict(zip(arabic, _lines(FIXTURES / "ntrex128-dev.mt.en.txt"), strict=True))
    for name in ("ntrex128-dev.units.mt.en.json", "ntrex128-dev.sentences.mt.en.json"):
        extra = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
        if (extra["engine"], extra["model"]) != (ENGINE, model):
            raise SystemExit(f"{FIXTURES / name}: MT of {extra['engine']}/{extra['model']}, expected {ENGINE}/{model}")
        translations.update(extra["translations"])
    return model, translations


def tarjama(home: Path, *args: str) -> None:
    """The real CLI in a subprocess, with its own home (translation memory, Prefect database)."""
    env = os.environ | {"TARJAMA_HOME": str(home), "COLUMNS": "200"}
    done = subprocess.run([str(TARJAMA), *args], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"tarjama {args[0]} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-3000:]}")


def build_run(work: Path) -> Path:
    """``tarjama run`` of the 40 articles, every sentence from the filled memory (checked: the model never ran)."""
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    model, translations = committed_translations()
    with TranslationMemory(home / "memory.sqlite") as memory:
        memory.store_many(ENGINE, model, translations.items())
    articles = sorted(str(path) for path in CORPUS.glob("*.ar.txt"))  # not gold/: its 603 lines are one "article"
    tarjama(home, "run", *articles, "--engine", ENGINE, "--out", str(work / "output"), "--name", RUN, "-j", "2")
    run = work / "output" / RUN
    scores = json.loads((run / "scores.json").read_text(encoding="utf-8"))
    translated = {a["article_id"]: a["translated_texts"] - a["from_memory"] for a in scores["articles"]}
    if any(translated.values()) or len(translated) != len(articles):
        raise SystemExit(f"the committed MT does not cover the run (sentences the model translated: {translated})")
    return run


def post_edit_flagged(run: Path, folder: Path) -> int:
    """A copy of the run whose MT is replaced by the reference on rows that failed a check; how many rows."""
    frame = read_tsv(run / "aligned.tsv")
    edit = (pl.col("checks_failed") != "") & (pl.col("english_reference") != "")
    write_tsv(
        frame.with_columns(english_mt=pl.when(edit).then(pl.col("english_reference")).otherwise(pl.col("english_mt"))),
        folder / "aligned.tsv",
    )
    return frame.filter(edit).height


def copy_plots(folder: Path, names: dict[str, str]) -> None:
    for source, target in names.items():
        shutil.copyfile(folder / source, DOCS / target)
        print(f"{DOCS / target}: {(DOCS / target).stat().st_size / 1024:.0f} KB")


def main(work: Path) -> None:
    run = build_run(work)
    edited = post_edit_flagged(run, work / "output" / EDITED)
    print(f"{run}: {EDITED} replaces the MT of {edited} rows that failed a check by their reference")
    tarjama(work / "home", "compare", str(run), str(work / "output" / EDITED), "--out", str(work / "compare"))
    (comparison,) = (work / "compare").glob("compare-*")
    copy_plots(run / "plots", RUN_PLOTS)
    copy_plots(comparison / "plots", COMPARE_PLOTS)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, help="keep the runs and the comparison in this (new) folder")
    given = parser.parse_args().work
    if given is not None:
        main(given.absolute())
    else:
        with tempfile.TemporaryDirectory(prefix="tarjama-docs-plots-") as temporary:
            main(Path(temporary))
