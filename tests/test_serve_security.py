"""A web page elsewhere cannot drive `tarjama serve`: its Prefect API answers only its own host names, lets
only its own UI read it across origins, wants a CSRF token for every change, and a run started through it
stays inside what the server allows. Two `serve` on one port: the second refuses in one line."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import httpx
import pytest
from conftest import ARTICLE, ROOT, TARJAMA, cli_env, csrf_headers, free_port, start_serve, stop, wait_ready

pytestmark = pytest.mark.slow  # a real Prefect server

EVIL = {"Host": "evil.example", "Origin": "http://evil.example"}


def create_run(api: str, deployment: str, parameters: dict, headers: dict[str, str]) -> httpx.Response:
    for _attempt in range(10):  # SQLite under load may answer 503 (database locked) for a moment
        response = httpx.post(
            f"{api}/deployments/{deployment}/create_flow_run",
            json={"parameters": parameters},
            headers=headers,
            timeout=30,
        )
        if response.status_code != 503:
            return response
        time.sleep(2)
    return response


def websocket_handshake(port: int, host: str, origin: str | None = None) -> bytes:
    """The status line of a handshake for Prefect's event stream (every event, artifacts included)."""
    origin_line = "" if origin is None else f"Origin: {origin}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(
            f"GET /api/events/out HTTP/1.1\r\nHost: {host}\r\n{origin_line}Upgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        return connection.recv(200)


def test_the_api_of_serve_refuses_foreign_hosts_origins_and_runs_outside_its_policy(tmp_path):
    port, download_port = free_port(), free_port()
    out = tmp_path / "output"
    serve = start_serve(tmp_path / "home", out, port, download_port, "--article", str(ARTICLE))
    try:
        state = wait_ready(serve)
        api, deployment = state["api_url"], state["deployment_id"]

        # DNS rebinding: the request names another site in Host, and is refused before Prefect sees it
        refused = create_run(api, deployment, {"sources": ["/etc/hostname"]}, EVIL)
        assert refused.status_code == 421, refused.text
        assert b" 403 " in websocket_handshake(port, "evil.example").split(b"\r\n")[0]
        assert b" 101 " in websocket_handshake(port, f"127.0.0.1:{port}").split(b"\r\n")[0]
        # a page on another site calling the server by its real name: WebSockets are not bound by CORS
        own = f"http://127.0.0.1:{port}"
        assert b" 101 " in websocket_handshake(port, f"127.0.0.1:{port}", own).split(b"\r\n")[0]
        for origin in ("http://evil.example", "null", "http://127.0.0.1:1"):
            assert b" 403 " in websocket_handshake(port, f"127.0.0.1:{port}", origin).split(b"\r\n")[0]
        server_log = (tmp_path / "home" / "prefect-server.log").read_text()
        assert "refused a request for host 'evil.example'" in server_log

        # the download app refuses it too, and serve says so in its output
        downloads = state["download_url"]
        assert httpx.get(f"{downloads}/", headers=EVIL, timeout=10).status_code == 421
        deadline = time.monotonic() + 30
        while "downloads: refused a request for host 'evil.example'" not in serve.output():
            assert time.monotonic() < deadline, serve.output()[-3000:]
            time.sleep(0.5)

        # CORS: a page on another origin may not read the API; the UI's own origin may
        evil_origin = httpx.get(f"{api}/health", headers={"Origin": "http://evil.example"}, timeout=10)
        assert evil_origin.status_code == 403
        assert evil_origin.headers.get("access-control-allow-origin") is None
        assert (
            httpx.get(f"{api}/health", headers={"Origin": own}, timeout=10).headers["access-control-allow-origin"]
            == own
        )

        # CSRF: a change without the token the UI fetches is refused
        no_token = create_run(api, deployment, {"sources": [str(ARTICLE)]}, {})
        assert no_token.status_code == 403 and "CSRF" in no_token.text

        # with a token, a run asking for files of its own fails before it reads anything; the run form has no
        # output folder or settings to ask for, and a run naming them anyway ends before it starts
        ends = {}
        (tmp_path / "secret.ar.txt").write_text("سر.\n", encoding="utf-8")
        leaving = f"{ROOT}/sr?/../../{os.path.relpath(tmp_path, ROOT.parent)}/secret.ar.txt"  # `..` after a wildcard
        for case, asked in (
            ("sources", {"sources": ["/etc/hostname"]}),
            ("leaving", {"sources": [leaving]}),
            (
                "out",
                {"out": str(tmp_path / "stolen"), "settings": {"home": str(tmp_path / "evil-home"), "engine": "local"}},
            ),
        ):
            created = create_run(api, deployment, asked, csrf_headers(api))
            assert created.status_code == 201, created.text
            run_id = created.json()["id"]
            deadline = time.monotonic() + 300
            while True:
                flow_run = httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()
                if flow_run["state"]["type"] in ("FAILED", "CRASHED", "COMPLETED"):
                    break
                assert time.monotonic() < deadline, flow_run["state"]
                time.sleep(1)
            ends[case] = flow_run["state"]
        assert ends["sources"]["type"] == "FAILED"
        assert "reads only files under" in ends["sources"]["message"], ends["sources"]
        shown = serve.output()  # on serve's console: Prefect's one ERROR line, not a traceback of the policy's code
        refusal = shown[shown.index("during execution: TarjamaError('sources: /etc/hostname: outside") :]
        assert "Traceback" not in refusal.partition("Finished in state")[0], refusal[:3000]
        assert ends["leaving"]["type"] == "FAILED", ends["leaving"]
        assert f"a match of {leaving}: outside the allowed folders" in ends["leaving"]["message"], ends["leaving"]
        assert not list(out.glob("**/aligned.*"))  # nothing translated, nothing published
        assert ends["out"]["type"] in {"FAILED", "CRASHED"}, ends["out"]
        assert not (tmp_path / "stolen").exists() and not (tmp_path / "evil-home").exists()

        # a second serve on the same port refuses in one line, before starting anything
        second = subprocess.run(
            [TARJAMA, "serve", "--port", str(port), "--download-port", str(free_port()), "--out", str(tmp_path / "o2")],
            env=cli_env(tmp_path / "home2"),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 1, second.stdout + second.stderr
        lines = (second.stdout + second.stderr).strip().splitlines()
        assert len(lines) == 1 and f"cannot start the Prefect server on 127.0.0.1:{port}" in lines[0], lines
        assert "another tarjama serve" in lines[0]
        assert not (tmp_path / "o2").exists()
    finally:
        code = stop(serve)
    assert code == 0, serve.output()[-3000:]
