"""Credentials never appear in logs, messages or listings (in-process; the CLI run is in test_engines_cli)."""

from __future__ import annotations

import logging
import subprocess

import pytest
from conftest import CORPUS, TARJAMA, cli_env
from loopback_services import LoopbackServices, fake_english

from tarjama.errors import TarjamaError
from tarjama.settings import Settings
from tarjama.text.article import load_document
from tarjama.translation.engines import create_engine, engine_names
from tarjama.translation.engines.transport import EngineError, redact, register_secret, safe_url

SENTENCES = load_document(CORPUS / "morocco-us-counterterrorism.ar.txt", "ar").texts[:2]
KEYED = {  # engine: (loopback service, credential options)
    "libre": ("libre", {"api_key": "libre-key-7f3a9c1d"}),
    "deepl": ("deepl", {"api_key": "deepl-key-2b8e4f60:fx"}),
    "microsoft": ("microsoft", {"api_key": "msft-key-5d1c7a93"}),
    "qcri": ("qcri", {"api_key": "qcri-key-9e2f6b14"}),
    "yandex": ("yandex", {"api_key": "yandex-key-4a7d2e85"}),
    "baidu": ("baidu", {"appid": "baidu-appid-6c3b8f27", "appkey": "baidu-appkey-1e9a5d42"}),
    "chatgpt": ("openai", {"api_key": "sk-openai-key-8f2c6e31"}),
}
ALL_SECRETS = [value for _, options in KEYED.values() for value in options.values()]


def test_redaction_of_urls_headers_and_known_secrets():
    register_secret("s3cr3t-value-42")
    assert redact("GET https://x/translate?key=abc123&text=hi") == "GET https://x/translate?key=***&text=hi"
    assert redact("auth_key=abc&api_key=def&appid=ghi&sign=jkl") == "auth_key=***&api_key=***&appid=***&sign=***"
    assert redact("Authorization: DeepL-Auth-Key abc:fx") == "Authorization: DeepL-Auth-Key ***"
    assert redact("{'Authorization': 'Bearer sk-123'}") == "{'Authorization': 'Bearer ***'}"
    assert redact("Ocp-Apim-Subscription-Key: abcdef") == "Ocp-Apim-Subscription-Key: ***"
    assert redact("the server said s3cr3t-value-42 is wrong") == "the server said *** is wrong"
    assert safe_url("https://mt.qcri.org/api/v1/translate?key=abc&text=x") == "https://mt.qcri.org/api/v1/translate"


@pytest.mark.parametrize("name", sorted(KEYED))
def test_keys_stay_out_of_logs_errors_and_reprs(name, caplog):
    service, options = KEYED[name]
    secrets = list(options.values())
    caplog.set_level(logging.DEBUG)  # httpx logs every request URL at INFO, httpcore more at DEBUG
    with LoopbackServices(keys=(secrets[0],), lifetime=60) as services:
        engine = create_engine(name, url=services.url(service), timeout=2, retries=1, backoff=0.01, **options)
        services.inject("500")  # a retry, logged
        assert list(engine.translate(SENTENCES)) == [fake_english(s) for s in SENTENCES]
        assert services.answered() >= 1
        problems = []
        services.persistent = "503"  # a persistent fault: the final error names the URL
        with pytest.raises(EngineError) as unavailable:
            list(engine.translate(["جملة أخرى."]))
        problems.append(str(unavailable.value))
        services.persistent = None
        wrong = {k: "wrong-" + v for k, v in options.items()}
        register_secret(next(iter(wrong.values())))
        bad = create_engine(name, url=services.url(service), timeout=2, retries=1, backoff=0.01, **wrong)
        with pytest.raises(EngineError) as refused:  # a bad key: the service's answer may quote it
            list(bad.translate(["جملة ثالثة."]))
        problems.append(str(refused.value))
        assert any(r.fault is None and r.status != 200 for r in services.requests()) or name == "baidu"
    text = "\n".join([caplog.text, *problems, repr(engine), repr(bad), str(engine.stats)])
    assert "HTTP Request:" in caplog.text  # httpx's own log lines were captured
    assert "retrying" in caplog.text
    for secret in secrets + list(wrong.values()):
        assert secret not in text, f"{name} leaked a credential"


def test_qcri_key_in_the_query_string_is_redacted_from_httpx_log_lines(caplog):
    caplog.set_level(logging.INFO, logger="httpx")
    key = "qcri-query-key-31415"
    with LoopbackServices(keys=(key,), lifetime=60) as services:
        engine = create_engine("qcri", url=services.url("qcri"), api_key=key, timeout=2, retries=0)
        assert list(engine.translate(SENTENCES)) == [fake_english(s) for s in SENTENCES]
        assert services.requests()[0].query["key"] == [key]  # it did go on the wire (QCRI's protocol)
    lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert lines and all("key=***" in line for line in lines)
    assert key not in caplog.text


def test_a_missing_key_names_the_variable_and_the_secret_block(tmp_path):
    with pytest.raises(TarjamaError, match="DEEPL_API_KEY.*tarjama-deepl-api-key"):
        create_engine("deepl")
    settings = Settings.load({"DEEPL_API_KEY": "from-env-123:fx", "TARJAMA_HOME": str(tmp_path)})
    engine = create_engine("deepl", **settings.engine_options("deepl"))
    assert engine.model == "deepl-api-free" and "api-free.deepl.com" in engine.url
    assert "from-env-123" not in repr(engine)


def engines_table(env: dict[str, str]) -> dict[str, str]:
    result = subprocess.run([TARJAMA, "engines"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return {
        line.split("│")[1].strip(): line
        for line in result.stdout.splitlines()
        if line.count("│") >= 5 and line.split("│")[1].strip()
    }


@pytest.mark.slow
def test_google_is_ready_only_when_it_answers(tmp_path):
    env = cli_env(tmp_path, COLUMNS="300")
    with LoopbackServices() as services:
        assert "yes" in engines_table(env | {"TARJAMA_GOOGLE_URL": services.url("google")})["google"]
    silent = engines_table(env | {"TARJAMA_GOOGLE_URL": "http://127.0.0.1:9/google/m"})["google"]
    assert "needs network (http://127.0.0.1:9/google/m: connection refused)" in silent


@pytest.mark.slow
def test_engines_listing_shows_readiness_without_showing_keys(tmp_path):
    key = "listing-key-271828"
    with LoopbackServices() as services:
        env = cli_env(
            tmp_path,
            COLUMNS="300",
            DEEPL_API_KEY=key,
            TARJAMA_LIBRE_URL="http://127.0.0.1:9/",
            TARJAMA_DEEPL_URL=services.url("deepl"),
            TARJAMA_GOOGLE_URL=services.url("google"),
            TARJAMA_RATE_LIMIT_GOOGLE="0.5",
        )
        result = subprocess.run([TARJAMA, "engines"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    rows = {
        line.split("│")[1].strip(): line
        for line in result.stdout.splitlines()
        if line.count("│") >= 5 and line.split("│")[1].strip()
    }
    for name in (
        "google",
        "mymemory",
        "libre",
        "deepl",
        "microsoft",
        "qcri",
        "yandex",
        "baidu",
        "chatgpt",
        "openai-compat",
        "local",
        "auto",
    ):
        assert name in rows, name
    assert "yes" in rows["deepl"] and "yes" in rows["google"]
    assert "needs network (http://127.0.0.1:9/: connection refused)" in rows["libre"]  # nothing listens there
    assert "no:" in rows["microsoft"] and "MICROSOFT_API_KEY" in rows["microsoft"]
    assert "0.5/s" in rows["google"] and "2/s" not in rows["google"]
    assert key not in result.stdout + result.stderr
    assert set(engine_names()) >= {
        "google",
        "mymemory",
        "libre",
        "deepl",
        "microsoft",
        "qcri",
        "chatgpt",
        "openai-compat",
    }
