"""`tarjama engines --check-secrets` asks the home's shared Prefect server, as the other commands do, and
starts no Prefect at all where no Secret block can be; it started a temporary server every time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from conftest import TARJAMA, alive, cli_env, ready_column
from loopback_services import LoopbackServices

pytestmark = pytest.mark.slow  # a real Prefect server

DEEPL_BLOCK = "deepl-key-from-block-5e1f:fx"
NO_TEMPORARY_SERVER = {"PREFECT_SERVER_ALLOW_EPHEMERAL_MODE": "false", "COLUMNS": "400"}

SAVE_BLOCK = """
import os
from pathlib import Path
from tarjama.flows.environment import configure_prefect, prefect_api_for_command
home = Path(os.environ["TARJAMA_HOME"])
configure_prefect(home)
with prefect_api_for_command(home, 120):  # starts the home's shared server, left running
    from prefect.blocks.system import Secret
    Secret(value=os.environ["VALUE"]).save("tarjama-deepl-api-key", overwrite=True)
"""


def test_no_prefect_where_no_block_can_be(tmp_path):
    home = tmp_path / "home"
    with LoopbackServices() as services:
        env = cli_env(home, TARJAMA_DEEPL_URL=services.url("deepl"), COLUMNS="400")
        listed = subprocess.run(
            [TARJAMA, "engines", "--check-secrets"], capture_output=True, text=True, env=env, timeout=300
        )
    assert listed.returncode == 0, listed.stderr[-3000:]
    assert ready_column(listed.stdout)["deepl"].startswith("no: "), listed.stdout  # no key anywhere
    assert not (home / "prefect" / "prefect.db").exists() and not (home / "prefect-server.json").exists()


def test_keys_come_from_the_shared_servers_blocks(tmp_path):
    home = tmp_path / "home"
    saved = subprocess.run(
        [sys.executable, "-c", SAVE_BLOCK],
        capture_output=True,
        text=True,
        env=cli_env(home, VALUE=DEEPL_BLOCK),
        timeout=600,
    )
    assert saved.returncode == 0, saved.stderr[-3000:]
    server = json.loads((home / "prefect-server.json").read_text())
    try:
        with LoopbackServices(keys=(DEEPL_BLOCK,)) as services:
            env = cli_env(home, TARJAMA_DEEPL_URL=services.url("deepl"), **NO_TEMPORARY_SERVER)
            listed = subprocess.run(
                [TARJAMA, "engines", "--check-secrets"], capture_output=True, text=True, env=env, timeout=300
            )
        assert listed.returncode == 0, listed.stderr[-3000:]
        assert ready_column(listed.stdout)["deepl"] == "yes (key from a Prefect Secret block)", listed.stdout
        assert json.loads((home / "prefect-server.json").read_text()) == server  # the same server, reused
        assert DEEPL_BLOCK not in listed.stdout + listed.stderr
    finally:
        if alive(server["pid"]):
            os.kill(server["pid"], signal.SIGTERM)
