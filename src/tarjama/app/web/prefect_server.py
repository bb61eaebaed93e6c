"""The Prefect server that ``tarjama serve`` (and a run's private server) starts, behind a Host allow-list.

Run as a child process: ``python -m tarjama.app.web.prefect_server HOST PORT``. It is Prefect's own app
(``prefect server start`` runs the same one), wrapped in :class:`tarjama.app.web.app.HostAllowList`, the
download app's guard, so that a page on another site reached through DNS rebinding is refused
(421) before Prefect sees the request. CORS and CSRF are Prefect's own settings, set by the parent
(:func:`guard_settings`).
"""

from __future__ import annotations

import logging
import sys

from tarjama.app.web.app import HostAllowList
from tarjama.app.web.server import allowed_hosts_for, url_host


def ui_origins(host: str, port: int) -> list[str]:
    """The origins the Prefect UI is loaded from: every name the server answers to, with its port."""
    return [f"http://{url_host(name)}:{port}" for name in allowed_hosts_for(host)]


def guard_settings(host: str, port: int) -> dict[str, str]:
    """Prefect's settings for a server that only its own UI and clients may drive: CORS for the UI's own
    origins only, and CSRF tokens on every request that changes something (the UI and Prefect's
    client fetch them; a page elsewhere cannot read one)."""
    return {
        "PREFECT_SERVER_API_CORS_ALLOWED_ORIGINS": ",".join(ui_origins(host, port)),
        "PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED": "true",
    }


def main(argv: list[str]) -> None:
    import prefect
    import uvicorn
    from prefect.server.api.server import create_app
    from prefect.settings import PREFECT_SERVER_API_KEEPALIVE_TIMEOUT

    host, port = argv[0], int(argv[1])
    refusals = logging.getLogger("tarjama.app.web")  # each refused host, in the server's log
    refusals.setLevel(logging.INFO)
    refusals.addHandler(logging.StreamHandler())
    app = HostAllowList(create_app(final=True), allowed_hosts_for(host))
    uvicorn.run(
        app,
        app_dir=str(prefect.__module_path__.parent),
        host=host,
        port=port,
        timeout_keep_alive=PREFECT_SERVER_API_KEEPALIVE_TIMEOUT.value(),
        log_level="info",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
