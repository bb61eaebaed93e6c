"""Online engines built on deep-translator.

``google`` needs no key and is the default for users with internet access.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from deep_translator import GoogleTranslator

from tarjama.engines.base import EngineSpec, register


class GoogleEngine:
    """Google Translate's public web endpoint, as deep-translator calls it."""

    name = "google"
    model = "google-translate-web"

    def __init__(self) -> None:
        self._translator = GoogleTranslator(source="ar", target="en")

    def translate(self, sentences: Sequence[str]) -> Iterator[str]:
        for sentence in sentences:
            yield self._translator.translate(sentence)


register(
    EngineSpec(
        name="google",
        summary="Google Translate (web endpoint via deep-translator)",
        needs="internet access; no key",
        factory=GoogleEngine,
    )
)
