"""The command line's checks of inputs and options, and what it says it wrote."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import CORPUS, TARJAMA, align_cli, build, cli_env, libre, write_articles

from tarjama.app.cli import arrived_while_stopping, print_summary


def tarjama(cwd: Path, *args: object, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TARJAMA, *map(str, args)], input=stdin, capture_output=True, cwd=cwd, env=cli_env(cwd / "home"), timeout=300
    )


def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The one line a usage error prints (exit status 2), without its prefix."""
    lines = result.stderr.decode().strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr.decode()
    assert lines[0].startswith("tarjama: error: ")
    return lines[0].removeprefix("tarjama: error: ")


@pytest.mark.parametrize(
    "checks, run",
    [("numbers", "numbers"), ("none", "none")],
)
def test_a_filter_on_a_check_not_run_is_refused(tmp_path, checks, run):
    """It would write a "passing-checks" corpus that nothing filtered."""
    articles = write_articles(tmp_path / "in")
    result = tarjama(tmp_path, "run", articles, "--checks", checks, "--filter-checks", "language,numbers", "-o", "out")
    missing = "language" if checks == "numbers" else "language,numbers"
    assert one_error_line(result) == (
        f"--filter-checks {missing}: not among the checks run ({run}); "
        "add it to --checks or leave it out of --filter-checks"
    )
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("spelling", ["newz", "newz/", "./newz/", "newz//"])
def test_a_missing_folder_is_one_line_before_anything_starts(tmp_path, spelling):
    """With a trailing slash (as the README types folders) it started Prefect, recorded a failed run and exited 1."""
    result = tarjama(tmp_path, "run", spelling, "-o", "out")
    assert one_error_line(result) == "newz: file not found"
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("option", ["--engine-url", "--engine-model"])
def test_an_engine_url_without_an_engine_is_refused(tmp_path, option):
    """Without -e it went to Google (auto): a LibreTranslate URL answered 400 and the local model ran instead."""
    articles = write_articles(tmp_path / "in")
    result = tarjama(tmp_path, "run", f"{articles}/", option, "http://127.0.0.1:9/libre/", "-o", "out")
    assert one_error_line(result) == (
        f"{option} needs --engine NAME, the engine it is for (-e libre, -e openai-compat, ...): "
        "auto tries Google, then the local model"
    )
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "home").exists()


@pytest.mark.parametrize("run", ["latest", "20261207-101500-in"])
def test_download_from_a_folder_that_does_not_exist_is_refused(tmp_path, run):
    """`download latest --from nowhere` downloaded the newest run Prefect knew, from another output folder."""
    (tmp_path / "nowhere.txt").write_text("a file\n")
    for folder in ("nowhere", "nowhere.txt"):
        result = tarjama(tmp_path, "download", run, "--from", folder)
        assert one_error_line(result) == (
            f"--from {folder}: no such folder (give the output folder your runs wrote into)"
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nowhere.txt"]


def test_a_name_taken_says_what_to_do(tmp_path):
    articles = write_articles(tmp_path / "in")
    (tmp_path / "out" / "first").mkdir(parents=True)
    result = tarjama(tmp_path, "run", articles, "--name", "first", "-o", "out")
    assert one_error_line(result) == (
        "out/first: output directory already exists (choose another --name, or leave --name out for a new one)"
    )
    assert not (tmp_path / "home").exists()


def test_the_files_written_are_listed_once_and_only_those(services, tmp_path, capsys):
    """The hf format's README.md names the full and the filtered corpus: one file, listed once; no TSV was
    written, so none is announced."""
    summary = build(
        libre(tmp_path / "home", services),
        write_articles(tmp_path / "in"),
        tmp_path / "out",
        "hf",
        formats=["hf"],
        min_confidence=0.8,
        filter_checks=["numbers"],
    )
    files = summary.counts.files
    assert len(files) == len(set(files)) and files.count("README.md") == 1
    assert {p.name for p in (tmp_path / "out" / "hf").iterdir()} >= set(files)
    print_summary(summary)
    shown = capsys.readouterr().out
    assert f"wrote {tmp_path / 'out' / 'hf'}: README.md, aligned.hf.jsonl, " in shown and "aligned TSV" not in shown


ARABIC = CORPUS / "morocco-us-counterterrorism.ar.txt"
ENGLISH = CORPUS / "morocco-us-counterterrorism.en.txt"


def test_align_beads_to_standard_output(tmp_path):
    """`--beads -` is standard output, as `-o -` is, not a file named `-`; the summary goes to stderr."""
    printed = align_cli(tmp_path, ARABIC, ENGLISH, "-o", "rows.tsv", "--beads", "-")
    assert printed.returncode == 0, printed.stderr
    assert not (tmp_path / "-").exists()
    written = align_cli(tmp_path, ARABIC, ENGLISH, "-o", "again.tsv", "--beads", "beads.txt")
    assert printed.stdout == (tmp_path / "beads.txt").read_text() and printed.stdout.startswith("[0]:[0, 1, 2, 3]:")
    assert "beads: -" in printed.stderr and "beads: beads.txt" in written.stdout


@pytest.mark.parametrize(
    "out, beads, message",
    [
        (
            "same.tsv",
            "same.tsv",
            "same.tsv: named for both the TSV (-o) and the beads (--beads); give each its own file",
        ),
        (
            "same.tsv",
            "./same.tsv",
            "same.tsv: named for both the TSV (-o) and the beads (--beads); give each its own file",
        ),
        ("-", "-", "-o - and --beads -: standard output can take only one of them"),
    ],
)
def test_align_refuses_one_place_for_both_outputs(tmp_path, out, beads, message):
    result = align_cli(tmp_path, ARABIC, ENGLISH, "-o", out, "--beads", beads)
    assert result.returncode == 2 and result.stderr.strip() == f"tarjama: error: {message}"
    assert not (tmp_path / "same.tsv").exists() and not (tmp_path / "-").exists()


def test_what_arrived_while_stopping_is_counted_in_good_grammar():
    assert arrived_while_stopping(1) == "1 translation arrived while stopping and is kept"
    assert arrived_while_stopping(3) == "3 translations arrived while stopping and are kept"
