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
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from tarjama.app.prefect_server import running_api_url, shared_api
from tarjama.app.runs import served_api_url
from tarjama.errors import TarjamaError
from tarjama.private_files import make_private_dir
from tarjama.translation.stopping import TranslationStopped

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
    make_private_dir(home)  # the database holds Secret blocks: what tarjama creates is its user's alone
    make_private_dir(Path(os.environ["PREFECT_HOME"]))
    log_user_errors_without_traceback()


def log_user_errors_without_traceback() -> None:
    """Install :class:`UserErrorsWithoutTraceback` on the run loggers (once): here, and in the process
    ``serve`` runs a UI run in, which Prefect starts without :func:`configure_prefect`."""
    for name in RUN_LOGGERS:  # a logger's filters outlive Prefect's dictConfig when it loads
        logger = logging.getLogger(name)
        if not any(isinstance(f, UserErrorsWithoutTraceback) for f in logger.filters):
            logger.addFilter(UserErrorsWithoutTraceback())


class StoppedTasksOffTheConsole(logging.Filter):
    """A run ``tarjama serve`` started and stopped (the UI's Cancel, serve's Ctrl-C) ends each task under way
    with :class:`TranslationStopped`, which Prefect logged as two ERROR lines a task on serve's console ("Crash
    detected! ... TranslationStopped: ...", "Finished in state Crashed(...)"), and a run serve's Ctrl-C stopped
    as two more for the flow run ("Crash detected! Execution was aborted by an interrupt signal."). The run
    says it once, in its own words ("stopped: every translation paid for is kept"), so Prefect's records of
    that stop stay off the console, as they do under ``tarjama run``; the Prefect API still gets them (the run's
    and each task's page in the UI, where the run shows *Crashed*). A crash of any other cause is shown."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not stopped_by_signal(record)


SIGNAL_ENDS = ("Execution was aborted by an interrupt signal.", "Execution was aborted by a termination signal.")
"""The message of the Crashed state Prefect makes of a KeyboardInterrupt and of a TerminationSignal."""


def stopped_by_signal(record: logging.LogRecord) -> bool:
    """Whether ``record`` is a flow or task run's record of its end by a signal: its "Crash detected! ..." and
    "Finished in state Crashed(...)" lines carry the Crashed state's message (:data:`SIGNAL_ENDS`, or
    :class:`TranslationStopped`, which a signal raises where a translation was under way), its "Crash details:"
    the exception, as its ``exc_info`` or among its arguments."""
    if not any(record.name == name or record.name.startswith(f"{name}.") for name in RUN_LOGGERS):
        return False
    from prefect.exceptions import TerminationSignal  # the run's process has Prefect loaded: this runs inside a run

    arguments = record.args.values() if isinstance(record.args, Mapping) else record.args or ()
    carried = [*arguments, record.exc_info[1] if record.exc_info else None]
    message = record.getMessage()  # Prefect puts the crashed state's message in an f-string: no argument holds it
    return (
        any(isinstance(one, KeyboardInterrupt | TerminationSignal | TranslationStopped) for one in carried)
        or TranslationStopped.__name__ in message
        or any(end in message for end in SIGNAL_ENDS)
    )


def stopped_tasks_off_the_console() -> None:
    """Install :class:`StoppedTasksOffTheConsole` (once) on the console handlers of the root logger, where the run
    loggers' records reach the terminal: in the process ``serve`` runs a UI run in, once Prefect's logging is
    configured there (the flow's own code runs after)."""
    for handler in logging.getLogger().handlers:
        console = isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler)
        if console and not any(isinstance(f, StoppedTasksOffTheConsole) for f in handler.filters):
            handler.addFilter(StoppedTasksOffTheConsole())


NO_TLS_TRUST = Path(__file__).with_name("no-tls.pem")
"""A self-signed certificate whose private key was thrown away when it was made: trusting it trusts nothing."""


def own_server_settings(url: str, ui: bool) -> dict[str, str]:
    """Prefect's client settings for a server tarjama started (the home's shared server or ``serve``'s).

    Such a server is Prefect's own, installed with tarjama, and plain HTTP on this machine, so a client
    need not ask its version (a request from each of a run's three clients, and a TLS context for the
    events client's) nor load certifi's 140 certificates into the TLS context Prefect builds for every
    client even for ``http://`` (30 ms idle, 0.12 s at load 5, three or four times a run): its CA file
    is :data:`NO_TLS_TRUST`. The shared server has no UI: no "View at" link that leads nowhere.
    """
    settings = {"PREFECT_API_URL": url, "PREFECT_CLIENT_SERVER_VERSION_CHECK_ENABLED": "false"}
    if url.startswith("http://"):
        settings["PREFECT_API_SSL_CERT_FILE"] = str(NO_TLS_TRUST)
    return settings if ui else settings | {"PREFECT_UI_URL": ""}


@contextmanager
def own_server_environ(url: str, ui: bool) -> Iterator[None]:
    """:func:`own_server_settings` in the environment while the block lasts; a user's own exports win
    (the API URL and UI URL excepted: the caller has chosen the server)."""
    wanted = own_server_settings(url, ui)
    added = {k: v for k, v in wanted.items() if k in ("PREFECT_API_URL", "PREFECT_UI_URL") or k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


@dataclass(frozen=True)
class PrefectApi:
    """The Prefect API a command talks to, and whether its server is one tarjama started (the home's
    shared server or ``serve``'s) rather than one the user named."""

    url: str
    started_by_tarjama: bool

    def flow_runs(self) -> AbstractContextManager[None]:
        """The block in which the command makes flow runs: on a server tarjama started, without
        heartbeats (:func:`without_flow_heartbeats`); a server of the user's own gets Prefect's settings
        as they are. Enter once Prefect is loaded."""
        return without_flow_heartbeats() if self.started_by_tarjama else nullcontext()


@contextmanager
def prefect_api_for_command(home: Path, idle_s: float) -> Iterator[PrefectApi]:
    """The Prefect API a command talks to, set as Prefect's ``PREFECT_API_URL`` while the block lasts.

    ``$PREFECT_API_URL`` if the user set it; else the server of a running ``tarjama serve`` for this
    home (the run shows there); else the home's shared server (:mod:`tarjama.app.prefect_server`), started
    if needed and left running for the next command, which then starts in a second instead of six.
    Call after :func:`configure_prefect`, before Prefect is imported.
    """
    given = os.environ.get("PREFECT_API_URL")
    if given:
        yield PrefectApi(given, started_by_tarjama=False)
        return
    served = served_api_url(home)
    with nullcontext(served) if served else shared_api(home, idle_s) as url, own_server_environ(url, bool(served)):
        reload_prefect_settings()
        yield PrefectApi(url, started_by_tarjama=True)


@contextmanager
def without_flow_heartbeats() -> Iterator[None]:
    """Prefect's settings with flow-run heartbeats off while the block lasts, unless the user set them.

    A flow run's heartbeat thread wakes once a second, and Prefect waits for it at the end of every run:
    a run whose work took 0.3 s ended after 1 s. What heartbeats are for, telling a run whose process
    was killed, tarjama does itself for ``tarjama run`` (the next command marks such a run Crashed);
    ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` (or Prefect's settings files) turns them on again. Call once
    Prefect is loaded; the settings are a copy in the block's context, which the flow's thread gets."""
    from prefect.context import SettingsContext, get_settings_context

    current = get_settings_context()
    if "heartbeat_frequency" in current.settings.flows.model_fields_set:
        yield
        return
    flows = current.settings.flows.model_copy(update={"heartbeat_frequency": None})
    with SettingsContext(profile=current.profile, settings=current.settings.model_copy(update={"flows": flows})):
        yield


def prepare_for_next_run(home: Path) -> str | None:
    """In the warm process (:mod:`tarjama.app.preload`): Prefect's settings for the server the next run of
    ``home`` will find, loaded now, so that the run, forked from here, finds them loaded and skips
    :func:`reload_prefect_settings`'s work; that server's API URL. Starts nothing; without a server, or
    with the user's ``PREFECT_API_URL``, there is nothing to prepare."""
    if os.environ.get("PREFECT_API_URL"):
        return None
    served = served_api_url(home)
    url = served or running_api_url(home)
    if url is not None:
        with own_server_environ(url, bool(served)):
            reload_prefect_settings()
    return url


_loaded_for: tuple[object, ...] | None = None


def _settings_sources() -> tuple[object, ...]:
    """What Prefect's settings are read from: its variables, and the files it reads (by time), which are
    found from the working folder."""
    cwd = Path.cwd()
    profiles = Path(
        os.environ.get("PREFECT_PROFILES_PATH") or Path(os.environ.get("PREFECT_HOME", "~/.prefect")) / "profiles.toml"
    )
    files: list[tuple[str, int | None]] = []
    for path in (cwd / ".env", cwd / "prefect.toml", cwd / "pyproject.toml", profiles.expanduser()):
        try:
            files.append((str(path), path.stat().st_mtime_ns))
        except OSError:
            files.append((str(path), None))
    return (sorted((k, v) for k, v in os.environ.items() if k.startswith("PREFECT_")), str(cwd), files)


def reload_prefect_settings() -> None:
    """Prefect reads its settings from the environment when it loads; where it is loaded already (a run
    forked from the warm process, :mod:`tarjama.app.preload`), it reads them again (a third of a second
    at load), unless they were read from the same sources already (:func:`prepare_for_next_run`)."""
    global _loaded_for
    context = sys.modules.get("prefect.context")
    if context is None:
        return
    sources = _settings_sources()
    if sources != _loaded_for:
        context.refresh_global_settings_context()
        _loaded_for = sources
