"""The engine base class and the table of engines by name.

Modelled on sacrebleu's metrics and OpusFilter's steps: every engine family lives in its own
module, subclasses :class:`Engine`, and describes itself in a module-level ``SPEC``; the rest of
tarjama only ever says ``create_engine("google", ...)``. Built-in engines are a name → module table
imported lazily (so ``tarjama --help`` and a misspelt ``--engine`` answer at once); third-party
engines arrive through the entry-point group ``tarjama.engines``, each entry point naming an
:class:`EngineSpec`.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar, TypeAlias

from tarjama.errors import TarjamaError

ENTRY_POINT_GROUP = "tarjama.engines"

BUILTIN_ENGINES: Mapping[str, str] = {
    "auto": "tarjama.translation.engines.auto",
    "local": "tarjama.translation.engines.local",
    "google": "tarjama.translation.engines.google",
    "mymemory": "tarjama.translation.engines.mymemory",
    "libre": "tarjama.translation.engines.libre",
    "deepl": "tarjama.translation.engines.deepl",
    "microsoft": "tarjama.translation.engines.microsoft",
    "qcri": "tarjama.translation.engines.qcri",
    "yandex": "tarjama.translation.engines.yandex",
    "baidu": "tarjama.translation.engines.baidu",
    "chatgpt": "tarjama.translation.engines.openai_compat:CHATGPT_SPEC",
    "openai-compat": "tarjama.translation.engines.openai_compat",
}
"""Built-in engines in the order ``tarjama engines`` lists them: ``module`` (its ``SPEC``) or ``module:attribute``."""

Throttle: TypeAlias = Callable[[], None]


@dataclass(frozen=True)
class EngineStats:
    """What an engine spent: requests sent, retries among them, batches split after a wrong segment count."""

    requests: int = 0
    retries: int = 0
    split_batches: int = 0

    def __sub__(self, earlier: EngineStats) -> EngineStats:
        return EngineStats(
            self.requests - earlier.requests,
            self.retries - earlier.retries,
            self.split_batches - earlier.split_batches,
        )


class Engine(ABC):
    """Translates Arabic sentences into English.

    ``name`` and ``model`` are recorded with every translation (and key the translation memory),
    so two engines or two models never share entries. :meth:`translate` yields one English string
    per input sentence, in order, as soon as each is ready: the caller stores each in the
    translation memory before asking for the next, so an interrupted run loses nothing.

    The defaults suit an in-process engine: no requests to count, nothing to throttle, nothing to
    close. Web engines override them.
    """

    name: ClassVar[str]
    model: str
    throttle: Throttle | None = None  # run before every request by engines that send requests
    thread_safe: ClassVar[bool] = True  # False: one translate() at a time per engine (a local model)

    @abstractmethod
    def translate(self, sentences: Sequence[str]) -> Iterator[str]: ...

    @property
    def stats(self) -> EngineStats:
        return EngineStats()

    def signature(self) -> dict[str, str]:
        """The settings that shape this engine's output, recorded with a run's results."""
        return {"engine": self.name, "model": self.model}

    def close(self) -> None:
        """Release connections or memory; the run calls it when it is done with the engine."""
        return None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@dataclass(frozen=True)
class Credential:
    """A secret an engine needs, passed to its factory as ``option``.

    Its value comes from the environment variable ``env`` (or the older ``fallback_env``), else
    from the Prefect Secret block ``block`` (read by the flow layer); it is never logged.
    """

    option: str  # keyword argument of the engine's factory, e.g. "api_key"
    env: str  # environment variable, e.g. "DEEPL_API_KEY"
    block: str  # Prefect Secret block name, e.g. "tarjama-deepl-api-key"
    what: str = "an API key"
    required: bool = True
    fallback_env: str | None = None  # an older variable name also accepted (deep-translator's)


@dataclass(frozen=True)
class Option:
    """A setting of an engine: a keyword argument of its factory, read from ``env`` when not given as a flag."""

    name: str  # keyword argument, e.g. "url"
    env: str  # environment variable, e.g. "TARJAMA_LIBRE_URL"
    kind: type = str  # str, int or float
    required: bool = False  # readiness reports it missing when unset


@dataclass(frozen=True)
class EngineSpec:
    """A table entry: how to build an engine and what it needs."""

    name: str
    summary: str
    needs: str
    factory: Callable[..., Engine]
    options: tuple[Option, ...] = ()
    credentials: tuple[Credential, ...] = ()
    rate_limit: float | None = None  # default requests per second (web engines); None: not throttled
    check: Callable[[Mapping[str, Any]], str | None] | None = None  # extra readiness check on the options
    model_of: Callable[[Mapping[str, Any]], str] | None = None  # the model name, for engines costly to build
    memory_revision: str | None = None  # a change of output for the same model: keys its memory entries apart
    reusable: Callable[[str, str], bool] | None = None  # (source, translation) stored before the revision: still valid?

    def option(self, name: str) -> Option | None:
        return next((option for option in self.options if option.name == name), None)

    def readiness(self, options: Mapping[str, Any]) -> str | None:
        """What is missing for this engine to run with ``options`` (None when ready)."""
        missing = [
            f"{c.env} not set (or Secret block {c.block})"
            for c in self.credentials
            if c.required and not options.get(c.option)
        ]
        missing += [f"{o.env} not set" for o in self.options if o.required and not options.get(o.name)]
        if not missing and self.check is not None:
            return self.check(options)
        return "; ".join(missing) or None


@cache
def installed_engines() -> tuple[EntryPoint, ...]:
    """The engines installed through entry points, looked up once: each lookup reads every installed
    package's metadata (a tenth of a second), and settings ask for engine names a dozen times."""
    return tuple(entry_points(group=ENTRY_POINT_GROUP))


def engine_names() -> list[str]:
    """Every engine's name: the built-in ones, then those installed through entry points."""
    installed = [point.name for point in installed_engines() if point.name not in BUILTIN_ENGINES]
    return [*BUILTIN_ENGINES, *sorted(installed)]


def check_engine_name(name: str) -> str:
    """``name`` if an engine of that name exists, else a one-line error listing the known ones."""
    if name not in engine_names():
        raise TarjamaError(f"unknown engine {name!r}; known engines: {', '.join(engine_names())}")
    return name


@cache
def get_spec(name: str) -> EngineSpec:
    """The engine's spec, importing its module on first use."""
    check_engine_name(name)
    if name in BUILTIN_ENGINES:
        module, _, attribute = BUILTIN_ENGINES[name].partition(":")
        spec = getattr(importlib.import_module(module), attribute or "SPEC")
    else:
        (point,) = [p for p in installed_engines() if p.name == name][:1]
        try:
            spec = point.load()
        except Exception as problem:  # a broken plug-in must not take tarjama down with a traceback
            raise TarjamaError(f"engine {name}: its entry point {point.value} failed to load: {problem}") from None
        if not isinstance(spec, EngineSpec):
            raise TarjamaError(f"engine {name}: entry point {point.value} is not a tarjama EngineSpec")
    if spec.name != name:
        raise TarjamaError(f"engine {name}: its spec calls itself {spec.name!r}")
    return spec


def all_specs() -> list[EngineSpec]:
    return [get_spec(name) for name in engine_names()]


def engine_signature(name: str, options: Mapping[str, Any]) -> dict[str, str]:
    """The settings that shape the output of the engine ``options`` build (:meth:`Engine.signature`),
    without loading a local model: its model is all that shapes it.

    A corpus driver needs the model to look translations up in the memory before any worker builds the
    engine, and records the whole signature with each article's results.
    """
    spec = get_spec(name)
    if spec.model_of is not None:
        return {"engine": name, "model": spec.model_of(options)}
    with spec.factory(**options) as engine:
        return engine.signature()


def create_engine(name: str, **options: Any) -> Engine:
    """Build the engine called ``name`` with ``options`` (its factory's keyword arguments)."""
    return get_spec(name).factory(**options)
