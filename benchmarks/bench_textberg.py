"""Alignment on Text+Berg (Bleualign's public evaluation set): real translations, gold by Sennrich & Volk.

    git --git-dir=<mirror of rsennrich/Bleualign> archive HEAD | tar -x -C /tmp/bleualign
    .venv/bin/python -m benchmarks.bench_textberg --data /tmp/bleualign --set dev    # eval1957: tune here
    .venv/bin/python -m benchmarks.bench_textberg --data /tmp/bleualign --set test   # eval1989: report once

German source (``evalYYYY.de``), French target (``evalYYYY.fr``) and a machine translation of the
source into French (``--mt``, default ``google``: ``evalYYYY.google.fr``), one sentence a line;
the test set holds 7 articles between ``.EOA`` lines, each scored against its gold
(``goldeval.gold[gold1990map[k]]``); the development set is one article (``golddev.goldalign``).
The data is read from the checkout given, never copied into this repository.

Methods: ``tarjama+src`` (:func:`tarjama.alignment.align.align`, MT against the target, German lengths as
the length predictor: what ``tarjama`` does by default), ``tarjama`` (MT lengths),
``gale-church`` (German against French by lengths alone) and ``bleualign``
(``benchmarks.bleualign``). Strict and lax F1 as Vecalign's scorer, summed over articles.
"""

from __future__ import annotations

import argparse
import ast
from collections.abc import Sequence
from pathlib import Path

from benchmarks.alignment_data import BeadScores, FlagScores, GoldBead
from benchmarks.bleualign import align as bleualign
from tarjama.alignment.align import align
from tarjama.alignment.gale_church import align_lengths

MARKER = ".EOA"


def _articles(path: Path, like: Path | None = None) -> list[list[str]]:
    """The articles of a file, split at its ``.EOA`` lines, or at those of ``like`` (a machine translation
    is line-aligned with its source but may have rendered the marker as ". EOA")."""
    lines = path.read_text(encoding="utf-8").splitlines()
    markers = (like or path).read_text(encoding="utf-8").splitlines()
    if len(markers) != len(lines):
        raise SystemExit(f"{path}: {len(lines)} lines, {like} has {len(markers)}")
    articles: list[list[str]] = [[]]
    for line, marker in zip(lines, markers):
        if marker.strip() == MARKER:
            articles.append([])
        else:
            articles[-1].append(line.strip())
    return [article for article in articles if article]


def _gold(path: Path, name: str) -> list[list[GoldBead]]:
    """Gold beads per article from Bleualign's ``golddev.py`` / ``goldeval.py`` (Python literals, read as data)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    values: dict[str, object] = {}
    gold_by_article: dict[int, list] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1:
            continue
        target = node.targets[0]
        if isinstance(target, ast.Name):
            values[target.id] = ast.literal_eval(node.value)
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name) and target.value.id == "gold":
            gold_by_article[ast.literal_eval(target.slice)] = ast.literal_eval(node.value)
    if name == "dev":
        articles = [values["goldalign"]]
    else:
        mapping = values["gold1990map"]
        assert isinstance(mapping, dict)
        articles = [gold_by_article[mapping[k]] for k in sorted(mapping)]
    return [[(tuple(src), tuple(tgt)) for src, tgt in article] for article in articles]  # type: ignore[attr-defined]


def evaluate(data: Path, name: str, mt_name: str) -> None:
    stem = data / "eval" / ("eval1957" if name == "dev" else "eval1989")
    german = _articles(stem.with_suffix(".de"))
    french = _articles(stem.with_suffix(".fr"))
    mt = _articles(Path(f"{stem}.{mt_name}.fr"), like=stem.with_suffix(".de"))
    gold = _gold(data / "eval" / ("golddev.py" if name == "dev" else "goldeval.py"), name)
    if not len(german) == len(french) == len(mt) == len(gold):
        raise SystemExit(f"{stem}: {len(german)}, {len(french)}, {len(mt)} articles and {len(gold)} gold alignments")
    print(f"Text+Berg {stem.name} ({name}), MT {mt_name}: {len(gold)} articles, {sum(map(len, german))} sentences")
    print(f"{'method':<12} {'strict P':>8} {'strict R':>8} {'strict F1':>9} {'lax F1':>7} {'flag P':>6} {'flag R':>6}")
    for method in ("tarjama+src", "tarjama", "gale-church", "bleualign"):
        scores, flags = BeadScores(), FlagScores()
        for source, target, translation, beads_gold in zip(german, french, mt, gold):
            if len(translation) != len(source):
                raise SystemExit(
                    f"{stem}.{mt_name}.fr: an article has {len(translation)} lines, its source {len(source)}"
                )
            if method == "tarjama+src":
                beads = align(translation, target, source=source)
            elif method == "tarjama":
                beads = align(translation, target)
            elif method == "gale-church":
                beads = align_lengths(source, target)
            else:
                beads = bleualign(translation, target)
            scores.add([(b.source, b.reference) for b in beads], beads_gold)
            flags.add([((b.source, b.reference), b.confidence) for b in beads], beads_gold)
        p, r, f = scores.strict()
        print(
            f"{method:<12} {p:8.3f} {r:8.3f} {f:9.3f} {scores.lax()[2]:7.3f} {flags.precision():6.3f} {flags.recall():6.3f}"
        )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a checkout of rsennrich/Bleualign")
    parser.add_argument("--set", choices=("dev", "test"), default="dev", help="dev: eval1957; test: eval1989")
    parser.add_argument("--mt", default="google", help="which MT of the German: evalYYYY.<mt>.fr")
    args = parser.parse_args(argv)
    evaluate(args.data, args.set, args.mt)


if __name__ == "__main__":
    main()
