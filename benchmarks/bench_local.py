"""Local engine throughput: today's one-sentence-at-a-time path against batched decoding (issue 12, target 3).

    PYTHONPATH=src .venv/bin/python benchmarks/bench_local.py [--sentences 24] [--split report]
        [--parallel 4] [--threads 2] [--chunk 12] [--rounds 1] [--no-repack] [--quality] [--processes 2]

Both paths run in one process on the same ntrex128-dev sentences, chunk by
chunk, alternating which goes first, so load from other programs on the
machine falls on both alike: compare the ratios, not the absolute seconds.
CPU seconds are reported beside wall seconds because they barely depend on
that load. Today's path is llama-cpp-python's ``create_chat_completion`` with
the settings the engine used before batching (``today_translate`` below).

Sentences: ``--split tune`` draws them from the first half of the gold file
(used to choose the defaults), ``--split report`` (default) from the second
half, never used for tuning.

Quality: chrF of each path against the human references and against the
committed fixture (``tests/fixtures/ntrex128-dev.mt.en.txt``, today's path).
``--quality`` translates every line with the batched engine only and compares
its chrF with the fixture's: the issue's bar is "within 0.5".

Memory bandwidth: every decode pass reads all the weights, so the weight
traffic is passes x model bytes; divided by wall time it is compared with
the copy bandwidth numpy measures on this machine (read + write of a large
array), the ceiling for a decoder limited by memory rather than arithmetic.

``--processes N`` also compares one process decoding ``--parallel`` sentences
at once with N processes that each hold the model and decode one sentence at
a time with ``threads / N`` threads (the choice the corpus run must make).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sacrebleu.metrics import CHRF

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "corpus" / "ntrex128-dev" / "gold"
FIXTURE = ROOT / "tests" / "fixtures" / "ntrex128-dev.mt.en.txt"

from tarjama.text.normalize import normalize_text  # noqa: E402
from tarjama.translation.engines.local import SYSTEM_PROMPT, LocalEngine, clean_output, max_new_tokens  # noqa: E402
from tarjama.translation.model_store import ensure_model  # noqa: E402


@dataclass
class Tally:
    """What one path spent and produced over the chunks it translated."""

    name: str
    wall: float = 0.0
    cpu: float = 0.0
    sentences: int = 0
    generated: int = 0
    passes: int = 0

    def add(self, wall: float, cpu: float, sentences: int, generated: int, passes: int) -> None:
        self.wall += wall
        self.cpu += cpu
        self.sentences += sentences
        self.generated += generated
        self.passes += passes


def load_lines() -> tuple[list[str], list[str], list[str]]:
    sources = [
        normalize_text(line).strip() for line in (GOLD / "ntrex128-dev.ar.lines").read_text("utf-8").splitlines()
    ]
    references = (GOLD / "ntrex128-dev.en.lines").read_text("utf-8").splitlines()
    fixture = FIXTURE.read_text("utf-8").splitlines()
    assert len(sources) == len(references) == len(fixture), "gold and fixture line counts differ"
    return sources, references, fixture


def sample_indices(total: int, count: int, split: str) -> list[int]:
    """``count`` lines evenly spread over the first (tune) or second (report) half."""
    start, stop = (0, total // 2) if split == "tune" else (total // 2, total)
    step = (stop - start) / count
    return [start + int(i * step) for i in range(count)]


def today_model(path: Path, threads: int):
    """The Llama object exactly as the engine built it before batching."""
    from llama_cpp import Llama

    return Llama(model_path=str(path), n_ctx=4096, n_threads=threads, seed=0, verbose=False)


def today_translate(llm, sentence: str) -> tuple[str, int]:
    """The pre-batching ``LocalEngine.translate_one``; also returns the tokens sampled (end token included)."""
    reply = llm.create_chat_completion(
        messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": sentence}],
        temperature=0.0,
        seed=0,
        max_tokens=max_new_tokens(sentence),
    )
    choice = reply["choices"][0]
    text = clean_output(choice["message"]["content"] or "", sentence)
    return text, reply["usage"]["completion_tokens"] + (choice["finish_reason"] == "stop")


def timed(run: Callable[[], list[str]]) -> tuple[list[str], float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = run()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def copy_bandwidth(megabytes: int = 512, repeats: int = 5) -> float:
    """Bytes per second moved by numpy copying a large array (read + write), best of ``repeats``."""
    source = np.ones(megabytes * 2**20 // 8)
    target = np.empty_like(source)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - started)
    return 2 * source.nbytes / best


def chrf(hypotheses: Sequence[str], references: Sequence[str]) -> float:
    return CHRF().corpus_score(list(hypotheses), [list(references)]).score


def report(tally: Tally, model_bytes: int, bandwidth: float) -> None:
    traffic = tally.passes * model_bytes / tally.wall
    print(
        f"{tally.name:>8}: {tally.wall / tally.sentences:6.2f} s/sentence wall, "
        f"{tally.cpu / tally.sentences:6.2f} CPU-s/sentence, {tally.generated / tally.wall:5.1f} generated tok/s, "
        f"{model_bytes * tally.passes / tally.generated / 1e9:5.2f} GB read per generated token, "
        f"weight traffic {traffic / 1e9:5.2f} GB/s = {traffic / bandwidth:4.0%} of copy bandwidth"
    )


def compare(args: argparse.Namespace) -> None:
    sources, references, fixture = load_lines()
    indices = sample_indices(len(sources), args.sentences, args.split)
    path = ensure_model()
    engine = LocalEngine(model_path=path, threads=args.threads, parallel=args.parallel, repack=args.repack)
    llm = today_model(path, args.threads)
    model_bytes = path.stat().st_size
    today, batched = Tally("today"), Tally("batched")
    outputs: dict[str, dict[int, str]] = {"today": {}, "batched": {}}
    chunks = [indices[i : i + args.chunk] for i in range(0, len(indices), args.chunk)]
    print(f"{len(indices)} sentences ({args.split} half), chunks of {args.chunk}, {args.rounds} round(s)")

    def run_today(chunk: list[int]) -> None:
        generated: list[int] = []

        def go() -> list[str]:
            results = [today_translate(llm, sources[i]) for i in chunk]
            generated.extend(tokens for _, tokens in results)
            return [text for text, _ in results]

        texts, wall, cpu = timed(go)
        # one pass per sampled token: the prompt's gives the first, each token fed back the next
        today.add(wall, cpu, len(chunk), sum(generated), sum(generated))
        outputs["today"].update(zip(chunk, texts, strict=True))

    def run_batched(chunk: list[int]) -> None:
        before = (engine.decoding.generated_tokens, engine.decoding.passes)
        texts, wall, cpu = timed(lambda: list(engine.translate([sources[i] for i in chunk])))
        batched.add(
            wall, cpu, len(chunk), engine.decoding.generated_tokens - before[0], engine.decoding.passes - before[1]
        )
        outputs["batched"].update(zip(chunk, texts, strict=True))

    step, bandwidth = 0, 0.0
    for _ in range(args.rounds):
        for chunk in chunks:
            first, second = (run_today, run_batched) if step % 2 == 0 else (run_batched, run_today)
            first(chunk)
            second(chunk)
            step += 1
            bandwidth = max(bandwidth, copy_bandwidth())  # the best seen: the load varies
            print(f"  chunk {step}: today {today.wall:.0f} s, batched {batched.wall:.0f} s so far", flush=True)
    print(f"numpy copy bandwidth (best between chunks): {bandwidth / 1e9:.1f} GB/s; model {model_bytes / 1e9:.2f} GB")
    report(today, model_bytes, bandwidth)
    report(batched, model_bytes, bandwidth)
    print(
        f"speed-up batched/today: {today.wall / batched.wall:.2f}x wall, {today.cpu / batched.cpu:.2f}x CPU "
        f"(parallel={args.parallel}, threads={args.threads}, repack={args.repack})"
    )
    refs = [references[i] for i in indices]
    for name in ("today", "batched"):
        hyps = [outputs[name][i] for i in indices]
        same = sum(outputs[name][i] == fixture[i] for i in indices)
        print(
            f"{name:>8}: chrF {chrf(hyps, refs):5.2f} vs references, {chrf(hyps, [fixture[i] for i in indices]):6.2f}"
            f" vs fixture, {same}/{len(indices)} lines identical to the fixture"
        )
    print(f" fixture: chrF {chrf([fixture[i] for i in indices], refs):5.2f} vs references")


def quality(args: argparse.Namespace) -> None:
    sources, references, fixture = load_lines()
    engine = LocalEngine(model_path=ensure_model(), threads=args.threads, parallel=args.parallel, repack=args.repack)
    hyps, wall, cpu = timed(lambda: list(engine.translate(sources)))
    same = sum(a == b for a, b in zip(hyps, fixture, strict=True))
    print(
        f"all {len(sources)} lines batched: {wall / len(sources):.2f} s/sentence wall, {cpu / len(sources):.2f} CPU-s"
    )
    print(f"chrF vs references: batched {chrf(hyps, references):.2f}, fixture (today) {chrf(fixture, references):.2f}")
    print(f"batched vs fixture: chrF {chrf(hyps, fixture):.2f}, {same}/{len(sources)} lines identical")


def _worker(
    path: str,
    threads: int,
    parallel: int,
    sentences: list[str],
    ready,
    start,
    results,
) -> None:
    engine = LocalEngine(model_path=path, threads=threads, parallel=parallel)
    ready.put(os.getpid())
    start.wait()
    cpu = time.process_time()
    texts = list(engine.translate(sentences))
    results.put((texts, time.process_time() - cpu, engine.decoding.generated_tokens))


def run_processes(path: Path, groups: list[list[str]], threads: int, parallel: int) -> tuple[float, float, int]:
    """Wall and summed CPU seconds for ``len(groups)`` processes, each translating its group."""
    context = multiprocessing.get_context("spawn")
    ready, results, start = context.Queue(), context.Queue(), context.Event()
    workers = [
        context.Process(target=_worker, args=(str(path), threads, parallel, group, ready, start, results))
        for group in groups
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get()
    started = time.perf_counter()
    start.set()
    finished = [results.get() for _ in workers]
    wall = time.perf_counter() - started
    for worker in workers:
        worker.join()
    return wall, sum(cpu for _, cpu, _ in finished), sum(tokens for _, _, tokens in finished)


def processes(args: argparse.Namespace) -> None:
    sources, _, _ = load_lines()
    sentences = [sources[i] for i in sample_indices(len(sources), args.sentences, args.split)]
    path = ensure_model()
    n = args.processes
    split = [sentences[k::n] for k in range(n)]
    threads_each = max(1, args.threads // n)
    one, many = [0.0, 0.0, 0], [0.0, 0.0, 0]
    for round_ in range(args.rounds):
        order = [("one", [sentences], args.threads, args.parallel), ("many", split, threads_each, 1)]
        for name, groups, threads, parallel in order if round_ % 2 == 0 else order[::-1]:
            wall, cpu, tokens = run_processes(path, groups, threads, parallel)
            tally = one if name == "one" else many
            tally[0], tally[1], tally[2] = tally[0] + wall, tally[1] + cpu, tally[2] + tokens
            print(f"  {name}: {wall:.0f} s wall, {cpu:.0f} CPU-s", flush=True)
    count = len(sentences) * args.rounds
    print(
        f"1 process x {args.threads} threads x parallel {args.parallel}: {one[0] / count:.2f} s/sentence wall, "
        f"{one[1] / count:.2f} CPU-s/sentence, {one[2] / one[0]:.1f} tok/s"
    )
    print(
        f"{n} processes x {threads_each} thread(s) x parallel 1: {many[0] / count:.2f} s/sentence wall, "
        f"{many[1] / count:.2f} CPU-s/sentence, {many[2] / many[0]:.1f} tok/s"
    )
    print(f"one process / {n} processes: {many[0] / one[0]:.2f}x wall, {many[1] / one[1]:.2f}x CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=24)
    parser.add_argument("--split", choices=("tune", "report"), default="report")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--no-repack", dest="repack", action="store_false", help="keep the weights memory-mapped")
    parser.add_argument("--chunk", type=int, default=12, help="sentences per interleaved turn")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--quality", action="store_true", help="translate all lines batched; chrF vs the fixture")
    parser.add_argument("--processes", type=int, default=0, help="compare with N single-sequence processes")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the engine sets it, before llama.cpp loads
    if args.quality:
        quality(args)
    elif args.processes:
        processes(args)
    else:
        compare(args)


if __name__ == "__main__":
    sys.exit(main())
