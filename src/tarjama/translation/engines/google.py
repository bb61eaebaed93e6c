"""``google``: Google Translate's public web endpoint, batched.

The same request as deep-translator's ``GoogleTranslator`` (``GET
https://translate.google.com/m?tl=en&sl=ar&q=...``, the translation read
from the page's ``div.t0`` or ``div.result-container``), but with the
sentences of a batch joined by newlines, which Google keeps, so a whole
article goes in one or two requests instead of one per sentence. Google
refuses texts of 5,000 characters or more, so a batch holds at most 4,999.
No key. Base URL: ``TARJAMA_GOOGLE_URL``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from bs4 import BeautifulSoup
from deep_translator.constants import BASE_URLS, GOOGLE_LANGUAGES_TO_CODES

from tarjama.translation.engines.transport import Reply, RetryableResponse, safe_url
from tarjama.translation.engines.web import WebEngine, lines, web_spec

SOURCE = GOOGLE_LANGUAGES_TO_CODES["arabic"]
TARGET = GOOGLE_LANGUAGES_TO_CODES["english"]


def read_page(reply: Reply) -> list[str]:
    """The translated lines of Google's mobile page."""
    if "</html>" not in reply.text.lower():  # a cut page still parses, with part of the text
        raise RetryableResponse("incomplete page (no closing </html>)")
    soup = BeautifulSoup(reply.text, "html.parser")
    element = soup.find("div", {"class": "t0"}) or soup.find("div", {"class": "result-container"})
    if element is None:
        raise RetryableResponse("no translation in the page (cut short, or not Google's result page)")
    return lines(element.get_text())


class GoogleEngine(WebEngine):
    """Google Translate's public web endpoint, as deep-translator calls it, with batching."""

    name = "google"
    model = "google-translate-web"
    default_url = BASE_URLS["GOOGLE_TRANSLATE"]
    default_max_chars = 4999  # Google refuses 5,000 characters or more
    separator = 1  # "\n"
    default_timeout = 30.0

    def send(self, texts: list[str]) -> list[str]:
        query = "\n".join(texts)
        return self.transport.call(
            "GET", self.url, read_page, params={"tl": TARGET, "sl": SOURCE, "q": query}, size=len(query)
        )


def answers(options: Mapping[str, Any], timeout: float = 3.0) -> str | None:
    """Ready only if the service answers now: Google needs no key, so reachability is what can be missing."""
    url = options.get("url") or GoogleEngine.default_url
    try:
        httpx.get(url, params={"tl": TARGET, "sl": SOURCE, "q": "."}, timeout=timeout)
    except httpx.HTTPError as problem:
        return f"{safe_url(url)} does not answer ({type(problem).__name__})"
    return None


SPEC = web_spec(
    GoogleEngine,
    summary="Google Translate, public web endpoint (batched: up to 4,999 characters per request)",
    needs="internet; no key",
    rate_limit=2.0,
    check=answers,
)
