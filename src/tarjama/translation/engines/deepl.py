"""``deepl``: the DeepL API (free or pro key).

deep-translator's ``DeeplTranslator`` sends ``GET <base>/v2/translate`` with
``auth_key`` in the query string, one text per request, and its language
map predates DeepL's Arabic (added 2024), so it cannot do ar→en at all.
Here: ``POST <base>/v2/translate`` with the key in the ``Authorization:
DeepL-Auth-Key`` header and up to 50 ``text`` fields per request (DeepL's
limit), ``source_lang=AR``, ``target_lang=EN-US``. Keys ending in ``:fx``
are free-plan keys and go to ``api-free.deepl.com`` (deep-translator's
``DEEPL_FREE`` URL), others to ``api.deepl.com``. HTTP 456 (quota used up)
and 403 (bad key) are not retried. Key: ``DEEPL_API_KEY`` or Secret block
``tarjama-deepl-api-key``; base URL: ``TARJAMA_DEEPL_URL``.
"""

from __future__ import annotations

from typing import Any

from deep_translator.constants import BASE_URLS, DEEPL_ENV_VAR

from tarjama.translation.engines.base import Credential
from tarjama.translation.engines.transport import Reply, RetryableResponse
from tarjama.translation.engines.web import WebEngine, join_url, web_spec

VERSION = "v2"


def read_answer(reply: Reply) -> list[str]:
    data: Any = reply.json()
    translations = data.get("translations") if isinstance(data, dict) else None
    if not isinstance(translations, list):
        raise RetryableResponse("no translations in the answer")
    return [str(t.get("text", "")) for t in translations if isinstance(t, dict)]


class DeeplEngine(WebEngine):
    name = "deepl"
    default_max_chars = 30000  # DeepL's request limit is 128 KiB
    default_max_items = 50  # DeepL's limit on text fields per request
    separator = 0
    default_timeout = 60.0
    credentials = (Credential("api_key", DEEPL_ENV_VAR, "tarjama-deepl-api-key"),)

    def configure(self, **options: Any) -> None:
        super().configure(**options)
        free = (self.secret("api_key") or "").endswith(":fx")
        self.model = "deepl-api-free" if free else "deepl-api-pro"
        if self.url is None or self.url == "auto":
            self.url = BASE_URLS["DEEPL_FREE" if free else "DEEPL"].format(version=VERSION)

    @classmethod
    def default_urls(cls) -> tuple[str, ...]:
        return tuple(BASE_URLS[plan].format(version=VERSION) for plan in ("DEEPL_FREE", "DEEPL"))

    def send(self, texts: list[str]) -> list[str]:
        form = {"text": list(texts), "source_lang": "AR", "target_lang": "EN-US"}
        return self.transport.call(
            "POST",
            join_url(self.url, "translate"),
            read_answer,
            data=form,
            headers={"Authorization": f"DeepL-Auth-Key {self.secret('api_key')}"},
            size=sum(map(len, texts)),
        )


DeeplEngine.default_url = "auto"  # chosen from the key's plan in configure()

SPEC = web_spec(
    DeeplEngine,
    summary="DeepL API, free or pro (batched: up to 50 texts per request)",
    needs=f"{DEEPL_ENV_VAR} or Secret block tarjama-deepl-api-key",
    rate_limit=5.0,
)
