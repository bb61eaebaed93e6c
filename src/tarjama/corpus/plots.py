"""Plots a person would rather look at than read: row chrF, alignment confidence, bead types, length ratios, deltas.

:func:`plot_run` draws a run's plots from its corpus and :func:`plot_article_deltas` a
comparison's; each PNG comes with a :class:`Plot` holding the numbers drawn (bar heights,
points), so a report can quote them and a test can check them without reading pixels. Figures are built with matplotlib's
object-oriented API on the Agg canvas (no pyplot, no global backend, safe in
threads), and matplotlib is imported only when a plot is drawn. A plot over
fewer than :data:`tarjama.quality.score.MIN_SEGMENTS_FOR_CI` rows carries a warning,
printed on the image and kept in :attr:`Plot.warning`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from tarjama.corpus.outputs import remove_stale_temporaries, temporary_mark
from tarjama.corpus.schema import FLAG_BELOW, atomic_path
from tarjama.quality.score import MIN_SEGMENTS_FOR_CI

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from tarjama.quality.compare import ArticleDelta

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


CHRF_EDGES = np.linspace(0, 100, 11)
CONFIDENCE_EDGES = np.linspace(0, 1, 11)
RATIO_EDGES = np.exp(np.linspace(math.log(0.25), math.log(4), 17))
"""Length-ratio bins: logarithmic (a ratio of 2 is as far from 1 as 0.5); the end bins collect what lies beyond."""

_SPACE = "[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
"""The characters Python's ``str.isspace`` accepts (Rust's ``\\s`` leaves out U+001C-U+001F), as a regex class."""


def bin_counts(values: pl.Expr, edges: np.ndarray, where: pl.Expr | bool = True) -> pl.Expr:
    """``np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)[0]`` over the rows ``where`` holds.

    One polars aggregation (a list of counts) made of comparisons and sums, so the streaming engine
    counts a corpus of any size in bounded memory. Bins are half-open but the last, which is closed,
    as numpy's; nulls and NaNs are left out.
    """
    clipped = values.fill_nan(None).clip(float(edges[0]), float(edges[-1]))
    last = len(edges) - 2
    return pl.concat_list(
        (where & (clipped >= float(lo)) & ((clipped < float(hi)) if i < last else True)).sum()
        for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:]))
    )


def _histogram(
    counts: list[float],
    edges: np.ndarray,
    path: Path,
    title: str,
    xlabel: str,
    flagged: tuple[float, int] | None = None,
) -> Plot:
    """Bars of ``counts`` over ``edges``; ``flagged``: a threshold drawn as a line, and the rows below it."""
    figure, axes = _figure()
    axes.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color="#4477aa", edgecolor="white")
    if flagged is not None:
        threshold, below = flagged
        label = f"flagged below {threshold:g}: {below} {'row' if below == 1 else 'rows'}"
        axes.axvline(threshold, color=WARNING_COLOUR, linestyle="--", linewidth=1, label=label)
        axes.legend(loc="upper left")
    axes.set_xlabel(xlabel)
    axes.set_ylabel("rows")
    n = int(sum(counts))
    warning = _small_sample_warning(n, "rows")
    _save(figure, axes, path, f"{title} ({n} rows)", warning)
    labels = [f"{lo:g}–{hi:g}" for lo, hi in zip(edges[:-1], edges[1:])]
    return Plot(path, title, labels, counts, warning, figure=figure)


def _row_chrf(counts: list[float], path: Path) -> Plot:
    return _histogram(counts, CHRF_EDGES, path, "Row chrF", "sentence chrF")


def _alignment_confidence(counts: list[float], below: int, path: Path) -> Plot:
    title = "Alignment confidence"
    return _histogram(counts, CONFIDENCE_EDGES, path, title, "confidence", (FLAG_BELOW, below))


_IDS = ("source_ids", "reference_ids")


def bead_type() -> pl.Expr:
    """``"2-1"``: how many source and reference sentences a row joins (its non-empty ids)."""
    joined = [pl.col(name).str.count_matches("[^,]+").cast(pl.String) for name in _IDS]
    return pl.concat_str(joined, separator="-")


def _bead_type_counts(corpus: pl.LazyFrame) -> pl.LazyFrame:
    """Rows of each bead type, most frequent first (ties: the type met first), as ``Counter.most_common``."""
    return (
        corpus.select(bead_type().alias("bead"))
        .with_row_index("first")
        .group_by("bead")
        .agg(pl.len().alias("rows"), pl.col("first").min())
        .sort(["rows", "first"], descending=[True, False])
    )


def _bead_types(counts: pl.DataFrame, path: Path) -> Plot:
    labels, values = counts["bead"].to_list(), [float(c) for c in counts["rows"]]
    figure, axes = _figure()
    bars = axes.bar(labels, values, color="#228833")
    axes.bar_label(bars, labels=[f"{v:,.0f}" for v in values], padding=2)  # 1-1 dwarfs the rest: say how many
    axes.margins(y=0.12)
    axes.set_xlabel("source sentences – reference sentences")
    axes.set_ylabel("rows")
    n = int(sum(values))
    warning = _small_sample_warning(n, "rows")
    _save(figure, axes, path, f"Bead types ({n} rows)", warning)
    return Plot(path, "Bead types", labels, values, warning, figure=figure)


def letters(text: pl.Expr) -> pl.Expr:
    """Characters that are not spaces, as the length ratio counts a text's length."""
    return text.str.len_chars() - text.str.count_matches(_SPACE)


def length_ratio_counts(arabic_letters: pl.Expr, english_letters: pl.Expr, where: pl.Expr | bool = True) -> pl.Expr:
    """The histogram of English/Arabic :func:`letters` over the rows ``where`` holds that have both.

    Give it columns of letters counted beforehand: a regex repeated in each bin's sum costs 30 times as much.
    """
    ratio = english_letters / arabic_letters
    return bin_counts(ratio, RATIO_EDGES, where & (english_letters > 0) & (arabic_letters > 0))


def _length_ratios(series: dict[str, list[float]], path: Path) -> Plot:
    figure, axes = _figure()
    for (label, counts), colour in zip(series.items(), ("#4477aa", "#ee6677")):
        axes.stairs(counts, RATIO_EDGES, label=label, color=colour, linewidth=2)
    axes.set_xscale("log")
    axes.minorticks_off()
    axes.set_xticks([0.25, 0.5, 1, 2, 4], labels=["≤¼", "½", "1", "2", "≥4"])  # the end bins hold what lies beyond
    axes.set_xlabel("English characters per Arabic character")
    axes.set_ylabel("rows")
    axes.legend()
    n = int(sum(series["MT / Arabic"]))
    warning = _small_sample_warning(n, "rows")
    _save(figure, axes, path, f"Length ratio ({n} rows)", warning)
    labels = [f"{lo:.2f}–{hi:.2f}" for lo, hi in zip(RATIO_EDGES[:-1], RATIO_EDGES[1:])]
    return Plot(path, "Length ratio", labels, series["MT / Arabic"], warning, series=series, figure=figure)


MAX_PLOTTED_ARTICLES = 40
"""Rows of a per-article delta plot: beyond this, the largest changes (the other rows are in the report). One
row per article made a 600-inch PNG of 2,000 articles, which took most of a gigabyte to draw."""


def plot_article_deltas(deltas: Sequence[ArticleDelta], metric: str, path: Path, baseline: str = "baseline") -> Plot:
    """Per-article score deltas (system − baseline) with their 95% intervals, one row per article and system:
    at most :data:`MAX_PLOTTED_ARTICLES`, those with enough segments and the largest changes, in their order.

    Hollow markers are articles with too few segments for their interval.
    The axis names the systems, so the sign reads without the report.
    """
    chosen = [d for d in deltas if d.metric == metric]
    total = len(chosen)
    if total > MAX_PLOTTED_ARTICLES:
        ranked = sorted(range(total), key=lambda k: (chosen[k].small_sample, -abs(chosen[k].delta)))
        chosen = [chosen[k] for k in sorted(ranked[:MAX_PLOTTED_ARTICLES])]
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
    title = f"{metric} difference per article" + (
        f" ({len(chosen)} of {total}, the largest changes)" if len(chosen) < total else ""
    )
    _save(figure, axes, path, title, warning)
    return Plot(path, title, labels, [d.delta for d in chosen], warning, figure=figure)


PLOTS_VERSION = 2
"""Part of every cache key: raise it when :func:`plot_run` draws differently, so kept plots are not reused.
2: runs key their plots by their rows' bytes; version 1's sets, keyed by shard keys, could hold another
memory's rows."""
KEPT_PLOT_SETS = 64
"""Sets of plots a cache keeps, the least recently used going first (a set is four PNGs, about 100 KB)."""
KEPT_LIST = "plots.json"


def plot_run(
    corpus: pl.DataFrame | pl.LazyFrame, folder: Path, cache: Path | None = None, cache_key: str | None = None
) -> list[Plot]:
    """The run's plots from its corpus (the one schema), as PNGs in ``folder``; reused when kept.

    With a ``cache`` folder and a ``cache_key`` that determines the rows, in order (a run passes a digest of
    the rows of the shards it reads, as their summaries recorded them, :meth:`~tarjama.corpus.shards.ShardStore.rows_digest`:
    shard keys alone name the texts and settings, and two memories give the same key other rows), the plots
    drawn for that key are kept there, and a later call with the same key
    copies them instead of counting and drawing again: a rerun whose articles were all reused drew four
    plots of rows it had already drawn, most of its flow's time.
    """
    if cache is None or cache_key is None:
        return _draw_run(corpus, folder)
    kept = cache / hashlib.sha256(f"{PLOTS_VERSION}\n{cache_key}".encode()).hexdigest()[:32]
    reused = _reuse(kept, folder)
    if reused is not None:
        return reused
    plots = _draw_run(corpus, folder)
    _keep(plots, kept)
    return plots


def _reuse(kept: Path, folder: Path) -> list[Plot] | None:
    """The plots kept in ``kept``, copied into ``folder``; None if there are none (or some are missing)."""
    try:
        listed = json.loads((kept / KEPT_LIST).read_text())
        if not all((kept / entry["file"]).is_file() for entry in listed):
            return None
        folder.mkdir(parents=True, exist_ok=True)
        plots = []
        for entry in listed:
            with atomic_path(folder / entry["file"]) as tmp:
                shutil.copyfile(kept / entry["file"], tmp)
            plots.append(
                Plot(
                    folder / entry["file"],
                    entry["title"],
                    entry["labels"],
                    entry["values"],
                    entry["warning"],
                    entry["series"],
                )
            )
    except (OSError, ValueError, KeyError, TypeError):
        return None
    os.utime(kept)  # recently used: pruned last
    return plots


def _keep(plots: Sequence[Plot], kept: Path) -> None:
    """Keep ``plots`` (PNGs and numbers) in ``kept``, whole or not at all; then prune the cache to its size.

    Best effort: a cache that cannot be written costs the next run a redraw, never this one its plots.
    The staging folder is named by its process, so one left by a killed run goes at the next pruning."""
    staging = kept.with_name(f".{kept.name}.{temporary_mark()}")
    try:
        staging.mkdir(parents=True, exist_ok=True)
        for plot in plots:
            shutil.copyfile(plot.path, staging / plot.path.name)
        listed = [
            {"file": p.path.name, "title": p.title, "labels": p.labels, "values": p.values, "warning": p.warning}
            | {"series": p.series}
            for p in plots
        ]
        (staging / KEPT_LIST).write_text(json.dumps(listed))
        staging.rename(kept)  # fails if another run kept the same plots meanwhile: theirs stay
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        return
    remove_stale_temporaries(kept.parent)
    sets = sorted((d for d in kept.parent.iterdir() if d.is_dir() and not d.name.startswith(".")), key=_mtime)
    for old in sets[:-KEPT_PLOT_SETS]:
        shutil.rmtree(old, ignore_errors=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _draw_run(corpus: pl.DataFrame | pl.LazyFrame, folder: Path) -> list[Plot]:
    """The run's plots from its corpus (the one schema), as PNGs in ``folder``.

    Every row counts, yet memory does not grow with the corpus: polars' streaming engine reduces a
    lazy corpus (a run's shards) to the histograms' counts, and only those are drawn. Row chrF and
    the length ratios are drawn only from rows with a reference (each ratio from rows with text on
    both sides; without any, the MT's from every row with Arabic); bead types and confidence from all rows.
    """
    lazy = corpus.lazy()
    referenced = pl.col("reference") != ""
    matched = referenced & (pl.col("source_ids") != "") & (pl.col("reference_ids") != "")
    texts = ("arabic", "english_mt", "english_reference")
    arabic, mt, reference = (pl.col(f"{name}_letters") for name in texts)
    counts = lazy.with_columns(letters(pl.col(name)).alias(f"{name}_letters") for name in texts).select(
        referenced.sum().alias("referenced"),
        matched.sum().alias("matched"),
        bin_counts(pl.col("sentence_chrf"), CHRF_EDGES, referenced).alias("chrf"),
        bin_counts(pl.col("alignment_confidence"), CONFIDENCE_EDGES).alias("confidence"),
        (pl.col("alignment_confidence") < FLAG_BELOW).sum().alias("below"),
        length_ratio_counts(arabic, mt, matched).alias("mt"),
        length_ratio_counts(arabic, reference, matched).alias("reference"),
        length_ratio_counts(arabic, mt, pl.col("source_ids") != "").alias("mt_alone"),
    )
    totals, beads = pl.collect_all([counts, _bead_type_counts(lazy)], engine="streaming")
    found = totals.row(0, named=True)
    histograms = {
        name: [float(c) for c in found[name]] for name in ("chrf", "confidence", "mt", "reference", "mt_alone")
    }
    plots = [
        _alignment_confidence(histograms["confidence"], found["below"], folder / "alignment-confidence.png"),
        _bead_types(beads, folder / "bead-types.png"),
    ]
    if found["referenced"]:
        plots.insert(0, _row_chrf(histograms["chrf"], folder / "row-chrf.png"))
    series = (
        {"MT / Arabic": histograms["mt"], "reference / Arabic": histograms["reference"]}
        if found["matched"]
        else {"MT / Arabic": histograms["mt_alone"]}
    )
    plots.append(_length_ratios(series, folder / "length-ratio.png"))
    return plots


def markdown_images(plots: Sequence[Plot], relative_to: Path) -> str:
    """Markdown embedding each plot (paths relative to the report's folder), with its warning below it."""
    lines = []
    for plot in plots:
        lines += [f"![{plot.title}]({plot.path.relative_to(relative_to).as_posix()})", ""]
        if plot.warning:
            lines += [f"**Warning:** {plot.warning}", ""]
    return "\n".join(lines)
