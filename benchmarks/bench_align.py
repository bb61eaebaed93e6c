"""Alignment benchmark: quality on perturbed NTREX news, then time and memory against text size.

    .venv/bin/python -m benchmarks.bench_align                      # both tables
    .venv/bin/python -m benchmarks.bench_align --skip-scaling       # quality only (seconds)
    .venv/bin/python -m benchmarks.bench_align --skip-scaling --documents odd   # held-out documents only
    .venv/bin/python -m benchmarks.bench_align --skip-scaling --methods tarjama+src,units   # units path vs sentences
    .venv/bin/python -m benchmarks.bench_align --sizes 1000,4000    # smaller scaling run
    .venv/bin/python -m benchmarks.bench_align --skip-scaling --documents even --seeds 5   # 5 perturbations each

Quality: every ntrex128-dev document is perturbed per variant (seed = document
number; with ``--seeds N`` also N-1 more draws, see :data:`SEED_STRIDE` and
``benchmarks.alignment_data``) and aligned on its own by

* tarjama: ``tarjama.alignment.align.align`` on the committed MT fixture vs the reference;
* tarjama+src: the same, also given the Arabic source sentences (``source=``),
  so its length prior uses source lengths instead of MT lengths;
* units: the default rows of ``tarjama run`` (clause units, :func:`units_beads`) given the same
  sentence MT, scored as sentence beads, to compare with ``tarjama+src`` (``--rows sentences``);
* gale-church: ``tarjama.alignment.gale_church.align_lengths`` on the Arabic source
  (lengths and numbers written in digits, no MT) vs the reference;
* bleualign: ``benchmarks.bleualign.align`` (the Bleualign method) on the MT vs the reference.

Scores are strict and lax bead precision / recall / F1 (Sennrich & Volk 2011,
as Vecalign's scorer), summed over documents. Flag figures: a row is flagged
when its confidence is below 0.5 (``tarjama``'s default) and wrong when it is
not exactly a gold bead; flag P is the share of flagged rows that are wrong,
flag R the share of wrong rows flagged, "ok fl." the share of correct rows
flagged, "ok/flags" the correct rows flagged out of all flagged (for Bleualign
the confidence is its BLEU-2). The clean variant over ``--documents all`` is
the 40 ntrex128-dev articles with their committed MT.

Variants (``benchmarks.alignment_data``): ``broken_mt`` replaces 5% of the MT
lines by a loop, a truncation, an empty line, the Arabic copied or a chat
preamble; ``one_sided`` inserts 5% short one-sided lines (bylines, datelines,
captions, credits); ``all+...`` combine them with ``all``.

Scaling: all documents concatenated and repeated to N line pairs, perturbed
with the "all" variant (seed 0), aligned as one text in a fresh subprocess per
(method, size); seconds are wall time of the alignment call (loading the
compiled kernels from numba's cache included: they are compiled once, in this
process, before the runs), peak MB is the subprocess's maximum resident set
size. The quadratic Bleualign baseline runs only while its predicted time (4x
the previous size) stays under the limit; the speed-up is the ratio of the two
times in the same run, robust to the load of a shared machine, unlike the
seconds themselves.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks.alignment_data import (
    BENCH_VARIANTS,
    BeadScores,
    Case,
    FlagScores,
    load_arabic_documents,
    load_documents,
    perturb,
    perturb_document,
)
from tarjama.alignment.align import AlignmentConfig, Bead

METHODS = ("tarjama", "tarjama+src", "units", "gale-church", "bleualign")


def units_beads(arabic: Sequence[str], mt: Sequence[str], reference: Sequence[str]) -> list[Bead]:
    """What ``tarjama run`` gives with rows of clause units and MT given per sentence, as sentence beads.

    The Arabic sentences are cut into clause units as ``tarjama run`` cuts them, each unit's MT is cut
    from its sentence's (``UnitTranslation.SENTENCES``, as ``tarjama align --mt``), and the units are
    aligned by ``align_article`` with the default configuration. Rows that share a sentence (a
    sentence cut between them) are then joined into one bead, its confidence their lowest, so the rows
    read as the sentence beads they refine.
    """
    from tarjama.alignment.regroup import align_article, item_translations
    from tarjama.text.article import Document, Sentence, UnitTranslation
    from tarjama.text.clauses import DEFAULT_RULES, split_clauses
    from tarjama.translation.translate import Translation

    sentences = []
    for number, text in enumerate(arabic, start=1):
        collapsed = " ".join(text.split())
        sentences.append(Sentence(number, number, collapsed, tuple(split_clauses(collapsed, DEFAULT_RULES))))
    document = Document("bench", Path("bench.ar.txt"), "ar", tuple(sentences))
    per_sentence = [Translation(text, "fixture", "", False) for text in mt]
    translations = item_translations(document, "units", UnitTranslation.SENTENCES, per_sentence)
    alignment = align_article(document, [t.text for t in translations], reference, AlignmentConfig())
    units = document.units
    beads: list[Bead] = []
    waiting: list[Bead] = []  # rows without Arabic since the last row with some: inside a cut sentence or not
    for row in alignment.beads:
        source = tuple(dict.fromkeys(units[i].sentence for i in row.source))
        if not source:
            waiting.append(row)
        elif beads and beads[-1].source and beads[-1].source[-1] == source[0]:
            last, joined = beads.pop(), [*waiting, row]
            beads.append(
                Bead(
                    tuple(dict.fromkeys(last.source + source)),
                    last.reference + tuple(j for r in joined for j in r.reference),
                    min([last.confidence] + [r.confidence for r in joined]),
                )
            )
            waiting = []
        else:
            beads += [*waiting, Bead(source, row.reference, row.confidence)]
            waiting = []
    return beads + waiting


def _aligner(method: str) -> Callable[..., list]:
    if method == "units":
        return units_beads
    if method in ("tarjama", "tarjama+src"):
        from tarjama.alignment.align import align

        return align
    if method == "gale-church":
        from tarjama.alignment.gale_church import align_lengths

        return align_lengths
    from benchmarks.bleualign import align as bleualign

    return bleualign


def method_beads(aligner: Callable[..., list], method: str, case: Case) -> list:
    """The beads ``aligner`` (:func:`_aligner` of ``method``) gives for one perturbed document."""
    if method == "tarjama+src":
        return aligner(case.mt, case.reference, source=case.arabic)
    if method == "units":
        return aligner(case.arabic, case.mt, case.reference)
    if method == "gale-church":
        return aligner(case.arabic, case.reference)
    return aligner(case.mt, case.reference)


HALVES = {"all": lambda k: True, "even": lambda k: k % 2 == 0, "odd": lambda k: k % 2 == 1}
"""Document subsets: the bead priors were tuned on the even-numbered documents; the odd ones are held out."""


SEED_STRIDE = 1000
"""Perturbation seed ``r`` of document ``k`` is ``k + SEED_STRIDE * r``; ``r = 0`` is the seed the figures in the
docs were measured with."""


def quality_table(
    variants: Sequence[str] = BENCH_VARIANTS, half: str = "all", methods: Sequence[str] = METHODS, seeds: int = 1
) -> dict[str, dict[str, BeadScores]]:
    """Scores per variant and method, summed over the documents of ``half``, each perturbed ``seeds`` times (one
    perturbation draws a handful of operations per document, so one seed's figure moves by a point or more
    between draws)."""
    documents = load_documents()
    arabic = load_arabic_documents()
    picked = [k + SEED_STRIDE * r for r in range(seeds) for k in range(len(documents)) if HALVES[half](k)]
    results: dict[str, dict[str, BeadScores]] = {}
    print(
        f"{'variant':<14} {'method':<12} {'strict P':>8} {'strict R':>8} {'strict F1':>9} {'lax F1':>7}"
        f" {'flag P':>6} {'flag R':>6} {'ok fl.':>6} {'ok/flags':>9} {'sec':>6}"
    )
    for variant in variants:
        results[variant] = {}
        for method in methods:
            aligner, scores, flags, start = _aligner(method), BeadScores(), FlagScores(), time.perf_counter()
            for seed in picked:
                k = seed % SEED_STRIDE
                case = perturb_document(documents[k], arabic[k], variant, seed=seed)
                beads = method_beads(aligner, method, case)
                scores.add([(b.source, b.reference) for b in beads], case.gold)
                flags.add([((b.source, b.reference), b.confidence) for b in beads], case.gold)
            results[variant][method] = scores
            p, r, f = scores.strict()
            flag = f"{flags.precision():6.3f} {flags.recall():6.3f} {flags.correct_flagged():6.3f}"
            flag += f" {f'{flags.flagged_right}/{flags.flagged_right + flags.flagged_wrong}':>9}"
            print(
                f"{variant:<14} {method:<12} {p:8.3f} {r:8.3f} {f:9.3f} {scores.lax()[2]:7.3f} {flag}"
                f" {time.perf_counter() - start:6.1f}",
                flush=True,
            )
    return results


def _scaling_text(size: int) -> tuple[list[str], list[str]]:
    pairs = [pair for pairs in load_documents() for pair in pairs]
    repeated = (pairs * (size // len(pairs) + 1))[:size]
    mt, reference, _ = perturb(repeated, "all", seed=0)
    return mt, reference


def _run_one(method: str, size: int) -> None:
    """Subprocess entry: align the size-N text once, print JSON (seconds, peak MB, n, m)."""
    mt, reference = _scaling_text(size)
    aligner = _aligner(method)
    start = time.perf_counter()
    aligner(mt, reference)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "n": len(mt), "m": len(reference)}))


def _measure(method: str, size: int, timeout: float) -> dict | None:
    command = [sys.executable, "-m", "benchmarks.bench_align", "--_one", f"{method}:{size}"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)
    except subprocess.TimeoutExpired:
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def slope(sizes: Sequence[float], seconds: Sequence[float]) -> float:
    """Least-squares slope of log(seconds) against log(size)."""
    xs, ys = [math.log(s) for s in sizes], [math.log(t) for t in seconds]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def scaling_table(sizes: Sequence[int], baseline_limit: float) -> None:
    print(f"\nscaling (load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs)")
    print(
        f"{'size':>6} {'n x m':>13} {'tarjama s':>10} {'peak MB':>8} {'bleualign s':>12} {'peak MB':>8} {'speedup':>8}"
    )
    _aligner("tarjama")(*_scaling_text(50))  # compiles the kernels into numba's cache once, outside the timings
    times: list[float] = []
    baseline_next: float | None = 0.0  # predicted seconds of the next baseline run; None once it no longer fits
    for size in sizes:
        ours = _measure("tarjama", size, timeout=3600)
        assert ours is not None
        times.append(ours["seconds"])
        theirs = None
        if baseline_next is not None and baseline_next <= baseline_limit:
            theirs = _measure("bleualign", size, timeout=baseline_limit)
        if theirs is None:
            baseline_next = None
            base = f"{'-':>12} {'-':>8} {'-':>8}"
        else:
            baseline_next = theirs["seconds"] * 4.2
            base = f"{theirs['seconds']:12.1f} {theirs['peak_mb']:8.0f} {theirs['seconds'] / ours['seconds']:7.1f}x"
        shape = f"{ours['n']}x{ours['m']}"
        print(f"{size:>6} {shape:>13} {ours['seconds']:10.1f} {ours['peak_mb']:8.0f} {base}", flush=True)
    if len(times) > 1:
        print(f"log-log slope of tarjama time: {slope(sizes, times):.2f} (load average now: {os.getloadavg()[0]:.2f})")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,4000,16000", help="scaling sizes, line pairs")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--skip-quality", action="store_true")
    parser.add_argument("--variants", default=",".join(BENCH_VARIANTS))
    parser.add_argument("--methods", default=",".join(METHODS), help="which of " + ", ".join(METHODS))
    parser.add_argument("--documents", choices=list(HALVES), default="all", help="even: tuned on; odd: held out")
    parser.add_argument("--seeds", type=int, default=1, help="perturbations per document (1: the documented figures)")
    parser.add_argument("--baseline-limit", type=float, default=300.0, help="max seconds per baseline run")
    parser.add_argument("--_one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._one:
        method, size = args._one.split(":")
        _run_one(method, int(size))
        return
    methods, variants = args.methods.split(","), args.variants.split(",")
    for name, given, known in (("method", methods, METHODS), ("variant", variants, BENCH_VARIANTS)):
        unknown = [value for value in given if value not in known]
        if unknown:
            parser.error(f"unknown {name} {', '.join(unknown)}: choose from {', '.join(known)}")
    if not args.skip_quality:
        quality_table(variants, args.documents, methods, args.seeds)
    if not args.skip_scaling:
        scaling_table([int(s) for s in args.sizes.split(",")], args.baseline_limit)


if __name__ == "__main__":
    main()
