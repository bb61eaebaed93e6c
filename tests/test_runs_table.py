"""`tarjama runs` reads at 80 columns: one line a run, short output paths, nothing shown for runs that wrote nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from tarjama.app.cli import runs_table
from tarjama.app.runs import RunInfo


def render(infos: list[RunInfo]) -> list[str]:
    console = Console(width=80, record=True, file=open("/dev/null", "w"))
    console.print(runs_table(infos))
    return console.export_text().splitlines()


def test_runs_read_at_80_columns(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    start = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
    output = tmp_path / "output" / "20261206-050000-euronews-en.153835-4f2a"
    done = RunInfo(
        "0f6c3a1e-aaaa-bbbb-cccc-000000000001",
        "20261206-050000-euronews-en.153835-4f2a",
        "Completed",
        start,
        ["euronews-en.153835", "morocco-us-counterterrorism", "another-article"],
        "libre",
        31.25,
        output,
    )
    cancelled = RunInfo(
        "9d1e7b2c-aaaa-bbbb-cccc-000000000002", "stopped", "Cancelled", start, ["x"], "libre", 12.5, output
    )
    lines = render([done, cancelled])
    assert max(len(line) for line in lines) <= 80
    rows = [line for line in lines if line.startswith(("0f6c3a1e", "9d1e7b2c"))]
    assert len(rows) == 2  # one line each, nothing folded
    assert "31.25" in rows[0] and "output/" in rows[0] and str(tmp_path) not in "".join(lines)
    assert rows[1].split() == ["9d1e7b2c", "stopped", "Cancelled", "12-06", "05:00", "x", "libre"]  # nothing more


def test_a_path_outside_the_current_folder_keeps_its_start():
    from tarjama.app.cli import short_path

    assert short_path(Path.home() / "runs" / "a") == "~/runs/a"
    assert short_path(Path("/srv/out/a")) == "/srv/out/a"


def test_names_articles_and_engines_are_shown_as_they_are_not_as_rich_markup():
    start = datetime(2026, 12, 6, 5, 0, tzinfo=UTC)
    odd = RunInfo(
        "5a5a5a5a-aaaa-bbbb-cccc-000000000003", "r[bold]x[/oops]", "Completed", start, ["a[b]"], "p[/]", None, None
    )
    (row,) = [line for line in render([odd]) if line.startswith("5a5a5a5a")]
    assert row.split()[:2] == ["5a5a5a5a", "r[bold]x[/oops]"] and "a[b]" in row and "p[/]" in row
