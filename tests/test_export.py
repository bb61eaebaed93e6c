"""Corpus exports (issue 10, "Outputs a corpus user expects"): six formats, deduplication, a filtered copy.

Every format is read back with a real reader (polars, json, csv for OPUS's .ids, translate-toolkit's TMX
reader, lxml with a DTD of the TMX 1.4b rules, Hugging Face's ``datasets``) and compared with the rows
that went in.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml
from conftest import CORPUS as ARTICLES
from conftest import finish, shared_runs
from lxml import etree
from translate.storage.tmx import tmxfile

from tarjama.corpus.dataset_card import CardConfig, dataset_card, markdown_text, size_category
from tarjama.corpus.export import FORMATS, check_formats, export_corpus, filtered_stem, scan
from tarjama.corpus.schema import (
    SCHEMA,
    dedupe,
    english_side,
    min_confidence,
    one_line,
    read_tsv,
    to_frame,
    tsv_safe,
    write_parquet,
)
from tarjama.errors import TarjamaError

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# The TMX 1.4b rules (LISA OSCAR TMX 1.4b specification) for the elements an export uses: what must be
# there, in which order, with which required attributes.
TMX_DTD = """
<!ELEMENT tmx (header, body)>
<!ATTLIST tmx version CDATA #FIXED "1.4">
<!ELEMENT header (note|prop)*>
<!ATTLIST header creationtool CDATA #REQUIRED creationtoolversion CDATA #REQUIRED
    segtype (block|paragraph|sentence|phrase) #REQUIRED o-tmf CDATA #REQUIRED adminlang CDATA #REQUIRED
    srclang CDATA #REQUIRED datatype CDATA #REQUIRED o-encoding CDATA #IMPLIED creationdate CDATA #IMPLIED>
<!ELEMENT body (tu*)>
<!ELEMENT note (#PCDATA)>
<!ELEMENT prop (#PCDATA)>
<!ATTLIST prop type CDATA #REQUIRED xml:lang CDATA #IMPLIED>
<!ELEMENT tu ((note|prop)*, tuv+)>
<!ATTLIST tu tuid CDATA #IMPLIED srclang CDATA #IMPLIED segtype (block|paragraph|sentence|phrase) #IMPLIED>
<!ELEMENT tuv ((note|prop)*, seg)>
<!ATTLIST tuv xml:lang CDATA #REQUIRED>
<!ELEMENT seg (#PCDATA)>
"""

AWKWARD_ARABIC = [
    'قال الوزير: "سنعود".',
    "«اقتباس» & <وسم> ]]> 'مفرد'",
    "سطر\tبعلامة\nجدولة",
    "حرف تحكم\x01 هنا\x1f",
    "",  # the empty side of a 0-1 bead
    "جملة بلا ترجمة مرجعية.",
]
AWKWARD_ENGLISH = [
    '"We will return," the minister said.',
    "<b>bold</b> & 'single' \"double\" at the café",
    "tab\tand newline\nand CR\r and LS\u2028end",
    "control\x01char\x1f",
    "Only in the reference.",
    "",  # the empty side of a 1-0 bead
]


def _row(article: str, reference: str, number: int, arabic: str, english: str, confidence: float) -> dict:
    return {
        "article_id": article,
        "reference": reference,
        "row": number,
        "source_ids": str(number),
        "reference_ids": str(number) if reference else "",
        "arabic": arabic,
        "english_mt": f"MT of {number}: {english[:12]}" if arabic else "",
        "english_reference": english if reference else "",
        "engine": "loopback",
        "model": "echo-1",
        "alignment_confidence": confidence,
        "flagged": confidence < 0.5,
        "sentence_chrf": 42.0 if reference else None,
        "sentence_bleu": None,
    }


def _corpus() -> pl.DataFrame:
    """Two articles with references (one with a second reference) and one without, awkward text throughout."""
    rows = []
    for article, references in (("bbc.1", ["en", "en-b"]), ("cnn&<2>", ["en"]), ("dw.3", [""])):
        for reference in references:
            for i, (arabic, english) in enumerate(zip(AWKWARD_ARABIC, AWKWARD_ENGLISH), start=1):
                if not arabic and not reference:
                    continue  # without a reference there is no 0-1 bead
                # Each article and reference says something of its own: CORPUS has no duplicate pair.
                arabic, english = (f"{text} [{article} {reference}]" if text else "" for text in (arabic, english))
                rows.append(_row(article, reference, i, arabic, english, round(i / 7, 4)))
    return to_frame(rows)


CORPUS = _corpus()


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, list[Path]]:
    folder = tmp_path_factory.mktemp("export")
    return export_corpus(CORPUS, folder, list(FORMATS)).files


def _one_line(text: str) -> str:
    """What a line-based format must hold for ``text``."""
    return pl.select(one_line(pl.lit(text))).item()


def _xml(text: str) -> str:
    """What a TMX must hold for ``text``: one line, without the control characters XML cannot carry."""
    return "".join(c for c in _one_line(text) if c >= " ").strip()


def test_the_registry_names_six_formats_and_rejects_others_in_one_line():
    assert list(FORMATS) == ["tsv", "parquet", "jsonl", "moses", "tmx", "hf"]
    assert check_formats(["tmx", "tsv", "tmx"]) == ("tmx", "tsv")
    with pytest.raises(
        TarjamaError, match=r"^unknown export format 'csv' \(choose from tsv, parquet, jsonl, moses, tmx, hf\)$"
    ):
        check_formats(["tsv", "csv"])


def test_importing_the_registry_imports_no_polars():
    code = "import sys, tarjama.corpus.export; print(sorted(m for m in sys.modules if m.split('.')[0] in ('polars', 'lxml')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_tsv_and_parquet_read_back_as_the_corpus(exported):
    (tsv,), (parquet,) = exported["tsv"], exported["parquet"]
    assert read_tsv(tsv).equals(tsv_safe(CORPUS))
    assert pl.read_parquet(parquet).equals(CORPUS)


def test_jsonl_is_one_object_per_row_with_text_exact(exported):
    (jsonl,) = exported["jsonl"]
    with jsonl.open(encoding="utf-8") as handle:
        lines = list(handle)
    assert [json.loads(line) for line in lines] == CORPUS.to_dicts()
    assert "الوزير" in lines[0]  # UTF-8, not \u escapes


def test_moses_files_are_line_aligned_with_the_corpus(exported):
    files = {path.name: path for path in exported["moses"]}
    assert sorted(files) == ["aligned.ar", "aligned.en", "aligned.ids", "aligned.mt.en"]
    columns = {"aligned.ar": "arabic", "aligned.en": "english_reference", "aligned.mt.en": "english_mt"}
    for name, column in columns.items():
        lines = files[name].read_text(encoding="utf-8").split("\n")
        assert lines.pop() == ""  # every line ends with a newline, the last too
        assert len(lines) == CORPUS.height, name
        assert lines == [_one_line(text) for text in CORPUS[column]], name


def test_moses_ids_name_each_rows_documents_and_sentences_as_opus_does(exported):
    """OPUS's ``.ids`` beside its Moses files: per line, the source and target documents and the
    space-separated sentence numbers of each side, tab-separated."""
    (ids,) = (path for path in exported["moses"] if path.name == "aligned.ids")
    with ids.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    expected = [
        [f"{row['article_id']}.ar", f"{row['article_id']}.{row['reference']}" if row["reference"] else ""]
        + [row["source_ids"].replace(",", " "), row["reference_ids"].replace(",", " ")]
        for row in CORPUS.iter_rows(named=True)
    ]
    assert lines == expected
    assert ["bbc.1.ar", "bbc.1.en-b", "2", "2"] in lines and ["dw.3.ar", "", "1", ""] in lines


def test_moses_writes_no_reference_file_without_references(tmp_path):
    files = export_corpus(CORPUS.filter(pl.col("reference") == ""), tmp_path, ["moses"]).files["moses"]
    assert [path.name for path in files] == ["aligned.ar", "aligned.ids", "aligned.mt.en"]
    assert sorted(path.name for path in tmp_path.iterdir()) == ["aligned.ar", "aligned.ids", "aligned.mt.en"]


def test_tmx_is_valid_and_read_back_by_translate_toolkit(exported):
    (tmx,) = exported["tmx"]
    tree = etree.parse(str(tmx))
    dtd = etree.DTD(io.StringIO(TMX_DTD))
    assert dtd.validate(tree), dtd.error_log.filter_from_errors()
    assert tree.docinfo.encoding == "UTF-8" and tree.getroot().get("version") == "1.4"
    assert tree.find("header").get("srclang") == "ar"

    with tmx.open("rb") as handle:
        store = tmxfile(handle, sourcelanguage="ar", targetlanguage="en")
    units = store.units
    assert len(units) == CORPUS.height  # one <tu> per row
    for unit, row, tu in zip(units, CORPUS.iter_rows(named=True), tree.iter("tu")):
        english = row["english_reference"] if row["reference"] else row["english_mt"]
        assert unit.source == (_xml(row["arabic"]) or None)
        assert unit.target == (_xml(english) or None)
        assert [tuv.get(XML_LANG) for tuv in tu.iter("tuv")] == [
            lang for lang, text in (("ar", row["arabic"]), ("en", english)) if text
        ]
        props = {prop.get("type"): prop.text for prop in tu.iter("prop")}
        assert props["x-article"] == row["article_id"]
        assert props.get("x-reference", "") == row["reference"]
        assert int(props["x-row"]) == row["row"]
        assert float(props["x-alignment-confidence"]) == row["alignment_confidence"]
        assert (props["x-engine"], props["x-model"]) == ("loopback", "echo-1")
        assert props.get("x-english-mt") == (_xml(row["english_mt"]) or None if row["reference"] else None)


def test_tmx_stays_valid_when_a_row_has_no_text_on_either_side(tmp_path):
    blank = CORPUS.head(2).with_columns(pl.lit("\x01\x02").alias("arabic"), pl.lit("\t").alias("english_reference"))
    (tmx,) = export_corpus(blank.vstack(CORPUS.tail(1)), tmp_path, ["tmx"]).files["tmx"]
    tree = etree.parse(str(tmx))
    assert etree.DTD(io.StringIO(TMX_DTD)).validate(tree)
    assert [tu.findtext("prop[@type='x-article']") for tu in tree.iter("tu")] == ["dw.3"]


def _shards(folder: Path) -> Path:
    """The corpus as per-article parquet shards, as the corpus builder leaves them."""
    folder.mkdir()
    for _, frame in CORPUS.group_by("article_id", maintain_order=True):
        write_parquet(frame, folder / f"{len(list(folder.iterdir())):04d}.parquet")
    return folder


def test_streaming_from_shards_writes_the_same_bytes_as_from_a_frame(tmp_path, exported):
    shards = _shards(tmp_path / "shards")
    for source in (shards, sorted(shards.iterdir()), CORPUS.lazy()):
        out = tmp_path / f"out-{type(source).__name__}"
        files = export_corpus(source, out, [name for name in FORMATS if name != "parquet"]).files
        for name, paths in files.items():
            assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in exported[name]], (source, name)
    assert scan(shards).collect().equals(CORPUS)


def test_a_failing_source_leaves_no_file_and_no_temporary(tmp_path):
    shards = _shards(tmp_path / "shards")
    (shards / "9999.parquet").write_bytes(b"PAR1 not really parquet")
    out = tmp_path / "out"
    out.mkdir()
    for name in FORMATS:
        with pytest.raises(pl.exceptions.PolarsError):
            export_corpus(shards, out, [name])
    assert list(out.iterdir()) == []


def _duplicated() -> pl.DataFrame:
    """CORPUS plus copies of bbc.1's rows under another article, with whitespace, invisible marks and NFD."""
    copy = CORPUS.filter(pl.col("article_id") == "bbc.1").with_columns(
        pl.lit("copy.9").alias("article_id"),
        ("  " + pl.col("arabic").str.replace_all(" ", " \u200f ") + " ").alias("arabic"),
        pl.col("english_reference").str.replace_all("é", "e\u0301"),
        pl.lit("other engine's MT").alias("english_mt"),  # the pair is (Arabic, reference): MT does not count
    )
    return pl.concat([CORPUS, copy])


def test_dedupe_drops_normalised_duplicate_pairs_and_counts_them():
    corpus = _duplicated()
    deduped, counts = dedupe(corpus)
    assert (counts.rows, counts.dropped, counts.kept) == (corpus.height, 12, CORPUS.height)
    assert deduped.equals(CORPUS)  # the first of each pair kept, in order
    lazy, lazy_counts = dedupe(corpus.lazy())
    assert lazy.collect().equals(CORPUS) and lazy_counts == counts


def test_dedupe_keeps_pairs_that_differ_on_one_side():
    copies = pl.col("article_id") == "copy.9"
    for column in ("arabic", "english_reference"):
        changed = _duplicated().with_columns(pl.when(copies).then(pl.col(column) + "!").otherwise(column).alias(column))
        deduped, counts = dedupe(changed)
        assert counts.dropped == 0 and deduped.equals(changed), column


def test_a_filtered_corpus_leaves_out_the_references_it_is_told_to(tmp_path):
    """A reference that seems another article's: its rows stay in the full corpus and leave the filtered one,
    and only that reference's (the article's other reference, and other articles, stay)."""
    result = export_corpus(CORPUS, tmp_path, ["parquet"], min_confidence=0.0, leave_out=[("bbc.1", "en-b")])
    filtered = pl.read_parquet(tmp_path / f"{filtered_stem('aligned', 0.0)}.parquet")
    kept = set(zip(filtered["article_id"].to_list(), filtered["reference"].to_list()))
    assert kept == {("bbc.1", "en"), ("cnn&<2>", "en")}  # dw.3 has no reference: MT only, never filtered in
    assert result.left_out_references == 1 and pl.read_parquet(result.files["parquet"][0]).height == CORPUS.height


def _human_pairs() -> pl.Expr:
    """The rows a filtered corpus may keep, written out as a reader of docs/outputs.md would: Arabic and a human
    reference both there."""
    return (pl.col("arabic") != "") & (pl.col("reference") != "") & (pl.col("english_reference") != "")


def test_min_confidence_filters_beside_the_full_corpus(tmp_path):
    """The filtered corpus holds the pairs aligned at least that confidently: a sentence with no counterpart
    (one side empty) stays in the full corpus however sure the aligner is of it, and out of the filtered one."""
    result = export_corpus(CORPUS, tmp_path, ["tsv", "moses"], min_confidence=0.5)
    full = read_tsv(result.files["tsv"][0])
    filtered = read_tsv(tmp_path / f"{filtered_stem('aligned', 0.5)}.tsv")
    assert full.equals(tsv_safe(CORPUS)) and result.rows == CORPUS.height
    confident = tsv_safe(CORPUS).filter(pl.col("alignment_confidence") >= 0.5)
    one_sided = confident.filter((pl.col("arabic") == "") | (english_side() == ""))
    assert one_sided.height > 0  # in the full corpus, confidently
    expected = confident.filter(_human_pairs())
    assert filtered.equals(expected) and result.filtered_rows == expected.height > 0
    assert [p.name for p in result.filtered_files["moses"]] == [
        "aligned.min-confidence-0.5.ar",
        "aligned.min-confidence-0.5.en",
        "aligned.min-confidence-0.5.ids",
        "aligned.min-confidence-0.5.mt.en",
    ]
    assert len(result.filtered_files["moses"][0].read_text().splitlines()) == expected.height


@pytest.mark.parametrize("formats", [["tsv", "moses", "hf"], ["tmx", "jsonl"]])
def test_a_filtered_corpus_leaves_out_the_rows_without_a_human_reference(tmp_path, formats):
    """An article without a reference (MT only) stays in the full corpus and never enters a filtered one, however
    confident its rows: its English would be the MT, mixed with human references in a set of pairs."""
    mt_only = CORPUS.filter(pl.col("reference") == "")
    assert mt_only.filter(pl.col("alignment_confidence") >= 0.5).height > 0  # confident, and one-sided for no one
    result = export_corpus(CORPUS, tmp_path, [*formats, "parquet"], min_confidence=0.5, passing=["numbers"])
    (parquet,) = result.filtered_files["parquet"]
    filtered = pl.read_parquet(parquet)
    assert filtered.height == result.filtered_rows > 0
    assert filtered.filter(~_human_pairs()).is_empty() and "dw.3" not in filtered["article_id"].to_list()
    assert "dw.3" in pl.read_parquet(result.files["parquet"][0])["article_id"].to_list()
    for path in (p for name in formats for p in result.filtered_files[name]):
        if path.name != "README.md":
            assert "dw.3" not in path.read_text(encoding="utf-8"), path.name
    if "hf" in formats:  # every `en` of the filtered configuration is a human reference
        (rows, _card) = result.filtered_files["hf"]
        english = [json.loads(line)["translation"]["en"] for line in rows.read_text(encoding="utf-8").splitlines()]
        assert english == filtered["english_reference"].to_list()


def test_a_filtered_corpus_that_nothing_passed_has_every_file_empty(tmp_path):
    """Only MT-only articles (no human pair): the filtered corpus is empty, and its Moses set has the four files
    docs/formats.md names, `.en` too, all empty; the full corpus of MT-only rows has no `.en` (all blank)."""
    mt_only = CORPUS.filter(pl.col("reference") == "")
    result = export_corpus(mt_only, tmp_path, ["moses", "tsv", "hf"], min_confidence=0.0)
    assert result.filtered_rows == 0
    moses = result.filtered_files["moses"]
    assert [p.name for p in moses] == [f"aligned.min-confidence-0.{suffix}" for suffix in ("ar", "en", "ids", "mt.en")]
    assert all(path.read_bytes() == b"" for path in moses)
    assert read_tsv(result.filtered_files["tsv"][0]).is_empty()
    assert result.filtered_files["hf"][0].read_bytes() == b""
    assert [p.name for p in result.files["moses"]] == ["aligned.ar", "aligned.ids", "aligned.mt.en"]


def test_provenance_goes_into_every_parquet_file_and_nowhere_else(tmp_path):
    provenance = {"tarjama.alignment": "aligner:x|beads:1-1", "tarjama.engine": "google|nmt"}
    result = export_corpus(CORPUS, tmp_path, ["parquet", "tsv"], min_confidence=0.5, provenance=provenance)
    for parquet in (*result.files["parquet"], *result.filtered_files["parquet"]):
        metadata = pl.read_parquet_metadata(parquet)
        assert {k: metadata.get(k) for k in provenance} == provenance, parquet.name
    assert read_tsv(result.files["tsv"][0]).equals(tsv_safe(CORPUS))  # the rows alone
    plain = export_corpus(CORPUS, tmp_path / "plain", ["parquet"]).files["parquet"][0]
    assert not set(provenance) & set(pl.read_parquet_metadata(plain))


@pytest.mark.parametrize(
    ("threshold", "passing", "expected"),
    [
        (0.5, (), "min-confidence:0.5|passing-checks:none|rows:reference-pairs"),
        (None, ("numbers",), "min-confidence:none|passing-checks:numbers|rows:reference-pairs"),
        (0.5, ("language", "numbers"), "min-confidence:0.5|passing-checks:language,numbers|rows:reference-pairs"),
    ],
)
def test_the_filtered_corpus_carries_its_filter_and_the_full_one_none(tmp_path, threshold, passing, expected):
    """Filters on other checks write files of one name: their metadata and dataset card tell them apart."""
    provenance = {"tarjama.engine": "google|nmt"}
    result = export_corpus(
        CORPUS, tmp_path, ["parquet", "hf"], min_confidence=threshold, passing=passing, provenance=provenance
    )
    assert result.filter is not None and result.filter.format() == expected
    (filtered,) = result.filtered_files["parquet"]
    metadata = pl.read_parquet_metadata(filtered)
    assert {key: metadata.get(key) for key in ("tarjama.engine", "tarjama.filter")} == provenance | {
        "tarjama.filter": expected
    }
    assert "tarjama.filter" not in pl.read_parquet_metadata(result.files["parquet"][0])
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    name = _config_name_of(result.filtered_files["hf"][0])
    assert f"| {markdown_text(name)} | {markdown_text(result.filtered_files['hf'][0].name)} |" in card
    assert f"| {markdown_text(expected)} |" in card and "| none: every row |" in card
    assert "tarjama\\.filter" not in card  # said beside its configuration, not as how every row was built
    assert export_corpus(CORPUS, tmp_path / "full", ["parquet"]).filter is None


def _config_name_of(path):
    return path.name.removesuffix(".hf.jsonl").partition(".")[2]


def test_export_with_dedupe_reports_counts(tmp_path):
    result = export_corpus(_duplicated(), tmp_path, ["jsonl"], dedupe=True, min_confidence=0.0)
    assert result.dedupe is not None and result.dedupe.dropped == 12 and result.rows == CORPUS.height
    assert result.filtered_rows == CORPUS.filter(_human_pairs()).height


@pytest.mark.parametrize("threshold", [-0.1, 1.5, float("nan")])
def test_a_confidence_out_of_range_is_refused_before_writing(tmp_path, threshold):
    with pytest.raises(TarjamaError, match="expected a number from 0 to 1"):
        export_corpus(CORPUS, tmp_path / "out", ["tsv"], min_confidence=threshold)
    with pytest.raises(TarjamaError):
        min_confidence(CORPUS, threshold)
    assert not (tmp_path / "out").exists()


def test_schema_columns_are_all_exported(exported):
    assert pl.read_csv(exported["tsv"][0], separator="\t", quote_char=None, n_rows=0).columns == list(SCHEMA)


# --- hf: the Hub's translation layout and a dataset card, read back by datasets.load_dataset ---

SEED = ARTICLES / "morocco-us-counterterrorism.ar.txt"
PROVENANCE = {"tarjama.alignment": "aligner:chrf-len|beads:1-1", "tarjama.engine": "google|<b>nmt</b> | `x` *y*\n# z"}


@pytest.fixture(scope="module")
def datasets_offline(tmp_path_factory):
    """``datasets``, imported with the Hub switched off: reading a local folder must need no network."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf-home")))  # nothing written to the user's home
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("HF_DATASETS_OFFLINE", "1")
        import datasets

        yield datasets


def _expected(frame: pl.DataFrame) -> list[dict[str, str]]:
    return frame.select(pl.col("arabic").alias("ar"), english_side().alias("en")).to_dicts()


def test_load_dataset_reads_the_run_folder_as_is(tmp_path, datasets_offline):
    """Beside the other formats and the filtered corpus: the card says which files make each configuration."""
    folder = tmp_path / "run"
    export_corpus(CORPUS, folder, ["tsv", "jsonl", "moses", "hf"], min_confidence=0.5, provenance=PROVENANCE)
    cache = tmp_path / "cache"
    full = datasets_offline.load_dataset(str(folder), cache_dir=str(cache))
    assert list(full) == ["train"]
    assert full["train"]["translation"] == _expected(CORPUS)
    assert full["train"]["article_id"] == CORPUS["article_id"].to_list()
    assert full["train"]["alignment_confidence"] == CORPUS["alignment_confidence"].to_list()
    filtered = datasets_offline.load_dataset(str(folder), "min-confidence-0.5", cache_dir=str(cache))
    pairs = CORPUS.filter((pl.col("alignment_confidence") >= 0.5) & _human_pairs())
    assert filtered["train"]["translation"] == _expected(pairs)
    assert [pair["en"] for pair in filtered["train"]["translation"]] == pairs["english_reference"].to_list()


def test_each_line_is_a_translation_object(tmp_path):
    (rows, card) = export_corpus(CORPUS, tmp_path, ["hf"]).files["hf"]
    assert (rows.name, card.name) == ("aligned.hf.jsonl", "README.md")
    first = json.loads(rows.read_text(encoding="utf-8").splitlines()[0])
    assert first == {
        "translation": {"ar": CORPUS["arabic"][0], "en": CORPUS["english_reference"][0]},
        "article_id": "bbc.1",
        "reference": "en",
        "row": 1,
        "alignment_confidence": CORPUS["alignment_confidence"][0],
    }


def test_the_card_header_is_the_hubs_and_the_run_text_is_escaped(tmp_path):
    export_corpus(CORPUS, tmp_path, ["hf"], min_confidence=0.5, provenance=PROVENANCE)
    text = (tmp_path / "README.md").read_text(encoding="utf-8")
    _, header, body = text.split("---\n", 2)
    meta = yaml.safe_load(header)
    assert meta["language"] == ["ar", "en"] and meta["license"] == "unknown"
    assert meta["size_categories"] == ["n<1K"] and meta["task_categories"] == ["translation"]
    assert meta["configs"] == [
        {"config_name": "default", "data_files": [{"split": "train", "path": "aligned.hf.jsonl"}]},
        {
            "config_name": "min-confidence-0.5",
            "data_files": [{"split": "train", "path": "aligned.min-confidence-0.5.hf.jsonl"}],
        },
    ]
    assert "aligner:chrf\\-len\\|beads:1\\-1" in body  # the signature, shown literally
    assert "<b>" not in body and "&lt;b&gt;nmt&lt;/b&gt; \\| \\`x\\` \\*y\\* \\# z" in body
    assert f"| default | aligned\\.hf\\.jsonl | {CORPUS.height} |" in body


def test_yaml_values_from_the_run_stay_values():
    card = dataset_card([CardConfig('x"\n- config_name: evil', "a: b.hf.jsonl", 5)])
    meta = yaml.safe_load(card.split("---\n")[1])
    assert meta["configs"] == [
        {"config_name": 'x"\n- config_name: evil', "data_files": [{"split": "train", "path": "a: b.hf.jsonl"}]}
    ]


@pytest.mark.parametrize(
    ("rows", "category"), [(0, "n<1K"), (999, "n<1K"), (1_000, "1K<n<10K"), (250_000, "100K<n<1M"), (10**6, "n>1M")]
)
def test_size_categories_are_the_hubs(rows, category):
    assert size_category(rows) == category


def test_markdown_text_is_one_literal_line():
    assert markdown_text("a\n*b* [c](d) <e>") == "a \\*b\\* \\[c\\]\\(d\\) &lt;e&gt;"


@pytest.mark.slow
def test_a_real_runs_folder_loads_with_datasets(tmp_path, datasets_offline):
    """`tarjama run --format hf --min-confidence 0.5`: the run folder (TSV, Parquet, plots, report) loads as it is."""
    out = tmp_path / "out"
    with shared_runs(tmp_path) as runs:
        status, stderr = finish(runs.start(SEED, "-o", out, "--name", "r", "--format", "hf", "--min-confidence", "0.5"))
    assert status == 0, stderr[-3000:]
    folder = out / "r"
    corpus = pl.read_parquet(folder / "aligned.parquet")
    loaded = datasets_offline.load_dataset(str(folder), cache_dir=str(tmp_path / "cache"))
    assert loaded["train"]["translation"] == _expected(corpus)
    card = (folder / "README.md").read_text(encoding="utf-8")
    assert "tarjama\\.alignment: aligner:chrf\\-len" in card and "tarjama\\.engine: libre" in card
