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
class Credential:
    """A secret an engine needs: passed as ``option``, else read from ``env``.

    The flow layer looks up the Prefect Secret block ``block`` when ``env`` is
    not set and passes its value as ``option``; the value is never logged.
    """

    option: str  # keyword argument of the engine's factory, e.g. "api_key"
    env: str  # environment variable, e.g. "DEEPL_API_KEY"
    block: str  # Prefect Secret block name, e.g. "tarjama-deepl-api-key"
    what: str = "an API key"
    required: bool = True
    fallback_env: str | None = None  # an older variable name also accepted (deep-translator's)


@dataclass(frozen=True)
class EngineSpec:
    """A registry entry: how to build an engine and how to tell whether it can run here."""

    name: str
    summary: str
    needs: str
    factory: Callable[..., Engine]
    readiness: Callable[[], str | None] = lambda: None  # None when ready, else what is missing
    credentials: tuple[Credential, ...] = ()  # secrets the factory takes (web engines)
    settings: tuple[str, ...] = ()  # environment variables that configure it
    rate_limit: float | None = None  # default requests per second (web engines); None: not throttled


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
