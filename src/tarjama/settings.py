"""One typed settings object, built once from flags and the environment, passed to what needs it.

Every setting has one precedence, first found wins: its command-line flag, its environment variable
(``TARJAMA_*``, or a service's own key variable such as ``DEEPL_API_KEY``), its Prefect Secret block
(keys only), its default. The settings are declared once, in :func:`setting_defs`; the loader, ``tarjama
config``, the settings page of the docs (:func:`settings_markdown`) and the precedence test all read
that declaration, so they cannot drift apart. Prefect Secret blocks need a Prefect API, so the flow
layer adds them (:func:`tarjama.flows.limits.with_secret_blocks`) where the engine is built. Nothing
here writes the environment.

Keys are :class:`pydantic.SecretStr` and excluded from every dump, so a :class:`Settings` can travel
as a Prefect flow parameter without its keys reaching the Prefect database: a run re-reads them on
the machine that translates (the environment of its process, then its Secret blocks).

Why a loader instead of ``pydantic_settings.BaseSettings``: the per-engine variables
(``TARJAMA_<ENGINE>_URL`` ...) are declared by each engine, including plug-in engines, and a bad
value must give one line naming the variable, not a validation report.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import socket
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from tarjama.errors import TarjamaError
from tarjama.home import DEFAULT, resolve_home
from tarjama.text.article import Granularity, UnitTranslation
from tarjama.translation.engines.base import EngineSpec, Option, all_specs, engine_names, get_spec

DEFAULT_DOWNLOAD_URL = "http://127.0.0.1:4201"
MASK = "********"
PROBE_TIMEOUT_S = 3.0

EngineValue = str | int | float


# --- the declaration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingDef:
    """One setting: where it can be given, in precedence order, and what it is."""

    key: str  # its name in `tarjama config`: "engine", "libre.url", "deepl.api_key"
    env: str  # its environment variable
    help: str
    default: str  # as the docs and `tarjama config` show it
    kind: str  # what values it takes: engine, path, gguf, url, number, count, rate, checks, choice, text, secret
    flag: str | None = None  # its command-line flag, if any
    keyword: str | None = None  # the :meth:`Settings.load` argument the flag is passed as
    engine: str | None = None  # the flag sets this engine's option when this engine is the one chosen
    block: str | None = None  # its Prefect Secret block (keys)
    choices: tuple[str, ...] = ()


GLOBAL_SETTINGS: tuple[SettingDef, ...] = (
    SettingDef(
        "home",
        "TARJAMA_HOME",
        "Where the translation memory, the Prefect database and caches of plots and scores live (a run's article shards are "
        "in <out>/.shards).",
        "nearest .tarjama folder above the current one, else ~/.local/share/tarjama",
        "path",
    ),
    SettingDef(
        "memory", "TARJAMA_MEMORY", "Translation memory (SQLite file).", "<home>/memory.sqlite", "path", "--memory"
    ),
    SettingDef(
        "engine", "TARJAMA_ENGINE", "Translation engine (`tarjama engines` lists them).", "auto", "engine", "--engine"
    ),
    SettingDef(
        "http_timeout",
        "TARJAMA_HTTP_TIMEOUT",
        "Per-request timeout of web engines, in seconds.",
        "per engine",
        "number",
    ),
    SettingDef("http_retries", "TARJAMA_HTTP_RETRIES", "Retries of a failed request to a web engine.", "5", "count"),
    SettingDef("http_backoff", "TARJAMA_HTTP_BACKOFF", "First retry's wait, in seconds (doubles).", "1", "number"),
    SettingDef(
        "prefect_server_idle",
        "TARJAMA_PREFECT_SERVER_IDLE",
        "Seconds the Prefect server shared by consecutive commands stays up with nothing to do.",
        "600",
        "number",
    ),
    SettingDef(
        "stop_wait",
        "TARJAMA_STOP_WAIT",
        "Seconds a run stopped by Ctrl-C or SIGTERM waits for the answers to requests in flight (kept; a second "
        "Ctrl-C does not wait).",
        "10",
        "number",
    ),
    SettingDef(
        "preload",
        "TARJAMA_PRELOAD",
        "Keep a warm process per home that later `tarjama run` commands fork from, skipping the imports.",
        "on",
        "choice",
        choices=("on", "off"),
    ),
    SettingDef(
        "rate_limit",
        "TARJAMA_RATE_LIMIT",
        "Requests per second for any web engine (0: off); wins over the per-engine rates.",
        "per engine",
        "rate",
        "--rate-limit",
    ),
    SettingDef(
        "download_url",
        "TARJAMA_DOWNLOAD_URL",
        "Where `tarjama serve` offers outputs; runs link their files there.",
        DEFAULT_DOWNLOAD_URL,
        "url",
    ),
    SettingDef(
        "checks",
        "TARJAMA_CHECKS",
        "Reference-free checks, comma-separated (`tarjama run --help` names them), or `none`.",
        "all",
        "checks",
        "--checks",
    ),
    SettingDef(
        "rows",
        "TARJAMA_ROWS",
        "A row's Arabic: clause units regrouped to the reference's sentences, or whole sentences.",
        "units",
        "choice",
        "--rows",
        choices=("units", "sentences"),
    ),
    SettingDef(
        "translate",
        "TARJAMA_TRANSLATE",
        "With rows of units: translate each unit alone, or each sentence whole.",
        "units",
        "choice",
        "--translate",
        choices=tuple(UnitTranslation),
    ),
)

_OPTION_FLAGS = {"url": ("--engine-url", "engine_url"), "model": ("--engine-model", "engine_model")}
_OPTION_HELP = {
    "url": "Base URL of the service.",
    "max_chars": "Most characters in one request.",
    "max_items": "Most segments in one request.",
    "timeout": "Per-request timeout, in seconds.",
    "model": "Model name.",
    "model_path": "GGUF model file.",
    "threads": "CPU threads.",
    "model_dir": "Folder of the default model.",
    "region": "Azure region of the key.",
    "domain": "QCRI domain.",
}
_KINDS = {str: "text", int: "count", float: "number"}


def _option_def(spec: EngineSpec, option: Option) -> SettingDef:
    flag, keyword = _OPTION_FLAGS.get(option.name, (None, None))
    engine = spec.name if flag else None
    if (spec.name, option.name) == ("local", "model_path"):
        flag, keyword = "--model", "model"
    kind = "url" if option.name == "url" else "gguf" if option.name == "model_path" else _KINDS[option.kind]
    return SettingDef(
        f"{spec.name}.{option.name}",
        option.env,
        _OPTION_HELP.get(option.name, option.name),
        "required" if option.required else DEFAULT,
        "path" if option.name == "model_dir" else kind,
        flag,
        keyword,
        engine,
    )


def engine_defs(spec: EngineSpec) -> list[SettingDef]:
    """An engine's settings: its options, its rate limit (web engines), its keys."""
    found = [_option_def(spec, option) for option in spec.options]
    if spec.rate_limit is not None:
        found.append(
            SettingDef(
                f"{spec.name}.rate_limit",
                rate_variable(spec.name),
                "Requests per second (0: off).",
                f"{spec.rate_limit:g}",
                "rate",
                "--rate-limit",
                "rate_limit",
            )
        )
    found += [
        SettingDef(
            f"{spec.name}.{c.option}",
            c.env,
            f"{c.what[0].upper()}{c.what[1:]}{'' if c.required else ' (optional)'}.",
            "not set",
            "secret",
            block=c.block,
        )
        for c in spec.credentials
    ]
    return found


def general_defs() -> list[SettingDef]:
    """The general settings (no engine's), whose flag is passed under the setting's own name."""
    return [d if d.flag is None else dataclasses.replace(d, keyword=d.key) for d in GLOBAL_SETTINGS]


def setting_defs() -> list[SettingDef]:
    """Every setting, the general ones first, then each engine's."""
    return general_defs() + [d for spec in all_specs() for d in engine_defs(spec)]


# --- loading ---------------------------------------------------------------------------------------


def _number(variable: str, raw: str, kind: type, allow_zero: bool = False) -> int | float:
    try:
        value = kind(raw)
    except ValueError:
        raise TarjamaError(f"{variable}={raw!r}: expected {'an integer' if kind is int else 'a number'}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise TarjamaError(f"{variable}={raw!r}: must be {'0 or ' if allow_zero else ''}a positive number")
    return value


def _option_value(option: Option, raw: str, source: str) -> EngineValue:
    if option.name == "model_path":
        return str(check_model_file(Path(raw), source))
    if option.kind is str:
        return raw
    return _number(source, raw, option.kind)


def _given(flag: str | None, value: object, env: str, environ: Mapping[str, str]) -> tuple[str | None, str]:
    """The raw value of a setting and where it came from: its flag if given, else its variable, else None."""
    if value is not None and value != "" and flag is not None:
        return str(value), flag
    raw = environ.get(env, "").strip()
    return (raw, env) if raw else (None, DEFAULT)


def _general_value(definition: SettingDef, raw: str, source: str, cwd: Path) -> Any:
    """A general setting's value from its text, checked as its kind says (a bad one: one line naming ``source``).

    A path is made absolute against ``cwd`` once, here: the settings travel to Dask workers and warm
    processes whose current directory is another, and must name the same files there."""
    match definition.kind:
        case "engine":
            return check_engine_name(raw)
        case "path":
            return (cwd / Path(raw).expanduser()).absolute()
        case "number":
            return _number(source, raw, float)
        case "count":  # retries: 0 is none
            return _number(source, raw, int, allow_zero=True)
        case "rate":  # 0: off
            return _number(source, raw, float, allow_zero=True)
        case "url":
            _check_url(raw, source)
            return raw.rstrip("/")
        case "checks":
            return _check_names(raw, source)
        case "choice":
            return _choice(raw, source, definition.choices)
    raise AssertionError(f"setting {definition.key}: no rule for kind {definition.kind!r}")


def general_settings(
    environ: Mapping[str, str], cwd: Path, flags: Mapping[str, object] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The general settings given (by flag, else variable), each checked, and where each came from; the
    home is always there. Engines' settings are not read: that needs the engine table (most of a second)."""
    home, home_source = resolve_home(environ, cwd)
    values: dict[str, Any] = {"home": home}
    sources = {"home": home_source}
    for definition in general_defs():
        if definition.key == "home":
            continue
        raw, source = _given(definition.flag, (flags or {}).get(definition.key), definition.env, environ)
        if raw is not None:
            sources[definition.key] = source
            values[definition.key] = _general_value(definition, raw, source, cwd)
    return values, sources


def checked_home(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path:
    """The home, once every general ``TARJAMA_*`` variable is checked: for commands that use no engine
    (``tarjama runs``), a bad variable is the same one line as elsewhere, without the engine table."""
    values, _ = general_settings(os.environ if environ is None else environ, cwd or Path.cwd())
    return Path(values["home"])


class Settings(BaseModel):
    """Everything that shapes a run, typed; ``docs/settings.md`` lists each setting and its variable."""

    model_config = ConfigDict(frozen=True)

    home: Path
    home_source: str = "given"
    memory: Path | None = None  # default: <home>/memory.sqlite
    engine: str = "auto"
    http_timeout: float | None = None  # per-request timeout of web engines (s); None: each engine's own
    http_retries: int = 5
    http_backoff: float = 1.0  # first retry's wait (s)
    prefect_server_idle: float = 600.0  # the shared Prefect server stops after this many idle seconds
    stop_wait: float = 10.0  # a run stopped by a signal waits this long for the answers to requests in flight
    preload: bool = True  # a warm process runs later `tarjama run` commands (tarjama.app.preload)
    rate_limit: float | None = None  # wins over the per-engine rates
    engine_rates: dict[str, float] = Field(default_factory=dict)  # TARJAMA_RATE_LIMIT_<ENGINE>
    engines: dict[str, dict[str, EngineValue]] = Field(default_factory=dict)  # per engine: its options
    download_url: str | None = DEFAULT_DOWNLOAD_URL  # None: this run's folder is not served, so no links
    checks: tuple[str, ...] | None = None  # reference-free checks by name (None: all)
    rows: Granularity = "units"
    translate: UnitTranslation = UnitTranslation.UNITS
    secrets: dict[str, SecretStr] = Field(default_factory=dict, exclude=True)  # by credential variable
    sources: dict[str, str] = Field(default_factory=dict, exclude=True)  # setting key → where it came from

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
        engine_url: str | None = None,
        engine_model: str | None = None,
        model: Path | None = None,
        memory: Path | None = None,
        rate_limit: float | None = None,
        checks: str | Sequence[str] | None = None,
        rows: str | None = None,
        translate: str | None = None,
    ) -> Settings:
        """Settings from the given flags (None: not given), then ``environ`` (default: the process
        environment), then the defaults.

        ``engine_url`` and ``engine_model`` set the URL and model of the engine chosen; with ``auto``
        (no engine named) or an engine that takes no such setting they are an error, as is ``model``
        (the local engine's model file) with a web engine.
        """
        environ = os.environ if environ is None else environ
        joined = ",".join(checks) if checks is not None and not isinstance(checks, str) else checks
        flags = {
            "engine": engine,
            "memory": memory,
            "rate_limit": rate_limit,
            "checks": joined,
            "rows": rows,
            "translate": translate,
        }
        general, sources = general_settings(environ, cwd or Path.cwd(), flags)
        chosen = str(general.pop("engine", "auto"))
        get_spec(chosen)  # a plug-in that cannot be used fails only where it is chosen (all_specs leaves it out)
        engines: dict[str, dict[str, EngineValue]] = {}
        secrets: dict[str, SecretStr] = {}
        rates: dict[str, float] = {}
        for spec in all_specs():
            values = engines.setdefault(spec.name, {})
            for option in spec.options:
                raw = environ.get(option.env, "").strip()
                if raw:
                    values[option.name] = _option_value(option, raw, option.env)
                    sources[f"{spec.name}.{option.name}"] = option.env
            for credential in spec.credentials:
                for variable in (credential.env, credential.fallback_env):
                    if variable and environ.get(variable) and credential.env not in secrets:
                        secrets[credential.env] = SecretStr(environ[variable])
                        sources[f"{spec.name}.{credential.option}"] = variable
            raw_rate = environ.get(rate_variable(spec.name), "").strip()
            if raw_rate:
                rates[spec.name] = _number(rate_variable(spec.name), raw_rate, float, allow_zero=True)
                sources[f"{spec.name}.rate_limit"] = rate_variable(spec.name)
        for flag, key, value in (("--engine-url", "url", engine_url), ("--engine-model", "model", engine_model)):
            if value and chosen == "auto":  # it went to Google: a LibreTranslate URL answered 400, then local ran
                raise TarjamaError(
                    f"{flag} needs --engine NAME, the engine it is for (-e libre, -e openai-compat, ...): "
                    "auto tries Google, then the local model"
                )
            if value:
                if get_spec(chosen).option(key) is None:
                    raise TarjamaError(f"{flag}: engine {chosen} takes no {key}")
                engines[chosen][key] = value
                sources[f"{chosen}.{key}"] = flag
        if engine_url:
            _check_url(engine_url, "--engine-url")
        for name, values in engines.items():
            if isinstance(values.get("url"), str) and sources.get(f"{name}.url") != "--engine-url":
                _check_url(str(values["url"]), get_spec(name).option("url").env)  # type: ignore[union-attr]
        if model is not None:
            if chosen not in ("auto", "local"):
                raise TarjamaError(
                    f"--model: engine {chosen} does not use a model file (--model is the local engine's GGUF file; "
                    "--engine-model names a web service's model)"
                )
            engines["local"]["model_path"] = str(check_model_file(model, "--model"))
            sources["local.model_path"] = "--model"
        return cls(
            **general,
            home_source=sources["home"],
            engine=chosen,
            engine_rates=rates,
            engines=engines,
            secrets=secrets,
            sources=sources,
        )

    def with_secrets(self, found: Mapping[str, str], source: Mapping[str, str] | None = None) -> Settings:
        """A copy with keys found elsewhere for those not set; ``source`` says where each was found
        (by credential variable: a Secret block's name, or the variable of a run's own environment)."""
        missing = {name: value for name, value in found.items() if name not in self.secrets}
        merged = {name: SecretStr(value) for name, value in missing.items()} | dict(self.secrets)
        sources = dict(self.sources)
        for spec in all_specs():
            for credential in spec.credentials:
                if credential.env in missing:
                    where = (source or {}).get(credential.env) or f"Secret block {credential.block}"
                    sources[f"{spec.name}.{credential.option}"] = where
        return self.model_copy(update={"secrets": merged, "sources": sources})

    def engine_rate(self, engine: str) -> tuple[float | None, str]:
        """Requests per second for ``engine`` and where that came from (None: not throttled)."""
        if self.rate_limit is not None:
            return self.rate_limit, self.sources.get("rate_limit", "--rate-limit or TARJAMA_RATE_LIMIT")
        if engine in self.engine_rates:
            return self.engine_rates[engine], rate_variable(engine)
        return get_spec(engine).rate_limit, DEFAULT

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

    def source_of(self, key: str) -> str:
        """Where the setting ``key`` came from: its flag, its variable, a Secret block, or ``default``."""
        if key.endswith(".rate_limit") and self.rate_limit is not None:  # the general rate wins over each engine's
            return self.source_of("rate_limit")
        return self.sources.get(key, DEFAULT)

    def value_of(self, key: str) -> str:
        """The effective value of the setting ``key`` as ``tarjama config`` shows it (keys masked)."""
        name, _, option = key.partition(".")
        if not option:
            value = {
                "home": self.home,
                "memory": self.memory_path,
                "http_timeout": self.http_timeout or "per engine",
                "rate_limit": "per engine" if self.rate_limit is None else f"{self.rate_limit:g}",
                "checks": "all" if self.checks is None else ",".join(self.checks) or "none",
                "preload": "on" if self.preload else "off",
            }.get(key, getattr(self, key, None))
            return str(value.value if isinstance(value, UnitTranslation) else value)
        if option == "rate_limit":
            rate = self.engine_rates.get(name) if self.rate_limit is None else self.rate_limit
            return f"{rate if rate is not None else get_spec(name).rate_limit:g}"
        credential = next((c for c in get_spec(name).credentials if c.option == option), None)
        if credential is not None:
            return MASK if credential.env in self.secrets else "not set"
        if option == "url" and "url" not in self.engines.get(name, {}):
            known = getattr(get_spec(name).factory, "default_url", None)  # DeepL's: "auto", chosen by the key
            return str(known) if str(known).startswith(("http://", "https://")) else DEFAULT
        return str(self.engines.get(name, {}).get(option, DEFAULT))

    def engines_in_use(self) -> tuple[str, ...]:
        """The engines a run with these settings may use: the chosen one (``auto``: Google, then the local model)."""
        return ("google", "local") if self.engine == "auto" else (self.engine,)

    def describe(
        self, *, every_engine: bool = False, blocks: Mapping[str, bool | None] | None = None
    ) -> list[tuple[str, str, str]]:
        """The settings as (name, value, source), keys masked, for ``tarjama config``: every general setting,
        every setting of the engines in use (:meth:`engines_in_use`, defaults included), and another engine's
        settings when set (or all of them with ``every_engine``).

        ``blocks`` says which Prefect Secret blocks exist (block name → True, False, or None: Prefect cannot
        say); a key not in the environment is then shown set from its block, never with its value, which is
        not read. A block not in ``blocks`` was not looked up."""
        in_use, found = self.engines_in_use(), blocks or {}
        rows = []
        for d in setting_defs():
            engine = d.key.partition(".")[0] if "." in d.key else None
            value, source = self.value_of(d.key), self.source_of(d.key)
            if d.block is not None and d.key not in self.sources and d.block in found:
                value, source = {
                    True: (MASK, f"Secret block {d.block}"),
                    False: ("not set", f"{DEFAULT} (no Secret block {d.block})"),
                    None: ("unknown", f"Secret block {d.block}? (Prefect cannot say)"),
                }[found[d.block]]
            if engine is None or every_engine or engine in in_use or d.key in self.sources or value == MASK:
                rows.append((d.key, value, source))
        return rows


def check_engine_name(name: str) -> str:
    """``name`` if an engine of that name exists, else a one-line error suggesting the closest."""
    known = engine_names()
    if name not in known:
        raise TarjamaError(f"unknown engine {name!r}{did_you_mean(name, known)}; known engines: {', '.join(known)}")
    return name


def did_you_mean(word: str, known: Sequence[str]) -> str:
    """``" (did you mean 'google'?)"`` for the closest of ``known``, or nothing when none is close."""
    close = difflib.get_close_matches(word, [str(name) for name in known], n=1, cutoff=0.6)  # str: not an enum's repr
    return f" (did you mean {close[0]!r}?)" if close else ""


def _choice(raw: str | None, source: str, allowed: tuple[str, ...]) -> str | None:
    """A setting's value checked against ``allowed``; ``None`` when it is not set."""
    if raw is not None and raw not in allowed:
        raise TarjamaError(f"{source}={raw!r}: expected one of {', '.join(allowed)}{did_you_mean(raw, allowed)}")
    return raw


def _check_names(raw: str | None, source: str) -> tuple[str, ...] | None:
    """``numbers,language`` → those checks; ``none`` → no checks; unset → all (None)."""
    if raw is None or not raw.strip():
        return None
    if raw.strip() == "none":
        return ()
    return check_names(raw, source)


def check_names(raw: str, source: str) -> tuple[str, ...]:
    """Check names from a comma list, each known (a registry name, or ``module:Class``), in order, once."""
    from tarjama.quality.checks import CHECKS, create_check

    names = tuple(dict.fromkeys(name.strip() for name in raw.split(",") if name.strip()))
    for name in names:
        if name not in CHECKS and ":" not in name:
            raise TarjamaError(
                f"{source}: unknown check {name!r}{did_you_mean(name, list(CHECKS))} (checks: {', '.join(CHECKS)})"
            )
        create_check(name)  # a plug-in check that does not load is a one-line error now, not after translating
    return names


def rate_variable(engine: str) -> str:
    """``TARJAMA_RATE_LIMIT_OPENAI_COMPAT`` for ``openai-compat``."""
    return "TARJAMA_RATE_LIMIT_" + engine.upper().replace("-", "_")


GGUF_MAGIC = b"GGUF"


def check_model_file(path: Path, source: str) -> Path:
    """``path`` if it is a GGUF model file (a regular file starting with the GGUF magic), else a one-line error.

    Checked when the setting is read: a wrong file would otherwise be found only once Prefect and the
    run had started."""
    try:
        mode = path.stat().st_mode
    except OSError:
        raise TarjamaError(f"{source}={str(path)!r}: no such model file") from None
    if not stat.S_ISREG(mode):
        raise TarjamaError(f"{source}={str(path)!r}: not a regular file (a GGUF model file is expected)")
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as problem:
        raise TarjamaError(f"{source}={str(path)!r}: cannot be read ({problem.strerror})") from None
    if magic != GGUF_MAGIC:
        raise TarjamaError(f"{source}={str(path)!r}: not a GGUF model file (it does not start with 'GGUF')")
    return path.absolute()


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


def unreachable(host: str, port: int, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """Why nothing can be reached at ``host:port`` (one TCP connection, no request), or None if something listens."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return None
    except socket.gaierror:
        return "host name not found"
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except OSError as problem:
        return (problem.strerror or type(problem).__name__).lower()


def url_unreachable(url: str, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """:func:`unreachable` for an http(s) URL's host and port."""
    import httpx

    parsed = httpx.URL(url)
    return unreachable(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80), timeout)


def engine_urls(engine: str, settings: Settings) -> tuple[str, ...]:
    """The URL a web engine sends its requests to: its setting, else the engine's own default; when that
    default is chosen from a key not known here (DeepL's plan, from a key in a Secret block the flow
    reads), every URL the engine may choose. Empty for an engine that sends no requests."""
    spec = get_spec(engine)
    if spec.rate_limit is None:
        return ()
    url = settings.engines.get(engine, {}).get("url") or getattr(spec.factory, "default_url", None)
    if url and not str(url).startswith(("http://", "https://")):  # chosen as the engine is built (DeepL: by its key)
        from tarjama.translation.engines.base import create_engine

        try:
            with create_engine(engine, **settings.engine_options(engine)) as built:
                url = getattr(built, "url", None)
        except TarjamaError:  # no key yet: any of its defaults
            default_urls = getattr(spec.factory, "default_urls", None)
            return tuple(default_urls()) if default_urls else ()
    return (str(url),) if url else ()


def engine_unreachable(engine: str, settings: Settings) -> tuple[str, str] | None:
    """Where and why nothing answers for a web engine (``("https://a or https://b", "host name not found")``),
    or None when one of its URLs answers (one TCP connection each, at once, no request) or it sends none."""
    from concurrent.futures import ThreadPoolExecutor

    from tarjama.translation.engines.transport import safe_url

    urls = engine_urls(engine, settings)
    if not urls:
        return None
    with ThreadPoolExecutor(len(urls)) as pool:
        problems = list(pool.map(url_unreachable, urls))
    if not all(problems):
        return None
    return " or ".join(safe_url(url) for url in urls), str(problems[0])


def check_engine_reachable(engine: str, settings: Settings) -> None:
    """A :class:`TarjamaError` when nothing answers at a web engine's URL (:func:`engine_unreachable`):
    checked before a run starts, and again by the flow once it has read a key from a Secret block."""
    problem = engine_unreachable(engine, settings)
    if problem:
        raise TarjamaError(f"engine {engine}: nothing answers at {problem[0]} ({problem[1]})")


# --- the docs page ---------------------------------------------------------------------------------

TABLE_START = "<!-- settings table: generated by `python -m tarjama.settings docs/settings.md`; do not edit -->"
TABLE_END = "<!-- end of settings table -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def settings_markdown() -> str:
    """The settings tables of ``docs/settings.md``: the general settings, then each engine's."""
    head = "| setting | flag | variable | Secret block | default | what |\n|---|---|---|---|---|---|\n"
    lines = [head.rstrip("\n")]
    engine = None
    for d in setting_defs():
        name = d.key.partition(".")[0] if "." in d.key else None
        if name != engine:
            lines += ["", f"Engine `{name}`:", "", head.rstrip("\n")]
            engine = name
        flag = f"`{d.flag}`" if d.flag else ""
        if d.engine:
            flag += f" (with `-e {d.engine}`)"
        default = d.default if d.default != DEFAULT else "the engine's own"
        lines.append(
            f"| `{d.key}` | {flag} | `{d.env}` | {f'`{d.block}`' if d.block else ''} | {_cell(default)} | "
            f"{_cell(d.help)} |"
        )
    return "\n".join(lines) + "\n"


def with_settings_table(page: str) -> str:
    """``page`` with the text between the table markers replaced by :func:`settings_markdown`."""
    before, start, rest = page.partition(TABLE_START)
    _, end, after = rest.partition(TABLE_END)
    if not start or not end:
        raise TarjamaError("the page has no settings table markers")
    return f"{before}{TABLE_START}\n{settings_markdown()}{TABLE_END}{after}"


if __name__ == "__main__":
    import sys

    page = Path(sys.argv[1])
    page.write_text(with_settings_table(page.read_text(encoding="utf-8")), encoding="utf-8")
