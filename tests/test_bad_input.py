"""Bad input: one line naming the file and the problem, exit status 2, nothing written."""

import subprocess

import pytest
from conftest import CORPUS, TARJAMA

ARABIC = "وصل وزير الخارجية إلى الرباط يوم الجمعة.\n"
ENGLISH = "The foreign minister arrived in Rabat on Friday.\n"


def run_cli(tmp_path, *args):
    out = tmp_path / "out"
    result = subprocess.run(
        [TARJAMA, "run", *map(str, args), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "TARJAMA_HOME": str(tmp_path / "home")},
    )
    return result, out


def write(path, data):
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


CASES = {
    "missing": (lambda d: d / "nope.ar.txt", None, "file not found"),
    "empty": (lambda d: write(d / "empty.ar.txt", " \n\n"), None, "file is empty"),
    "not_utf8": (
        lambda d: write(d / "latin1.ar.txt", b"abc" + "é".encode("latin-1") + b" more"),
        None,
        "not valid UTF-8 (byte 0xe9 at offset 3)",
    ),
    "no_arabic": (lambda d: write(d / "english.ar.txt", ENGLISH), None, "no Arabic text"),
    "reference_not_english": (
        lambda d: write(d / "a.ar.txt", ARABIC),
        lambda d: write(
            d / "a.en.txt", "Le ministre des affaires étrangères est arrivé à Rabat vendredi et il a parlé.\n"
        ),
        "reference is not English",
    ),
    "reference_arabic": (
        lambda d: write(d / "b.ar.txt", ARABIC),
        lambda d: write(d / "b.en.txt", ARABIC),
        "reference is not English",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_bad_input_fails_cleanly(tmp_path, case):
    make_article, make_reference, problem = CASES[case]
    article = make_article(tmp_path)
    extra = ["--reference", make_reference(tmp_path)] if make_reference else []
    result, out = run_cli(tmp_path, article, *extra)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    culprit = extra[1] if problem == "reference is not English" else article
    assert lines[0].startswith(f"tarjama: error: {culprit}: ") and problem in lines[0]
    assert not out.exists()
    assert not (tmp_path / "home").exists()


def test_a_reference_for_no_article_is_rejected(tmp_path):
    a, b = CORPUS / "ntrex128-dev" / "bbc.381780.ar.txt", CORPUS / "ntrex128-dev" / "cnn.304404.ar.txt"
    stray = write(tmp_path / "other.en.txt", ENGLISH)
    result, out = run_cli(tmp_path, a, b, "--reference", stray)
    assert result.returncode == 2 and "matches no article" in result.stderr and not out.exists()
