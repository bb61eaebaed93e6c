"""``chatgpt`` and ``openai-compat``: chat-completion APIs (OpenAI, and servers that speak its protocol).

``chatgpt`` replaces deep-translator's ``ChatGptTranslator`` (which needs
the pre-1.0 ``openai`` package) with the same chat-completions call made
directly: ``POST <base>/chat/completions`` with ``Authorization: Bearer``.
``openai-compat`` is the same protocol for the local servers many offline
users already run: Ollama (``http://127.0.0.1:11434/v1``), llama.cpp's
``llama-server`` (``http://127.0.0.1:8080/v1``), vLLM
(``http://127.0.0.1:8000/v1``), LM Studio, ...

One sentence is sent with the local engine's translator prompt at
temperature 0 and cleaned the same way. A batch (``chatgpt`` by default;
``openai-compat`` only when ``TARJAMA_OPENAI_COMPAT_MAX_ITEMS`` is raised,
since small local models keep the format poorly) is sent as a JSON array
of Arabic strings, and the reply must be a JSON array of as many English
strings; anything else counts as a wrong number of segments, and the
batch is split. The model name is part of the translation memory key.

- ``chatgpt``: key ``OPENAI_API_KEY`` (or deep-translator's
  ``OPEN_API_KEY``) or Secret block ``tarjama-openai-api-key``; model
  ``TARJAMA_CHATGPT_MODEL`` (default ``gpt-4o-mini``); base URL
  ``TARJAMA_CHATGPT_URL`` (default ``https://api.openai.com/v1``).
- ``openai-compat``: base URL ``TARJAMA_OPENAI_COMPAT_URL`` and model
  ``TARJAMA_OPENAI_COMPAT_MODEL`` (both required; or ``--engine-url`` /
  ``--engine-model``); key ``OPENAI_COMPAT_API_KEY`` if the server wants one.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from tarjama.errors import TarjamaError
from tarjama.translation.engines.base import Credential, Option
from tarjama.translation.engines.local import SYSTEM_PROMPT, clean_output
from tarjama.translation.engines.transport import Reply, RetryableResponse
from tarjama.translation.engines.web import WebEngine, env_prefix, join_url, web_spec

BATCH_PROMPT = (
    "You are a professional translator. The user sends a JSON array of Arabic texts. Translate each "
    "into fluent, faithful English. Reply with a JSON array of English strings only: exactly one string "
    "per input text, in the same order, no notes, no code fences."
)
_CONTEXT_TOO_LONG = re.compile(r"context.length|maximum context|too many tokens|context window", re.IGNORECASE)


def _too_large(reply: Reply) -> bool:
    return reply.status == 400 and bool(_CONTEXT_TOO_LONG.search(reply.text))


def read_content(reply: Reply) -> str:
    data: Any = reply.json()
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise RetryableResponse("no choices[0].message.content in the answer") from None
    return content or ""


def parse_array(content: str) -> list[str]:
    """The JSON array of strings in a model's reply, or [] when there is none."""
    start, end = content.find("["), content.rfind("]")
    if start < 0 or end <= start:
        return []
    try:
        items = json.loads(content[start : end + 1])
    except ValueError:
        return []
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        return []
    return [" ".join(item.split()) for item in items]


class ChatEngine(WebEngine):
    """Translation by a chat-completions endpoint (see the module docstring)."""

    name = "chatgpt"
    default_url: ClassVar[str | None] = "https://api.openai.com/v1"
    default_model: ClassVar[str | None] = "gpt-4o-mini"
    default_max_chars = 4000
    default_max_items = 20
    separator = 0
    default_timeout = 120.0
    credentials = (Credential("api_key", "OPENAI_API_KEY", "tarjama-openai-api-key", fallback_env="OPEN_API_KEY"),)

    def configure(self, model: str | None = None, **options: Any) -> None:
        super().configure(**options)
        self.model = model or self.default_model or ""
        if not self.model:
            raise TarjamaError(
                f"engine {self.name} needs a model name: set {env_prefix(self.name)}_MODEL or --engine-model"
            )

    def send(self, texts: list[str]) -> list[str]:
        words = sum(len(text.split()) for text in texts)
        if len(texts) == 1:
            messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": texts[0]}]
        else:
            messages = [
                {"role": "system", "content": BATCH_PROMPT},
                {"role": "user", "content": json.dumps(texts, ensure_ascii=False)},
            ]
        body = {
            "model": self.model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": 64 + 4 * words + 16 * len(texts),
        }
        headers = {"Authorization": f"Bearer {self.secret('api_key')}"} if self.secret("api_key") else {}
        content = self.transport.call(
            "POST",
            join_url(self.url, "chat/completions"),
            read_content,
            json=body,
            headers=headers,
            size=sum(map(len, texts)),
            too_large=_too_large,
        )
        if len(texts) == 1:
            return [clean_output(content, texts[0])]
        return parse_array(content)


class OpenAICompatEngine(ChatEngine):
    name = "openai-compat"
    default_url = None  # TARJAMA_OPENAI_COMPAT_URL
    default_model = None  # TARJAMA_OPENAI_COMPAT_MODEL
    default_max_items = 1
    default_timeout = 300.0  # a CPU-only server can be slow
    credentials = (Credential("api_key", "OPENAI_COMPAT_API_KEY", "tarjama-openai-compat-api-key", required=False),)


CHATGPT_SPEC = web_spec(
    ChatEngine,
    summary="OpenAI chat completions (batched as JSON arrays, up to 20 texts per request)",
    needs="OPENAI_API_KEY or Secret block tarjama-openai-api-key; TARJAMA_CHATGPT_MODEL (default gpt-4o-mini)",
    rate_limit=3.0,
    extra=(Option("model", "TARJAMA_CHATGPT_MODEL"),),
)
SPEC = web_spec(
    OpenAICompatEngine,
    summary="a local OpenAI-compatible server (Ollama, llama.cpp server, vLLM), one sentence per request",
    needs="TARJAMA_OPENAI_COMPAT_URL (e.g. http://127.0.0.1:11434/v1) and TARJAMA_OPENAI_COMPAT_MODEL",
    rate_limit=10.0,
    needs_url=True,
    extra=(Option("model", "TARJAMA_OPENAI_COMPAT_MODEL", required=True),),
)
