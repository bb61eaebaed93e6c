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

import logging
import os
from pathlib import Path

from tarjama.errors import TarjamaError

RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


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


class UserErrorsWithoutTraceback(logging.Filter):
    """Prefect logs a failed flow or task with its traceback; a :class:`TarjamaError` (a full disk, a
    service still down after every retry) is the user's to fix and its one line says it all, so it is
    logged without one (still with Prefect's "Encountered exception ...: TarjamaError(...)" line)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], TarjamaError):
            record.exc_info = None
            record.exc_text = None
        return True


def configure_prefect(home: Path) -> None:
    """Prefect's defaults for ``home`` (a user's own exports win), its home folder, which the
    ephemeral server cannot create itself, and one-line logging of user errors in runs."""
    for key, value in prefect_defaults(home).items():
        os.environ.setdefault(key, value)
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)
    for name in RUN_LOGGERS:  # a logger's filters outlive Prefect's dictConfig when it loads
        logger = logging.getLogger(name)
        if not any(isinstance(f, UserErrorsWithoutTraceback) for f in logger.filters):
            logger.addFilter(UserErrorsWithoutTraceback())
