"""The Prefect-free core: a corpus built and rebuilt through :mod:`tarjama.corpus.build`, with loopback translation
services; every setting in the pipeline signature rebuilds an article, and nothing else does."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from conftest import ARTICLES, build, libre, write_articles
from loopback_services import LoopbackServices

import tarjama
from tarjama.corpus.build import (
    PipelineSignature,
    pipeline_signature,
)
from tarjama.corpus.export import CorpusFilter
from tarjama.corpus.results import ArticleResult, ReferenceResult, RunSummary
from tarjama.quality import score
from tarjama.settings import Settings
from tarjama.text import clauses, segment
from tarjama.text.article import UnitTranslation
from tarjama.translation.engines.local import REPAIR_REVISION

# --- one setting flipped at a time ------------------------------------------------------------------------------

Flip = Callable[[Settings, LoopbackServices, LoopbackServices, pytest.MonkeyPatch], Settings]


def _bump(monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> None:
    monkeypatch.setattr(module, name, getattr(module, name) + 1)


FLIPS: dict[str, Flip] = {
    "segmenter": lambda s, _a, _b, mp: (_bump(mp, segment, "RULES_VERSION"), s)[1],
    "clauses": lambda s, _a, _b, mp: (_bump(mp, clauses, "RULES_VERSION"), s)[1],
    "engine": lambda s, a, _b, _mp: Settings.load(
        {"TARJAMA_HOME": str(s.home)}, s.home, engine="mymemory", engine_url=a.url("mymemory")
    ),
    "engine_identity": lambda s, _a, b, _mp: s.model_copy(update={"engines": {"libre": {"url": b.url("libre")}}}),
    "translate": lambda s, _a, _b, _mp: s.model_copy(update={"translate": UnitTranslation.SENTENCES}),
    "alignment": lambda s, _a, _b, _mp: s.model_copy(update={"rows": "sentences"}),
    "checks": lambda s, _a, _b, _mp: s.model_copy(update={"checks": ("numbers",)}),
    "scoring": lambda s, _a, _b, mp: (_bump(mp, score, "SEED"), s)[1],
    "version": lambda s, _a, _b, mp: (mp.setattr(tarjama, "__version__", tarjama.__version__ + ".1"), s)[1],
}
"""How to change each field of the signature through what a user (or a release) changes."""


def test_every_field_of_the_signature_has_a_flip() -> None:
    """A field added to the signature without a way to flip it here fails this test."""
    assert set(FLIPS) == {field.name for field in dataclasses.fields(PipelineSignature)}


@pytest.mark.parametrize("field", [field.name for field in dataclasses.fields(PipelineSignature)])
def test_flipping_one_setting_rebuilds_the_articles(field, services, tmp_path, monkeypatch) -> None:
    articles, out = write_articles(tmp_path / "articles"), tmp_path / "output"
    settings = libre(tmp_path / "home", services)
    first = build(settings, articles, out, "first")
    assert first.counts.reused_articles == 0 and len(first.articles) == 2
    before = pipeline_signature(settings)
    with LoopbackServices(lifetime=600) as other:
        flipped = FLIPS[field](settings, services, other, monkeypatch)
        changed = before.differing(pipeline_signature(flipped))
        # rows of sentences (the alignment flip) also send the engine whole sentences
        together = {"engine": ["engine", "engine_identity"], "alignment": ["translate", "alignment"]}
        assert changed == together.get(field, [field])
        second = build(flipped, articles, out, "second")
    assert second.counts.reused_articles == 0
    assert second.counts.rebuilt_articles == 2  # shards existed under other settings: said, and built again
    assert second.pipeline_signature == pipeline_signature(flipped).format() != first.pipeline_signature


def test_the_same_settings_reuse_every_article_and_rebuild_forces_a_build(services, tmp_path) -> None:
    articles, out = write_articles(tmp_path / "articles"), tmp_path / "output"
    settings = libre(tmp_path / "home", services)
    first = build(settings, articles, out, "first")
    sent = len(services.requests())
    again = build(libre(tmp_path / "home", services), articles, out, "again")
    assert again.counts.reused_articles == 2 and again.counts.rebuilt_articles == 0
    assert len(services.requests()) == sent  # nothing translated again
    assert [a.model_dump(exclude={"timings_s"}) for a in again.articles] == [
        a.model_dump(exclude={"timings_s"}) for a in first.articles
    ]
    forced = build(settings, articles, out, "forced", rebuild=True)
    assert forced.counts.reused_articles == 0 and forced.counts.rebuilt_articles == 0
    assert len(services.requests()) == sent  # rebuilt from the translation memory: no request paid twice


def test_the_signature_is_in_scores_the_report_and_the_parquet(services, tmp_path) -> None:
    import polars as pl

    summary = build(libre(tmp_path / "home", services), write_articles(tmp_path / "a"), tmp_path / "out", "run")
    folder = Path(summary.output_dir or "")
    signature = summary.pipeline_signature
    assert signature.startswith("seg:") and f"version:{tarjama.__version__}" in signature
    assert services.url("libre").split("//")[1].split("/")[0] in signature  # the service's address
    assert RunSummary.read(folder).pipeline_signature == signature  # type: ignore[union-attr]
    assert f"`{signature}`" in (folder / "report.md").read_text(encoding="utf-8")
    assert pl.read_parquet_metadata(folder / "aligned.parquet")["tarjama.pipeline"] == signature


def test_the_local_engine_is_signed_by_its_model_file(tmp_path) -> None:
    """Another GGUF file (even under the same name elsewhere, with another size) is another engine."""
    models = []
    for folder, size in (("a", 10), ("b", 20)):
        path = tmp_path / folder / "model.gguf"
        path.parent.mkdir()
        path.write_bytes(b"x" * size)
        models.append(path)
    signatures = [
        pipeline_signature(Settings(home=tmp_path, engine="local", engines={"local": {"model_path": str(m)}}))
        for m in models
    ]
    assert signatures[0].differing(signatures[1]) == ["engine_identity"]
    assert "prompt:" in signatures[0].engine_identity and "decoding:greedy" in signatures[0].engine_identity
    # the repair of broken output shapes its rows too: articles built before it are built again
    assert f"repair:{REPAIR_REVISION}" in signatures[0].engine_identity


def test_a_run_says_in_one_line_that_it_rebuilt_articles_built_under_other_settings(services, tmp_path, caplog):
    articles, out = write_articles(tmp_path / "articles"), tmp_path / "output"
    build(libre(tmp_path / "home", services), articles, out, "first")
    with caplog.at_level(logging.INFO, logger="tarjama.corpus.build"):
        build(libre(tmp_path / "home", services, checks="numbers"), articles, out, "second")
    said = [r.getMessage() for r in caplog.records if "under other settings" in r.getMessage()]
    assert len(said) == 1 and said[0].startswith("2 articles built before under other settings: rebuilt")


# --- what a run says and records ----------------------------------------------------------------------------------


def test_auto_records_the_engine_requested_and_the_engine_used(services, tmp_path) -> None:
    environ = {"TARJAMA_HOME": str(tmp_path / "home"), "TARJAMA_GOOGLE_URL": services.url("google")}
    settings = Settings.load(environ, tmp_path, engine="auto")
    summary = build(settings, write_articles(tmp_path / "articles"), tmp_path / "out", "run")
    assert (summary.engine_requested, summary.engine_used) == ("auto", "google")
    assert "engine:google|" in summary.pipeline_signature


@pytest.mark.parametrize(
    ("sentences", "doubtful", "warned"),
    [(1, 0, False), (2, 0, True), (1, 1, True)],
)
def test_a_short_reference_is_judged_by_its_rows_not_by_a_low_chrf_alone(sentences, doubtful, warned) -> None:
    """chrF 18.5: low for a whole article, but one right sentence in 18 of the local model's scores that low,
    so a one-sentence reference whose row is confident is not called another article's."""
    from tarjama.corpus.build import foreign_references, reference_warnings
    from tarjama.corpus.results import ArticleResult, ReferenceResult
    from tarjama.quality.score import MetricScore

    chrf = MetricScore("chrF", 18.5, None, None, "nrefs:1", "chrF2 = 18.5")
    reference = ReferenceResult(
        reference="en",
        path="a.en.txt",
        reference_sentences=sentences,
        rows=sentences,
        flagged=doubtful,
        doubtful=doubtful,
        scores=[chrf],
    )
    article = ArticleResult(
        article_id="a",
        path="a.ar.txt",
        sentences=sentences,
        units=sentences,
        engine="local",
        model="m",
        translated_texts=sentences,
        from_memory=0,
        references=[reference],
    )
    shown = [w for w in reference_warnings([], foreign_references([article])) if "seems to belong to another" in w]
    assert bool(shown) == warned, shown


def scored_article(article_id: str, chrf: float) -> ArticleResult:
    """An article of four sentences, all rows confident, whose one reference scores ``chrf``."""
    from tarjama.quality.score import MetricScore

    score = MetricScore("chrF", chrf, None, None, "nrefs:1", f"chrF2 = {chrf}")
    reference = ReferenceResult(
        reference="en",
        path=f"{article_id}.en.txt",
        reference_sentences=4,
        rows=4,
        flagged=0,
        doubtful=0,
        scores=[score],
    )
    return ArticleResult(
        article_id=article_id,
        path=f"{article_id}.ar.txt",
        sentences=4,
        units=4,
        engine="libre",
        model="m",
        translated_texts=4,
        from_memory=0,
        references=[reference],
    )


@pytest.mark.parametrize(("foreign", "right", "suspect"), [(8, 4, True), (6, 14, False), (9, 0, False)])
def test_the_log_lists_a_few_foreign_references_and_counts_the_rest(foreign, right, suspect) -> None:
    """1,800 references that seem another article's were 1,800 log lines: the log lists the first five and
    counts them all in one line, which blames the translations when most of at least ten references trip;
    scores.json (the summary's warnings) keeps every one."""
    from tarjama.corpus.build import MAX_LISTED_WARNINGS, foreign_references, logged_warnings, reference_warnings

    articles = [scored_article(f"f{i}", 9.0) for i in range(foreign)] + [
        scored_article(f"r{i}", 80.0) for i in range(right)
    ]
    found = foreign_references(articles)
    lines = logged_warnings([], found, len(articles))
    listed = [line for line in lines if "seems to belong to another article" in line]
    assert [line.split(":")[0] for line in listed] == [f"article f{i}" for i in range(MAX_LISTED_WARNINGS)]
    assert len(lines) == MAX_LISTED_WARNINGS + 1, lines
    assert lines[-1].startswith(f"{foreign} of {foreign + right} references seem to belong to another article")
    assert f"{foreign - MAX_LISTED_WARNINGS} more in scores.json" in lines[-1]
    assert ("suspect the translations rather than the references" in lines[-1]) == suspect, lines[-1]
    every = reference_warnings([], found)
    assert len(every) == foreign and all("seems to belong to another article" in w for w in every)


def test_a_few_foreign_references_are_each_listed_without_a_count() -> None:
    from tarjama.corpus.build import foreign_references, logged_warnings, missing_references, reference_warnings

    articles = [scored_article("f", 9.0), scored_article("r", 80.0)]
    missing, found = missing_references(articles), foreign_references(articles)
    assert logged_warnings(missing, found, len(articles)) == reference_warnings(missing, found)
    assert len(logged_warnings(missing, found, len(articles))) == 1


def test_articles_without_a_reference_or_with_another_articles_are_warned_about(services, tmp_path) -> None:
    """Right pairs (references that are the service's own translation: chrF near 100) give no warning; a
    swapped pair and an article without a reference each give one, in scores.json and on the console."""
    from loopback_services import fake_english

    from tarjama.text.article import parse_document

    folder = tmp_path / "articles"
    folder.mkdir()
    for name, (arabic, _) in ARTICLES.items():
        document = parse_document(arabic, folder / f"{name}.ar.txt", "ar")
        (folder / f"{name}.ar.txt").write_text(arabic, encoding="utf-8")
        # the service's own words, with enough English around them to pass the reference's language check
        english = " ".join(
            f"This is the {fake_english(unit.text).rstrip('.,،')} of the day." for unit in document.units
        )
        (folder / f"{name}.en.txt").write_text(english + "\n", encoding="utf-8")
    (folder / "lone.ar.txt").write_text(ARTICLES["storm"][0].replace("الثلاثاء", "الأربعاء"), encoding="utf-8")
    settings = libre(tmp_path / "home", services)
    right = build(settings, folder, tmp_path / "out", "right")
    assert right.warnings == ["articles without a reference, so no score: 1 of 3 (lone)"]
    (folder / "visit.en.txt").rename(tmp_path / "visit.en.txt")
    (folder / "storm.en.txt").rename(folder / "visit.en.txt")
    (tmp_path / "visit.en.txt").rename(folder / "storm.en.txt")
    swapped = build(settings, folder, tmp_path / "out", "swapped", min_confidence=0.0)
    belongs = [w for w in swapped.warnings if "seems to belong to another article" in w]
    assert sorted(w.split(":")[0] for w in belongs) == ["article storm", "article visit"]
    # their rows stay in the corpus, and leave the filtered one, however confident each row is
    run = Path(swapped.output_dir or "")
    assert {"storm", "visit"} <= set(pl.read_parquet(run / "aligned.parquet")["article_id"].to_list())
    # lone has no reference: MT only, so no pair of the filtered corpus either
    assert pl.read_parquet(run / "aligned.min-confidence-0.parquet").is_empty()
    assert swapped.counts.filtered_left_out_references == 2
    assert "the rows of 2 references that seem another article's left out" in (run / "report.md").read_text()
    for warning in belongs:  # a row both flagged and without a counterpart counts once
        doubtful, rows = map(int, re.search(r"\((\d+) of (\d+) rows", warning).groups())  # type: ignore[union-attr]
        assert doubtful <= rows
    scores = RunSummary.read(Path(swapped.output_dir or ""))
    assert scores is not None and scores.warnings == swapped.warnings


def test_log_lines_show_an_article_id_from_a_file_name_escaped(services, tmp_path, caplog) -> None:
    """A bidi override in a file name reaches every log line that names the article: escaped, it cannot
    reorder the text after it on a terminal that shows the log (a CI log, `tee`). (A terminal escape, a
    control character, is refused in an id: ``tests/test_input_names.py``.)"""
    folder = tmp_path / "articles"
    folder.mkdir()
    arabic, english = ARTICLES["storm"]
    (folder / "a\u202ered.ar.txt").write_text(arabic, encoding="utf-8")
    (folder / "a\u202ered.en.txt").write_text(english, encoding="utf-8")
    with caplog.at_level(logging.INFO, logger="tarjama.corpus.build"):
        build(libre(tmp_path / "home", services), folder, tmp_path / "out", "escaped")
    naming = [r.getMessage() for r in caplog.records if "red" in r.getMessage()]
    assert naming and all("\u202e" not in line and "a\\u202ered" in line for line in naming), naming


def test_the_signature_says_what_the_engine_was_sent(tmp_path) -> None:
    """Under rows of sentences the engine is sent whole sentences whatever --translate says: the signature
    says so, and --translate then changes nothing (no rebuild, no new request)."""
    settings = Settings.load({"TARJAMA_HOME": str(tmp_path)}, tmp_path, engine="libre", engine_url="http://127.0.0.1:9")
    assert pipeline_signature(settings).translate == "units"
    sentences = settings.model_copy(update={"rows": "sentences"})
    either = [sentences.model_copy(update={"translate": mode}) for mode in UnitTranslation]
    assert {pipeline_signature(s).format() for s in either} == {pipeline_signature(sentences).format()}
    assert pipeline_signature(sentences).translate == "sentences"


def test_the_same_articles_through_another_memory_get_plots_of_their_own_rows(services, tmp_path) -> None:
    """Two output folders of the same articles and settings, with memories that hold other translations: the
    same shard keys, other rows. The plot cache in the home served the second run the first's PNGs (and a
    cache of overall scores keyed by shard keys would have served it the first's scores)."""
    import shutil
    import sqlite3

    from tarjama.corpus.plots import plot_run

    articles, home = write_articles(tmp_path / "articles"), tmp_path / "home"
    first = build(libre(home, services, memory=str(tmp_path / "one.sqlite")), articles, tmp_path / "out1", "run")
    shutil.copyfile(tmp_path / "one.sqlite", tmp_path / "two.sqlite")
    with sqlite3.connect(tmp_path / "two.sqlite") as other:  # another MT of every text: twice as long
        other.execute("UPDATE translations SET target = target || ' ' || target")
    other.close()
    sent = len(services.requests())
    second = build(libre(home, services, memory=str(tmp_path / "two.sqlite")), articles, tmp_path / "out2", "run")
    assert len(services.requests()) == sent and second.pipeline_signature == first.pipeline_signature
    folders = [Path(first.output_dir or ""), Path(second.output_dir or "")]
    mt = [pl.read_parquet(folder / "aligned.parquet")["english_mt"].to_list() for folder in folders]
    assert mt[0] != mt[1]
    for folder in folders:  # each run's plots are those of its own rows
        fresh = plot_run(pl.scan_parquet(folder / "aligned.parquet"), tmp_path / "fresh" / folder.parent.name)
        for plot in fresh:
            assert (folder / "plots" / plot.path.name).read_bytes() == plot.path.read_bytes(), plot.path.name
    assert (folders[0] / "plots" / "length-ratio.png").read_bytes() != (
        folders[1] / "plots" / "length-ratio.png"
    ).read_bytes()
    kept = sorted(path.name for path in (home / "plots").iterdir())
    assert len(kept) == 2
    again = build(libre(home, services, memory=str(tmp_path / "one.sqlite")), articles, tmp_path / "out1", "again")
    assert again.counts.reused_articles == 2
    assert sorted(path.name for path in (home / "plots").iterdir()) == kept  # an identical rerun: plots reused
    for plot in first.plots:
        assert (Path(again.output_dir or "") / plot.path).read_bytes() == (folders[0] / plot.path).read_bytes()
    # the overall scores too: kept by the same rows, each memory's run has its own, the identical rerun reads them
    assert first.overall and second.overall and first.overall != second.overall
    scores_kept = sorted(path.name for path in (home / "scores").iterdir())
    assert len(scores_kept) == 2 and again.overall == first.overall
    assert sorted(path.name for path in (home / "scores").iterdir()) == scores_kept


def test_a_filtered_corpus_records_the_filter_that_made_it(services, tmp_path) -> None:
    """``--filter-checks language`` and ``--filter-checks numbers`` wrote files of one name with the same
    metadata, and neither scores.json, the report nor the dataset card named the checks."""
    from tarjama.corpus.dataset_card import markdown_text

    articles, settings = write_articles(tmp_path / "articles"), libre(tmp_path / "home", services)
    signatures = []
    for check in ("language", "numbers"):
        summary = build(
            settings,
            articles,
            tmp_path / "out",
            check,
            formats=("parquet", "hf"),
            min_confidence=0.7,
            filter_checks=(check,),
        )
        folder = Path(summary.output_dir or "")
        expected = f"min-confidence:0.7|passing-checks:{check}|rows:reference-pairs"
        signatures.append(expected)
        written = RunSummary.read(folder)
        assert written is not None and written.counts.filter == summary.counts.filter == CorpusFilter(0.7, (check,))
        counts = json.loads((folder / "scores.json").read_text(encoding="utf-8"))["counts"]  # as users read it
        assert (counts["min_confidence"], counts["filter_checks"], counts["filter"]) == (0.7, [check], expected)
        filtered = pl.read_parquet_metadata(folder / "aligned.min-confidence-0.7.passing-checks.parquet")
        assert filtered["tarjama.filter"] == expected
        assert filtered["tarjama.pipeline"] == summary.pipeline_signature  # beside the signatures
        assert "tarjama.filter" not in pl.read_parquet_metadata(folder / "aligned.parquet")
        report = (folder / "report.md").read_text(encoding="utf-8")
        assert f"aligned with confidence at least 0.7 and failing none of the checks {check}" in report
        card = (folder / "README.md").read_text(encoding="utf-8")
        assert f"| {markdown_text('min-confidence-0.7.passing-checks')} |" in card
        assert markdown_text(expected) in card and "| none: every row |" in card
    assert signatures[0] != signatures[1]


def test_a_filtered_run_leaves_out_the_articles_without_a_reference(services, tmp_path) -> None:
    """`tarjama run filt/ --min-confidence 0.5 -f tsv,moses,hf`, filt/ holding articles with their references and
    one without (noref.ar.txt). Seen: the filtered files held noref's rows (confidence 1.0, an empty `.en` line,
    and its MT as `en` in the filtered hf set, beside human references)."""
    import json

    from loopback_services import fake_english

    from tarjama.text.article import parse_document

    articles = tmp_path / "filt"
    articles.mkdir()
    for name, (arabic, _) in ARTICLES.items():  # references the service agrees with: confidently aligned
        (articles / f"{name}.ar.txt").write_text(arabic, encoding="utf-8")
        units = parse_document(arabic, articles / f"{name}.ar.txt", "ar").units
        english = " ".join(f"This is the {fake_english(unit.text).rstrip('.,،')} of the day." for unit in units)
        (articles / f"{name}.en.txt").write_text(english + "\n", encoding="utf-8")
    (articles / "noref.ar.txt").write_text(ARTICLES["storm"][0].replace("الثلاثاء", "الأربعاء"), encoding="utf-8")
    summary = build(
        libre(tmp_path / "home", services),
        articles,
        tmp_path / "out",
        "r",
        formats=("tsv", "moses", "hf"),
        min_confidence=0.5,
    )
    run = Path(summary.output_dir or "")
    full = pl.read_parquet(run / "aligned.parquet")
    assert full.filter(pl.col("article_id") == "noref")["alignment_confidence"].min() == 1.0  # confident, MT only
    filtered = pl.read_parquet(run / "aligned.min-confidence-0.5.parquet")
    assert summary.counts.filtered_rows == filtered.height > 0 and "noref" not in filtered["article_id"].to_list()
    assert (filtered["reference"] != "").all() and (filtered["english_reference"] != "").all()
    stem = run / "aligned.min-confidence-0.5"
    english = Path(f"{stem}.en").read_text(encoding="utf-8").splitlines()
    assert english == filtered["english_reference"].to_list() and all(english)  # no empty reference line
    hf = [json.loads(line)["translation"]["en"] for line in Path(f"{stem}.hf.jsonl").read_text().splitlines()]
    assert hf == english  # human references only, never the MT
    assert "noref" not in Path(f"{stem}.tsv").read_text(encoding="utf-8")
    assert "pairs with a human reference only" in (run / "report.md").read_text(encoding="utf-8")


def test_a_reused_article_is_named_where_this_run_read_it(services, tmp_path) -> None:
    """After ``cp -r in/c1 in/moved``, a run on ``in/moved`` reused the articles and wrote ``in/c1/...`` in
    scores.json's paths and warnings; a reordered manifest kept the old line numbers."""
    import json
    import shutil

    settings, out = libre(tmp_path / "home", services), tmp_path / "out"
    first_folder = write_articles(tmp_path / "in" / "c1")
    first = build(settings, first_folder, out, "first")
    moved_folder = tmp_path / "in" / "moved"
    shutil.copytree(first_folder, moved_folder)
    moved = build(settings, moved_folder, out, "moved")
    assert moved.counts.reused_articles == 2 and moved.warnings  # the loopback MT makes references look foreign
    written = (Path(moved.output_dir or "") / "scores.json").read_text(encoding="utf-8")
    assert str(first_folder) not in written and str(first_folder) not in moved.model_dump_json()
    for article in moved.articles:
        assert article.path == str(moved_folder / f"{article.article_id}.ar.txt")
        assert [r.path for r in article.references] == [str(moved_folder / f"{article.article_id}.en.txt")]
    assert all(str(moved_folder) in warning for warning in moved.warnings)
    rows = [pl.read_parquet(Path(s.output_dir or "") / "aligned.parquet") for s in (first, moved)]
    assert rows[0].equals(rows[1])

    records = [
        {"id": name, "text": arabic, "references": [{"label": "en", "text": english}]}
        for name, (arabic, english) in ARTICLES.items()
    ]
    manifest = tmp_path / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    build(settings, manifest, out, "listed")
    manifest.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records[::-1]), encoding="utf-8")
    reordered = build(settings, manifest, out, "reordered")
    assert reordered.counts.reused_articles == 2
    lines = {name: len(records) - number for number, name in enumerate(ARTICLES)}  # 1-based, reversed
    for article in reordered.articles:
        line = lines[article.article_id]
        assert article.path == f"{manifest}:{line}"
        assert [r.path for r in article.references] == [f"{manifest}:{line} (reference en)"]
