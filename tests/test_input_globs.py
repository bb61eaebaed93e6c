"""Globs: `**` enters no symlinked folder (a link to its own folder once made it walk forever), other globs
find what `glob.glob` finds, and an existing manifest path is a manifest whatever characters it holds."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tarjama.corpus.inputs import collect_articles, expand_glob


def test_a_glob_with_a_symlink_loop_ends(tmp_path):
    loop = tmp_path / "loop"
    loop.mkdir()
    (loop / "x").symlink_to(".")
    (loop / "y").symlink_to(".")
    (loop / "a.ar.txt").write_text("نص.\n", encoding="utf-8")
    code = "from tarjama.corpus.inputs import collect_articles; print([a.id for a in collect_articles(['loop/**/*.ar.txt'])])"
    env = os.environ | {"PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['a']"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("a/x.ar.txt", "a/b/y.ar.txt", "a/b/c/z.ar.txt", "a/.h/h.ar.txt", "a/.d.ar.txt", "d/w.ar.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("نص.\n", encoding="utf-8")
    (tmp_path / "a" / "dl").symlink_to(tmp_path / "d")  # a symlinked folder
    (tmp_path / "a" / "b" / "fl.ar.txt").symlink_to(tmp_path / "d" / "w.ar.txt")  # a symlinked file
    (tmp_path / "a" / "dangling.ar.txt").symlink_to(tmp_path / "nowhere")
    return tmp_path


def test_double_star_enters_no_symlinked_folder_as_pathlib_and_a_folder_source(tree):
    found = sorted(map(str, expand_glob("a/**/*.ar.txt")))
    assert found == ["a/b/c/z.ar.txt", "a/b/fl.ar.txt", "a/b/y.ar.txt", "a/dangling.ar.txt", "a/x.ar.txt"]
    as_pathlib = sorted(str(p) for p in Path("a").glob("**/*.ar.txt") if "/." not in str(p))
    assert found == as_pathlib  # pathlib's rule for symlinked folders, glob's for hidden names
    assert {a.id for a in collect_articles(["a/**/*.ar.txt"])} == {"z", "fl", "y", "dangling", "x"}
    assert "a/dl" in map(str, expand_glob("a/**"))  # matched as a name, not entered
    assert "a/dl/w.ar.txt" not in map(str, expand_glob("a/**"))


@pytest.mark.parametrize(
    "pattern",
    ["a/*/*.ar.txt", "a/*", "a/.*", "{tmp}/a/*/../*.ar.txt", "a//b/*", "a/b/", "a/[bd]*/*.ar.txt", "*", "a/b/y.ar.tx?"],
)
def test_other_globs_find_what_glob_finds(tree, pattern):
    pattern = pattern.format(tmp=tree)
    assert sorted(expand_glob(pattern)) == sorted(Path(p) for p in glob.glob(pattern, recursive=True))


def test_an_existing_manifest_path_with_glob_characters_is_a_manifest(tmp_path):
    manifest = tmp_path / "m4 [x]" / "m.jsonl"
    manifest.parent.mkdir()
    manifest.write_text(json.dumps({"id": "one", "text": "نص."}) + "\n", encoding="utf-8")
    (articles,) = collect_articles([str(manifest)])
    assert articles.id == "one" and articles.source.field is not None
