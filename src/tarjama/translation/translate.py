"""Translate sentences through an engine, never paying twice for the same sentence.

The translation memory is consulted first; only sentences it lacks go to the
engine, each distinct sentence once, and each translation is stored the
moment the engine yields it. A run killed half-way therefore resumes where
it stopped. An answer that is no translation (empty, the Arabic sent back:
:func:`tarjama.translation.memory.kept`) is used for this run only: not
stored, so the next run asks for it again. An answer is cleaned of control
characters as it arrives (:func:`~tarjama.text.normalize.clean_translation`),
before it is used or stored. Calls running at once in one process (articles
on threads) do not pay twice either: a sentence one of them is asking the
engine for is not sent again by the others (:class:`InFlight`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tarjama.errors import TarjamaError, counted
from tarjama.text.normalize import clean_translation
from tarjama.translation.engines.base import Engine
from tarjama.translation.memory import TranslationMemory, kept, memory_model
from tarjama.translation.stopping import kept as kept_after_stop
from tarjama.translation.stopping import translating

Progress = Callable[[int, int], None]  # (sentences done, sentences to translate)


@dataclass(frozen=True, slots=True)
class Translation:
    """One sentence's English, with the engine and model that produced it."""

    text: str
    engine: str
    model: str
    from_memory: bool


@dataclass(frozen=True, slots=True)
class Translated:
    """What :func:`translate_missing` gives: a translation of each sentence, in order, and the distinct
    sentences whose answer was no translation (:func:`~tarjama.translation.memory.kept`), used in
    ``translations`` but not stored, so the next run asks for them again."""

    translations: list[Translation]
    unanswered: frozenset[str]


@dataclass(eq=False, slots=True)
class Claim:
    """One sentence one call is asking an engine for: the others wait on ``done`` for ``target``."""

    key: tuple[str, str, str]  # (engine, memory model field, source): as the memory keys its translation
    done: threading.Event = field(default_factory=threading.Event)
    target: str | None = None  # once done: None if the call that claimed it failed or was stopped
    stored: bool = False  # once done: whether the call that claimed it stored ``target`` (a translation)


class InFlight:
    """The sentences this process is asking engines for right now, keyed as the memory keys them.

    Articles built on threads look the memory up before any of them has translated: without this,
    articles sharing a paragraph each paid for it (docs/speed.md). A call claims the sentences nobody
    has claimed and sends only those; it waits for the others' only after its own are done, so two
    calls never wait on each other. A claim ends the moment its translation arrives (after the call
    that made it stored it), or, without one, when that call ends however it ends: a waiting call then
    translates the sentence itself.

    Not covered: calls in other processes (Dask workers), which find each other's work only once it
    is in the journals; a sentence stored between a call's memory lookup and its claim, sent again (a
    short window, but a process's first lookup reads the installed engines). A translation is stored
    by the call that paid for it, only: a call that waited for it does not store it again.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._claims: dict[tuple[str, str, str], Claim] = {}

    def claim(self, engine: str, model_field: str, sources: Iterable[str]) -> tuple[list[Claim], list[Claim]]:
        """The claims made on those of ``sources`` nobody has claimed (this call's to translate), and
        the claims of other calls on the rest (to wait for)."""
        mine: list[Claim] = []
        theirs: list[Claim] = []
        with self._lock:
            for source in dict.fromkeys(sources):
                key = (engine, model_field, source)
                if key in self._claims:
                    theirs.append(self._claims[key])
                else:
                    self._claims[key] = claim = Claim(key)
                    mine.append(claim)
        return mine, theirs

    def end(self, claim: Claim, target: str | None) -> None:
        """End ``claim`` with its translation, or with None when it will not come (a failure): the
        sentence is free to claim again before the waiting calls are woken."""
        with self._lock:
            if self._claims.get(claim.key) is claim:
                del self._claims[claim.key]
        if not claim.done.is_set():
            claim.target = target
            claim.done.set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._claims)


IN_FLIGHT = InFlight()
"""This process's sentences in flight, shared by every :func:`translate_missing` call."""


def translate_sentences(
    sentences: Sequence[str],
    engine: Engine,
    memory: TranslationMemory,
    on_progress: Progress | None = None,
) -> list[Translation]:
    """Translations of ``sentences`` in order, through ``memory``; ``on_progress`` hears of each new one.

    The memory keys them by the engine's name, model and (a web engine's) URL, as its signature gives them."""
    url = engine.signature().get("url")
    known = memory.lookup(engine.name, engine.model, sentences, url=url)
    translated = translate_missing(
        sentences,
        engine.name,
        engine.model,
        known,
        lambda: engine,
        lambda source, target: memory.store(engine.name, engine.model, source, target, url=url),
        on_progress,
        memory_field=memory_model(engine.name, engine.model, url),
    )
    return translated.translations


def translate_missing(
    sentences: Sequence[str],
    engine_name: str,
    model: str,
    known: Mapping[str, str],
    engine: Callable[[], Engine],
    store: Callable[[str, str], None],
    on_progress: Progress | None = None,
    *,
    memory_field: str | None = None,
) -> Translated:
    """Translations of ``sentences``: ``known`` ones as they are, each distinct other one from the engine.

    Each answer is cleaned first (:func:`~tarjama.text.normalize.clean_translation`; the memory serves
    ``known`` ones cleaned). The engine is built (``engine()``) only if something is missing, so a warm
    rerun never loads a model; ``store`` keeps each new translation the moment it arrives, unless it is no translation
    (:func:`~tarjama.translation.memory.kept`): that one is returned all the same, but not stored, and
    named in :attr:`Translated.unanswered` (as is one another call got and did not store either). A
    sentence another call in this process is translating (:data:`IN_FLIGHT`, keyed by the engine's
    name, ``memory_field`` — by default :func:`~tarjama.translation.memory.memory_model` of ``model`` —
    and the sentence) is not sent again: its translation is waited for once this call's own have
    arrived, and is that call's to store; if that call fails, this one translates the sentence itself.
    """
    missing = [s for s in dict.fromkeys(sentences) if s not in known]
    model_field = memory_model(engine_name, model) if memory_field is None else memory_field
    fresh: dict[str, str] = {}
    unanswered: set[str] = set()
    if on_progress:
        on_progress(0, len(missing))
    todo = missing
    while todo:
        mine, theirs = IN_FLIGHT.claim(engine_name, model_field, todo)
        try:
            if mine:
                _translate_claims(mine, engine_name, engine, store, fresh, len(missing), on_progress)
                unanswered.update(claim.key[2] for claim in mine if not claim.stored)
        finally:
            for claim in mine:
                IN_FLIGHT.end(claim, None)  # no-op for those translated
        todo = []
        for claim in theirs:
            claim.done.wait()
            source = claim.key[2]
            if claim.target is None:
                todo.append(source)  # that call failed: claim it again (or wait for whoever did)
                continue
            fresh[source] = claim.target
            if not claim.stored:
                unanswered.add(source)
            if on_progress:
                on_progress(len(fresh), len(missing))
    return Translated(
        [Translation(known.get(s, fresh.get(s, "")), engine_name, model, s in known) for s in sentences],
        frozenset(unanswered),
    )


def _translate_claims(
    claims: Sequence[Claim],
    engine_name: str,
    engine: Callable[[], Engine],
    store: Callable[[str, str], None],
    fresh: dict[str, str],
    total: int,
    on_progress: Progress | None,
) -> None:
    """Ask the engine for the ``claims``' sentences; store each translation (marking its claim
    :attr:`~Claim.stored`), then end its claim.

    Once the process stops translating (:mod:`tarjama.translation.stopping`) no request starts, and
    the stop waits for this call: the translations that still arrive are stored before it ends."""
    sources = [claim.key[2] for claim in claims]
    built = engine()  # not waited for by a stop: loading a local model sends nothing
    with translating():
        produced = built.translate(sources)
        for sent, (claim, source) in enumerate(zip(claims, sources), start=1):
            try:
                target = clean_translation(next(produced))
            except StopIteration:
                raise TarjamaError(
                    f"engine {engine_name} returned {counted(sent - 1, 'translation')} "
                    f"for {counted(len(sources), 'sentence')}"
                ) from None
            if kept(engine_name, source, target):
                store(source, target)
                claim.stored = True
                kept_after_stop()
            fresh[source] = target
            IN_FLIGHT.end(claim, target)
            if on_progress:
                on_progress(len(fresh), total)
