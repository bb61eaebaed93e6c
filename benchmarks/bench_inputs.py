"""Finding a corpus run's articles and their references (one pass of ``collect_articles``, as the CLI and
then the flow each make), with the articles in one flat folder or in subfolders of 500.

    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_inputs                           # 1,000 2,000 4,000
    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_inputs --articles 4000 --subfolders

Each article ``artNNNNN.ar.txt`` has its ``.en.txt`` and every third one an ``.en-b.txt`` too (the texts
are one line: no text is read here). One JSON line per size and layout: the seconds of one pass.

Finding an article's labelled references listed its folder (``Path.glob``) once per article, so a flat
folder's pass grew with the square of its articles; each folder is listed once now. One pass, 1,000 /
2,000 / 4,000 articles in one folder, on a loaded 2-core machine: 3.0 / 11.7 / 55.9 s before, 0.10 /
0.11 / 0.40 s after (4,000 in subfolders of 500: 0.23 s). A warm rerun of 4,000 articles in one folder
(all reused from their shards; the CLI's pass, then the flow's): 147 s before, 47 s after.
With ``PYTHONPATH`` pointing at another checkout's ``src``, it measures that code instead.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from tarjama.corpus.inputs import collect_articles

PER_SUBFOLDER = 500


def write_articles(folder: Path, count: int, subfolders: bool) -> None:
    for n in range(count):
        where = folder / f"d{n // PER_SUBFOLDER:02d}" if subfolders else folder
        where.mkdir(parents=True, exist_ok=True)
        (where / f"art{n:05d}.ar.txt").write_text("وصل الوزير إلى الرباط.\n", encoding="utf-8")
        (where / f"art{n:05d}.en.txt").write_text("The minister arrived in Rabat.\n", encoding="utf-8")
        if n % 3 == 0:
            (where / f"art{n:05d}.en-b.txt").write_text("The minister reached Rabat.\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[1_000, 2_000, 4_000], help="corpus sizes")
    parser.add_argument("--subfolders", action="store_true", help=f"also in subfolders of {PER_SUBFOLDER}")
    options = parser.parse_args()
    for count in options.articles:
        for subfolders in (False, True) if options.subfolders else (False,):
            with tempfile.TemporaryDirectory() as work:
                write_articles(Path(work), count, subfolders)
                started = time.perf_counter()
                articles = collect_articles([work])
                seconds = time.perf_counter() - started
                references = sum(len(a.references) for a in articles)
                layout = f"subfolders of {PER_SUBFOLDER}" if subfolders else "one folder"
                print(
                    json.dumps(
                        {
                            "articles": len(articles),
                            "references": references,
                            "layout": layout,
                            "seconds": round(seconds, 2),
                        }
                    ),
                    flush=True,
                )


if __name__ == "__main__":
    main()
