"""The corpus export formats: each writes a corpus (a lazy frame of :data:`~tarjama.corpus.schema.SCHEMA` rows).

Every format has one interface, ``write(corpus, folder, stem) -> files``, and is looked up by name through
:mod:`tarjama.corpus.export`, which imports this module (and polars) only when something is exported. Every
file is written atomically (:func:`~tarjama.corpus.schema.atomic_path`) and streamed from the lazy frame
where polars can sink it, so a corpus of parquet shards is never collected whole.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from xml.sax.saxutils import escape, quoteattr

import polars as pl

import tarjama
from tarjama.corpus.dataset_card import CardConfig, dataset_card
from tarjama.corpus.export import FILTER_METADATA
from tarjama.corpus.schema import (
    atomic_path,
    english_side,
    one_line,
    write_jsonl,
    write_parquet,
    write_text,
    write_tsv,
)
from tarjama.text.normalize import C0_CONTROLS

# Characters XML 1.0 cannot carry even escaped (tabs and line breaks, VT and FF among them, are made spaces
# before this).
_XML_INVALID = f"[{C0_CONTROLS}\ufffe\uffff]"
_TMX_BATCH_ROWS = 10_000


class CorpusFormat(Protocol):
    def write(
        self, corpus: pl.LazyFrame, folder: Path, stem: str, provenance: Mapping[str, str] | None = None
    ) -> list[Path]:
        """Write ``corpus`` into ``folder`` as files named from ``stem``; return them in a fixed order.

        ``provenance`` (the signatures of how the rows were made) goes into the files of a format that
        carries metadata; the others are the rows alone."""
        ...


@dataclass(frozen=True, slots=True)
class OneFile:
    """A format that is one file, ``<stem>.<suffix>``."""

    suffix: str
    writer: Callable[[pl.LazyFrame, Path], Path]

    def write(
        self, corpus: pl.LazyFrame, folder: Path, stem: str, provenance: Mapping[str, str] | None = None
    ) -> list[Path]:
        return [self.writer(corpus, folder / f"{stem}.{self.suffix}")]


@dataclass(frozen=True, slots=True)
class Parquet:
    """``<stem>.parquet``, its provenance in the footer's key-value metadata, where pyarrow and polars
    (``pl.read_parquet_metadata``) find it beside the rows."""

    def write(
        self, corpus: pl.LazyFrame, folder: Path, stem: str, provenance: Mapping[str, str] | None = None
    ) -> list[Path]:
        return [write_parquet(corpus, folder / f"{stem}.parquet", dict(provenance) if provenance else None)]


def _lines(corpus: pl.LazyFrame, line: pl.Expr, target: Path, stack: ExitStack) -> pl.LazyFrame:
    """A lazy sink of ``line`` (one line of text per row) into ``target`` (atomic once ``stack`` closes without error)."""
    tmp = stack.enter_context(atomic_path(target))
    return corpus.select(line.alias("line")).sink_csv(tmp, include_header=False, quote_style="never", lazy=True)


def _text(column: str) -> pl.Expr:
    return one_line(pl.col(column)).fill_null("")


def opus_ids() -> pl.Expr:
    """A row's line of OPUS's ``.ids``: Arabic document, English document, and the space-separated
    sentence numbers of each side, tab-separated (``bbc.1.ar  bbc.1.en  3 4  3``). The documents are the
    article id with the language (the reference's label for the English: ``en``, ``en-b``); without a
    reference the English document and numbers are empty, as that row's line of ``.en`` is."""
    has_reference = pl.col("reference") != ""
    english = pl.when(has_reference).then(pl.concat_str(_text("article_id"), pl.lit("."), _text("reference")))
    return pl.concat_str(
        _text("article_id") + ".ar",
        english.otherwise(pl.lit("")),
        _text("source_ids").str.replace_all(",", " "),
        _text("reference_ids").str.replace_all(",", " "),
        separator="\t",
    )


@dataclass(frozen=True, slots=True)
class Moses:
    """Line-aligned plain text, as Moses, fairseq and OPUS tools read it: line n of each file is corpus row n.

    ``<stem>.ar`` (Arabic), ``<stem>.en`` (the human reference, empty for a row without one),
    ``<stem>.mt.en`` (the machine translation) and ``<stem>.ids`` (where each line comes from, as OPUS
    gives it: :func:`opus_ids`). ``<stem>.en`` is left out only for a corpus whose rows are all MT-only (a
    file of empty lines would look like a reference); a corpus with no row at all (a filtered corpus that
    nothing passed) gets all four files, empty, so a filtered set always has the files its formats name.
    Tabs and line breaks inside text become spaces. Rows of unmatched beads keep their line (one side
    empty) so the files stay aligned with the TSV; a filtered corpus leaves them out.
    """

    def write(
        self, corpus: pl.LazyFrame, folder: Path, stem: str, provenance: Mapping[str, str] | None = None
    ) -> list[Path]:
        columns = {f"{stem}.ar": _text("arabic"), f"{stem}.mt.en": _text("english_mt"), f"{stem}.ids": opus_ids()}
        if corpus.select((pl.col("reference") != "").any() | (pl.len() == 0)).collect().item():
            columns[f"{stem}.en"] = _text("english_reference")
        with ExitStack() as stack:
            sinks = [_lines(corpus, column, folder / name, stack) for name, column in columns.items()]
            pl.collect_all(sinks)  # run together, so polars can share one scan of the corpus
        return [folder / name for name in sorted(columns)]


def _tmx_text(column: pl.Expr) -> pl.Expr:
    """One line of text that XML can carry, without surrounding spaces (XML tools may not keep them)."""
    return one_line(column).fill_null("").str.replace_all(_XML_INVALID, "").str.strip_chars()


def _tu(row: dict[str, object]) -> str:
    """One ``<tu>``: properties first, then a ``<tuv>`` for each side that has text (the DTD's order)."""
    props = [
        ("x-article", row["article_id"]),
        ("x-reference", row["reference"]),
        ("x-row", row["row"]),
        ("x-alignment-confidence", row["alignment_confidence"]),
        ("x-engine", row["engine"]),
        ("x-model", row["model"]),
        ("x-english-mt", row["english_mt"]),  # null unless the en variant is the reference
    ]
    parts = [
        f"<prop type={quoteattr(kind)}>{escape(str(value))}</prop>" for kind, value in props if value not in ("", None)
    ]
    parts += [f'<tuv xml:lang="{lang}"><seg>{escape(str(row[lang]))}</seg></tuv>' for lang in ("ar", "en") if row[lang]]
    return "<tu>" + "".join(parts) + "</tu>\n"


def write_tmx(corpus: pl.LazyFrame, target: Path) -> Path:
    """TMX 1.4b, UTF-8: one ``<tu>`` per row with an ``ar`` and an ``en`` variant and its provenance as props.

    The ``en`` variant is the row's human reference when it has one (the MT is then kept in the
    ``x-english-mt`` prop), else the machine translation. A variant with no text (the unmatched side
    of a 1-0 or 0-1 bead) is left out rather than written empty, so a translation memory never offers
    "nothing" as a translation; a row with text on neither side (only spaces or control characters) has no ``<tu>``.
    No creation date: the same corpus gives the same bytes.
    """
    has_reference = pl.col("reference") != ""
    rows = corpus.select(
        _tmx_text(pl.col("article_id")).alias("article_id"),
        _tmx_text(pl.col("reference")).alias("reference"),
        "row",
        "alignment_confidence",
        _tmx_text(pl.col("engine")).alias("engine"),
        _tmx_text(pl.col("model")).alias("model"),
        pl.when(has_reference).then(_tmx_text(pl.col("english_mt"))).alias("english_mt"),
        _tmx_text(pl.col("arabic")).alias("ar"),
        _tmx_text(english_side()).alias("en"),
    ).filter((pl.col("ar") != "") | (pl.col("en") != ""))  # a <tu> needs a <tuv>
    header = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<tmx version="1.4">\n'
        f'<header creationtool="tarjama" creationtoolversion={quoteattr(tarjama.__version__)} segtype="sentence" '
        'o-tmf="tarjama" adminlang="en" srclang="ar" datatype="plaintext"/>\n<body>\n'
    )
    with atomic_path(target) as tmp, tmp.open("w", encoding="utf-8", newline="") as out:
        out.write(header)
        for batch in rows.collect_batches(chunk_size=_TMX_BATCH_ROWS):
            out.writelines(_tu(row) for row in batch.iter_rows(named=True))
        out.write("</body>\n</tmx>\n")
    return target


HF_SUFFIX = "hf.jsonl"


def translation_rows(corpus: pl.LazyFrame) -> pl.LazyFrame:
    """The rows in the Hub's translation layout: ``translation: {ar, en}`` (English as in TMX: the reference
    where there is one, else the MT), then where each row comes from and how surely it is aligned."""
    pair = pl.struct(pl.col("arabic").alias("ar"), english_side().alias("en")).alias("translation")
    return corpus.select(pair, "article_id", "reference", "row", "alignment_confidence")


def _config_name(path: Path) -> str:
    """``aligned.hf.jsonl`` → ``default``; ``aligned.min-confidence-0.8.hf.jsonl`` → ``min-confidence-0.8``."""
    _, _, variant = path.name.removesuffix(f".{HF_SUFFIX}").partition(".")
    return variant or "default"


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


@dataclass(frozen=True, slots=True)
class HuggingFace:
    """``<stem>.hf.jsonl``, one :func:`translation_rows` row a line (the layout of the Hub's translation
    datasets, which MT trainers such as transformers' ``run_translation.py`` read), and ``README.md``,
    the dataset card (:mod:`tarjama.corpus.dataset_card`) naming each such file in the folder as a configuration
    (the full corpus is ``default``), so that ``datasets.load_dataset(folder)`` reads the folder as it is.
    The filter in ``provenance`` (:data:`~tarjama.corpus.export.FILTER_METADATA`) is this file's: the card
    names it beside this file's configuration (the full corpus is written first, its filtered copy last).
    """

    def write(
        self, corpus: pl.LazyFrame, folder: Path, stem: str, provenance: Mapping[str, str] | None = None
    ) -> list[Path]:
        rows = write_jsonl(translation_rows(corpus), folder / f"{stem}.{HF_SUFFIX}")
        files = sorted(folder.glob(f"*.{HF_SUFFIX}"))
        built = dict(provenance or {})
        filtered = built.pop(FILTER_METADATA, "")  # of this file alone: the card says whose it is
        configs = [
            CardConfig(_config_name(path), path.name, _count_lines(path), filtered if path == rows else "")
            for path in files
        ]
        return [rows, write_text(dataset_card(configs, built), folder / "README.md")]


TSV = OneFile("tsv", write_tsv)
PARQUET = Parquet()
JSONL = OneFile("jsonl", write_jsonl)
MOSES = Moses()
TMX = OneFile("tmx", write_tmx)
HF = HuggingFace()
