"""A faulty engine plug-in costs only itself: the real CLI with real distributions on ``PYTHONPATH``.

Each plug-in is a module plus its ``.dist-info`` with ``entry_points.txt``, where ``importlib.metadata``
finds installed distributions (as in ``tests/test_engine_plugins.py``). Web services point at a closed
loopback port, so ``tarjama engines`` answers without the internet.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ARTICLE, TARJAMA, cli_env, free_port, ready_column

from tarjama.errors import TarjamaError
from tarjama.translation.translate import translate_missing

PLUGINS = {
    # the tester's plug-in: EngineSpec without its required summary and needs
    "mine": """
        import tarjama

        class MyEngine(tarjama.Engine):
            name = "mine"
            model = "mine-1"

            def translate(self, sentences):
                yield from sentences

        SPEC = tarjama.EngineSpec(name="mine", factory=MyEngine)
    """,
    # text that reads as Rich markup, shown as it is
    "odd": """
        import tarjama

        class Odd(tarjama.Engine):
            name = "odd"
            model = "odd-1"

            def translate(self, sentences):
                yield from sentences

        SPEC = tarjama.EngineSpec(
            name="odd", summary="x [/oops] [bold]plain[/bold]", needs="pip install 'tarjama[local]'", factory=Odd
        )
    """,
    # an Engine class named otherwise than its spec: its translations would be stored under "Other"
    "other": """
        import tarjama

        class Other(tarjama.Engine):
            name = "Other"
            model = "other-1"

            def translate(self, sentences):
                yield from sentences

        SPEC = tarjama.EngineSpec(name="other", summary="s", needs="n", factory=Other)
    """,
    # no class attribute name at all
    "anon": """
        import tarjama

        class Anonymous(tarjama.Engine):
            model = "anon-1"

            def translate(self, sentences):
                yield from sentences

        SPEC = tarjama.EngineSpec(name="anon", summary="s", needs="n", factory=Anonymous)
    """,
    # a name but no model: found only once an engine is built
    "nomodel": """
        import tarjama

        class NoModel(tarjama.Engine):
            name = "nomodel"

            def translate(self, sentences):
                yield from sentences

        SPEC = tarjama.EngineSpec(name="nomodel", summary="s", needs="n", factory=NoModel)
    """,
}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """Every plug-in above, installed."""
    return installed(tmp_path_factory.mktemp("plugins-site"), PLUGINS)


@pytest.fixture(scope="module")
def odd_site(tmp_path_factory) -> Path:
    """Only the sound plug-in whose texts read as markup."""
    return installed(tmp_path_factory.mktemp("odd-site"), {"odd": PLUGINS["odd"]})


def installed(folder: Path, plugins: dict[str, str]) -> Path:
    for name, code in plugins.items():
        (folder / f"tarjama_{name}.py").write_text(textwrap.dedent(code))
        info = folder / f"tarjama_{name}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tarjama-{name}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(f"[tarjama.engines]\n{name} = tarjama_{name}:SPEC\n")
    return folder


def offline(site: Path, home: Path, **extra: str) -> dict[str, str]:
    """The plug-ins on the path (a worktree's code too), every web service at a closed loopback port."""
    dead = f"http://127.0.0.1:{free_port()}"
    paths = [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]
    services = {f"TARJAMA_{name.upper()}_URL": f"{dead}/{name}" for name in ("google", "mymemory")}
    return cli_env(home, COLUMNS="400", PYTHONPATH=os.pathsep.join(paths), **services) | extra


def tarjama(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([TARJAMA, *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.slow  # four commands: seconds
def test_a_broken_plugin_is_listed_with_its_reason_and_other_commands_work(site, tmp_path):
    env = offline(site, tmp_path / "home")
    listed = tarjama(env, "engines")
    assert listed.returncode == 0, listed.stderr
    ready = ready_column(listed.stdout)
    assert ready["mine"].startswith("no: plug-in broken: its entry point tarjama_mine:SPEC failed to load"), ready
    assert "'summary' and 'needs'" in listed.stdout
    assert ready["google"].startswith("needs network") and ready["odd"] == "yes"

    shown = tarjama(env, "config")
    assert shown.returncode == 0, shown.stderr
    assert "tarjama settings" in shown.stdout
    assert [line for line in shown.stderr.splitlines() if "mine" in line] == [
        "engine mine: its entry point tarjama_mine:SPEC failed to load: TypeError: EngineSpec.__init__() missing "
        "2 required positional arguments: 'summary' and 'needs'; left out (`tarjama engines` lists it)"
    ]
    english = ARTICLE.with_name(ARTICLE.name.replace(".ar.", ".en."))
    aligned = tarjama(env, "align", str(ARTICLE), str(english), "-o", str(tmp_path / "aligned.tsv"))
    assert aligned.returncode == 0, aligned.stderr
    assert (tmp_path / "aligned.tsv").is_file()


def test_choosing_a_broken_plugin_is_one_line_naming_it(site, tmp_path):
    env = offline(site, tmp_path / "home")
    for chosen in ({}, {"TARJAMA_ENGINE": "mine"}):
        flag = [] if chosen else ["-e", "mine"]
        done = tarjama(env | chosen, "run", str(ARTICLE), *flag, "-o", str(tmp_path / "out"))
        assert done.returncode == 2, done.stderr
        errors = [line for line in done.stderr.splitlines() if line.startswith("tarjama: error:")]
        assert errors == [
            "tarjama: error: engine mine: its entry point tarjama_mine:SPEC failed to load: TypeError: "
            "EngineSpec.__init__() missing 2 required positional arguments: 'summary' and 'needs'"
        ], done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_an_engine_class_misnamed_or_unnamed_is_caught_as_the_plugin_loads(site, tmp_path):
    env = offline(site, tmp_path / "home")
    ready = ready_column(tarjama(env, "engines").stdout)
    assert ready["other"] == (
        "no: plug-in broken: entry point tarjama_other:SPEC: its Engine class Other is named 'Other', "
        "not 'other' as its EngineSpec"
    )
    assert ready["anon"] == (
        "no: plug-in broken: entry point tarjama_anon:SPEC: its Engine class Anonymous sets no class attribute "
        "name (it must be 'anon')"
    )
    done = tarjama(env, "run", str(ARTICLE), "-e", "other", "-o", str(tmp_path / "out"))
    assert done.returncode == 2 and "unknown engine" not in done.stderr
    assert done.stderr.splitlines()[-1].startswith("tarjama: error: engine other: entry point tarjama_other:SPEC")


def test_an_engine_built_without_a_model_is_one_line_naming_the_plugin(site, tmp_path):
    code = (
        "from tarjama.translation.engines import create_engine, engine_signature\n"
        "from tarjama.errors import TarjamaError\n"
        "for build in (lambda: create_engine('nomodel'), lambda: engine_signature('nomodel', {})):\n"
        "    try:\n"
        "        build()\n"
        "    except TarjamaError as problem:\n"
        "        print(problem)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=offline(site, tmp_path), timeout=120
    )
    assert done.returncode == 0, done.stderr
    expected = "engine nomodel: its Engine class NoModel sets no model (a non-empty string such as 'nomodel-1')"
    assert done.stdout.splitlines() == [expected, expected]


def test_engines_and_config_show_every_text_as_it_is(odd_site, tmp_path):
    home = tmp_path / "h[old]"
    env = offline(odd_site, home, TARJAMA_CHATGPT_MODEL="gpt[red]-x[/oops]")
    listed = tarjama(env, "engines")
    assert listed.returncode == 0, listed.stderr
    assert "x [/oops] [bold]plain[/bold]" in listed.stdout
    assert "pip install 'tarjama[local]'" in listed.stdout
    shown = tarjama(env, "config")
    assert shown.returncode == 0, shown.stderr
    assert f"│ {home} " in shown.stdout and "│ gpt[red]-x[/oops] " in shown.stdout


def test_a_short_engine_is_told_in_words_that_agree_with_its_counts():
    def one_short(sentences):
        yield from []

    class Short:
        def translate(self, sentences):
            return one_short(sentences)

    with pytest.raises(TarjamaError) as raised:
        translate_missing(["جملة"], "mine", "mine-1", {}, lambda: Short(), lambda source, target: None)  # type: ignore[arg-type,return-value]
    assert str(raised.value) == "engine mine returned 0 translations for 1 sentence"
