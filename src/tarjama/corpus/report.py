"""A human-readable markdown report of a run (also shown in the Prefect UI as an artifact).

It renders the same summary that is written to ``scores.json``, so the two
never disagree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from tarjama.corpus.results import ArticleResult, ReferenceResult, RunSummary
from tarjama.corpus.schema import FLAG_BELOW
from tarjama.errors import counted, printable
from tarjama.quality.score import MIN_SEGMENTS_FOR_CI, MetricScore

_HTML_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;"}
_MARKDOWN_PUNCTUATION = frozenset("\\`*_[]()#!|~")  # what can start markup inside a line


def md_text(value: object) -> str:
    """Any text from input (an id, a label, a path, a run name, a reason) as Markdown that shows exactly
    that text, on one line, and is never markup, a link, a table break or HTML.

    Unprintable characters (line breaks, terminal escapes, bidi overrides) become visible escapes;
    HTML's special characters become entities, which every Markdown renderer shows as the character
    and none runs; other ASCII punctuation is backslash-escaped (CommonMark's rule for literal text).
    Flow artifacts shown in the Prefect UI pass their input texts through this too.
    """
    out = []
    for char in printable(str(value)):
        if char in _HTML_ENTITIES:
            out.append(_HTML_ENTITIES[char])
        elif char in _MARKDOWN_PUNCTUATION:
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def md_code(value: object, *, in_table: bool = False) -> str:
    """Any text (a signature, a setting, a run name) as a Markdown inline code span that shows exactly that
    text: fenced by one backtick more than its longest run of backticks, so none inside closes the span, and
    padded by a space each side (which CommonMark strips) when it begins or ends with a backtick, or with a
    space at both ends (CommonMark would strip one of those), so the span shows the text as it is.

    Inside a code span nothing is markup or HTML, so nothing is escaped but what a span cannot hold:
    unprintable characters become visible escapes (as in :func:`md_text`), and in a table cell
    (``in_table``) each pipe is escaped, which GFM tables read as a pipe inside the cell.
    """
    text = printable(str(value))
    if in_table:  # spaces around it let a narrow card (the Prefect UI) wrap a long signature there
        text = text.replace("|", r" \| ")
    fence = "`" * (max((len(run) for run in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or (text[:1] == text[-1:] == " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def md_cell(value: object) -> str:
    """A value as a Markdown table cell: text through :func:`md_text` (so a pipe stays inside its cell),
    a number as written (a fraction to 4 significant digits), nothing as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, bool | int):
        return str(value)
    return md_text(value)


def md_table(records: Sequence[Mapping[str, object]]) -> str:
    """Records (one mapping a row; the columns are their keys, in the order first seen) as a Markdown table.

    The Prefect UI shows a *table* artifact's cells as Markdown in its first version and as plain text
    in its second, so an escaped cell is safe in one and unreadable in the other (``&quot;``, ``\\(``);
    a Markdown artifact holding this table is rendered as Markdown by both, and reads as the text."""
    columns = list(dict.fromkeys(name for record in records for name in record))
    if not columns:
        return "(none)\n"
    lines = ["| " + " | ".join(md_text(name) for name in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(md_cell(record.get(name)) for name in columns) + " |" for record in records]
    return "\n".join(lines) + "\n"


def md_link_target(path: str) -> str:
    """A relative file path as a link target: each character that could end or redirect the link encoded."""
    return quote(path, safe="/")


def _score_table(scores: list[MetricScore]) -> list[str]:
    lines = []
    small = next((s for s in scores if s.small_sample), None)
    if small is not None:
        lines += [
            f"**Warning:** only {counted(small.segments, 'segment')}: the 95% intervals below are too wide to mean much "
            f"(at least {MIN_SEGMENTS_FOR_CI} are needed for them to cover the true score 90% of the time).",
            "",
        ]
    lines += ["| metric | score | 95% CI | signature |", "|---|---:|---:|---|"]
    for s in scores:
        ci = (
            f"± {s.ci95:.2f} (μ {s.bootstrap_mean:.2f})"
            if s.ci95 is not None and s.bootstrap_mean is not None
            else "n/a"
        )
        lines.append(f"| {s.metric} | {s.score:.2f} | {ci} | {md_code(s.signature, in_table=True)} |")
    return lines


def _reference_lines(ref: ReferenceResult) -> list[str]:
    if ref.reference is None:
        return [f"- no reference: {counted(ref.rows, 'source↔MT row')}, not scored"]
    return [
        f"- reference {md_text(ref.reference)} ({md_text(ref.path)}): {counted(ref.reference_sentences or 0, 'sentence')}, "
        f"{counted(ref.rows, 'aligned row')}, {ref.flagged} flagged (alignment confidence below {FLAG_BELOW}; kept, marked in the TSV)",
        "",
        *_score_table(ref.scores),
        "",
    ]


def _article_lines(article: ArticleResult) -> list[str]:
    lines = [
        f"## {md_text(article.article_id)}",
        "",
        f"- source: {md_text(article.path)}",
        f"- engine: {md_text(article.engine)} (model {md_text(article.model)})",
        f"- Arabic sentences: {article.sentences}, clause units: {article.units}; translated as "
        f"{counted(article.translated_texts, 'text')}, {article.from_memory} from the translation memory",
    ]
    for ref in article.references:
        lines += _reference_lines(ref)
    timings = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in article.timings_s.items())
    return [*lines, "", f"Timings: {timings}", ""]


def render_article(article: ArticleResult) -> str:
    """Markdown for one article (its Prefect artifact)."""
    return "\n".join(["# tarjama article report", "", *_article_lines(article)]).rstrip() + "\n"


def render_report(
    summary: RunSummary, article_rows: int | None = None, plot_url: Callable[[str], str | None] = md_link_target
) -> str:
    """Markdown for a run summary: one article in full; a corpus as its scores, counts and plots, then
    one table row per article and reference (the first ``article_rows`` of them, if given). ``plot_url``
    places each plot (a path in the run folder) as it is shown: by default beside the report; None names
    the plot instead of showing an image that is not served."""
    lines = [f"# tarjama run {md_text(summary.run)}", ""]
    if summary.wall_time_s is not None:
        lines += [f"Wall time: {summary.wall_time_s:.1f} s", ""]
    if summary.alignment_signature:
        lines += [f"Alignment: {md_code(summary.alignment_signature)}", ""]
    if summary.pipeline_signature:
        lines += [f"Pipeline: {md_code(summary.pipeline_signature)}", ""]
    if len(summary.articles) == 1:
        lines += _article_lines(summary.articles[0])
    if summary.overall:
        lines += ["## All articles (first reference each)", "", *_score_table(summary.overall), ""]
    lines += _corpus_lines(summary, plot_url)
    if len(summary.articles) > 1:
        lines += _articles_table(summary.articles, article_rows)
    return "\n".join(lines).rstrip() + "\n"


ARTICLE_METRICS = ("BLEU", "chrF", "chrF++", "TER")


def _articles_table(articles: list[ArticleResult], limit: int | None) -> list[str]:
    """A corpus's articles, a row per article and reference: thousands of articles stay one table, not
    thousands of sections (each article's intervals and timings are in ``scores.json``)."""
    header = ["article", "reference", "sentences", "rows", "flagged", *ARTICLE_METRICS]
    lines = ["## Articles", "", "| " + " | ".join(header) + " |", "|---|---|" + "---:|" * (len(header) - 2)]
    shown = 0
    for article in articles:
        for ref in article.references:
            if limit is not None and shown >= limit:
                break
            scores = [ref.score(metric) for metric in ARTICLE_METRICS]
            cells = [md_text(article.article_id), md_text(ref.reference or "(none)"), article.sentences, ref.rows]
            cells.append(ref.flagged)
            cells += ["" if score is None else f"{score:.2f}" for score in scores]
            lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
            shown += 1
    total = sum(len(article.references) for article in articles)
    if shown < total:
        lines += ["", f"The first {shown} of {total} rows: `report.md` and `scores.json` of the run have them all."]
    return [*lines, ""]


def _corpus_lines(summary: RunSummary, plot_url: Callable[[str], str | None]) -> list[str]:
    counts = summary.counts
    lines = [
        "## Corpus",
        "",
        f"- {counted(len(summary.articles), 'article')} built ({counts.reused_articles} reused from earlier runs), "
        f"{len(summary.failures)} failed",
        f"- {counted(counts.rows, 'aligned row')}, {counts.flagged} flagged",
    ]
    if counts.duplicates_dropped is not None:
        lines.append(f"- {counted(counts.duplicates_dropped, 'duplicate pair')} dropped (`--dedupe`)")
    if counts.filtered_rows is not None:
        left_out, threshold = counts.filtered_left_out_references, counts.filter and counts.filter.min_confidence
        kept = [f"aligned with confidence at least {threshold:g}"] if threshold is not None else []
        if counts.filter and counts.filter.checks:
            kept.append("failing none of the checks " + ", ".join(md_text(name) for name in counts.filter.checks))
        lines.append(
            f"- filtered corpus: {counted(counts.filtered_rows, 'row')}"
            + (f" {' and '.join(kept)}" if kept else "")
            + ", pairs with a human reference only (no row with an empty side, no MT-only row)"
            + (
                f"; the rows of {counted(left_out, 'reference')} that seem another article's left out"
                if left_out
                else ""
            )
        )
        if counts.filter:
            lines.append(f"- filter: {md_text(counts.filter.format())}")
    if counts.files:
        lines.append("- files: " + ", ".join(md_text(name) for name in counts.files))
    lines.append("")
    if summary.checks_failed:
        lines += ["## Reference-free checks", "", "| check | rows failing |", "|---|---:|"]
        lines += [f"| {md_text(name)} | {count} |" for name, count in summary.checks_failed.items()]
        lines += [
            "",
            "Rows that fail a check are kept, with the check in `checks_failed` and why in `check_notes`.",
            "",
        ]
    if summary.failures:
        lines += ["## Failed articles", "", "| article | from | reason |", "|---|---|---|"]
        lines += [f"| {md_text(f.article_id)} | {md_text(f.origin)} | {md_text(f.reason)} |" for f in summary.failures]
        lines.append("")
    if summary.plots:
        lines += ["## Plots", ""]
        for plot in summary.plots:
            url = plot_url(plot.path)
            shown = (
                f"Plot: {md_text(plot.title)} ({md_text(plot.path)})"
                if url is None
                else f"![{md_text(plot.title)}]({url})"
            )
            lines += [shown, ""]
            if plot.warning:
                lines += [f"**Warning:** {md_text(plot.warning)}", ""]
    return lines


HTML_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
table {{ border-collapse: collapse; margin: 1rem 0; }} th, td {{ border: 1px solid #ccc; padding: .25rem .5rem; }}
td {{ overflow-wrap: anywhere; }} code {{ background: #f4f4f4; padding: 0 .2rem; overflow-wrap: anywhere; }}
img {{ max-width: 100%; }}
</style></head><body>
{body}
</body></html>
"""


HTML_TABLE_ROWS = 500
"""Table rows markdown-it renders at once: its tokens for a 10,000-row table took 600 MB."""


def render_html(markdown: str, title: str) -> str:
    """The report as a standalone HTML page (its plots are relative links into the run folder).

    Input texts are escaped by :func:`md_text` in the Markdown, and raw HTML is off in the renderer too.

    Rendered a block at a time (blocks are independent in our reports), and a long table
    :data:`HTML_TABLE_ROWS` rows at a time, so memory does not grow with the number of articles.
    """
    from html import escape

    from markdown_it import MarkdownIt

    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")  # raw HTML shown as text, never run
    body = "".join(_render_block(renderer, block) for block in markdown.split("\n\n"))
    return HTML_PAGE.format(title=escape(title), body=body)


def _render_block(renderer: Any, block: str) -> str:
    lines = block.split("\n")
    table = block.rstrip("\n").split("\n")  # the report's last block ends its text
    if len(table) >= 2 and all(line.startswith("|") for line in table):
        direct = _html_table(table)
        if direct is not None:
            return direct
    is_table = len(lines) > 2 + HTML_TABLE_ROWS and all(line.startswith("|") for line in lines)
    if not is_table:
        return renderer.render(block + "\n")
    header, rows = lines[:2], lines[2:]
    parts = [
        renderer.render("\n".join([*header, *rows[i : i + HTML_TABLE_ROWS]]) + "\n")
        for i in range(0, len(rows), HTML_TABLE_ROWS)
    ]
    # the same table in one piece: each part's body rows after the first part's head
    bodies = [part.split("<tbody>\n", 1)[1].rsplit("</tbody>", 1)[0] for part in parts]
    head = parts[0].split("<tbody>\n", 1)[0]
    return head + "<tbody>\n" + "".join(bodies) + "</tbody>\n</table>\n"


_MD_TRIM = "\t\n\x0b\x0c\r \xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
"""What markdown-it trims a table cell of (CommonMark's whitespace and Unicode's spaces)."""
_SEPARATOR_LINE = re.compile(r"\|(?:[ \t]*:?-+:?[ \t]*\|)+")
_CELL_DELIMITER = re.compile(r"(?<!\\)\|")  # a pipe not after a backslash, as markdown-it splits a row
_ESCAPE_OR_ENTITY = r"\\[!-/:-@\[-`{-~]|&(?:lt|gt|amp|quot|#39);"
_PLAIN_CELL = re.compile(rf"(?:[^\\`*_\[\]!<&\n]|{_ESCAPE_OR_ENTITY})*")
_DECODED = re.compile(r"\\([!-/:-@\[-`{-~])|&(lt|gt|amp|quot|#39);")
_ENTITY_TEXT = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "#39": "'"}


def _html_table(lines: Sequence[str]) -> str | None:
    """The HTML markdown-it renders for a GFM table of plain cells (:func:`md_text`'s text, numbers),
    built directly: parsing a 5,000-row table with markdown-it took 4.5 s of a warm rerun. None when the
    table is not that simple (a cell with a code span or other markup, an irregular row): markdown-it
    renders it. ``tests/test_report.py`` checks the two agree, hostile texts included."""
    header, separator, rows = lines[0], lines[1], lines[2:]
    if not _SEPARATOR_LINE.fullmatch(separator.strip(_MD_TRIM)):
        return None
    aligns = []
    for cell in separator.strip(_MD_TRIM).strip("|").split("|"):
        rule = cell.strip(_MD_TRIM)
        aligns.append(
            ' style="text-align:center"'
            if rule.startswith(":") and rule.endswith(":")
            else ' style="text-align:right"'
            if rule.endswith(":")
            else ' style="text-align:left"'
            if rule.startswith(":")
            else ""
        )
    head = _table_cells(header, len(aligns))
    if head is None:
        return None
    out = ["<table>\n<thead>\n<tr>\n"]
    out += [f"<th{align}>{cell}</th>\n" for align, cell in zip(aligns, head, strict=True)]
    out.append("</tr>\n</thead>\n")
    if rows:
        out.append("<tbody>\n")
    for row in rows:
        cells = _table_cells(row, len(aligns))
        if cells is None:
            return None
        out.append("<tr>\n")
        out += [f"<td{align}>{cell}</td>\n" for align, cell in zip(aligns, cells, strict=True)]
        out.append("</tr>\n")
    if rows:
        out.append("</tbody>\n")
    out.append("</table>\n")
    return "".join(out)


def _table_cells(line: str, count: int) -> list[str] | None:
    """A table row's ``count`` cells as HTML, split and unescaped as markdown-it does; None unless each is plain."""
    columns = _CELL_DELIMITER.split(line.strip(_MD_TRIM))
    if columns and columns[0] == "":
        columns.pop(0)
    if columns and columns[-1] == "":
        columns.pop()
    if len(columns) != count:
        return None
    cells = []
    for column in columns:
        text = column.replace("\\|", "|").strip(_MD_TRIM)  # an escaped pipe is a pipe in its cell
        if not _PLAIN_CELL.fullmatch(text):
            return None
        decoded = _DECODED.sub(lambda found: found[1] or _ENTITY_TEXT[found[2]], text)
        cells.append(decoded.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"))
    return cells
