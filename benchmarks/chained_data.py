"""Chained ntrex128-dev: comma-chained Arabic with a known clause-to-sentence gold.

NTREX's Arabic was translated sentence by sentence, so it lacks the comma
chains of real Arabic news; chaining its sentences back makes them, with a
known answer. In each document (headline left out), consecutive lines are
grouped into runs of 1-4 (length drawn uniformly, seeded per document); a
line can end a run anywhere but continue one only if it ends in a single
``.``. Within a run the period of each non-final line becomes ``،`` and the
next line gets ``و`` in front unless it already starts with the letter ``و``
(as Arabic writes ``، وقال``); each run is one Arabic paragraph. The English
keeps its original lines, the gold sentences, and the gold is 1-1: English
line *k* ↔ Arabic clause *k* (line *k* as it reads inside its run).

Documents alternate between a tuning half (even positions in corpus order)
and a held-out half (odd positions); rules and priors are tuned on the first
only.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path

from tarjama.text.normalize import normalize_text

REPO = Path(__file__).resolve().parents[1]
GOLD = REPO / "corpus" / "ntrex128-dev" / "gold"
MT_FIXTURE = REPO / "tests" / "fixtures" / "ntrex128-dev.mt.en.txt"
MAX_RUN = 4
SEED = 2019
HALVES = ("tuning", "held-out")


@dataclass(frozen=True, slots=True)
class Clause:
    """One original line inside its run: ``text`` is the Arabic as chained, ``line`` its 0-based gold line number."""

    line: int
    text: str
    english: str


@dataclass(frozen=True, slots=True)
class ChainedDocument:
    docid: str
    half: str  # "tuning" or "held-out"
    runs: tuple[tuple[Clause, ...], ...]

    @property
    def paragraphs(self) -> list[str]:
        """The Arabic, one run a paragraph."""
        return [" ".join(clause.text for clause in run) for run in self.runs]

    @property
    def clauses(self) -> list[Clause]:
        return [clause for run in self.runs for clause in run]


def _chainable(arabic: str) -> bool:
    return arabic.endswith(".") and not arabic.endswith("..")


def chain_run(lines: Sequence[str]) -> list[str]:
    """The lines of one run as they read once chained: ``،`` for inner periods, ``و`` before each later line."""
    chained = []
    for k, line in enumerate(lines):
        text = line if k == 0 or line.startswith("و") else f"و{line}"
        chained.append(text[:-1] + "،" if k < len(lines) - 1 else text)
    return chained


def _runs(lines: Sequence[int], arabic: Sequence[str], rng: random.Random, max_run: int) -> list[list[int]]:
    runs: list[list[int]] = []
    for line in lines:
        if runs and len(runs[-1]) - 1 < runs[-1][0] and _chainable(arabic[runs[-1][-1]]):
            runs[-1].append(line)
        else:
            runs.append([rng.randint(1, max_run), line])  # first item: the drawn length
    return [run[1:] for run in runs]


def build(seed: int = SEED, max_run: int = MAX_RUN) -> list[ChainedDocument]:
    """Every ntrex128-dev document chained (see the module docstring), in corpus order.

    ``max_run=1`` gives the un-chained documents (a line a paragraph) for comparison."""
    read = lambda name: (GOLD / f"ntrex128-dev.{name}.lines").read_text(encoding="utf-8").splitlines()  # noqa: E731
    docids, arabic, english = read("docids"), read("ar"), read("en")
    arabic = [normalize_text(line) for line in arabic]
    english = [normalize_text(line) for line in english]
    documents = []
    numbered = list(enumerate(docids))
    for position, (docid, group) in enumerate(groupby(numbered, key=lambda row: row[1])):
        body = [line for line, _ in group][1:]  # the headline left out
        rng = random.Random(f"{seed}:{docid}")
        runs = []
        for run in _runs(body, arabic, rng, max_run):
            texts = chain_run([arabic[line] for line in run])
            runs.append(tuple(Clause(line, text, english[line]) for line, text in zip(run, texts)))
        documents.append(ChainedDocument(docid, HALVES[position % 2], tuple(runs)))
    return documents


def fixture_mt() -> list[str]:
    """The committed local-engine MT of each gold line (``scripts/make_mt_fixture.py``)."""
    return MT_FIXTURE.read_text(encoding="utf-8").splitlines()
