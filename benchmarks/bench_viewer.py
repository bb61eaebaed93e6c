"""Corpus viewer benchmark: how long one page takes, and how big it is, as the corpus grows.

    .venv/bin/python -m benchmarks.bench_viewer                  # 1,000 / 10,000 / 100,000 rows
    .venv/bin/python -m benchmarks.bench_viewer --sizes 10000

For each size a synthetic ``aligned.parquet`` (:func:`synthetic_corpus`,
seeded) is served by the real web app on 127.0.0.1, and each query below is
sent ``--repeat`` times over HTTP; the table gives the median milliseconds
per request and the response size. The first request of a run reads the
Parquet file (``cold``); later ones use the cache. A page's size must not
grow with the corpus: only the page travels.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import polars as pl

from tarjama.app.web import start_web_server
from tarjama.corpus.schema import SCHEMA

ARABIC_WORDS = (
    "قال وزير الخارجية إن المغرب والولايات المتحدة تعاونا في مكافحة الإرهاب منذ سنوات طويلة في منطقة الساحل "
    "وأضاف أن الرباط وواشنطن وقعتا اتفاقا جديدا يوم الجمعة بحضور خمسة آلاف شخص في طنجة"
).split()
ENGLISH_WORDS = (
    "the foreign minister said Morocco and the United States have worked together against terrorism for many "
    "years in the Sahel region adding that Rabat and Washington signed a new agreement on Friday before five "
    "thousand people in Tangier"
).split()
QUERIES = {
    "first page": "",
    "page 100": "offset=4950",
    "flagged": "show=flagged",
    "failed checks": "show=failed",
    "search": "q=tangier",
    "sort chrF": "sort=chrf",
    "200 rows": "limit=200",
}


def _sentence(rng: random.Random, words: tuple[str, ...] | list[str], n: int) -> str:
    return " ".join(rng.choice(words) for _ in range(n)) + "."


def synthetic_corpus(rows: int, seed: int = 0) -> pl.DataFrame:
    """``rows`` aligned rows of :data:`SCHEMA` plus two ``check_*`` columns and a ``unit`` column.

    Articles of 40 rows; about 10% of rows flagged, 5% failing a check,
    a few chrF values null (unmatched beads).
    """
    rng = random.Random(seed)
    records = []
    for index in range(rows):
        confidence = round(rng.betavariate(5, 1.2), 4)
        matched = rng.random() > 0.02
        chrf = round(rng.uniform(5, 95), 4) if matched else None
        records.append(
            {
                "article_id": f"article-{index // 40:05d}",
                "reference": "en",
                "row": index % 40 + 1,
                "source_ids": str(index % 40 + 1),
                "reference_ids": str(index % 40 + 1) if matched else "",
                "arabic": _sentence(rng, ARABIC_WORDS, rng.randint(8, 40)),
                "english_mt": _sentence(rng, ENGLISH_WORDS, rng.randint(8, 40)),
                "english_reference": _sentence(rng, ENGLISH_WORDS, rng.randint(8, 40)) if matched else "",
                "engine": "local",
                "model": "synthetic",
                "alignment_confidence": confidence,
                "flagged": confidence < 0.5,
                "sentence_chrf": chrf,
                "sentence_bleu": round(chrf / 2, 4) if chrf is not None else None,
                "check_numbers": None if rng.random() < 0.3 else rng.random() > 0.04,
                "check_script": rng.random() > 0.01,
                "unit": "sentence",
            }
        )
    schema = pl.Schema({**SCHEMA, "check_numbers": pl.Boolean, "check_script": pl.Boolean, "unit": pl.String})
    return pl.DataFrame(records, schema=schema, orient="row")


def measure(sizes: list[int], repeat: int) -> None:
    print(f"{'rows':>8} {'query':<14} {'cold ms':>8} {'median ms':>10} {'bytes':>9}")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for size in sizes:
            run = root / f"run-{size}"
            run.mkdir()
            synthetic_corpus(size).write_parquet(run / "aligned.parquet")
            server = start_web_server(root, "127.0.0.1", 0)
            try:
                with httpx.Client(base_url=server.url, timeout=60) as client:
                    for name, query in QUERIES.items():
                        times = []
                        for _ in range(repeat + 1):
                            started = time.perf_counter()
                            response = client.get(f"/api/runs/{run.name}/rows?{query}")
                            times.append((time.perf_counter() - started) * 1000)
                            response.raise_for_status()
                        cold = f"{times[0]:.1f}" if name == "first page" else ""
                        print(
                            f"{size:>8} {name:<14} {cold:>8} {statistics.median(times[1:]):>10.1f} "
                            f"{len(response.content):>9}"
                        )
            finally:
                server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000", help="corpus sizes in rows, comma-separated")
    parser.add_argument("--repeat", type=int, default=5, help="requests per query after the first")
    arguments = parser.parse_args()
    measure([int(size) for size in arguments.sizes.split(",")], arguments.repeat)


if __name__ == "__main__":
    main()
