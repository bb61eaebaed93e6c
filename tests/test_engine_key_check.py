"""`tarjama run -e deepl` with no key anywhere, in a home that already has a Prefect: one line and exit 2
before anything starts. Seen: the check trusted that any Prefect might hold the Secret block, so the run
started a flow run that ended Failed (two ERROR lines, then the same message, exit 1).

The home's Prefect is asked without being started: its database read-only, or the API over plain HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import threading
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import ARTICLE, TARJAMA, alive, cli_env, free_port, save_block

from tarjama.app.runs import secret_block_exists
from tarjama.errors import TarjamaError

pytestmark = pytest.mark.slow  # a real Prefect server

DEEPL_BLOCK = "tarjama-deepl-api-key"
NO_KEY = f"engine deepl needs an API key: set DEEPL_API_KEY or create the Prefect Secret block '{DEEPL_BLOCK}'"


@pytest.fixture(scope="module")
def prefect_home(tmp_path_factory):
    """A home whose Prefect (database on disk, shared server running) holds a Secret block, not DeepL's."""
    home = tmp_path_factory.mktemp("keys") / "home"
    save_block(home, "tarjama-libre-api-key")
    server = json.loads((home / "prefect-server.json").read_text())
    yield home, f"http://127.0.0.1:{server['port']}/api"
    if alive(server["pid"]):
        os.kill(server["pid"], signal.SIGTERM)


def run_deepl(home: Path, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TARJAMA, "run", str(ARTICLE), "-e", "deepl", "--out", str(cwd / "output")],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=cli_env(home, COLUMNS="80", **env),
        timeout=300,
    )


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr[-3000:])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tarjama: error: "), result.stderr
    return lines[0].removeprefix("tarjama: error: ")


def flow_runs(home: Path) -> int:
    with closing(sqlite3.connect(home / "prefect" / "prefect.db")) as database:
        return database.execute("SELECT count(*) FROM flow_run").fetchone()[0]


def test_a_missing_key_is_found_in_the_database_or_the_api_before_the_run_starts(prefect_home, tmp_path):
    home, api = prefect_home
    assert (home / "prefect" / "prefect.db").is_file()
    assert one_line(run_deepl(home, tmp_path)) == NO_KEY  # read from the database
    assert one_line(run_deepl(home, tmp_path, PREFECT_API_URL=api)) == NO_KEY  # asked of the API
    assert flow_runs(home) == 0 and not (tmp_path / "output").exists()


def test_a_key_in_a_secret_block_passes_the_check(prefect_home, tmp_path):
    home, api = prefect_home
    save_block(home, DEEPL_BLOCK)
    nowhere = f"http://127.0.0.1:{free_port()}/"  # the next check fails instead: nothing is translated
    expected = f"engine deepl: nothing answers at {nowhere} (connection refused)"
    assert one_line(run_deepl(home, tmp_path, TARJAMA_DEEPL_URL=nowhere)) == expected
    assert one_line(run_deepl(home, tmp_path, TARJAMA_DEEPL_URL=nowhere, PREFECT_API_URL=api)) == expected
    assert flow_runs(home) == 0


def test_a_prefect_that_cannot_say_lets_the_run_start(tmp_path, monkeypatch):
    """A database of another layout, or an API that wants credentials: the key may be there, so the run
    starts and the flow reads the block, as before."""
    for variable in ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_API_DATABASE_CONNECTION_URL"):
        monkeypatch.delenv(variable, raising=False)
    home = tmp_path / "home"
    assert secret_block_exists(home, DEEPL_BLOCK) is False  # no Prefect at all: no block either
    (home / "prefect").mkdir(parents=True)
    with closing(sqlite3.connect(home / "prefect" / "prefect.db")) as database:
        database.execute("CREATE TABLE block_documents (id TEXT PRIMARY KEY, name TEXT)")
    assert secret_block_exists(home, DEEPL_BLOCK) is None

    class Unauthorized(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"detail": "Unauthorized"}'
            self.send_response(401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Unauthorized)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{server.server_address[1]}/api")
        assert secret_block_exists(home, DEEPL_BLOCK) is None
    finally:
        server.shutdown()


def test_deepl_with_its_key_in_a_secret_block_is_checked_at_every_url_it_may_choose(prefect_home, monkeypatch):
    """DeepL's URL is chosen from its key (``:fx``: the free API): with the key in a Secret block the check
    had no URL and was skipped, and a run with no network took 139 s, the cause repeated for each article.
    Both of DeepL's URLs are asked (here two loopback ports where nothing listens): one line, before the run."""
    from deep_translator.constants import BASE_URLS

    from tarjama.app.cli import check_engine_usable
    from tarjama.settings import Settings
    from tarjama.translation.engines.deepl import VERSION

    home, _api = prefect_home
    save_block(home, DEEPL_BLOCK)
    for variable in ("PREFECT_API_URL", "DEEPL_API_KEY", "TARJAMA_DEEPL_URL"):
        monkeypatch.delenv(variable, raising=False)
    free, pro = free_port(), free_port()
    monkeypatch.setitem(BASE_URLS, "DEEPL_FREE", f"http://127.0.0.1:{free}/{{version}}/")
    monkeypatch.setitem(BASE_URLS, "DEEPL", f"http://127.0.0.1:{pro}/{{version}}/")
    settings = Settings.load({"TARJAMA_HOME": str(home)}, home, engine="deepl")
    with pytest.raises(TarjamaError) as caught:
        check_engine_usable(settings, workers_elsewhere=False)
    assert str(caught.value) == (
        f"engine deepl: nothing answers at http://127.0.0.1:{free}/{VERSION}/ or "
        f"http://127.0.0.1:{pro}/{VERSION}/ (connection refused)"
    )
    with socket.create_server(("127.0.0.1", pro)):  # one of them answers: the key decides which, as the run does
        check_engine_usable(settings, workers_elsewhere=False)
