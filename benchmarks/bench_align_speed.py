"""The aligner's time against another version's, and a check that a faster aligner gives the same rows.

    .venv/bin/python -m benchmarks.bench_align_speed ratio /tmp/old020 --rounds 6   # time against a checkout
    .venv/bin/python -m benchmarks.bench_align_speed dump before.json              # every result, to compare
    .venv/bin/python -m benchmarks.bench_align_speed compare before.json after.json

``ratio``: alternating rounds of ``benchmarks.bench_align --_one tarjama:4000`` (one fresh process each,
wall time of the alignment call) in the other checkout (its ``src/`` and top level on the path) and in
this one; on a shared machine only ratios within one run mean anything. ``dump``: the beads and
confidences (``repr``, every bit) of every ``bench_align`` variant, all 40 documents, for ``tarjama``,
``tarjama+src``, ``units`` and ``gale-church``, and of the scaling texts of 1,000 and 4,000 sentences.
``compare``: which of two dumps' entries differ (exit status 1 if any).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.alignment_data import BENCH_VARIANTS, load_arabic_documents, load_documents, perturb_document
from benchmarks.bench_align import _aligner, _scaling_text, method_beads

REPO = Path(__file__).resolve().parents[1]
DUMPED = ("tarjama", "tarjama+src", "units", "gale-church")


def _seconds(tree: Path, size: int) -> float:
    command = [sys.executable, "-m", "benchmarks.bench_align", "--_one", f"tarjama:{size}"]
    env = dict(os.environ, PYTHONPATH=f"{tree / 'src'}{os.pathsep}{tree}")
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=True)
    return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


def ratio(other: Path, rounds: int, size: int) -> float:
    """Alternate the other checkout and this one ``rounds`` times; print each round; return the ratio of sums."""
    theirs: list[float] = []
    ours: list[float] = []
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for number in range(1, rounds + 1):
        theirs.append(_seconds(other, size))
        ours.append(_seconds(REPO, size))
        print(f"round {number}: other {theirs[-1]:.2f} s, this {ours[-1]:.2f} s, ratio {ours[-1] / theirs[-1]:.3f}")
    medians = statistics.median(ours) / statistics.median(theirs)
    print(f"ratio of sums {sum(ours) / sum(theirs):.3f}, of medians {medians:.3f}")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return sum(ours) / sum(theirs)


def dump(path: Path) -> None:
    documents, arabic = load_documents(), load_arabic_documents()
    rows: dict[str, list] = {}
    for variant in BENCH_VARIANTS:
        for seed in range(len(documents)):
            case = perturb_document(documents[seed], arabic[seed], variant, seed=seed)
            for method in DUMPED:
                beads = method_beads(_aligner(method), method, case)
                rows[f"{variant}/{seed}/{method}"] = [[b.source, b.reference, repr(b.confidence)] for b in beads]
    for size in (1000, 4000):
        beads = _aligner("tarjama")(*_scaling_text(size))
        rows[f"scaling/{size}"] = [[b.source, b.reference, repr(b.confidence)] for b in beads]
    path.write_text(json.dumps(rows), encoding="utf-8")
    print(f"{len(rows)} alignments written to {path}")


def compare(before: Path, after: Path) -> bool:
    old, new = (json.loads(p.read_text(encoding="utf-8")) for p in (before, after))
    differ = sorted(set(old) ^ set(new)) + [key for key in old if key in new and old[key] != new[key]]
    print(f"{len(old)} / {len(new)} alignments, {len(differ)} differ{': ' + ', '.join(differ[:10]) if differ else ''}")
    return not differ


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    timed = commands.add_parser("ratio")
    timed.add_argument("other", type=Path, help="checkout of the other version (src/, benchmarks/, corpus/, tests/)")
    timed.add_argument("--rounds", type=int, default=6)
    timed.add_argument("--size", type=int, default=4000)
    commands.add_parser("dump").add_argument("path", type=Path)
    both = commands.add_parser("compare")
    both.add_argument("before", type=Path)
    both.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    if args.command == "ratio":
        ratio(args.other, args.rounds, args.size)
    elif args.command == "dump":
        dump(args.path)
    elif not compare(args.before, args.after):
        sys.exit(1)


if __name__ == "__main__":
    main()
