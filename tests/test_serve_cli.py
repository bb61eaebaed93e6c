"""``tarjama runs`` and ``tarjama download`` without a running server (Prefect's ephemeral mode, same database)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ARTICLE, TARJAMA, cli_env

pytestmark = pytest.mark.slow  # a real Prefect server, model or browser: not in `make test-fast`

FAILING_RUN = """
import sys
from tarjama.settings import Settings
from tarjama.flows.environment import configure_prefect
settings = Settings.load(engine="local")
configure_prefect(settings.home)
from tarjama.flows.pipeline import run
try:
    run([sys.argv[1]], settings, [], out=sys.argv[2], run_name="broken")
except Exception as problem:
    print("failed as intended:", type(problem).__name__)
"""


def tarjama(home: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TARJAMA, *args], capture_output=True, env=cli_env(home), cwd=cwd, timeout=900)


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """One completed run (`tarjama run`), and one that fails after translating, before writing its outputs."""
    base = tmp_path_factory.mktemp("history")
    home, out = base / "home", base / "output"
    done = tarjama(home, base, "run", str(ARTICLE), "--engine", "local", "--out", str(out), "--name", "first")
    assert done.returncode == 0, done.stderr[-3000:]
    not_a_folder = base / "not-a-folder"
    not_a_folder.write_text("a file where the output folder should be\n")
    failed = subprocess.run(
        [sys.executable, "-c", FAILING_RUN, str(ARTICLE), str(not_a_folder)],
        capture_output=True,
        text=True,
        env=cli_env(home),
        cwd=base,
        timeout=900,
    )
    assert "failed as intended" in failed.stdout, failed.stderr[-3000:]
    return home, out, base


def test_runs_lists_completed_and_failed_runs(history):
    home, out, base = history
    listed = tarjama(home, base, "runs")
    assert listed.returncode == 0, listed.stderr[-3000:]
    lines = listed.stdout.decode().splitlines()
    first = next(line for line in lines if " first " in line)
    broken = next(line for line in lines if " broken " in line)
    run_id = json.loads((out / "first" / "scores.json").read_text())["flow_run_id"]
    scores = json.loads((out / "first" / "scores.json").read_text())["articles"][0]["references"][0]["scores"]
    bleu = next(s["score"] for s in scores if s["metric"] == "BLEU")
    for cell in (run_id[:8], "Completed", "euronews-en.153835", "local", f"{bleu:.2f}", " output/first "):
        assert cell in first, (cell, first)
    assert "Failed" in broken and str(out) not in broken
    assert lines.index(broken) < lines.index(first)  # newest first

    as_json = tarjama(home, base, "runs", "--json")
    assert as_json.returncode == 0, as_json.stderr[-3000:]
    records = [json.loads(line) for line in as_json.stdout.decode().splitlines()]
    (record,) = [r for r in records if r["name"] == "first"]
    assert record["id"] == run_id and record["state"] == "Completed" and record["bleu"] == pytest.approx(bleu)
    assert record["output"] == str(out / "first") and record["articles"] == ["euronews-en.153835"]


def test_download_by_name_id_and_folder(history, tmp_path):
    home, out, _ = history
    expected = (out / "first" / "aligned.tsv").read_bytes()
    by_name = tarjama(home, tmp_path, "download", "first")
    assert by_name.returncode == 0, by_name.stderr[-3000:]
    assert (tmp_path / "first-aligned.tsv").read_bytes() == expected
    assert b"wrote first-aligned.tsv" in by_name.stderr

    run_id = json.loads((out / "first" / "scores.json").read_text())["flow_run_id"]
    to_stdout = tarjama(home, tmp_path, "download", run_id, "-o", "-")
    assert to_stdout.returncode == 0 and to_stdout.stdout == expected

    (tmp_path / "into").mkdir()
    into_folder = tarjama(home, tmp_path, "download", run_id, "--out", "into")
    assert into_folder.returncode == 0 and (tmp_path / "into" / "first-aligned.tsv").read_bytes() == expected

    by_prefix = tarjama(home, tmp_path, "download", run_id[:8], "--file", "scores.json", "-o", "-")
    assert by_prefix.returncode == 0 and by_prefix.stdout == (out / "first" / "scores.json").read_bytes()

    latest = tarjama(home, tmp_path, "download", "latest", "--from", str(out), "--file", "report.md")
    assert latest.returncode == 0, latest.stderr[-3000:]
    assert (tmp_path / "first-report.md").read_bytes() == (out / "first" / "report.md").read_bytes()


def test_download_errors_are_clear(history, tmp_path):
    home, _, _ = history
    unknown = tarjama(home, tmp_path, "download", "no-such-run")
    assert unknown.returncode == 1
    assert (
        unknown.stderr.decode().strip()
        == "tarjama: error: no tarjama run with id or name 'no-such-run' (see `tarjama runs`)"
    )

    run_id = json.loads((history[1] / "first" / "scores.json").read_text())["flow_run_id"]
    too_short = tarjama(home, tmp_path, "download", run_id[:3])
    assert too_short.returncode == 1
    assert too_short.stderr.decode().strip() == (
        f"tarjama: error: no tarjama run with id or name {run_id[:3]!r} "
        "(an id prefix needs 4 characters or more; see `tarjama runs`)"
    )

    unknown_id = tarjama(home, tmp_path, "download", "00000000-0000-0000-0000-000000000000")
    assert unknown_id.returncode == 1 and b"no tarjama run with id or name" in unknown_id.stderr

    broken = tarjama(home, tmp_path, "download", "broken")
    assert broken.returncode == 1
    message = broken.stderr.decode()
    assert message.startswith("tarjama: error: run broken (") and "is Failed and wrote no outputs" in message
    assert list(tmp_path.iterdir()) == []


def test_a_fresh_home_has_no_runs(tmp_path):
    home = tmp_path / "fresh-home"  # does not exist yet: the commands create the Prefect home
    listed = tarjama(home, tmp_path, "runs")
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert b"tarjama runs" in listed.stdout and b"Completed" not in listed.stdout
    missing = tarjama(home, tmp_path, "download", "first")
    assert missing.returncode == 1
    assert b"no tarjama run with id or name 'first'" in missing.stderr
    # answered without starting a Prefect server (which made its database, and took 16-27 s)
    assert not list(home.rglob("prefect.db"))
    assert list(home.iterdir()) == [home / "prefect"]
