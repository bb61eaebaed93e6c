"""`tarjama runs` reads Prefect's SQLite tables directly (the fast path); a database of another layout
(another Prefect version: a column missing, a table renamed) gives a one-line note and the finished runs
of the output folder, never a traceback."""

from __future__ import annotations

import json
import sqlite3
import subprocess

import pytest
from conftest import TARJAMA, cli_env

FLOW_RUN_ID = "0f6c3a1e-1111-2222-3333-000000000001"

LAYOUTS = {
    "a column missing": [
        "CREATE TABLE flow (id TEXT PRIMARY KEY, name TEXT)",
        "CREATE TABLE flow_run (id TEXT PRIMARY KEY, name TEXT, flow_id TEXT, state_type TEXT, start_time TEXT,"
        " expected_start_time TEXT, parameters TEXT, labels TEXT)",  # no state_name
        "INSERT INTO flow VALUES ('f1', 'tarjama-run')",
        f"INSERT INTO flow_run VALUES ('{FLOW_RUN_ID}', 'r1', 'f1', 'COMPLETED', NULL, NULL, '{{}}', '{{}}')",
    ],
    "a table renamed": [
        "CREATE TABLE flows (id TEXT PRIMARY KEY, name TEXT)",
        "CREATE TABLE flow_runs (id TEXT PRIMARY KEY, name TEXT, flow_id TEXT)",
    ],
    "a column of another type": [
        "CREATE TABLE flow (id TEXT PRIMARY KEY, name TEXT)",
        "CREATE TABLE flow_run (id TEXT PRIMARY KEY, name TEXT, flow_id TEXT, state_name TEXT, state_type TEXT,"
        " start_time TEXT, expected_start_time TEXT, parameters TEXT, labels TEXT)",
        "INSERT INTO flow VALUES ('f1', 'tarjama-run')",
        f"INSERT INTO flow_run VALUES ('{FLOW_RUN_ID}', 'r1', 'f1', 'Completed', 'COMPLETED', 'yesterday', NULL,"
        " '{}', '{}')",
    ],
}


def scores(run: str, flow_run_id: str) -> dict:
    """The parts of a run's ``scores.json`` that `runs` shows."""
    return {
        "run": run,
        "flow_run_id": flow_run_id,
        "articles": [{"path": "/articles/morocco.ar.txt", "engine": "libre", "references": []}],
        "overall": [{"metric": "BLEU", "score": 27.5}],
    }


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_a_database_of_another_layout_lists_the_output_folders_runs(tmp_path, layout):
    home = tmp_path / "home"
    (home / "prefect").mkdir(parents=True)
    with sqlite3.connect(home / "prefect" / "prefect.db") as database:
        for statement in LAYOUTS[layout]:
            database.execute(statement)
    folder = tmp_path / "output" / "r1"
    folder.mkdir(parents=True)
    (folder / "scores.json").write_text(json.dumps(scores("r1", FLOW_RUN_ID)))
    (folder / "aligned.tsv").write_text("")
    (tmp_path / "output" / "latest").symlink_to("r1")  # the same run: listed once

    listed = subprocess.run(
        [TARJAMA, "runs", "--json"], capture_output=True, text=True, env=cli_env(home), cwd=tmp_path, timeout=120
    )

    assert listed.returncode == 0, listed.stderr[-2000:]
    (note,) = listed.stderr.strip().splitlines()
    assert note.startswith(f"tarjama: note: {home / 'prefect' / 'prefect.db'}: not the layout of Prefect's database")
    assert note.endswith(f"showing the finished runs found in {tmp_path / 'output'}")
    (row,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (row["id"], row["name"], row["state"]) == (FLOW_RUN_ID, "r1", "Completed")
    assert (row["articles"], row["engine"], row["bleu"], row["output"]) == (["morocco"], "libre", 27.5, str(folder))
    assert not (home / "prefect-server.json").exists()  # no server started to find them
