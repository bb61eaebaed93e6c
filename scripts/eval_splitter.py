"""Score the sentence splitter against the NTREX-128 gold sentence boundaries.

Usage: .venv/bin/python scripts/eval_splitter.py

Each gold line is one sentence and a document's lines are consecutive. The
(normalised) lines are joined with single spaces into paragraphs, split with
``split_sentences``, and the predicted boundaries inside each paragraph are
compared with the gold ones. A boundary is the number of non-space characters
before it, so the score does not depend on how either side spaces the text.

Two setups, both printed:
- ``document``: the whole document is one paragraph, headline included.
  Headlines (and a few subheads and bylines) end without punctuation, so 8-9%
  of these gold boundaries are invisible to any punctuation-based splitter.
- ``headline``: the headline is a paragraph of its own and the body another,
  as ``scripts/import_ntrex.py`` lays out the corpus files the pipeline reads.

Imported by ``tests/test_segment.py``; kept out of the library because
evaluation is not part of the pipeline.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from itertools import accumulate, groupby
from pathlib import Path

from tarjama.text.normalize import normalize_text
from tarjama.text.segment import LANGS, split_sentences

GOLD = Path(__file__).resolve().parent.parent / "corpus" / "ntrex128-dev" / "gold"


@dataclass(frozen=True)
class BoundaryScore:
    """Boundary counts over a set of paragraphs; precision, recall and F1 derive from them."""

    paragraphs: int
    gold: int
    predicted: int
    true_positives: int

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.gold if self.gold else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def _gold_lines(name: str) -> list[str]:
    return (GOLD / f"ntrex128-dev.{name}.lines").read_text(encoding="utf-8").splitlines()


def gold_documents(lang: str) -> list[list[str]]:
    """The gold sentences of each document, in corpus order."""
    rows = zip(_gold_lines("docids"), _gold_lines(lang), strict=True)
    return [[normalize_text(line) for _, line in group] for _, group in groupby(rows, key=lambda row: row[0])]


def paragraphs(documents: list[list[str]], headline_apart: bool) -> list[list[str]]:
    """The gold sentences of each paragraph: one per document, or headline and body apart."""
    if not headline_apart:
        return documents
    return [part for sentences in documents for part in (sentences[:1], sentences[1:]) if part]


def boundaries(sentences: list[str]) -> set[int]:
    """Offsets, in non-space characters, between consecutive sentences."""
    lengths = (len("".join(sentence.split())) for sentence in sentences[:-1])
    return set(accumulate(lengths))


def boundary_score(paragraph_sentences: list[list[str]], lang: str) -> BoundaryScore:
    """Split each paragraph, given as its gold sentences, and count boundary hits."""
    gold = predicted = hits = 0
    for sentences in paragraph_sentences:
        expected = boundaries(sentences)
        found = boundaries(split_sentences(" ".join(sentences), lang))
        gold, predicted, hits = gold + len(expected), predicted + len(found), hits + len(expected & found)
    return BoundaryScore(len(paragraph_sentences), gold, predicted, hits)


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    print(f"{'setup':<10}{'lang':<5}{'docs':>5}{'paras':>6}{'gold':>6}{'pred':>6}{'tp':>6}{'P':>7}{'R':>7}{'F1':>7}")
    for headline_apart, setup in ((False, "document"), (True, "headline")):
        for lang in LANGS:
            documents = gold_documents(lang)
            s = boundary_score(paragraphs(documents, headline_apart), lang)
            print(
                f"{setup:<10}{lang:<5}{len(documents):>5}{s.paragraphs:>6}{s.gold:>6}{s.predicted:>6}"
                f"{s.true_positives:>6}{s.precision:>7.3f}{s.recall:>7.3f}{s.f1:>7.3f}"
            )


if __name__ == "__main__":
    main()
