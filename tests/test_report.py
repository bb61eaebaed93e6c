"""The run report: one article in full, a corpus as one table of articles; HTML in bounded memory."""

from __future__ import annotations

import dataclasses
import json

import pytest
from conftest import NTREX
from markdown_it import MarkdownIt

from tarjama.corpus.export import CorpusFilter
from tarjama.corpus.report import HTML_TABLE_ROWS, render_html, render_report
from tarjama.corpus.results import ArticleResult, CorpusCounts, ReferenceResult, RunSummary
from tarjama.errors import printable
from tarjama.quality.score import corpus_statistics, scores_from_statistics

REFERENCE = (NTREX / "gold" / "ntrex128-dev.en.lines").read_text(encoding="utf-8").splitlines()[:40]


def article(number: int) -> ArticleResult:
    """An article whose "MT" is its reference with every third word dropped: real scores, each different."""
    lines = REFERENCE[number % 30 : number % 30 + 10]
    mt = [" ".join(w for i, w in enumerate(line.split()) if (i + number) % 3) for line in lines]
    scores = scores_from_statistics(corpus_statistics(mt, lines))
    return ArticleResult(
        article_id=f"a{number:05d}",
        path=f"corpus/a{number:05d}.ar.txt",
        sentences=10,
        units=12,
        engine="google",
        model="google-translate-web",
        translated_texts=12,
        from_memory=0,
        references=[
            ReferenceResult(reference="en", path="x.en.txt", reference_sentences=10, rows=10, flagged=1, scores=scores)
        ],
    )


@pytest.fixture(scope="module")
def articles() -> list[ArticleResult]:
    built = [article(n) for n in range(30)]
    return [built[n % 30].model_copy(update={"article_id": f"a{n:05d}"}) for n in range(2 * HTML_TABLE_ROWS + 200)]


def summary(articles: list[ArticleResult]) -> RunSummary:
    return RunSummary(
        run="r", engine_requested="google", articles=articles, counts=CorpusCounts(rows=10 * len(articles))
    )


def test_a_corpus_report_is_one_table_of_articles(articles):
    report = render_report(summary(articles))
    assert "## a00000" not in report  # no section per article
    table = [line for line in report.split("## Articles", 1)[1].splitlines() if line.startswith("| a0")]
    assert [line.split(" | ")[0] for line in table] == [f"| {a.article_id}" for a in articles]
    first = articles[0].references[0]
    assert table[0].endswith(
        f"| {first.score('BLEU'):.2f} | {first.score('chrF'):.2f} | "
        f"{first.score('chrF++'):.2f} | {first.score('TER'):.2f} |"
    )

    short = render_report(summary(articles), article_rows=50)
    assert sum(line.startswith("| a0") for line in short.splitlines()) == 50
    assert f"The first 50 of {len(articles)} rows" in short


def test_one_article_is_reported_in_full(articles):
    report = render_report(summary(articles[:1]))
    assert "## a00000" in report and "## Articles" not in report and "| metric | score | 95% CI |" in report
    assert "- 1 article built (0 reused from earlier runs)" in report  # "1 articles" before
    assert "- 2 articles built" in render_report(summary(articles[:2]))


@pytest.mark.parametrize("count", [1, 3, 2 * HTML_TABLE_ROWS + 200])
def test_html_rendered_in_pieces_equals_the_whole_document(articles, count):
    markdown = render_report(summary(articles[:count]))
    whole = MarkdownIt("commonmark").enable("table").render(markdown)
    page = render_html(markdown, "t")
    assert whole in page  # the table cut in pieces of HTML_TABLE_ROWS rows and joined back, byte for byte


INJECTIONS = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "a|b\n## x [l](javascript:alert(1))")

TABLE_TEXTS = (
    *INJECTIONS,
    "back\\slash\\|pipe \\",
    "&amp; &lt; &#39; &quot; & < > ' \"",
    "*em* _em_ **b** `code` ![i](x) [l](y) <http://x> ~~s~~",
    "  spaced  \u00a0\u2003\t| ",
    "\u202ertl\u202c \x1b[31m \u0645\u0642\u0627\u0644",
    "",
)


@pytest.mark.parametrize("text", TABLE_TEXTS)
def test_html_tables_are_the_ones_markdown_it_renders_whatever_the_cells_hold(articles, text):
    """A warm rerun of 5,000 articles spent 4.5 s parsing report.md's tables with markdown-it: tables of plain
    cells are built directly, byte for byte the HTML markdown-it renders for them, hostile texts included."""
    from tarjama.corpus.report import _html_table
    from tarjama.corpus.results import ArticleFailure

    odd = [
        one.model_copy(
            update={
                "article_id": f"{text}{number}",
                "references": [one.references[0].model_copy(update={"reference": text or None})],
            }
        )
        for number, one in enumerate(articles[:3])
    ]
    run = summary(odd).model_copy(
        update={
            "failures": [ArticleFailure(article_id=text, origin=text, reason=text)],
            "checks_failed": {text or "x": 3},
        }
    )
    markdown = render_report(run)
    page = render_html(markdown, "t")
    assert MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown) in page
    tables = [block.rstrip("\n").split("\n") for block in markdown.split("\n\n") if block.startswith("| article |")]
    assert tables and all(_html_table(table) is not None for table in tables)  # built directly, not parsed


@pytest.mark.parametrize("hostile", INJECTIONS)
def test_input_texts_are_shown_as_text_never_as_markup(articles, hostile):
    """Ids, reference labels, paths, failure reasons and the run name come from input: in report.md they are
    literal text (one table cell, no link, no HTML), in report.html escaped characters."""
    from tarjama.corpus.results import ArticleFailure

    bad = articles[0].model_copy(
        update={
            "article_id": hostile,
            "path": hostile,
            "references": [articles[0].references[0].model_copy(update={"reference": hostile, "path": hostile})],
        }
    )
    for shown in ([bad], [bad, articles[1]]):
        run = summary(shown).model_copy(
            update={"run": hostile, "failures": [ArticleFailure(article_id=hostile, origin=hostile, reason=hostile)]}
        )
        markdown = render_report(run)
        page = render_html(markdown, f"tarjama run {hostile}")
        assert "<script" not in page and "<img" not in page and "<a " not in page  # no element from input
        assert "\n## x" not in markdown
        tokens = (
            MarkdownIt("commonmark")
            .enable("table")
            .parseInline(markdown.splitlines()[0].removeprefix("# "))[0]
            .children
        )
        assert "".join(t.content for t in tokens if t.type == "text") == f"tarjama run {hostile}".replace("\n", "\\n")
        if len(shown) > 1:  # the table keeps its columns: the pipe in the id is inside its cell
            row = next(line for line in markdown.split("## Articles", 1)[1].splitlines() if "alert" in line)
            assert row.replace("\\|", "").count("|") == 10


def test_the_filter_is_kept_once_and_scores_json_says_it_as_before() -> None:
    """``counts`` kept the filter three times (``min_confidence``, ``filter_checks`` and ``filter``, its
    format), each set on its own. It is one value now; ``scores.json`` holds the same fields, in the same
    places, and one written before ``filter`` was recorded is read with its filter."""
    counts = CorpusCounts(rows=5, filter=CorpusFilter(0.7, ("language", "numbers")), filtered_rows=3)
    written = json.loads(counts.model_dump_json())
    assert list(written)[4:8] == ["duplicates_dropped", "min_confidence", "filter_checks", "filter"]
    assert (written["min_confidence"], written["filter_checks"], written["filter"]) == (
        0.7,
        ["language", "numbers"],
        "min-confidence:0.7|passing-checks:language,numbers|rows:reference-pairs",
    )
    assert CorpusCounts.model_validate_json(counts.model_dump_json()) == counts
    older = {name: value for name, value in written.items() if name != "filter"}
    assert CorpusCounts.model_validate(older).filter == counts.filter
    unfiltered = json.loads(CorpusCounts(rows=5).model_dump_json())
    assert (unfiltered["min_confidence"], unfiltered["filter_checks"], unfiltered["filter"]) == (None, [], None)
    assert CorpusCounts.model_validate(unfiltered).filter is None
    report = render_report(
        RunSummary(run="r", engine_requested="libre", articles=[article(1), article(2)], counts=counts)
    )
    assert "aligned with confidence at least 0.7 and failing none of the checks language, numbers" in report
    assert "- filter: min-confidence:0.7" in report and "passing-checks:language,numbers" in report


CODE_SPAN_BREAKERS = (
    "engine-url:http://127.0.0.1:4719/`<img src=x onerror=alert(1)>[x](javascript:alert(1))`/",
    "``a`` ```b``` `",
    "` starts and ends with a backtick `",
    "tab\there\nand a new line\x1b[31m",
)


@pytest.mark.parametrize("hostile", CODE_SPAN_BREAKERS)
def test_signatures_are_code_spans_whatever_they_hold(articles, hostile):
    """A signature names settings (an engine URL, a model path) and was wrapped in single backticks: one
    inside closed the span, and what followed was raw HTML in report.md and a live link in the UI."""
    from tarjama.corpus.report import md_code

    for shown in (md_code(hostile), md_code(hostile, in_table=True)):
        tokens = MarkdownIt("commonmark").parseInline(shown)[0].children or []
        assert [t.type for t in tokens] == ["code_inline"]
        assert tokens[0].content == printable(hostile).replace("|", r" \| ")
    scored = articles[0].references[0].scores
    hostile_scores = [dataclasses.replace(s, signature=f"nrefs:1|{hostile}") for s in scored]
    one = articles[0].model_copy(
        update={"references": [articles[0].references[0].model_copy(update={"scores": hostile_scores})]}
    )
    run = summary([one]).model_copy(update={"alignment_signature": hostile, "pipeline_signature": hostile})
    markdown = render_report(run)
    page = render_html(markdown, "t")
    assert "<img" not in page and "<a " not in page
    spans = [t for t in MarkdownIt("commonmark").enable("table").parse(markdown) if t.type == "inline"]
    codes = [c.content for t in spans for c in t.children or [] if c.type == "code_inline"]
    assert codes.count(printable(hostile)) == 2  # alignment and pipeline
    assert codes.count(f"nrefs:1 | {printable(hostile)}") == len(hostile_scores)  # the pipes escaped in the cell
    assert not [c for t in spans for c in t.children or [] if c.type in {"link_open", "html_inline", "image"}]


def test_a_markdown_table_shows_each_value_in_its_own_cell_as_text():
    """The tables of a run's Prefect artifacts (``md_table``): a pipe, a link, HTML or a line break in a value stay
    text inside its cell, a missing value is an empty cell, a later record's new key a new column."""
    from tarjama.corpus.report import md_table

    records = [{"article": hostile, "score": 12.3456, "rows": 3} for hostile in INJECTIONS]
    records.append({"article": "gone", "failed": "timed out"})
    html = MarkdownIt("commonmark").enable("table").render(md_table(records))
    assert "<script" not in html and "<a " not in html and "\n## x" not in html
    tokens = MarkdownIt("commonmark").enable("table").parse(md_table(records))
    cells = [t for t in tokens if t.type == "inline"]
    assert len(cells) == 4 * (1 + len(records))
    texts = ["".join(c.content for c in t.children or [] if c.type == "text") for t in cells]
    assert texts[:4] == ["article", "score", "rows", "failed"]
    assert texts[4:8] == [INJECTIONS[0], "12.35", "3", ""]
    assert texts[-4:] == ["gone", "", "", "timed out"]
    assert texts[12] == printable(INJECTIONS[2])
    assert md_table([]) == "(none)\n"
