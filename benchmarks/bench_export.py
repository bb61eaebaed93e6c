"""Export benchmark: writing every format from per-article parquet shards, at two corpus sizes.

    .venv/bin/python -m benchmarks.bench_export                   # 20,000 and 200,000 rows
    .venv/bin/python -m benchmarks.bench_export --rows 5000 50000 # quicker

Rows are NTREX (Arabic, English) sentence pairs, 50 to an article shard, each row's text made
distinct. Each (size, format) is exported in a fresh process that reports its own peak memory, so
the figures compare how memory grows with the corpus: a streaming writer stays nearly flat.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLD = REPO / "corpus" / "ntrex128-dev" / "gold"
ROWS_PER_SHARD = 50


def make_shards(folder: Path, rows: int) -> None:
    from tarjama.corpus.schema import SCHEMA, to_frame, write_parquet

    arabic = (GOLD / "ntrex128-dev.ar.lines").read_text(encoding="utf-8").splitlines()
    english = (GOLD / "ntrex128-dev.en.lines").read_text(encoding="utf-8").splitlines()
    for shard in range(0, rows, ROWS_PER_SHARD):
        batch = [
            {name: None for name in SCHEMA}
            | {
                "article_id": f"article.{shard // ROWS_PER_SHARD}",
                "reference": "en",
                "row": i - shard + 1,
                "source_ids": str(i - shard + 1),
                "reference_ids": str(i - shard + 1),
                "arabic": f"{arabic[i % len(arabic)]} {i}",
                "english_mt": f"{english[i % len(english)]} {i}",
                "english_reference": f"{english[i % len(english)]} ({i})",
                "engine": "loopback",
                "model": "echo",
                "alignment_confidence": (i % 100) / 100,
                "flagged": i % 100 < 50,
            }
            for i in range(shard, min(shard + ROWS_PER_SHARD, rows))
        ]
        write_parquet(to_frame(batch), folder / f"{shard // ROWS_PER_SHARD:07d}.parquet")


def export_once(shards: Path, out: Path, name: str) -> None:
    """The child: export one format, print seconds and peak RSS as JSON."""
    from tarjama.corpus.export import export_corpus

    start = time.perf_counter()
    result = export_corpus(shards, out, [name])
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "rows": result.rows}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs=2, default=[20_000, 200_000])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        export_once(Path(args.child[0]), Path(args.child[1]), args.child[2])
        return
    from tarjama.corpus.export import FORMATS

    print(f"{'rows':>9} {'format':>8} {'seconds':>8} {'rows/s':>9} {'peak MB':>8}")
    peaks: dict[str, list[float]] = {name: [] for name in FORMATS}
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            shards = Path(tmp) / f"shards-{rows}"
            shards.mkdir()
            make_shards(shards, rows)
            for name in FORMATS:
                child = [sys.executable, "-m", "benchmarks.bench_export", "--child", str(shards), f"{tmp}/out", name]
                figures = json.loads(subprocess.run(child, capture_output=True, text=True, check=True).stdout)
                peaks[name].append(figures["peak_mb"])
                rate = figures["rows"] / figures["seconds"]
                print(f"{rows:>9,} {name:>8} {figures['seconds']:>8.2f} {rate:>9,.0f} {figures['peak_mb']:>8.0f}")
    small, large = args.rows
    for name, (low, high) in peaks.items():
        print(f"{name}: peak memory x{high / low:.2f} for x{large / small:.0f} rows")


if __name__ == "__main__":
    main()
