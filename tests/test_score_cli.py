"""`tarjama score` takes sacrebleu's everyday options and prints what `python -m sacrebleu` prints with them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, TARJAMA, cli_env, write_lines

MT = (ROOT / "tests/fixtures/ntrex128-dev.mt.en.txt").read_text(encoding="utf-8").splitlines()[:40]
GOLD = (CORPUS / "ntrex128-dev/gold/ntrex128-dev.en.lines").read_text(encoding="utf-8").splitlines()[:40]


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    """A hypothesis with some lines in capitals (so -lc matters) and two references, one sharing some lines with it."""
    hyp = [line.upper() if i % 3 == 0 else line for i, line in enumerate(MT)]
    second = [mt if i % 2 else gold for i, (mt, gold) in enumerate(zip(MT, GOLD))]
    return {
        "hyp": write_lines(tmp_path / "hyp.txt", hyp),
        "a": write_lines(tmp_path / "ref-a.txt", GOLD),
        "b": write_lines(tmp_path / "ref-b.txt", second),
    }


def sacrebleu(refs: list[Path], hyp: Path, *options: str) -> list[str]:
    cli = [sys.executable, "-m", "sacrebleu", *map(str, refs), "-i", str(hyp), *options, "--confidence", "-f", "text"]
    return subprocess.run(cli, capture_output=True, text=True, check=True).stdout.splitlines()


def tarjama(cwd: Path, *args: object, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TARJAMA, "score", *map(str, args)], input=stdin, capture_output=True, cwd=cwd, env=cli_env(cwd / "home")
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    ("theirs_options", "ours_options"),
    [
        (["-m", "bleu", "chrf", "ter", "-w", "1"], ["-m", "bleu", "-m", "chrf", "-m", "ter", "-w", "1"]),
        (["-m", "ter", "bleu", "-tok", "char", "-lc", "-w", "3"], ["-m", "ter,bleu", "-tok", "char", "-lc", "-w", "3"]),
        (["-m", "bleu", "-tok", "intl", "-w", "4"], ["--metrics", "BLEU", "--tokenize", "intl", "--width", "4"]),
    ],
)
def test_two_references_and_stdin_print_what_sacrebleu_prints(tmp_path, files, theirs_options, ours_options):
    theirs = sacrebleu([files["a"], files["b"]], files["hyp"], *theirs_options)
    ours = tarjama(tmp_path, "-", "-r", files["a"], "-r", files["b"], *ours_options, stdin=files["hyp"].read_bytes())
    assert ours.returncode == 0, ours.stderr.decode()
    assert ours.stdout.decode().splitlines() == theirs
    assert "nrefs:2" in theirs[0]


@pytest.mark.slow
def test_a_comma_list_of_metrics_and_one_positional_reference(tmp_path, files):
    theirs = sacrebleu([files["a"]], files["hyp"], "-m", "chrf", "bleu", "-lc", "-w", "2")
    ours = tarjama(tmp_path, files["hyp"], files["a"], "-m", "chrf,BLEU", "--lowercase", "--width", "2")
    assert ours.returncode == 0, ours.stderr.decode()
    assert ours.stdout.decode().splitlines() == theirs


def test_json_names_every_reference(tmp_path, files):
    ours = tarjama(
        tmp_path, files["hyp"], "-r", files["a"], "-r", files["b"], "-m", "chrf", "--bootstrap", "0", "--json"
    )
    assert ours.returncode == 0, ours.stderr.decode()
    result = json.loads(ours.stdout)
    assert result["references"] == [str(files["a"]), str(files["b"])]
    assert [score["metric"] for score in result["corpus"]] == ["chrF"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["-m", "meteor"], "unknown metric 'meteor' (choose from bleu, chrf, chrf++, ter)"),
        (["-tok", "nltk"], "unknown tokenizer 'nltk' (choose from "),
        (["-r", "missing.txt"], "missing.txt: no such file"),
        (["-tok", "flores200"], "tokenizer 'flores200' downloads a model when used; tarjama never downloads"),
    ],
)
def test_bad_options_are_one_line_exit_2(tmp_path, files, args, message):
    ours = tarjama(tmp_path, files["hyp"], files["a"], *args)
    assert ours.returncode == 2
    lines = ours.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tarjama: error: ") and message in lines[0]


def test_no_reference_is_a_usage_error(tmp_path, files):
    ours = tarjama(tmp_path, files["hyp"])
    assert ours.returncode == 2
    assert ours.stderr.decode().strip() == "tarjama: error: no reference: give REF after HYP, or -r FILE"


@pytest.mark.parametrize("args", [["-", "-"], ["-", "-r", "-"]])
def test_standard_input_given_twice_is_one_line(tmp_path, args):
    ours = tarjama(tmp_path, *args, stdin=b"The cat sat.\n")
    assert ours.returncode == 2 and ours.stdout == b""
    assert ours.stderr.decode().strip() == (
        "tarjama: error: - (standard input) is given more than once: it can be only one of the files"
    )


def test_non_utf8_is_worded_as_every_input(tmp_path, files):
    """The byte and its offset, as `run`, `split` and `align` say it, whether a file or standard input."""
    latin1 = "The café opened.\n".encode("latin-1")
    piped = tarjama(tmp_path, "-", files["a"], stdin=latin1)
    (tmp_path / "latin1.txt").write_bytes(latin1)
    named = tarjama(tmp_path, files["a"], "latin1.txt")
    split = subprocess.run(
        [TARJAMA, "split", "-"], input=latin1, capture_output=True, cwd=tmp_path, env=cli_env(tmp_path / "home")
    )
    problem = "not valid UTF-8 (byte 0xe9 at offset 7)"
    assert piped.stderr.decode().strip() == f"tarjama: error: <stdin>: {problem}"
    assert split.stderr.decode().strip() == f"tarjama: error: <stdin>: {problem}"
    assert named.stderr.decode().strip() == f"tarjama: error: latin1.txt: {problem}"


def test_no_warning_about_intervals_without_resamples(tmp_path, files):
    short = write_lines(tmp_path / "short.txt", MT[:3])
    ref = write_lines(tmp_path / "short-ref.txt", GOLD[:3])
    with_intervals = tarjama(tmp_path, short, ref, "-m", "chrf", "--bootstrap", "10")
    without = tarjama(tmp_path, short, ref, "-m", "chrf", "--bootstrap", "0")
    assert with_intervals.returncode == 0 and without.returncode == 0, without.stderr.decode()
    assert "the confidence intervals mean little" in with_intervals.stderr.decode()
    assert without.stderr == b""
