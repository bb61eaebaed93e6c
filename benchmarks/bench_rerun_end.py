"""What a warm rerun pays again after its articles are reused: the overall scores, report.html, and Prefect
walking the flow's return value, timed on a run already written.

    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_rerun_end OUT RUN [--repeat 3]

``OUT`` is a ``--out`` folder (its ``.shards``), ``RUN`` one of its runs (its ``scores.json`` is the
summary the steps are given). Each step is timed in this process, best of ``--repeat``, wall and CPU
seconds (CPU is steadier on a shared machine):

- *overall scores*: :func:`tarjama.corpus.build.overall_scores` from the shards' statistics, and, where
  the checkout has it, with a cache of scores in a fresh folder (the first call scores and keeps them,
  the next read them: a rerun's);
- *report.html*: :func:`tarjama.corpus.report.render_html` of the run's ``report.md``;
- *Prefect's walk*: ``resolve_futures_to_states`` of the summary, as ``FlowRunEngine.handle_success``
  calls it on what the flow returns, and of the summary ``quote``'d.

Run it with ``PYTHONPATH`` pointing at another checkout's ``src`` (an older commit ``git archive``'d
into a folder) for the figures before a change.
"""

from __future__ import annotations

import argparse
import inspect
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def best(step: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """The fastest of ``repeat`` calls: (wall s, CPU s)."""
    times = []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        step()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return min(times)


def main() -> None:
    from prefect.futures import resolve_futures_to_states
    from prefect.utilities.annotations import quote

    from tarjama.corpus.build import SHARDS, overall_scores
    from tarjama.corpus.report import render_html, render_report
    from tarjama.corpus.results import RunSummary
    from tarjama.corpus.shards import ShardStore

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("run")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    summary = RunSummary.model_validate_json((args.out / args.run / "scores.json").read_bytes())
    shards = ShardStore(args.out / SHARDS)
    keys, recorded = {}, {}
    for path in (args.out / SHARDS).glob("*.json"):  # each shard's summary: its key, article and rows' digest
        record = json.loads(path.read_bytes())
        keys[record["article_id"]], recorded[record["key"]] = record["key"], record.get("rows_sha256")
    print(f"{len(summary.articles)} articles, {len(keys)} shards")
    rows: list[tuple[str, tuple[float, float]]] = []
    rows.append(("overall scores", best(lambda: overall_scores(shards, keys, summary), args.repeat)))
    if "cache" in inspect.signature(overall_scores).parameters:
        with tempfile.TemporaryDirectory() as cache:
            rows.append(
                ("  first, kept", best(lambda: overall_scores(shards, keys, summary, recorded, Path(cache)), 1))
            )
            fresh = overall_scores(shards, keys, summary)
            assert overall_scores(shards, keys, summary, recorded, Path(cache)) == fresh
            rows.append(
                (
                    "  rerun, read",
                    best(lambda: overall_scores(shards, keys, summary, recorded, Path(cache)), args.repeat),
                )
            )
    markdown = render_report(summary)
    rows.append(("report.html", best(lambda: render_html(markdown, "t"), args.repeat)))
    rows.append(("Prefect walks the summary", best(lambda: resolve_futures_to_states(summary), args.repeat)))
    rows.append(("  quoted", best(lambda: resolve_futures_to_states(quote(summary)), args.repeat)))
    print(f"{'step':<28} {'wall s':>8} {'CPU s':>8}")
    for name, (wall, cpu) in rows:
        print(f"{name:<28} {wall:>8.3f} {cpu:>8.3f}")


if __name__ == "__main__":
    main()
