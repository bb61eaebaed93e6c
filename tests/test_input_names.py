"""Article ids and reference labels: matched literally in file names, and one same text in every output.

An id is what a file's name or a manifest's record gives, character for character: references are
found by it literally (no glob pattern), and an id or label that the outputs could not all hold as
given (a control character, whitespace at either end) is refused in one line before anything starts.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import polars as pl
import pytest
from conftest import TARJAMA, align_cli, cli_env

from tarjama.corpus.inputs import collect_articles, read_manifest
from tarjama.errors import TarjamaError
from tarjama.text.article import find_references, labelled_references, split_reference_name

ARABIC = "وصل وزير الخارجية إلى الرباط يوم الجمعة.\n"
ENGLISH = "The foreign minister arrived in Rabat on Friday.\n"


def files(folder: Path, *names: str) -> Path:
    """``names`` written in ``folder``: the Arabic ones (``.ar.txt``) with Arabic, the others with English."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(ARABIC if name.endswith(".ar.txt") else ENGLISH, encoding="utf-8")
    return folder


def references(articles) -> dict[str, list[tuple[str, str]]]:
    return {a.id: [(r.label, r.source.origin.name) for r in a.references] for a in articles}


@pytest.mark.parametrize(
    ("article", "own", "decoys"),
    [
        ("report [1]", ["report [1].en.txt"], ["report 1.ar.txt", "report 1.en-b.txt"]),
        ("report [draft]", ["report [draft].en.txt", "report [draft].en-b.txt"], []),
        ("a*b", ["a*b.en-c.txt"], ["aXb.ar.txt", "aXb.en-b.txt", "a-long-b.en-d.txt"]),
        ("a?c", ["a?c.en.txt"], ["abc.ar.txt", "abc.en-b.txt"]),
        ("[!x]", ["[!x].en-2.txt"], ["y.ar.txt", "y.en-2.txt"]),
    ],
)
def test_an_id_with_glob_characters_takes_exactly_its_own_references(tmp_path, article, own, decoys):
    """Glob characters in an id are literal: ``report [1]`` never takes ``report 1.en-b.txt`` (a pattern
    would match it) and ``report [draft]`` does take ``report [draft].en-b.txt`` (a pattern would not)."""
    folder = files(tmp_path / "in", f"{article}.ar.txt", *own, *decoys)
    found = collect_articles([folder / f"{article}.ar.txt"])
    assert references(found) == {article: [(name.split(".")[-2], name) for name in own]}
    assert [p.name for p in find_references(folder / f"{article}.ar.txt")] == own
    by_folder = references(collect_articles([folder]))  # each article of the folder, each with its own
    assert by_folder[article] == [(name.split(".")[-2], name) for name in own]
    assert sorted(by_folder) == sorted(n.removesuffix(".ar.txt") for n in [f"{article}.ar.txt", *decoys] if ".ar." in n)


def test_articles_x_and_x_en_b_side_by_side_keep_their_own_references(tmp_path):
    """``x.en-b.en.txt`` and ``x.en-b.ar.txt`` are article ``x.en-b``'s reference and article, not two
    references of article ``x`` (which made the run refuse ``x`` for two references labelled ``en``)."""
    folder = files(tmp_path / "in", "x.ar.txt", "x.en.txt", "x.en-c.txt", "x.en-b.ar.txt", "x.en-b.en.txt")
    expected = {"x": [("en", "x.en.txt"), ("en-c", "x.en-c.txt")], "x.en-b": [("en", "x.en-b.en.txt")]}
    assert references(collect_articles([folder])) == expected
    assert references(collect_articles([f"{folder}/*.ar.txt"])) == expected
    assert references(collect_articles([folder / "x.ar.txt", folder / "x.en-b.ar.txt"])) == expected
    # given on the command line, a reference goes to the article whose whole id its name gives
    given = collect_articles([folder / "x.ar.txt", folder / "x.en-b.ar.txt"], [folder / "x.en-b.en.txt"])
    assert references(given) == expected


def test_each_article_of_a_large_folder_takes_exactly_its_own_references(tmp_path):
    """A folder is listed once for all its articles (it was listed once per article: 47 s for 4,000 articles
    in one folder, benchmarks/bench_inputs.py), and each article still takes its own references only:
    ids that begin another (``a1``, ``a10``), ids with glob characters, a hidden article, and an article in
    a subfolder whose label sits, wrongly, one folder up."""
    folder = tmp_path / "in"
    expected: dict[str, list[tuple[str, str]]] = {}
    for n in range(300):
        article = f"a{n}" if n % 5 else f"a{n} [{n % 7}]*"
        labels = ["en"] * (n % 2) + [f"en-{label}" for label in ("b", "c", "b2")[: n % 4]]
        files(folder, f"{article}.ar.txt", *(f"{article}.{label}.txt" for label in labels))
        expected[article] = [
            (label, f"{article}.{label}.txt") for label in sorted(labels, key=lambda x: (x != "en", f"{x}.txt"))
        ]
    files(folder, ".hidden.ar.txt", ".hidden.en-x.txt", "b.en-c.txt", "a1.en-.txt", "a1.en-b.c.txt")
    files(folder / "sub", "b.ar.txt", "b.en-b.txt")
    expected |= {".hidden": [("en-x", ".hidden.en-x.txt")], "b": [("en-b", "b.en-b.txt")]}
    assert references(collect_articles([folder])) == expected
    named = [folder / f"{article}.ar.txt" for article in expected if article != "b"] + [folder / "sub" / "b.ar.txt"]
    assert references(collect_articles(named)) == expected
    listed = labelled_references(folder)  # what one listing of the folder gives serves each of its articles
    for article in named[:-1]:
        assert find_references(article, listed) == find_references(article)
        assert [p.name for p in find_references(article)] == [name for _, name in expected[article.name[:-7]]]


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("x.en.txt", ("x", "en")),
        ("x.en-b.txt", ("x", "en-b")),
        ("x.en-b.en.txt", ("x.en-b", "en")),
        ("a.b.c.en-human_2.txt", ("a.b.c", "en-human_2")),
        ("report [1].en-b.txt", ("report [1]", "en-b")),
        ("x.en-b.ar.txt", None),  # an article
        ("x.ar.txt", None),
        ("x.en-.txt", None),  # no label after the dash
        ("x.fr.txt", None),
        (".en.txt", None),  # no id
        ("x.en", None),
    ],
)
def test_a_reference_file_name_has_one_reading(name, parsed):
    assert split_reference_name(name) == parsed


BAD_NAMES = {
    "tab": ("tab\tid", "holds a control character ('\\t')"),
    "newline": ("line\nbreak", "holds a control character ('\\n')"),
    "carriage return": ("cr\rid", "holds a control character ('\\r')"),
    "NUL": ("nul\x00id", "holds a control character ('\\x00')"),
    "escape": ("esc\x1b[31mid", "holds a control character ('\\x1b')"),
    "next line (C1)": ("nel\x85id", "holds a control character ('\\x85')"),
    "line separator": ("ls\u2028id", "holds a control character ('\\u2028')"),
    "surrounding spaces": ("  spaced  ", "begins or ends with whitespace"),
    "trailing no-break space": ("nbsp\u00a0", "begins or ends with whitespace"),
}


def write_manifest(path: Path, records: list[dict]) -> Path:
    if path.suffix == ".jsonl":
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    else:
        pl.DataFrame(records).write_parquet(path)
    return path


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
@pytest.mark.parametrize("case", BAD_NAMES)
def test_a_manifest_id_or_label_the_outputs_cannot_all_hold_is_refused(tmp_path, suffix, case):
    """The TSV and Moses files wrote ``tab id`` where Parquet and scores.json kept ``tab\\tid``, and
    ``"  spaced  "`` became ``spaced``: such an id or label is refused, in one line naming the record."""
    bad, problem = BAD_NAMES[case]
    good = {"id": "good", "text": ARABIC, "references": [{"label": "en", "text": ENGLISH}]}
    with_id = write_manifest(tmp_path / f"ids{suffix}", [good, {**good, "id": bad}])
    with pytest.raises(TarjamaError) as caught:
        read_manifest(with_id)
    where = f"{with_id}:2" if suffix == ".jsonl" else f"{with_id}:row 2"
    assert str(caught.value) == f'{where}: the "id" {bad!r} {problem}'
    with_label = write_manifest(
        tmp_path / f"labels{suffix}",
        [{**good, "references": [{"label": "en", "text": ENGLISH}, {"label": bad, "text": ENGLISH}]}],
    )
    with pytest.raises(TarjamaError) as caught:
        collect_articles([with_label])
    where = f"{with_label}:1" if suffix == ".jsonl" else f"{with_label}:row 1"
    assert str(caught.value) == f'{where}: reference 2: the "label" {bad!r} {problem}'
    assert "\n" not in str(caught.value) and "\t" not in str(caught.value)


def test_a_manifest_id_is_kept_exactly_as_given(tmp_path):
    """Inner spaces, glob characters, dots and bidi controls are the id's own: kept, character for character."""
    ids = ["bbc 2026 05", "report [1]", "x.en-b", "\u202eevil", "تقرير-١", "a  b"]
    manifest = write_manifest(tmp_path / "m.jsonl", [{"id": i, "text": ARABIC} for i in ids])
    assert [a.id for a in read_manifest(manifest)] == ids


def test_a_manifest_label_must_be_a_string(tmp_path):
    manifest = write_manifest(
        tmp_path / "m.jsonl", [{"id": "a", "text": ARABIC, "references": [{"label": 2, "text": ENGLISH}]}]
    )
    with pytest.raises(TarjamaError, match=r'm.jsonl:1: reference 1: its "label" must be a string, not 2$'):
        read_manifest(manifest)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "tab\tid.ar.txt",
            "the article id its name gives, 'tab\\tid', holds a control character ('\\t') (rename the file)",
        ),
        ("line\nbreak.ar.txt", "the article id its name gives, 'line\\nbreak', holds a control character ('\\n')"),
        (" spaced.ar.txt", "the article id its name gives, ' spaced', begins or ends with whitespace"),
        (".ar.txt", "the article id its name gives, '', is empty"),
    ],
)
def test_a_file_name_giving_such_an_id_is_refused(tmp_path, name, message):
    """The same rule for ids from file names: found in a folder or a glob, or named, the run is refused
    in one line naming the file (escaped)."""
    folder = files(tmp_path / "in", "fine.ar.txt", name)
    globbed = [[f"{folder}/*.ar.txt"]] if not name.startswith(".") else []  # a glob's * skips hidden files
    for given in ([folder], *globbed, [folder / name]):
        with pytest.raises(TarjamaError) as caught:
            collect_articles(given)
        shown = str(caught.value)
        assert shown.startswith(f"{folder}/") and message in shown and "\n" not in shown and "\t" not in shown


def test_a_reference_file_name_giving_such_a_label_is_refused(tmp_path):
    folder = files(tmp_path / "in", "a.ar.txt", "a.en.txt", "a.en-x\ty.txt")
    with pytest.raises(TarjamaError) as caught:
        collect_articles([folder])
    assert str(caught.value) == (
        f"{folder}/a.en-x\\ty.txt: the reference label its name gives, 'en-x\\ty', holds a control character ('\\t') "
        "(rename the file)"
    )


def test_the_cli_refuses_such_a_manifest_before_starting_anything(tmp_path):
    """One line, exit status 2, no output folder and no Prefect server started (fast: nothing loads)."""
    good = {"id": "good", "text": ARABIC}
    manifest = write_manifest(tmp_path / "m.jsonl", [good, {"id": "tab\tid", "text": ARABIC}])
    out = tmp_path / "out"
    result = subprocess.run(
        [TARJAMA, "run", str(manifest), "--out", str(out), "--format", "tsv", "--format", "moses"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=cli_env(tmp_path / "home"),
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert (
        result.stderr.strip()
        == f"tarjama: error: {manifest}:2: the \"id\" 'tab\\tid' holds a control character ('\\t')"
    )
    assert not out.exists()


def test_align_refuses_such_a_file_name_too(tmp_path):
    """``tarjama align`` writes the id and label its files' names give into its TSV: the same rule."""
    folder = files(tmp_path / "in", "tab\tid.ar.txt", "tab\tid.en.txt", "fine.ar.txt", "fine.en-b .txt")
    result = align_cli(tmp_path, folder / "tab\tid.ar.txt", folder / "tab\tid.en.txt", "-o", tmp_path / "out.tsv")
    assert (result.returncode, result.stderr.strip()) == (
        2,
        f"tarjama: error: {folder}/tab\\tid.ar.txt: the article id its name gives, 'tab\\tid', "
        "holds a control character ('\\t') (rename the file)",
    )
    result = align_cli(tmp_path, folder / "fine.ar.txt", folder / "fine.en-b .txt", "-o", tmp_path / "out.tsv")
    assert (result.returncode, result.stderr.strip()) == (
        2,
        f"tarjama: error: {folder}/fine.en-b .txt: the reference label its name gives, 'en-b ', "
        "begins or ends with whitespace (rename the file)",
    )
    assert not (tmp_path / "out.tsv").exists()
