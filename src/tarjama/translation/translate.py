"""Translate sentences through an engine, never paying twice for the same sentence.

The translation memory is consulted first; only sentences it lacks go to the
engine, each distinct sentence once, and each translation is stored the
moment the engine yields it. A run killed half-way therefore resumes where
it stopped. An answer that is no translation (empty, the Arabic sent back:
:func:`tarjama.translation.memory.kept`) is used for this run only: not
stored, so the next run asks for it again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tarjama.errors import TarjamaError, counted
from tarjama.translation.engines.base import Engine
from tarjama.translation.memory import TranslationMemory, kept

Progress = Callable[[int, int], None]  # (sentences done, sentences to translate)


@dataclass(frozen=True, slots=True)
class Translation:
    """One sentence's English, with the engine and model that produced it."""

    text: str
    engine: str
    model: str
    from_memory: bool


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
    return translate_missing(
        sentences,
        engine.name,
        engine.model,
        known,
        lambda: engine,
        lambda source, target: memory.store(engine.name, engine.model, source, target, url=url),
        on_progress,
    )


def translate_missing(
    sentences: Sequence[str],
    engine_name: str,
    model: str,
    known: Mapping[str, str],
    engine: Callable[[], Engine],
    store: Callable[[str, str], None],
    on_progress: Progress | None = None,
) -> list[Translation]:
    """Translations of ``sentences``: ``known`` ones as they are, each distinct other one from the engine.

    The engine is built (``engine()``) only if something is missing, so a warm rerun never loads a
    model; ``store`` keeps each new translation the moment it arrives, unless it is no translation
    (:func:`~tarjama.translation.memory.kept`): that one is returned all the same, but not stored.
    """
    missing = [s for s in dict.fromkeys(sentences) if s not in known]
    fresh: dict[str, str] = {}
    if on_progress:
        on_progress(0, len(missing))
    if missing:
        produced = engine().translate(missing)
        for done, source in enumerate(missing, start=1):
            try:
                target = next(produced)
            except StopIteration:
                raise TarjamaError(
                    f"engine {engine_name} returned {counted(done - 1, 'translation')} "
                    f"for {counted(len(missing), 'sentence')}"
                ) from None
            if kept(engine_name, source, target):
                store(source, target)
            fresh[source] = target
            if on_progress:
                on_progress(done, len(missing))
    return [Translation(known.get(s, fresh.get(s, "")), engine_name, model, s in known) for s in sentences]
