"""At 80 columns the tables a user reads a name from fold their cells instead of cutting them.

``tarjama engines`` cut the variables a user must set (``no: TARJAMA_LIBR… not set``, ``MICROSOFT_AP…``)
and the Secret blocks to make (``tarjama-deep…``); the run's summary cut article ids until three rows read
``abcnews.306…``.
"""

from __future__ import annotations

import io
import subprocess

from conftest import TARJAMA, cli_env, free_port
from rich.console import Console

from tarjama.app import cli
from tarjama.app.cli import print_summary
from tarjama.corpus.results import ArticleResult, ReferenceResult, RunSummary
from tarjama.quality.score import MetricScore


def table_rows(printed: str, width: int, one_line: int) -> dict[str, list[str]]:
    """A table's rows by their first cell, each cell's lines joined without the spaces (a folded word is
    split across lines, a wrapped cell at its spaces). A row starts where column ``one_line``, a cell
    never wider than its column, is not empty."""
    rows: list[list[str]] = []
    for line in printed.splitlines():
        assert len(line) <= width, line
        cells = [cell.strip() for cell in line.split("│")][1:-1]
        if not cells:
            continue
        if cells[one_line]:
            rows.append(["" for _ in cells])
        for i, cell in enumerate(cells):
            rows[-1][i] += "".join(cell.split())
    return {row[0]: row for row in rows}


def engines(tmp_path, columns: str, google: str) -> str:
    models = tmp_path / "models"
    models.mkdir(exist_ok=True)
    env = cli_env(
        tmp_path / "home",
        COLUMNS=columns,
        TARJAMA_GOOGLE_URL=google,
        TARJAMA_MODEL_DIR=str(models),
    )
    result = subprocess.run([TARJAMA, "engines"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_engines_at_80_columns_shows_every_cell_whole(tmp_path):
    """Each cell at 80 columns holds all the text it holds at 400: the variable names, the Secret blocks."""
    google = f"http://127.0.0.1:{free_port()}/m"  # nothing answers there
    narrow = engines(tmp_path, "80", google)
    assert "…" not in narrow
    folded, whole = table_rows(narrow, 80, one_line=3), table_rows(engines(tmp_path, "400", google), 400, one_line=3)
    assert folded == whole
    assert all(name in folded["libre"][2] for name in ("TARJAMA_LIBRE_URL", "LIBRE_API_KEY", "tarjama-libre-api-key"))
    assert folded["libre"][4].startswith("no:TARJAMA_LIBRE_URLnotset"), folded["libre"]
    assert "MICROSOFT_API_KEY" in folded["microsoft"][4] and "tarjama-deepl-api-key" in folded["deepl"][4]


def test_the_run_summary_at_80_columns_shows_article_ids_whole(monkeypatch):
    ids = ["abcnews.306758", "abcnews.306764", "abcnews.306815", "bbc.381647"]
    scores = [MetricScore(m, 10.5, None, None, "", "10.5") for m in ("BLEU", "chrF", "TER")]
    articles = [
        ArticleResult(
            article_id=article,
            path=f"{article}.ar.txt",
            sentences=12,
            units=12,
            engine="google",
            model="google-translate-web",
            translated_texts=12,
            from_memory=0,
            references=[ReferenceResult(reference="en", rows=12, flagged=0, scores=scores)],
        )
        for article in ids
    ]
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setattr(cli, "console", Console(file=io.StringIO()))  # made as the CLI makes it, at COLUMNS=80
    print_summary(RunSummary(run="r", engine_requested="google", articles=articles, overall=scores))
    printed = cli.console.file.getvalue()
    assert "…" not in printed
    rows = table_rows(printed, 80, one_line=2)  # sentences: a number on every row
    assert [article for article in rows if article in ids] == ids, printed
