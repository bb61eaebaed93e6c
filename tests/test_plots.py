"""Plots: PNG files written, drawn from the data given (checked on the figure's artists), warnings on small samples."""

import subprocess
import sys
from collections import Counter

import numpy as np
import polars as pl
import pytest
from PIL import Image

from tarjama.corpus.outputs import temporary_mark
from tarjama.corpus.plots import (
    CHRF_EDGES,
    CONFIDENCE_EDGES,
    RATIO_EDGES,
    Plot,
    bin_counts,
    letters,
    markdown_images,
    plot_article_deltas,
    plot_run,
)
from tarjama.corpus.schema import to_frame, write_parquet
from tarjama.quality.compare import ArticleDelta


def assert_png(path, width=640):
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size[0] == width and image.size[1] > 100


def bar_heights(plot):
    return [patch.get_height() for patch in plot.figure.axes[0].patches]


def plotted(tmp_path, name: str, **columns: list) -> Plot:
    """The plot ``name`` that :func:`plot_run` draws from rows made of ``columns`` (every other column
    empty; rows have a reference and one Arabic and one reference sentence unless given)."""
    count = len(next(iter(columns.values())))
    defaults = {"reference": ["en"] * count, "source_ids": ["1"] * count, "reference_ids": ["1"] * count}
    table = defaults | columns
    rows = [{column: values[i] for column, values in table.items()} for i in range(count)]
    plots = plot_run(to_frame(rows), tmp_path / "plots")
    return next(plot for plot in plots if plot.path.name == name)


def test_row_chrf_histogram_counts_the_rows(tmp_path):
    chrf = [5.0, 15.0, 12.0, 95.0, 100.0] * 5
    plot = plotted(tmp_path, "row-chrf.png", sentence_chrf=chrf)
    assert_png(plot.path)
    assert plot.values == [5.0, 10.0, 0, 0, 0, 0, 0, 0, 0, 10.0]
    assert bar_heights(plot) == plot.values and plot.labels[0] == "0–10"
    assert plot.warning is None


def test_small_samples_carry_a_warning_on_the_image(tmp_path):
    plot = plotted(tmp_path, "alignment-confidence.png", alignment_confidence=[0.9, 0.2, 0.95])
    assert plot.warning is not None and plot.warning.startswith("Only 3 rows")
    assert plot.warning in [text.get_text() for text in plot.figure.texts]
    assert sum(plot.values) == 3 and plot.values[2] == 1 and plot.values[9] == 2
    assert_png(plot.path)


def test_confidence_legend_counts_the_flagged_rows(tmp_path):
    plot = plotted(tmp_path, "alignment-confidence.png", alignment_confidence=[0.9, 0.2, 0.49, 0.5, 0.95] * 5)
    legend = plot.figure.axes[0].get_legend()
    assert [text.get_text() for text in legend.get_texts()] == ["flagged below 0.5: 10 rows"]
    one = plotted(tmp_path, "alignment-confidence.png", alignment_confidence=[0.3] + [0.9] * 24)
    assert one.figure.axes[0].get_legend().get_texts()[0].get_text() == "flagged below 0.5: 1 row"


def test_bead_types_most_frequent_first(tmp_path):
    source = ["1", "2,3", "4", "", "5", "6"]
    reference = ["1", "2", "3,4", "5", "", "6"]
    plot = plotted(tmp_path, "bead-types.png", source_ids=source, reference_ids=reference)
    assert plot.labels == ["1-1", "2-1", "1-2", "0-1", "1-0"] and plot.values == [2, 1, 1, 1, 1]
    assert bar_heights(plot) == plot.values
    assert [t.get_text() for t in plot.figure.axes[0].get_xticklabels()] == plot.labels
    bar_labels = [text.get_text() for text in plot.figure.axes[0].texts]
    assert bar_labels == ["2", "1", "1", "1", "1"]  # each bar says its count: a dominant 1-1 hides the rest


def test_bead_type_counts_have_thousands_separators(tmp_path):
    plot = plotted(tmp_path, "bead-types.png", source_ids=["1"] * 1200 + ["2,3"], reference_ids=["1"] * 1200 + ["2"])
    assert [text.get_text() for text in plot.figure.axes[0].texts] == ["1,200", "1"]


def test_length_ratios_of_mt_and_reference(tmp_path):
    arabic = ["أ" * 100] * 30
    mt = ["e" * 110] * 29 + ["e" * 900]
    reference = ["e" * 100] * 30
    plot = plotted(tmp_path, "length-ratio.png", arabic=arabic, english_mt=mt, english_reference=reference)
    assert set(plot.series) == {"MT / Arabic", "reference / Arabic"}
    assert sum(plot.series["MT / Arabic"]) == 30 == sum(plot.series["reference / Arabic"])
    assert plot.values == plot.series["MT / Arabic"]
    busiest = plot.values.index(max(plot.values))
    low, high = (float(x) for x in plot.labels[busiest].split("–"))
    assert low <= 1.1 < high
    assert len(plot.figure.axes[0].patches) == 2  # one outline per series
    assert plot.values[-1] == 1  # 3.0 lies in the last bin ...
    assert [t.get_text() for t in plot.figure.axes[0].get_xticklabels()] == [
        "≤¼",
        "½",
        "1",
        "2",
        "≥4",
    ]  # ... as would 9
    assert_png(plot.path)


def test_article_deltas_with_intervals(tmp_path):
    deltas = [
        ArticleDelta("a1", "google", "chrF", 40.0, 45.0, 5.0, 2.5, 30, False),
        ArticleDelta("a2", "google", "chrF", 50.0, 47.0, -3.0, 6.0, 4, True),
        ArticleDelta("a1", "google", "BLEU", 20.0, 21.0, 1.0, 1.0, 30, False),
    ]
    plot = plot_article_deltas(deltas, "chrF", tmp_path / "deltas.png")
    assert plot.labels == ["a1", "a2"] and plot.values == [5.0, -3.0]
    axes = plot.figure.axes[0]
    assert len(axes.containers) == 2  # one error bar per article
    assert [c.lines[0].get_xdata()[0] for c in axes.containers] == [5.0, -3.0]
    assert plot.warning is not None and plot.warning.startswith("1 of 2 articles have fewer than")
    assert axes.get_xlabel() == "chrF: google − baseline"
    assert axes.get_ylim() == (1.5, -0.5)  # first article on top, no empty band above or below
    assert_png(plot.path)


def test_thousands_of_articles_plot_the_largest_changes_in_their_order(tmp_path):
    """2,000 articles drew a 600-inch figure: the plot keeps 40 rows, the articles with enough segments and
    the largest changes, in document order, and its title says so."""
    deltas = [
        ArticleDelta(f"a{i}", "google", "chrF", 40.0, 40.0 + (i % 97) / 10, (i % 97) / 10, 1.0, 30, i % 5 == 0)
        for i in range(2000)
    ]
    plot = plot_article_deltas(deltas, "chrF", tmp_path / "deltas.png")
    kept = sorted((d for d in deltas if not d.small_sample), key=lambda d: -d.delta)[:40]
    assert plot.labels == [d.article_id for d in deltas if d in kept]
    assert plot.title == "chrF difference per article (40 of 2000, the largest changes)"
    assert plot.figure.get_figheight() < 14
    assert_png(plot.path)


def test_article_deltas_name_the_baseline_and_keep_the_warning_close(tmp_path):
    deltas = [ArticleDelta(f"a{i}", "google", "chrF", 40.0, 41.0, 1.0, 2.0, 5, True) for i in range(40)]
    plot = plot_article_deltas(deltas, "chrF", tmp_path / "deltas.png", baseline="local")
    figure, axes = plot.figure, plot.figure.axes[0]
    assert axes.get_xlabel() == "chrF: google − local"
    assert plot.warning in [text.get_text() for text in figure.texts]
    below_axes_in = axes.get_position().y0 * figure.get_figheight()
    assert below_axes_in < 1.2  # room for the tick labels, axis label and warning, not a share of a tall figure


def test_run_plots_from_the_corpus_frame(tmp_path):
    rows = [
        {
            "article_id": "a", "reference": "en", "row": i, "source_ids": str(i), "reference_ids": str(i),
            "arabic": "نص عربي قصير " * 3, "english_mt": "a short English text " * 2, "english_reference": "a text",
            "engine": "local", "model": "m", "alignment_confidence": 0.9, "flagged": False,
            "sentence_chrf": 40.0 + i, "sentence_bleu": 10.0,
        }
        for i in range(1, 26)
    ]  # fmt: skip
    plots = plot_run(to_frame(rows), tmp_path / "plots")
    assert [p.path.name for p in plots] == [
        "row-chrf.png",
        "alignment-confidence.png",
        "bead-types.png",
        "length-ratio.png",
    ]
    for plot in plots:
        assert_png(plot.path)
    assert plots[0].values[4:7] == [9, 10, 6]  # chrF 41..65
    text = markdown_images(plots, tmp_path)
    assert "![Row chrF](plots/row-chrf.png)" in text and "Warning" not in text


def test_importing_plots_does_not_import_matplotlib():
    code = "import sys, tarjama.corpus.plots; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("rows", [0, 1])
def test_empty_and_single_row_plots_still_write_a_png(tmp_path, rows):
    row = {"reference": "en", "source_ids": "1", "reference_ids": "1", "arabic": "نص", "english_mt": "a text"}
    row |= {"english_reference": "the text", "sentence_chrf": 50.0, "alignment_confidence": 0.9}
    plots = plot_run(to_frame([row] * rows), tmp_path)
    assert len(plots) == 3 + rows  # no row with a reference: no row chrF to draw
    for plot in plots:
        assert_png(plot.path)
        assert sum(plot.values) == rows


def test_bins_are_numpys_clipped_histogram_edges_included():
    """Values on every edge, beyond both ends, nulls and NaNs: polars counts what numpy's histogram does."""
    edges = RATIO_EDGES
    rng = np.random.default_rng(5)
    values = [*edges, *(edges * (1 + 1e-15)), *rng.uniform(0.1, 5, 2000), 0.0, 100.0, -1.0]
    counted = pl.DataFrame({"v": [*values, None, float("nan")]}).select(bin_counts(pl.col("v"), edges)).item()
    assert counted.to_list() == np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)[0].tolist()


def test_letters_leave_out_what_python_calls_a_space():
    """The length ratio counts the characters ``str.isspace`` rejects, as it always did (Python's
    spaces include U+001C-U+001F, which a regex's ``\\s`` does not)."""
    characters = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000]
    counted = pl.DataFrame({"c": characters}).select(letters(pl.col("c")))["c"].to_list()
    assert [c for c, n in zip(characters, counted) if n == 0] == [c for c in characters if c.isspace()]


def corpus_rows():
    """Rows of every kind a run has: beads of several shapes, unmatched sides, rows without a
    reference, chrF missing, confidences on the bins' edges, spaces of several kinds."""
    rng = np.random.default_rng(11)
    rows = []
    for i in range(400):
        source = ["1", "2,3", "4", "", "5,6,7"][i % 5]
        reference = ["1", "2", "3,4", "5", ""][i % 7 % 5]
        label = "" if i % 13 == 0 else "en"
        rows.append(
            {
                "article_id": f"a{i // 40}", "reference": label, "row": i, "source_ids": source,
                "reference_ids": reference if label else "", "arabic": "نص\u00a0عربي " * (i % 6) if source else "",
                "english_mt": "an\tEnglish\x1ctext " * int(rng.integers(0, 9)),
                "english_reference": "the reference " * int(rng.integers(1, 6)) if label and reference else "",
                "engine": "e", "model": "m", "alignment_confidence": float(rng.choice([0.0, 0.1, 0.5, 0.99, 1.0, rng.random()])),
                "flagged": False, "sentence_chrf": None if i % 17 == 0 or not label else float(rng.uniform(0, 100)),
            }
        )  # fmt: skip
    return rows


def python_counts(rows):
    """What the plots counted, row by row in Python, before they were counted by polars."""
    referenced = [r for r in rows if r["reference"] != ""]
    matched = [r for r in referenced if r["source_ids"] and r["reference_ids"]]
    source = matched or [r for r in rows if r["source_ids"]]

    def histogram(values, edges):
        return [float(c) for c in np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)[0]]

    def ratios(texts, arabic):
        letters = [sum(not c.isspace() for c in t) for t in texts]
        sources = [sum(not c.isspace() for c in a) for a in arabic]
        return [t / s for t, s in zip(letters, sources) if t and s]

    def bead(r):
        return f"{len([x for x in r['source_ids'].split(',') if x])}-{len([x for x in r['reference_ids'].split(',') if x])}"

    series = {
        "MT / Arabic": histogram(ratios([r["english_mt"] for r in source], [r["arabic"] for r in source]), RATIO_EDGES)
    }
    if matched:
        series["reference / Arabic"] = histogram(
            ratios([r["english_reference"] for r in matched], [r["arabic"] for r in matched]), RATIO_EDGES
        )
    return {
        "row-chrf.png": histogram(
            [r["sentence_chrf"] for r in referenced if r["sentence_chrf"] is not None], CHRF_EDGES
        ),
        "alignment-confidence.png": histogram([r["alignment_confidence"] for r in rows], CONFIDENCE_EDGES),
        "bead-types.png": Counter(bead(r) for r in rows).most_common(),
        "length-ratio.png": series,
    }


def drawn(plots):
    found = {p.path.name: p.values for p in plots}
    found["bead-types.png"] = [(label, int(v)) for label, v in zip(plots[2].labels, plots[2].values)]
    found["length-ratio.png"] = plots[3].series
    return found


@pytest.mark.slow
@pytest.mark.parametrize("matched", [True, False])
def test_run_plots_count_every_row_of_the_shards_as_python_did(tmp_path, matched):
    """Drawn from parquet shards through polars' streaming engine, the plots count exactly what the
    row-by-row Python counted; without matched rows, the MT's ratios come from every row with Arabic."""
    rows = corpus_rows() if matched else [r | {"reference_ids": ""} for r in corpus_rows()]
    frame = to_frame(rows)
    for number in range(10):
        write_parquet(frame.filter(pl.col("article_id") == f"a{number}"), tmp_path / f"{number}.parquet")
    shards = pl.scan_parquet([tmp_path / f"{number}.parquet" for number in range(10)])
    plots = plot_run(shards, tmp_path / "plots")
    assert drawn(plots) == python_counts(rows) == drawn(plot_run(frame, tmp_path / "again"))
    assert set(plots[3].series) == ({"MT / Arabic", "reference / Arabic"} if matched else {"MT / Arabic"})
    assert plots[1].figure.axes[0].get_legend().get_texts()[0].get_text() == (
        f"flagged below 0.5: {sum(r['alignment_confidence'] < 0.5 for r in rows)} rows"
    )


def test_run_plots_are_kept_by_key_and_reused_instead_of_redrawn(tmp_path):
    row = {"reference": "en", "source_ids": "1", "reference_ids": "1", "arabic": "نص عربي", "english_mt": "a text"}
    row |= {"english_reference": "the text", "sentence_chrf": 50.0, "alignment_confidence": 0.9}
    cache = tmp_path / "cache"
    first = plot_run(to_frame([row] * 30), tmp_path / "first", cache=cache, cache_key="shard-a\nshard-b")
    # the same key, other rows: what was kept for the key comes back, nothing is counted or drawn
    again = plot_run(to_frame([row] * 3), tmp_path / "again", cache=cache, cache_key="shard-a\nshard-b")
    assert [(p.path.name, p.title, p.values, p.warning, p.series) for p in again] == [
        (p.path.name, p.title, p.values, p.warning, p.series) for p in first
    ]
    for before, after in zip(first, again, strict=True):
        assert after.path.parent == tmp_path / "again" and after.path.read_bytes() == before.path.read_bytes()
    # another key: drawn from its own rows
    other = plot_run(to_frame([row] * 3), tmp_path / "other", cache=cache, cache_key="shard-a")
    assert sum(other[0].values) == 3 and sum(first[0].values) == 30
    assert other[0].warning is not None and first[0].warning is None
    assert len([d for d in cache.iterdir()]) == 2


def test_a_killed_runs_cache_staging_goes_at_the_next_keeping_and_a_live_ones_stays(tmp_path):
    """A run killed while it kept its plots left ``.<key>.<pid>-<host>.tmp`` in the cache for ever."""
    dead = subprocess.run(
        [sys.executable, "-c", "from tarjama.corpus.outputs import temporary_mark; print(temporary_mark())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()  # the mark of a process that has ended
    cache = tmp_path / "cache"
    killed, live = cache / f".killed.{dead}", cache / f".live.{temporary_mark()}"
    for staging in (killed, live):
        staging.mkdir(parents=True)
        (staging / "row-chrf.png").write_bytes(b"half")
    row = {"reference": "en", "source_ids": "1", "reference_ids": "1", "arabic": "نص عربي", "english_mt": "a text"}
    plot_run(to_frame([row] * 3), tmp_path / "plots", cache=cache, cache_key="shard-a")
    assert not killed.exists() and live.is_dir()
