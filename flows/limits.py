"""Rate limits and credentials for web engines, from Prefect.

**Rate limits.** Every request a web engine sends spends a slot of
the Prefect global concurrency limit ``tarjama-engine-<engine>``, taken with
``prefect.concurrency.sync.rate_limit`` (``strict=True``: a missing limit is
an error, never a silent pass) a batch at a time and paced within the process
(:class:`~tarjama.translation.engines.pacing.PacedBatches`: one slot per
request, one round trip per request, capped runs near 5 requests/s; see
``benchmarks/results/rate-limit.md``). tarjama creates the limit when it is missing
and updates it when the configured rate changed, so the limit always
exists and always says what tarjama will do; it is shared by every run,
flow and process that talks to the same Prefect server, so parallel runs
together stay under the rate. A rate of ``R`` requests per second is a
limit of ``max(1, round(R))`` slots decaying at ``R`` per second; each process
asks for half a second's worth at a time and sends one request every ``1/R`` s.

The rate (requests per second) comes from the run's :class:`~tarjama.settings.Settings`
(``--rate-limit``, ``TARJAMA_RATE_LIMIT``, ``TARJAMA_RATE_LIMIT_<ENGINE>``, else the engine's
default; ``tarjama engines`` lists them). ``0`` turns throttling off, and says so in the log.

**Credentials.** An engine's key comes from its environment variable
(e.g. ``DEEPL_API_KEY``); when that is not set, from the Prefect Secret
block named in its registry entry (e.g. ``tarjama-deepl-api-key``, created
with ``Secret(value=...).save("tarjama-deepl-api-key")``). Keys never travel
in a run's parameters (they would be stored in the Prefect database): a run
started from a deployment reads them here, from the environment of the
process that runs it (``tarjama serve``'s, which its runs inherit), then from
the Secret blocks. Values are passed to the engine and never logged.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping

from tarjama.settings import Settings
from tarjama.translation.engines import Engine, get_spec
from tarjama.translation.engines.pacing import PacedBatches, limit_slots

log = logging.getLogger("tarjama.limits")


def limit_name(engine: str) -> str:
    return f"tarjama-engine-{engine}"


def ensure_limit(engine: str, rate: float) -> str:
    """Create or update the global concurrency limit for ``engine`` at ``rate`` requests per second.

    Prefect's upsert reads, then creates: when runs start together, another may create the limit in
    between, and the create fails as a conflict. The limit then exists, so the upsert is repeated and
    updates it (issue 9: two of three runs started together failed here)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectAlreadyExists

    name = limit_name(engine)
    slots = limit_slots(rate)
    with get_client(sync_client=True) as client:
        try:
            client.upsert_global_concurrency_limit_by_name(name, limit=slots, slot_decay_per_second=rate)
        except ObjectAlreadyExists:
            client.upsert_global_concurrency_limit_by_name(name, limit=slots, slot_decay_per_second=rate)
        current = client.read_global_concurrency_limit_by_name(name)
    if not current.active:
        log.warning("global concurrency limit %s is inactive in Prefect, so Prefect will not throttle %s", name, engine)
    return name


def make_throttle(engine: str, settings: Settings) -> tuple[Callable[[], None] | None, str]:
    """A throttle for ``engine`` backed by its Prefect rate limit, and a line describing it."""
    rate, source = settings.engine_rate(engine)
    if rate is None:
        return None, f"engine {engine} is not rate-limited (offline)"
    if rate == 0:
        return None, f"rate limit for {engine} turned off ({source}=0)"
    name = ensure_limit(engine, rate)
    return shared_throttle(name, rate), f"rate limit {name}: {rate:g} requests/s ({source})"


_THROTTLES: dict[tuple[str, str, float], PacedBatches] = {}
_THROTTLES_LOCK = threading.Lock()


def shared_throttle(name: str, rate: float) -> PacedBatches:
    """This process's throttle for the Prefect limit ``name`` at ``rate`` on the Prefect server at hand: one
    for all its threads and batches, so that together they are paced at ``rate`` (each batch's own would add
    up). Per server: a long-lived process (a Dask worker) may serve runs of several."""
    from prefect.settings import get_current_settings

    key = (str(get_current_settings().api.url or ""), name, rate)
    with _THROTTLES_LOCK:
        throttle = _THROTTLES.get(key)
        if throttle is None:
            throttle = _THROTTLES[key] = PacedBatches(rate, prefect_take(name))
        return throttle


def prefect_take(name: str) -> Callable[[int], None]:
    """``take(n)``: block until ``n`` slots of the Prefect limit ``name`` are granted."""
    from prefect.concurrency.sync import rate_limit

    def take(slots: int) -> None:
        rate_limit(name, occupy=slots, strict=True)

    return take


def attach_throttle(engine: Engine, settings: Settings) -> str | None:
    """Give an engine that sends requests its Prefect rate limit; a line to log (None: nothing to throttle)."""
    if get_spec(engine.name).rate_limit is None:
        return None
    throttle, description = make_throttle(engine.name, settings)
    engine.throttle = throttle
    return description


def with_secret_blocks(settings: Settings, engines: list[str], environ: Mapping[str, str] | None = None) -> Settings:
    """``settings`` plus the keys of ``engines`` it lacks: from ``environ`` (default: this process's
    environment; a deployment's run arrives without its keys), else from their Prefect Secret blocks."""
    environ = os.environ if environ is None else environ
    found: dict[str, str] = {}
    sources: dict[str, str] = {}
    for name in engines:
        for credential in get_spec(name).credentials:
            if credential.env in settings.secrets:
                continue
            variable = next((v for v in (credential.env, credential.fallback_env) if v and environ.get(v)), None)
            value = environ[variable] if variable else read_secret(credential.block)
            if value:
                found[credential.env] = value
                if variable:
                    sources[credential.env] = variable
    return settings.with_secrets(found, sources) if found else settings


def read_secret(block: str) -> str | None:
    """The value of the Prefect Secret block ``block``, or None if there is no such block."""
    from prefect.blocks.system import Secret

    try:
        secret = Secret.load(block)
    except ValueError:  # no such block
        return None
    value = secret.get()  # type: ignore[union-attr]  # sync context: the value, not a coroutine
    return str(value) if value else None
