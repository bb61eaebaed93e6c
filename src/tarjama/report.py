"""A human-readable markdown report of a run (also shown in the Prefect UI as an artifact).

It renders the same summary that is written to ``scores.json``, so the two
never disagree.
"""

from __future__ import annotations

from typing import Any

from tarjama.parallel_corpus import FLAG_BELOW


def _score_table(scores: list[dict[str, Any]]) -> list[str]:
    lines = ["| metric | score | 95% CI | signature |", "|---|---:|---:|---|"]
    for s in scores:
        ci = f"± {s['ci95']:.2f} (μ {s['bootstrap_mean']:.2f})" if s.get("ci95") is not None else "n/a"
        signature = s["signature"].replace("|", r"\|")  # a bare pipe would split the table cell
        lines.append(f"| {s['metric']} | {s['score']:.2f} | {ci} | `{signature}` |")
    return lines


def _flagged(ref: dict[str, Any]) -> str:
    """The count of flagged rows, when the summary has one (older summaries do not)."""
    if ref.get("flagged") is None:
        return ""
    return f", {ref['flagged']} flagged (alignment confidence below {FLAG_BELOW}; kept, marked in the TSV)"


def render_report(summary: dict[str, Any]) -> str:
    """Markdown for a run summary, or for a single article's summary (``{"articles": [...]}``)."""
    lines = [f"# tarjama run {summary['run']}" if "run" in summary else "# tarjama article report", ""]
    if summary.get("wall_time_s") is not None:
        lines += [f"Wall time: {summary['wall_time_s']:.1f} s", ""]
    for article in summary["articles"]:
        lines += [
            f"## {article['article_id']}",
            "",
            f"- source: `{article['path']}`",
            f"- engine: {article['engine']} (model `{article['model']}`)",
            f"- Arabic sentences: {article['sentences']} ({article['from_memory']} from the translation memory)",
        ]
        for ref in article["references"]:
            if "reference" not in ref:
                lines.append(f"- no reference: {ref['rows']} source↔MT rows, not scored")
                continue
            lines += [
                f"- reference `{ref['reference']}` (`{ref['path']}`): {ref['reference_sentences']} sentences, "
                f"{ref['rows']} aligned rows{_flagged(ref)}",
                "",
                *_score_table(ref["scores"]),
                "",
            ]
        timings = ", ".join(f"{stage} {seconds:.2f} s" for stage, seconds in article["timings_s"].items())
        lines += ["", f"Timings: {timings}", ""]
    if summary.get("overall"):
        lines += ["## All articles (first reference each)", "", *_score_table(summary["overall"]), ""]
    return "\n".join(lines).rstrip() + "\n"
