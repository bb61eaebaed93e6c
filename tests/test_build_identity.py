"""What a reused shard was built with is what its signature says: a local model file is named by its bytes
(hashed once, remembered in the home), and a check of the user's by its code."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from conftest import build, libre, write_articles

from tarjama.corpus.build import pipeline_signature
from tarjama.settings import Settings
from tarjama.translation.model_store import DEFAULT_MODEL, DIGESTS

# --- the local model's file ---------------------------------------------------------------------------------------


def _local(home: Path, **options: str) -> Settings:
    return Settings(home=home, engine="local", engines={"local": options})


def _file_part(settings: Settings) -> str:
    parts = dict(part.split(":", 1) for part in pipeline_signature(settings).engine_identity.split("|"))
    return parts["file"]


def test_a_model_file_of_the_same_name_and_size_with_other_bytes_is_another_model(tmp_path) -> None:
    """A re-quantised model or a fine-tune under the same file name, of the same size, does not reuse the
    shards of the file that built them; the same bytes elsewhere are the same model."""
    home = tmp_path / "home"
    paths = {}
    for folder, content in (("a", b"GGUF" + b"a" * 60), ("b", b"GGUF" + b"b" * 60), ("c", b"GGUF" + b"a" * 60)):
        paths[folder] = tmp_path / folder / "model.gguf"
        paths[folder].parent.mkdir()
        paths[folder].write_bytes(content)
    files = {folder: _file_part(_local(home, model_path=str(path))) for folder, path in paths.items()}
    assert files["a"] != files["b"] and files["a"] == files["c"]
    assert files["a"].startswith("sha256:") and "model.gguf" not in files["a"]
    before = pipeline_signature(_local(home, model_path=str(paths["a"])))
    after = pipeline_signature(_local(home, model_path=str(paths["b"])))
    assert before.differing(after) == ["engine_identity"]  # the model's name is the same: only its bytes differ

    time.sleep(0.05)  # a file written again has other times (their resolution is a few milliseconds)
    paths["a"].write_bytes(b"GGUF" + b"b" * 60)  # in place, same size: the same process sees the change
    assert _file_part(_local(home, model_path=str(paths["a"]))) == files["b"]


def test_a_model_file_is_read_once_while_it_is_unchanged(tmp_path) -> None:
    """Its digest is remembered in the home: another setting naming the same file (a link to it), as in a new
    process, finds it there without reading the file again (the cache file is not written again)."""
    home, model = tmp_path / "home", tmp_path / "models" / "model.gguf"
    model.parent.mkdir()
    model.write_bytes(b"GGUF" + os.urandom(4096))
    first = _file_part(_local(home, model_path=str(model)))
    cache = home / DIGESTS
    written = cache.stat()
    assert first[len("sha256:") :] in cache.read_text(encoding="utf-8")
    link = tmp_path / "link.gguf"
    link.symlink_to(model)
    assert _file_part(_local(home, model_path=str(link))) == first
    again = cache.stat()
    assert (again.st_ino, again.st_mtime_ns) == (written.st_ino, written.st_mtime_ns)  # read, not rewritten
    # a copy with the same size and times kept (cp -p) is still seen as changed: its change time moved
    time.sleep(0.05)
    replaced = model.with_name("new.gguf")
    replaced.write_bytes(b"GGUF" + os.urandom(4096))
    os.utime(replaced, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns))
    replaced.replace(model)
    assert _file_part(_local(home, model_path=str(link))) != first


def test_the_default_model_is_named_by_its_known_digest_without_reading_it(tmp_path) -> None:
    """The engine runs no file but the one of the default model's SHA-256: nothing to hash, even before it is assembled."""
    settings = _local(tmp_path / "home", model_dir=str(tmp_path / "no-models-yet"))
    assert _file_part(settings) == f"sha256:{DEFAULT_MODEL.sha256[:16]}"
    assert not (tmp_path / "home" / DIGESTS).exists()


# --- a check of the user's ----------------------------------------------------------------------------------------

PLUGIN = """
from dataclasses import dataclass

from tarjama.quality.checks import Check, CheckResult


@dataclass(frozen=True)
class WordsCheck(Check):
    name = "words"
    least: int = {least}

    def check(self, pairs):
        return [CheckResult(float(len(mt.split()))) for _, mt in pairs]

    def accept(self, result):
        return result.value >= {limit}
"""


def test_an_edited_plug_in_check_builds_the_articles_again(services, tmp_path, monkeypatch) -> None:
    """Its rows' ``checks_failed`` came from its old code: the signature names the code, so they are not reused."""
    module = "tarjama_test_words_check"
    source = tmp_path / "plugins" / f"{module}.py"
    source.parent.mkdir()
    source.write_text(PLUGIN.format(least=1, limit=0))  # every row passes
    monkeypatch.syspath_prepend(str(source.parent))
    monkeypatch.delitem(sys.modules, module, raising=False)
    articles, out = write_articles(tmp_path / "articles"), tmp_path / "output"
    settings = libre(tmp_path / "home", services, checks=f"{module}:WordsCheck")

    first = build(settings, articles, out, "first")
    signature = pipeline_signature(settings)
    assert first.pipeline_signature == signature.format()  # in scores.json
    assert "|checks:words@sha256:" in first.pipeline_signature
    assert first.checks_failed == {"words": 0}
    assert build(settings, articles, out, "unchanged").counts.reused_articles == 2

    source.write_text(PLUGIN.format(least=1, limit=10_000))  # the same settings; every row fails now
    monkeypatch.delitem(sys.modules, module)  # a new run is a new process: it imports the edited file
    edited = pipeline_signature(settings)
    assert signature.differing(edited) == ["checks"]
    second = build(settings, articles, out, "second")
    assert second.counts.reused_articles == 0 and second.counts.rebuilt_articles == 2
    assert second.checks_failed["words"] > 0
    assert second.pipeline_signature == edited.format() != first.pipeline_signature


def test_built_in_checks_are_signed_by_tarjama_s_version_alone(tmp_path) -> None:
    """No digest of tarjama's own code: its version says which it is, and their signature stays as it was."""
    checks = pipeline_signature(_local(tmp_path).model_copy(update={"checks": ("numbers", "language")})).checks
    assert checks.split("#")[0] == "numbers,language"
