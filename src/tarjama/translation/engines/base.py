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
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from importlib.util import find_spec
from typing import Any, ClassVar, TypeAlias

from tarjama.errors import TarjamaError

ENTRY_POINT_GROUP = "tarjama.engines"
log = logging.getLogger("tarjama.translation.engines")

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

    ``name`` and ``model`` are recorded with every translation (and key the translation memory, with
    the ``url`` of :meth:`signature` where it is not the engine's default), so two engines, two models
    or two servers never share entries. :meth:`translate` yields one English string
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

    def unset(self, engine: str) -> str:
        """What a user is told when ``engine`` lacks this secret."""
        return f"engine {engine} needs {self.what}: set {self.env} or create the Prefect Secret block {self.block!r}"


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
    keeps_non_answers: bool = False  # True: an answer that is no translation (empty, the Arabic) is kept in the memory
    requires: tuple[tuple[str, str], ...] = ()  # (module it imports when built, what to say when it is missing)

    def option(self, name: str) -> Option | None:
        return next((option for option in self.options if option.name == name), None)

    def setup_problem(self, options: Mapping[str, Any], *, modules: bool = True) -> str | None:
        """What no run of this engine could do without: a required option unset, a module not installed
        (``modules``: on this machine; a Dask cluster's workers have their own). Cheap and certain, so a run
        checks it before it starts anything; keys are not checked here, since a Prefect Secret block the flow
        reads may hold them."""
        missing = [f"{o.env} not set" for o in self.options if o.required and not options.get(o.name)]
        missing += [message for module, message in self.requires if modules and not _installed(module)]
        return "; ".join(missing) or None

    def unset_credentials(self, options: Mapping[str, Any]) -> list[Credential]:
        """The required secrets ``options`` lack."""
        return [c for c in self.credentials if c.required and not options.get(c.option)]

    def readiness(self, options: Mapping[str, Any]) -> str | None:
        """What is missing for this engine to run with ``options`` (None when ready)."""
        missing = [f"{c.env} not set (or Secret block {c.block})" for c in self.unset_credentials(options)]
        missing += filter(None, [self.setup_problem(options)])
        if not missing and self.check is not None:
            return self.check(options)
        return "; ".join(missing) or None


def _installed(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it (a dotted name's missing parent: not installed)."""
    try:
        return find_spec(module) is not None
    except (ImportError, ValueError):
        return False


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


def get_spec(name: str) -> EngineSpec:
    """The engine's spec, importing its module on first use; a plug-in that cannot be used: its one-line error."""
    check_engine_name(name)
    found = _load(name)
    if isinstance(found, str):
        raise TarjamaError(f"engine {name}: {found}")
    return found


@cache
def _load(name: str) -> EngineSpec | str:
    """The engine's spec, or why the plug-in of that name cannot be used (a clause): looked up once per process."""
    if name in BUILTIN_ENGINES:
        module, _, attribute = BUILTIN_ENGINES[name].partition(":")
        spec: EngineSpec = getattr(importlib.import_module(module), attribute or "SPEC")
        return spec
    (point,) = [p for p in installed_engines() if p.name == name][:1]
    try:
        loaded = point.load()
    except Exception as failure:  # a broken plug-in must not take tarjama down with a traceback
        return f"its entry point {point.value} failed to load: {type(failure).__name__}: {failure}"
    problem = _plugin_problem(name, loaded)
    if problem is None:
        return loaded
    return f"entry point {point.value}: {problem}"


def _plugin_problem(name: str, spec: object) -> str | None:
    """What is wrong with what a plug-in's entry point names, seen before any engine is built."""
    if not isinstance(spec, EngineSpec):
        return f"names a {type(spec).__name__}, not a tarjama EngineSpec"
    if spec.name != name:
        return f"its EngineSpec is named {spec.name!r}, not {name!r}"
    if isinstance(spec.factory, type) and issubclass(spec.factory, Engine):
        return _engine_problem(spec.factory, name)
    return None


def _engine_problem(engine: object, name: str) -> str | None:
    """Why ``engine`` (a class, or one built) cannot be recorded as the engine ``name``: its class must set
    ``name`` to the spec's name, and an engine built must have a ``model``.

    Every translation is stored under the engine's name and model: a missing one failed deep in a run
    with a long traceback, and a name other than the spec's was looked up as an unknown engine."""
    kind = engine if isinstance(engine, type) else type(engine)
    named = getattr(engine, "name", None)
    if named is None:
        return f"its Engine class {kind.__name__} sets no class attribute name (it must be {name!r})"
    if named != name:
        return f"its Engine class {kind.__name__} is named {named!r}, not {name!r} as its EngineSpec"
    model = getattr(engine, "model", None)
    if not isinstance(engine, type) and not (isinstance(model, str) and model):  # a class may set it in __init__
        return f"its Engine class {kind.__name__} sets no model (a non-empty string such as {name + '-1'!r})"
    return None


def all_specs() -> list[EngineSpec]:
    """Every engine that can be used. A plug-in that cannot is left out, with one warning line: only
    choosing it fails (with :func:`get_spec`'s error); ``tarjama engines`` lists it (:func:`broken_engines`)."""
    found = []
    for name in engine_names():
        spec = _load(name)
        if isinstance(spec, EngineSpec):
            found.append(spec)
        else:
            _warn(name, spec)
    return found


@cache
def _warn(name: str, problem: str) -> None:
    log.warning("engine %s: %s; left out (`tarjama engines` lists it)", name, problem)


def broken_engines() -> dict[str, str]:
    """The installed engines that cannot be used, by name: why each cannot (a clause)."""
    return {name: found for name in engine_names() if isinstance(found := _load(name), str)}


def engine_signature(name: str, options: Mapping[str, Any]) -> dict[str, str]:
    """The settings that shape the output of the engine ``options`` build (:meth:`Engine.signature`),
    without loading a local model: its model is all that shapes it.

    A corpus driver needs the model to look translations up in the memory before any worker builds the
    engine, and records the whole signature with each article's results.
    """
    spec = get_spec(name)
    if spec.model_of is not None:
        return {"engine": name, "model": spec.model_of(options)}
    with create_engine(name, **options) as engine:
        return engine.signature()


def create_engine(name: str, **options: Any) -> Engine:
    """Build the engine called ``name`` with ``options`` (its factory's keyword arguments).

    A plug-in's engine is checked as built: an engine without ``name`` or ``model``, or named otherwise
    than its spec, is one line naming the plug-in, not a traceback from deep in a run."""
    engine = get_spec(name).factory(**options)
    if name not in BUILTIN_ENGINES:  # auto's factory builds google or local: named as the engine chosen
        if not isinstance(engine, Engine):
            problem: str | None = f"its factory built a {type(engine).__name__}, not a tarjama Engine"
        else:
            problem = _engine_problem(engine, name)
        if problem is not None:
            if isinstance(engine, Engine):
                engine.close()
            raise TarjamaError(f"engine {name}: {problem}")
    return engine
