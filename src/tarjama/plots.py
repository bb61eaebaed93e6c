"""Plots a person would rather look at than read: row chrF, alignment confidence, bead types, length ratios, deltas.

Each function draws one PNG and returns a :class:`Plot` with the numbers it
drew (bar heights, points), so a report can quote them and a test can check
them without reading pixels. Figures are built with matplotlib's
object-oriented API on the Agg canvas (no pyplot, no global backend, safe in
threads), and matplotlib is imported only when a plot is drawn. A plot over
fewer than :data:`tarjama.score.MIN_SEGMENTS_FOR_CI` rows carries a warning,
printed on the image and kept in :attr:`Plot.warning`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from tarjama.parallel_corpus import FLAG_BELOW, atomic_path
from tarjama.score import MIN_SEGMENTS_FOR_CI

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from tarjama.compare import ArticleDelta

WARNING_COLOUR = "#b00020"
WARNING_SPACE_IN = 0.3
"""Height kept under the axes for a warning, in inches (a fraction of the figure would grow with tall plots)."""


@dataclass(frozen=True)
class Plot:
    """A written PNG and the data drawn in it (``values[i]`` is the height or position of ``labels[i]``)."""

    path: Path
    title: str
    labels: list[str]
    values: list[float]
    warning: str | None = None
    series: dict[str, list[float]] = field(default_factory=dict)
    figure: Any = field(default=None, repr=False, compare=False)


def _figure(width: float = 6.4, height: float = 3.6) -> tuple[Figure, Axes]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _small_sample_warning(n: int, what: str) -> str | None:
    if n >= MIN_SEGMENTS_FOR_CI:
        return None
    return f"Only {n} {what}: too few for this distribution to mean much (fewer than {MIN_SEGMENTS_FOR_CI})"


def _save(figure: Figure, axes: Axes, path: Path, title: str, warning: str | None) -> None:
    axes.set_title(title)
    if warning:
        figure.text(0.5, 0.01, warning, ha="center", va="bottom", color=WARNING_COLOUR, fontsize=8, wrap=True)
    figure.tight_layout(rect=(0, WARNING_SPACE_IN / figure.get_figheight() if warning else 0, 1, 1))
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")


def _histogram(
    values: Sequence[float], edges: np.ndarray, path: Path, title: str, xlabel: str, what: str, flag_below: float | None
) -> Plot:
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    figure, axes = _figure()
    axes.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#4477aa", edgecolor="white")
    if flag_below is not None:
        below = sum(v < flag_below for v in values)
        label = f"flagged below {flag_below:g}: {below} {'row' if below == 1 else 'rows'}"
        axes.axvline(flag_below, color=WARNING_COLOUR, linestyle="--", linewidth=1, label=label)
        axes.legend(loc="upper left")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("rows")
    warning = _small_sample_warning(len(values), what)
    _save(figure, axes, path, f"{title} ({len(values)} rows)", warning)
    labels = [f"{lo:g}–{hi:g}" for lo, hi in zip(edges[:-1], edges[1:])]
    return Plot(path, title, labels, [float(c) for c in counts], warning, figure=figure)


def plot_row_chrf(chrf: Sequence[float], path: Path) -> Plot:
    """Histogram of sentence chrF (0-100) over rows that have a reference."""
    return _histogram(chrf, np.linspace(0, 100, 11), path, "Row chrF", "sentence chrF", "rows", None)


def plot_alignment_confidence(confidence: Sequence[float], path: Path) -> Plot:
    """Histogram of alignment confidence (0-1), with the flagging threshold and the rows below it in the legend."""
    edges = np.linspace(0, 1, 11)
    return _histogram(confidence, edges, path, "Alignment confidence", "confidence", "rows", FLAG_BELOW)


def bead_type(source_ids: str, reference_ids: str) -> str:
    """``"2-1"``: how many source and reference sentences a row joins."""
    return f"{len([x for x in source_ids.split(',') if x])}-{len([x for x in reference_ids.split(',') if x])}"


def plot_bead_types(source_ids: Sequence[str], reference_ids: Sequence[str], path: Path) -> Plot:
    """Bar chart of bead types (1-1, 2-1, 1-0, ...), most frequent first."""
    counts = Counter(bead_type(s, r) for s, r in zip(source_ids, reference_ids)).most_common()
    labels, values = [t for t, _ in counts], [float(c) for _, c in counts]
    figure, axes = _figure()
    bars = axes.bar(labels, values, color="#228833")
    axes.bar_label(bars, labels=[f"{v:,.0f}" for v in values], padding=2)  # 1-1 dwarfs the rest: say how many
    axes.margins(y=0.12)
    axes.set_xlabel("source sentences – reference sentences")
    axes.set_ylabel("rows")
    warning = _small_sample_warning(len(source_ids), "rows")
    _save(figure, axes, path, f"Bead types ({len(source_ids)} rows)", warning)
    return Plot(path, "Bead types", labels, values, warning, figure=figure)


def _length_ratios(texts: Sequence[str], arabic: Sequence[str]) -> list[float]:
    letters = [sum(not c.isspace() for c in t) for t in texts]
    source = [sum(not c.isspace() for c in a) for a in arabic]
    return [t / s for t, s in zip(letters, source) if t and s]


def plot_length_ratios(arabic: Sequence[str], mt: Sequence[str], reference: Sequence[str] | None, path: Path) -> Plot:
    """Histograms of English/Arabic length ratio (characters) for the MT and, when present, the reference.

    Bins are logarithmic (a ratio of 2 is as far from 1 as 0.5), the end bins
    collect the ratios beyond ¼ and 4; ``series`` holds each histogram's counts.
    """
    series = {"MT / Arabic": _length_ratios(mt, arabic)}
    if reference is not None:
        series["reference / Arabic"] = _length_ratios(reference, arabic)
    edges = np.exp(np.linspace(math.log(0.25), math.log(4), 17))
    figure, axes = _figure()
    counts = {}
    for (label, ratios), colour in zip(series.items(), ("#4477aa", "#ee6677")):
        counts[label] = [float(c) for c in np.histogram(np.clip(ratios, edges[0], edges[-1]), bins=edges)[0]]
        axes.stairs(counts[label], edges, label=label, color=colour, linewidth=2)
    axes.set_xscale("log")
    axes.minorticks_off()
    axes.set_xticks([0.25, 0.5, 1, 2, 4], labels=["≤¼", "½", "1", "2", "≥4"])  # the end bins hold what lies beyond
    axes.set_xlabel("English characters per Arabic character")
    axes.set_ylabel("rows")
    axes.legend()
    n = len(series["MT / Arabic"])
    warning = _small_sample_warning(n, "rows")
    _save(figure, axes, path, f"Length ratio ({n} rows)", warning)
    labels = [f"{lo:.2f}–{hi:.2f}" for lo, hi in zip(edges[:-1], edges[1:])]
    return Plot(path, "Length ratio", labels, counts["MT / Arabic"], warning, series=counts, figure=figure)


def plot_article_deltas(deltas: Sequence[ArticleDelta], metric: str, path: Path, baseline: str = "baseline") -> Plot:
    """Per-article score deltas (system − baseline) with their 95% intervals, one row per article and system.

    Hollow markers are articles with too few segments for their interval.
    The axis names the systems, so the sign reads without the report.
    """
    chosen = [d for d in deltas if d.metric == metric]
    systems = list(dict.fromkeys(d.system for d in chosen))
    labels = [f"{d.article_id} ({d.system})" if len(systems) > 1 else d.article_id for d in chosen]
    figure, axes = _figure(6.4, max(2.4, 0.3 * len(chosen) + 1.2))
    positions = np.arange(len(chosen))
    for y, delta in zip(positions, chosen):
        axes.errorbar(
            delta.delta,
            y,
            xerr=delta.ci95 if delta.ci95 is not None else None,
            fmt="o",
            color="#4477aa",
            markerfacecolor="white" if delta.small_sample else "#4477aa",
            capsize=3,
        )
    axes.axvline(0, color="grey", linewidth=1)
    axes.set_yticks(positions, labels=labels)
    axes.set_ylim(max(len(chosen), 1) - 0.5, -0.5)  # top to bottom in the given order, no empty bands
    system = systems[0] if len(systems) == 1 else "system"
    axes.set_xlabel(f"{metric}: {system} − {baseline}")
    small = sum(d.small_sample for d in chosen)
    warning = (
        f"{small} of {len(chosen)} articles have fewer than {MIN_SEGMENTS_FOR_CI} segments (hollow): "
        "their intervals are too unreliable to read as 95%"
        if small
        else None
    )
    _save(figure, axes, path, f"{metric} difference per article", warning)
    return Plot(path, f"{metric} difference per article", labels, [d.delta for d in chosen], warning, figure=figure)


def plot_run(frame: pl.DataFrame, folder: Path) -> list[Plot]:
    """The run's plots from its corpus frame (the one schema), as PNGs in ``folder``.

    Row chrF and the reference length ratio are drawn only from rows with a
    reference; bead types and confidence from all rows.
    """
    referenced = frame.filter(pl.col("reference") != "")
    plots = [
        plot_alignment_confidence(frame["alignment_confidence"].to_list(), folder / "alignment-confidence.png"),
        plot_bead_types(frame["source_ids"].to_list(), frame["reference_ids"].to_list(), folder / "bead-types.png"),
    ]
    if referenced.height:
        plots.insert(0, plot_row_chrf(referenced["sentence_chrf"].drop_nulls().to_list(), folder / "row-chrf.png"))
    matched = referenced.filter((pl.col("source_ids") != "") & (pl.col("reference_ids") != ""))
    source = matched if matched.height else frame.filter(pl.col("source_ids") != "")
    reference = matched["english_reference"].to_list() if matched.height else None
    plots.append(
        plot_length_ratios(
            source["arabic"].to_list(), source["english_mt"].to_list(), reference, folder / "length-ratio.png"
        )
    )
    return plots


def markdown_images(plots: Sequence[Plot], relative_to: Path) -> str:
    """Markdown embedding each plot (paths relative to the report's folder), with its warning below it."""
    lines = []
    for plot in plots:
        lines += [f"![{plot.title}]({plot.path.relative_to(relative_to).as_posix()})", ""]
        if plot.warning:
            lines += [f"**Warning:** {plot.warning}", ""]
    return "\n".join(lines)
