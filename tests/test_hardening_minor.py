"""Minor hardening: run folders honour the umask, UTF-32 is named, and ids reach the terminal escaped."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from tarjama.corpus.outputs import staged_run_folder
from tarjama.corpus.results import ArticleFailure, ArticleResult, ReferenceResult, RunSummary
from tarjama.errors import InputError
from tarjama.text.article import read_utf8


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o755), (0o027, 0o750), (0o077, 0o700)])
def test_a_run_folder_gets_the_mode_the_umask_gives(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        with staged_run_folder(tmp_path / "out", "run") as staging:
            (staging / "aligned.tsv").write_text("x\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "out" / "run").stat().st_mode) == mode


@pytest.mark.parametrize(
    ("encoding", "named"), [("utf-32", "UTF-32LE (byte-order mark 0xfffe0000"), ("utf-32-be", "UTF-32BE")]
)
def test_utf32_is_named_utf32(tmp_path, encoding, named):
    path = tmp_path / "a.ar.txt"
    data = "مرحبا بالعالم.\n".encode(encoding)
    path.write_bytes(data if encoding == "utf-32" else b"\x00\x00\xfe\xff" + data)
    with pytest.raises(InputError, match=re.escape(f"not UTF-8: {named}")):
        read_utf8(path)


HOSTILE = "id\x1b[31mred\x1b]0;title\x07\u202eevil[bold]x[/]"


def test_the_summary_table_prints_ids_and_labels_escaped(capsys):
    from tarjama.app.cli import print_summary

    reference = ReferenceResult(reference=HOSTILE, path="x", reference_sentences=1, rows=1, flagged=0)
    article = ArticleResult(
        article_id=HOSTILE,
        path="x",
        sentences=1,
        units=1,
        engine="local",
        model="m",
        translated_texts=1,
        from_memory=0,
        references=[reference],
    )
    summary = RunSummary(
        run="r",
        engine_requested="local",
        articles=[article],
        failures=[ArticleFailure(article_id=HOSTILE, origin="x", reason=HOSTILE)],
        output_dir=str(Path("out") / HOSTILE),
    )
    print_summary(summary)
    printed = capsys.readouterr()
    shown = printed.out + printed.err
    assert "\x1b" not in shown and "\u202e" not in shown and "\x07" not in shown
    assert "\\x1b[31mred" in shown and "\\u202eevil[bold]x[/]" in shown.replace("\n", "").replace("│", "")
