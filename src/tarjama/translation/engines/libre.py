"""``libre``: a LibreTranslate server (usually self-hosted), through its JSON API.

deep-translator's ``LibreTranslator`` posts one text per request with the
key in the URL's query string; here ``POST <url>/translate`` carries a JSON
body with ``q`` as a list of segments (LibreTranslate's batch form, answered
with a list of ``translatedText``), ``format: text``, and the key, if any,
in the body. Base URL: ``TARJAMA_LIBRE_URL`` (required: public instances
come and go); key: ``LIBRE_API_KEY`` or the Secret block
``tarjama-libre-api-key`` (optional, for instances that require one).
A server's own limits (``--char-limit``, ``--batch-limit``) are met by
``TARJAMA_LIBRE_MAX_CHARS`` / ``TARJAMA_LIBRE_MAX_ITEMS``, and a request
refused as over the limit is split automatically.
"""

from __future__ import annotations

import re
from typing import Any

from deep_translator.constants import LIBRE_ENV_VAR, LIBRE_LANGUAGES_TO_CODES

from tarjama.translation.engines.base import Credential
from tarjama.translation.engines.transport import EngineRejected, Reply, RetryableResponse
from tarjama.translation.engines.web import WebEngine, join_url, web_spec

SOURCE = LIBRE_LANGUAGES_TO_CODES["Arabic"]
TARGET = LIBRE_LANGUAGES_TO_CODES["English"]
_OVER_LIMIT = re.compile(r"exceeds .*limit", re.IGNORECASE)


def _over_limit(reply: Reply) -> bool:
    return reply.status == 400 and bool(_OVER_LIMIT.search(reply.text))


def read_answer(reply: Reply) -> list[str]:
    data: Any = reply.json()
    if not isinstance(data, dict):
        raise RetryableResponse("unexpected JSON (no object)")
    if "error" in data and "translatedText" not in data:
        raise EngineRejected("libre", f"the server says: {data['error']}")
    translated = data.get("translatedText")
    if isinstance(translated, str):
        return [translated]
    if isinstance(translated, list) and all(isinstance(t, str) for t in translated):
        return translated
    raise RetryableResponse("no translatedText in the answer")


class LibreEngine(WebEngine):
    name = "libre"
    model = "libretranslate"
    default_url = None  # self-hosted: TARJAMA_LIBRE_URL
    default_max_chars = 10000
    separator = 0  # q is a list
    default_timeout = 120.0  # a CPU-only server takes a while over a long batch
    credentials = (Credential("api_key", LIBRE_ENV_VAR, "tarjama-libre-api-key", required=False),)

    def send(self, texts: list[str]) -> list[str]:
        body: dict[str, Any] = {
            "q": texts[0] if len(texts) == 1 else texts,
            "source": SOURCE,
            "target": TARGET,
            "format": "text",
        }
        if self.secret("api_key"):
            body["api_key"] = self.secret("api_key")
        return self.transport.call(
            "POST",
            join_url(self.url, "translate"),
            read_answer,
            json=body,
            size=sum(map(len, texts)),
            too_large=_over_limit,
        )


SPEC = web_spec(
    LibreEngine,
    summary="LibreTranslate server, JSON API (batched: a list of segments per request)",
    needs=f"TARJAMA_LIBRE_URL (your server); {LIBRE_ENV_VAR} or Secret block tarjama-libre-api-key if it requires a key",
    rate_limit=5.0,
    needs_url=True,
)
