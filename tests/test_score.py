"""Our scores are sacrebleu's own: compare with sacrebleu's API and command line on the same text."""

import json
import random
import statistics
import subprocess
import sys

import numpy as np
import pytest
from conftest import CORPUS, ROOT
from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.significance import _bootstrap_resample

from tarjama.errors import InputError
from tarjama.quality.score import (
    MIN_SEGMENTS_FOR_CI,
    SENTENCE_METRICS,
    bootstrap_indices,
    bootstrap_totals,
    chrf_statistics,
    confidence_interval,
    corpus_metrics,
    corpus_statistics,
    exact_mean,
    resampled_totals,
    score_corpus,
    score_files,
    scores_from_statistics,
    scores_from_totals,
    sentence_chrf,
    sentence_scores,
)

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
MT = (ROOT / "tests/fixtures/ntrex128-dev.mt.en.txt").read_text(encoding="utf-8").splitlines()
GOLD = (CORPUS / "ntrex128-dev/gold/ntrex128-dev.en.lines").read_text(encoding="utf-8").splitlines()
SACREBLEU_METRICS = {"BLEU": BLEU, "chrF": CHRF, "chrF++": lambda: CHRF(word_order=2), "TER": TER}


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


@pytest.mark.parametrize("name", ["BLEU", "chrF", "chrF++", "TER"])
def test_bulk_resampled_scores_are_sacrebleus_bit_for_bit(name):
    """The 1,000 resampled scores, not only their summary: same indices, same float32 arithmetic."""
    hyps, refs = MT[:40], GOLD[:40]
    metric = SACREBLEU_METRICS[name]()
    stats = metric._extract_corpus_statistics(hyps, [refs])
    _, theirs = _bootstrap_resample(stats, metric, 1000)
    ours = scores_from_totals(metric, resampled_totals(np.array(stats, dtype=float), bootstrap_indices(40, 1000)))
    theirs_array = np.array([s.score for s in theirs])
    assert ours.dtype == theirs_array.dtype
    assert np.array_equal(ours, theirs_array)


def test_a_corpus_scored_in_pieces_scores_as_in_one():
    """Statistics taken 7 segments at a time and resamples drawn 3 at a time (a whole corpus is scored
    so, to bound memory) give the scores, means and intervals of one piece."""
    hyps, refs = MT[:45], GOLD[:45]
    assert score_corpus(hyps, refs, chunk=7) == score_corpus(hyps, refs, chunk=10**6)
    stats = corpus_metrics()["chrF"]._extract_corpus_statistics(hyps, [refs])
    whole = resampled_totals(np.array(stats, dtype=float), bootstrap_indices(45, 1000))
    assert np.array_equal(bootstrap_totals(np.array(stats, dtype=float), 1000, chunk=3 * 45), whole)
    assert np.array_equal(bootstrap_totals(np.array(stats, dtype=float), 1000, chunk=1), whole)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["BLEU", "chrF", "chrF++", "TER"])
def test_corpus_score_mean_and_ci_equal_sacrebleus_on_real_rows(name):
    """Thirteen two-sentence rows against sacrebleu's own ``corpus_score`` (its TER is slow on longer ones)."""
    hyps = [" ".join(MT[i : i + 2]) for i in range(0, 26, 2)]
    refs = [" ".join(GOLD[i : i + 2]) for i in range(0, 26, 2)]
    ours = {s.metric: s for s in score_corpus(hyps, refs)}[name]
    metric = SACREBLEU_METRICS[name]()
    theirs = metric.corpus_score(hyps, [refs], n_bootstrap=1000)
    assert ours.score == round(theirs.score, 4)
    assert ours.bootstrap_mean == pytest.approx(theirs._mean, abs=1e-4)
    assert ours.ci95 == pytest.approx(theirs._ci, abs=1e-4) and ours.ci95 > 0.5
    assert ours.signature == metric.get_signature().format()
    assert ours.formatted == theirs.format(signature=ours.signature)
    assert ours.segments == 13 and ours.small_sample


def test_small_samples_are_marked():
    few = score_corpus(MT[:5], GOLD[:5])
    enough = score_corpus(MT[:MIN_SEGMENTS_FOR_CI], GOLD[:MIN_SEGMENTS_FOR_CI])
    assert all(s.small_sample and s.segments == 5 for s in few)
    assert not any(s.small_sample for s in enough)


def test_sentence_scores_are_sacrebleus():
    assert sentence_chrf(HYPS[1], REFS[1]) == CHRF().sentence_score(HYPS[1], [REFS[1]]).score
    assert sentence_chrf(HYPS[0], REFS[0]) == 100.0


@pytest.mark.parametrize("name", ["BLEU", "chrF", "chrF++", "TER"])
def test_statistics_are_sacrebleus_alone_or_with_the_other_metrics(name):
    """chrF++'s statistics are assembled from chrF's and its word n-grams': sacrebleu's all the same."""
    hyps, refs = [*MT[:60], "", "x", "Same ."], [*GOLD[:60], "y", "", "Same ."]
    theirs = np.asarray(SACREBLEU_METRICS[name]()._extract_corpus_statistics(hyps, [refs]))
    for stats in (corpus_statistics(hyps, refs), corpus_statistics(hyps, refs, chunk=7, metrics=[name])):
        assert stats[name].dtype == theirs.dtype and np.array_equal(stats[name], theirs)
    assert list(corpus_statistics(hyps, refs, metrics=[name])) == [name]


@pytest.mark.parametrize("seed", range(3))
def test_chrf_statistics_are_sacrebleus_on_random_rows(seed):
    """The compiled matcher's counts on rows shorter than an n-gram, empty, repetitive, with tabs and
    non-Latin letters, in chunks: sacrebleu's integers."""
    rng = random.Random(seed)
    words = ["the", "a", "x", "xx", "xxx", "al-Qaeda", "2,000", "U.S.", "«é»", "ça", "المغرب", "\t", "  "]
    rows = [" ".join(rng.choices(words, k=rng.choice([0, 1, 2, 3, 9, 30]))) for _ in range(2 * 150)]
    hyps, refs = rows[:150], rows[150:]
    theirs = np.asarray(CHRF()._extract_corpus_statistics(hyps, [refs]))
    assert np.array_equal(chrf_statistics(hyps, refs, chunk=37), theirs)
    assert np.array_equal(
        chrf_statistics(hyps[:1], hyps[:1]), np.asarray(CHRF()._extract_corpus_statistics(hyps[:1], [hyps[:1]]))
    )


def test_unknown_metrics_are_refused():
    with pytest.raises(ValueError, match="unknown metrics \\['METEOR'\\]"):
        corpus_statistics(HYPS, REFS, metrics=["chrF", "METEOR"])


def test_row_scores_from_statistics_are_sacrebleus_sentence_scores():
    """Every row's chrF and BLEU (effective order) from its statistics, as sacrebleu's ``sentence_score``
    gives them: real rows, empty sides, exact matches, a row without a 4-gram match."""
    hyps = [*MT[:50], "", "x", HYPS[0], "Talks also covered trade."]
    refs = [*GOLD[:50], "y", "", REFS[0], REFS[3]]
    ours = sentence_scores(corpus_statistics(hyps, refs, metrics=SENTENCE_METRICS))
    chrf, bleu = CHRF(), BLEU(effective_order=True)
    assert ours == [(chrf.sentence_score(h, [r]).score, bleu.sentence_score(h, [r]).score) for h, r in zip(hyps, refs)]
    assert ours[52][0] == 100.0 and 0 < ours[53][1] < 100


def test_the_bootstrap_mean_is_statistics_mean_bit_for_bit():
    """sacrebleu averages resampled scores with ``statistics.mean`` (exact, rounded once); so does ours."""
    rng = np.random.default_rng(7)
    cases = [
        (rng.random(1000) * 100).astype(np.float32),  # resampled scores
        np.exp(rng.normal(0, 150, 301)) * rng.choice([-1, 1], 301),  # exponents far apart, both signs
        np.array([1.0 - 2**-53] * 999 + [5e-324, 1.7e308, 0.0]),
        np.array([0.1, 0.2, 0.3]),
    ]
    for values in cases:
        assert exact_mean(values) == statistics.mean(values.tolist())
    samples = cases[0]
    assert confidence_interval(samples)[0] == statistics.mean(float(s) for s in samples)


def test_a_single_segment_has_no_confidence_interval():
    scores = score_corpus(HYPS[:1], REFS[:1])
    assert all(s.ci95 is None and s.small_sample for s in scores)
    json.dumps([s.as_dict() for s in scores])  # serialisable for scores.json


def test_confidence_intervals_survive_very_poor_translations():
    """sacrebleu's own bootstrap raises TypeError here (float and float32 mixed); ours must not."""
    hyps = ["xyz qqq", "aaa bbb", "ccc ddd", "eee"]
    refs = ["The dog sat here", "Another one", "The cat sat", "zzz"]
    scores = {s.metric: s for s in score_corpus(hyps, refs, n_bootstrap=300)}
    assert scores["BLEU"].score == 0.0 and scores["BLEU"].ci95 is not None
    assert scores["chrF"].ci95 >= 0 and "bs:300" in scores["chrF"].signature
    assert round(corpus_metrics()["chrF"].corpus_score(hyps, [refs]).score, 4) == scores["chrF"].score


@pytest.mark.slow
def test_score_files_matches_the_sacrebleu_cli(tmp_path):
    """``tarjama score HYP REF`` against ``sacrebleu REF -i HYP -m bleu chrf ter --confidence -f json``."""
    hyp, ref = tmp_path / "mt.txt", tmp_path / "ref.txt"
    hyp.write_text("\n".join(MT[:60]) + "\n", encoding="utf-8")
    ref.write_text("\r\n".join(GOLD[:60]) + "\r\n", encoding="utf-8")  # CRLF: both read it as sacrebleu does
    cli = [sys.executable, "-m", "sacrebleu", str(ref), "-i", str(hyp), "-m", "bleu", "chrf", "ter"]
    theirs = json.loads(
        subprocess.run(
            [*cli, "--confidence", "-f", "json", "-w", "4"], capture_output=True, text=True, check=True
        ).stdout
    )
    ours = score_files(hyp, ref)
    by_name = {s.metric: s for s in ours.corpus}
    for metric, cli_entry in zip(["BLEU", "chrF", "TER"], theirs):
        assert by_name[metric].score == pytest.approx(cli_entry["score"], abs=1e-4)
        assert by_name[metric].bootstrap_mean == pytest.approx(cli_entry["confidence_mean"], abs=1e-4)
        assert by_name[metric].ci95 == pytest.approx(cli_entry["confidence_var"], abs=1e-4)
        assert by_name[metric].signature == cli_entry["signature"]
    assert len(ours.rows) == 60 and ours.rows[0].row == 1
    assert ours.rows[5].chrf == round(CHRF().sentence_score(MT[5], [GOLD[5]]).score, 4)


def test_score_files_rejects_mismatched_and_missing_files(tmp_path):
    hyp, ref = tmp_path / "mt.txt", tmp_path / "ref.txt"
    hyp.write_text("one\ntwo\n", encoding="utf-8")
    ref.write_text("one\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"mt\.txt: has 2 lines but the reference .*ref\.txt has 1"):
        score_files(hyp, ref)
    with pytest.raises(InputError, match="nope.txt: no such file"):
        score_files(tmp_path / "nope.txt", ref)
    ref.write_bytes(b"\xff\xfe\n")
    with pytest.raises(InputError, match=r"ref.txt: not valid UTF-8 \(byte 0xff at offset 0\)"):
        score_files(hyp, ref)


@pytest.mark.slow
def test_a_corpus_scored_from_its_articles_statistics_equals_scoring_its_rows(tmp_path):
    """The corpus's scores are its articles' kept statistics stacked (no rescoring): same numbers. A
    shard kept without statistics has its rows against its reference scored again (not the others')."""
    import polars as pl

    from tarjama.corpus.results import ArticleResult
    from tarjama.corpus.shards import ShardStore

    store = ShardStore(tmp_path)
    for key, part in (("a", slice(0, 230)), ("b", slice(230, 300)), ("c", slice(300, 603))):
        result = ArticleResult(
            article_id=key, path=key, sentences=1, units=1, engine="e", model="m", translated_texts=1, from_memory=0,
            references=[],
        )  # fmt: skip
        rows = pl.DataFrame(
            {
                "reference": ["en"] * len(MT[part]) + ["other"],
                "english_mt": [*MT[part], "not this row"],
                "english_reference": [*GOLD[part], "it is scored against another reference"],
            }
        )
        store.put(key, rows, result, corpus_statistics(MT[part], GOLD[part]) if key != "b" else None)
    assert store.statistics("missing") is None and store.statistics("b") is None
    stacked = store.corpus_statistics([("a", "en"), ("b", "en"), ("c", "en")])
    whole = corpus_statistics(MT, GOLD)
    assert stacked.keys() == whole.keys()
    assert all(np.array_equal(stacked[name], whole[name]) for name in whole)
    assert scores_from_statistics(stacked) == score_corpus(MT, GOLD)


def test_scoring_leaves_no_tokenized_segments_behind():
    """sacrebleu caches every tokenized segment (up to 65,536 per tokenizer): across a corpus of
    distinct sentences that was most of a long build's growth in memory."""
    from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a
    from sacrebleu.tokenizers.tokenizer_ter import TercomTokenizer

    hypotheses = [f"the {n}th cat sat on a mat ." for n in range(200)]
    references = [f"the cat number {n} sat on the mat ." for n in range(200)]
    statistics = corpus_statistics(hypotheses, references)
    assert set(statistics) == {"BLEU", "chrF", "chrF++", "TER"}
    assert Tokenizer13a.__call__.cache_info().currsize == 0
    assert TercomTokenizer.__call__.cache_info().currsize == 0
