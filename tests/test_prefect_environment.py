"""The Prefect settings a command runs with (``tarjama.flows.environment``): a server tarjama started is asked
no version and given no CA bundle to load, and settings loaded already (by the warm process) are not read
again. Each case runs in a fresh interpreter: Prefect's settings are global to a process."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # each case starts fresh interpreters that import Prefect: not in `make test-fast`

NO_TLS = Path(__file__).resolve().parents[1] / "flows" / "no-tls.pem"

PRELUDE = """
import json, os, ssl, sys
from pathlib import Path
from tarjama.flows.environment import NO_TLS_TRUST, configure_prefect, prefect_api_for_command, prepare_for_next_run
home = Path(sys.argv[1])
configure_prefect(home)
import prefect.context
from prefect.settings import get_current_settings

def seen():
    settings = get_current_settings()
    return {
        "api": settings.api.url,
        "version_check": settings.client.server_version_check_enabled,
        "ca_file": str(settings.api.ssl_cert_file),
        "ui": settings.ui_url,
    }
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A home whose ``serve.json`` names an API that answers its health check, as a running ``serve``'s does."""

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/api/health" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api = f"http://127.0.0.1:{server.server_address[1]}/api"
    home = tmp_path / "home"
    home.mkdir()
    state = {"api_url": api, "ui_url": api.removesuffix("/api"), "download_url": "http://127.0.0.1:1", "pid": 1}
    (home / "serve.json").write_text(json.dumps(state))
    try:
        yield home, api
    finally:
        server.shutdown()


def in_fresh_python(home: Path, body: str, cwd: Path, **env: str) -> dict:
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "TARJAMA_"))} | env
    done = subprocess.run(
        [sys.executable, "-c", PRELUDE + body, str(home)], capture_output=True, text=True, env=environ, cwd=cwd
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_server_tarjama_started_is_asked_no_version_and_loads_no_ca_bundle(served, tmp_path: Path) -> None:
    home, api = served
    body = """
with prefect_api_for_command(home, 60):
    inside = seen()
    ssl.create_default_context(cafile=NO_TLS_TRUST)  # a certificate Python's TLS loads as a CA file
print(json.dumps({"inside": inside, "after": seen(), "left": sorted(k for k in os.environ if k.startswith(("PREFECT_API", "PREFECT_CLIENT")))}))
"""
    result = in_fresh_python(home, body, tmp_path)
    assert result["inside"]["api"] == api
    assert result["inside"]["version_check"] is False
    assert Path(result["inside"]["ca_file"]).resolve() == NO_TLS
    assert result["left"] == []  # the environment is the command's again


def test_the_users_own_prefect_settings_win(served, tmp_path: Path) -> None:
    home, api = served
    body = """
with prefect_api_for_command(home, 60):
    print(json.dumps(seen()))
"""
    ca = tmp_path / "mine.pem"
    ca.write_text(NO_TLS.read_text())
    own_ca = in_fresh_python(home, body, tmp_path, PREFECT_API_SSL_CERT_FILE=str(ca))
    assert own_ca["api"] == api and own_ca["ca_file"] == str(ca)
    elsewhere = in_fresh_python(home, body, tmp_path, PREFECT_API_URL="https://prefect.example/api")
    assert elsewhere["api"] == "https://prefect.example/api"
    assert elsewhere["version_check"] is True  # a server of the user's own: Prefect checks it as it ships


def test_settings_prepared_by_the_warm_process_are_not_read_again_unless_their_sources_changed(
    served, tmp_path: Path
) -> None:
    home, api = served
    body = """
prepared = prepare_for_next_run(home)
loaded = prefect.context.GLOBAL_SETTINGS_CONTEXT
with prefect_api_for_command(home, 60):
    same = prefect.context.GLOBAL_SETTINGS_CONTEXT is loaded
    inside = seen()
Path("prefect.toml").write_text("[logging]\\nlevel = 'DEBUG'\\n")  # a settings file in the working folder
with prefect_api_for_command(home, 60):
    reread = prefect.context.GLOBAL_SETTINGS_CONTEXT is not loaded
    level = get_current_settings().logging.level
print(json.dumps({"prepared": prepared, "same": same, "inside": inside, "reread": reread, "level": level}))
"""
    result = in_fresh_python(home, body, tmp_path)
    assert result["prepared"] == api
    assert result["same"] is True
    assert result["inside"]["api"] == api and result["inside"]["version_check"] is False
    assert result["reread"] is True
    assert result["level"] == "DEBUG"


def test_flow_runs_send_no_heartbeats_to_a_server_tarjama_started_unless_the_user_set_them(
    served, tmp_path: Path
) -> None:
    home, api = served
    body = """
with prefect_api_for_command(home, 60) as api:
    with api.flow_runs():
        inside = get_current_settings().flows.heartbeat_frequency
    after = get_current_settings().flows.heartbeat_frequency
print(json.dumps({"inside": inside, "after": after}))
"""
    assert in_fresh_python(home, body, tmp_path) == {"inside": None, "after": 180}  # Prefect's default outside
    assert in_fresh_python(home, body, tmp_path, PREFECT_FLOWS_HEARTBEAT_FREQUENCY="60") == {"inside": 60, "after": 60}
    # A server the user named is the user's: its runs keep Prefect's heartbeats.
    assert in_fresh_python(home, body, tmp_path, PREFECT_API_URL=api) == {"inside": 180, "after": 180}
