"""Run every case of the bad-input catalogue for real and print its table in ``docs/bad-input.md``.

Each case runs the real ``tarjama`` command in a scratch folder (or, for the download server, the real
server on a loopback port) and reports the exit status and the line it printed, with the scratch
folder's path left out. Full and read-only disks are small tmpfs mounts, device nodes are made with
``mknod`` in the scratch folder (so: run as root). Runs translate through the loopback LibreTranslate
of ``tests/loopback_services.py``; they share one Prefect server, except the ones killed on purpose,
which need their own.

    .venv/bin/python scripts/bad_input_catalogue.py > /tmp/catalogue.md    # about 6 minutes on 2 cores
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the test suite's loopback services and disk helpers

from conftest import (  # noqa: E402
    CORPUS,
    TARJAMA,
    alive,
    cli_env,
    descendants,
    device,
    fill,
    finish,
    shared_runs,
    staging_writer,
    tmpfs,
)
from loopback_services import LoopbackServices  # noqa: E402

ARTICLE = CORPUS / "ntrex128-dev" / "euronews-en.153835.ar.txt"
REFERENCE = ARTICLE.with_name("euronews-en.153835.en.txt")
ARABIC = "وصل وزير الخارجية إلى الرباط يوم الجمعة.\n"
ENGLISH = "The foreign minister arrived in Rabat on Friday.\n"
NULL, FULL = os.makedev(1, 3), os.makedev(1, 7)
ERROR = "tarjama: error: "
PREFECT_LOG = re.compile(r"\d\d:\d\d:\d\d\.\d{3} \| ")


@dataclass(frozen=True)
class Row:
    item: str  # the item number, "bad input" or "also seen"
    case: str
    status: str
    outcome: str  # the one line printed, or what was observed


class Scratch:
    """A scratch folder where each case runs; messages are shown relative to it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def folder(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True)
        return path

    def shown(self, text: str) -> str:
        """``text`` without the scratch folders' absolute paths (messages name files relative to them)."""
        for base in sorted({str(p) for p in self.root.iterdir()}, key=len, reverse=True):
            text = text.replace(base + "/", "").replace(base, ".")
        return text.replace(str(self.root) + "/", "")

    def tarjama(self, case: str, *args: object, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        cwd = self.root / case
        cwd.mkdir(parents=True, exist_ok=True)
        return subprocess.run(
            [TARJAMA, *map(str, args)],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=env or cli_env(cwd / "home"),
            timeout=300,
        )


def said(scratch: Scratch, result: subprocess.CompletedProcess | tuple[int, str]) -> tuple[str, str]:
    """Exit status and the error line (``tarjama: error:`` left off); any other line is counted.

    Prefect's own log lines of a run that started (``12:00:00.000 | INFO | ...``) are not counted."""
    code, stderr = (result.returncode, result.stderr) if isinstance(result, subprocess.CompletedProcess) else result
    code = 128 - code if code < 0 else code  # killed by a signal: the status a shell shows
    lines = [line for line in stderr.strip().splitlines() if line.strip() and not PREFECT_LOG.match(line)]
    errors = [line for line in lines if line.startswith(ERROR)]
    if not lines:
        return str(code), "(nothing on standard error)"
    shown = scratch.shown((errors or lines)[-1].removeprefix(ERROR))
    return str(code), f"`{shown}`" + (f" (and {len(lines) - 1} more lines)" if len(lines) > 1 else "")


def write(path: Path, data: str | bytes) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


# --- bad input files (tests/test_bad_input.py) --------------------------------------------------------------

INPUT_CASES: list[tuple[str, str, Callable[[Path], list[object]]]] = [
    ("bad input", "article does not exist", lambda d: [d / "nope.ar.txt"]),
    ("bad input", "article is empty (only blank lines)", lambda d: [write(d / "empty.ar.txt", " \n\n")]),
    (
        "bad input",
        "article is not UTF-8 (Latin-1)",
        lambda d: [write(d / "latin1.ar.txt", b"abc" + "é".encode("latin-1") + b" more")],
    ),
    ("also seen", "UTF-16BE without a byte-order mark", lambda d: [write(d / "be.ar.txt", ARABIC.encode("utf-16-be"))]),
    ("bad input", "UTF-16LE without a byte-order mark", lambda d: [write(d / "le.ar.txt", ARABIC.encode("utf-16-le"))]),
    ("bad input", "UTF-16 with a byte-order mark", lambda d: [write(d / "bom.ar.txt", ARABIC.encode("utf-16"))]),
    ("bad input", "binary data", lambda d: [write(d / "binary.ar.txt", bytes(range(32)) * 20)]),
    ("bad input", "article has no Arabic (English text)", lambda d: [write(d / "english.ar.txt", ENGLISH)]),
    ("also seen", "one line of 200,000 characters", lambda d: [write(d / "long.ar.txt", "وصل " * 50_000)]),
    (
        "bad input",
        "reference is French",
        lambda d: [
            write(d / "a.ar.txt", ARABIC),
            "--reference",
            write(d / "a.en.txt", "Le ministre des affaires étrangères est arrivé à Rabat vendredi et il a parlé.\n"),
        ],
    ),
    (
        "bad input",
        "reference is Arabic",
        lambda d: [write(d / "b.ar.txt", ARABIC), "--reference", write(d / "b.en.txt", ARABIC)],
    ),
    (
        "bad input",
        "a reference named for no article (two articles)",
        lambda d: [
            CORPUS / "ntrex128-dev" / "bbc.381780.ar.txt",
            CORPUS / "ntrex128-dev" / "cnn.304404.ar.txt",
            "--reference",
            write(d / "other.en.txt", ENGLISH),
        ],
    ),
    (
        "bad input",
        "a manifest id holding a tab",
        lambda d: [write(d / "m.jsonl", json.dumps({"id": "tab\tid", "text": ARABIC}) + "\n")],
    ),
    (
        "bad input",
        "a manifest id with spaces around it",
        lambda d: [write(d / "m.jsonl", json.dumps({"id": "  spaced  ", "text": ARABIC}) + "\n")],
    ),
    (
        "also seen",
        "ANSI escapes and a bidi override in the file name",
        lambda d: [write(d / "\x1b[2J\x1b[31mred\x1b]0;title\x07\u202e.ar.txt", ENGLISH)],
    ),
]


def bad_input(scratch: Scratch) -> Iterator[Row]:
    for number, (item, case, make) in enumerate(INPUT_CASES):
        folder = scratch.folder(f"input-{number}")
        result = scratch.tarjama(f"input-{number}", "run", *make(folder), "--out", folder / "out")
        assert not (folder / "out").exists()
        yield Row(item, case, *said(scratch, result))


# --- one-line set-up errors of `tarjama run` (items 2, 6, 7, 8) ---------------------------------------------


def run_settings(scratch: Scratch) -> Iterator[Row]:
    folder = scratch.folder("settings")
    notes = write(folder / "notes.txt", "not a database, not a folder\n")
    (folder / "a-folder").mkdir()
    cases: list[tuple[str, str, list[object]]] = [
        ("2", "`--name latest`", ["--name", "latest"]),
        ("2", "`--name ../x`", ["--name", "../x"]),
        ("2", "`--name /abs/path`", ["--name", "/abs/path"]),
        ("6", "`--out` below a regular file", ["--out", notes / "below"]),
        ("7", "`--memory` is a text file", ["--memory", notes]),
        ("7", "`--memory` is a folder", ["--memory", folder / "a-folder"]),
        ("8", "`--engine nosuch`", ["--engine", "nosuch"]),
        ("8", "`--engine-url notaurl`", ["--engine", "libre", "--engine-url", "notaurl"]),
    ]
    for item, case, args in cases:
        out = [] if "--out" in args else ["--out", folder / "out"]
        result = scratch.tarjama("settings", "run", ARTICLE, *out, *args)
        assert not (folder / "out").exists() and not (folder / "home" / "prefect").exists()
        yield Row(item, case, *said(scratch, result))


def late_errors(scratch: Scratch) -> Iterator[Row]:
    """Settings and flags once found late or noisily (issue 22, item 11): now one line, exit 2, nothing started."""
    folder = scratch.folder("late")
    model = write(folder / "header-only.gguf", b"GGUF\x03\x00\x00\x00")
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    cases: list[tuple[str, list[object], dict[str, str]]] = [
        ("`run --model /etc/passwd`", ["run", ARTICLE, "--model", "/etc/passwd"], {}),
        ("`run --model missing.gguf`", ["run", ARTICLE, "--model", "missing.gguf"], {}),
        ("`run --model` with a web engine", ["run", ARTICLE, "-e", "libre", "--model", model], {}),
        ("`run --dask tcp://`", ["run", ARTICLE, "--dask", "tcp://"], {}),
        (
            "`run --dask tcp://127.0.0.1:<port>`, nothing listening",
            ["run", ARTICLE, "--dask", f"tcp://127.0.0.1:{dead}"],
            {},
        ),
        (
            "engine URL where nothing listens",
            ["run", ARTICLE, "-e", "libre", "--engine-url", f"http://127.0.0.1:{dead}"],
            {},
        ),
        (
            "`TARJAMA_ENGINE=libre` with nothing listening",
            ["run", ARTICLE],
            {"TARJAMA_LIBRE_URL": f"http://127.0.0.1:{dead}", "TARJAMA_ENGINE": "libre"},
        ),
        ("`TARJAMA_DOWNLOAD_URL=javascript:alert(1)`", ["config"], {"TARJAMA_DOWNLOAD_URL": "javascript:alert(1)"}),
        ("`runs -n -1`", ["runs", "-n", "-1"], {}),
        ("`runs -n 1000000`", ["runs", "-n", "1000000"], {}),
        ("`serve --port 99999`", ["serve", "--port", "99999"], {}),
        ("`serve --port -1`", ["serve", "--port", "-1"], {}),
        ("`serve --port 5123 --download-port 5123`", ["serve", "--port", "5123", "--download-port", "5123"], {}),
        ("`serve --download-port 70000`", ["serve", "--download-port", "70000"], {}),
        ("misspelt engine `-e gogle`", ["run", ARTICLE, "-e", "gogle"], {}),
        ("misspelt format `-f tsv,tmxx`", ["run", ARTICLE, "-f", "tsv,tmxx"], {}),
        ("misspelt check `--checks numbrs`", ["run", ARTICLE, "--checks", "numbrs"], {}),
        ("misspelt flag `--formt`", ["run", ARTICLE, "--formt", "tsv"], {}),
    ]
    for case, args, env in cases:
        out = ["--out", folder / "out"] if args[0] == "run" else []
        result = scratch.tarjama("late", *args, *out, env=cli_env(folder / "home", **env))
        assert not (folder / "out").exists() and not (folder / "home" / "prefect").exists()
        yield Row("11", case, *said(scratch, result))


def disks(scratch: Scratch) -> Iterator[Row]:
    """Read-only and full file systems under ``--out``, the home and ``--memory`` (items 6, 7)."""
    with tmpfs(scratch.folder("ro") / "disk", "1m", "ro") as disk:
        yield Row(
            "6",
            "`--out` on a read-only file system",
            *said(scratch, scratch.tarjama("ro", "run", ARTICLE, "--out", disk / "out")),
        )
    with tmpfs(scratch.folder("full") / "disk") as disk:
        fill(disk)
        result = scratch.tarjama("full", "run", ARTICLE, "--out", disk / "out")
        yield Row("6", "`--out` on a full disk", *said(scratch, result))
        result = scratch.tarjama("full", "run", ARTICLE, "--memory", disk / "memory.sqlite")
        yield Row("7", "`--memory` on a full disk", *said(scratch, result))
        result = scratch.tarjama("full", "run", ARTICLE, env=cli_env(disk / "home"))
        yield Row("6", "the tarjama home on a full disk (`TARJAMA_HOME`)", *said(scratch, result))


# --- writers: `align -o`, `download -o` (items 1, 9) ----------------------------------------------------------


def kind(path: Path) -> str:
    info = path.lstat()
    if path.is_symlink():
        return f"still a symlink to {os.readlink(path)}"
    if info.st_rdev:
        return f"still a character device ({os.major(info.st_rdev)}, {os.minor(info.st_rdev)})"
    return "replaced by a regular file"


def writers(scratch: Scratch) -> Iterator[Row]:
    folder = scratch.folder("writers")
    align = ["align", ARTICLE, REFERENCE, "-o"]
    null = device(folder / "null", NULL)
    code, _ = said(scratch, scratch.tarjama("writers", *align, null))
    yield Row(
        "1", "`align -o` a character device (a `/dev/null` made with `mknod`)", code, f"written through; {kind(null)}"
    )
    (folder / "data").mkdir()
    (folder / "link.tsv").symlink_to("data/aligned.tsv")
    code, _ = said(scratch, scratch.tarjama("writers", *align, folder / "link.tsv"))
    yield Row("1", "`align -o` a symlink", code, f"the file it names is written; {kind(folder / 'link.tsv')}")
    full = device(folder / "full", FULL)
    yield Row(
        "1",
        "`align -o` a full device (`/dev/full`'s numbers)",
        *said(scratch, scratch.tarjama("writers", *align, full)),
    )
    yield Row("1", "`align -o` a folder", *said(scratch, scratch.tarjama("writers", *align, folder / "data")))
    write(folder / "file.txt", "x\n")
    yield Row(
        "9",
        "`align -o` below a regular file",
        *said(scratch, scratch.tarjama("writers", *align, folder / "file.txt" / "out.tsv")),
    )
    run = folder / "output" / "20261129-120000-a-ab12"
    run.mkdir(parents=True)
    write(run / "aligned.tsv", "article_id\n")
    write(run / "scores.json", "{}")
    (folder / "output" / "latest").symlink_to(run.name)
    download = ["download", "latest", "--from", folder / "output", "-o"]
    code, _ = said(scratch, scratch.tarjama("writers", *download, null))
    yield Row("1", "`download -o` a character device", code, f"written through; {kind(null)}")
    yield Row("1", "`download -o` a full device", *said(scratch, scratch.tarjama("writers", *download, full)))
    with tmpfs(scratch.folder("align-full") / "disk") as disk:
        fill(disk)
        result = scratch.tarjama("align-full", *align, disk / "aligned.tsv")
        left = sorted(p.name for p in disk.iterdir())
        code, message = said(scratch, result)
        yield Row("6", "`align -o` on a full disk", code, f"{message}; left on the disk: {', '.join(left)}")


# --- the TSV dialect (item 10) -------------------------------------------------------------------------------


def tsv_dialect(scratch: Scratch) -> Iterator[Row]:
    import pandas as pd
    import polars as pl

    from tarjama.corpus.schema import SCHEMA, to_frame, write_tsv

    awkward = ['"He said," she said.', '"', 'ends with a quote"', "'", "NA", "#not a comment", "  spaces  "]
    rows = [
        {name: None for name in SCHEMA} | {"article_id": "a", "row": i, "english_reference": text, "checks_failed": ""}
        for i, text in enumerate(awkward)
    ]
    path = write_tsv(to_frame(rows), scratch.folder("tsv") / "aligned.tsv")
    column = list(SCHEMA).index("english_reference")
    reads = {
        "polars": lambda: pl.read_csv(
            path, separator="\t", quote_char=None, infer_schema=False, empty_string_is_null=False
        )["english_reference"].to_list(),
        "pandas": lambda: pd.read_csv(path, sep="\t", quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)[
            "english_reference"
        ].to_list(),
        "csv": lambda: [
            row[column]
            for row in list(csv.reader(io.StringIO(path.read_text("utf-8")), delimiter="\t", quoting=csv.QUOTE_NONE))[
                1:
            ]
        ],
    }
    exact = [name for name, read in reads.items() if read() == awkward]
    yield Row(
        "10",
        "fields starting or ending with quotes, read back with the documented calls",
        "—",
        f"every field back exactly with: {', '.join(exact)}",
    )


# --- the download server (items 11, 12) -----------------------------------------------------------------------


def download_server(scratch: Scratch) -> Iterator[Row]:
    from tarjama.app.web import start_web_server

    root = scratch.folder("served")
    (root / "run").mkdir()
    write(root / "run" / "big.bin", os.urandom(1 << 25))
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    logging.getLogger("tarjama.app.web").addHandler(handler)
    logging.getLogger("tarjama.app.web").setLevel(logging.INFO)
    server = start_web_server(root, "127.0.0.1", 0, idle_timeout=10)
    try:
        with socket.create_connection(("127.0.0.1", server.port)) as conn:
            conn.sendall(b"GET /files/run/big.bin HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n")
            answer = b"".join(iter(lambda: conn.recv(65536), b"")).decode("latin-1")
        status, body = answer.split("\r\n", 1)[0], answer.split("\r\n\r\n", 1)[1].strip()
        yield Row("11", "`Host: evil.example` (DNS rebinding)", status.split(" ", 1)[1], f"`{body}`")
        with socket.create_connection(("127.0.0.1", server.port)) as conn:
            started = time.monotonic()
            conn.settimeout(60)
            conn.recv(1)  # nothing sent: the server closes it
            idle = time.monotonic() - started
        yield Row("12", "a connection that sends nothing", "—", f"closed by the server after {idle:.0f} s")
        with socket.socket() as conn:
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            conn.connect(("127.0.0.1", server.port))
            conn.sendall(b"GET /files/run/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            time.sleep(12)  # takes nothing of the response
            conn.settimeout(10)
            received = 0
            with contextlib.suppress(ConnectionResetError):
                while chunk := conn.recv(1 << 20):
                    received += len(chunk)
        stalled = next((line for line in lines.getvalue().splitlines() if "stopped reading" in line), "")
        yield Row(
            "12",
            "a client that stops reading mid-download",
            "—",
            f"{'closed before the whole file was sent' if received < 1 << 25 else 'sent whole, never closed'}; "
            f"one log line: `127.0.0.1:PORT {stalled.split(' ', 1)[-1]}`",
        )
        with socket.create_connection(("127.0.0.1", server.port)) as conn:
            conn.sendall(b"GET /files/run/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            conn.recv(65536)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset
        deadline = time.monotonic() + 10
        while "disconnected" not in lines.getvalue() and time.monotonic() < deadline:
            time.sleep(0.1)
        logged = [line for line in lines.getvalue().splitlines() if line]
        port_free = logged[-1].split(" ", 1)[1] if logged else "(nothing logged)"
        yield Row("12", "a client that leaves mid-download", "—", f"one log line: `127.0.0.1:PORT {port_free}`")
    finally:
        server.stop()
        logging.getLogger("tarjama.app.web").removeHandler(handler)


# --- runs: concurrency, staging, a disk that fills, repeated sentences (items 3, 5, 6; also seen) ----------


def runs(scratch: Scratch) -> Iterator[Row]:
    with shared_runs(scratch.folder("runs")) as started:
        out = scratch.root / "runs" / "out"
        writer = staging_writer(out, "killed")
        writer.kill()
        writer.wait()
        together = [finish(run) for run in [started.start(ARTICLE, "--out", out) for _ in range(3)]]
        failed = [said(scratch, outcome)[1] for outcome in together if outcome[0]]
        folders = [p for p in out.iterdir() if not p.name.startswith(".") and p.name != "latest"]
        yield Row(
            "3",
            "three runs of one article started together",
            ", ".join(str(code) for code, _ in together),
            f"{len(folders)} run folders, names unique by a random suffix, each run staged in a folder of its own"
            + "".join(f"; failed: {message}" for message in failed),
        )
        left = [p.name for p in out.iterdir() if p.name.startswith(".killed.")]
        yield Row(
            "5",
            "a writer killed (SIGKILL) inside its staging folder",
            "—",
            f"its staging folder {'is still there' if left else 'is removed by the next run'} "
            "(one whose writer is alive, or on another host, is kept)",
        )
        repeated = write(scratch.folder("repeated") / "repeated.ar.txt", ARABIC * 1890)
        started.services.clear()
        code, stderr = finish(started.start(repeated, "--out", out))
        logged = next((line.split(" - ", 1)[1] for line in stderr.splitlines() if "distinct sentences" in line), "")
        sent = sum(len(request.segments) for request in started.services.requests())
        yield Row(
            "also seen",
            "an article of one sentence repeated 1,890 times",
            str(code),
            f"logs `{logged}`; segments sent to the service: {sent}",
        )
        with tmpfs(scratch.folder("filling") / "disk") as disk:
            started.services.hold_after(0)
            run = started.start(ARTICLE, "--out", disk / "out", "--memory", scratch.folder("cold") / "memory.sqlite")
            wait_until_held(started.services, run)
            fill(disk)  # after the up-front check, while translating
            started.services.release()
            status, message = said(scratch, finish(run))
            left = sorted(str(p.relative_to(disk)) for p in disk.rglob("*") if not p.is_dir())
            yield Row(
                "6",
                "the disk fills up while the run translates",
                status,
                f"{message}; files left on the disk: {', '.join(left)}",
            )


# --- a run killed while a worker waits on the service (item 4) ---------------------------------------------


def wait_until_held(services: LoopbackServices, run: subprocess.Popen) -> None:
    """Until the run's first request is held by the service: the run is translating."""
    while services.held < 1:
        if run.poll() is not None:
            raise RuntimeError(f"the run ended before translating: {run.communicate()[1][-2000:]}")
        time.sleep(0.2)


def killed(scratch: Scratch) -> Iterator[Row]:
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        folder = scratch.folder(f"killed-{sig.name}")
        with LoopbackServices(lifetime=900) as services:
            services.hold_after(0)
            run = subprocess.Popen(
                [TARJAMA, "run", str(ARTICLE), "-e", "libre", "-o", str(folder / "out")],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
                env=cli_env(folder / "home", TARJAMA_LIBRE_URL=services.url("libre")),
            )
            wait_until_held(services, run)
            servers = [p for p in descendants(run.pid) if b"server" in Path(f"/proc/{p}/cmdline").read_bytes()]
            run.send_signal(sig)
            sent = time.monotonic()
            try:
                _, stderr = run.communicate(timeout=60)
                ended = f"ends after {time.monotonic() - sent:.1f} s"
            except subprocess.TimeoutExpired:
                run.kill()
                _, stderr = run.communicate()
                ended = "still running 60 s later (then killed)"
            services.release()
        deadline = time.monotonic() + 30
        while any(alive(p) for p in servers) and time.monotonic() < deadline:
            time.sleep(0.5)
        server = "is still running" if any(alive(p) for p in servers) else "is gone"
        status, message = said(scratch, (run.returncode, stderr))
        yield Row(
            "4",
            f"`{sig.name}` while a request is in flight (never answered)",
            status,
            f"{ended}; its Prefect server {server}" + ("" if sig == signal.SIGKILL else f"; {message}"),
        )


def markdown(rows: list[Row]) -> str:
    lines = ["| # | case | exit | message or outcome |", "|---|---|---|---|"]
    for row in rows:
        outcome = row.outcome.replace("|", "\\|")
        lines.append(f"| {row.item} | {row.case} | {row.status} | {outcome} |")
    return "\n".join(lines)


SECTIONS = (bad_input, run_settings, late_errors, disks, writers, tsv_dialect, download_server, runs, killed)


def main() -> None:
    """All sections, or those named as arguments (``bad_input writers``)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "sections",
        nargs="*",
        metavar="SECTION",
        help=f"run only these sections (default: all): {', '.join(s.__name__ for s in SECTIONS)}",
    )
    wanted = set(parser.parse_args().sections) or {section.__name__ for section in SECTIONS}
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="catalogue-") as tmp:
        scratch = Scratch(Path(tmp))
        for section in (s for s in SECTIONS if s.__name__ in wanted):
            rows += section(scratch)
            print(f"{section.__name__}: done", file=sys.stderr, flush=True)
    order = {str(n): n for n in range(1, 13)} | {"bad input": 0, "also seen": 13}
    rows.sort(key=lambda row: order[row.item])
    print(markdown(rows))


if __name__ == "__main__":
    main()
