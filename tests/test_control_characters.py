"""Control characters in an engine's answer are taken out where the translation enters tarjama.

A LibreTranslate server (the loopback one, real HTTP) answering with a terminal's colour codes, a title
sequence ended by BEL, NUL, DEL, C1 controls and a bidi override: the row, every export and the memory
hold the translation without them; an answer an earlier version stored raw is served clean.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import polars as pl
import pytest
from conftest import build, libre, write_articles

from tarjama.corpus.schema import read_tsv
from tarjama.text.article import load_document
from tarjama.text.normalize import clean_translation
from tarjama.translation.memory import JOURNALS, TranslationMemory, read_journals

DIRTY = "\x1b]0;owned\x07The \x1b[1;31mstorm\x1b[0m hit\x00 the \x7fnorthern\x9b coast \u202eon Tuesday\u202c."
CLEAN = "The storm hit the northern coast on Tuesday."


@pytest.mark.parametrize(
    ("answer", "kept"),
    [
        (DIRTY, CLEAN),
        ("Link \x1b]8;;http://example.com\x1b\\here\x1b]8;;\x1b\\.", "Link here."),
        ("Tabs\tand\nbreaks\r\x0b\x0c\x85 stay", "Tabs\tand\nbreaks\r\x0b\x0c\x85 stay"),  # the line formats space them
        ("An isolate \u2067الرباط\u2069 and a mark \u200f.", "An isolate الرباط and a mark \u200f."),
        ("\x1b]0;unterminated", "]0;unterminated"),  # no sequence without its end: only ESC goes
        ("\x01\x02\x1f", ""),
        ("Plain English.", "Plain English."),
    ],
)
def test_clean_translation(answer: str, kept: str) -> None:
    assert clean_translation(answer) == kept


def test_an_answer_with_control_characters_is_kept_clean_everywhere(services, tmp_path: Path) -> None:
    articles, out = write_articles(tmp_path / "articles"), tmp_path / "output"
    units = [u.text for u in load_document(articles / "storm.ar.txt", "ar").units]
    services.answers = {units[0]: DIRTY}
    settings = libre(tmp_path / "home", services)
    summary = build(settings, articles, out, "run", formats=["tsv", "parquet", "jsonl", "moses"])
    folder = Path(summary.output_dir or "")
    rows = read_tsv(folder / "aligned.tsv").filter(pl.col("article_id") == "storm")
    assert rows["english_mt"].str.starts_with(CLEAN).any(), rows["english_mt"].to_list()
    for name in ("aligned.tsv", "aligned.jsonl", "aligned.mt.en"):
        text = (folder / name).read_text(encoding="utf-8")
        assert CLEAN in text and not any(c in text for c in "\x1b\x07\x00\x7f\x9b\u202e\u202c"), name
    assert pl.read_parquet(folder / "aligned.parquet")["english_mt"].str.contains(CLEAN, literal=True).any()
    assert [json.loads(line) for line in (folder / "aligned.jsonl").read_text().splitlines()]
    with closing(sqlite3.connect(settings.memory_path)) as db:
        stored = dict(db.execute("SELECT source, target FROM translations"))
    assert stored[units[0]] == CLEAN


def test_a_translation_stored_raw_is_served_clean(tmp_path: Path) -> None:
    """An earlier version stored answers as they came: the memory and the journals serve them cleaned."""
    source, raw_only = "ضربت عاصفة قوية الساحل الشمالي.", "وصل الوزير."
    with TranslationMemory(tmp_path / "memory.sqlite") as memory:
        memory.store("libre", "libretranslate", source, DIRTY)
        memory.store("libre", "libretranslate", raw_only, "\x1b[0m\x07")  # nothing but controls: no translation
        assert memory.lookup("libre", "libretranslate", [source, raw_only]) == {source: CLEAN}
    journals = tmp_path / JOURNALS
    journals.mkdir()
    with TranslationMemory(journals / "host-1.sqlite") as journal:
        journal.store("libre", "libretranslate", source, DIRTY)
    assert read_journals(journals, "libre", "libretranslate", [source]) == {source: CLEAN}
