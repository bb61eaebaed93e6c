"""Reading a manifest's articles as a corpus run does: each article's key (its texts' digest), then its texts.

    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_manifest                  # 20,000 articles
    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_manifest --articles 2000  # quicker

The same :class:`benchmarks.bench_corpus.Pool` articles (10-15 ntrex128-dev lines each, with their
reference) are written as a JSONL and a Parquet manifest; then ``--read`` consecutive articles from
the middle of each are digested and loaded, in order, and the time per article is printed for each
format. With ``PYTHONPATH`` pointing at another checkout's ``src``, it measures that code instead.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import polars as pl

from benchmarks.bench_corpus import Pool
from tarjama.corpus.inputs import read_manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=20_000, help="articles in each manifest")
    parser.add_argument("--read", type=int, default=1_000, help="consecutive articles read, from the middle")
    options = parser.parse_args()
    pool = Pool.load()
    with tempfile.TemporaryDirectory() as work:
        jsonl = pool.manifest(Path(work) / "crawl.jsonl", range(options.articles))
        parquet = Path(work) / "crawl.parquet"
        pl.read_ndjson(jsonl).write_parquet(parquet)
        first = max(0, (options.articles - options.read) // 2)
        for manifest in (jsonl, parquet):
            articles = read_manifest(manifest)[first : first + options.read]
            started = time.perf_counter()
            for article in articles:
                article.digest()
                article.load()
            per_article = (time.perf_counter() - started) / len(articles) * 1000
            size = manifest.stat().st_size / 1e6
            print(
                json.dumps(
                    {
                        "manifest": manifest.suffix,
                        "articles": options.articles,
                        "megabytes": round(size, 1),
                        "read": len(articles),
                        "ms_per_article": round(per_article, 2),
                    }
                )
            )


if __name__ == "__main__":
    main()
