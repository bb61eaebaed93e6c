"""Translate the ntrex128-dev Arabic lines once with an engine and save the MT as a test fixture.

Usage: python scripts/make_mt_fixture.py [ENGINE]   (default: local)

Goes through the translation memory (``.tarjama/memory.sqlite``), so it can
be interrupted and resumed, and writes ``tests/fixtures/ntrex128-dev.mt.en.txt``
(line i = MT of gold Arabic line i) with a JSON sidecar naming engine, model
and date. The aligner's tests and benchmark use it so they run in seconds
without a model.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

from tarjama.text.normalize import normalize_text
from tarjama.translation.engines import create_engine
from tarjama.translation.memory import TranslationMemory
from tarjama.translation.translate import translate_sentences

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "corpus" / "ntrex128-dev" / "gold" / "ntrex128-dev.ar.lines"
FIXTURE = ROOT / "tests" / "fixtures" / "ntrex128-dev.mt.en.txt"


def main(engine_name: str) -> None:
    lines = [normalize_text(line).strip() for line in GOLD.read_text(encoding="utf-8").splitlines()]
    engine = create_engine(engine_name)
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done % 10 == 0 or done == total:
            elapsed = time.perf_counter() - started
            print(f"{done}/{total} new sentences, {elapsed / max(done, 1):.2f} s each", flush=True)

    with TranslationMemory(ROOT / ".tarjama" / "memory.sqlite") as memory:
        translations = translate_sentences(lines, engine, memory, on_progress=progress)
    FIXTURE.write_text("".join(" ".join(t.text.split()) + "\n" for t in translations), encoding="utf-8")
    meta = {
        "engine": engine.name,
        "model": engine.model,
        "date": date.today().isoformat(),
        "source": str(GOLD.relative_to(ROOT)),
        "lines": len(lines),
    }
    FIXTURE.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "local")
