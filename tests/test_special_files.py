"""Anything that is not a regular file (a FIFO, socket, device, a folder named like an article) is refused
unread: in one line with exit status 2 when named on the command line, alone (the rest built) when found in a
folder, glob or manifest. Reading a FIFO would block the run forever, a device might never end."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import NTREX, TARJAMA, cli_env, copy_articles, device
from loopback_services import LoopbackServices

from tarjama.corpus.inputs import collect_articles
from tarjama.errors import InputError

ZERO = os.makedev(1, 5)  # /dev/zero's number: read, it never ends
ARTICLE = NTREX / "bbc.381647.ar.txt"
REFERENCE = NTREX / "bbc.381647.en.txt"
HANG_S = 120
"""A refused file answers at once; a process still going after this long is blocked on the file."""
RUN_S = 900
"""A corpus run on a loaded machine: Prefect's start-up and the articles built."""


def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "sock.ar.txt"
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(path))
        yield path


def tarjama(
    tmp_path: Path, *args: object, env: dict[str, str] | None = None, timeout: float = HANG_S
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TARJAMA, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env or cli_env(tmp_path / "home"),
        timeout=timeout,
    )


def assert_one_line(result: subprocess.CompletedProcess, culprit: Path, kind: str) -> None:
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.splitlines() == [f"tarjama: error: {culprit}: is {kind}, not a regular file"]


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        lambda f, d: ["run", f, "-o", d / "out"],
        lambda f, d: ["run", ARTICLE, "--reference", f, "-o", d / "out"],
        lambda f, d: ["align", f, REFERENCE, "-o", d / "a.tsv"],
        lambda f, d: ["align", ARTICLE, f, "-o", d / "a.tsv"],
        lambda f, d: ["split", f],
        lambda f, d: ["score", f, "-r", REFERENCE],
        lambda f, d: ["score", REFERENCE, "-r", f],
    ],
    ids=["run", "run-reference", "align-arabic", "align-english", "split", "score-hypothesis", "score-reference"],
)
def test_a_fifo_named_on_the_command_line_is_one_line(tmp_path, command):
    named = fifo(tmp_path / "x.ar.txt")
    result = tarjama(tmp_path, *command(named, tmp_path))
    assert_one_line(result, named, "a FIFO (named pipe)")
    assert not (tmp_path / "out").exists() and not (tmp_path / "a.tsv").exists()


@pytest.mark.slow
def test_a_socket_or_a_device_on_the_command_line_is_one_line(tmp_path, unix_socket):
    assert_one_line(tarjama(tmp_path, "run", unix_socket, "-o", tmp_path / "out"), unix_socket, "a socket")
    zero = device(tmp_path / "zero.ar.txt", ZERO)
    assert_one_line(tarjama(tmp_path, "split", zero), zero, "a character device")
    assert_one_line(
        tarjama(tmp_path, "run", ARTICLE, "--reference", zero, "-o", tmp_path / "out"), zero, "a character device"
    )
    # with a folder, --reference is checked up front too, not when its article is built
    folder = copy_articles(tmp_path / "articles", ["bbc.381647", "cnn.304404"])
    piped = fifo(tmp_path / "bbc.381647.en-b.txt")
    assert_one_line(
        tarjama(tmp_path, "run", folder, "--reference", piped, "-o", tmp_path / "out"), piped, "a FIFO (named pipe)"
    )
    assert not (tmp_path / "out").exists()


def test_a_fifo_manifest_is_one_line_unread(tmp_path):
    manifest = fifo(tmp_path / "crawl.jsonl")
    with pytest.raises(InputError, match="crawl.jsonl: is a FIFO \\(named pipe\\), not a regular file"):
        collect_articles([manifest])


def test_globs_keep_what_is_not_a_folder_so_that_it_fails_alone(tmp_path):
    """A glob used to drop anything but regular files silently; what is named like an article is an article."""
    copy_articles(tmp_path, ["bbc.381647"])
    fifo(tmp_path / "piped.ar.txt")
    (tmp_path / "folder.ar.txt").mkdir()
    (tmp_path / "sub").mkdir()
    assert [a.id for a in collect_articles([f"{tmp_path}/*.ar.txt"])] == ["bbc.381647", "folder", "piped"]
    assert "sub" not in [a.id for a in collect_articles([f"{tmp_path}/*"])]


@pytest.mark.slow
def test_what_is_not_a_regular_file_fails_alone_in_a_folder_glob_or_manifest(tmp_path):
    folder = copy_articles(tmp_path / "articles", ["bbc.381647", "cnn.304404", "abcnews.306758"])
    fifo(folder / "piped.ar.txt")
    (folder / "folder.ar.txt").mkdir()
    device(folder / "zero.ar.txt", ZERO)
    (folder / "abcnews.306758.en.txt").unlink()
    fifo(folder / "abcnews.306758.en.txt")  # a reference that is a FIFO fails its article
    (tmp_path / "globbed").mkdir()
    globbed = fifo(tmp_path / "globbed" / "glob-piped.ar.txt")
    manifest = tmp_path / "crawl.jsonl"
    manifest.write_text(
        json.dumps({"id": "listed", "path": str(fifo(tmp_path / "listed.ar.txt"))})
        + "\n"
        + json.dumps({"id": "listed-reference", "text": ARTICLE.read_text(), "references": [{"path": str(globbed)}]})
        + "\n"
    )
    with LoopbackServices(lifetime=600) as services:
        env = cli_env(tmp_path / "home", TARJAMA_GOOGLE_URL=services.url("google"))
        result = tarjama(
            tmp_path,
            "run",
            folder,
            f"{tmp_path}/globbed/*.ar.txt",
            manifest,
            "-e",
            "google",
            "-o",
            tmp_path / "out",
            "--name",
            "mixed",
            env=env,
            timeout=RUN_S,
        )
    assert result.returncode == 3, result.stderr[-3000:]  # built, but some articles failed
    summary = json.loads((tmp_path / "out" / "mixed" / "scores.json").read_text())
    assert sorted(a["article_id"] for a in summary["articles"]) == ["bbc.381647", "cnn.304404"]
    reasons = {f["article_id"]: f["reason"] for f in summary["failures"]}
    assert reasons == {
        "abcnews.306758": f"{folder / 'abcnews.306758.en.txt'}: is a FIFO (named pipe), not a regular file",
        "folder": f"{folder / 'folder.ar.txt'}: is a directory, expected a text file",
        "piped": f"{folder / 'piped.ar.txt'}: is a FIFO (named pipe), not a regular file",
        "zero": f"{folder / 'zero.ar.txt'}: is a character device, not a regular file",
        "glob-piped": f"{globbed}: is a FIFO (named pipe), not a regular file",
        "listed": f"{tmp_path / 'listed.ar.txt'}: is a FIFO (named pipe), not a regular file",
        "listed-reference": f"{globbed}: is a FIFO (named pipe), not a regular file",
    }


@pytest.mark.slow
def test_a_file_that_cannot_be_opened_says_why_in_one_line(tmp_path):
    """Not "file not found" for a file that is there, and no traceback: the system's reason, in one line."""
    loop = tmp_path / "loop.ar.txt"
    loop.symlink_to(loop.name)
    result = tarjama(tmp_path, "split", loop)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.splitlines() == [f"tarjama: error: {loop}: cannot be read (Too many levels of symbolic links)"]
