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
