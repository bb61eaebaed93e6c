"""The input check "not English" on English that must pass: NTREX dev's references and the local
engine's MT, each line alone (headlines and short lines are the hard cases) and each document whole.

    .venv/bin/python -m benchmarks.bench_reference_language

For each half (even-numbered documents, where the thresholds were chosen, and the odd ones held out):
how many texts the check refuses, how many reach the language identifier (few common English words
and at least ``MIN_WORDS_JUDGED`` words), and the lowest probability of English among those, which
must stay above ``MAX_ENGLISH_PROBABILITY``.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.alignment_data import MT_FIXTURE, load_documents
from tarjama.errors import InputError
from tarjama.text.article import _ENGLISH_MARKERS, _WORD, MIN_WORDS_JUDGED, parse_document
from tarjama.text.language import language_identifier


def judged(text: str) -> bool:
    """Whether the check asks the identifier about ``text`` (the common-word share and length let it pass)."""
    words = [w.lower() for w in _WORD.findall(text)]
    return (
        bool(words) and sum(w in _ENGLISH_MARKERS for w in words) / len(words) < 0.05 and len(words) >= MIN_WORDS_JUDGED
    )


def measure(texts: list[str]) -> tuple[int, int, float | None]:
    refused = 0
    for text in texts:
        try:
            parse_document(text, Path("text.en.txt"), "en")
        except InputError:
            refused += 1
    asked = [text for text in texts if judged(text)]
    lowest = min((dict(language_identifier().rank(t)).get("en", 0.0) for t in asked), default=None)
    return refused, len(asked), lowest


def main() -> None:
    print(f"{'texts':<28} {'half':<5} {'count':>6} {'refused':>8} {'judged':>7} {'lowest P(en)':>13}")
    for side in ("reference", "MT"):
        documents = load_documents(MT_FIXTURE)
        for half, keep in (("even", 0), ("odd", 1)):
            picked = [d for k, d in enumerate(documents) if k % 2 == keep]
            column = 1 if side == "reference" else 0
            lines = [pair[column] for d in picked for pair in d if pair[column].strip()]
            whole = ["\n".join(pair[column] for pair in d) for d in picked]
            for what, texts in ((f"{side} lines", lines), (f"{side} documents", whole)):
                refused, asked, lowest = measure(texts)
                shown = "-" if lowest is None else f"{lowest:.3f}"
                print(f"{what:<28} {half:<5} {len(texts):>6} {refused:>8} {asked:>7} {shown:>13}")


if __name__ == "__main__":
    main()
