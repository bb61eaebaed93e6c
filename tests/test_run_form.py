"""The deployment's short run form: the fields a user chooses, the rest the server's own settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from prefect.utilities.callables import parameter_schema

from tarjama.app.serve import UiRunPolicy, deployment_run_name
from tarjama.errors import TarjamaError
from tarjama.flows.deployment import form_defaults, pipeline_parameters, with_run_form
from tarjama.flows.pipeline import run
from tarjama.settings import Settings
from tarjama.translation.engines.base import engine_names

SHORT_FIELDS = ["sources", "references", "engine", "formats", "rows", "advanced"]


@pytest.fixture
def server(tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        engine="local",
        engines={"openai": {"url": "http://127.0.0.1:9/v1"}},
        download_url="http://127.0.0.1:4301",
        checks=("numbers", "language"),
    )


@pytest.fixture
def article(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.ar.txt").write_text("نص.\n", encoding="utf-8")
    return corpus / "a.ar.txt"


@pytest.fixture
def policy(server, article, tmp_path) -> UiRunPolicy:
    return UiRunPolicy.for_serve(server, tmp_path / "output", [article])


@pytest.fixture
def form_flow(policy):
    return with_run_form(run, policy, deployment_run_name)


def test_the_deployments_schema_is_the_short_form_with_engine_a_choice(form_flow):
    schema = parameter_schema(form_flow).model_dump()  # what Prefect registers as the deployment's schema
    assert schema == form_flow.parameters.model_dump()
    assert list(schema["properties"]) == SHORT_FIELDS
    assert schema["required"] == ["sources"]
    properties = schema["properties"]
    assert properties["engine"]["enum"] == engine_names() and "local" in engine_names()
    assert properties["rows"]["enum"] == ["units", "sentences"]
    assert "tsv" in properties["formats"]["items"]["enum"]
    advanced = schema["definitions"]["Advanced"]["properties"]
    assert set(advanced) == {"checks", "translate", "min_confidence", "filter_checks", "dedupe", "fail_fast"}
    for filtering in ("min_confidence", "filter_checks"):  # since 0.3.7 a filtered corpus holds human pairs only
        assert "human reference" in advanced[filtering]["description"], filtering
    dumped = json.dumps(schema)
    assert "Home" not in dumped and "home" not in dumped and "download_url" not in dumped
    assert set(schema["definitions"]) == {"Advanced", "UnitTranslation"}  # no Settings model


def test_the_form_offers_the_servers_choices(server, article):
    defaults = form_defaults(server, [article])
    assert list(defaults) == SHORT_FIELDS[:1] + SHORT_FIELDS[2:]
    assert defaults["sources"] == [str(article.resolve())]
    assert (defaults["engine"], defaults["rows"]) == ("local", "units")
    assert defaults["advanced"]["checks"] == ["numbers", "language"]
    assert "sources" not in form_defaults(server, [])


def test_a_form_run_is_the_servers_settings_with_the_forms_choices(form_flow, policy, server, article, tmp_path):
    validated = form_flow.validate_parameters(
        {
            "sources": [str(article)],
            "engine": "google",
            "rows": "sentences",
            "formats": ["tmx"],
            "advanced": {"checks": ["numbers"], "translate": "sentences", "min_confidence": 0.5, "dedupe": True},
        }
    )
    parameters = pipeline_parameters(policy, **validated)
    settings = parameters["settings"]
    assert isinstance(settings, Settings)
    assert (settings.engine, settings.rows, settings.translate, settings.checks) == (
        "google",
        "sentences",
        "sentences",
        ("numbers",),
    )
    assert settings.home == server.home and settings.engines == server.engines
    assert settings.download_url == server.download_url
    assert parameters["out"] == str(tmp_path / "output")
    assert (parameters["formats"], parameters["min_confidence"], parameters["dedupe"]) == (["tmx"], 0.5, True)

    untouched = pipeline_parameters(policy, **form_flow.validate_parameters(form_defaults(server, [article])))
    assert untouched["settings"].checks == ("numbers", "language")
    assert untouched["min_confidence"] is None  # 0 in the form: no filtered copy
    assert untouched["formats"] == ["tsv", "parquet"]
    everything = pipeline_parameters(policy, **form_flow.validate_parameters({"sources": [str(article)]}))
    assert everything["settings"].checks is None  # every check, as a run without --checks
    assert everything["settings"].engine == "auto"


def test_a_form_run_keeps_the_servers_policy(form_flow, policy):
    with pytest.raises(TarjamaError, match="reads only files under"):
        pipeline_parameters(policy, **form_flow.validate_parameters({"sources": ["/etc/hostname"]}))
    for asked in ({"out": "/tmp/stolen"}, {"settings": {"home": "/tmp/evil"}}):  # not in the form
        with pytest.raises(Exception, match="but was provided with parameters"):
            form_flow.validate_parameters({"sources": [], **asked})
    with pytest.raises(Exception, match="unknown engine 'gogle'"):
        form_flow.validate_parameters({"sources": [], "engine": "gogle"})
    with pytest.raises(Exception, match="advanced.home: Extra inputs are not permitted"):
        form_flow.validate_parameters({"sources": [], "advanced": {"home": "/tmp/evil"}})
