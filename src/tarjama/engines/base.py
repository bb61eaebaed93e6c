"""The engine protocol and the registry of engines by name.

Modelled on sacrebleu's metrics and OpusFilter's steps: every engine family
lives in its own module, implements one small protocol, and registers itself
under a name; the rest of tarjama only ever says ``create_engine("google")``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from tarjama.errors import TarjamaError


@runtime_checkable
class Engine(Protocol):
    """Translates Arabic sentences into English.

    ``name`` and ``model`` are recorded with every translation (and key the
    translation memory), so two engines or two models never share entries.
    ``translate`` yields one English string per input sentence, in order, as
    soon as each is ready: the caller stores each in the translation memory
    before asking for the next, so an interrupted run loses nothing.
    """

    name: str
    model: str

    def translate(self, sentences: Sequence[str]) -> Iterator[str]: ...


@dataclass(frozen=True)
class EngineSpec:
    """A registry entry: how to build an engine and how to tell whether it can run here."""

    name: str
    summary: str
    needs: str
    factory: Callable[..., Engine]
    readiness: Callable[[], str | None] = lambda: None  # None when ready, else what is missing


REGISTRY: dict[str, EngineSpec] = {}


def register(spec: EngineSpec) -> EngineSpec:
    if spec.name in REGISTRY:
        raise ValueError(f"engine {spec.name!r} registered twice")
    REGISTRY[spec.name] = spec
    return spec


def create_engine(name: str, **options: Any) -> Engine:
    """Build the engine registered as ``name``; unknown names list the known ones."""
    try:
        spec = REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise TarjamaError(f"unknown engine {name!r}; known engines: {known}") from None
    return spec.factory(**options)
