"""What tarjama creates in its home is its user's alone: the Prefect database holds Secret blocks (API keys),
``serve.json`` and ``prefect-server.json`` where this user's servers listen and the shared one's token.
Under umask 022 they were 0644 in folders of 0755; a folder the user made keeps the mode they gave it."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import PYTHON, cli_env

from tarjama.private_files import make_private_dir, write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_folders_created_are_private_and_existing_ones_keep_their_mode(tmp_path, umask_022):
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o755)
    make_private_dir(mine / "a" / "b")
    assert (mode(mine), mode(mine / "a"), mode(mine / "a" / "b")) == (0o755, 0o700, 0o700)
    make_private_dir(mine)  # there already: not tightened
    assert mode(mine) == 0o755
    (mine / "file").write_text("x")
    with pytest.raises(FileExistsError):
        make_private_dir(mine / "file")


def test_files_written_are_private_and_an_older_one_is_tightened(tmp_path, umask_022):
    state = tmp_path / "serve.json"
    write_private(state, "{}\n")
    assert mode(state) == 0o600 and state.read_text() == "{}\n"
    state.chmod(0o644)  # as an earlier version wrote it
    write_private(state, "{ }\n")
    assert mode(state) == 0o600 and state.read_text() == "{ }\n"


CREATORS = {
    "configure_prefect": "from tarjama.flows.environment import configure_prefect; configure_prefect(home)",
    "memory": "from tarjama.translation.memory import TranslationMemory; TranslationMemory(home / 'm.sqlite').close()",
}


@pytest.mark.parametrize("made_by_user", [False, True])
@pytest.mark.parametrize("creator", list(CREATORS))
def test_the_home_and_its_prefect_folder(tmp_path, creator, made_by_user):
    """Every command that uses Prefect (``configure_prefect``) or the translation memory creates the home."""
    home = tmp_path / "home"
    if made_by_user:
        home.mkdir()
        home.chmod(0o755)
    env = {k: v for k, v in cli_env(home).items() if k != "PREFECT_HOME"}
    code = f"import os, sys; from pathlib import Path; os.umask(0o022); home = Path(sys.argv[1]); {CREATORS[creator]}"
    done = subprocess.run([PYTHON, "-c", code, str(home)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert mode(home) == (0o755 if made_by_user else 0o700)
    if creator == "configure_prefect":
        assert mode(home / "prefect") == 0o700
