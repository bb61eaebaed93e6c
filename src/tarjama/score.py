"""Translation quality with sacrebleu: corpus scores with 95% bootstrap CIs, and per-row scores.

We call sacrebleu's own metric classes and keep their signatures, so every
figure tarjama reports can be reproduced with ``sacrebleu`` on the command
line from the aligned TSV's columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.metrics.base import Metric, Score
from sacrebleu.significance import _bootstrap_resample

N_BOOTSTRAP = 1000


def corpus_metrics() -> dict[str, Metric]:
    """The corpus metrics by name; a fresh instance each call (sacrebleu metrics keep state)."""
    return {
        "BLEU": BLEU(),
        "chrF": CHRF(),
        "chrF++": CHRF(word_order=2),
        "TER": TER(),
    }


@dataclass(frozen=True)
class MetricScore:
    """A corpus score with its bootstrap mean and 95% CI half-width, and sacrebleu's signature."""

    metric: str
    score: float
    bootstrap_mean: float | None
    ci95: float | None
    signature: str
    formatted: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _corpus_score(metric: Metric, hypotheses: list[str], references: list[str], n_bootstrap: int) -> Score:
    """``metric.corpus_score`` with its bootstrap made robust to low scores.

    sacrebleu 2.6.0's ``Score.estimate_ci`` averages the resampled scores with
    ``statistics.mean``, which raises ``TypeError`` when a resample that scores
    exactly 0 comes back as a Python float among numpy float32s (it happens on
    poor translations). Same statistics, resamples, seed and CI definition as
    ``corpus_score``; only the scores' type is made uniform.
    """
    if n_bootstrap <= 1:
        return metric.corpus_score(hypotheses, [references])
    metric._check_corpus_score_args(hypotheses, [references])
    stats = metric._extract_corpus_statistics(hypotheses, [references])
    score = metric._aggregate_and_compute(stats)
    metric.n_bootstrap = n_bootstrap
    metric.seed, resampled = _bootstrap_resample(stats, metric, n_bootstrap)
    for sample in resampled:
        sample.score = float(sample.score)
    score.estimate_ci(resampled)
    return score


def score_corpus(
    hypotheses: Sequence[str], references: Sequence[str], n_bootstrap: int = N_BOOTSTRAP
) -> list[MetricScore]:
    """BLEU, chrF, chrF++ and TER of aligned ``hypotheses`` against ``references``.

    Bootstrap needs at least two segments; with fewer, CIs are ``None``.
    """
    bootstrap = n_bootstrap if len(hypotheses) > 1 else 1
    scores = []
    for name, metric in corpus_metrics().items():
        result = _corpus_score(metric, list(hypotheses), list(references), bootstrap)
        signature = metric.get_signature().format()
        has_ci = bootstrap > 1
        scores.append(
            MetricScore(
                metric=name,
                score=round(float(result.score), 4),
                bootstrap_mean=round(float(result._mean), 4) if has_ci else None,
                ci95=round(float(result._ci), 4) if has_ci else None,
                signature=signature,
                formatted=result.format(signature=signature),
            )
        )
    return scores


_SENTENCE_CHRF = CHRF()
_SENTENCE_BLEU = BLEU(effective_order=True)


def sentence_chrf(hypothesis: str, reference: str) -> float:
    return _SENTENCE_CHRF.sentence_score(hypothesis, [reference]).score


def sentence_bleu(hypothesis: str, reference: str) -> float:
    """Sentence BLEU with effective order, as sacrebleu recommends for single sentences."""
    return _SENTENCE_BLEU.sentence_score(hypothesis, [reference]).score
