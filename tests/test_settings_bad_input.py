"""Settings and flags a user can get wrong: each is one line and exit status 2, before Prefect, a model or
a server starts; misspelt names get a suggestion; flags that take several names take comma lists."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import ARTICLE, TARJAMA, cli_env, free_port

MISSING = "nope.ar.txt"


def tarjama(folder: Path, *args: object, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TARJAMA, *map(str, args)],
        capture_output=True,
        text=True,
        cwd=folder,
        env=cli_env(folder / "home", COLUMNS="80", **env),
        timeout=120,
    )


def one_line(result: subprocess.CompletedProcess) -> str:
    """The one error line of a usage error (exit 2), with nothing started and nothing written."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tarjama: error: "), result.stderr
    return lines[0].removeprefix("tarjama: error: ")


def gguf(path: Path) -> Path:
    path.write_bytes(b"GGUF\x03\x00\x00\x00")
    return path


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "work").mkdir()
    return tmp_path / "work"


def test_a_model_that_is_no_gguf_file_is_refused(folder):
    assert one_line(tarjama(folder, "run", ARTICLE, "--model", "/etc/passwd")) == (
        "--model='/etc/passwd': not a GGUF model file (it does not start with 'GGUF')"
    )
    assert one_line(tarjama(folder, "run", ARTICLE, "--model", "missing.gguf")) == (
        "--model='missing.gguf': no such model file"
    )
    assert one_line(tarjama(folder, "run", ARTICLE, "--model", folder)) == (
        f"--model={str(folder)!r}: not a regular file (a GGUF model file is expected)"
    )
    assert one_line(tarjama(folder, "config", TARJAMA_MODEL="/etc/passwd")) == (
        "TARJAMA_MODEL='/etc/passwd': not a GGUF model file (it does not start with 'GGUF')"
    )
    assert not (folder / "home" / "prefect").exists() and not (folder / "output").exists()


def test_a_model_file_with_a_web_engine_is_refused(folder):
    model = gguf(folder / "m.gguf")
    assert one_line(tarjama(folder, "run", ARTICLE, "-e", "libre", "--model", model)).startswith(
        "--model: engine libre does not use a model file"
    )


def test_a_dask_address_must_name_a_scheduler_that_answers(folder):
    assert one_line(tarjama(folder, "run", ARTICLE, "--dask", "tcp://")) == (
        "--dask 'tcp://': a scheduler address such as tcp://127.0.0.1:8786, or `local`"
    )
    assert one_line(tarjama(folder, "run", ARTICLE, "--dask", "tcp://127.0.0.1:\xb2")) == (  # a traceback before
        "--dask 'tcp://127.0.0.1:\xb2': a scheduler address such as tcp://127.0.0.1:8786, or `local`"
    )
    port = free_port()
    assert one_line(tarjama(folder, "run", ARTICLE, "--dask", f"tcp://127.0.0.1:{port}")) == (
        f"--dask 'tcp://127.0.0.1:{port}': no Dask scheduler answers there (connection refused)"
    )
    assert not (folder / "home" / "prefect").exists()


def test_an_engine_url_where_nothing_listens_fails_at_once(folder):
    port = free_port()
    message = one_line(tarjama(folder, "run", ARTICLE, "-e", "libre", "--engine-url", f"http://127.0.0.1:{port}/"))
    assert message == f"engine libre: nothing answers at http://127.0.0.1:{port}/ (connection refused)"
    assert not (folder / "home" / "prefect").exists()


def test_an_engine_that_cannot_run_here_fails_before_anything_starts(folder):
    """A required option unset, or a key with no Prefect yet that could hold it in a Secret block: before,
    the run started Prefect and a flow run, which failed (exit 1, a Failed run in `tarjama runs`)."""
    assert one_line(tarjama(folder, "run", ARTICLE, "-e", "openai-compat")) == (
        "engine openai-compat: TARJAMA_OPENAI_COMPAT_URL not set; TARJAMA_OPENAI_COMPAT_MODEL not set"
    )
    assert one_line(tarjama(folder, "run", ARTICLE, "-e", "deepl")) == (
        "engine deepl needs an API key: set DEEPL_API_KEY or create the Prefect Secret block 'tarjama-deepl-api-key'"
    )
    assert not (folder / "home" / "prefect").exists() and not (folder / "output").exists()


def test_an_engine_module_that_is_not_installed_is_a_set_up_problem():
    from tarjama.translation.engines import get_spec
    from tarjama.translation.engines.base import EngineSpec

    spec = EngineSpec("x", "x", "x", factory=object, requires=(("no_such_module_here", "nope is not installed"),))
    assert spec.setup_problem({}) == "nope is not installed"
    assert spec.setup_problem({}, modules=False) is None  # a Dask cluster's workers have their own modules
    dotted = EngineSpec("y", "y", "y", factory=object, requires=(("no_such_parent.child", "child missing"),))
    assert dotted.setup_problem({}) == "child missing"  # find_spec raises for a missing parent package
    assert spec.readiness({}) == "nope is not installed"
    assert get_spec("local").setup_problem({}) is None  # llama-cpp-python is installed here


def test_a_download_url_that_is_no_web_address_is_refused(folder):
    assert one_line(tarjama(folder, "config", TARJAMA_DOWNLOAD_URL="javascript:alert(1)")) == (
        "TARJAMA_DOWNLOAD_URL='javascript:alert(1)': not an http(s) URL (e.g. http://127.0.0.1:5000)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["runs", "-n", "-1"], "Invalid value for '--limit' / '-n': -1 is not in the range 1<=x<=200."),
        (["runs", "-n", "1000000"], "Invalid value for '--limit' / '-n': 1000000 is not in the range 1<=x<=200."),
        (["serve", "--port", "99999"], "Invalid value for '--port': 99999 is not in the range 1<=x<=65535."),
        (["serve", "--port", "-1"], "Invalid value for '--port': -1 is not in the range 1<=x<=65535."),
        (
            ["serve", "--download-port", "70000"],
            "Invalid value for '--download-port': 70000 is not in the range 0<=x<=65535.",
        ),
    ],
)
def test_numbers_out_of_range_are_usage_errors(folder, args, message):
    assert one_line(tarjama(folder, *args)) == f"{message} (see `tarjama {args[0]} --help`)"
    assert not (folder / "home" / "prefect").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "corpus", "-f"], "Option '-f' requires an argument. (see `tarjama run --help`)"),
        (["serve", "--port"], "Option '--port' requires an argument. (see `tarjama serve --help`)"),
        (["model", "fetch", "--nope"], "No such option: --nope (see `tarjama model fetch --help`)"),
        (["--nope"], "No such option: --nope (see `tarjama --help`)"),
    ],
)
def test_a_usage_error_points_to_the_help_of_its_own_command(folder, args, message):
    """An option's missing value is found before the subcommand's context exists: the pointer still names the
    subcommand the user typed (it said `tarjama --help`)."""
    assert one_line(tarjama(folder, *args)) == message


def test_the_two_servers_of_serve_need_two_ports(folder):
    assert one_line(tarjama(folder, "serve", "--port", "5123", "--download-port", "5123")) == (
        "--port and --download-port are both 5123: the two servers need a port each"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-e", "gogle"], "unknown engine 'gogle' (did you mean 'google'?); known engines: "),
        (["-f", "tsv,tmxx"], "--format: unknown name 'tmxx' (did you mean 'tmx'?)"),
        (["--checks", "numbrs"], "--checks: unknown check 'numbrs' (did you mean 'numbers'?)"),
        (["--filter-checks", "langage"], "--filter-checks: unknown check 'langage' (did you mean 'language'?)"),
        (["--rows", "sentence"], "--rows='sentence': expected one of units, sentences (did you mean 'sentences'?)"),
        (
            ["--translate", "sentence"],
            "--translate='sentence': expected one of units, sentences (did you mean 'sentences'?)",
        ),
        (["--formt", "tsv"], "No such option: --formt (did you mean --format?) (see `tarjama run --help`)"),
    ],
)
def test_misspelt_names_get_a_suggestion_in_one_line(folder, args, message):
    assert one_line(tarjama(folder, "run", ARTICLE, *args)).startswith(message)


def test_several_names_are_comma_lists_or_repeated_flags(folder):
    """Formats and checks pass (the error is the missing article, checked after them)."""
    result = tarjama(
        folder, "run", MISSING, "-f", "tsv,tmx", "-f", "jsonl", "--checks", "numbers,language", "--checks", "repetition"
    )
    assert "nope.ar.txt" in one_line(result)


def test_align_writes_the_tsv_to_standard_output_for_dash(folder):
    """`-o -` is standard output for `align` as for `download`: the same TSV as a file, the summary on stderr."""
    english = ARTICLE.with_name(ARTICLE.name.replace(".ar.txt", ".en.txt"))
    to_file = tarjama(folder, "align", ARTICLE, english, "-o", folder / "a.tsv")
    to_stdout = tarjama(folder, "align", ARTICLE, english, "-o", "-")
    assert to_file.returncode == to_stdout.returncode == 0, to_stdout.stderr
    assert to_stdout.stdout == (folder / "a.tsv").read_text(encoding="utf-8")
    assert "aligned TSV: -" in to_stdout.stderr and not (folder / "-").exists()
