"""The live progress display of a corpus run, on a real pseudo-terminal (issue 10: "works in a terminal").

`tarjama run` draws a rich progress bar on stderr only when stderr is a terminal; piped (as in CI
logs) it prints log lines alone. Both are checked on a real run of three articles through the
loopback engine, with latency so the bar is redrawn while articles are still being built.
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import time

import pytest
from conftest import TARJAMA, cli_env, copy_articles
from loopback_services import LoopbackServices

COLOURS = re.compile(r"\x1b\[[0-9;]*m")
CURSOR = re.compile(r"\x1b\[[0-9;?]*[A-Za-ln-z]|\x1b\][^\x07]*\x07|\r")  # moves and erasures: a new frame
BAR = re.compile(r"articles\s.*?(\d+)/3\s+(\d+) sentences translated, [\d.]+ articles/min")
ANY_BAR = re.compile(r"articles\s.*?\d+/(\d+|\?)\s")
LOG_LINE = re.compile(r"\d\d:\d\d:\d\d\.\d{3} \| (INFO|WARNING|ERROR)")


def read_all(fd: int, process: subprocess.Popen, timeout: float) -> str:
    """Everything written to the terminal until the process ends (the master side must be drained)."""
    chunks, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                data = os.read(fd, 65536)
            except OSError:  # the terminal closed: the process has exited
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_a_terminal_shows_articles_done_sentences_and_rate_and_a_pipe_does_not(tmp_path):
    corpus = copy_articles(tmp_path / "corpus", ["abcnews.306758", "bbc.381647", "cnn.304404"])
    with LoopbackServices(lifetime=900, latency=0.05) as services:
        env = cli_env(tmp_path / "home", TARJAMA_GOOGLE_URL=services.url("google"), TERM="xterm-256color")
        env.pop("COLUMNS")
        master, slave = os.openpty()
        os.set_blocking(master, False)
        command = [TARJAMA, "run", str(corpus), "-e", "google", "--rate-limit", "0", "-j", "1"]
        process = subprocess.Popen(
            [*command, "-o", str(tmp_path / "tty")], stdin=slave, stdout=slave, stderr=slave, env=env
        )
        os.close(slave)
        try:
            screen = CURSOR.sub("\n", COLOURS.sub("", read_all(master, process, timeout=600)))
        finally:
            os.close(master)
        assert process.wait(timeout=60) == 0, screen[-3000:]
        frames = [(int(done), int(sentences)) for done, sentences in BAR.findall(screen)]
        assert frames, screen[-3000:]
        assert frames == sorted(frames), frames  # articles done and sentences translated only grow
        assert frames[-1][0] == 3 and frames[-1][1] > 0, frames
        assert any(done < 3 for done, _ in frames), frames  # drawn while the corpus was being built
        totals = {total for total in ANY_BAR.findall(screen)}
        assert totals == {"3"}, totals  # the total is known from the first frame, not `0/?` until an article is done
        glued = [line for line in screen.splitlines() if ANY_BAR.search(line) and LOG_LINE.search(line)]
        assert not glued, glued[:3]  # each log line on a line of its own, above the bar
        assert LOG_LINE.search(screen)  # and they are shown

        piped = subprocess.run(
            [*command, "-o", str(tmp_path / "pipe")], capture_output=True, text=True, env=env, timeout=600
        )
    assert piped.returncode == 0, piped.stderr[-3000:]
    assert not BAR.search(piped.stderr) and "\x1b[" not in piped.stderr
    assert "aligned TSV" in piped.stdout + piped.stderr
