"""`tarjama engines` on a machine where a web service cannot be reached says so: "needs network", not "ready"."""

from __future__ import annotations

import subprocess

from conftest import TARJAMA, cli_env, free_port, ready_column
from loopback_services import LoopbackServices


def test_unreachable_services_need_network_and_reachable_ones_are_ready(tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    with LoopbackServices() as services:
        env = cli_env(
            tmp_path,
            COLUMNS="400",
            TARJAMA_GOOGLE_URL=f"{dead}/m",
            TARJAMA_DEEPL_URL=f"{dead}/v2/",
            DEEPL_API_KEY="deepl-key-1:fx",
            TARJAMA_LIBRE_URL=services.url("libre"),
        )
        result = subprocess.run([TARJAMA, "engines"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    ready = ready_column(result.stdout)
    assert ready["google"].startswith("needs network (http://127.0.0.1:"), ready["google"]
    assert ready["deepl"].startswith("needs network (http://127.0.0.1:"), ready["deepl"]
    assert ready["libre"] == "yes"


def test_auto_is_ready_only_when_google_or_the_local_model_can_work(tmp_path):
    """No model assembled in the (empty) model folder: auto stands or falls with Google."""
    models = tmp_path / "models"
    models.mkdir()
    ready = {}
    with LoopbackServices() as services:
        for google in (f"http://127.0.0.1:{free_port()}/m", services.url("google")):
            env = cli_env(tmp_path, COLUMNS="400", TARJAMA_GOOGLE_URL=google, TARJAMA_MODEL_DIR=str(models))
            result = subprocess.run([TARJAMA, "engines"], capture_output=True, text=True, env=env, timeout=120)
            assert result.returncode == 0, result.stderr
            ready[google] = ready_column(result.stdout)
    offline, online = ready.values()
    assert offline["local"].startswith("no: ") and online["local"].startswith("no: ")
    assert offline["auto"].startswith("no: google: needs network (http://127.0.0.1:"), offline["auto"]
    assert online["auto"] == "yes (google; no offline fallback)", online["auto"]
