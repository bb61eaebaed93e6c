"""The end of a corpus run, alone: how its memory grows with the number of articles (issue 10).

    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_endphase                     # 1,000 and 10,000 articles
    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_endphase --code before=/tmp/old:today --code this=.:core
    PYTHONPATH=src:. .venv/bin/python -m benchmarks.bench_endphase --sizes 200 2000    # quicker

Once every article is built, ``tarjama run`` merges the shards into the exports, scores the corpus
from the articles' kept statistics, draws the plots, and stamps the merged Parquet with the run's
signatures. This replays those steps on a shard store of ``N`` synthetic articles, each size in a
fresh process, and prints the process's resident memory before the end phase (imports, Prefect
included, as in the driver) and the peak of each step (``VmHWM``, reset between steps through
``/proc/self/clear_refs``), so the growth from 1,000 to 10,000 articles is read step by step.

The articles are :class:`benchmarks.bench_corpus.Pool`'s (10-15 tagged ntrex128-dev lines each, 13
rows on average, as in the corpus benchmark), written straight through :meth:`ShardStore.put`
with the schema's rows, a summary and score statistics, without translating: the machine
translation of a line is its English with every fifth word dropped (so the scores are neither 0 nor
100); every ninth row is an unmatched Arabic sentence. Stores are kept in ``--work`` and reused.

Two wirings of the end phase are replayed: ``today`` calls ``tarjama.corpus.build``'s own
``draw_plots`` and ``overall_scores`` (as ``tarjama run`` does on the checkout it runs from);
``core`` gives :func:`tarjama.corpus.plots.plot_run` the lazy corpus itself (no sample) and scores
:meth:`ShardStore.corpus_statistics`, what ``run()`` does once wired to them. ``--code
LABEL=DIR:WIRING`` (repeated) runs a wiring with the code of checkout ``DIR`` (for instance an older
commit ``git archive``'d into a folder), for before/after figures; by default, this checkout's
``today`` and ``core``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("export", "flagged", "scores", "plots", "signatures", "first rows")


def _mb(key: str) -> float:
    status = Path("/proc/self/status").read_text()
    match = re.search(rf"^{key}:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) / 1024 if match else 0.0


def _reset_peak() -> None:
    """Make ``VmHWM`` start again from the current resident memory (Linux 4.0 on)."""
    Path("/proc/self/clear_refs").write_text("5")


# --- the synthetic shard store --------------------------------------------------------------------


def _mt(english: str) -> str:
    return " ".join(word for i, word in enumerate(english.split()) if i % 5 != 4)


def build_store(folder: Path, articles: int) -> Path:
    """``folder`` holding ``articles`` shards (built once: a ``complete`` marker says it is)."""
    if (folder / "complete").is_file():
        return folder
    import numpy as np

    from benchmarks.bench_corpus import Pool
    from tarjama.corpus.results import ArticleResult, ReferenceResult
    from tarjama.corpus.schema import to_frame
    from tarjama.corpus.shards import ShardStore
    from tarjama.quality.score import corpus_statistics

    pool = Pool.load()
    line_statistics = corpus_statistics([_mt(e) for e in pool.english], pool.english)
    store = ShardStore(folder)
    for number in range(articles):
        picker = random.Random(f"bench-endphase-{number}")
        lines = picker.sample(range(len(pool.arabic)), picker.randint(10, 15))
        rows = []
        for j, k in enumerate(lines):
            matched = j % 9 != 8
            english = f"[{number}.{j}] {pool.english[k]}"
            confidence = picker.random()
            rows.append(
                {
                    "article_id": f"a{number:06d}",
                    "reference": "en",
                    "row": j + 1,
                    "source_ids": str(j + 1),
                    "source_units": f"{j + 1}.1",
                    "reference_ids": str(j + 1) if matched else "",
                    "arabic": f"[{number}.{j}] {pool.arabic[k]}",
                    "english_mt": _mt(english),
                    "english_reference": english if matched else "",
                    "engine": "google",
                    "model": "google-translate-web",
                    "alignment_confidence": confidence if matched else 0.0,
                    "flagged": confidence < 0.5 or not matched,
                    "sentence_chrf": 100 * picker.random() if matched else None,
                    "sentence_bleu": 100 * picker.random() if matched else None,
                    "checks_failed": "",
                    "check_notes": "",
                }
            )
        frame = to_frame(rows)
        scored = [k for j, k in enumerate(lines) if j % 9 != 8]
        statistics = {name: values[scored] for name, values in line_statistics.items()}
        result = ArticleResult(
            article_id=f"a{number:06d}",
            path=f"corpus.jsonl#{number}",
            sentences=len(lines),
            units=len(lines),
            engine="google",
            model="google-translate-web",
            translated_texts=len(lines),
            from_memory=0,
            references=[
                ReferenceResult(
                    reference="en",
                    path="inline",
                    reference_sentences=len(lines),
                    rows=frame.height,
                    flagged=int(frame["flagged"].sum()),
                )
            ],
        )
        store.put(f"{number:032d}", frame, result, {name: np.asarray(v) for name, v in statistics.items()})
    (folder / "complete").write_text(str(articles))
    return folder


# --- the end phase, in the child ------------------------------------------------------------------


def end_phase(store_folder: Path, articles: int, wiring: str, out: Path) -> dict[str, float]:
    """Replay ``run()``'s steps after the last article; the resident memory before and each step's peak (MB)."""
    import polars as pl

    from tarjama.corpus import build
    from tarjama.corpus.export import export_corpus
    from tarjama.corpus.results import RunSummary
    from tarjama.corpus.schema import write_parquet
    from tarjama.corpus.shards import ShardStore

    shards = ShardStore(store_folder)
    keys = {f"a{number:06d}": f"{number:032d}" for number in range(articles)}
    results = [shards.get(key, article_id) for article_id, key in keys.items()]
    summary = RunSummary(run="bench", engine_requested="google", articles=[r for r in results if r is not None])
    corpus = shards.scan(list(keys.values()))
    figures = {"before": _mb("VmRSS")}
    found: dict[str, object] = {}

    def scores() -> object:
        if wiring == "today":
            return build.overall_scores(shards, keys, summary)
        from tarjama.quality.score import scores_from_statistics

        scored = [(keys[a.article_id], label) for a in summary.articles if (label := a.references[0].reference)]
        return scores_from_statistics(shards.corpus_statistics(scored))

    def plots() -> object:
        if wiring == "today":
            return build.draw_plots(corpus, out)
        from tarjama.corpus.plots import plot_run

        return plot_run(corpus, out / "plots")  # the lazy corpus, every row: no sample

    steps: dict[str, Callable[[], object]] = {
        "export": lambda: export_corpus(corpus, out, ["tsv", "parquet"]).rows,
        "flagged": lambda: corpus.select(pl.col("flagged").sum()).collect().item(),
        "scores": scores,
        "plots": plots,
        "signatures": lambda: write_parquet(
            pl.scan_parquet(out / "aligned.parquet"), out / "aligned.parquet", {"tarjama.bench": "1"}
        ),
        "first rows": lambda: corpus.head(50).collect().height,
    }
    started = time.perf_counter()
    for name, step in steps.items():
        _reset_peak()
        found[name] = step()
        figures[name] = _mb("VmHWM")
    figures["after"] = _mb("VmRSS")
    figures["seconds"] = time.perf_counter() - started
    overall = found["scores"]
    figures["chrF"] = next(s.score for s in overall if s.metric == "chrF") if overall else float("nan")  # type: ignore[attr-defined]
    figures["rows"] = float(found["export"])  # type: ignore[arg-type]
    return figures


def run_child(code: Path, store: Path, articles: int, wiring: str) -> dict[str, float]:
    """One end phase in a fresh process, with ``code``'s ``src`` first on the path."""
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(code / "src"), str(code), str(ROOT)])}
    with tempfile.TemporaryDirectory(prefix="endphase-") as out:
        answer = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_endphase", "--child", str(store), str(articles), wiring, out],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
        )
    if answer.returncode != 0:
        raise SystemExit(f"the end phase of {articles} articles ({wiring}, {code}) failed:\n{answer.stderr[-3000:]}")
    return json.loads(answer.stdout.strip().splitlines()[-1])


def _code(text: str) -> tuple[str, Path, str]:
    label, _, rest = text.partition("=")
    folder, _, wiring = rest.rpartition(":")
    if not label or not folder or wiring not in ("today", "core"):
        raise argparse.ArgumentTypeError(f"{text!r}: expected LABEL=DIR:WIRING, WIRING one of today, core")
    return label, Path(folder).resolve(), wiring


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "tarjama-bench-endphase")
    parser.add_argument(
        "--code",
        action="append",
        type=_code,
        help="LABEL=DIR:WIRING, WIRING one of today, core (default: this checkout's today and core)",
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        store, articles, wiring, out = options.child
        print(json.dumps(end_phase(Path(store), int(articles), wiring, Path(out))))
        return
    runs = options.code or [("today", ROOT, "today"), ("core", ROOT, "core")]
    header = f"{'code':>18} {'articles':>8} {'rows':>7} {'before':>7} " + " ".join(f"{s:>10}" for s in STEPS)
    print(header + f" {'peak':>7} {'added':>6} {'s':>6} {'chrF':>7}   (MB: resident before, peak of each step)")
    peaks: dict[str, list[float]] = {}
    for articles in options.sizes:
        store = build_store(options.work / f"store-{articles}", articles)
        for label, code, wiring in runs:
            f = run_child(code, store, articles, wiring)
            peak = max(f[s] for s in STEPS)
            peaks.setdefault(label, []).append(peak)
            steps = " ".join(f"{f[s]:>10.0f}" for s in STEPS)
            print(
                f"{label:>18} {articles:>8} {f['rows']:>7.0f} {f['before']:>7.0f} {steps} {peak:>7.0f}"
                f" {peak - f['before']:>6.0f} {f['seconds']:>6.1f} {f['chrF']:>7.3f}",
                flush=True,
            )
    if len(options.sizes) > 1:
        for label, values in peaks.items():
            print(
                f"{label}: peak at {options.sizes[-1]:,} articles / at {options.sizes[0]:,} = {values[-1] / values[0]:.2f}"
            )


if __name__ == "__main__":
    main()
