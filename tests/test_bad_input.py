"""Bad input: one line naming the file and the problem, exit status 2, nothing written."""

import pickle
import subprocess
from pathlib import Path

import pytest
from conftest import CORPUS, TARJAMA, cli_env

from tarjama.errors import InputError
from tarjama.text.article import MAX_LINE_CHARS, load_document

ARABIC = "وصل وزير الخارجية إلى الرباط يوم الجمعة.\n"
ENGLISH = "The foreign minister arrived in Rabat on Friday.\n"


ELF = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8


def run_cli(tmp_path, *args):
    out = tmp_path / "out"
    result = subprocess.run(
        [TARJAMA, "run", *map(str, args), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=cli_env(tmp_path / "home"),
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
        "not English (most likely fr: P(en) = 0.000 over 14 words, 0 common English words)",
    ),
    "reference_arabic": (
        lambda d: write(d / "b.ar.txt", ARABIC),
        lambda d: write(d / "b.en.txt", ARABIC),
        "not English (33 Arabic and 0 Latin letters)",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_bad_input_fails_cleanly(tmp_path, case):
    make_article, make_reference, problem = CASES[case]
    article = make_article(tmp_path)
    extra = ["--reference", make_reference(tmp_path)] if make_reference else []
    result, out = run_cli(tmp_path, article, *extra)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    culprit = extra[1] if problem.startswith("not English") else article
    assert lines[0].startswith(f"tarjama: error: {culprit}: ") and problem in lines[0]
    assert not out.exists()
    assert not (tmp_path / "home").exists()


HEADLINES = [
    "Volcano spews ash on Mexico City",
    "Menga strike gives Livingston 1-0 win over Rangers\nMidsomer Norton attack: Four attempted murder arrests\n"
    "Londonderry: Men arrested after house rammed by car\nWelsh AMs worried about 'looking like muppets'\n"
    "More than 20 million people watched Brett Kavanaugh hearing\nIndonesia Tsunami Toll Soars Above 800.",
    "Trump rallies in West Virginia",
    "U.S. should double A.I. funding",
]


@pytest.mark.parametrize("text", HEADLINES)
def test_english_headlines_are_english(tmp_path, text):
    """Headlines have few function words: English unless another language is positively detected."""
    assert load_document(write(tmp_path / "head.en.txt", text), "en").sentences


@pytest.mark.parametrize(
    "text, language",
    [
        ("El ministro llegó a Rabat el viernes y habló con la prensa.", "es"),
        ("De minister kwam vrijdag aan in Rabat en sprak met de pers.", "nl"),
        ("O ministro chegou a Rabat na sexta-feira e falou com a imprensa.", "pt"),
    ],
)
def test_other_latin_languages_are_not_english(tmp_path, text, language):
    path = write(tmp_path / "other.en.txt", text)
    with pytest.raises(InputError, match=rf"^{path}: not English \(most likely {language}: P\(en\) = 0\.0"):
        load_document(path, "en")


def test_a_text_without_letters_is_not_english(tmp_path):
    path = write(tmp_path / "digits.en.txt", "1234 5678\n")
    with pytest.raises(InputError, match=r"not English \(0 Arabic and 0 Latin letters\)"):
        load_document(path, "en")


def test_latin_letters_with_no_english_word_are_too_short_to_judge(tmp_path):
    """Accented letters only ("éé àà"): Latin letters but no [A-Za-z] word; this divided by zero."""
    assert load_document(write(tmp_path / "accents.en.txt", "éé àà\n"), "en").sentences


@pytest.mark.slow
def test_a_reference_for_no_article_is_rejected(tmp_path):
    a, b = CORPUS / "ntrex128-dev" / "bbc.381780.ar.txt", CORPUS / "ntrex128-dev" / "cnn.304404.ar.txt"
    stray = write(tmp_path / "other.en.txt", ENGLISH)
    result, out = run_cli(tmp_path, a, b, "--reference", stray)
    assert result.returncode == 2 and "matches no article" in result.stderr and not out.exists()


# --- Reading: encodings that pass as UTF-8, endless lines, hostile file names (issue 9, "Also seen"). ---

READ_CASES = {
    "utf16be_without_bom": (ARABIC.encode("utf-16-be"), "not UTF-8: looks like UTF-16BE without a byte-order mark"),
    "utf16le_without_bom": (ARABIC.encode("utf-16-le"), "not UTF-8: looks like UTF-16LE without a byte-order mark"),
    "english_utf16be_without_bom": (ENGLISH.encode("utf-16-be"), "not UTF-8: looks like UTF-16BE without a byte-order"),
    "utf16_with_bom": (ARABIC.encode("utf-16"), "not UTF-8: UTF-16LE (byte-order mark 0xfffe"),
    "binary_valid_utf8": (bytes(range(32)) * 20, "not a text file (binary data: NUL and control bytes)"),
    # an executable's first bytes: named binary, not by its first byte that is not UTF-8 (0x80 at offset 136)
    "binary_not_utf8": (ELF, "not a text file (binary data: NUL and control bytes)"),
    # é is 0xe9 0x00 in UTF-16LE, not UTF-8: UTF-16 named all the same
    "accented_utf16le_without_bom": (
        "The café in Rabat reopened on Friday.\n".encode("utf-16-le"),
        "not UTF-8: looks like UTF-16LE without a byte-order mark",
    ),
    "windows_1256": (
        ARABIC.encode("cp1256"),
        "not valid UTF-8 (byte 0xe6 at offset 0); looks like Windows-1256: convert it with iconv -f cp1256 -t utf-8",
    ),
    "huge_line": (
        "وصل ".encode() * 50_000,
        "line 1 has 200,000 characters; the longest line read is 20,000",
    ),
}


@pytest.mark.parametrize("case", READ_CASES)
def test_reading_names_the_real_problem(tmp_path, case):
    data, problem = READ_CASES[case]
    path = write(tmp_path / f"{case}.ar.txt", data)
    with pytest.raises(InputError) as raised:
        load_document(path, "ar")
    assert str(raised.value).startswith(f"{path}: {problem}")


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        ("Le ministre des affaires étrangères est arrivé à Rabat vendredi.\n", "latin-1"),
        ("Министр иностранных дел прибыл в Рабат в пятницу и заявил о переговорах.\n", "cp1251"),
        ("Ο υπουργός Εξωτερικών έφτασε στο Ραμπάτ την Παρασκευή και μίλησε.\n", "cp1253"),
    ],
)
def test_only_arabic_text_is_taken_for_windows_1256(tmp_path, text, codec):
    """Other legacy encodings also decode as Windows-1256, Russian and Greek into Arabic letters: no hint for them."""
    path = write(tmp_path / "legacy.ar.txt", text.encode(codec))
    with pytest.raises(InputError) as raised:
        load_document(path, "ar")
    assert raised.value.problem.startswith("not valid UTF-8 (byte 0x")
    assert "Windows-1256" not in str(raised.value)


def test_a_long_line_up_to_the_limit_is_read(tmp_path):
    line = (ARABIC.strip() + " ") * (MAX_LINE_CHARS // (len(ARABIC.strip()) + 1))
    document = load_document(write(tmp_path / "long.ar.txt", line.strip() + "\n" + line.strip()), "ar")
    assert len(document.sentences) > 100


def test_a_few_stray_control_characters_do_not_make_a_file_binary(tmp_path):
    text = ARABIC * 20 + "\x1a"  # a DOS end-of-file mark
    assert load_document(write(tmp_path / "dos.ar.txt", text), "ar").sentences


@pytest.mark.slow
def test_the_cli_reports_the_encoding_before_any_work(tmp_path):
    article = write(tmp_path / "be.ar.txt", ARABIC.encode("utf-16-be"))
    result, out = run_cli(tmp_path, article)
    assert result.returncode == 2 and not out.exists()
    assert result.stderr.strip() == (
        f"tarjama: error: {article}: not UTF-8: looks like UTF-16BE without a byte-order mark (save it as UTF-8)"
    )


BEFORE_ANY_WORK = {
    "binary": (lambda d: write(d / "x.ar.txt", ELF), "{d}/x.ar.txt: not a text file (binary data"),
    "windows_1256": (
        lambda d: write(d / "x.ar.txt", ARABIC.encode("cp1256")),
        "{d}/x.ar.txt: not valid UTF-8 (byte 0xe6 at offset 0); looks like Windows-1256: convert it with iconv",
    ),
    "manifest_empty_text": (
        lambda d: write(d / "m.jsonl", '{"id": "a", "text": "%s"}\n{"id": "b", "text": ""}\n' % ARABIC.strip()),
        '{d}/m.jsonl:2: the "text" is empty',
    ),
    "manifest_no_text": (
        lambda d: write(d / "m.jsonl", '{"id": "a", "text": "%s"}\n\n{"id": "b"}\n' % ARABIC.strip()),
        '{d}/m.jsonl:3: needs a "text" or a "path"',
    ),
    "manifest_empty_reference": (
        lambda d: write(d / "m.jsonl", '{"id": "a", "text": "%s", "references": [{"text": " "}]}\n' % ARABIC.strip()),
        '{d}/m.jsonl:1 (reference en): the "text" is only whitespace',
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", BEFORE_ANY_WORK)
def test_bad_input_is_one_line_before_any_work(tmp_path, case):
    """Refused before Prefect starts (no home made), exit status 2; before, a binary file was named by its
    first byte that is not UTF-8, Windows-1256 Arabic got no hint, and a manifest record with an empty text
    started the run, which failed (exit 1) once no article could be built."""
    make, problem = BEFORE_ANY_WORK[case]
    result, out = run_cli(tmp_path, make(tmp_path))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tarjama: error: " + problem.format(d=tmp_path)), result.stderr
    assert not out.exists()
    assert not (tmp_path / "home").exists()


@pytest.mark.slow
def test_escape_sequences_in_a_file_name_never_reach_the_terminal(tmp_path):
    name = "\x1b[2J\x1b[31mred\x1b]0;title\x07\u202e.ar.txt"
    article = write(tmp_path / name, ENGLISH)
    result, out = run_cli(tmp_path, article)
    assert result.returncode == 2 and not out.exists()
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in result.stderr and raw not in result.stdout
    escaped = "\\x1b[2J\\x1b[31mred\\x1b]0;title\\x07\\u202e"
    assert result.stderr.strip() == (  # a control character is no part of an id: refused, before the text is read
        f"tarjama: error: {tmp_path}/{escaped}.ar.txt: the article id its name gives, '{escaped}', "
        "holds a control character ('\\x1b') (rename the file)"
    )


def test_an_input_error_survives_pickling_with_its_path():
    error = pickle.loads(pickle.dumps(InputError(Path("a\x1b.ar.txt"), "file is empty")))
    assert (error.path, error.problem, str(error)) == (
        Path("a\x1b.ar.txt"),
        "file is empty",
        "a\\x1b.ar.txt: file is empty",
    )
