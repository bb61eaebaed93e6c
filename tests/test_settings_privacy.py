"""Asking for the offline engine sends the article nowhere: with `TARJAMA_ENGINE=local` or `-e local`, a
loopback service standing in for every web engine (Google's URL setting points at it, so a fall-back to
Google would be seen) receives nothing."""

from __future__ import annotations

import subprocess

import pytest
from conftest import ARTICLE, TARJAMA, cli_env, prefect_server
from loopback_services import LoopbackServices

pytestmark = pytest.mark.slow  # a real Prefect server


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    base = tmp_path_factory.mktemp("privacy")
    with prefect_server(base / "home", base / "server.log") as url:
        yield url


@pytest.mark.parametrize("asked", ["TARJAMA_ENGINE=local", "-e local"])
def test_the_local_engine_sends_no_request(tmp_path, api, asked):
    model = tmp_path / "tiny.gguf"
    model.write_bytes(b"GGUF" + bytes(60))  # a GGUF header and nothing else: no request may be made before loading it
    with LoopbackServices() as services:
        env = cli_env(tmp_path / "home", PREFECT_API_URL=api, TARJAMA_MODEL=str(model), **services.env())
        args = [TARJAMA, "run", str(ARTICLE), "--out", str(tmp_path / "out")]
        if asked.startswith("TARJAMA_ENGINE"):
            env["TARJAMA_ENGINE"] = "local"
        else:
            args += ["-e", "local"]
        result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=900)
        received = services.requests()
    assert received == [], f"requests left the machine: {[(r.service, r.path) for r in received]}"
    assert "engine local" in result.stderr, result.stderr[-3000:]
