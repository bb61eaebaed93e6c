"""Every writer replaces regular files atomically and never replaces anything else (issue 9, item 1).

Device nodes are made with ``mknod`` inside the test's folder (the tests run as root, as the failure did),
so a broken writer destroys only a node of its own.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import polars as pl
import pytest

from tarjama.corpus.schema import (
    SCHEMA,
    atomic_path,
    copy_file,
    read_tsv,
    to_frame,
    write_json,
    write_parquet,
    write_text,
    write_tsv,
)
from tarjama.errors import TarjamaError

ROW = {name: None for name in SCHEMA} | {
    "article_id": "a",
    "reference": "en",
    "row": 1,
    "source_ids": "1",
    "reference_ids": "1",
    "arabic": "قال الوزير.",
    "english_mt": "The minister said.",
    "english_reference": '"The minister," he said.',
    "engine": "loopback",
    "model": "m",
    "alignment_confidence": 0.9,
    "flagged": False,
    "checks_failed": "",
    "check_notes": "",
}
FRAME = to_frame([ROW])


def _source(tmp_path: Path) -> Path:
    source = tmp_path / "source.txt"
    source.write_text("copied content\n", encoding="utf-8")
    return source


# Each writer, and the bytes it must deliver to whatever reads what it wrote.
WRITERS = {
    "tsv": lambda target, tmp_path: write_tsv(FRAME, target),
    "parquet": lambda target, tmp_path: write_parquet(FRAME, target),
    "text": lambda target, tmp_path: write_text("some text\n", target),
    "json": lambda target, tmp_path: write_json({"key": "قيمة"}, target),
    "copy": lambda target, tmp_path: copy_file(_source(tmp_path), target),
}


def _expected_bytes(name: str, tmp_path: Path) -> bytes:
    """What the writer writes to a fresh regular file: what a device or FIFO must receive too."""
    reference = tmp_path / f"reference.{name}"
    WRITERS[name](reference, tmp_path)
    return reference.read_bytes()


def _null_device(path: Path) -> Path:
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # the numbers of /dev/null
    return path


@pytest.mark.parametrize("name", WRITERS)
def test_a_character_device_is_written_through_not_replaced(tmp_path, name):
    device = _null_device(tmp_path / "null")
    WRITERS[name](device, tmp_path)
    assert stat.S_ISCHR(device.lstat().st_mode)
    assert device.lstat().st_rdev == os.makedev(1, 3)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("name", WRITERS)
def test_a_fifo_is_written_through_to_its_reader(tmp_path, name):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    expected = _expected_bytes(name, tmp_path)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        WRITERS[name](fifo, tmp_path)
        received, _ = reader.communicate(timeout=30)
    finally:
        reader.kill()
        reader.wait()
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert received == expected


@pytest.mark.parametrize("name", WRITERS)
def test_a_symlink_stays_a_link_and_its_file_is_replaced(tmp_path, name):
    real = tmp_path / "data" / "real.out"
    real.parent.mkdir()
    real.write_text("old content that must go\n")
    old_inode = real.stat().st_ino
    link = tmp_path / "link.out"
    link.symlink_to(Path("data") / "real.out")
    WRITERS[name](link, tmp_path)
    assert link.is_symlink() and os.readlink(link) == str(Path("data") / "real.out")
    assert real.read_bytes() == _expected_bytes(name, tmp_path)
    assert real.stat().st_ino != old_inode  # replaced by rename (atomic), not rewritten in place
    assert sorted(p.name for p in real.parent.iterdir()) == ["real.out"]  # no temporary left beside it


def test_a_dangling_symlink_creates_the_file_it_names(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to("made.json")
    write_json({"a": 1}, link)
    assert link.is_symlink() and json.loads((tmp_path / "made.json").read_text()) == {"a": 1}


def test_a_failed_write_through_a_symlink_leaves_the_file_intact(tmp_path):
    real = tmp_path / "real.tsv"
    write_tsv(FRAME, real)
    before = real.read_bytes()
    link = tmp_path / "link.tsv"
    link.symlink_to(real)
    with pytest.raises(RuntimeError), atomic_path(link) as tmp:
        tmp.write_text("half-written")
        raise RuntimeError("disk full")
    assert real.read_bytes() == before and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.tsv", "real.tsv"]
    assert read_tsv(link).equals(FRAME)


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: os.mknod(p, stat.S_IFBLK | 0o600, os.makedev(7, 200)), "is a block device"),
        (lambda p: (p.parent / "loop").symlink_to("loop") or p.symlink_to(p.parent / "loop"), "cannot write here"),
    ],
    ids=["directory", "block-device", "symlink-loop"],
)
def test_other_kinds_are_refused_in_one_line_and_left_alone(tmp_path, make, problem):
    target = tmp_path / "target"
    make(target)
    before = target.lstat()
    with pytest.raises(TarjamaError) as raised:
        write_tsv(FRAME, target)
    message = str(raised.value)
    assert message.startswith(f"{target}: {problem}") and "\n" not in message
    after = target.lstat()
    assert (after.st_mode, after.st_ino, after.st_rdev) == (before.st_mode, before.st_ino, before.st_rdev)


def test_a_path_below_a_regular_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(TarjamaError, match=r"file/out\.tsv: cannot write here \(Not a directory\)$"):
        write_tsv(FRAME, tmp_path / "file" / "out.tsv")


def test_a_regular_file_is_still_replaced_atomically(tmp_path):
    target = tmp_path / "out.parquet"
    target.write_text("old")
    write_parquet(FRAME, target)
    assert pl.read_parquet(target).equals(FRAME)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


# --- The TSV dialect (issue 9, item 10): unquoted, tab/newline-free; read back with quoting off. ---

AWKWARD = [
    '"He said," she said.',
    "'Single quoted'",
    '"',
    '""',
    "'",
    'ends with a quote"',
    "ends with an apostrophe'",
    '«اقتباس» "مقتبس"',
    "back\\slash \\t not a tab",
    "NA",
    "null",
    "nan",
    "None",
    "true",
    "#not a comment",
    "  spaces kept  ",
    "comma, semicolon; pipe|",
    "0012",
    "1e5",
    "",
    "tab\there, newline\nthere, CR\rthere\u2028and LS",
]


def _awkward_frame(rows: int = 150) -> pl.DataFrame:
    """More rows than the readers' type inference looks at, with a multi-id cell only at the end."""
    texts = [AWKWARD[i % len(AWKWARD)] for i in range(rows)]
    return to_frame(
        [
            ROW
            | {
                "row": i + 1,
                "source_ids": "1,2" if i == rows - 1 else str(i + 1),
                "arabic": texts[i],
                "english_mt": texts[-1 - i],
                "english_reference": texts[(i * 7) % rows],
                "alignment_confidence": None if i % 5 == 0 else i / 7,
                "sentence_chrf": None,
            }
            for i in range(rows)
        ]
    )


def _written_fields(frame: pl.DataFrame) -> list[list[str]]:
    """The cells a correct reader must give back: text normalised as written, numbers as polars prints them."""
    from tarjama.corpus.schema import tsv_safe

    return [[("" if v is None else v) for v in row] for row in tsv_safe(frame).cast(pl.String).rows()]


@pytest.fixture(scope="module")
def awkward_tsv(tmp_path_factory) -> tuple[Path, pl.DataFrame]:
    frame = _awkward_frame()
    path = write_tsv(frame, tmp_path_factory.mktemp("dialect") / "aligned.tsv")
    return path, frame


def test_the_tsv_is_unquoted_one_line_per_row(awkward_tsv):
    path, frame = awkward_tsv
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == frame.height + 2  # header, rows, final newline
    assert all(line.count("\t") == len(SCHEMA) - 1 for line in lines[:-1])
    assert (
        lines[1].split("\t")[list(SCHEMA).index("arabic")] == AWKWARD[0]
    )  # a leading quote is written as is, not quoted


def test_polars_documented_call_round_trips_every_field(awkward_tsv):
    path, frame = awkward_tsv
    read = pl.read_csv(path, separator="\t", quote_char=None, infer_schema=False, empty_string_is_null=False)
    assert read.columns == list(SCHEMA)
    assert [list(row) for row in read.rows()] == _written_fields(frame)


def test_polars_typed_read_gives_the_frame_back(awkward_tsv):
    from tarjama.corpus.schema import tsv_safe

    path, frame = awkward_tsv
    assert read_tsv(path).equals(tsv_safe(frame))


def test_pandas_documented_call_round_trips_every_field(awkward_tsv):
    import csv

    import pandas as pd

    path, frame = awkward_tsv
    read = pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
    assert list(read.columns) == list(SCHEMA)
    assert read.to_numpy().tolist() == _written_fields(frame)


def test_python_csv_documented_call_round_trips_every_field(awkward_tsv):
    import csv

    path, frame = awkward_tsv
    with open(path, encoding="utf-8", newline="") as handle:
        header, *rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
    assert header == list(SCHEMA)
    assert rows == _written_fields(frame)


def test_default_readers_are_defeated_by_this_data(awkward_tsv):
    """Why the documented calls turn quoting off: with their defaults, pandas and polars fail or change fields."""
    import pandas as pd

    path, frame = awkward_tsv
    defaults = {
        "pandas": lambda: pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False).to_numpy().tolist(),
        "polars": lambda: [list(r) for r in pl.read_csv(path, separator="\t", infer_schema=False).rows()],
    }
    for name, read in defaults.items():
        try:
            assert read() != _written_fields(frame), name
        except (pd.errors.ParserError, pl.exceptions.PolarsError):
            pass
