"""Reference-free checks on NTREX dev: rows flagged per check (human and local-engine MT) and time per row.

    .venv/bin/python benchmarks/bench_checks.py

The human English of NTREX dev is a professional translation, so what the
checks flag there is (nearly all) false alarms; on the committed local-engine
MT they find real errors (changed numbers, Arabic left in, the prompt echoed
back, a repeated clause). The number check's exceptions (ordinals, decades,
month names) were written after reading its flags on this same data, so its
human figure is not a held-out one.

It also times language identification: the model load (once per process)
and classification per row with py3langid, and, when ``langid`` (1.1.6, the
original) is importable, the same for it, in the same run.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tarjama.quality.checks import create_checks

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "corpus" / "ntrex128-dev" / "gold"
MT = ROOT / "tests" / "fixtures" / "ntrex128-dev.mt.en.txt"


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def flagged() -> None:
    arabic = lines(GOLD / "ntrex128-dev.ar.lines")
    for label, english in (("human", lines(GOLD / "ntrex128-dev.en.lines")), ("local MT", lines(MT))):
        pairs = list(zip(arabic, english))
        print(f"{label}: {len(pairs)} rows")
        for check in create_checks():
            check.check(pairs[:1])  # load any model outside the timing
            started = time.perf_counter()
            results = check.check(pairs)
            per_row = (time.perf_counter() - started) / len(pairs) * 1000
            rows = [i for i, r in enumerate(results) if not check.accept(r)]
            example = f"  e.g. row {rows[0] + 1}: {results[rows[0]].detail[:70]}" if rows else ""
            print(f"  {check.name:13s} {len(rows):3d} flagged  {per_row:6.3f} ms/row{example}")


def time_identifier(label: str, load: Callable[[], Any], texts: list[str]) -> None:
    started = time.perf_counter()
    identifier = load()
    loaded = time.perf_counter()
    for text in texts:
        identifier.rank(text)
    per_row = (time.perf_counter() - loaded) / len(texts) * 1000
    print(f"{label}: load {loaded - started:.2f} s, {per_row:.2f} ms/row ({len(texts)} rows)")


def language_speed() -> None:
    texts = lines(GOLD / "ntrex128-dev.en.lines") + lines(MT)

    def py3langid() -> Any:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)

    def langid() -> Any:
        from langid.langid import LanguageIdentifier, model

        return LanguageIdentifier.from_modelstring(model, norm_probs=True)

    time_identifier("py3langid 0.4.0", py3langid, texts)
    if importlib.util.find_spec("langid") is None:
        print("langid 1.1.6: not installed (pip install langid==1.1.6 to compare)")
    else:
        time_identifier("langid 1.1.6", langid, texts)


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    flagged()
    language_speed()


if __name__ == "__main__":
    sys.exit(main())
