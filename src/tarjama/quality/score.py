"""Translation quality with sacrebleu: corpus scores with 95% bootstrap CIs, and per-row scores.

We use sacrebleu's own metric classes and keep their signatures, so every
figure tarjama reports can be reproduced with ``sacrebleu`` on the command
line from the aligned TSV's columns (``tests/test_score.py`` runs the CLI).

Some things are faster than calling ``corpus_score(..., n_bootstrap=1000)``:
TER's per-segment statistics come from :class:`tarjama.quality.ter.FastTER` (the same
statistics, 20x faster on paragraph-long rows, where sacrebleu spent seconds);
chrF's are counted by the aligner's compiled n-gram matcher (the same integers,
6x faster) and are also the first part of chrF++'s; a row's sentence chrF and
BLEU are computed from the statistics its article is scored with, not taken
again; and the bootstrap draws sacrebleu's resamples (same generator, seed and
indices) but sums each resample's statistics with one matrix product and
computes the 1,000 scores as numpy vectors in sacrebleu's float32 arithmetic,
instead of building 1,000 score objects per metric.
"""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.metrics.base import Metric
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
from sacrebleu.tokenizers.tokenizer_re import TokenizerRegexp
from sacrebleu.tokenizers.tokenizer_ter import TercomTokenizer

from tarjama.errors import InputError, TarjamaError, counted
from tarjama.quality.ter import FastTER
from tarjama.text.article import NotRegularFileError, not_utf8, open_regular

N_BOOTSTRAP = 1000
SEED = 12345
"""sacrebleu's default ``SACREBLEU_SEED``; fixed here (not read from the environment) and written in the signature."""

MIN_SEGMENTS_FOR_CI = 20
"""Below this many segments a bootstrap CI is reported but marked ``small_sample``.

Measured by ``benchmarks/bench_score.py --coverage`` on NTREX dev sentences
(local-engine MT): the 95% interval contains the score of the whole pool in
only 71-83% of random 5-segment samples, and in at least 90% for every
metric from 20 segments on, on the half of the documents used to choose it;
on the other half, 91-96% at 20.
"""


def corpus_metrics() -> dict[str, Metric]:
    """The corpus metrics by name; a fresh instance each call (sacrebleu metrics keep state)."""
    return {
        "BLEU": BLEU(),
        "chrF": CHRF(),
        "chrF++": CHRF(word_order=2),
        "TER": FastTER(),
    }


@dataclass(frozen=True)
class MetricScore:
    """A corpus score with its bootstrap mean and 95% CI half-width, and sacrebleu's signature.

    ``small_sample`` is true when the score rests on fewer than
    :data:`MIN_SEGMENTS_FOR_CI` segments: the interval is then too unreliable
    to read as 95%, and reports should say so beside it.
    """

    metric: str
    score: float
    bootstrap_mean: float | None
    ci95: float | None
    signature: str
    formatted: str
    segments: int = 0
    small_sample: bool = False

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


STATISTICS_CHUNK = 1_000
"""Segments per call to sacrebleu's statistics. sacrebleu first caches the n-grams of every reference
it is given (tens of KB a segment for chrF): a 13,000-row corpus in one call took 0.7 GB, in
chunks 0.2 GB."""

RESAMPLE_CHUNK = 1_000_000
"""Segment indices drawn and counted at once (8 MB each for the indices, their offsets, their counts and
those counts as floats): all 1,000 resamples of 130,000 rows would be 1 GB. At 4 million, these few
arrays took 130 MB whatever the corpus's size; at 1 million the bootstrap was no slower."""


def _statistics_against(
    metric: Metric, hypotheses: Sequence[str], streams: Sequence[Sequence[str]], chunk: int = STATISTICS_CHUNK
) -> list[list[float]]:
    """sacrebleu's per-segment statistics against one or more reference streams (each line-aligned with
    ``hypotheses``), ``chunk`` segments at a time (each segment's own: the chunks change nothing but the size
    of sacrebleu's reference cache)."""
    stats: list[list[float]] = []
    for start in range(0, len(hypotheses), chunk):
        part = slice(start, start + chunk)
        stats += metric._extract_corpus_statistics(list(hypotheses[part]), [list(refs[part]) for refs in streams])
    return stats


def shared_statistics(
    hypotheses: Sequence[Sequence[str]], references: Sequence[str], chunk: int = STATISTICS_CHUNK
) -> list[Statistics]:
    """:func:`corpus_statistics` of several systems' ``hypotheses`` against the same ``references``; sacrebleu
    prepares each chunk's references (tokens, n-gram counts) once for all systems, not once a system."""
    if not references or any(len(h) != len(references) for h in hypotheses):
        raise TarjamaError(
            f"cannot score {[len(h) for h in hypotheses]} hypotheses against {len(references)} references"
        )
    return _statistics_of(hypotheses, references, chunk, list(corpus_metrics()))


def _statistics_of(
    systems: Sequence[Sequence[str]], references: Sequence[str], chunk: int, wanted: Sequence[str]
) -> list[Statistics]:
    """The statistics of the metrics ``wanted`` (chrF before chrF++) of each system's hypotheses against the
    same references, ``chunk`` segments at a time, each chunk's references prepared once for all systems.
    chrF's are :func:`chrf_statistics`; chrF++'s are chrF's followed by those of its word n-grams, so the
    character n-grams are counted once for both."""
    every = corpus_metrics()
    statistics: list[Statistics] = [{} for _ in systems]
    for name in wanted:
        if name == "chrF":
            for stats, hyps in zip(statistics, systems):
                stats[name] = chrf_statistics(hyps, references, chunk)
            continue
        metric = CHRF(char_order=0, word_order=2) if name == "chrF++" else every[name]
        parts: list[list[list[float]]] = [[] for _ in systems]
        for start in range(0, len(references), chunk):
            metric._ref_cache = metric._cache_references([list(references[start : start + chunk])])
            for part, hyps in zip(parts, systems):
                part += metric._extract_corpus_statistics(list(hyps[start : start + chunk]), None)
        metric._ref_cache = None
        for stats, hyps, part in zip(statistics, systems, parts):
            if name == "chrF++":
                chars = stats["chrF"] if "chrF" in stats else chrf_statistics(hyps, references, chunk)
                stats[name] = np.hstack([chars, np.asarray(part)])
            else:
                stats[name] = np.asarray(part)
    forget_tokenized_segments()
    return statistics


def chrf_statistics(hypotheses: Sequence[str], references: Sequence[str], chunk: int = STATISTICS_CHUNK) -> np.ndarray:
    """``CHRF()``'s per-segment statistics, the same integers, counted by the aligner's compiled matcher.

    Per character order k (whitespace removed): the hypothesis's k-grams (0 when the reference has
    none), the reference's, and their clipped matches, which :class:`tarjama.alignment.ngrams.SpanMatcher`
    counts for every row at once (sacrebleu spent 0.25 ms a row on Python counters).
    """
    from tarjama.alignment.ngrams import (  # numba: loaded when statistics are taken, not on import
        MAX_ORDER,
        SpanMatcher,
    )

    if CHRF.CHAR_ORDER != MAX_ORDER:
        raise ValueError(f"chrF's character order is {CHRF.CHAR_ORDER}, the matcher counts {MAX_ORDER}")
    parts = [np.zeros((0, 3 * MAX_ORDER), dtype=np.int64)]
    for start in range(0, len(hypotheses), chunk):
        hyps, refs = list(hypotheses[start : start + chunk]), list(references[start : start + chunk])
        rows = np.arange(1, len(hyps) + 1)
        matches = SpanMatcher(hyps, refs).matches(rows, rows, [(1, 1)])[0]
        k_grams = np.arange(MAX_ORDER)  # a text of n characters has n - k of them at order k + 1
        n_hyp = np.maximum(np.array([len("".join(h.split())) for h in hyps])[:, None] - k_grams, 0)
        n_ref = np.maximum(np.array([len("".join(r.split())) for r in refs])[:, None] - k_grams, 0)
        triples = np.stack([np.where(n_ref > 0, n_hyp, 0), n_ref, matches], axis=2).astype(np.int64)
        parts.append(triples.reshape(len(hyps), 3 * MAX_ORDER))
    return np.concatenate(parts)


def bootstrap_indices(n_segments: int, n_samples: int, seed: int = SEED) -> np.ndarray:
    """The segment indices of each resample, drawn exactly as ``sacrebleu.significance`` draws them."""
    return np.random.default_rng(seed).choice(n_segments, size=(n_samples, n_segments), replace=True)


def bootstrap_totals(
    stats: np.ndarray,
    n_samples: int,
    seed: int = SEED,
    chunk: int | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """``resampled_totals(stats, bootstrap_indices(len(stats), n_samples, seed))`` without the whole index
    matrix: the resamples are drawn a few at a time from the same generator, which yields the same
    indices in pieces as in one call, so memory stays flat however many segments there are. ``rng``: draw
    from this generator (where it stands) instead of a new one seeded with ``seed``; ``chunk`` indices at a time
    (:data:`RESAMPLE_CHUNK` by default)."""
    generator = np.random.default_rng(seed) if rng is None else rng
    chunk = RESAMPLE_CHUNK if chunk is None else chunk
    n_segments = len(stats)
    rows = max(1, chunk // max(1, n_segments))
    return np.concatenate(
        [
            resampled_totals(stats, generator.choice(n_segments, size=(min(rows, n_samples - start), n_segments)))
            for start in range(0, n_samples, rows)
        ]
    )


def resampled_totals(stats: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Each resample's summed statistics, in float32 as sacrebleu holds them.

    A resample's total is its segment counts times the statistics: one matrix
    product instead of a sum per resample. The integer counts add up exactly in
    float64; sacrebleu sums in float32, which is also exact below 2**24 per
    statistic (about 16 million characters for chrF).
    """
    n_samples, n_segments = indices.shape
    totals = np.empty((n_samples, stats.shape[1]), dtype=np.float64)
    chunk = max(1, RESAMPLE_CHUNK // max(1, n_segments))  # bound the counts matrix
    for start in range(0, n_samples, chunk):
        rows = indices[start : start + chunk]
        flat = (rows + np.arange(len(rows))[:, None] * n_segments).ravel()
        counts = np.bincount(flat, minlength=len(rows) * n_segments).reshape(len(rows), n_segments)
        totals[start : start + len(rows)] = counts @ stats
    return totals.astype(np.float32)


def _bleu(metric: BLEU, totals: np.ndarray) -> np.ndarray:
    """``BLEU.compute_bleu`` for each row of totals (exponential smoothing, corpus-level order)."""
    order = metric.max_ngram_order
    correct, total = totals[:, 2 : 2 + order], totals[:, 2 + order :]
    sys_len, ref_len = totals[:, 0].astype(np.int64), totals[:, 1].astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        brevity = np.where(sys_len < ref_len, _exact(math.exp, 1 - ref_len / np.maximum(sys_len, 1)), 1.0)
        brevity = np.where((sys_len < ref_len) & (sys_len == 0), 0.0, brevity)
        # each order without a match halves the smoothed precision again ("exp" smoothing, mteval-v13a)
        halvings = np.cumsum((correct == 0) & (total > 0), axis=1)
        smoothing = (2.0**halvings).astype(totals.dtype)
        precision = np.where(correct == 0, 100.0 / (smoothing * total), 100.0 * correct / total)
        precision = np.where(total > 0, precision, 0.0).astype(totals.dtype)
        logs = np.where(precision == 0, -9999999999.0, _exact(math.log, np.where(precision == 0, 1, precision)))
    log_sum = logs[:, 0].copy()
    for n in range(1, order):  # in sacrebleu's order: float addition is not associative
        log_sum += logs[:, n]
    return np.where((correct != 0).any(axis=1), brevity * _exact(math.exp, log_sum / order), 0.0)


def _exact(function: Callable[[float], float], values: np.ndarray) -> np.ndarray:
    """``math.log``/``math.exp`` elementwise: numpy's own differ from them in the last bit, sacrebleu uses ``math``.

    Each distinct value once: resamples of a few segments repeat a few precisions thousands of times."""
    distinct, inverse = np.unique(values.ravel(), return_inverse=True)
    results = np.array([function(v) for v in distinct.tolist()], dtype=np.float64)
    return results[inverse.ravel()].reshape(values.shape)


def _chrf(metric: CHRF, totals: np.ndarray) -> np.ndarray:
    """``CHRF._compute_f_score`` for each row of totals (effective-order averaging, in the totals' precision)."""
    factor = metric.beta**2
    avg_prec = np.zeros(len(totals), dtype=totals.dtype)
    avg_rec = np.zeros(len(totals), dtype=totals.dtype)
    orders = np.zeros(len(totals), dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i in range(metric.order):
            n_hyp, n_ref, n_match = totals[:, 3 * i], totals[:, 3 * i + 1], totals[:, 3 * i + 2]
            counted = (n_hyp > 0) & (n_ref > 0)
            avg_prec += np.where(counted, n_match / n_hyp, 0)
            avg_rec += np.where(counted, n_match / n_ref, 0)
            orders += counted
        avg_prec = np.where(orders > 0, avg_prec / orders.astype(totals.dtype), 0)
        avg_rec = np.where(orders > 0, avg_rec / orders.astype(totals.dtype), 0)
        score = (1 + factor) * avg_prec * avg_rec
        score /= factor * avg_prec + avg_rec
    return _with_exact_zeros(100 * score, avg_prec + avg_rec == 0, 0.0)


def _ter(totals: np.ndarray) -> np.ndarray:
    """``TER._compute_score_from_stats`` for each row of totals."""
    edits, ref_len = totals[:, 0], totals[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        score = 100 * (edits / ref_len)
    return _with_exact_zeros(score, ref_len == 0, np.where(edits > 0, 100.0, 0.0))


def _with_exact_zeros(scores: np.ndarray, special: np.ndarray, values: np.ndarray | float) -> np.ndarray:
    """Put sacrebleu's Python-float special cases in, and its array type with them.

    sacrebleu returns a plain float (0.0, or 100.0 for TER against an empty
    reference) in these cases and a float32 otherwise, so its array of
    resampled scores is float64 when any special case occurs and float32 when
    none does; the paired tests compare and average in that precision.
    """
    if not special.any():
        return scores
    return np.where(special, values, scores.astype(np.float64))


def scores_from_totals(metric: Metric, totals: np.ndarray) -> np.ndarray:
    """The metric's score for each row of summed statistics, as sacrebleu computes it from the same numbers."""
    if isinstance(metric, BLEU):
        if metric.smooth_method != "exp" or metric.effective_order:
            raise ValueError("vectorised BLEU supports sacrebleu's corpus defaults only")
        return _bleu(metric, totals)
    if isinstance(metric, CHRF):
        if metric.eps_smoothing:
            raise ValueError("vectorised chrF supports sacrebleu's default smoothing only")
        return _chrf(metric, totals)
    if isinstance(metric, TER):
        return _ter(totals)
    raise ValueError(f"no vectorised scores for {type(metric).__name__}")


def confidence_interval(samples: np.ndarray) -> tuple[float, float]:
    """``Score.estimate_ci``: the samples' mean and half the distance between the 2.5th and 97.5th order statistics."""
    ordered = np.sort(np.asarray(samples, dtype=np.float64))
    lower_idx = len(ordered) // 40
    lower, upper = float(ordered[lower_idx]), float(ordered[len(ordered) - lower_idx - 1])
    return exact_mean(ordered), 0.5 * (upper - lower)


def exact_mean(values: np.ndarray) -> float:
    """``statistics.mean`` of finite floats, bit for bit, without its ``Fraction`` per value (3 ms a CI).

    Both round the exact mean once: each float is a 53-bit integer times a power of two, so the
    sum is an exact integer over the smallest power, and Python divides integers correctly rounded.
    """
    mantissas, exponents = np.frexp(np.asarray(values, dtype=np.float64))
    integers = (mantissas * 2.0**53).astype(np.int64)  # exact: |mantissa| < 1 has 53 bits
    shifts = exponents.astype(np.int64) - 53
    base = int(shifts.min())
    total = 0
    for shift in np.unique(shifts).tolist():  # a few distinct exponents; halves keep int64 sums exact
        group = integers[shifts == shift]
        exact = (int((group >> 26).sum()) << 26) + int((group & (2**26 - 1)).sum())
        total += exact << (shift - base)
    return total / (len(integers) << -base) if base < 0 else (total << base) / len(integers)


Statistics = dict[str, np.ndarray]
"""Per metric name, sacrebleu's sufficient statistics of each segment (one row a segment)."""


SENTENCE_METRICS = ("chrF", "BLEU")
"""The metrics of a row's own scores (:func:`sentence_scores`)."""


def corpus_statistics(
    hypotheses: Sequence[str],
    references: Sequence[str],
    chunk: int = STATISTICS_CHUNK,
    metrics: Collection[str] | None = None,
) -> Statistics:
    """The per-segment statistics of the corpus metrics (all, or those named), ``chunk`` segments at a time.

    Kept with an article's rows (:mod:`tarjama.corpus.shards`), so a corpus's scores over many articles are
    the articles' statistics stacked, not a rescoring of every row (that took 28 s of a 30 s no-op
    rerun of 1,000 articles). The same statistics give each row's :func:`sentence_scores`
    (:func:`_statistics_of`: chrF's by :func:`chrf_statistics`, counted once for chrF++ too).
    """
    if not hypotheses or len(hypotheses) != len(references):
        raise TarjamaError(f"cannot score {len(hypotheses)} hypotheses against {len(references)} references")
    every = corpus_metrics()
    if metrics is not None and not set(metrics) <= every.keys():
        raise ValueError(f"unknown metrics {sorted(set(metrics) - every.keys())}; known: {list(every)}")
    wanted = [name for name in every if metrics is None or name in metrics]
    return _statistics_of([hypotheses], references, chunk, wanted)[0]


def forget_tokenized_segments() -> None:
    """Empty sacrebleu's tokenizer caches (an ``lru_cache`` of 65,536 segments on each tokenizer class).

    Once a text's statistics are extracted its tokens are never needed again, and over a corpus of
    distinct sentences the full caches held about 150 MB: most of a 10,000-article build's growth
    in memory over a 1,000-article one.
    """
    for tokenize in (Tokenizer13a.__call__, TokenizerRegexp.__call__, TercomTokenizer.__call__):
        tokenize.cache_clear()


def scores_from_statistics(
    statistics: Mapping[str, np.ndarray],
    n_bootstrap: int = N_BOOTSTRAP,
    metrics: Mapping[str, Metric] | None = None,
    num_refs: int = 1,
    width: int = 2,
) -> list[MetricScore]:
    """The scores of ``metrics`` (BLEU, chrF, chrF++ and TER by default) from per-segment statistics,
    exactly as sacrebleu scores the segments against ``num_refs`` references each; ``width`` decimals
    in ``formatted``.

    Bootstrap needs at least two segments; with fewer, CIs are ``None``. Resamples are drawn a few at
    a time, and one metric's statistics are copied as floats for them at a time, so memory stays
    bounded for a whole corpus.
    """
    chosen = corpus_metrics() if metrics is None else metrics
    return [
        _metric_score(name, metric, statistics[name], n_bootstrap, num_refs, width) for name, metric in chosen.items()
    ]


def _metric_score(
    name: str, metric: Metric, stats: np.ndarray, n_bootstrap: int, num_refs: int = 1, width: int = 2
) -> MetricScore:
    segments = len(stats)
    metric.num_refs = num_refs  # as sacrebleu records it when extracting
    result = metric._compute_score_from_stats(stats.sum(axis=0).tolist())  # = _aggregate_and_compute
    mean = ci = None
    if n_bootstrap > 1 and segments > 1:
        samples = scores_from_totals(metric, bootstrap_totals(stats.astype(np.float64, copy=False), n_bootstrap))
        mean, ci = confidence_interval(samples)
        result._mean, result._ci = mean, ci
        metric.n_bootstrap, metric.seed = n_bootstrap, str(SEED)
    signature = metric.get_signature().format()
    return MetricScore(
        metric=name,
        score=round(float(result.score), 4),
        bootstrap_mean=round(mean, 4) if mean is not None else None,
        ci95=round(ci, 4) if ci is not None else None,
        signature=signature,
        formatted=result.format(width=width, signature=signature),
        segments=segments,
        small_sample=segments < MIN_SEGMENTS_FOR_CI,
    )


def score_corpus(
    hypotheses: Sequence[str],
    references: Sequence[str],
    n_bootstrap: int = N_BOOTSTRAP,
    chunk: int = STATISTICS_CHUNK,
) -> list[MetricScore]:
    """BLEU, chrF, chrF++ and TER of aligned ``hypotheses`` against ``references``, with 95% CIs."""
    return scores_from_statistics(corpus_statistics(hypotheses, references, chunk), n_bootstrap)


_SENTENCE_CHRF = CHRF()
_SENTENCE_BLEU = BLEU(effective_order=True)


def sentence_chrf(hypothesis: str, reference: str) -> float:
    return _SENTENCE_CHRF.sentence_score(hypothesis, [reference]).score


def sentence_chrf_scores(chrf: np.ndarray) -> list[float]:
    """Each segment's :func:`sentence_chrf` from its chrF statistics (:func:`chrf_statistics`' rows): sacrebleu's
    sentence score is the score of the one segment's statistics."""
    return [_SENTENCE_CHRF._compute_score_from_stats(row).score for row in chrf.tolist()]


def sentence_scores(statistics: Statistics) -> list[tuple[float, float]]:
    """Each segment's (:func:`sentence_chrf`, sentence BLEU) from its chrF and BLEU statistics.

    Sentence BLEU uses effective order, as sacrebleu recommends for single sentences.

    sacrebleu's sentence score is the score of the one segment's statistics, and the sentence
    metrics extract the same statistics as the corpus ones (effective order changes the score,
    not the counts), so a row's scores cost no second pass over its text.
    """
    return [
        (_SENTENCE_CHRF._compute_score_from_stats(chrf).score, _SENTENCE_BLEU._compute_score_from_stats(bleu).score)
        for chrf, bleu in zip(statistics["chrF"].tolist(), statistics["BLEU"].tolist())
    ]


@dataclass(frozen=True)
class RowScore:
    """One line's sentence chrF and BLEU (the aligned TSV's ``sentence_chrf`` and ``sentence_bleu``)."""

    row: int
    chrf: float
    bleu: float


@dataclass(frozen=True)
class FileScores:
    """``tarjama score HYP REF``: what ``sacrebleu REF -i HYP -m bleu chrf ter --confidence`` prints, and row scores."""

    hypothesis: str
    references: list[str]
    corpus: list[MetricScore]
    rows: list[RowScore]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


METRIC_NAMES = {"bleu": "BLEU", "chrf": "chrF", "chrf++": "chrF++", "ter": "TER"}
"""What ``tarjama score -m`` takes (any case) → the metric it names."""


DOWNLOADING_TOKENIZERS = frozenset({"spm", "flores101", "flores200"})
"""sacrebleu's tokenizers that fetch a SentencePiece model from the network the first time they run."""


@dataclass(frozen=True, slots=True)
class ScoreOptions:
    """The sacrebleu CLI's everyday options, with the CLI's meanings, so the same flags give the same figures.

    ``tokenize`` and ``lowercase`` are BLEU's, as sacrebleu's ``-tok`` and ``-lc`` are (its chrF and TER
    have flags of their own, at their defaults here); ``width`` is the decimals printed.
    """

    metrics: tuple[str, ...] = tuple(METRIC_NAMES.values())  # in this order (sacrebleu's), each once
    tokenize: str | None = None  # None: BLEU's default, 13a
    lowercase: bool = False
    width: int = 2

    @classmethod
    def checked(
        cls, metrics: Sequence[str] = (), tokenize: str | None = None, lowercase: bool = False, width: int = 2
    ) -> ScoreOptions:
        """Options from a user's words; an unknown metric or tokenizer is a one-line :class:`TarjamaError`."""
        unknown = [name for name in metrics if name.lower() not in METRIC_NAMES]
        if unknown:
            raise TarjamaError(f"unknown metric {unknown[0]!r} (choose from {', '.join(METRIC_NAMES)})")
        if tokenize is not None and tokenize not in BLEU.TOKENIZERS:
            raise TarjamaError(f"unknown tokenizer {tokenize!r} (choose from {', '.join(BLEU.TOKENIZERS)})")
        if tokenize in DOWNLOADING_TOKENIZERS:
            raise TarjamaError(
                f"tokenizer {tokenize!r} downloads a model when used; tarjama never downloads at run time"
            )
        chosen = {METRIC_NAMES[name.lower()] for name in metrics}
        names = tuple(name for name in METRIC_NAMES.values() if name in chosen or not chosen)  # sacrebleu's order
        return cls(names, tokenize, lowercase, width)

    def corpus_metrics(self) -> dict[str, Metric]:
        """The chosen metrics, in the order chosen, BLEU configured (fresh instances: they keep state)."""
        every = corpus_metrics()
        try:
            every["BLEU"] = BLEU(tokenize=self.tokenize, lowercase=self.lowercase)
        except (ImportError, RuntimeError) as error:  # a tokenizer whose own package is missing (ja-mecab, ...)
            raise TarjamaError(f"tokenizer {self.tokenize!r} cannot start: {' '.join(str(error).split())}") from None
        return {name: every[name] for name in self.metrics}


def file_statistics(
    hypotheses: Sequence[str], streams: Sequence[Sequence[str]], metrics: Mapping[str, Metric]
) -> Statistics:
    """The per-segment statistics of ``metrics`` against one or several reference streams.

    With one reference, chrF, chrF++ and TER take :func:`corpus_statistics`' fast paths; with several,
    sacrebleu's own extraction (each segment's best reference for chrF and TER, all of them for BLEU).
    """
    fast = (
        corpus_statistics(hypotheses, streams[0], metrics=[n for n in metrics if n != "BLEU"])
        if len(streams) == 1
        else {}
    )
    statistics = {
        name: fast[name] if name in fast else np.asarray(_statistics_against(metric, hypotheses, streams))
        for name, metric in metrics.items()
    }
    forget_tokenized_segments()
    return statistics


def sacrebleu_text(scores: Sequence[MetricScore]) -> list[str]:
    """The scores' lines as the sacrebleu CLI prints them in text mode: several lines aligned on their ``=``."""
    width = max((score.formatted.index("=") - 1 for score in scores), default=0) if len(scores) > 1 else 0
    return [score.formatted.rjust(len(score.formatted) + width - score.formatted.index("=") + 1) for score in scores]


STDIN = Path("-")
STDIN_NAME = Path("<stdin>")  # standard input, as messages name it


def read_lines(path: Path) -> list[str]:
    """A text file's lines (standard input's for ``-``) as the sacrebleu CLI reads them: split at ``\\n`` only,
    trailing whitespace removed."""
    try:
        if path == STDIN:
            data = sys.stdin.buffer.read()
        else:
            with open_regular(path) as handle:
                data = handle.read()
        text = data.decode("utf-8")
    except NotRegularFileError as exc:  # a FIFO or device, refused unread: reading it could block or never end
        raise InputError(path, str(exc.strerror)) from None
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except IsADirectoryError:
        raise InputError(path, "is a directory, not a text file") from None
    except UnicodeDecodeError as exc:
        raise InputError(STDIN_NAME if path == STDIN else path, not_utf8(exc)) from None
    return [line.rstrip() for line in io.StringIO(text, newline="\n")]


def score_files(
    hypothesis: Path,
    references: Path | Sequence[Path],
    n_bootstrap: int = N_BOOTSTRAP,
    options: ScoreOptions | None = None,
) -> FileScores:
    """Score a translation file (``-``: standard input) against line-parallel reference files, as the sacrebleu
    CLI would with the same ``options``; each line's chrF and BLEU too."""
    options = options or ScoreOptions()
    metrics = options.corpus_metrics()  # an unusable tokenizer fails before any file is read
    paths = [references] if isinstance(references, Path) else list(references)
    if [hypothesis, *paths].count(STDIN) > 1:
        raise TarjamaError("- (standard input) is given more than once: it can be only one of the files")
    streams = [read_lines(path) for path in paths]
    hyps = read_lines(hypothesis)
    if not hyps:
        raise InputError(hypothesis, "is empty")
    for path, refs in zip(paths, streams):
        if len(hyps) != len(refs):
            raise InputError(hypothesis, f"has {counted(len(hyps), 'line')} but the reference {path} has {len(refs)}")
    for_rows = ScoreOptions(SENTENCE_METRICS).corpus_metrics()  # each line's scores need these statistics
    statistics = file_statistics(hyps, streams, {**for_rows, **metrics})
    rows = [
        RowScore(row=i, chrf=round(chrf, 4), bleu=round(bleu, 4))
        for i, (chrf, bleu) in enumerate(sentence_scores(statistics), start=1)
    ]
    corpus = scores_from_statistics(statistics, n_bootstrap, metrics, len(streams), options.width)
    return FileScores(str(hypothesis), [str(path) for path in paths], corpus, rows)
