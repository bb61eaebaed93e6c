"""``mymemory``: the MyMemory translation memory API (free, no key).

The same request as deep-translator's ``MyMemoryTranslator`` (``GET
https://api.mymemory.translated.net/get?langpair=ar-SA|en-GB&q=...``,
translation in ``responseData.translatedText``), batched with newlines up
to MyMemory's limit (under 500 characters per request). MyMemory reports
quota and language errors inside an HTTP 200 (``responseStatus``); these
are read and raised instead of being returned as a "translation" (which is
what deep-translator does with its "MYMEMORY WARNING" text). An e-mail
address raises the free daily quota tenfold: ``MYMEMORY_EMAIL`` (sent as
``de=``, treated as a secret). Base URL: ``TARJAMA_MYMEMORY_URL``.
"""

from __future__ import annotations

from typing import Any

from deep_translator.constants import BASE_URLS, MY_MEMORY_LANGUAGES_TO_CODES

from tarjama.translation.engines.base import Credential
from tarjama.translation.engines.transport import EngineRejected, Reply, RetryableResponse
from tarjama.translation.engines.web import WebEngine, lines, web_spec

LANGPAIR = f"{MY_MEMORY_LANGUAGES_TO_CODES['arabic']}|{MY_MEMORY_LANGUAGES_TO_CODES['english']}"


def read_answer(reply: Reply) -> list[str]:
    data: Any = reply.json()
    if not isinstance(data, dict) or not isinstance(data.get("responseData"), dict):
        raise RetryableResponse("no responseData in the answer")
    status = str(data.get("responseStatus", "200"))
    detail = data.get("responseDetails") or data["responseData"].get("translatedText") or ""
    if status == "429":
        raise RetryableResponse(f"MyMemory is throttling: {detail}")
    if status != "200":
        raise EngineRejected("mymemory", f"MyMemory refused the request (status {status}): {detail}")
    text = data["responseData"].get("translatedText")
    if not isinstance(text, str):
        raise RetryableResponse("no translatedText in the answer")
    if text.startswith("MYMEMORY WARNING"):
        raise EngineRejected("mymemory", f"MyMemory quota exhausted: {text[:160]}")
    return lines(text)


class MyMemoryEngine(WebEngine):
    name = "mymemory"
    model = "mymemory-api"
    default_url = BASE_URLS["MYMEMORY"]
    default_max_chars = 499  # MyMemory refuses 500 characters or more
    separator = 1
    default_timeout = 30.0
    credentials = (
        Credential("email", "MYMEMORY_EMAIL", "tarjama-mymemory-email", what="an e-mail address", required=False),
    )

    def send(self, texts: list[str]) -> list[str]:
        query = "\n".join(texts)
        params = {"langpair": LANGPAIR, "q": query}
        if email := self.secret("email"):
            params["de"] = email
        return self.transport.call("GET", self.url, read_answer, params=params, size=len(query))


SPEC = web_spec(
    MyMemoryEngine,
    summary="MyMemory API (free; batched up to 499 characters per request)",
    needs="internet; no key (MYMEMORY_EMAIL raises the daily quota)",
    rate_limit=1.0,
)
