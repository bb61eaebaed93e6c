"""``qcri``: QCRI's Shaheen machine translation API (Arabic-specialised).

The same request as deep-translator's ``QcriTranslator`` (``GET
https://mt.qcri.org/api/v1/translate?key=...&langpair=ar-en&domain=...&text=...``,
translation in ``translatedText``), batched with newlines. The API takes
the key only in the query string; tarjama never logs or reports URLs with
their query. Key: ``QCRI_API_KEY`` or Secret block ``tarjama-qcri-api-key``;
domain: ``TARJAMA_QCRI_DOMAIN`` (default ``general``); base URL:
``TARJAMA_QCRI_URL``.
"""

from __future__ import annotations

from typing import Any

from deep_translator.constants import BASE_URLS, QCRI_ENV_VAR, QCRI_LANGUAGE_TO_CODE

from tarjama.translation.engines.base import Credential, Option
from tarjama.translation.engines.transport import Reply, RetryableResponse
from tarjama.translation.engines.web import WebEngine, join_url, lines, web_spec

LANGPAIR = f"{QCRI_LANGUAGE_TO_CODE['Arabic']}-{QCRI_LANGUAGE_TO_CODE['English']}"


def read_answer(reply: Reply) -> list[str]:
    data: Any = reply.json()
    text = data.get("translatedText") if isinstance(data, dict) else None
    if not isinstance(text, str):
        raise RetryableResponse("no translatedText in the answer")
    return lines(text)


class QcriEngine(WebEngine):
    name = "qcri"
    default_url = BASE_URLS["QCRI"].split("{endpoint}")[0]  # https://mt.qcri.org/api/v1/
    default_max_chars = 2000
    separator = 1
    credentials = (Credential("api_key", QCRI_ENV_VAR, "tarjama-qcri-api-key"),)

    def configure(self, domain: str | None = None, **options: Any) -> None:
        super().configure(**options)
        self.domain = domain or "general"
        self.model = f"qcri-shaheen-{self.domain}"

    def send(self, texts: list[str]) -> list[str]:
        query = "\n".join(texts)
        params = {"key": self.secret("api_key"), "langpair": LANGPAIR, "domain": self.domain, "text": query}
        return self.transport.call("GET", join_url(self.url, "translate"), read_answer, params=params, size=len(query))


SPEC = web_spec(
    QcriEngine,
    summary="QCRI Shaheen API, Arabic-specialised (batched up to 2,000 characters per request)",
    needs=f"{QCRI_ENV_VAR} or Secret block tarjama-qcri-api-key; TARJAMA_QCRI_DOMAIN (default general)",
    rate_limit=2.0,
    extra=(Option("domain", "TARJAMA_QCRI_DOMAIN"),),
)
