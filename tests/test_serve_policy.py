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


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the allowed ones, with a secret article and reference; links to it and to /etc
    from inside the allowed folder (tmp_path/corpus), as a tester found them."""
    secret = tmp_path / "elsewhere"
    secret.mkdir()
    (secret / "secret.ar.txt").write_text("سر.\n", encoding="utf-8")
    (secret / "secret.en.txt").write_text("A secret.\n", encoding="utf-8")
    (secret / "m.jsonl").write_text('{"id": "s", "text": "سر."}\n', encoding="utf-8")
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir()
    (corpus / "outlink").symlink_to(secret)
    (corpus / "etclink").symlink_to("/etc")
    (corpus / "link.ar.txt").symlink_to(secret / "secret.ar.txt")
    return secret


def refusal(policy: UiRunPolicy, **parameters: object) -> str:
    with pytest.raises(TarjamaError, match="outside the allowed folders") as refused:
        policy.apply({"settings": None, **parameters})
    return str(refused.value)


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("corpus/*/../../elsewhere/secret.ar.txt", "a match of {tmp}/corpus/*/../../elsewhere/secret.ar.txt"),
        ("corpus/outl?nk/secret.ar.txt", "a match of {tmp}/corpus/outl?nk/secret.ar.txt"),
        ("corpus/outl?nk/*", "a match of {tmp}/corpus/outl?nk/*"),
        ("corpus/etc[l]ink/host*", "a match of {tmp}/corpus/etc[l]ink/host*"),
        ("corpus/*.ar.txt", "a match of {tmp}/corpus/*.ar.txt"),  # the symlinked file among the matches
        ("corpus/link.ar.txt", "sources: {tmp}/corpus/link.ar.txt"),
        ("corpus", "a file in {tmp}/corpus"),
        ("corpus/outlink", "sources: {tmp}/corpus/outlink"),
        ("corpus/outlink/m.jsonl", "sources: {tmp}/corpus/outlink/m.jsonl"),
    ],
)
def test_every_file_a_ui_run_reads_is_resolved_and_must_be_in_an_allowed_folder(
    policy, tmp_path, outside, source, named
):
    """Symlinks and `..` after a wildcard once led outside: the part before the wildcard was all that was
    checked. The message names what the user gave, and nothing of what is outside."""
    message = refusal(policy, sources=[f"{tmp_path}/{source}"])
    assert message.startswith(named.format(tmp=tmp_path) + ": "), message
    assert "hostname" not in message and "passwd" not in message and str(outside) not in message


def test_a_reference_beside_an_article_or_given_is_checked_too(policy, tmp_path, outside):
    corpus = tmp_path / "corpus"
    (corpus / "a.en.txt").symlink_to(outside / "secret.en.txt")
    message = refusal(policy, sources=[str(corpus / "a.ar.txt")])
    assert message.startswith(f"a reference beside {corpus / 'a.ar.txt'}: "), message
    message = refusal(policy, sources=[str(corpus / "*.ar.txt")])
    assert message.startswith(f"a match of {corpus / '*.ar.txt'}: "), message  # link.ar.txt comes first
    (corpus / "link.ar.txt").unlink()
    message = refusal(policy, sources=[str(corpus / "*.ar.txt")])
    assert message.startswith(f"a reference beside a match of {corpus / '*.ar.txt'}: "), message
    (corpus / "a.en.txt").unlink()
    (corpus / "sub" / "a.en.txt").symlink_to(outside / "secret.en.txt")
    message = refusal(policy, sources=[str(corpus / "a.ar.txt")], references=[str(corpus / "sub" / "a.en.txt")])
    assert message.startswith(f"references: {corpus / 'sub' / 'a.en.txt'}: "), message


def test_files_inside_the_allowed_folders_are_read_through_globs_links_and_dots(policy, tmp_path, outside):
    corpus = tmp_path / "corpus"
    (corpus / "link.ar.txt").unlink()
    (corpus / "sub" / "b.ar.txt").write_text("نص.\n", encoding="utf-8")
    (corpus / "sub" / "a.en.txt").symlink_to(corpus / "a.ar.txt")  # a link inside, to a file inside
    (corpus / "inlink").symlink_to(corpus / "sub")
    for sources in (
        [f"{corpus}/sub/../*.ar.txt", f"{corpus}/in?ink/b.ar.txt", f"{corpus}/**/*.ar.txt", str(corpus)],
        [f"{corpus}/inlink/b.ar.txt"],
    ):
        policy.apply({"sources": sources, "references": [str(corpus / "sub" / "a.en.txt")], "settings": None})


def test_a_symlink_loop_inside_is_left_to_fail_alone_and_a_tilde_is_not_home(policy, tmp_path):
    """A loop cannot be resolved (Python raises RuntimeError): reading it fails and reads nothing, so the
    policy lets the article fail alone, in one line, as a ``tarjama run`` does. The run reads ``~/x`` as a
    folder named ``~`` where serve runs: that is what is checked, not the home folder."""
    corpus = tmp_path / "corpus"
    (corpus / "loop.ar.txt").symlink_to("loop.ar.txt")
    policy.apply({"sources": [str(corpus), str(corpus / "loop.ar.txt"), f"{corpus}/*.ar.txt"], "settings": None})
    (corpus / "~").symlink_to(tmp_path / "elsewhere")
    message = refusal(policy, sources=[f"{corpus}/~/x.ar.txt"])
    assert message.startswith(f"sources: {corpus}/~/x.ar.txt: "), message
