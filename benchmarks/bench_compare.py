"""``tarjama compare A B`` at corpus scale: time and peak memory of one comparison of two run folders.

    .venv/bin/python benchmarks/bench_compare.py RUN_A RUN_B [--out DIR] [--json FILE]
    .venv/bin/python benchmarks/bench_compare.py --vary RUN_A RUN_B   # write RUN_B: RUN_A's rows, MT varied

Prints the segments and articles compared, the CPU seconds spent finding the shared segments
(:func:`~tarjama.quality.compare.common_segments`), comparing them
(:func:`~tarjama.quality.compare.compare_systems`) and writing the report and plots, and the
process's CPU time (the machine may be shared) and peak resident memory. ``--json`` writes the comparison (``scores.json``'s) to a file, so
two versions of the code can be checked to give the same figures (``cmp`` the two files).

Two runs of one corpus with the same engine are usually identical (a warm run takes its MT from the
memory), which makes every delta 0; ``--vary`` writes a second run whose MT differs from the first's
in a fixed pattern (every third row loses its last word, every seventh is the reference, every
eleventh is empty), so p-values, per-article deltas and row gains and losses are all exercised.
Measured figures: ``benchmarks/results/compare-scale.md``.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from tarjama.quality.compare import System, common_segments, compare_systems, read_rows, render_comparison


def vary(source: Path, target: Path) -> None:
    """``target/aligned.parquet``: ``source``'s rows with the MT changed in a fixed pattern."""
    frame = pl.read_parquet(source / "aligned.parquet")
    index = pl.int_range(pl.len())
    mt = pl.col("english_mt")
    varied = (
        pl.when(index % 11 == 0)
        .then(pl.lit(""))
        .when(index % 7 == 0)
        .then(pl.col("english_reference"))
        .when(index % 3 == 0)
        .then(mt.str.replace(r"\s*\S+\s*$", ""))
        .otherwise(mt)
    )
    target.mkdir(parents=True, exist_ok=True)
    frame.with_columns(varied.alias("english_mt")).write_parquet(target / "aligned.parquet")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs=2, type=Path)
    parser.add_argument("--vary", action="store_true", help="write the second run from the first, then stop")
    parser.add_argument("--json", type=Path, help="write the comparison here")
    args = parser.parse_args(argv)
    if args.vary:
        vary(*args.runs)
        return
    clock = time.process_time  # CPU seconds: on a shared machine wall time says more about the neighbours
    wall, start = time.perf_counter(), clock()
    frames = {str(path): read_rows(path) for path in args.runs}
    segments = common_segments(frames)
    shared = clock()
    systems = [System(name, segments.hypotheses[name]) for name in frames]
    comparison = compare_systems(segments.references, systems, articles=segments.articles)
    compared = clock()
    with tempfile.TemporaryDirectory() as folder:
        from tarjama.corpus.plots import plot_article_deltas

        (Path(folder) / "report.md").write_text(render_comparison(comparison), encoding="utf-8")
        for metric in ("chrF", "BLEU"):
            plot_article_deltas(comparison.articles, metric, Path(folder) / f"deltas-{metric}.png")
    written, wall = clock(), time.perf_counter() - wall
    if args.json:
        args.json.write_text(json.dumps(comparison.as_dict(), indent=1, sort_keys=True), encoding="utf-8")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    articles = len(set(segments.articles))
    print(
        f"{len(segments.references)} segments, {articles} articles; CPU seconds: shared segments "
        f"{shared - start:.1f}, compare {compared - shared:.1f}, report and plots {written - compared:.1f}, "
        f"total {written - start:.1f} ({1000 * (written - start) / articles:.0f} ms an article); "
        f"wall {wall:.1f} s; peak RSS {peak:.0f} MiB"
    )


if __name__ == "__main__":
    sys.exit(main())
