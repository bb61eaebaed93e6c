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
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from tarjama.app.prefect_server import shared_api
from tarjama.app.runs import served_api_url
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


@contextmanager
def prefect_api_for_command(home: Path, idle_s: float) -> Iterator[str]:
    """The Prefect API a command talks to, set as Prefect's ``PREFECT_API_URL`` while the block lasts.

    ``$PREFECT_API_URL`` if the user set it; else the server of a running ``tarjama serve`` for this
    home (the run shows there); else the home's shared server (:mod:`tarjama.app.prefect_server`), started
    if needed and left running for the next command, which then starts in a second instead of six.
    Call after :func:`configure_prefect`, before Prefect is imported.
    """
    given = os.environ.get("PREFECT_API_URL")
    if given:
        yield given
        return
    served = served_api_url(home)
    with nullcontext(served) if served else shared_api(home, idle_s) as url:
        os.environ["PREFECT_API_URL"] = url
        if not served:  # the shared server has no UI: no "View at" link that leads nowhere
            os.environ["PREFECT_UI_URL"] = ""
        reload_prefect_settings()
        try:
            yield url
        finally:
            os.environ.pop("PREFECT_API_URL", None)
            if not served:
                os.environ.pop("PREFECT_UI_URL", None)


def reload_prefect_settings() -> None:
    """Prefect reads its settings from the environment when it loads; where it is loaded already (a run
    forked from the warm process, :mod:`tarjama.app.preload`), it reads them again (a third of a second,
    so only on the way in: the command ends with the block)."""
    context = sys.modules.get("prefect.context")
    if context is not None:
        context.refresh_global_settings_context()
