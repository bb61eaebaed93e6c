"""Chained ntrex128-dev benchmark: do rows follow the reference's sentences when the Arabic chains them?

    .venv/bin/python -m benchmarks.bench_chained                  # figures, tuning and held-out halves
    .venv/bin/python -m benchmarks.bench_chained --engine local   # first translate units the fixture lacks
    .venv/bin/python -m benchmarks.bench_chained --connectives    # the counts behind tarjama.text.clauses' lists
    .venv/bin/python -m benchmarks.bench_chained --tune           # length guards, tuning half only

Data: ``benchmarks.chained_data`` (runs of 1-4 ntrex sentences chained with
``، و``; English keeps its lines; gold 1-1 clause ↔ line). Each document is
split into sentences and clause units exactly as ``tarjama run`` reads an
article, the units' MT is aligned to the English lines by
``tarjama.alignment.regroup.align_units``, and each row is compared with the gold:

* sentence-level exact rows: the share of English lines alone in a row whose
  Arabic is exactly their clause;
* exact: the share of rows whose Arabic is exactly the clauses of their
  English lines (so a row of two lines and their two clauses is exact);
* granularity: English lines per row;
* strict F1: rows as beads (clauses wholly in the row, English lines) against
  the gold 1-1 beads, as ``benchmarks.bench_align`` scores them.

``before (row = run)`` is today's pipeline at its best: one row per run (a
chained run is one Arabic sentence, which today's aligner can only keep
whole). The second table runs the same on the original lines (runs of one),
where there is nothing to regroup, next to today's sentence aligner on the
gold lines (as ``bench_align``'s clean variant) and on our splitter's
sentences.

MT, ``own MT``: a unit that is a whole line as chained (``و`` and ``،``
aside) takes the committed MT of that line
(``tests/fixtures/ntrex128-dev.mt.en.txt``); any other unit its own MT from
``tests/fixtures/ntrex128-dev.units.mt.en.json`` (local engine), which
``--engine local`` fills through the translation memory
(``.tarjama/memory.sqlite``), so the benchmark runs offline and reproducibly.
``line MT cut``: each unit's MT cut from its lines' MT by
``tarjama.alignment.regroup.attribute_mt`` (what ``UnitTranslation.SENTENCES`` does).

Documents alternate between the tuning half (rules and priors were chosen on
it) and the held-out half (see ``benchmarks.chained_data``).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from benchmarks.alignment_data import ONE_SIDED_REFERENCE, precision_recall_f1, strict_counts
from benchmarks.chained_data import HALVES, REPO, ChainedDocument, build, fixture_mt
from tarjama.alignment.align import align
from tarjama.alignment.regroup import align_units, attribute_mt
from tarjama.text.article import Document, split_document
from tarjama.text.clauses import (
    DEFAULT_RULES,
    PAIRED_PARTICLES,
    PARTICIPLES,
    PARTICLES,
    ClauseRules,
    fold,
    starts_with_conjunction_waw,
)

UNITS_FIXTURE = REPO / "tests" / "fixtures" / "ntrex128-dev.units.mt.en.json"
MEMORY = REPO / ".tarjama" / "memory.sqlite"


@dataclass
class Figures:
    """Counts over documents; the ratios derive from them."""

    english: int = 0
    rows: int = 0
    sentence_exact: int = 0
    exact_rows: int = 0
    bead_counts: list[int] = field(default_factory=lambda: [0, 0, 0])  # strict: matches, predicted, gold

    def add(self, other: Figures) -> None:
        self.english += other.english
        self.rows += other.rows
        self.sentence_exact += other.sentence_exact
        self.exact_rows += other.exact_rows
        self.bead_counts = [a + b for a, b in zip(self.bead_counts, other.bead_counts)]

    def line(self) -> str:
        f1 = precision_recall_f1(*self.bead_counts)[2]
        return (
            f"{self.english:>8}{self.rows:>6}{self.sentence_exact / self.english:>16.3f}"
            f"{self.exact_rows / self.rows:>8.3f}{self.english / self.rows:>13.2f}{f1:>11.3f}"
        )


HEADER = f"{'':<34}{'english':>8}{'rows':>6}{'sentence-exact':>16}{'exact':>8}{'granularity':>13}{'strict F1':>11}"


def _spans(texts: Sequence[str]) -> list[tuple[int, int]]:
    """Character ranges of ``texts`` in their join with single spaces."""
    spans, start = [], 0
    for text in texts:
        spans.append((start, start + len(text)))
        start += len(text) + 1
    return spans


def score_rows(chained: ChainedDocument, rows: Sequence[tuple[str, Sequence[int]]]) -> Figures:
    """Rows given as (Arabic, 0-based English line positions in the document), in order, against the gold."""
    clauses = chained.clauses
    clause_spans = _spans([clause.text for clause in clauses])
    if " ".join(arabic for arabic, _ in rows if arabic) != " ".join(clause.text for clause in clauses):
        raise ValueError(f"{chained.docid}: the rows' Arabic does not reproduce the document")
    figures = Figures(english=len(clauses), rows=len(rows))
    predicted = []
    row_spans = iter(_spans([arabic for arabic, _ in rows if arabic]))
    for arabic, english in rows:
        start, end = next(row_spans) if arabic else (-1, -1)  # an unmatched English line has no place in the text
        covered = tuple(k for k, (a, b) in enumerate(clause_spans) if start <= a and b <= end)
        predicted.append((covered, tuple(english)))
        if (
            english
            and covered == tuple(english)
            and (start, end) == (clause_spans[english[0]][0], clause_spans[english[-1]][1])
        ):
            figures.exact_rows += 1
            figures.sentence_exact += len(english) == 1
    gold_beads = [((k,), (k,)) for k in range(len(clauses))]
    figures.bead_counts = list(strict_counts(predicted, gold_beads))
    return figures


def chained_document(chained: ChainedDocument, rules: ClauseRules | None) -> Document:
    return split_document("\n".join(chained.paragraphs), Path(f"{chained.docid}.ar.txt"), "ar", chained.docid, rules)


def unit_mt(
    document: Document, chained: ChainedDocument, line_mt: Sequence[str], extra: Mapping[str, str]
) -> list[str]:
    """Each unit's MT: its line's committed MT if it is a whole line as chained, else the units fixture ('' if absent)."""
    whole = {clause.text: line_mt[clause.line] for clause in chained.clauses}
    return [whole.get(u.text, extra.get(u.text, "")) for u in document.units]


def missing_units(documents: Sequence[ChainedDocument], rules: ClauseRules, extra: Mapping[str, str]) -> list[str]:
    wanted: dict[str, None] = {}
    for chained in documents:
        lines = {clause.text for clause in chained.clauses}
        for unit in chained_document(chained, rules).units:
            if unit.text not in lines and unit.text not in extra:
                wanted[unit.text] = None
    return list(wanted)


def attributed_mt(document: Document, chained: ChainedDocument, line_mt: Sequence[str]) -> list[str]:
    """Each unit's MT cut from its lines' committed MT by ``attribute_mt``: no model needed.

    Units are grouped into the shortest stretches that cover whole lines (a unit across a missed
    line boundary takes both lines), and each stretch's lines' MT is cut among its units.
    """
    units = iter(document.units)
    mt: list[str] = []
    for run in chained.runs:
        ends, offset = {}, 0  # offset just after each line's text in the run's text -> line
        for clause in run:
            offset += len(clause.text)
            ends[offset] = clause.line
            offset += 1
        group: list[str] = []
        lines: list[int] = []
        offset = 0
        while offset < max(ends):
            text = next(units).text
            group.append(text)
            lines += [line for end, line in ends.items() if offset < end <= offset + len(text)]
            offset += len(text)
            if offset in ends:
                mt += attribute_mt(" ".join(line_mt[line] for line in lines), group)
                group, lines = [], []
            offset += 1
    return mt


def load_extra() -> dict[str, str]:
    if not UNITS_FIXTURE.exists():
        return {}
    return json.loads(UNITS_FIXTURE.read_text(encoding="utf-8"))["translations"]


def translate_missing(texts: Sequence[str], engine_name: str) -> None:
    """Translate ``texts`` through the memory and add them to the units fixture, saving every ten."""
    from tarjama.translation.engines import create_engine
    from tarjama.translation.memory import TranslationMemory
    from tarjama.translation.translate import translate_sentences

    engine = create_engine(engine_name)
    extra = load_extra()
    started = time.perf_counter()
    with TranslationMemory(MEMORY) as memory:
        for start in range(0, len(texts), 10):
            chunk = texts[start : start + 10]
            for text, translation in zip(chunk, translate_sentences(chunk, engine, memory)):
                extra[text] = " ".join(translation.text.split())
            meta = {"engine": engine.name, "model": engine.model, "date": date.today().isoformat()}
            UNITS_FIXTURE.write_text(
                json.dumps({**meta, "translations": dict(sorted(extra.items()))}, ensure_ascii=False, indent=1) + "\n",
                encoding="utf-8",
            )
            done = start + len(chunk)
            print(f"{done}/{len(texts)} units, {(time.perf_counter() - started) / done:.1f} s each", flush=True)


def unit_rows(
    chained: ChainedDocument,
    rules: ClauseRules,
    line_mt: Sequence[str],
    extra: Mapping[str, str],
    attributed: bool = False,
) -> list[tuple[str, list[int]]]:
    """Rows of the units path: units of ``chained`` under ``rules``, their MT (``attributed``: cut from the
    lines' MT, else each unit's own), aligned to the English lines."""
    document = chained_document(chained, rules)
    units = document.units
    texts = attributed_mt(document, chained, line_mt) if attributed else unit_mt(document, chained, line_mt, extra)
    beads = align_units(document, texts, [c.english for c in chained.clauses])
    return [(" ".join(units[i].text for i in bead.source), list(bead.reference)) for bead in beads]


def run_rows(chained: ChainedDocument) -> list[tuple[str, list[int]]]:
    """Today at its best: one row per run, holding the run's English lines."""
    rows, position = [], 0
    for run, paragraph in zip(chained.runs, chained.paragraphs):
        rows.append((paragraph, list(range(position, position + len(run)))))
        position += len(run)
    return rows


def sentence_aligner_rows(
    chained: ChainedDocument, line_mt: Sequence[str], gold_lines: bool
) -> list[tuple[str, list[int]]]:
    """Today's sentence aligner on a document of runs of one line: on the gold lines (as ``bench_align``'s clean
    variant), or on the sentences our splitter makes of them (a line it cuts gets its MT cut by ``attribute_mt``)."""
    if gold_lines:
        texts = [clause.text for clause in chained.clauses]
        mt = [line_mt[clause.line] for clause in chained.clauses]
    else:
        document = chained_document(chained, None)
        texts, mt = document.texts, attributed_mt(document, chained, line_mt)
    english = [clause.english for clause in chained.clauses]
    beads = align(mt, english, source=texts)
    return [(" ".join(texts[i] for i in bead.source), list(bead.reference)) for bead in beads]


def one_sided_rows(
    chained: ChainedDocument, rules: ClauseRules, line_mt: Sequence[str], extra: Mapping[str, str], attributed: bool
) -> tuple[int, int]:
    """(lines alone, lines glued) when a one-sided English line (:data:`ONE_SIDED_REFERENCE`: byline, caption,
    credit...) follows every run of three lines or more, with the units path's rows as :func:`unit_rows` makes them."""
    document = chained_document(chained, rules)
    texts = attributed_mt(document, chained, line_mt) if attributed else unit_mt(document, chained, line_mt, extra)
    english: list[str] = []
    inserted: set[int] = set()
    rng = random.Random(chained.docid)
    for run in chained.runs:
        english += [clause.english for clause in run]
        if len(run) >= 3:
            inserted.add(len(english))
            english.append(rng.choice(ONE_SIDED_REFERENCE))
    beads = align_units(document, texts, english)
    alone = sum(1 for bead in beads if not bead.source and set(bead.reference) <= inserted)
    return alone, len(inserted) - alone


def print_one_sided(documents: Sequence[ChainedDocument], rows_of: Mapping[str, object]) -> None:
    print("\none-sided line after each run of 3+ lines (chained ntrex128-dev)")
    print(f"{'':<34}{'lines':>8}{'alone':>8}{'glued':>8}")
    for name, rows in rows_of.items():
        for half in HALVES:
            counts = [rows(d) for d in documents if d.half == half]  # type: ignore[operator]
            alone, glued = sum(a for a, _ in counts), sum(g for _, g in counts)
            print(f"{name + ' / ' + half:<34}{alone + glued:>8}{alone:>8}{glued:>8}")


def figures_by_half(
    documents: Sequence[ChainedDocument],
    rows_of: object,
) -> dict[str, Figures]:
    totals = {half: Figures() for half in HALVES}
    for chained in documents:
        totals[chained.half].add(score_rows(chained, rows_of(chained)))  # type: ignore[operator]
    return totals


def print_table(title: str, results: Mapping[str, Mapping[str, Figures]]) -> None:
    print(f"\n{title}\n{HEADER}")
    for method, by_half in results.items():
        for half, figures in by_half.items():
            print(f"{method + ' / ' + half:<34}{figures.line()}")


def _connective_class(word: str, after: str) -> str:
    """The row of the table in :mod:`tarjama.text.clauses`' docstring that the word after a comma falls in."""
    folded = fold(word)
    if folded in PARTICLES or (folded, fold(after)) in PAIRED_PARTICLES:
        return "particle " + (folded if folded in ("حيث", "كما", "بعدما") else "(other)")
    if folded in PARTICIPLES:
        return "participle"
    if starts_with_conjunction_waw(word) or folded == "و":
        return "و + word"
    if folded.startswith("ف") and len(folded) > 3:
        return "ف + word"
    if folded in {"الذي", "التي", "الذين", "ما", "مما"}:
        return "relative"
    if folded in {"ان", "انه", "انها", "انهم"}:
        return "إن/أن"
    return "other"


def connective_counts() -> None:
    """How often each kind of word follows a comma: in ntrex lines (English keeps one sentence there) and the seed."""
    corpora = {
        "ntrex": REPO / "corpus" / "ntrex128-dev" / "gold" / "ntrex128-dev.ar.lines",
        "seed": REPO / "corpus" / "morocco-us-counterterrorism.ar.txt",
    }
    counts: dict[str, Counter[str]] = {}
    for name, path in corpora.items():
        counts[name] = Counter()
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split()
            for before, word, after in zip(words, words[1:], [*words[2:], ""]):
                if before[-1:] in "،,؛":
                    counts[name][_connective_class(word, after)] += 1
    print(f"{'after a comma':<20}" + "".join(f"{name:>7}" for name in corpora))
    for kind, _ in (counts["ntrex"] + counts["seed"]).most_common():
        print(f"{kind:<20}" + "".join(f"{counts[name][kind]:>7}" for name in corpora))


TUNING_GRID = tuple(ClauseRules(words, waw) for words in (2, 3, 4) for waw in (3, 4, 5, 6, 8))


def tune(chained: Sequence[ChainedDocument], extra: Mapping[str, str], line_mt: Sequence[str]) -> None:
    """The length guards of :data:`TUNING_GRID` on the tuning half (the held-out half is not looked at)."""
    tuning = [d for d in chained if d.half == "tuning"]
    print(f"{'min_words':>9}{'min_waw':>8}{HEADER[34:]}")
    for rules in TUNING_GRID:
        figures = Figures()
        for document in tuning:
            figures.add(score_rows(document, unit_rows(document, rules, line_mt, extra)))
        print(f"{rules.min_words:>9}{rules.min_waw_words:>8}{figures.line()}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--engine", help="translate the units the fixture lacks with this engine first")
    parser.add_argument("--connectives", action="store_true", help="print the counts behind the connective lists")
    parser.add_argument("--tune", action="store_true", help="grid of length guards, on the tuning half only")
    parser.add_argument("--min-words", type=int, default=DEFAULT_RULES.min_words)
    parser.add_argument("--min-waw-words", type=int, default=DEFAULT_RULES.min_waw_words)
    args = parser.parse_args(argv)
    if args.connectives:
        connective_counts()
        return
    rules = ClauseRules(args.min_words, args.min_waw_words)
    chained, unchained = build(), build(max_run=1)
    if args.engine:
        missing = [
            text
            for grid_rules in [rules, *TUNING_GRID]
            for documents in (chained, unchained)
            for text in missing_units(documents, grid_rules, load_extra())
        ]
        translate_missing(list(dict.fromkeys(missing)), args.engine)
    if args.tune:
        tune(chained, load_extra(), fixture_mt())
        return
    extra, line_mt = load_extra(), fixture_mt()
    absent = missing_units(chained, rules, extra) + missing_units(unchained, rules, extra)
    if absent:
        raise SystemExit(f"{len(absent)} units have no MT in {UNITS_FIXTURE.name}: run with --engine local")

    def units_path(attributed: bool) -> object:
        return lambda d: unit_rows(d, rules, line_mt, extra, attributed)

    print_table(
        "chained ntrex128-dev (runs of 1-4 lines)",
        {
            "before (row = run)": figures_by_half(chained, run_rows),
            "units, own MT": figures_by_half(chained, units_path(False)),
            "units, line MT cut": figures_by_half(chained, units_path(True)),
        },
    )
    print_table(
        "un-chained ntrex128-dev (a line a paragraph)",
        {
            "sentences, gold lines": figures_by_half(unchained, lambda d: sentence_aligner_rows(d, line_mt, True)),
            "sentences, our splitter": figures_by_half(unchained, lambda d: sentence_aligner_rows(d, line_mt, False)),
            "units, own MT": figures_by_half(unchained, units_path(False)),
            "units, line MT cut": figures_by_half(unchained, units_path(True)),
        },
    )
    print_one_sided(
        chained,
        {
            "units, own MT": lambda d: one_sided_rows(d, rules, line_mt, extra, False),
            "units, line MT cut": lambda d: one_sided_rows(d, rules, line_mt, extra, True),
        },
    )


if __name__ == "__main__":
    main()
