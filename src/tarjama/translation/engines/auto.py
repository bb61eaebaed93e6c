"""``auto``: Google when it answers within a few seconds, else the offline model.

The choice is made once per run with a one-word probe, and the engine chosen
is the one recorded on every segment, so ``auto`` never appears in outputs
or in the translation memory.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from tarjama.translation.broken import non_answer
from tarjama.translation.engines.base import Engine, EngineSpec, create_engine

log = logging.getLogger("tarjama.translation.engines")
PROBE = "مرحبا"


def choose(google: Mapping[str, Any] | None = None, probe_timeout: float = 5.0) -> str:
    """``google`` if it translates the probe in time, else ``local``: decided once per run.

    The probe makes one request with no retries, so an offline machine decides in at most
    ``probe_timeout`` seconds; an answer that is no translation (empty, or the probe sent back:
    :func:`~tarjama.translation.broken.non_answer`) is Google failing too.
    """
    try:
        with create_engine("google", **{**(google or {}), "retries": 0, "timeout": probe_timeout}) as probe:
            answer = next(iter(probe.translate([PROBE])))
        why = non_answer(PROBE, answer)
        if not why:
            log.info("engine auto: Google Translate answered; using google")
            return "google"
        reason = "an empty answer" if why == "empty" else "the Arabic sent back"
    except Exception as error:  # any failure of the probe means: not usable now
        reason = f"{type(error).__name__}: {error}".splitlines()[0][:200]
    log.warning("engine auto: Google Translate unavailable (%s); using the offline local model", reason)
    return "local"


def choose_engine(
    google: Mapping[str, Any] | None = None, local: Mapping[str, Any] | None = None, probe_timeout: float = 5.0
) -> Engine:
    """The engine :func:`choose` picks, built."""
    chosen = choose(google, probe_timeout)
    return create_engine(chosen, **((google if chosen == "google" else local) or {}))


SPEC = EngineSpec(
    name="auto",
    summary="google if it answers within 5 s, else local (the default)",
    needs="nothing beyond google's or local's needs",
    factory=choose_engine,
)
