"""`tarjama config` shows what a run gets: a key in a Secret block (never its value), every setting of the engine
in use, and the download URL of a running `tarjama serve`. Seen: with TARJAMA_ENGINE=deepl and the DeepL Secret
block present it had no deepl row, showed an engine's settings only when changed, and showed the default
download URL while runs linked to serve's port."""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import SERVED_DOWNLOAD_URL, TARJAMA, cli_env

from tarjama.settings import MASK, Settings, setting_defs

DEEPL_BLOCK = "tarjama-deepl-api-key"


def config_rows(stdout: str) -> dict[str, tuple[str, str]]:
    """``tarjama config``'s table: (value, from) by setting."""
    rows: dict[str, tuple[str, str]] = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│")]
        if len(cells) == 5 and cells[1]:
            rows[cells[1]] = (cells[2], cells[3])
    return rows


def test_the_engine_in_use_is_shown_whole_and_another_only_when_set(tmp_path):
    settings = Settings.load({"TARJAMA_HOME": str(tmp_path), "TARJAMA_ENGINE": "deepl", "TARJAMA_LIBRE_MAX_ITEMS": "7"})
    shown = {key: (value, source) for key, value, source in settings.describe()}
    deepl = [d.key for d in setting_defs() if d.key.startswith("deepl.")]
    assert set(deepl) <= set(shown) and shown["deepl.rate_limit"] == ("5", "default")
    assert shown["deepl.api_key"] == ("not set", "default")  # no block looked up
    assert shown["deepl.url"] == ("default", "default")  # chosen by the key: the free or the paid API
    assert shown["libre.max_items"] == ("7", "TARJAMA_LIBRE_MAX_ITEMS") and "libre.url" not in shown
    auto = {key for key, _, _ in Settings.load({"TARJAMA_HOME": str(tmp_path)}).describe()}
    assert {"google.url", "local.model_path"} <= auto and not any(key.startswith("deepl.") for key in auto)
    google = Settings.load({"TARJAMA_HOME": str(tmp_path)}).value_of("google.url")
    assert google == "https://translate.google.com/m"  # the address the engine uses, not the word "default"
    every = [key for key, _, _ in settings.describe(every_engine=True)]
    assert every == [d.key for d in setting_defs()]


def test_a_key_in_a_secret_block_is_shown_set_and_where(tmp_path):
    settings = Settings.load({"TARJAMA_HOME": str(tmp_path), "TARJAMA_ENGINE": "deepl", "LIBRE_API_KEY": "k-271"})
    blocks = {DEEPL_BLOCK: True, "tarjama-libre-api-key": True, "tarjama-yandex-api-key": True}
    shown = {key: (value, source) for key, value, source in settings.describe(blocks=blocks)}
    assert shown["deepl.api_key"] == (MASK, f"Secret block {DEEPL_BLOCK}")
    assert shown["yandex.api_key"] == (MASK, "Secret block tarjama-yandex-api-key")  # set, so shown
    assert shown["libre.api_key"] == (MASK, "LIBRE_API_KEY")  # the variable wins over the block
    unsure = {key: (value, source) for key, value, source in settings.describe(blocks={DEEPL_BLOCK: None})}
    assert unsure["deepl.api_key"] == ("unknown", f"Secret block {DEEPL_BLOCK}? (Prefect cannot say)")
    absent = {key: (value, source) for key, value, source in settings.describe(blocks={DEEPL_BLOCK: False})}
    assert absent["deepl.api_key"] == ("not set", f"default (no Secret block {DEEPL_BLOCK})")


def test_config_shows_the_download_url_of_a_running_serve(served_home, tmp_path):
    shown = subprocess.run(
        [TARJAMA, "config"], capture_output=True, text=True, env=cli_env(served_home, COLUMNS="400"), timeout=60
    )
    assert shown.returncode == 0, shown.stderr[-3000:]
    value, source = config_rows(shown.stdout)["download_url"]
    assert value == SERVED_DOWNLOAD_URL
    assert source.startswith("running tarjama serve") and str(tmp_path / "served") in source
    own = cli_env(served_home, COLUMNS="400", TARJAMA_DOWNLOAD_URL="https://files.example/")
    mine = subprocess.run([TARJAMA, "config"], capture_output=True, text=True, env=own, timeout=60)
    assert config_rows(mine.stdout)["download_url"] == ("https://files.example", "TARJAMA_DOWNLOAD_URL")


def test_engines_settings_is_the_listing_of_config(tmp_path):
    """Seen: `tarjama engines --settings` listed the settings without looking for Secret blocks."""
    env = cli_env(tmp_path / "home", COLUMNS="400", TARJAMA_ENGINE="deepl")
    listed = [
        subprocess.run([TARJAMA, *command], capture_output=True, text=True, env=env, timeout=60)
        for command in (["config"], ["engines", "--settings"])
    ]
    assert [shown.returncode for shown in listed] == [0, 0], listed[1].stderr[-3000:]
    config, engines = (config_rows(shown.stdout) for shown in listed)
    assert config["deepl.api_key"] == ("not set", f"default (no Secret block {DEEPL_BLOCK})")
    assert engines == config


@pytest.mark.slow  # a real Prefect server
def test_config_shows_a_key_from_a_secret_block_and_never_its_value(tmp_path):
    """The home's Prefect holds DeepL's block: read from its database, or asked of its API (PREFECT_API_URL)."""
    import os
    import signal

    from conftest import alive, save_block

    home = tmp_path / "home"
    save_block(home, DEEPL_BLOCK)  # its value: "a-key-of-another-engine"
    server = json.loads((home / "prefect-server.json").read_text())
    try:
        for extra in ({}, {"PREFECT_API_URL": f"http://127.0.0.1:{server['port']}/api"}):
            env = cli_env(home, COLUMNS="400", TARJAMA_ENGINE="deepl", **extra)
            shown = subprocess.run([TARJAMA, "config"], capture_output=True, text=True, env=env, timeout=120)
            assert shown.returncode == 0, shown.stderr[-3000:]
            rows = config_rows(shown.stdout)
            assert rows["deepl.api_key"] == (MASK, f"Secret block {DEEPL_BLOCK}"), extra
            assert "libre.api_key" not in rows  # an engine not in use, its key set nowhere
            engines = subprocess.run(
                [TARJAMA, "engines", "--settings"], capture_output=True, text=True, env=env, timeout=120
            )
            assert config_rows(engines.stdout) == config_rows(shown.stdout), extra
            every = subprocess.run([TARJAMA, "config", "--all"], capture_output=True, text=True, env=env, timeout=120)
            rows = config_rows(every.stdout)
            assert rows["libre.api_key"] == ("not set", "default (no Secret block tarjama-libre-api-key)"), extra
            said = shown.stdout + shown.stderr + engines.stdout + engines.stderr + every.stdout + every.stderr
            assert "a-key-of-another-engine" not in said
    finally:
        if alive(server["pid"]):
            os.kill(server["pid"], signal.SIGTERM)
