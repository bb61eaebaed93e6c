"""``tarjama serve`` for real: a Prefect server started, a deployment, downloads, and a clean Ctrl-C."""

from __future__ import annotations

import os
import socket
import sqlite3
import stat
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from conftest import (
    ARTICLE,
    CORPUS,
    ROOT,
    TARJAMA,
    alive,
    cli_env,
    csrf_headers,
    descendants,
    free_port,
    start_serve,
    stop,
    wait_ready,
)

pytestmark = pytest.mark.slow  # a real Prefect server, model or browser: not in `make test-fast`

SEED = CORPUS / "morocco-us-counterterrorism.ar.txt"


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=3, headers={"Accept": "text/html,*/*"}).status_code == 200
    except httpx.HTTPError:
        return False


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((host, port)) == 0


def non_loopback_address() -> str | None:
    """An address of this machine other than 127.x, to check that nothing listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent: this only picks the outgoing interface
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


UMASK = os.umask(0o022)
os.umask(UMASK)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_serve_starts_and_stops_what_it_started(tmp_path):
    port, download_port = free_port(), free_port()
    out = tmp_path / "output"
    first = start_serve(
        tmp_path / "home", out, port, download_port, "--article", str(ARTICLE), "--engine", "local", session=True
    )
    try:
        state = wait_ready(first)
        api = state["api_url"]
        assert api == f"http://127.0.0.1:{port}/api"
        assert answers(f"{api}/health")
        assert "starting a Prefect server" in first.output()
        assert (tmp_path / "home" / "prefect" / "prefect.db").is_file()  # the project-local Prefect home
        # the database holds Secret blocks: the folder tarjama made is its user's alone, as is serve.json;
        # the home, made by the user (start_serve), keeps the mode the user gave it
        assert mode(tmp_path / "home" / "prefect") == 0o700 and mode(tmp_path / "home" / "serve.json") == 0o600
        assert mode(tmp_path / "home") == 0o777 & ~UMASK
        servers = [
            p
            for p in descendants(first.process.pid)
            if "server" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
        ]
        assert servers, "no prefect server child process"

        # the printed URLs, and the deployment with the form's defaults
        printed = first.output()
        for url in (state["ui_url"], state["deployment_url"], state["download_url"]):
            assert url in printed
        assert answers(state["deployment_url"]) and answers(f"{state['ui_url']}/runs")
        deployment = httpx.get(f"{api}/deployments/{state['deployment_id']}", timeout=10).json()
        assert deployment["name"] == "articles"
        parameters = deployment["parameters"]  # the short run form, with the server's choices
        assert list(parameters) == ["sources", "engine", "formats", "rows", "advanced"]
        assert (parameters["sources"], parameters["engine"]) == ([str(ARTICLE)], "local")
        flow = httpx.get(f"{api}/flows/{deployment['flow_id']}", timeout=10).json()
        assert flow["name"] == "tarjama-run"
        schema = deployment["parameter_openapi_schema"]["properties"]
        assert list(schema) == ["sources", "references", "engine", "formats", "rows", "advanced"]

        # downloads on 127.0.0.1 only
        assert state["download_url"] == f"http://127.0.0.1:{download_port}"
        assert answers(f"{state['download_url']}/health")
        address = non_loopback_address()
        if address is not None:
            assert not port_open(address, download_port) and not port_open(address, port)

        # a long run in progress when Ctrl-C comes: it is stopped too
        for _attempt in range(10):  # SQLite under load may answer 503 (database locked) for a moment
            response = httpx.post(
                f"{api}/deployments/{state['deployment_id']}/create_flow_run",
                json={"parameters": {"sources": [str(SEED)]}},
                headers=csrf_headers(api),
                timeout=30,
            )
            if response.status_code != 503:
                break
            time.sleep(2)
        created = response.raise_for_status().json()
        deadline = time.monotonic() + 300
        while "translated 0/" not in first.output():
            assert time.monotonic() < deadline and first.process.poll() is None, first.output()[-3000:]
            time.sleep(0.5)
        assert any(
            "spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes().decode(errors="replace")
            for p in descendants(first.process.pid)
        )
    finally:
        family = descendants(first.process.pid)
        code = stop(first, group=True)
    assert code == 0, first.output()[-3000:]
    assert "Ctrl-C: stopping runs in progress" in first.output()
    with sqlite3.connect(tmp_path / "home" / "prefect" / "prefect.db") as db:
        (state_type,) = db.execute("SELECT state_type FROM flow_run WHERE id = ?", (created["id"],)).fetchone()
    assert state_type in {"CANCELLED", "CRASHED"}, state_type
    assert "stopped." in first.output()
    assert not answers(f"{api}/health")
    assert not port_open("127.0.0.1", port) and not port_open("127.0.0.1", download_port)
    assert not (tmp_path / "home" / "serve.json").exists()
    time.sleep(1)
    assert [p for p in family if alive(p)] == []


def test_serve_refuses_a_bad_article_before_starting_anything(tmp_path):
    missing = tmp_path / "missing.ar.txt"
    result = subprocess.run(
        [TARJAMA, "serve", "--article", str(missing), "--port", str(free_port())],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path / "home"),
        cwd=ROOT,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("tarjama: error:") and "missing.ar.txt" in result.stderr
    assert not (tmp_path / "home" / "prefect").exists()


def test_serve_reports_a_download_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        serve = start_serve(tmp_path / "home", tmp_path / "output", free_port(), taken)
        code = serve.process.wait(300)
    assert code == 1
    assert f"cannot serve downloads on 127.0.0.1:{taken}" in serve.output()
    assert "stopped." in serve.output()


def test_urls_name_a_reachable_host():
    from tarjama.app.web import url_host

    assert url_host("127.0.0.1") == "127.0.0.1" and url_host("::1") == "[::1]"
    wildcard = url_host("0.0.0.0")  # every interface: this machine's name or outgoing address
    assert wildcard not in ("0.0.0.0", "", "localhost")
    socket.getaddrinfo(wildcard, None)  # resolvable
