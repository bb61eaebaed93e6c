"""Our scores are sacrebleu's own: compare with the sacrebleu command line on the same text."""

import json
import subprocess
import sys

import pytest

from tarjama.score import score_corpus, sentence_bleu, sentence_chrf

HYPS = [
    "The US Secretary of State visited Morocco on Friday.",
    "He met the head of the security services in Rabat.",
    "The two countries agreed to cooperate against terrorism.",
    "Talks also covered trade.",
]
REFS = [
    "The US Secretary of State visited Morocco on Friday.",
    "He met the director of the security services in Temara.",
    "Both countries pledged to strengthen counter-terrorism cooperation.",
    "The talks also touched on trade and investment.",
]


def sacrebleu_cli(tmp_path, metric, *extra):
    hyp, ref = tmp_path / "hyp.txt", tmp_path / "ref.txt"
    hyp.write_text("\n".join(HYPS) + "\n", encoding="utf-8")
    ref.write_text("\n".join(REFS) + "\n", encoding="utf-8")
    cli = [sys.executable, "-m", "sacrebleu", str(ref), "-i", str(hyp), "-m", metric, "-b", "-w", "4", *extra]
    return float(subprocess.run(cli, capture_output=True, text=True, check=True).stdout.split()[0])


@pytest.mark.parametrize(
    ("name", "metric", "extra"),
    [("BLEU", "bleu", ()), ("chrF", "chrf", ()), ("chrF++", "chrf", ("--chrf-word-order", "2")), ("TER", "ter", ())],
)
def test_corpus_scores_equal_sacrebleu_cli(tmp_path, name, metric, extra):
    ours = {s.metric: s for s in score_corpus(HYPS, REFS, n_bootstrap=200)}
    assert ours[name].score == pytest.approx(sacrebleu_cli(tmp_path, metric, *extra), abs=1e-4)
    assert ours[name].ci95 is not None and ours[name].ci95 > 0
    assert "nrefs:1" in ours[name].signature and "bs:200" in ours[name].signature


def test_sentence_scores_are_sacrebleus():
    from sacrebleu.metrics import BLEU, CHRF

    assert sentence_chrf(HYPS[1], REFS[1]) == CHRF().sentence_score(HYPS[1], [REFS[1]]).score
    assert sentence_bleu(HYPS[1], REFS[1]) == BLEU(effective_order=True).sentence_score(HYPS[1], [REFS[1]]).score
    assert sentence_chrf(HYPS[0], REFS[0]) == 100.0


def test_a_single_segment_has_no_confidence_interval():
    scores = score_corpus(HYPS[:1], REFS[:1])
    assert all(s.ci95 is None for s in scores)
    json.dumps([s.as_dict() for s in scores])  # serialisable for scores.json


def test_confidence_intervals_survive_very_poor_translations():
    """sacrebleu's own bootstrap raises TypeError here (float and float32 mixed); ours must not."""
    hyps = ["xyz qqq", "aaa bbb", "ccc ddd", "eee"]
    refs = ["The dog sat here", "Another one", "The cat sat", "zzz"]
    scores = {s.metric: s for s in score_corpus(hyps, refs, n_bootstrap=300)}
    assert scores["BLEU"].score == 0.0 and scores["BLEU"].ci95 is not None
    assert scores["chrF"].ci95 >= 0 and "bs:300" in scores["chrF"].signature
