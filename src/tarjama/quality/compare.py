"""Is engine A better than engine B on these articles, and is the difference real?

Paired significance tests exactly as sacrebleu defines them
(``sacrebleu.significance``, the CLI's ``--paired-bs`` and ``--paired-ar``):
the first system is the baseline; every other system is tested against it on
the same segments with BLEU, chrF, chrF++ and TER, and gets a p-value
(``(c + 1) / (n + 1)``, c counting resamples or trials whose statistic beats
the observed difference). The resampling indices, the AR coin flips and the
float32/float64 arithmetic are sacrebleu's, so the p-values, means and CIs
are the CLI's to the last digit (``tests/test_compare.py`` runs it); the
resampled scores are computed in bulk (:mod:`tarjama.quality.score`). One
exception: a system scoring exactly the baseline's gets p = 1, where sacrebleu's
formula gives (0 + 1) / (n + 1) and would call two identical systems different.

Beyond the CLI: per-article score deltas with a paired bootstrap interval
(articles are small, so most are marked ``small_sample``), and the rows whose
sentence chrF gains or loses most. :func:`common_segments` turns the aligned
rows of several runs into segments all runs share, since each engine's MT
aligns to the reference in its own beads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from sacrebleu.metrics.base import Metric

from tarjama.corpus.report import md_code
from tarjama.errors import TarjamaError, counted
from tarjama.quality.score import (
    MIN_SEGMENTS_FOR_CI,
    N_BOOTSTRAP,
    SEED,
    Statistics,
    bootstrap_indices,
    bootstrap_totals,
    corpus_metrics,
    resampled_totals,
    scores_from_totals,
    sentence_chrf_scores,
    shared_statistics,
)

TestType = Literal["bs", "ar"]
DEFAULT_SAMPLES: dict[str, int] = {"bs": 1000, "ar": 10000}
"""sacrebleu's defaults: 1,000 bootstrap resamples, 10,000 randomisation trials."""
SIGNIFICANT_BELOW = 0.05


@dataclass(frozen=True)
class System:
    """One engine's (or run's) translations of the shared segments."""

    name: str
    hypotheses: Sequence[str]


@dataclass(frozen=True)
class SystemScore:
    """One system's score on one metric; ``p_value`` is None for the baseline, ``mean``/``ci95`` without a bootstrap."""

    system: str
    metric: str
    baseline: bool
    score: float
    p_value: float | None
    mean: float | None
    ci95: float | None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < SIGNIFICANT_BELOW


@dataclass(frozen=True)
class ArticleDelta:
    """A system's score minus the baseline's on one article, with a paired bootstrap 95% CI half-width."""

    article_id: str
    system: str
    metric: str
    baseline_score: float
    system_score: float
    delta: float
    ci95: float | None
    segments: int
    small_sample: bool


@dataclass(frozen=True)
class RowDelta:
    """A row where a system's sentence chrF differs most from the baseline's."""

    article_id: str
    row: int
    system: str
    baseline_chrf: float
    system_chrf: float
    delta: float
    baseline_text: str
    system_text: str
    reference: str


@dataclass(frozen=True)
class Comparison:
    """Everything ``tarjama compare`` reports; ``as_dict`` is what goes into ``scores.json``."""

    test: TestType
    n_samples: int
    baseline: str
    segments: int
    small_sample: bool
    signatures: dict[str, str]
    scores: list[SystemScore]
    articles: list[ArticleDelta] = field(default_factory=list)
    gains: list[RowDelta] = field(default_factory=list)
    losses: list[RowDelta] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _estimate_ci(samples: np.ndarray) -> tuple[float, float]:
    """``sacrebleu.significance.estimate_ci``: mean of the sorted samples (in their precision) and CI half-width."""
    ordered = np.sort(samples)
    lower_idx = len(ordered) // 40
    return float(ordered.mean()), float(0.5 * (ordered[len(ordered) - lower_idx - 1] - ordered[lower_idx]))


def _p_value(statistics: np.ndarray, observed: float) -> float:
    """``sacrebleu.significance._compute_p_value``: (c + 1) / (n + 1), c the samples strictly above ``observed``."""
    return (int(np.sum(statistics > observed)) + 1) / (len(statistics) + 1)


FLIPS_AT_ONCE = 4_000_000
"""AR coin flips drawn and summed at once (about that many bytes, and 8 times as many for them as floats):
10,000 trials of 60,000 segments at once were 600 MB."""


def _randomised_totals(
    rng: np.random.Generator, n_trials: int, baseline: np.ndarray, system: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each AR trial's two pseudo-systems (segments swapped where its coin flip is true), summed, in float64.

    The flips are sacrebleu's ``rng.integers(2, size=(n_trials, n), dtype=bool)``, drawn a few trials at a
    time: numpy takes 32 flips from each random word and drops what a call leaves of its last one, so each
    call draws a multiple of 32 flips and the flips are the same as in one call."""
    n = len(baseline)
    first = np.empty((n_trials, baseline.shape[1]))
    second = np.empty_like(first)
    step = 32 // math.gcd(n, 32)  # trials whose flips fill whole words
    chunk = max(step, FLIPS_AT_ONCE // max(1, n) // step * step)
    for start in range(0, n_trials, chunk):
        flips = rng.integers(2, size=(min(chunk, n_trials - start), n), dtype=bool)
        from_baseline = flips.astype(np.float64)
        from_system = 1.0 - from_baseline
        first[start : start + len(flips)] = from_baseline @ baseline + from_system @ system
        second[start : start + len(flips)] = from_system @ baseline + from_baseline @ system
    return first, second


def _bootstrap_test(
    baseline_scores: np.ndarray, system_scores: np.ndarray, observed: float
) -> tuple[float, float | None, float | None]:
    """``_paired_bs_test``: a system's p-value against the baseline, and its bootstrap mean and CI, from the
    two systems' scores on the same resamples."""
    mean, ci = _estimate_ci(system_scores)
    differences = np.abs(system_scores - baseline_scores)
    return _p_value(differences - differences.mean(), observed), mean, ci


def _randomisation_test(
    metric: Metric,
    baseline_stats: np.ndarray,
    system_stats: np.ndarray,
    observed: float,
    n_samples: int,
    ar_confidence: int,
) -> tuple[float, float | None, float | None]:
    """``_ar_test``: a system's p-value against the baseline, and (``ar_confidence`` > 0) its bootstrap mean and CI."""
    rng = np.random.default_rng(SEED)
    first, second = _randomised_totals(rng, n_samples, baseline_stats, system_stats)
    p_value = _p_value(np.abs(scores_from_totals(metric, first) - scores_from_totals(metric, second)), observed)
    if ar_confidence <= 0:
        return p_value, None, None
    return (p_value, *_estimate_ci(scores_from_totals(metric, bootstrap_totals(system_stats, ar_confidence, rng=rng))))


Columns = dict[str, slice]
"""Where each metric's statistics are in a row of several metrics' statistics side by side."""


def _side_by_side(statistics: Statistics, metrics: Sequence[str]) -> tuple[np.ndarray, Columns]:
    """One system's statistics of ``metrics`` as one float64 matrix (a segment a row), and each metric's columns."""
    columns: Columns = {}
    start = 0
    for name in metrics:
        columns[name] = slice(start, start + statistics[name].shape[1])
        start = columns[name].stop
    return np.hstack([statistics[name] for name in metrics]).astype(np.float64), columns


def _article_rows(articles: Sequence[str]) -> dict[str, np.ndarray]:
    """Each article's segment numbers, articles in order of first appearance (one pass, not one per article)."""
    rows: dict[str, list[int]] = {}
    for i, article_id in enumerate(articles):
        rows.setdefault(article_id, []).append(i)
    return {article_id: np.array(numbers) for article_id, numbers in rows.items()}


ARTICLES_AT_ONCE = 25
"""Articles whose resampled statistics are scored together (25 x 1,000 resamples of two systems' four
metrics: about 11 MB): one numpy call for many articles instead of one per article."""


def _article_deltas(
    metrics: Mapping[str, Metric],
    baseline_stats: np.ndarray,
    system_stats: np.ndarray,
    columns: Columns,
    system: str,
    articles: Mapping[str, np.ndarray],
    n_samples: int,
) -> dict[str, list[ArticleDelta]]:
    """Per metric, each article's delta with a paired bootstrap CI (the same resampled segments for both systems).

    An article's resamples are drawn once (they depend on its size only) and count every metric's
    statistics of both systems in one product; articles are scored many at a time (a score depends on its
    own statistics only, so this changes no figure)."""
    width = baseline_stats.shape[1]
    both = np.hstack([baseline_stats, system_stats])
    sizes = np.array([len(rows) for rows in articles.values()])
    sums = np.add.reduceat(both[np.concatenate(list(articles.values()))], np.cumsum(sizes) - sizes, axis=0)
    halves = {name: (part, slice(part.start + width, part.stop + width)) for name, part in columns.items()}
    article_scores = {
        name: [scores_from_totals(metric, sums[:, half]).tolist() for half in halves[name]]
        for name, metric in metrics.items()
    }
    cis: dict[str, list[float | None]] = {name: [] for name in metrics}
    drawn: dict[int, np.ndarray] = {}
    items = list(articles.values())
    for first in range(0, len(items), ARTICLES_AT_ONCE):
        batch = items[first : first + ARTICLES_AT_ONCE]
        resampled = []
        for rows in batch:
            if len(rows) > 1:
                if len(rows) not in drawn:
                    drawn[len(rows)] = bootstrap_indices(len(rows), n_samples)
                resampled.append(resampled_totals(both[rows], drawn[len(rows)]))
        if not resampled:
            for name in metrics:
                cis[name] += [None] * len(batch)
            continue
        totals = np.concatenate(resampled)
        for name, metric in metrics.items():
            base, other = halves[name]
            differences = scores_from_totals(metric, totals[:, other]).astype(np.float64)
            differences -= scores_from_totals(metric, totals[:, base])
            drawn_at = iter(range(0, len(totals), n_samples))
            for rows in batch:
                if len(rows) > 1:
                    start = next(drawn_at)
                    cis[name].append(round(_estimate_ci(differences[start : start + n_samples])[1], 4))
                else:
                    cis[name].append(None)
    deltas: dict[str, list[ArticleDelta]] = {name: [] for name in metrics}
    for name in metrics:
        base_scores, other_scores = article_scores[name]
        for (article_id, rows), base_score, other_score, ci in zip(
            articles.items(), base_scores, other_scores, cis[name]
        ):
            deltas[name].append(
                ArticleDelta(
                    article_id=article_id,
                    system=system,
                    metric=name,
                    baseline_score=round(base_score, 4),
                    system_score=round(other_score, 4),
                    delta=round(other_score - base_score, 4),
                    ci95=ci,
                    segments=len(rows),
                    small_sample=len(rows) < MIN_SEGMENTS_FOR_CI,
                )
            )
    return deltas


def _row_deltas(
    references: Sequence[str],
    baseline: System,
    system: System,
    articles: Sequence[str],
    top: int,
    baseline_chrf: Sequence[float],
    system_chrf: Sequence[float],
) -> tuple[list[RowDelta], list[RowDelta]]:
    """The ``top`` rows with the largest sentence-chrF gain and loss against the baseline (each row's
    :func:`~tarjama.quality.score.sentence_chrf`, from its chrF statistics)."""
    numbers: dict[str, int] = {}
    rows = []
    for ref, base, other, article_id, base_value, other_value in zip(
        references, baseline.hypotheses, system.hypotheses, articles, baseline_chrf, system_chrf
    ):
        numbers[article_id] = numbers.get(article_id, 0) + 1
        base_chrf, other_chrf = round(base_value, 4), round(other_value, 4)
        rows.append(
            RowDelta(
                article_id=article_id,
                row=numbers[article_id],
                system=system.name,
                baseline_chrf=base_chrf,
                system_chrf=other_chrf,
                delta=round(other_chrf - base_chrf, 4),
                baseline_text=base,
                system_text=other,
                reference=ref,
            )
        )
    ranked = sorted(rows, key=lambda r: r.delta)
    return [r for r in reversed(ranked[-top:]) if r.delta > 0], [r for r in ranked[:top] if r.delta < 0]


def compare_systems(
    references: Sequence[str],
    systems: Sequence[System],
    test: TestType = "bs",
    n_samples: int = 0,
    ar_confidence: int = -1,
    articles: Sequence[str] | None = None,
    top_rows: int = 5,
) -> Comparison:
    """Test every system against the first (the baseline) on the same segments, as ``sacrebleu --paired-<test>``.

    ``n_samples`` 0 takes sacrebleu's default for the test; ``ar_confidence``
    is sacrebleu's ``n_ar_confidence`` (bootstrap resamples for a CI with AR;
    -1, the CLI's setting, for none). ``articles`` gives each segment's
    article (one article for all when omitted).

    Each system's statistics are extracted once for all metrics
    (:func:`~tarjama.quality.score.shared_statistics`: the same numbers as
    sacrebleu's, in chunks, so sacrebleu's reference cache stays small, and
    each chunk's references prepared once for all systems) and
    give its corpus scores, its rows' sentence chrF and its articles' scores.
    sacrebleu's bootstrap draws the same resamples for every metric and
    system (one generator, one seed), so with ``bs`` they are drawn once, a
    few at a time, and count all systems' statistics together.
    """
    if len(systems) < 2:
        raise TarjamaError("a comparison needs a baseline and at least one other system")
    if test not in DEFAULT_SAMPLES:
        raise TarjamaError(f"unknown paired test {test!r} (choose 'bs' or 'ar')")
    for system in systems:
        if len(system.hypotheses) != len(references):
            raise TarjamaError(
                f"system {system.name!r} has {len(system.hypotheses)} segments, the references {len(references)}"
            )
    if not references:
        raise TarjamaError("nothing to compare: no segments")
    if len({s.name for s in systems}) != len(systems):
        raise TarjamaError("system names must differ: " + ", ".join(s.name for s in systems))
    n_samples = n_samples or DEFAULT_SAMPLES[test]
    article_ids = list(articles) if articles is not None else [""] * len(references)
    metrics = corpus_metrics()
    names = list(metrics)
    statistics = shared_statistics([s.hypotheses for s in systems], references)
    sentence_chrfs = [sentence_chrf_scores(stats["chrF"]) for stats in statistics]
    stacked = [_side_by_side(stats, names) for stats in statistics]
    columns = stacked[0][1]
    matrices = [matrix for matrix, _ in stacked]
    del statistics, stacked
    width = matrices[0].shape[1]
    confidence = n_samples if test == "bs" else ar_confidence
    resampled = None  # every system's resampled totals side by side (bs), or the baseline's (ar)
    if confidence > 0:
        together = np.hstack(matrices) if test == "bs" else matrices[0]
        resampled = bootstrap_totals(together, confidence)
    sums = [matrix.sum(axis=0) for matrix in matrices]
    scores: list[SystemScore] = []
    signatures: dict[str, str] = {}
    deltas: dict[str, list[ArticleDelta]] = {name: [] for name in names}
    for name, metric in metrics.items():
        metric.num_refs = 1  # as sacrebleu records it when extracting against one reference stream
        part = columns[name]
        baseline_score = metric._compute_score_from_stats(sums[0][part].tolist()).score
        mean = ci = None
        baseline_samples = None
        if resampled is not None:
            baseline_samples = scores_from_totals(metric, resampled[:, part])
            mean, ci = _estimate_ci(baseline_samples)
        scores.append(SystemScore(systems[0].name, name, True, float(baseline_score), None, mean, ci))
        signature = metric.get_signature()
        signature.update("seed", str(SEED))
        signature.update(test, n_samples)
        if test == "ar" and ar_confidence > 0:
            signature.update("bs", ar_confidence)
        signatures[name] = signature.format()
        for i, system in enumerate(systems[1:], start=1):
            system_score = float(metric._compute_score_from_stats(sums[i][part].tolist()).score)
            observed = abs(baseline_score - system_score)
            if test == "bs" and resampled is not None and baseline_samples is not None:
                system_part = slice(part.start + i * width, part.stop + i * width)
                system_samples = scores_from_totals(metric, resampled[:, system_part])
                p_value, mean, ci = _bootstrap_test(baseline_samples, system_samples, observed)
            else:
                p_value, mean, ci = _randomisation_test(
                    metric, matrices[0][:, part], matrices[i][:, part], observed, n_samples, ar_confidence
                )
            if observed == 0.0:  # nothing to test: sacrebleu's (0 + 1) / (n + 1) calls equal scores significant
                p_value = 1.0
            scores.append(SystemScore(system.name, name, False, system_score, p_value, mean, ci))
    if articles is not None:
        groups = _article_rows(article_ids)
        for i, system in enumerate(systems[1:], start=1):
            by_metric = _article_deltas(metrics, matrices[0], matrices[i], columns, system.name, groups, N_BOOTSTRAP)
            for name in names:
                deltas[name] += by_metric[name]
    gains: list[RowDelta] = []
    losses: list[RowDelta] = []
    for i, system in enumerate(systems[1:], start=1):
        system_gains, system_losses = _row_deltas(
            references, systems[0], system, article_ids, top_rows, sentence_chrfs[0], sentence_chrfs[i]
        )
        gains += system_gains
        losses += system_losses
    return Comparison(
        test=test,
        n_samples=n_samples,
        baseline=systems[0].name,
        segments=len(references),
        small_sample=len(references) < MIN_SEGMENTS_FOR_CI,
        signatures=signatures,
        scores=scores,
        articles=[delta for name in names for delta in deltas[name]],
        gains=gains,
        losses=losses,
    )


@dataclass(frozen=True)
class Segments:
    """Segments that every run covers identically: references, each run's MT, and each segment's article."""

    articles: list[str]
    references: list[str]
    hypotheses: dict[str, list[str]]


def _ids(cell: str) -> list[str]:
    return [x for x in cell.split(",") if x]


Bead = tuple[list[str], str, str, str]  # nodes ("u3.2" or "s3", "r2"), Arabic, MT text, reference text
Row = tuple[str, str, str, str, str, str]  # source_ids, source_units, reference_ids, Arabic, MT, reference
Segment = tuple[str, dict[str, str], dict[str, str]]  # reference text, MT per run, Arabic per run


def _root(parent: dict[str, str], node: str) -> str:
    while parent.setdefault(node, node) != node:
        node = parent[node]
    return node


def _article_segments(beads: dict[str, list[Bead]], first: str) -> list[Segment]:
    """Union the nodes every run's beads join; each group is a segment (reference text, MT and Arabic per run)."""
    parent: dict[str, str] = {}
    for rows in beads.values():
        for nodes, _, _, _ in rows:
            for node in nodes[1:]:
                parent[_root(parent, node)] = _root(parent, nodes[0])
    references: dict[str, list[str]] = {}  # in document order: every node is in the first run's rows
    texts: dict[str, dict[str, list[str]]] = {name: {} for name in beads}
    arabic: dict[str, dict[str, list[str]]] = {name: {} for name in beads}
    for nodes, _, _, text in beads[first]:
        references.setdefault(_root(parent, nodes[0]), []).append(text)
    for name, rows in beads.items():
        for nodes, source, mt, _ in rows:
            texts[name].setdefault(_root(parent, nodes[0]), []).append(mt)
            arabic[name].setdefault(_root(parent, nodes[0]), []).append(source)
    return [
        (
            _joined(parts),
            {name: _joined(texts[name].get(group, [])) for name in beads},
            {name: _joined(arabic[name].get(group, [])) for name in beads},
        )
        for group, parts in references.items()
    ]


def _joined(texts: list[str]) -> str:
    return " ".join(t for t in texts if t)


def _pairs(keys: list[tuple[str, str]], shown: int = 3) -> str:
    """``a (reference en), b (reference en-b) and 2 more``: (article, reference) pairs for a message."""
    text = ", ".join(f"{article} (reference {reference})" for article, reference in keys[:shown])
    return text + (f" and {len(keys) - shown} more" if len(keys) > shown else "")


def _beads(rows: Sequence[Row], units: bool) -> list[Bead]:
    return [
        (
            ([f"u{u}" for u in _ids(unit_ids)] if units else [f"s{i}" for i in _ids(sentence_ids)])
            + [f"r{j}" for j in _ids(reference_ids)],
            arabic,
            mt,
            text,
        )
        for sentence_ids, unit_ids, reference_ids, arabic, mt, text in rows
    ]


def _same_cover(beads: dict[str, list[Bead]]) -> bool:
    covered = [{node for nodes, _, _, _ in table for node in nodes} for table in beads.values()]
    return all(c == covered[0] for c in covered)


def _shared_segments(article_id: str, reference: str, rows: dict[str, list[Row]]) -> list[Segment]:
    """An article's segments on clause units when every run's rows name the same units over the same
    Arabic, else on sentences (runs whose clause splitters differ, rows written without units)."""
    first = next(iter(rows))
    if all(units or not sentences for table in rows.values() for sentences, units, *_ in table):
        beads = {name: _beads(table, units=True) for name, table in rows.items()}
        if _same_cover(beads):
            segments = _article_segments(beads, first)
            if all(len(set(arabic.values())) == 1 for _, _, arabic in segments):
                return segments
    beads = {name: _beads(table, units=False) for name, table in rows.items()}
    if not _same_cover(beads):
        raise TarjamaError(f"{article_id}: runs cover different sentences (reference {reference!r})")
    return _article_segments(beads, first)


def common_segments(runs: Mapping[str, pl.DataFrame]) -> Segments:
    """The finest segmentation on which all runs' aligned rows agree, from their ``source_units`` (or
    ``source_ids``) and ``reference_ids``.

    Each run aligns its own MT to the reference, so runs' beads differ; a
    segment here is a group of source units and reference sentences that no
    run's row crosses (the connected components of all runs' beads), with
    each run's MT for it and the reference text, in document order. Units,
    not sentences, so that two rows sharing an Arabic sentence (rows of clause
    units) stay two segments: a run compared with itself has its rows as
    segments and its ``scores.json`` scores. A ``--rows sentences`` row names
    every unit of its sentences, so it joins them. Where runs split a sentence
    into units differently (or rows do not name units), segments are built on
    sentences. Rows without a reference are ignored; every run must cover the
    same articles, source sentences and reference sentences.
    """
    if len(runs) < 2:
        raise TarjamaError("a comparison needs at least two runs")
    frames = {name: frame.filter(pl.col("reference") != "") for name, frame in runs.items()}
    names = list(frames)
    keys = {name: set(zip(f["article_id"].to_list(), f["reference"].to_list())) for name, f in frames.items()}
    for name in names[1:]:
        if keys[name] != keys[names[0]]:
            only = [
                f"only in {run!r}: " + _pairs(sorted(keys[run] - keys[other]))
                for run, other in ((names[0], name), (name, names[0]))
                if keys[run] - keys[other]
            ]
            raise TarjamaError(
                f"runs {names[0]!r} and {name!r} cover different articles or references ({'; '.join(only)})"
            )
    columns = ("source_ids", "source_units", "reference_ids", "arabic", "english_mt", "english_reference")
    segments = Segments([], [], {name: [] for name in names})
    # each run's rows grouped once (a filter per article read every row once per article)
    grouped = {
        name: f.sort("article_id", "reference", "row").partition_by("article_id", "reference", as_dict=True)
        for name, f in frames.items()
    }
    for article_id, reference in sorted(keys[names[0]]):
        rows = {name: parts[article_id, reference].select(columns).rows() for name, parts in grouped.items()}
        for reference_text, texts, _ in _shared_segments(article_id, reference, rows):
            segments.articles.append(article_id)
            segments.references.append(reference_text)
            for name, text in texts.items():
                segments.hypotheses[name].append(text)
    return segments


def _cell(score: SystemScore) -> str:
    text = f"{score.score:.2f}"
    if score.mean is not None and score.ci95 is not None:
        text += f" (μ {score.mean:.2f} ± {score.ci95:.2f})"
    if score.p_value is not None:
        text += f" p = {score.p_value:.4f}" + ("*" if score.significant else "")
    return text


def render_comparison(comparison: Comparison, top_rows: int = 5, max_articles: int | None = None) -> str:
    """Markdown (also readable on a console): scores with p-values, per-article deltas, biggest row changes.

    ``max_articles`` (a console's): at most that many per-article lines, those with enough segments and the
    largest chrF change first, and a line saying how many more the report holds."""
    metrics = list(comparison.signatures)
    test = "paired bootstrap resampling" if comparison.test == "bs" else "paired approximate randomisation"
    lines = [
        f"## Comparison with baseline {md_code(comparison.baseline)}",
        "",
        f"{test}, {comparison.n_samples} {'resamples' if comparison.test == 'bs' else 'trials'}, "
        f"{comparison.segments} segments; * p < {SIGNIFICANT_BELOW} (the difference is unlikely to be chance).",
    ]
    if comparison.small_sample:
        lines += [
            "",
            f"**Warning:** only {counted(comparison.segments, 'segment')} (fewer than {MIN_SEGMENTS_FOR_CI}): "
            "intervals and p-values rest on too few segments to mean much.",
        ]
    lines += ["", "| system | " + " | ".join(metrics) + " |", "|---|" + "---:|" * len(metrics)]
    systems = list(dict.fromkeys(s.system for s in comparison.scores))
    by_key = {(s.system, s.metric): s for s in comparison.scores}
    for system in systems:
        label = f"baseline: {system}" if system == comparison.baseline else system
        lines.append(f"| {label} | " + " | ".join(_cell(by_key[system, m]) for m in metrics) + " |")
    lines += ["", "Signatures:", ""] + [f"- {m}: {md_code(sig)}" for m, sig in comparison.signatures.items()]
    if comparison.articles:
        lines += ["", "### Per article (system − baseline, paired bootstrap 95% CI)", ""]
        lines += [
            "| article | system | " + " | ".join(metrics) + " | segments |",
            "|---|---|" + "---:|" * (len(metrics) + 1),
        ]
        grouped: dict[tuple[str, str], dict[str, ArticleDelta]] = {}
        for delta in comparison.articles:
            grouped.setdefault((delta.article_id, delta.system), {})[delta.metric] = delta
        shown = list(grouped.items())
        if max_articles is not None and len(shown) > max_articles:
            ranked = {key: by_metric.get("chrF") or next(iter(by_metric.values())) for key, by_metric in shown}
            shown.sort(key=lambda item: (ranked[item[0]].small_sample, -abs(ranked[item[0]].delta)))
            shown = shown[:max_articles]
        for (article_id, system), by_metric in shown:
            cells = [
                f"{d.delta:+.2f}" + (f" ± {d.ci95:.2f}" if d.ci95 is not None else "")
                for d in (by_metric[m] for m in metrics)
            ]
            first = next(iter(by_metric.values()))
            small = " (too few)" if first.small_sample else ""
            lines.append(f"| {article_id} | {system} | " + " | ".join(cells) + f" | {first.segments}{small} |")
        if len(shown) < len(grouped):
            lines += ["", f"... and {len(grouped) - len(shown)} more (the report has every article)."]
    for title, rows in (("Biggest gains", comparison.gains), ("Biggest losses", comparison.losses)):
        if rows:
            lines += [
                "",
                f"### {title} (sentence chrF)",
                "",
                "| article | row | system | Δ chrF | baseline | system | reference |",
                "|---|---:|---|---:|---|---|---|",
            ]
            for r in rows[:top_rows]:
                texts = (_table_text(t) for t in (r.baseline_text, r.system_text, r.reference))
                lines.append(f"| {r.article_id} | {r.row} | {r.system} | {r.delta:+.2f} | " + " | ".join(texts) + " |")
    return "\n".join(lines) + "\n"


def _table_text(text: str, limit: int = 160) -> str:
    """A text for a markdown cell: pipes escaped, long text shortened."""
    text = text.replace("|", r"\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class ComparisonRun:
    """What ``tarjama compare`` made: the comparison, its Markdown report, and the folder holding them."""

    comparison: Comparison
    report: str
    folder: Path


def system_labels(paths: Sequence[Path]) -> list[str]:
    """A name for each run folder or translation file, its links resolved (``A/latest`` is the run it points
    to); a name two systems share is told apart by the folders above it. Two paths to one place are an error."""
    resolved = [path.resolve() for path in paths]
    for i, path in enumerate(resolved):
        if path in resolved[:i]:
            raise TarjamaError(f"{paths[resolved.index(path)]} and {paths[i]} are the same system ({path})")
    depth = 1
    while True:
        names = ["/".join(path.parts[-depth:]) for path in resolved]
        if len(set(names)) == len(names) or depth >= max(len(p.parts) for p in resolved):
            return names
        depth += 1


def read_rows(folder: Path) -> pl.DataFrame:
    """A run folder's rows: its ``aligned.parquet`` (every run writes it, whatever its ``--format``), else
    its ``aligned.tsv``."""
    from tarjama.corpus.readers import read_parquet
    from tarjama.corpus.schema import SCHEMA, read_tsv

    if (folder / "aligned.parquet").is_file():
        return read_parquet(folder / "aligned.parquet", columns=list(SCHEMA))
    if (folder / "aligned.tsv").is_file():
        return read_tsv(folder / "aligned.tsv")
    raise TarjamaError(
        f"{folder}: not a run folder (no aligned.parquet nor aligned.tsv); give translation files with --ref"
    )


def compare_runs(systems: Sequence[Path], ref: Path | None, test: str, samples: int, out: Path) -> ComparisonRun:
    """Compare run folders (their rows: :func:`read_rows`), or translation files against ``ref``, and write the
    report, ``scores.json`` and per-article delta plots into a new ``<out>/compare-<time>/``.

    The folder is its own: ``<out>/latest`` keeps pointing at the newest run. Every problem with the
    inputs is a :class:`TarjamaError` raised before anything is written.
    """
    from tarjama.corpus.outputs import check_output_folder, new_run_name, staged_run_folder
    from tarjama.corpus.plots import plot_article_deltas
    from tarjama.corpus.results import SCHEMA_VERSION
    from tarjama.corpus.schema import write_json, write_text
    from tarjama.quality.score import read_lines

    if len(systems) < 2:
        raise TarjamaError("compare needs a baseline and at least one other system")
    if test not in ("bs", "ar"):
        raise TarjamaError(f"--test {test!r}: bs (paired bootstrap) or ar (approximate randomisation)")
    check_output_folder(out)
    articles = None
    if ref is not None:
        references = read_lines(ref)
        named = [System(label, read_lines(path)) for label, path in zip(system_labels(systems), systems)]
    else:
        frames = {name: read_rows(folder) for name, folder in zip(system_labels(systems), systems)}
        segments = common_segments(frames)
        references, articles = segments.references, segments.articles
        named = [System(name, segments.hypotheses[name]) for name in frames]
    comparison = compare_systems(references, named, test, samples, articles=articles)  # type: ignore[arg-type]
    report = render_comparison(comparison)
    folder_name = f"compare-{new_run_name([])}"
    with staged_run_folder(out, folder_name, latest=False) as staging:
        images = []
        for metric in ("chrF", "BLEU") if comparison.articles else ():
            plot = plot_article_deltas(
                comparison.articles, metric, staging / "plots" / f"deltas-{metric}.png", comparison.baseline
            )
            images.append(f"![{plot.title}](plots/deltas-{metric}.png)")
            if plot.warning:
                images.append(f"**Warning:** {plot.warning}")
        write_text(report + "\n" + "\n\n".join(images) + "\n", staging / "report.md")
        write_json({"schema_version": SCHEMA_VERSION, "comparison": comparison.as_dict()}, staging / "scores.json")
    return ComparisonRun(comparison, report, out / folder_name)
