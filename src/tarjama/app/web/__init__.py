"""The web app of ``tarjama serve``: run downloads and the side-by-side corpus viewer, one ASGI app.

:func:`create_app` builds the Starlette app for an output folder;
:func:`start_web_server` runs it with uvicorn in a background thread and
returns a handle with ``.url`` and ``.stop()``. The static files of the
viewer live in ``static/`` beside this module (package data).
"""

from tarjama.app.web.app import create_app
from tarjama.app.web.server import WebServer, allowed_hosts_for, start_web_server, url_host

__all__ = ["WebServer", "allowed_hosts_for", "create_app", "start_web_server", "url_host"]
