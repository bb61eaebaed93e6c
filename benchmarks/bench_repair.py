"""How often the local engine's MT is broken, before and after its repair.

    .venv/bin/python -m benchmarks.bench_repair            # counts on the committed MT fixtures, then
                                                           # their broken lines translated again (local model)
    .venv/bin/python -m benchmarks.bench_repair --offline  # the counts before only (no model)

The committed fixtures hold the local engine's MT from before the repair: the 603 gold lines of the 40
ntrex128-dev articles (``tests/fixtures/ntrex128-dev.mt.en.txt``) and their 277 clause units
(``ntrex128-dev.units.mt.en.json``), and the seed article's 13 sentences and 66 clause units
(``morocco-us-counterterrorism.*``). A line is broken as the aligner sees it
(:func:`tarjama.translation.broken.broken_mt` over the whole set, at its median length ratio), or
its instructions echoed back ("No notes, no explanations, ...": ``echo``) or a reply about
translating ("... the English translation of the Arabic text ...": ``chatter``), which the aligner
takes for translations.
Only the broken lines are translated again: once by the engine with ``repair=False`` (the new
cleaning alone: preambles and quotation wrappers stripped) and once with the repair (cleaning,
then a still-broken line translated again in pieces). A sound line's output is the same with or
without the repair; the lines the new cleaning would change are counted too.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from tarjama.text.article import load_document
from tarjama.text.normalize import normalize_text
from tarjama.translation.broken import broken_mt
from tarjama.translation.engines.local import LocalEngine, broken_output, clean_output

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
KINDS = ("empty", "arabic", "loop", "preamble", "truncated", "echo", "chatter")


def fixture_sets() -> dict[str, tuple[list[str], list[str]]]:
    """Name -> (sources, committed MT) of each MT fixture."""
    gold = (ROOT / "corpus" / "ntrex128-dev" / "gold" / "ntrex128-dev.ar.lines").read_text(encoding="utf-8")
    sentences = [normalize_text(line).strip() for line in gold.splitlines()]
    ntrex_units = json.loads((FIXTURES / "ntrex128-dev.units.mt.en.json").read_text(encoding="utf-8"))["translations"]
    seed = load_document(ROOT / "corpus" / "morocco-us-counterterrorism.ar.txt", "ar")
    seed_units = json.loads((FIXTURES / "morocco-us-counterterrorism.units.mt.en.json").read_text(encoding="utf-8"))
    return {
        "ntrex128-dev sentences": (sentences, _lines("ntrex128-dev.mt.en.txt")),
        "ntrex128-dev units": (list(ntrex_units), list(ntrex_units.values())),
        "seed sentences": (seed.texts, _lines("morocco-us-counterterrorism.mt.en.txt")),
        "seed units": (list(seed_units["units"]), list(seed_units["units"].values())),
    }


def _lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text(encoding="utf-8").splitlines()


def reasons(mt: Sequence[str], sources: Sequence[str]) -> list[str]:
    """Why each line is broken: as the aligner sees it, else ``echo`` (the engine's instructions echoed
    back) or ``chatter`` (a reply about translating), which the aligner takes for translations."""
    seen = broken_mt(mt, sources)
    return [
        why or ("echo" if line.strip() and not clean_output(line, s) else "") or _chatter(line, s)
        for why, line, s in zip(seen, mt, sources, strict=True)
    ]


def _chatter(line: str, source: str) -> str:
    return "chatter" if broken_output(line, source) == "chatter" else ""


def counts(reasons: Sequence[str]) -> str:
    found = Counter(reasons)
    return " | ".join(str(found[kind]) for kind in KINDS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offline", action="store_true", help="the counts before only (no model)")
    args = parser.parse_args()
    engine = None if args.offline else LocalEngine()
    print(f"| set | lines | MT | {' | '.join(KINDS)} | broken |")
    print("|---|---:|---|" + "---:|" * (len(KINDS) + 1))
    for name, (sources, mt) in fixture_sets().items():
        before = reasons(mt, sources)
        changed = sum(clean_output(line, source) != line for line, source, why in zip(mt, sources, before) if not why)
        print(f"| {name} | {len(mt)} | committed | {counts(before)} | {sum(map(bool, before))} |")
        broken = [k for k, why in enumerate(before) if why]
        if engine is None or not broken:
            print(f"| | | (sound lines the new cleaning changes: {changed}) |{' |' * (len(KINDS) + 1)}")
            continue
        for label, repair in (("cleaning only", False), ("repaired", True)):
            engine.repair = repair
            again = dict(zip(broken, engine.translate([sources[k] for k in broken]), strict=True))
            after = reasons([again.get(k, line) for k, line in enumerate(mt)], sources)
            print(f"| | | {label} | {counts(after)} | {sum(map(bool, after))} |")
            for k in broken:
                print(f"<!-- {name} {k} {before[k]} -> {label} {after[k] or 'sound'}: {again[k]!r} -->")
        print(f"| | | (sound lines the new cleaning changes: {changed}) |{' |' * (len(KINDS) + 1)}")


if __name__ == "__main__":
    main()
