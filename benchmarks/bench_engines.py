"""Requests and wall time per article: tarjama's web engines vs deep-translator's ``translate_batch``.

Both talk to the project's loopback server (``tests/loopback_services.py``),
which speaks Google's web endpoint and LibreTranslate's API and adds a fixed
``--latency`` per request (default 0.1 s, a typical round trip to a
translation service), so wall time reflects what the requests cost:

    .venv/bin/python benchmarks/bench_engines.py [--latency 0.1] [--engines google,libre]

For each engine it translates the seed article and the 40 ntrex128-dev
documents with tarjama (batched) and with deep-translator's own
``GoogleTranslator(...).translate_batch`` / ``LibreTranslator(...).translate_batch``
(one request per sentence), checks that both give the same translations,
and prints requests per article and total wall time. No rate limit is
applied (that is the flow's job), and nothing is cached between runs.

A last section injects a single HTTP 429 into each tool's run of the seed
article: tarjama waits and retries, deep-translator raises.

deep-translator's ``GoogleTranslator`` has no option for its URL: the
benchmark sets the instance's ``_base_url`` attribute (no code is patched).
``LibreTranslator`` takes ``custom_url``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from deep_translator import GoogleTranslator, LibreTranslator  # noqa: E402
from loopback_services import LoopbackServices  # noqa: E402

from tarjama.text.article import load_document  # noqa: E402
from tarjama.translation.engines import create_engine  # noqa: E402

SEED = ROOT / "corpus" / "morocco-us-counterterrorism.ar.txt"
NTREX = sorted((ROOT / "corpus" / "ntrex128-dev").glob("*.ar.txt"))


def deep_translator_for(engine: str, services: LoopbackServices):
    if engine == "google":
        translator = GoogleTranslator(source="ar", target="en")
        translator._base_url = services.url("google")
        return translator
    return LibreTranslator(source="ar", target="en", api_key="unused", custom_url=services.url("libre"))


def measure(
    services: LoopbackServices, service: str, translate: Callable[[Sequence[str]], list[str]], texts: Sequence[str]
) -> tuple[list[str], int, float]:
    before = len(services.requests(service))
    started = time.perf_counter()
    out = translate(texts)
    return out, len(services.requests(service)) - before, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the server takes per request")
    parser.add_argument("--engines", default="google,libre")
    options = parser.parse_args()
    documents = {
        "seed": [load_document(SEED, "ar").texts],
        "ntrex128-dev": [load_document(p, "ar").texts for p in NTREX],
    }

    print(f"loopback server latency {options.latency:g} s per request; requests counted by the server\n")
    header = f"{'engine':8} {'corpus':13} {'articles':>8} {'sentences':>9} {'requests':>17} {'per article':>17} {'ratio':>6} {'wall time (s)':>19}  same"
    print(header)
    print(
        f"{'':8} {'':13} {'':>8} {'':>9} {'tarjama':>8} {'d-t':>8} {'tarjama':>8} {'d-t':>8} {'':>6} {'tarjama':>9} {'d-t':>9}"
    )
    with LoopbackServices(latency=options.latency, lifetime=3600) as services:
        for name in options.engines.split(","):
            engine = create_engine(name, url=services.url(name))
            baseline = deep_translator_for(name, services)
            for corpus, docs in documents.items():
                ours = theirs = 0
                ours_time = theirs_time = 0.0
                same = True
                for texts in docs:
                    mine, requests, seconds = measure(
                        services, name, lambda t, engine=engine: list(engine.translate(t)), texts
                    )
                    ours, ours_time = ours + requests, ours_time + seconds
                    base, requests, seconds = measure(services, name, baseline.translate_batch, texts)
                    theirs, theirs_time = theirs + requests, theirs_time + seconds
                    same = same and mine == base
                sentences = sum(map(len, docs))
                print(
                    f"{name:8} {corpus:13} {len(docs):>8} {sentences:>9} {ours:>8} {theirs:>8} "
                    f"{ours / len(docs):>8.2f} {theirs / len(docs):>8.2f} {theirs / ours:>5.1f}x "
                    f"{ours_time:>9.2f} {theirs_time:>9.2f}  {'yes' if same else 'NO'}"
                )

        print("\none HTTP 429 (no Retry-After) during the seed article:")
        texts = documents["seed"][0]
        for name in options.engines.split(","):
            services.inject("429", service=name)
            engine = create_engine(name, url=services.url(name), backoff=0.5)
            started = time.perf_counter()
            list(engine.translate(texts))
            print(
                f"  {name:8} tarjama         : done after {engine.stats['retries']} retry, {time.perf_counter() - started:.2f} s"
            )
            services.inject("429", service=name)
            try:
                deep_translator_for(name, services).translate_batch(texts)
                outcome = "done"
            except Exception as error:  # what a deep-translator user sees
                outcome = f"raised {type(error).__name__}"
            print(f"  {name:8} deep-translator : {outcome}")


if __name__ == "__main__":
    main()
