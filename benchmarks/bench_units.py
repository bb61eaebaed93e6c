"""What to translate for clause units: units alone, units with their sentence as context, or whole sentences.

    .venv/bin/python -m benchmarks.bench_units               # figures from the committed fixture
    .venv/bin/python -m benchmarks.bench_units --translate   # first translate what the fixture lacks (local model)

On the seed article and on a small chained ntrex128-dev sample (the first
``SAMPLE_RUNS`` runs of two or more lines), every sentence is translated
three ways by the local engine, interleaved sentence by sentence so that the
machine's load (2 cores shared) weighs on each mode alike:

* ``units``: each clause unit alone (``tarjama.alignment.regroup.UnitTranslation.UNITS``);
* ``context``: each unit with its whole sentence in the prompt (the model is
  asked for that part's translation only);
* ``sentences``: the whole sentence, its MT cut into units by
  ``tarjama.alignment.regroup.attribute_mt`` (``UnitTranslation.SENTENCES``).

Quality is corpus chrF (sacrebleu defaults) of each paragraph's (seed) or
run's (ntrex) joined MT against its reference; speed is the seconds the model
took, as a ratio to ``units``. Then the seed's units are aligned to its 42
reference sentences with each mode's unit MT, and the rows are counted and
printed with the first and last Arabic words next to the English.

Translations and their seconds are kept in
``tests/fixtures/morocco-us-counterterrorism.units.mt.en.json`` (units and
sentences also go through the translation memory ``.tarjama/memory.sqlite``),
so the figures reprint offline.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sacrebleu.metrics import CHRF

from benchmarks.chained_data import REPO, build
from tarjama.alignment.regroup import align_article, attribute_mt
from tarjama.corpus.schema import bead_rows
from tarjama.text.article import Document, load_document, split_document
from tarjama.translation.translate import Translation

SEED = REPO / "corpus" / "morocco-us-counterterrorism.ar.txt"
FIXTURE = REPO / "tests" / "fixtures" / "morocco-us-counterterrorism.units.mt.en.json"
MEMORY = REPO / ".tarjama" / "memory.sqlite"
SAMPLE_RUNS = 5
MODES = ("units", "context", "sentences")
CONTEXT_PROMPT = (
    "You are a professional translator. The user gives an Arabic sentence, then one part of it. "
    "Translate only that part into fluent, faithful English, as it would read inside the translation "
    "of the whole sentence. Reply with the English translation of the part only: no notes, "
    "no explanations, no quotation marks around it."
)


@dataclass(frozen=True)
class Case:
    """One text to translate three ways: its sentences (each with its units) and its reference."""

    name: str
    document: Document
    reference: str


def cases() -> list[Case]:
    """The seed's paragraphs, then the ntrex sample's runs."""
    seed = load_document(SEED, "ar")
    english = SEED.with_name("morocco-us-counterterrorism.en.txt").read_text(encoding="utf-8").splitlines()
    found = []
    for number, reference in enumerate(english, start=1):
        sentences = tuple(s for s in seed.sentences if s.paragraph == number)
        found.append(Case(f"seed {number}", Document(seed.id, seed.path, "ar", sentences), reference))
    runs = [(d.docid, run) for d in build() for run in d.runs if len(run) > 1][:SAMPLE_RUNS]
    for docid, run in runs:
        text = " ".join(clause.text for clause in run)
        document = split_document(text, Path(f"{docid}.ar.txt"), "ar", docid)
        found.append(Case(f"ntrex {docid}", document, " ".join(clause.english for clause in run)))
    return found


def _load() -> dict[str, Any]:
    if FIXTURE.exists():
        return json.loads(FIXTURE.read_text(encoding="utf-8"))
    return {mode: {} for mode in MODES} | {"seconds": {mode: {} for mode in MODES}}


def _context_key(sentence: str, unit: str) -> str:
    return f"{sentence}\n{unit}"


def translate(selected: Sequence[Case]) -> None:
    """Translate what the fixture lacks, sentence by sentence, all three modes interleaved."""
    from tarjama.translation.engines.local import LocalEngine, clean_output
    from tarjama.translation.memory import TranslationMemory
    from tarjama.translation.translate import translate_sentences

    class ContextEngine(LocalEngine):
        """The local engine, also asked for one part of a sentence given the whole."""

        def translate_in_context(self, sentence: str, unit: str) -> str:
            reply = self._llm.create_chat_completion(
                messages=[
                    {"role": "system", "content": CONTEXT_PROMPT},
                    {"role": "user", "content": f"Arabic sentence: {sentence}\n\nPart to translate: {unit}"},
                ],
                temperature=0.0,
                seed=0,
                max_tokens=64 + 4 * len(unit.split()),
            )
            return clean_output(reply["choices"][0]["message"]["content"] or "", unit)

    engine = ContextEngine()
    data = _load()
    data |= {"engine": engine.name, "model": engine.model, "date": date.today().isoformat()}

    def timed(mode: str, key: str, make: Iterator[str] | None = None, text: str = "") -> None:
        if key in data[mode]:
            return
        started = time.perf_counter()
        result = next(make) if make is not None else text
        data["seconds"][mode][key] = round(time.perf_counter() - started, 2)
        data[mode][key] = " ".join(result.split())

    with TranslationMemory(MEMORY) as memory:

        def through_memory(text: str) -> Iterator[str]:
            yield translate_sentences([text], engine, memory)[0].text

        for case in selected:
            for sentence in case.document.sentences:
                for unit in sentence.units:
                    timed("units", unit, through_memory(unit))
                    key = _context_key(sentence.text, unit)
                    if key not in data["context"]:
                        started = time.perf_counter()
                        data["context"][key] = " ".join(engine.translate_in_context(sentence.text, unit).split())
                        data["seconds"]["context"][key] = round(time.perf_counter() - started, 2)
                timed("sentences", sentence.text, through_memory(sentence.text))
                FIXTURE.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
            print(f"{case.name}: done", flush=True)


def unit_mt(case: Case, mode: str, data: dict[str, Any]) -> list[str]:
    """The MT of each unit of ``case`` in ``mode``."""
    mt = []
    for sentence in case.document.sentences:
        if mode == "sentences":
            mt += attribute_mt(data["sentences"][sentence.text], sentence.units)
        elif mode == "context":
            mt += [data["context"][_context_key(sentence.text, unit)] for unit in sentence.units]
        else:
            mt += [data["units"][unit] for unit in sentence.units]
    return mt


def seconds(case: Case, mode: str, data: dict[str, Any]) -> float:
    keys = {
        "units": [u for s in case.document.sentences for u in s.units],
        "context": [_context_key(s.text, u) for s in case.document.sentences for u in s.units],
        "sentences": [s.text for s in case.document.sentences],
    }[mode]
    return sum(data["seconds"][mode][key] for key in keys)


def modes_table(selected: Sequence[Case], data: dict[str, Any]) -> None:
    print(f"{'mode':<11}{'set':<7}{'texts':>6}{'chrF':>7}{'model s':>9}{'time ratio':>11}")
    for group in ("seed", "ntrex"):
        chosen = [c for c in selected if c.name.startswith(group)]
        base = sum(seconds(c, "units", data) for c in chosen)
        for mode in MODES:
            hypotheses = [" ".join(unit_mt(c, mode, data)) for c in chosen]
            score = CHRF().corpus_score(hypotheses, [[c.reference for c in chosen]]).score
            spent = sum(seconds(c, mode, data) for c in chosen)
            print(f"{mode:<11}{group:<7}{len(chosen):>6}{score:>7.1f}{spent:>9.0f}{spent / base:>11.2f}")


def seed_rows(data: dict[str, Any], mode: str, show: bool) -> None:
    arabic = load_document(SEED, "ar")
    english = load_document(SEED.with_name("morocco-us-counterterrorism.en.txt"), "en", arabic.id)
    seed_cases = [Case("seed", arabic, "")]
    translations = [Translation(t, "local", data["model"], True) for t in unit_mt(seed_cases[0], mode, data)]
    beads = align_article(arabic, [t.text for t in translations], english.texts).beads
    rows, _ = bead_rows(arabic, translations, english, beads, "units")
    single = sum(1 for r in rows if len(r["reference_ids"].split(",")) == 1)
    print(
        f"seed, {mode}: {len(arabic.units)} units, {len(english.sentences)} English sentences -> "
        f"{len(rows)} rows ({single} with one English sentence, {sum(r['flagged'] for r in rows)} flagged)"
    )
    if show:
        print("\n| row | units | Arabic (first … last words) | English |\n|---:|---|---|---|")
        for row in rows:
            words = row["arabic"].split()
            print(
                f"| {row['row']} | {row['source_units']} | {' '.join(words[:3])} … {' '.join(words[-3:])} "
                f"| {row['english_reference']} |"
            )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--translate", action="store_true", help="translate what the fixture lacks (local model)")
    parser.add_argument("--rows", action="store_true", help="print the seed's rows as a markdown table")
    args = parser.parse_args(argv)
    selected = cases()
    if args.translate:
        translate(selected)
    data = _load()
    modes_table(selected, data)
    for mode in MODES:
        seed_rows(data, mode, show=args.rows and mode == "units")


if __name__ == "__main__":
    main()
