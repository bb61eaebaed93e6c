"""Prefect settings tarjama needs, applied before Prefect is imported.

Only defaults are set: anything the user exported wins. Without a
``PREFECT_API_URL`` Prefect runs in ephemeral mode against a SQLite database
under ``PREFECT_HOME``, which we keep project-local (``.tarjama/prefect``)
so ``tarjama serve`` and ``prefect server start`` with the same home show
every run made here. Telemetry is off (there is no network to send it to,
and users did not ask for it); the ephemeral server gets 180 s to start,
since its first-run database migrations take over 20 s on 2 cores.
"""

from __future__ import annotations

import os
from pathlib import Path


def tarjama_home() -> Path:
    """Where the translation memory and the Prefect home live: ``$TARJAMA_HOME`` or ``./.tarjama``."""
    return Path(os.environ.get("TARJAMA_HOME", ".tarjama")).absolute()


def configure() -> None:
    defaults = {
        "PREFECT_HOME": str(tarjama_home() / "prefect"),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
        "PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS": "false",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        "PREFECT_LOGGING_EXTRA_LOGGERS": "tarjama",
        "DO_NOT_TRACK": "1",
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)


def prepare_home() -> None:
    """Create the Prefect home: the ephemeral server cannot create its SQLite file's folder."""
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
