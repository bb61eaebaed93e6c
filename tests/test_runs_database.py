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


SAME_NAME = {  # five flow runs named "k", oldest first: each later one writes (or would write) output/k again
    "a1dc1093-1111-2222-3333-000000000001": ("Completed", "COMPLETED"),  # its folder replaced by the last run's
    "b1dc1093-1111-2222-3333-000000000001": ("Crashed", "CRASHED"),  # killed (SIGKILL) before writing
    "c1dc1093-1111-2222-3333-000000000001": ("Failed", "FAILED"),
    "d1dc1093-1111-2222-3333-000000000001": ("Cancelled", "CANCELLED"),
    "e1dc1093-1111-2222-3333-000000000001": ("Completed", "COMPLETED"),  # the rerun that wrote output/k
}


def test_a_run_has_only_the_outputs_it_wrote_not_a_later_runs_of_the_same_name(tmp_path):
    """Seen: a Crashed, Failed or Cancelled run whose name a later completed run reused was listed with that
    run's BLEU and folder, and `tarjama download <its id>` wrote the later run's file with exit status 0."""
    home, out = tmp_path / "home", tmp_path / "output"
    (home / "prefect").mkdir(parents=True)
    *earlier, last = SAME_NAME
    with sqlite3.connect(home / "prefect" / "prefect.db") as database:  # the layout `runs` reads (Prefect 3)
        for statement in LAYOUTS["a column of another type"][:2]:
            database.execute(statement)
        database.execute("INSERT INTO flow VALUES ('f1', 'tarjama-run')")
        for minute, (run_id, (state, kind)) in enumerate(SAME_NAME.items()):
            labels = {"tarjama.output": str(out / "k")} if kind == "COMPLETED" else {}
            database.execute(
                "INSERT INTO flow_run VALUES (?, 'k', 'f1', ?, ?, ?, ?, ?, ?)",
                (run_id, state, kind, f"2026-12-07 05:0{minute}:00", f"2026-12-07 05:0{minute}:00",
                 json.dumps({"sources": ["/articles/morocco.ar.txt"], "out": str(out), "run_name": "k"}),
                 json.dumps(labels)),
            )  # fmt: skip
    (out / "k").mkdir(parents=True)
    (out / "k" / "scores.json").write_text(json.dumps(scores("k", last)))
    (out / "k" / "aligned.tsv").write_text("the last run's rows\n")

    def tarjama(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [TARJAMA, *args], capture_output=True, text=True, env=cli_env(home), cwd=tmp_path, timeout=120
        )

    listed = tarjama("runs", "--json")
    assert listed.returncode == 0, listed.stderr[-2000:]
    rows = {row["id"]: row for row in map(json.loads, listed.stdout.splitlines())}
    assert [(rows[i]["state"], rows[i]["bleu"], rows[i]["output"]) for i in SAME_NAME] == [
        *[(state, None, None) for state, _ in list(SAME_NAME.values())[:-1]],
        ("Completed", 27.5, str(out / "k")),
    ]
    for run_id in earlier:
        state = SAME_NAME[run_id][0]
        refused = tarjama("download", run_id[:8])  # as `runs` shows it
        assert refused.returncode == 1, (state, refused.stderr)
        what = "its outputs are no longer there" if state == "Completed" else "wrote no outputs"
        assert refused.stderr == f"tarjama: error: run k ({run_id}) is {state} and {what}" + (
            " (removed, or replaced by a later run named k)\n" if state == "Completed" else "\n"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "output"]  # nothing downloaded
    downloaded = tarjama("download", last[:8], "-o", "-")
    assert downloaded.returncode == 0 and downloaded.stdout == "the last run's rows\n", downloaded.stderr
