"""One precedence for every setting, proved row by row from the settings' own declaration: the flag wins
over the variable, the variable over the Prefect Secret block, the Secret block over the default; and the
docs' settings table is what that declaration generates."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, TARJAMA, cli_env

from tarjama.settings import (
    DEFAULT,
    MASK,
    SettingDef,
    Settings,
    setting_defs,
    settings_markdown,
    with_settings_table,
)

DEFS = setting_defs()


def sample(d: SettingDef, folder: Path, n: int) -> str:
    """A valid value of ``d`` other than its default: the ``n``-th of two, told apart from each other."""
    if d.kind in ("path", "gguf"):
        path = folder / f"{d.key}-{n}{'.gguf' if d.kind == 'gguf' else ''}"
        if d.kind == "gguf":
            path.write_bytes(b"GGUF\x03\x00\x00\x00")
        return str(path)
    if d.kind == "choice":
        return (d.choices[-1], d.choices[0])[n]
    values = {
        "engine": ("libre", "deepl"),
        "url": ("http://127.0.0.1:5001", "http://127.0.0.1:5002"),
        "number": ("2.5", "3.5"),
        "count": ("7", "9"),
        "rate": ("0.5", "3"),
        "checks": ("numbers", "language"),
        "text": ("alpha", "beta"),
        "secret": ("key-from-variable-1", "key-2"),
    }
    return values[d.kind][n]


def shown(d: SettingDef, value: str) -> str:
    return MASK if d.kind == "secret" else value


def flag_arguments(d: SettingDef, value: str) -> dict[str, object]:
    typed: object = {"path": Path, "gguf": Path, "rate": float}.get(d.kind, str)(value)  # type: ignore[operator]
    return {d.keyword: typed} | ({"engine": d.engine} if d.engine else {})  # type: ignore[dict-item]


@pytest.fixture
def base(tmp_path):
    return {"TARJAMA_HOME": str(tmp_path / "home"), "HOME": str(tmp_path / "user")}


@pytest.mark.parametrize("d", DEFS, ids=[d.key for d in DEFS])
def test_the_variable_wins_over_the_default(tmp_path, base, d):
    unset = {k: v for k, v in base.items() if k != d.env}
    default = Settings.load(unset, tmp_path)
    assert default.source_of(d.key).startswith(DEFAULT)
    value = sample(d, tmp_path, 0)
    given = Settings.load(unset | {d.env: value}, tmp_path)
    assert (given.source_of(d.key), given.value_of(d.key)) == (d.env, shown(d, value))


@pytest.mark.parametrize("d", [d for d in DEFS if d.flag], ids=[d.key for d in DEFS if d.flag])
def test_the_flag_wins_over_the_variable(tmp_path, base, d):
    from_variable, from_flag = sample(d, tmp_path, 0), sample(d, tmp_path, 1)
    settings = Settings.load(base | {d.env: from_variable}, tmp_path, **flag_arguments(d, from_flag))  # type: ignore[arg-type]
    assert (settings.source_of(d.key), settings.value_of(d.key)) == (d.flag, shown(d, from_flag))


@pytest.mark.parametrize("d", [d for d in DEFS if d.block], ids=[d.key for d in DEFS if d.block])
def test_the_variable_wins_over_the_secret_block_which_wins_over_the_default(tmp_path, base, d):
    from_block = {d.env: "key-from-block"}
    only_block = Settings.load(base, tmp_path).with_secrets(from_block)
    assert (only_block.source_of(d.key), only_block.value_of(d.key)) == (f"Secret block {d.block}", MASK)
    both = Settings.load(base | {d.env: "key-from-variable"}, tmp_path).with_secrets(from_block)
    assert both.source_of(d.key) == d.env
    assert both.secrets[d.env].get_secret_value() == "key-from-variable"


def test_every_kind_of_setting_is_covered():
    """A setting of a new kind must get sample values above, or its rows would not prove anything."""
    assert {d.kind for d in DEFS} <= {
        "path",
        "gguf",
        "engine",
        "url",
        "number",
        "count",
        "rate",
        "checks",
        "choice",
        "text",
        "secret",
    }
    assert {"engine", "memory", "checks", "rows", "translate", "rate_limit", "download_url"} <= {d.key for d in DEFS}


def test_the_docs_settings_table_is_the_one_the_declaration_generates():
    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert with_settings_table(page) == page, "run: python -m tarjama.settings docs/settings.md"
    for d in DEFS:
        assert f"`{d.env}`" in settings_markdown()


def test_tarjama_engine_is_what_the_commands_use_and_config_says_where_it_came_from(tmp_path):
    """The option's own default no longer hides the variable: `config` and the run agree."""
    result = subprocess.run(
        [TARJAMA, "config"],
        capture_output=True,
        text=True,
        env=cli_env(tmp_path, TARJAMA_ENGINE="libre", COLUMNS="200"),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    engine_line = next(line for line in result.stdout.splitlines() if "│ engine " in line)
    assert "libre" in engine_line and "TARJAMA_ENGINE" in engine_line
    rows_line = next(line for line in result.stdout.splitlines() if "│ rows " in line)
    assert "units" in rows_line and DEFAULT in rows_line
