"""Rate limits and credentials for web engines, from Prefect.

**Rate limits.** Every request a web engine sends first takes a slot of
the Prefect global concurrency limit ``tarjama-engine-<engine>`` with
``prefect.concurrency.sync.rate_limit`` (``strict=True``: a missing limit is
an error, never a silent pass). tarjama creates the limit when it is missing
and updates it when the configured rate changed, so the limit always
exists and always says what tarjama will do; it is shared by every run,
flow and process that talks to the same Prefect server, so parallel runs
together stay under the rate. A rate of ``R`` requests per second is a
limit of ``max(1, round(R))`` slots decaying at ``R`` per second.

The rate (requests per second) is, first found: ``--rate-limit`` (which
sets ``TARJAMA_RATE_LIMIT`` for the run), ``TARJAMA_RATE_LIMIT_<ENGINE>``
(e.g. ``TARJAMA_RATE_LIMIT_GOOGLE=1``), the engine's default (``tarjama
engines`` lists them). ``0`` turns throttling off, and says so in the log.

**Credentials.** An engine's key comes from its environment variable
(e.g. ``DEEPL_API_KEY``); when that is not set, from the Prefect Secret
block named in its registry entry (e.g. ``tarjama-deepl-api-key``, created
with ``Secret(value=...).save("tarjama-deepl-api-key")``). Values are
passed to the engine and never logged.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from functools import partial
from typing import Any

from tarjama.engines import REGISTRY, Engine
from tarjama.errors import TarjamaError

log = logging.getLogger("tarjama.limits")


def limit_name(engine: str) -> str:
    return f"tarjama-engine-{engine}"


def _env_key(engine: str) -> str:
    return "TARJAMA_RATE_LIMIT_" + engine.upper().replace("-", "_")


def configured_rate(engine: str) -> tuple[float | None, str]:
    """The requests-per-second rate for ``engine`` and where it came from (None: not throttled)."""
    for variable in ("TARJAMA_RATE_LIMIT", _env_key(engine)):
        value = os.environ.get(variable, "").strip()
        if value:
            try:
                rate = float(value)
            except ValueError:
                raise TarjamaError(f"{variable}={value!r}: expected requests per second, e.g. 2 or 0.5") from None
            if rate < 0 or not math.isfinite(rate):
                raise TarjamaError(f"{variable}={value!r}: must be 0 (off) or a positive number")
            return rate, variable
    spec = REGISTRY.get(engine)
    return (spec.rate_limit if spec else None), "default"


def ensure_limit(engine: str, rate: float) -> str:
    """Create or update the global concurrency limit for ``engine`` at ``rate`` requests per second."""
    from prefect.client.orchestration import get_client

    name = limit_name(engine)
    slots = max(1, round(rate))
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(name, limit=slots, slot_decay_per_second=rate)
        current = client.read_global_concurrency_limit_by_name(name)
    if not current.active:
        log.warning("global concurrency limit %s is inactive in Prefect, so Prefect will not throttle %s", name, engine)
    return name


def make_throttle(engine: str) -> tuple[Callable[[], None] | None, str]:
    """A throttle for ``engine`` backed by its Prefect rate limit, and a line describing it."""
    rate, source = configured_rate(engine)
    if rate is None:
        return None, f"engine {engine} is not rate-limited (offline)"
    if rate == 0:
        return None, f"rate limit for {engine} turned off ({source}=0)"
    from prefect.concurrency.sync import rate_limit

    name = ensure_limit(engine, rate)
    return partial(rate_limit, name, occupy=1, strict=True), f"rate limit {name}: {rate:g} requests/s ({source})"


def attach_throttle(engine: Engine) -> str | None:
    """Give a web engine (one with a ``throttle`` attribute) its Prefect rate limit; a line to log."""
    if not hasattr(engine, "throttle"):
        return None
    throttle, description = make_throttle(engine.name)
    engine.throttle = throttle  # type: ignore[attr-defined]
    return description


def secret_options(engine: str) -> dict[str, Any]:
    """Credentials of ``engine`` whose variable is unset, read from their Prefect Secret blocks."""
    spec = REGISTRY.get(engine)
    if spec is None:
        return {}
    options: dict[str, Any] = {}
    for credential in spec.credentials:
        if os.environ.get(credential.env) or (credential.fallback_env and os.environ.get(credential.fallback_env)):
            continue
        value = read_secret(credential.block)
        if value:
            options[credential.option] = value
    return options


def read_secret(block: str) -> str | None:
    """The value of the Prefect Secret block ``block``, or None if there is no such block."""
    from prefect.blocks.system import Secret

    try:
        secret = Secret.load(block)
    except ValueError:  # no such block
        return None
    value = secret.get()
    return str(value) if value else None


def apply_run_settings(engine: str, url: str = "", model: str = "", rate: float | None = None) -> None:
    """Turn ``tarjama run``'s engine options into the settings the engine and the throttle read.

    ``--engine-url`` and ``--engine-model`` set ``TARJAMA_<ENGINE>_URL`` /
    ``_MODEL`` for the engine named by ``--engine`` (``google`` for ``auto``);
    ``--rate-limit`` sets ``TARJAMA_RATE_LIMIT``, which wins over the
    per-engine variables. The run is in this process, so the flow sees them.
    """
    from tarjama.engines.web import env_prefix

    target = "google" if engine == "auto" else engine
    spec = REGISTRY.get(target)
    if spec is None:
        raise TarjamaError(f"unknown engine {engine!r}; known engines: {', '.join(sorted(REGISTRY))}")
    for value, key, option in ((url, "URL", "--engine-url"), (model, "MODEL", "--engine-model")):
        if not value:
            continue
        variable = f"{env_prefix(target)}_{key}"
        if variable not in spec.settings:
            raise TarjamaError(f"{option}: engine {target} takes no {key.lower()}")
        os.environ[variable] = value
    if rate is not None:
        if rate < 0 or not math.isfinite(rate):
            raise TarjamaError(f"--rate-limit {rate:g}: must be 0 (off) or a positive number of requests per second")
        os.environ["TARJAMA_RATE_LIMIT"] = f"{rate:g}"
