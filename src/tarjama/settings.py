"""One typed settings object, built once from flags and the environment, passed to what needs it.

Sources, first found wins: a command-line flag, a ``TARJAMA_*`` variable (or a service's own key
variable such as ``DEEPL_API_KEY``), the default. Prefect Secret blocks are the last source of a
key; they need a Prefect API, so the flow layer adds them (:func:`tarjama.flows.limits.with_secret_blocks`)
where the engine is built. Nothing here writes the environment.

Keys are :class:`pydantic.SecretStr` and excluded from every dump, so a :class:`Settings` can travel
as a Prefect flow parameter without its keys reaching the Prefect database: a run re-reads them on
the machine that translates (its environment or its Secret blocks).

Why a loader instead of ``pydantic_settings.BaseSettings``: the per-engine variables
(``TARJAMA_<ENGINE>_URL`` ...) are declared by each engine, including plug-in engines, and a bad
value must give one line naming the variable, not a validation report.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from tarjama.article import Granularity, UnitTranslation
from tarjama.engines.base import EngineSpec, Option, all_specs, check_engine_name, get_spec
from tarjama.errors import TarjamaError

HOME_FOLDER = ".tarjama"
DEFAULT_DOWNLOAD_URL = "http://127.0.0.1:4201"

EngineValue = str | int | float


def resolve_home(environ: Mapping[str, str], cwd: Path) -> tuple[Path, str]:
    """Where the translation memory and the Prefect database live, and why there.

    ``$TARJAMA_HOME``; else the nearest ``.tarjama`` folder in the current directory or above it (a
    project's own home, found from any of its sub-folders); else the user's
    ``$XDG_DATA_HOME/tarjama`` (``~/.local/share/tarjama``), shared by every project of the user.
    """
    if environ.get("TARJAMA_HOME"):
        return Path(environ["TARJAMA_HOME"]).expanduser().absolute(), "TARJAMA_HOME"
    for folder in (cwd, *cwd.parents):
        if (folder / HOME_FOLDER).is_dir():
            return folder / HOME_FOLDER, f"nearest {HOME_FOLDER} folder"
    data = Path(environ.get("XDG_DATA_HOME") or Path(environ.get("HOME") or Path.home()) / ".local" / "share")
    return data / "tarjama", "user default (no TARJAMA_HOME, no .tarjama folder above the current directory)"


def _number(variable: str, raw: str, kind: type, allow_zero: bool = False) -> int | float:
    try:
        value = kind(raw)
    except ValueError:
        raise TarjamaError(f"{variable}={raw!r}: expected {'an integer' if kind is int else 'a number'}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise TarjamaError(f"{variable}={raw!r}: must be {'0 or ' if allow_zero else ''}a positive number")
    return value


def _option_value(option: Option, raw: str, source: str) -> EngineValue:
    if option.kind is str:
        return raw
    return _number(source, raw, option.kind)


class Settings(BaseModel):
    """Everything that shapes a run, typed; see the README's settings table for each variable."""

    model_config = ConfigDict(frozen=True)

    home: Path
    home_source: str = "given"
    memory: Path | None = None  # default: <home>/memory.sqlite
    engine: str = "auto"
    http_timeout: float | None = None  # TARJAMA_HTTP_TIMEOUT: per-request timeout of web engines (s)
    http_retries: int = 5  # TARJAMA_HTTP_RETRIES
    http_backoff: float = 1.0  # TARJAMA_HTTP_BACKOFF: first retry's wait (s)
    prefect_server_idle: float = 600.0  # TARJAMA_PREFECT_SERVER_IDLE: the shared Prefect server stops after (s)
    rate_limit: float | None = None  # --rate-limit / TARJAMA_RATE_LIMIT: wins over the per-engine rates
    engine_rates: dict[str, float] = Field(default_factory=dict)  # TARJAMA_RATE_LIMIT_<ENGINE>
    engines: dict[str, dict[str, EngineValue]] = Field(default_factory=dict)  # per engine: its options
    download_url: str = DEFAULT_DOWNLOAD_URL  # TARJAMA_DOWNLOAD_URL: where `tarjama serve` offers outputs
    checks: tuple[str, ...] | None = None  # --checks / TARJAMA_CHECKS: reference-free checks by name (None: all)
    rows: Granularity = "units"  # --rows / TARJAMA_ROWS: clause units regrouped to the reference, or sentences
    translate: UnitTranslation = UnitTranslation.UNITS  # --translate / TARJAMA_TRANSLATE: units alone, or sentences
    secrets: dict[str, SecretStr] = Field(default_factory=dict, exclude=True)  # by credential variable

    @property
    def memory_path(self) -> Path:
        return self.memory or self.home / "memory.sqlite"

    @property
    def prefect_home(self) -> Path:
        return self.home / "prefect"

    @classmethod
    def load(
        cls,
        environ: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        *,
        engine: str | None = None,
        engine_url: str = "",
        engine_model: str = "",
        model: Path | None = None,
        memory: Path | None = None,
        rate_limit: float | None = None,
        checks: str | None = None,
        rows: str | None = None,
        translate: str | None = None,
    ) -> Settings:
        """Settings from ``environ`` (default: the process environment) and the given flags.

        ``engine_url`` and ``engine_model`` set the URL and model of the engine chosen (``google``
        and ``local`` for ``auto``); an engine that takes no such setting is an error.
        """
        environ = os.environ if environ is None else environ
        home, home_source = resolve_home(environ, cwd or Path.cwd())
        chosen = check_engine_name(engine or environ.get("TARJAMA_ENGINE") or "auto")
        engines: dict[str, dict[str, EngineValue]] = {}
        secrets: dict[str, SecretStr] = {}
        rates: dict[str, float] = {}
        for spec in all_specs():
            values = engines.setdefault(spec.name, {})
            for option in spec.options:
                raw = environ.get(option.env, "").strip()
                if raw:
                    values[option.name] = _option_value(option, raw, option.env)
            for credential in spec.credentials:
                for variable in (credential.env, credential.fallback_env):
                    if variable and environ.get(variable) and credential.env not in secrets:
                        secrets[credential.env] = SecretStr(environ[variable])
            raw_rate = environ.get(rate_variable(spec.name), "").strip()
            if raw_rate:
                rates[spec.name] = _number(rate_variable(spec.name), raw_rate, float, allow_zero=True)
        target = "google" if chosen == "auto" else chosen
        for flag, key, value in (("--engine-url", "url", engine_url), ("--engine-model", "model", engine_model)):
            if value:
                if get_spec(target).option(key) is None:
                    raise TarjamaError(f"{flag}: engine {target} takes no {key}")
                engines[target][key] = value
        if engine_url:
            _check_url(engine_url, "--engine-url")
        for name, values in engines.items():
            if isinstance(values.get("url"), str):
                _check_url(str(values["url"]), get_spec(name).option("url").env)  # type: ignore[union-attr]
        if model is not None:
            engines["local"]["model_path"] = str(model)
        global_rate = environ.get("TARJAMA_RATE_LIMIT", "").strip()
        rate: float | None
        if rate_limit is not None:
            rate = _number("--rate-limit", f"{rate_limit}", float, allow_zero=True)
        else:
            rate = _number("TARJAMA_RATE_LIMIT", global_rate, float, allow_zero=True) if global_rate else None
        http: dict[str, Any] = {
            key: _number(variable, environ[variable].strip(), kind, allow_zero=key == "http_retries")
            for key, variable, kind in (
                ("http_timeout", "TARJAMA_HTTP_TIMEOUT", float),
                ("http_retries", "TARJAMA_HTTP_RETRIES", int),
                ("http_backoff", "TARJAMA_HTTP_BACKOFF", float),
                ("prefect_server_idle", "TARJAMA_PREFECT_SERVER_IDLE", float),
            )
            if environ.get(variable, "").strip()
        }
        memory = memory or (Path(environ["TARJAMA_MEMORY"]) if environ.get("TARJAMA_MEMORY") else None)
        chosen_checks = _check_names(checks if checks is not None else environ.get("TARJAMA_CHECKS"))
        granularity = _choice("--rows", rows, "TARJAMA_ROWS", environ, ("units", "sentences"))
        translate_by = _choice("--translate", translate, "TARJAMA_TRANSLATE", environ, tuple(UnitTranslation))
        return cls(
            home=home,
            home_source=home_source,
            memory=memory.absolute() if memory else None,
            engine=chosen,
            rate_limit=rate,
            engine_rates=rates,
            engines=engines,
            download_url=(environ.get("TARJAMA_DOWNLOAD_URL") or DEFAULT_DOWNLOAD_URL).rstrip("/"),
            checks=chosen_checks,
            rows="sentences" if granularity == "sentences" else "units",
            translate=UnitTranslation(translate_by or UnitTranslation.UNITS),
            secrets=secrets,
            **http,
        )

    def with_secrets(self, found: Mapping[str, str]) -> Settings:
        """A copy with keys found elsewhere (Prefect Secret blocks) for those not set."""
        merged = {name: SecretStr(value) for name, value in found.items()} | dict(self.secrets)
        return self.model_copy(update={"secrets": merged})

    def engine_rate(self, engine: str) -> tuple[float | None, str]:
        """Requests per second for ``engine`` and where that came from (None: not throttled)."""
        if self.rate_limit is not None:
            return self.rate_limit, "--rate-limit or TARJAMA_RATE_LIMIT"
        if engine in self.engine_rates:
            return self.engine_rates[engine], rate_variable(engine)
        return get_spec(engine).rate_limit, "default"

    def engine_options(self, engine: str) -> dict[str, Any]:
        """The keyword arguments that build ``engine``: its options, the HTTP policy, its keys."""
        if engine == "auto":
            return {"google": self.engine_options("google"), "local": self.engine_options("local")}
        spec = get_spec(engine)
        options: dict[str, Any] = dict(self.engines.get(engine, {}))
        if spec.rate_limit is not None:  # a web engine
            options.setdefault("timeout", self.http_timeout)
            options |= {"retries": self.http_retries, "backoff": self.http_backoff}
            options = {key: value for key, value in options.items() if value is not None}
        for credential in spec.credentials:
            if credential.env in self.secrets:
                options[credential.option] = self.secrets[credential.env].get_secret_value()
        return options

    def readiness(self, spec: EngineSpec) -> str | None:
        return spec.readiness(self.engine_options(spec.name))

    def describe(self) -> list[tuple[str, str]]:
        """Every effective setting as (name, value) lines, keys masked: for ``tarjama config``."""
        rows = [
            ("home", f"{self.home}  ({self.home_source})"),
            ("memory", str(self.memory_path)),
            ("prefect home", str(self.prefect_home)),
            ("engine", self.engine),
            (
                "http timeout / retries / backoff",
                f"{self.http_timeout or 'per engine'} / {self.http_retries} / {self.http_backoff}",
            ),
            ("rate limit", "per engine" if self.rate_limit is None else f"{self.rate_limit:g}/s"),
            ("download url", self.download_url),
            ("checks", "all" if self.checks is None else ",".join(self.checks) or "none"),
            ("rows / translate", f"{self.rows} / {self.translate}"),
        ]
        rows += [(f"rate limit {name}", f"{rate:g}/s") for name, rate in sorted(self.engine_rates.items())]
        for name, values in sorted(self.engines.items()):
            rows += [(f"{name}.{key}", str(value)) for key, value in sorted(values.items())]
        rows += [(name, "********") for name in sorted(self.secrets)]
        return rows


def _choice(
    flag: str, given: str | None, variable: str, environ: Mapping[str, str], allowed: tuple[str, ...]
) -> str | None:
    """A flag's value, else the variable's, checked against ``allowed``; ``None`` when neither is set."""
    source, raw = (flag, given) if given is not None else (variable, environ.get(variable, "").strip() or None)
    if raw is not None and raw not in allowed:
        raise TarjamaError(f"{source}={raw!r}: expected one of {', '.join(allowed)}")
    return raw


def _check_names(raw: str | None) -> tuple[str, ...] | None:
    """``numbers,language`` → those checks; ``none`` → no checks; unset → all (None)."""
    if raw is None or not raw.strip():
        return None
    if raw.strip() == "none":
        return ()
    from tarjama.checks import create_check

    names = tuple(dict.fromkeys(name.strip() for name in raw.split(",") if name.strip()))
    for name in names:
        create_check(name)  # an unknown name is a one-line error now, not after translating
    return names


def rate_variable(engine: str) -> str:
    """``TARJAMA_RATE_LIMIT_OPENAI_COMPAT`` for ``openai-compat``."""
    return "TARJAMA_RATE_LIMIT_" + engine.upper().replace("-", "_")


_HOST = re.compile(r"[A-Za-z0-9._-]+|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")
"""A host name (an IDN in its ``xn--`` form) or an IPv6 address: httpx percent-encodes any other character."""


def _check_url(url: str, source: str) -> None:
    """A base URL must be absolute http(s) with a usable host and port: anything else would only fail after retries."""
    import httpx

    try:
        parsed = httpx.URL(url)
    except Exception:
        parsed = None
    if (
        parsed is None
        or parsed.scheme not in ("http", "https")
        or not _HOST.fullmatch(parsed.raw_host.decode("ascii"))
        or not (parsed.port is None or 0 < parsed.port < 65536)
    ):
        raise TarjamaError(f"{source}={url!r}: not an http(s) URL (e.g. http://127.0.0.1:5000)")
