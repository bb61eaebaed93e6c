"""What a run started from the Prefect UI (or anyone reaching its API) may ask for: `UiRunPolicy`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tarjama.app.serve import UiRunPolicy
from tarjama.errors import TarjamaError
from tarjama.settings import Settings


@pytest.fixture
def policy(tmp_path: Path) -> UiRunPolicy:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.ar.txt").write_text("نص.\n", encoding="utf-8")
    server = Settings(
        home=tmp_path / "home",
        engine="local",
        engines={"openai": {"url": "http://127.0.0.1:9/v1"}},
        download_url="http://127.0.0.1:4301",
    )
    return UiRunPolicy.for_serve(server, tmp_path / "output", [corpus / "a.ar.txt"])


def asked(tmp_path: Path, **changes: object) -> dict[str, object]:
    settings = Settings(
        home=Path("/tmp/evil-home"),
        engine="google",
        memory=Path("/tmp/evil.sqlite"),
        engines={"openai": {"url": "http://evil.example/v1"}, "local": {"model": "/etc/passwd"}},
        download_url="http://evil.example",
        rows="sentences",
    )
    return {"sources": [str(tmp_path / "corpus" / "a.ar.txt")], "settings": settings, **changes}


def test_a_ui_run_keeps_the_servers_homes_engine_urls_and_models_but_may_choose_the_engine(policy, tmp_path):
    applied = policy.apply(asked(tmp_path))
    settings = applied["settings"]
    assert settings.home == tmp_path / "home" and settings.memory is None
    assert settings.engines == {"openai": {"url": "http://127.0.0.1:9/v1"}}
    assert settings.download_url == "http://127.0.0.1:4301"
    assert (settings.engine, settings.rows) == ("google", "sentences")  # the form's choices
    assert applied["out"] == str(tmp_path / "output")  # no out asked: the served folder


@pytest.mark.parametrize("out", ["/tmp/elsewhere", "{tmp}/output/../stolen", "{tmp}/output-2"])
def test_a_ui_run_writes_only_under_the_served_output_folder(policy, tmp_path, out):
    with pytest.raises(TarjamaError, match="writes only under"):
        policy.apply(asked(tmp_path, out=out.format(tmp=tmp_path)))
    inside = policy.apply(asked(tmp_path, out=str(tmp_path / "output" / "mine")))
    assert inside["out"] == str(tmp_path / "output" / "mine")


@pytest.mark.parametrize(
    "source", ["/etc/hostname", "/etc/*", "{tmp}/corpus/../home/x.ar.txt", "{tmp}/corpus/../../**/*.ar.txt"]
)
def test_a_ui_run_reads_only_under_the_allowed_folders(policy, tmp_path, source):
    for parameter in ("sources", "references"):
        with pytest.raises(TarjamaError, match="reads only files under"):
            policy.apply(asked(tmp_path, **{parameter: [source.format(tmp=tmp_path)]}))
    policy.apply(asked(tmp_path, sources=[f"{tmp_path}/corpus/**/*.ar.txt"], references=[f"{tmp_path}/corpus"]))


def test_the_allowed_folders_are_the_articles_and_where_serve_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "articles").mkdir()
    policy = UiRunPolicy.for_serve(Settings(home=tmp_path / "home"), Path("output"), [tmp_path / "articles"])
    assert policy.source_roots == ((tmp_path / "articles").resolve(), tmp_path.resolve())
    assert policy.out == (tmp_path / "output").resolve()
    policy.apply({"sources": ["relative/a.ar.txt"], "settings": None})  # read from where serve runs


def test_without_default_articles_serve_points_to_the_custom_run():
    """Outside the repository, without --article, the form has no sources: a Quick run would fail."""
    from tarjama.app.serve import Served

    urls = ("http://127.0.0.1:4200/api", "http://127.0.0.1:4200/v2", "http://127.0.0.1:4201", "d-1", "/out")
    with_articles = "\n".join(Served(*urls, quick_run=True).lines())
    without = "\n".join(Served(*urls, quick_run=False).lines())
    assert "Run → Quick run, or Custom run for the form" in with_articles
    assert "Quick run" not in without
    assert "Run → Custom run, and fill in sources: without --article the form has no default articles" in without
