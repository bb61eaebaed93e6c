"""Corpus scoring with 95% CIs: time before/after, and how many segments a CI needs to mean something.

    .venv/bin/python benchmarks/bench_score.py [--repeats 3] [--coverage]

Timing: 13 rows of four NTREX dev sentences (about 100 words each, like the
seed article's paragraph-long rows), the committed local-engine MT against
the human English, scored with BLEU, chrF, chrF++ and TER and 1,000 bootstrap
resamples. *before* is what tarjama did until now (sacrebleu's metrics with
their own ``corpus_score`` bootstrap and sacrebleu's TER); *after* is
:func:`tarjama.quality.score.score_corpus`. Runs alternate, and the script prints the
median of each and their ratio, and checks both give the same numbers.

Coverage (``--coverage``): how often the interval contains the score it
estimates. Each NTREX dev document goes to one of two halves (alternately,
by document order); within a half, the "true" score is that of all its
sentences, and for each sample size we draw random samples of sentences,
bootstrap a 95% interval and count how often it contains the true score.
``MIN_SEGMENTS_FOR_CI`` is read off the first half (the smallest size from
which coverage stays at or above 90% for every metric) and the second half's
coverage at that size is printed beside it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.metrics.base import Metric
from sacrebleu.significance import _bootstrap_resample

from tarjama.quality.score import (
    MIN_SEGMENTS_FOR_CI,
    bootstrap_indices,
    corpus_metrics,
    resampled_totals,
    score_corpus,
    scores_from_totals,
)

ROOT = Path(__file__).resolve().parents[1]
MT = ROOT / "tests" / "fixtures" / "ntrex128-dev.mt.en.txt"
GOLD = ROOT / "corpus" / "ntrex128-dev" / "gold"
SIZES = (3, 5, 8, 10, 15, 20, 30, 50)


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def before(hypotheses: list[str], references: list[str]) -> dict[str, tuple[float, float, float]]:
    """The previous ``score_corpus``: sacrebleu's statistics and bootstrap, one score object per resample."""
    results = {}
    for name, metric in {"BLEU": BLEU(), "chrF": CHRF(), "chrF++": CHRF(word_order=2), "TER": TER()}.items():
        stats = metric._extract_corpus_statistics(hypotheses, [references])
        score = metric._aggregate_and_compute(stats)
        _, resampled = _bootstrap_resample(stats, metric, 1000)
        for sample in resampled:
            sample.score = float(sample.score)
        score.estimate_ci(resampled)
        results[name] = (round(score.score, 4), round(score._mean, 4), round(score._ci, 4))
    return results


def after(hypotheses: list[str], references: list[str]) -> dict[str, tuple[float, float, float]]:
    return {s.metric: (s.score, s.bootstrap_mean, s.ci95) for s in score_corpus(hypotheses, references)}  # type: ignore[misc]


def timing(repeats: int) -> None:
    mt, gold = lines(MT), lines(GOLD / "ntrex128-dev.en.lines")
    hyps = [" ".join(mt[i : i + 4]) for i in range(0, 52, 4)]
    refs = [" ".join(gold[i : i + 4]) for i in range(0, 52, 4)]
    words = statistics.mean(len(r.split()) for r in refs)
    times: dict[str, list[tuple[float, float]]] = {"before": [], "after": []}
    results = {}
    for _ in range(repeats):
        for label, function in (("before", before), ("after", after)):
            wall, cpu = time.perf_counter(), time.process_time()
            results[label] = function(hyps, refs)
            times[label].append((time.perf_counter() - wall, time.process_time() - cpu))
    print(f"13 rows ({words:.0f} reference words each), 4 metrics, 1000 resamples, median of {repeats}:")
    for kind, index in (("wall", 0), ("CPU", 1)):
        old = statistics.median(t[index] for t in times["before"])
        new = statistics.median(t[index] for t in times["after"])
        print(f"  {kind:4s} before {old:.2f} s, after {new:.3f} s, ratio {old / new:.0f}x")
    print(f"  same score, mean and CI: {results['before'] == results['after']}")


def coverage_by_size(metric: Metric, stats: np.ndarray, rng: np.random.Generator, trials: int) -> dict[int, float]:
    """Share of random samples of each size whose bootstrap interval contains the score of all ``stats``."""
    truth = float(scores_from_totals(metric, stats.sum(axis=0, keepdims=True).astype(np.float32))[0])
    covered = {}
    for size in SIZES:
        hits = 0
        for _ in range(trials):
            sample = stats[rng.choice(len(stats), size=size, replace=False)]
            resampled = np.sort(scores_from_totals(metric, resampled_totals(sample, bootstrap_indices(size, 1000))))
            lower_idx = len(resampled) // 40
            hits += resampled[lower_idx] <= truth <= resampled[len(resampled) - lower_idx - 1]
        covered[size] = hits / trials
    return covered


def coverage(trials: int) -> None:
    mt, gold = lines(MT), lines(GOLD / "ntrex128-dev.en.lines")
    docs = lines(GOLD / "ntrex128-dev.docids.lines")
    order = list(dict.fromkeys(docs))
    halves = [[i for i, d in enumerate(docs) if order.index(d) % 2 == half] for half in (0, 1)]
    rng = np.random.default_rng(1)
    table: dict[tuple[int, str], dict[int, float]] = {}
    for name, metric in corpus_metrics().items():
        stats = np.array(metric._extract_corpus_statistics(mt, [gold]), dtype=np.float64)
        for half, rows in enumerate(halves):
            table[half, name] = coverage_by_size(metric, stats[rows], rng, trials)
    for half in (0, 1):
        print(f"half {half + 1} ({len(halves[half])} sentences): coverage of the 95% interval by sample size")
        print("  size  " + "  ".join(f"{name:>6}" for name in corpus_metrics()))
        for size in SIZES:
            print(f"  {size:4d}  " + "  ".join(f"{table[half, name][size]:6.2f}" for name in corpus_metrics()))

    def adequate(half: int) -> int:
        ok = [s for s in SIZES if all(table[half, n][t] >= 0.9 for n in corpus_metrics() for t in SIZES if t >= s)]
        return min(ok) if ok else SIZES[-1]

    chosen = adequate(0)
    held_out = {name: table[1, name][chosen] for name in corpus_metrics()}
    print(f"tuned on half 1: coverage >= 0.90 from {chosen} segments (MIN_SEGMENTS_FOR_CI = {MIN_SEGMENTS_FOR_CI})")
    print("held-out half 2 at that size: " + ", ".join(f"{n} {c:.2f}" for n, c in held_out.items()))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--coverage", action="store_true", help="measure interval coverage by sample size")
    parser.add_argument("--trials", type=int, default=200, help="random samples per size (with --coverage)")
    args = parser.parse_args(argv)
    timing(args.repeats)
    if args.coverage:
        coverage(args.trials)


if __name__ == "__main__":
    sys.exit(main())
