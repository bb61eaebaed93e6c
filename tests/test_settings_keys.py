"""A run started from `tarjama serve`'s deployment gets its key from the environment of the serving process,
and the key never travels in the run's parameters (which Prefect stores in its database)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import ARTICLE, PYTHON, ROOT, TARJAMA, Serve, cli_env, free_port, stop, wait_ready
from loopback_services import LoopbackServices

from tarjama.flows.deployment import form_defaults
from tarjama.flows.limits import with_secret_blocks
from tarjama.settings import Settings

KEY = "deepl-serve-key-27182:fx"


def test_the_deployment_carries_no_key_and_its_run_reads_the_serving_environment(tmp_path, monkeypatch):
    served = Settings.load({"TARJAMA_HOME": str(tmp_path), "DEEPL_API_KEY": KEY}, engine="deepl")
    parameters = form_defaults(served, [])  # what the deployment stores in Prefect's database
    assert KEY not in json.dumps(parameters) and parameters["engine"] == "deepl"
    arrived = Settings.model_validate(served.model_dump(mode="json") | {"secrets": {}})  # a run without the key
    assert arrived.engine == "deepl" and arrived.secrets == {}
    # a Secret block would need this API: nothing answers there, so reading one would fail the test
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    keyed = with_secret_blocks(arrived, ["deepl"], {"DEEPL_API_KEY": KEY, "HOME": str(Path.home())})
    assert keyed.engine_options("deepl")["api_key"] == KEY
    assert keyed.source_of("deepl.api_key") == "DEEPL_API_KEY"


SERVE_KEY = "deepl-serve-key-e2e-31415:fx"
RUN_FROM_DEPLOYMENT = """
from prefect.deployments import run_deployment
flow_run = run_deployment("tarjama-run/articles", timeout=600, poll_interval=2)
print(flow_run.state.name if flow_run.state else "?")
"""


@pytest.mark.slow
def test_a_run_started_from_the_deployment_translates_with_the_serving_processs_key(tmp_path):
    """`DEEPL_API_KEY=... tarjama serve -e deepl`, then a Quick run from the UI: the run gets the key (the
    loopback DeepL refuses any other), and the key is nowhere in Prefect's database."""
    home, out = tmp_path / "home", tmp_path / "output"
    home.mkdir()
    with LoopbackServices(keys=(SERVE_KEY,), lifetime=1200) as services:
        log = tmp_path / "serve.log"
        env = cli_env(home, DEEPL_API_KEY=SERVE_KEY, TARJAMA_DEEPL_URL=services.url("deepl"))
        args = ["serve", "--port", free_port(), "--download-port", free_port(), "--out", out, "--article", ARTICLE]
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [TARJAMA, *map(str, args), "-e", "deepl"], stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=ROOT
            )
        serve = Serve(process, home, log)
        try:
            api = wait_ready(serve)["api_url"]
            client = cli_env(tmp_path / "client", PREFECT_API_URL=api)
            started = subprocess.run(
                [PYTHON, "-c", RUN_FROM_DEPLOYMENT], capture_output=True, text=True, env=client, timeout=900
            )
        finally:
            stop(serve)
        answered = services.answered("deepl")
    assert started.stdout.strip() == "Completed", (started.stdout + started.stderr)[-3000:] + serve.output()[-3000:]
    assert answered > 0
    stored = b"".join(path.read_bytes() for path in (home / "prefect").glob("prefect.db*"))
    assert SERVE_KEY.encode() not in stored
