"""A run started from `tarjama serve`'s deployment gets its key from the environment of the serving process,
and the key never travels in the run's parameters (which Prefect stores in its database)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import free_port

from tarjama.flows.limits import with_secret_blocks
from tarjama.serve import deployment_parameters
from tarjama.settings import Settings

KEY = "deepl-serve-key-27182:fx"


def test_the_deployment_carries_no_key_and_its_run_reads_the_serving_environment(tmp_path, monkeypatch):
    served = Settings.load({"TARJAMA_HOME": str(tmp_path), "DEEPL_API_KEY": KEY}, engine="deepl")
    parameters = deployment_parameters([], served, tmp_path / "out")
    assert KEY not in json.dumps(parameters)
    arrived = Settings.model_validate(parameters["settings"])  # what the run's process receives
    assert arrived.engine == "deepl" and arrived.secrets == {}
    # a Secret block would need this API: nothing answers there, so reading one would fail the test
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    keyed = with_secret_blocks(arrived, ["deepl"], {"DEEPL_API_KEY": KEY, "HOME": str(Path.home())})
    assert keyed.engine_options("deepl")["api_key"] == KEY
    assert keyed.source_of("deepl.api_key") == "DEEPL_API_KEY"
