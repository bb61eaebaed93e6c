"""FastTER gives sacrebleu's TER statistics exactly: same edits (shifts included) on real and adversarial text."""

import random

import pytest
from conftest import CORPUS, ROOT
from sacrebleu.metrics import TER
from sacrebleu.metrics.lib_ter import translation_edit_rate as sacrebleu_ter

from tarjama.quality.ter import FastTER, translation_edit_rate

TOKENIZE = TER().tokenizer


def ntrex_pairs(n: int) -> list[tuple[list[str], list[str]]]:
    mt = (ROOT / "tests/fixtures/ntrex128-dev.mt.en.txt").read_text(encoding="utf-8").splitlines()
    ref = (CORPUS / "ntrex128-dev/gold/ntrex128-dev.en.lines").read_text(encoding="utf-8").splitlines()
    return [(TOKENIZE(h).split(), TOKENIZE(r).split()) for h, r in zip(mt[:n], ref[:n])]


def test_equal_to_sacrebleu_on_real_sentences():
    pairs = ntrex_pairs(100)
    assert [translation_edit_rate(h, r) for h, r in pairs] == [sacrebleu_ter(h, r) for h, r in pairs]


def test_equal_to_sacrebleu_on_paragraph_long_rows():
    """Long rows are where shifts pile up (and where sacrebleu took seconds)."""
    pairs = ntrex_pairs(40)
    rows = [([w for h, _ in pairs[i : i + 5] for w in h], [w for _, r in pairs[i : i + 5] for w in r]) for i in (0, 20)]
    ours = [translation_edit_rate(h, r) for h, r in rows]
    assert ours == [sacrebleu_ter(h, r) for h, r in rows]
    assert all(edits > 20 for edits, _ in ours)


def test_equal_to_sacrebleu_on_word_soups():
    """Few distinct words make many equal-length shift candidates: ties must break as in sacrebleu."""
    rng = random.Random(7)
    for _ in range(80):
        vocabulary = rng.sample("a b c d e f g h".split(), rng.randint(2, 8))
        ref = [rng.choice(vocabulary) for _ in range(rng.randint(1, 22))]
        hyp = ref[:]
        rng.shuffle(hyp)
        hyp = hyp[: rng.randint(0, len(hyp))] + [rng.choice(vocabulary) for _ in range(rng.randint(0, 6))]
        assert translation_edit_rate(hyp, ref) == sacrebleu_ter(hyp, ref), (hyp, ref)


@pytest.mark.parametrize(
    ("hyp", "ref"),
    [
        ([], ["a", "b"]),
        (["a", "b"], []),
        ([], []),
        (["x"], [f"w{i}" for i in range(80)]),  # length ratio over 50: sacrebleu widens the beam
        ([f"w{i}" for i in range(80)], ["w3"]),
        ("the cat sat on the mat".split(), "on the mat the cat sat".split()),
    ],
)
def test_edge_cases_equal_sacrebleu(hyp, ref):
    assert translation_edit_rate(hyp, ref) == sacrebleu_ter(hyp, ref)


def test_fast_ter_is_sacrebleus_metric_with_the_same_signature():
    hyps = ["The talks also covered trade .", "He met the head of the security services in Rabat ."]
    refs = ["Trade was also covered by the talks .", "He met the director of the security services in Temara ."]
    ours, theirs = FastTER().corpus_score(hyps, [refs]), TER().corpus_score(hyps, [refs])
    assert ours.score == theirs.score and ours.num_edits == theirs.num_edits > 0
    metric = FastTER()
    metric.corpus_score(hyps, [refs])
    assert metric.get_signature().format() == "nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0"
