"""``microsoft``: Microsoft Translator (Azure AI Translator) v3.

The same request as deep-translator's ``MicrosoftTranslator`` (``POST
.../translate?api-version=3.0&from=ar&to=en`` with a JSON list of
``{"text": ...}``, the key in ``Ocp-Apim-Subscription-Key``, the region, if
any, in ``Ocp-Apim-Subscription-Region``), but with up to 1,000 texts and
50,000 characters per request (the service's limits) instead of one, and
without deep-translator's extra request for the language list at start-up.
Key: ``MICROSOFT_API_KEY`` or Secret block ``tarjama-microsoft-api-key``;
region: ``MICROSOFT_REGION`` (e.g. ``westeurope``, needed for regional
resources); base URL: ``TARJAMA_MICROSOFT_URL``.
"""

from __future__ import annotations

from typing import Any

from deep_translator.constants import BASE_URLS, MSFT_ENV_VAR

from tarjama.translation.engines.base import Credential, Option
from tarjama.translation.engines.transport import Reply, RetryableResponse
from tarjama.translation.engines.web import WebEngine, web_spec


def read_answer(reply: Reply) -> list[str]:
    data: Any = reply.json()
    if not isinstance(data, list):
        raise RetryableResponse("expected a JSON list")
    out = []
    for item in data:
        translations = item.get("translations") if isinstance(item, dict) else None
        if not translations:
            raise RetryableResponse("an item without translations")
        out.append(str(translations[0].get("text", "")))
    return out


class MicrosoftEngine(WebEngine):
    name = "microsoft"
    model = "microsoft-translator-v3"
    default_url = BASE_URLS["MICROSOFT_TRANSLATE"]
    default_max_chars = 50000
    default_max_items = 1000
    separator = 0
    credentials = (Credential("api_key", MSFT_ENV_VAR, "tarjama-microsoft-api-key"),)

    def configure(self, region: str | None = None, **options: Any) -> None:
        super().configure(**options)
        self.region = region or None

    def send(self, texts: list[str]) -> list[str]:
        headers = {"Ocp-Apim-Subscription-Key": self.secret("api_key") or ""}
        if self.region:
            headers["Ocp-Apim-Subscription-Region"] = self.region
        return self.transport.call(
            "POST",
            self.url,
            read_answer,
            params={"from": "ar", "to": "en"},
            json=[{"text": text} for text in texts],
            headers=headers,
            size=sum(map(len, texts)),
        )


SPEC = web_spec(
    MicrosoftEngine,
    summary="Microsoft Translator v3 (batched: up to 1,000 texts / 50,000 characters per request)",
    needs=f"{MSFT_ENV_VAR} or Secret block tarjama-microsoft-api-key; MICROSOFT_REGION for regional resources",
    rate_limit=10.0,
    extra=(Option("region", "MICROSOFT_REGION"),),
)
