"""``yandex``: the Yandex Translate API v1.5 (legacy keys).

The same request as deep-translator's ``YandexTranslator`` (``POST
https://translate.yandex.net/api/v1.5/tr.json/translate`` with form fields
``text``, ``format=plain``, ``lang=ar-en``, ``key``), but with several
``text`` fields per request (the API answers with one ``text`` entry per
field, up to 10,000 characters in all) and the key in the body. Key:
``YANDEX_API_KEY`` or Secret block ``tarjama-yandex-api-key``; base URL:
``TARJAMA_YANDEX_URL``.
"""

from __future__ import annotations

from typing import Any

from deep_translator.constants import BASE_URLS, YANDEX_ENV_VAR

from tarjama.translation.engines.base import Credential
from tarjama.translation.engines.transport import EngineRejected, Reply, RetryableResponse
from tarjama.translation.engines.web import WebEngine, join_url, web_spec


def read_answer(reply: Reply) -> list[str]:
    data: Any = reply.json()
    if not isinstance(data, dict):
        raise RetryableResponse("unexpected JSON (no object)")
    code = data.get("code", 200)
    if code == 429:
        raise RetryableResponse("Yandex is throttling (code 429)")
    if code != 200:
        raise EngineRejected("yandex", f"Yandex refused the request (code {code}): {data.get('message', '')}")
    texts = data.get("text")
    if not isinstance(texts, list):
        raise RetryableResponse("no text in the answer")
    return [str(t) for t in texts]


class YandexEngine(WebEngine):
    name = "yandex"
    model = "yandex-translate-v1.5"
    default_url = BASE_URLS["YANDEX"].format(version="v1.5", endpoint="")
    default_max_chars = 10000
    separator = 0
    credentials = (Credential("api_key", YANDEX_ENV_VAR, "tarjama-yandex-api-key"),)

    def send(self, texts: list[str]) -> list[str]:
        form = {"text": list(texts), "format": "plain", "lang": "ar-en", "key": self.secret("api_key")}
        return self.transport.call(
            "POST", join_url(self.url, "translate"), read_answer, data=form, size=sum(map(len, texts))
        )


SPEC = web_spec(
    YandexEngine,
    summary="Yandex Translate API v1.5 (batched: several texts, up to 10,000 characters per request)",
    needs=f"{YANDEX_ENV_VAR} or Secret block tarjama-yandex-api-key",
    rate_limit=5.0,
)
