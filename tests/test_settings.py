"""One settings object: built from flags and variables, passed around, never written back into the environment."""

from __future__ import annotations

import json
import os
import pickle
import resource
import subprocess
from pathlib import Path

import pytest
from conftest import PYTHON, TARJAMA, cli_env

from tarjama.errors import TarjamaError
from tarjama.settings import Settings, resolve_home


def env_for(home: Path, **extra: str) -> dict[str, str]:
    return cli_env(home, COLUMNS="200", **extra)


def test_variables_and_flags_build_typed_engine_options(tmp_path):
    environ = {
        "TARJAMA_HOME": str(tmp_path),
        "TARJAMA_LIBRE_URL": "http://127.0.0.1:5000",
        "TARJAMA_LIBRE_MAX_ITEMS": "7",
        "TARJAMA_HTTP_RETRIES": "2",
        "LIBRE_API_KEY": "libre-key-31415",
        "TARJAMA_RATE_LIMIT_LIBRE": "0.5",
    }
    settings = Settings.load(environ, engine="libre", engine_url="http://127.0.0.1:6000/")
    options = settings.engine_options("libre")
    assert options["url"] == "http://127.0.0.1:6000/"  # the flag wins over the variable
    assert options["max_items"] == 7 and options["retries"] == 2 and options["api_key"] == "libre-key-31415"
    assert settings.engine_rate("libre") == (0.5, "TARJAMA_RATE_LIMIT_LIBRE")
    assert settings.memory_path == tmp_path / "memory.sqlite"
    dumped = settings.model_dump_json()
    assert "libre-key-31415" not in dumped and "secrets" not in json.loads(dumped)
    assert "libre-key-31415" not in "".join(value for _, value, _ in settings.describe())


def test_loading_never_writes_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TARJAMA_HOME", str(tmp_path))
    before = dict(os.environ)
    Settings.load(engine="chatgpt", engine_model="gpt-x", rate_limit=3)
    assert dict(os.environ) == before


@pytest.mark.parametrize(
    ("environ", "flags", "message"),
    [
        ({"TARJAMA_HTTP_TIMEOUT": "soon"}, {}, "TARJAMA_HTTP_TIMEOUT='soon': expected a number"),
        ({"TARJAMA_LIBRE_MAX_ITEMS": "-3"}, {}, "TARJAMA_LIBRE_MAX_ITEMS='-3': must be a positive number"),
        ({}, {"engine": "gooogle"}, "unknown engine 'gooogle' (did you mean 'google'?); known engines: auto, local"),
        ({}, {"engine": "libre", "engine_url": "notaurl"}, "--engine-url='notaurl': not an http(s) URL"),
        ({}, {"engine": "google", "engine_model": "x"}, "--engine-model: engine google takes no model"),
        ({}, {"engine_url": "http://127.0.0.1:5000/"}, "--engine-url needs --engine NAME, the engine it is for"),
        ({}, {"engine": "auto", "engine_model": "x"}, "--engine-model needs --engine NAME, the engine it is for"),
        ({}, {"rate_limit": -1.0}, "--rate-limit='-1.0': must be 0 or a positive number"),
    ],
)
def test_bad_settings_are_one_line_errors(tmp_path, environ, flags, message):
    with pytest.raises(TarjamaError) as caught:
        Settings.load({"TARJAMA_HOME": str(tmp_path), **environ}, **flags)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["http://[bad", "http://a b", "http://host:99999", "http://host:0", "http://:80", "ftp://x"]
)
def test_a_url_no_request_could_reach_is_refused_at_once(tmp_path, url):
    """A malformed host or port would only fail after every retry of every task (issue 9, item 8)."""
    with pytest.raises(TarjamaError) as caught:
        Settings.load({"TARJAMA_HOME": str(tmp_path)}, engine="libre", engine_url=url)
    assert str(caught.value) == f"--engine-url={url!r}: not an http(s) URL (e.g. http://127.0.0.1:5000)"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5000",
        "https://api.deepl.com/v2",
        "http://[::1]:5000",
        "http://libre_translate:80/",
        "http://bücher.example",
    ],
)
def test_ordinary_urls_are_taken(tmp_path, url):
    settings = Settings.load({"TARJAMA_HOME": str(tmp_path)}, engine="libre", engine_url=url)
    assert settings.engine_options("libre")["url"] == url


def test_chatgpt_takes_a_model_from_the_flag(tmp_path):
    settings = Settings.load({"TARJAMA_HOME": str(tmp_path)}, engine="chatgpt", engine_model="gpt-4.1-mini")
    assert settings.engine_options("chatgpt")["model"] == "gpt-4.1-mini"


@pytest.mark.slow
def test_the_model_folder_is_a_setting_the_engine_and_model_fetch_use(tmp_path):
    """TARJAMA_MODEL_DIR is read with the other variables, not where the model is looked for: an empty
    folder named there is where `tarjama engines` looks (and finds no model)."""
    from tarjama.translation.engines import get_spec

    settings = Settings.load({"TARJAMA_HOME": str(tmp_path), "TARJAMA_MODEL_DIR": str(tmp_path / "models")})
    options = settings.engine_options("local")
    assert options["model_dir"] == str(tmp_path / "models")
    assert "not assembled" in (get_spec("local").check(options) or "")
    listing = subprocess.run(
        [TARJAMA, "engines"], capture_output=True, text=True, env=cli_env(tmp_path, TARJAMA_MODEL_DIR=str(tmp_path))
    )
    assert "not assembled" in " ".join(listing.stdout.split()), listing.stdout


def test_home_is_the_variable_then_the_nearest_project_home_then_the_user_default(tmp_path):
    project = tmp_path / "project"
    (project / ".tarjama").mkdir(parents=True)
    (project / "a" / "b").mkdir(parents=True)
    assert resolve_home({"TARJAMA_HOME": str(tmp_path / "x")}, project)[0] == tmp_path / "x"
    assert resolve_home({}, project / "a" / "b")[0] == project / ".tarjama"
    home, why = resolve_home({"HOME": str(tmp_path / "user")}, tmp_path / "elsewhere")
    assert home == tmp_path / "user" / ".local" / "share" / "tarjama" and why.startswith("default: user data folder")


def test_misspelt_engine_fails_at_once_without_prefect(tmp_path):
    """Under a second of CPU (wall time on a shared machine is noise): nothing heavy loads before the check."""
    article = Path(__file__).resolve().parent.parent / "corpus" / "morocco-us-counterterrorism.ar.txt"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [TARJAMA, "run", str(article), "-e", "gooogle", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env_for(tmp_path / "home"),
        timeout=60,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert result.returncode == 2
    assert (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) < 1.0
    assert result.stderr.strip().splitlines() == [
        "tarjama: error: unknown engine 'gooogle' (did you mean 'google'?); known engines: auto, local, google, "
        "mymemory, libre, deepl, "
        "microsoft, qcri, yandex, baidu, chatgpt, openai-compat"
    ]
    assert not (tmp_path / "home" / "prefect").exists()  # Prefect never started, no run recorded
    assert not (tmp_path / "out").exists()


def test_config_prints_effective_settings_with_keys_masked(tmp_path):
    result = subprocess.run(
        [TARJAMA, "config"],
        capture_output=True,
        text=True,
        env=env_for(tmp_path, DEEPL_API_KEY="deepl-key-16180:fx", TARJAMA_LIBRE_URL="http://127.0.0.1:5000"),
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "deepl-key-16180" not in result.stdout
    assert "DEEPL_API_KEY" in result.stdout and "********" in result.stdout
    assert "libre.url" in result.stdout and "http://127.0.0.1:5000" in result.stdout
    assert str(tmp_path) in result.stdout and "TARJAMA_HOME" in result.stdout


def test_version_and_fast_help():
    from importlib.metadata import version

    result = subprocess.run([TARJAMA, "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"tarjama {version('tarjama')}"
    helped = subprocess.run([TARJAMA, "run", "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0
    assert "<list" not in helped.stdout and "<bool>" not in helped.stdout and "<str>" not in helped.stdout


def test_help_keeps_each_sentence_on_one_line():
    """The docstrings are wrapped at 120 characters; `--help` reflows them instead of breaking there."""
    wide = {**os.environ, "COLUMNS": "250"}
    listing = subprocess.run([TARJAMA, "--help"], capture_output=True, text=True, env=wide, timeout=60).stdout
    run_line = next(line for line in listing.splitlines() if "Build a parallel corpus" in line)
    assert "scores.json and report.md" in run_line  # the docstring's second line, on the same row
    helped = subprocess.run([TARJAMA, "run", "--help"], capture_output=True, text=True, env=wide, timeout=60).stdout
    assert "(the same pipeline signature) are reused, unless --rebuild" in helped
    model = subprocess.run([TARJAMA, "model", "--help"], capture_output=True, text=True, env=wide, timeout=60).stdout
    fetch = next(line for line in model.splitlines() if "Assemble and verify" in line)
    assert fetch.strip("│ ").startswith("fetch ")  # registered under its name, with its docstring


def test_help_reflow_keeps_clicks_markers():
    """A paragraph opening with \\b keeps its lines, and nothing after \\f is shown, as Click intends."""
    import typer
    from typer.testing import CliRunner

    from tarjama.app.cli import command

    demo = typer.Typer()

    @command(demo, "demo")
    def demo_command() -> None:
        """Say what it does,
        in two lines.

        \b
        status 0: done
        status 2: bad input
        \f
        Internal notes."""

    @command(demo, "other")  # a second command: Typer then keeps `demo` a subcommand, invoked by name
    def other_command() -> None:
        """Another."""

    shown = CliRunner().invoke(demo, ["demo", "--help"], env={"COLUMNS": "200"}).output
    assert "Say what it does, in two lines." in shown
    assert "status 0: done" in shown and "status 0: done status 2" not in shown
    assert "Internal notes" not in shown


def test_counts_agree_with_their_noun():
    from tarjama.errors import counted

    assert [counted(n, "article") for n in (0, 1, 2)] == ["0 articles", "1 article", "2 articles"]


@pytest.mark.slow
@pytest.mark.parametrize("command", [["runs"], ["runs", "--json"], ["download", "latest"]])
def test_a_bad_variable_is_one_line_for_every_command(tmp_path, command):
    result = subprocess.run(
        [TARJAMA, *command],
        capture_output=True,
        text=True,
        env=env_for(tmp_path / "home", TARJAMA_HTTP_TIMEOUT="soon"),
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["tarjama: error: TARJAMA_HTTP_TIMEOUT='soon': expected a number"]
    assert not (tmp_path / "home").exists()  # nothing started, nothing written


def test_runs_table_keeps_each_id_prefix_on_one_line():
    """An 80-column terminal folds the long cells (names, folders), never the id a `download` is given."""
    from datetime import UTC, datetime

    from rich.console import Console

    from tarjama.app.cli import runs_table
    from tarjama.app.runs import RunInfo

    ids = ["0a1b2c3d-1111-4222-8333-444455556666", "ffee0011-1111-4222-8333-444455556666"]
    found = [
        RunInfo(
            id=run_id,
            name="2026-12-05-1410-morocco-us-counterterrorism-x7k2",
            state="Completed",
            start=datetime(2026, 12, 5, 14, 10, tzinfo=UTC),
            articles=["morocco-us-counterterrorism", "euronews-en.153835"],
            engine="google",
            bleu=12.34,
            output=Path("/home/user/projects/tarjama/output/2026-12-05-1410-morocco-us-counterterrorism-x7k2"),
        )
        for run_id in ids
    ]
    for width in (80, 100):
        console = Console(width=width, record=True)
        console.print(runs_table(found))
        lines = console.export_text().splitlines()
        for run_id in ids:
            assert any(line.split()[0] == run_id[:8] for line in lines if line.strip()), lines


PICKLED_SETTINGS_ELSEWHERE = """
import pickle, sys
settings = pickle.loads(sys.stdin.buffer.read())
print(settings.home)
print(settings.memory_path)
"""


@pytest.mark.parametrize(
    ("environ", "memory", "home", "memory_path"),
    [
        ({"XDG_DATA_HOME": "data"}, None, "data/tarjama", "data/tarjama/memory.sqlite"),
        ({"TARJAMA_HOME": "project/home"}, Path("memory.sqlite"), "project/home", "memory.sqlite"),
        ({"TARJAMA_HOME": "h", "TARJAMA_MEMORY": "../common.sqlite"}, None, "h", "../common.sqlite"),
    ],
    ids=["XDG_DATA_HOME", "--memory", "TARJAMA_MEMORY"],
)
def test_relative_paths_are_taken_from_the_given_folder_and_mean_the_same_in_a_worker(
    tmp_path, environ, memory, home, memory_path
):
    """A relative home or memory is resolved once, against the folder the command was given from (not the
    process's current one), so a Dask worker with another current folder opens the same memory."""
    given, elsewhere = tmp_path / "given", tmp_path / "worker"
    given.mkdir()
    elsewhere.mkdir()
    settings = Settings.load({"HOME": str(tmp_path)} | environ, given, memory=memory)
    assert (settings.home, settings.memory_path) == (given / home, given / memory_path)
    worker = subprocess.run(
        [PYTHON, "-c", PICKLED_SETTINGS_ELSEWHERE],
        input=pickle.dumps(settings),
        capture_output=True,
        cwd=elsewhere,
        env=cli_env(tmp_path / "unused"),
        timeout=60,
    )
    assert worker.returncode == 0, worker.stderr[-3000:]
    assert worker.stdout.decode().splitlines() == [str(given / home), str(given / memory_path)]
