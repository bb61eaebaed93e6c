"""The ASGI app: an index of runs, downloads under ``/files/``, the corpus viewer under ``/view/``.

Every request first passes :class:`HostAllowList`: a page on another site can
point its own host name at 127.0.0.1 (DNS rebinding) and so reach this server
from the user's browser, but its requests still carry that foreign name in
``Host``, and are refused; a page on another site that calls this server by its
own name sends its site in ``Origin``, and is refused too.

Paths that name files are taken from the raw request target (``raw_path``),
not from the server's decoded ``path``, so that :mod:`tarjama.app.download`
decodes them exactly once and every traversal refusal applies unchanged.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from tarjama.app.download import (
    FILES_PREFIX,
    VIEW_PREFIX,
    DownloadIsFolder,
    DownloadNotFound,
    DownloadRefused,
    content_disposition,
    is_run_folder,
    resolve_download,
    safe_relative,
    served_files,
    viewer_url,
)
from tarjama.app.web.viewer import CorpusCache, QueryError, RowQuery, page, summary
from tarjama.errors import InputError, printable

log = logging.getLogger("tarjama.app.web")

STATIC = Path(__file__).with_name("static")
CORPUS_FILE = "aligned.parquet"
API_PREFIX = "/api/runs/"

PAGE_POLICY = (  # the viewer's own scripts and styles only: no inline code, no other origin
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# a served HTML report may show its plots and styles, but runs no script
FILE_POLICY = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
COMMON_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def host_name(header: str) -> str:
    """``Host`` without port, brackets or trailing dot, lower-cased: ``[::1]:4201`` → ``::1``."""
    header = header.strip().lower()
    if header.startswith("["):
        name = header[1 : header.find("]")] if "]" in header else header
    elif header.count(":") == 1:
        name = header.split(":", 1)[0]
    else:
        name = header
    return name.rstrip(".")


def host_port(header: str) -> int:
    """The port of a ``Host`` header (80 when it names none): ``[::1]:4201`` → 4201."""
    tail = header.strip().rsplit("]", 1)[-1] if header.strip().startswith("[") else header.strip()
    if tail.count(":") != 1:
        return 80
    digits = tail.rsplit(":", 1)[1]
    return int(digits) if digits.isascii() and digits.isdigit() else -1  # "²" is a digit to isdigit, not to int


class HostAllowList:
    """Answer only requests whose ``Host`` names this server as it is served (others get 421, none 400), and,
    when a browser says which page sent a request (``Origin``), only pages this server itself serves (403).

    The Origin check is what keeps another site's page from using the server through the user's browser:
    a WebSocket is not bound by CORS (Prefect's event stream carries every artifact), and a "simple" POST
    (``text/plain``) is sent without asking first. Browsers send ``Origin`` on both; command-line clients
    send none, and pass.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(host_name(h) for h in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):  # lifespan
            return await self.app(scope, receive, send)
        hosts = [value.decode("latin-1") for name, value in scope["headers"] if name == b"host"]
        origins = [value.decode("latin-1") for name, value in scope["headers"] if name == b"origin"]
        if len(hosts) == 1 and host_name(hosts[0]) in self.allowed:
            foreign = [origin for origin in origins if not self._own_origin(origin, hosts[0])]
            if not foreign:
                return await self.app(scope, receive, send)
            log.info("refused a request from a page at %r (not one this server serves)", printable(foreign[0][:100]))
            status, body = 403, "forbidden: this server answers only the pages it serves itself\n"
        else:
            if hosts:
                log.info("refused a request for host %r (not one this server is served as)", printable(hosts[0][:100]))
            status, body = 421, "misdirected request: this server does not serve that host name\n"
            if len(hosts) != 1:
                status, body = 400, "bad request: exactly one Host header is required\n"
        if scope["type"] == "websocket":  # closed before it is accepted: the handshake fails with 403
            return await send({"type": "websocket.close", "code": 1008})
        await _text(status, body)(scope, receive, send)

    def _own_origin(self, origin: str, host: str) -> bool:
        """Whether ``origin`` is a page of this server: plain HTTP, one of its names, the port it was reached on."""
        try:
            parts = urlsplit(origin.strip())
            port = parts.port or 80
        except ValueError:
            return False
        return parts.scheme == "http" and host_name(parts.netloc) in self.allowed and port == host_port(host)


def _text(status: int, body: str) -> Response:
    return PlainTextResponse(body, status, headers=COMMON_HEADERS)


def _raw_tail(request: Request, prefix: str) -> str | None:
    """The request target after ``prefix``, still percent-encoded; None if the raw target does not start so."""
    raw = request.scope.get("raw_path", b"").decode("latin-1")
    return raw[len(prefix) :] if raw.startswith(prefix) else None


def create_app(root: Path, allowed_hosts: Iterable[str]) -> Starlette:
    """The app serving the run folders under ``root`` to requests for one of ``allowed_hosts``."""
    root = root.resolve()
    corpora = CorpusCache()

    def run_corpus(request: Request, prefix: str, suffix: str = "") -> Path:
        """The ``aligned.parquet`` of the run named by one raw path segment after ``prefix``."""
        tail = _raw_tail(request, prefix)
        if tail is None or not tail.endswith(suffix):
            raise DownloadNotFound(request.url.path)
        run = tail[: len(tail) - len(suffix)]
        if "/" in safe_relative(run):
            raise DownloadNotFound(run)
        return resolve_download(root, f"{run}/{CORPUS_FILE}", runs=True).path

    async def index(request: Request) -> Response:
        return HTMLResponse(await run_in_threadpool(runs_index, root), headers=COMMON_HEADERS | _page_headers())

    async def health(request: Request) -> Response:
        return _text(200, "ok\n")

    async def download(request: Request) -> Response:
        tail = _raw_tail(request, FILES_PREFIX)
        try:
            if tail is None:
                raise DownloadNotFound(request.url.path)
            found = resolve_download(root, tail, runs=True)
            status = found.path.stat()
        except DownloadRefused:
            return _text(403, "forbidden: only files inside the output folder are served\n")
        except DownloadIsFolder:
            return _text(404, "not found: a folder, not a file (the runs and their files are listed at /)\n")
        except (DownloadNotFound, OSError):
            return _text(404, "not found\n")
        headers = COMMON_HEADERS | {
            "Content-Disposition": content_disposition(found.filename, found.inline),
            "Content-Security-Policy": FILE_POLICY,
            "Cache-Control": "no-store",
        }
        return FileResponse(found.path, headers=headers, media_type=found.content_type, stat_result=status)

    async def viewer(request: Request) -> Response:
        try:
            run_corpus(request, VIEW_PREFIX)
        except DownloadRefused:
            return _text(403, "forbidden: only runs inside the output folder are served\n")
        except (DownloadNotFound, OSError):
            return HTMLResponse(_not_found_page(request.path_params["run"]), 404, headers=_page_headers())
        return FileResponse(STATIC / "viewer.html", headers=_page_headers(), media_type="text/html; charset=utf-8")

    async def corpus_api(request: Request) -> Response:
        endpoint = request.path_params["endpoint"]
        if endpoint not in ("rows", "summary"):
            return _json(404, {"error": f"no such view: {endpoint}"})
        try:
            path = run_corpus(request, API_PREFIX, f"/{endpoint}")
            if endpoint == "summary":
                body = summary(await run_in_threadpool(corpora.get, path))
            else:
                query = RowQuery.from_params(dict(request.query_params))
                body = page(await run_in_threadpool(corpora.get, path), query)
        except DownloadRefused:
            return _json(403, {"error": "only runs inside the output folder are served"})
        except (DownloadNotFound, FileNotFoundError):
            return _json(404, {"error": f"no {CORPUS_FILE} in this run"})
        except QueryError as problem:
            return _json(400, {"error": str(problem)})
        except InputError as problem:  # the file exists but is not an aligned corpus
            return _json(422, {"error": f"{CORPUS_FILE}: {problem.problem}"})
        return _json(200, body)

    routes = [
        Route("/", index),
        Route("/files", index),
        Route("/files/", index),
        Route("/health", health),
        Route(FILES_PREFIX + "{rest:path}", download),
        Route(VIEW_PREFIX + "{run}", viewer),
        Route(API_PREFIX + "{run}/{endpoint:str}", corpus_api),
        Mount("/static", StaticFiles(directory=STATIC, follow_symlink=False), name="static"),
    ]
    app = Starlette(routes=routes)
    app.add_middleware(HostAllowList, allowed_hosts=tuple(allowed_hosts))
    return app


def _page_headers() -> dict[str, str]:
    return COMMON_HEADERS | {"Content-Security-Policy": PAGE_POLICY, "Cache-Control": "no-store"}


def _json(status: int, body: dict[str, Any]) -> Response:
    return JSONResponse(body, status, headers=COMMON_HEADERS | {"Cache-Control": "no-store"})


def _not_found_page(run: str) -> str:
    return _page(
        "run not found",
        f'<p>No <code>{CORPUS_FILE}</code> in run <strong>{_label(run)}</strong>.</p><p><a href="/">All runs</a></p>',
    )


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)}</title><link rel="icon" href="/static/favicon.svg">'
        '<link rel="stylesheet" href="/static/viewer.css"></head>'
        f'<body class="plain"><h1>{html.escape(title)}</h1>{body}</body></html>\n'
    )


def _label(name: str) -> str:
    """A run or file name as the page shows it: escaped for HTML, its bidi overrides and other invisible
    characters shown as escapes (``\\u202e``) so they cannot reorder the text around them."""
    return html.escape(printable(name))


def runs_index(root: Path) -> str:
    """An HTML page listing every finished run folder (newest first), its viewer and its files."""
    runs = (
        sorted(
            (p for p in root.iterdir() if not p.name.startswith(".") and not p.is_symlink() and is_run_folder(p)),
            key=lambda p: p.name,
            reverse=True,
        )
        if root.is_dir()
        else []
    )
    items = []
    for run in runs:
        files = served_files(root, run.name)
        links = " · ".join(
            f'<a href="{html.escape(FILES_PREFIX + quote(run.name) + "/" + quote(name))}">{_label(name)}</a>'
            for name in files
        )
        view = (
            f' <a class="view" href="{html.escape(viewer_url("", run.name))}">view side by side</a>'
            if CORPUS_FILE in files
            else ""
        )
        items.append(f'<li><strong class="run">{_label(run.name)}</strong>{view}<br>{links}</li>')
    body = "\n".join(items) or "<li>no runs yet</li>"
    return _page("tarjama outputs", f"<p>{_label(str(root))}</p><ul class=runs>\n{body}\n</ul>")
