"""The Prefect settings a tarjama command needs, applied by the command before Prefect is imported.

Only defaults are set: anything the user exported wins. Without a ``PREFECT_API_URL`` Prefect runs
in ephemeral mode against a SQLite database under ``PREFECT_HOME``, which we keep in tarjama's home
(``<home>/prefect``) so that ``tarjama serve`` and ``prefect server start`` with the same home show
every run made there. Telemetry is off (there is no network to send it to, and users did not ask for
it); the ephemeral server gets 180 s to start, since its first-run database migrations take over
20 s on 2 cores.

These are Prefect's own settings, which it reads from the environment when it loads; tarjama's
settings never travel this way (see :mod:`tarjama.settings`).
"""

from __future__ import annotations

import os
from pathlib import Path


def prefect_defaults(home: Path) -> dict[str, str]:
    return {
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
        "PREFECT_TELEMETRY_ENABLE_RESOURCE_METRICS": "false",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        "PREFECT_LOGGING_EXTRA_LOGGERS": "tarjama",
        "DO_NOT_TRACK": "1",
    }


def configure_prefect(home: Path) -> None:
    """Prefect's defaults for ``home`` (a user's own exports win), and its home folder, which the
    ephemeral server cannot create itself."""
    for key, value in prefect_defaults(home).items():
        os.environ.setdefault(key, value)
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
