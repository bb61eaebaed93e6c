"""The base of every online engine: settings, credentials, transport and batching in one place.

Each web engine family (``google``, ``libre``, ``deepl``, ...) lives in its
own module and only says how to talk to its service: the endpoint, how a
batch of segments goes on the wire (``send``) and how the answer is read.
Everything else is shared:

- **settings** come from keyword options, else the environment
  (``TARJAMA_<ENGINE>_URL``, ``_MAX_CHARS``, ``_MAX_ITEMS``, ``_TIMEOUT``,
  ``_MODEL``; ``TARJAMA_HTTP_TIMEOUT``, ``TARJAMA_HTTP_RETRIES``,
  ``TARJAMA_HTTP_BACKOFF`` for all), else the engine's defaults; every base
  URL is configurable so tests and self-hosted services can point the real
  engine code elsewhere;
- **credentials** come from keyword options (the flow layer passes values
  it read from Prefect Secret blocks), else their environment variable; they
  are registered for redaction and never appear in ``repr``, messages or
  logs;
- **requests** go through one :class:`~tarjama.engines.transport.Transport`
  (timeouts, retries, throttle) and **batches** through one
  :class:`~tarjama.engines.batching.Batcher`.

The wire protocols follow deep-translator 1.11.4 (same endpoints,
parameters and response fields; its base URLs and language codes are
reused), with keys moved out of URLs where the service allows it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from tarjama.engines.base import Credential, EngineSpec, register
from tarjama.engines.batching import Batcher
from tarjama.engines.transport import RetryPolicy, Transport, env_float, safe_url
from tarjama.errors import TarjamaError


def env_prefix(engine: str) -> str:
    """``TARJAMA_OPENAI_COMPAT`` for ``openai-compat``."""
    return "TARJAMA_" + engine.upper().replace("-", "_")


def join_url(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def _setting(name: str, key: str, given: Any, default: Any) -> Any:
    if given is not None:
        return given
    value = os.environ.get(f"{env_prefix(name)}_{key}", "").strip()
    return value or default


def _number(name: str, key: str, given: Any, default: float | None, cast: Callable[[Any], Any] = float) -> Any:
    value = _setting(name, key, given, None)
    if value is None:
        return default
    try:
        number = cast(value)
    except (TypeError, ValueError):
        raise TarjamaError(f"{env_prefix(name)}_{key}={value!r}: expected a number") from None
    if number <= 0:
        raise TarjamaError(f"{env_prefix(name)}_{key}={value!r}: must be positive")
    return number


class WebEngine:
    """Base class of the online engines (see the module docstring for what it provides).

    Subclasses set the class attributes below and implement :meth:`send`.
    ``throttle`` (a callable run before every request, or None) may be set
    after construction: the flow layer attaches Prefect's rate limit here.
    """

    name: ClassVar[str]
    default_url: ClassVar[str | None] = None
    default_max_chars: ClassVar[int] = 4999
    default_max_items: ClassVar[int | None] = None
    separator: ClassVar[int] = 1  # length of the on-the-wire separator between segments (0: a list)
    default_timeout: ClassVar[float] = 60.0
    credentials: ClassVar[tuple[Credential, ...]] = ()
    model: str

    def __init__(
        self,
        *,
        url: str | None = None,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float | None = None,
        throttle: Callable[[], None] | None = None,
        batch: bool = True,
        max_chars: int | None = None,
        max_items: int | None = None,
        **options: Any,
    ) -> None:
        self._secrets: dict[str, str | None] = {}
        for credential in self.credentials:
            value = options.pop(credential.option, None) or os.environ.get(credential.env) or None
            if credential.fallback_env and not value:
                value = os.environ.get(credential.fallback_env) or None
            if credential.required and not value:
                raise TarjamaError(
                    f"engine {self.name} needs {credential.what}: set {credential.env} "
                    f"or create the Prefect Secret block {credential.block!r}"
                )
            self._secrets[credential.option] = value
        self.url = _setting(self.name, "URL", url, self.default_url)
        if not self.url:
            raise TarjamaError(
                f"engine {self.name} needs the service's base URL: set {env_prefix(self.name)}_URL or --engine-url"
            )
        self.configure(**options)  # engine-specific options (model, domain, region, ...)
        timeout = _number(self.name, "TIMEOUT", timeout, None) or env_float(
            ["TARJAMA_HTTP_TIMEOUT"], self.default_timeout
        )
        attempts = 1 + int(retries if retries is not None else env_float(["TARJAMA_HTTP_RETRIES"], 5))
        policy = RetryPolicy(
            attempts=attempts, backoff=backoff if backoff is not None else env_float(["TARJAMA_HTTP_BACKOFF"], 1.0)
        )
        self.transport = Transport(
            self.name, timeout=timeout, retry=policy, throttle=throttle, secrets=self._secrets.values()
        )
        self.batcher = Batcher(
            self.name,
            self.send,
            max_chars=_number(self.name, "MAX_CHARS", max_chars, self.default_max_chars, int),
            max_items=_number(self.name, "MAX_ITEMS", max_items, self.default_max_items, int),
            separator=self.separator,
            enabled=batch,
        )

    # -- what subclasses provide

    def configure(self, **options: Any) -> None:
        """Take engine-specific options; unknown ones are an error."""
        if options:
            raise TarjamaError(f"engine {self.name}: unknown option(s) {', '.join(sorted(options))}")

    def send(self, texts: list[str]) -> list[str]:
        """Translate ``texts`` in one request; return what came back, one string per segment found."""
        raise NotImplementedError

    # -- shared behaviour

    def secret(self, option: str) -> str | None:
        return self._secrets.get(option)

    @property
    def throttle(self) -> Callable[[], None] | None:
        return self.transport.throttle

    @throttle.setter
    def throttle(self, value: Callable[[], None] | None) -> None:
        self.transport.throttle = value

    @property
    def stats(self) -> dict[str, int]:
        """Requests sent, retries among them, and batches that came back with the wrong segment count."""
        return {
            "requests": self.transport.requests,
            "retries": self.transport.retries,
            "split_batches": self.batcher.mismatches,
        }

    def translate(self, sentences: Sequence[str]) -> Iterator[str]:
        return self.batcher.translate(sentences)

    def close(self) -> None:
        self.transport.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} model={self.model!r} url={safe_url(self.url)}>"


def lines(text: str) -> list[str]:
    """The non-empty lines of a newline-separated answer, stripped."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def readiness_for(
    engine: type[WebEngine], *, needs_url: bool = False, needs_model: str | None = None
) -> Callable[[], str | None]:
    """What is missing for ``engine`` to run here: a key, a URL or a model name (None when ready)."""

    def check(environ: Mapping[str, str] = os.environ) -> str | None:
        missing = []
        for credential in engine.credentials:
            present = environ.get(credential.env) or (credential.fallback_env and environ.get(credential.fallback_env))
            if credential.required and not present:
                missing.append(f"{credential.env} not set (or Secret block {credential.block})")
        if needs_url and not environ.get(f"{env_prefix(engine.name)}_URL"):
            missing.append(f"{env_prefix(engine.name)}_URL not set")
        if needs_model and not environ.get(f"{env_prefix(engine.name)}_MODEL"):
            missing.append(f"{env_prefix(engine.name)}_MODEL not set")
        return "; ".join(missing) or None

    return check


def register_web(
    engine: type[WebEngine],
    *,
    summary: str,
    needs: str,
    rate_limit: float,
    needs_url: bool = False,
    needs_model: str | None = None,
) -> EngineSpec:
    """Register a web engine with its credentials, settings and default rate limit (requests per second)."""
    prefix = env_prefix(engine.name)
    settings = tuple(f"{prefix}_{key}" for key in ("URL", "MAX_CHARS", "MAX_ITEMS", "TIMEOUT"))
    if needs_model is not None:
        settings += (f"{prefix}_MODEL",)
    return register(
        EngineSpec(
            name=engine.name,
            summary=summary,
            needs=needs,
            factory=engine,
            readiness=readiness_for(engine, needs_url=needs_url, needs_model=needs_model),
            credentials=engine.credentials,
            settings=settings,
            rate_limit=rate_limit,
        )
    )
