"""The base of every online engine: settings, credentials, transport and batching in one place.

Each web engine family (``google``, ``libre``, ``deepl``, ...) lives in its
own module and only says how to talk to its service: the endpoint, how a
batch of segments goes on the wire (``send``) and how the answer is read.
Everything else is shared:

- **settings** are keyword options (built by :mod:`tarjama.settings` from flags and
  ``TARJAMA_<ENGINE>_URL``, ``_MAX_CHARS``, ``_MAX_ITEMS``, ``_TIMEOUT``, ``_MODEL`` and
  ``TARJAMA_HTTP_TIMEOUT``/``_RETRIES``/``_BACKOFF``), else the engine's defaults; every base
  URL is configurable so tests and self-hosted services can point the real engine code elsewhere;
- **credentials** are keyword options too (the settings read their variables, the flow layer
  their Prefect Secret blocks); they are registered for redaction and never appear in ``repr``,
  messages or logs;
- **requests** go through one :class:`~tarjama.translation.engines.transport.Transport`
  (timeouts, retries, throttle) and **batches** through one
  :class:`~tarjama.translation.engines.batching.Batcher`.

The wire protocols follow deep-translator 1.11.4 (same endpoints,
parameters and response fields; its base URLs and language codes are
reused), with keys moved out of URLs where the service allows it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

from tarjama.errors import TarjamaError
from tarjama.translation.engines.base import Credential, Engine, EngineSpec, EngineStats, Option
from tarjama.translation.engines.batching import Batcher
from tarjama.translation.engines.transport import RetryPolicy, Transport, safe_url


def env_prefix(engine: str) -> str:
    """``TARJAMA_OPENAI_COMPAT`` for ``openai-compat``."""
    return "TARJAMA_" + engine.upper().replace("-", "_")


def join_url(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


class WebEngine(Engine):
    """Base class of the online engines (see the module docstring for what it provides).

    Subclasses set the class attributes below and implement :meth:`send`; engine-specific options
    (model, domain, region) go to :meth:`configure`. ``throttle`` (run before every request) may be
    set after construction: the flow layer attaches Prefect's rate limit here.
    """

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
        retries: int = 5,
        backoff: float = 1.0,
        throttle: Callable[[], None] | None = None,
        batch: bool = True,
        max_chars: int | None = None,
        max_items: int | None = None,
        **options: Any,
    ) -> None:
        self._secrets: dict[str, str | None] = {}
        for credential in self.credentials:
            value = options.pop(credential.option, None) or None
            if credential.required and not value:
                raise TarjamaError(credential.unset(self.name))
            self._secrets[credential.option] = value
        self.url: str = url or self.default_url or ""
        if not self.url:
            raise TarjamaError(
                f"engine {self.name} needs the service's base URL: set {env_prefix(self.name)}_URL or --engine-url"
            )
        self.configure(**options)  # engine-specific options (model, domain, region, ...)
        self.max_chars = max_chars or self.default_max_chars
        self.max_items = max_items or self.default_max_items
        policy = RetryPolicy(attempts=1 + retries, backoff=backoff)
        self.transport = Transport(
            self.name,
            timeout=timeout or self.default_timeout,
            retry=policy,
            throttle=throttle,
            secrets=self._secrets.values(),
        )
        self.batcher = Batcher(
            self.name,
            self.send,
            max_chars=self.max_chars,
            max_items=self.max_items,
            separator=self.separator,
            enabled=batch,
        )

    @classmethod
    def default_urls(cls) -> tuple[str, ...]:
        """The URLs this engine uses when none is set: translations from them are keyed in the memory
        without a URL (see :func:`tarjama.translation.memory.memory_model`)."""
        return (cls.default_url,) if cls.default_url else ()

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
    def stats(self) -> EngineStats:
        return EngineStats(self.transport.requests, self.transport.retries, self.batcher.mismatches)

    def signature(self) -> dict[str, str]:
        limits = f"{self.max_chars} chars" + (f", {self.max_items} items" if self.max_items else "")
        return super().signature() | {"url": safe_url(self.url), "batch": limits}

    def translate(self, sentences: Sequence[str]) -> Iterator[str]:
        return self.batcher.translate(sentences)

    def close(self) -> None:
        self.transport.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} model={self.model!r} url={safe_url(self.url)}>"


def lines(text: str) -> list[str]:
    """The non-empty lines of a newline-separated answer, stripped."""
    return [line.strip() for line in text.split("\n") if line.strip()]


def web_spec(
    engine: type[WebEngine],
    *,
    summary: str,
    needs: str,
    rate_limit: float,
    needs_url: bool = False,
    extra: tuple[Option, ...] = (),
    check: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> EngineSpec:
    """A web engine's spec: its settings, credentials and default rate limit (requests per second)."""
    prefix = env_prefix(engine.name)
    options = (
        Option("url", f"{prefix}_URL", str, required=needs_url),
        Option("max_chars", f"{prefix}_MAX_CHARS", int),
        Option("max_items", f"{prefix}_MAX_ITEMS", int),
        Option("timeout", f"{prefix}_TIMEOUT", float),
        *extra,
    )
    return EngineSpec(
        name=engine.name,
        summary=summary,
        needs=needs,
        factory=engine,
        options=options,
        credentials=engine.credentials,
        rate_limit=rate_limit,
        check=check,
    )
