"""``tarjama serve``: the Prefect UI as the user's window onto tarjama.

One process starts (or reuses) three things and stops what it started on
Ctrl-C or SIGTERM:

1. a Prefect server (:mod:`tarjama.app.web.prefect_server`, Prefect's own app behind the download app's
   Host allow-list, with CORS for its own UI only and CSRF tokens required, as a child process in its
   own session) whose SQLite database lives under ``<home>/prefect`` (see
   :mod:`tarjama.flows.environment`); a port already in use is refused in one line (a server of
   one's own is used through ``PREFECT_API_URL``);
2. the web app (:mod:`tarjama.app.web`, Starlette on uvicorn in a thread): the files under the
   output folder at ``/files/<run>/<file>``, an index at ``/`` and the side-by-side viewer at
   ``/view/<run>``; :mod:`tarjama.app.download` decides what may be served;
3. a Prefect runner that registers the ``tarjama-run/articles`` deployment
   and executes the runs started from the UI (one at a time: a local model
   uses every core), each within :class:`UiRunPolicy`.

How a run learns the download address: ``serve`` puts it in the settings
(``download_url``, e.g. ``http://127.0.0.1:4201``) of the runs it
executes; a run started elsewhere (``tarjama run``) uses the same default,
so its links work once ``tarjama serve`` runs with the default ports and the
same output folder. ``serve`` also writes ``<home>/serve.json`` (the
API, UI and download URLs) while it runs, so ``tarjama runs`` and
``tarjama download`` talk to this server rather than the ephemeral one.
"""

from __future__ import annotations

import ctypes
import json
import logging
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tarjama.app.download import DEFAULT_DOWNLOAD_PORT
from tarjama.app.runs import FLOW
from tarjama.app.runs import SERVE_STATE as STATE_FILE
from tarjama.app.web import WebServer, start_web_server, url_host
from tarjama.app.web.prefect_server import guard_settings
from tarjama.errors import TarjamaError, printable
from tarjama.private_files import make_private_dir, write_private
from tarjama.settings import Settings

DEFAULT_PORT = 4200
DEPLOYMENT = "articles"
SERVER_START_TIMEOUT_S = 240.0
RUNNER_GRACE_S = 30.0
"""How long Prefect's runner lets a run's process end after its SIGTERM (a Cancel, or serve stopping) before it
kills it: the most a run waits for its answers in flight, whatever the stop wait."""


def state_path(home: Path) -> Path:
    return home / STATE_FILE


def api_healthy(api_url: str, timeout: float = 2.0) -> bool:
    """Whether a Prefect API answers at ``api_url``.

    Asked every 0.5 s while a server starts: a plain-HTTP probe builds no TLS context, which would
    load the CA bundle each time (0.1 s of CPU, taken from the starting server on 2 cores).
    """
    try:
        response = httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout, verify=api_url.startswith("https:"))
    except httpx.HTTPError:
        return False
    return response.status_code == 200


# --- the Prefect server ----------------------------------------------------------------------


@dataclass
class PrefectServer:
    """A ``prefect server start`` child in its own session, or one that was already answering.

    The child dies with its parent, however the parent dies (SIGKILL included): Linux's
    parent-death signal, set in the child before it starts, sends it SIGTERM. ``ui=False`` serves
    only the API (a run's private server: no UI to build, faster to start).
    """

    host: str
    port: int
    log_path: Path
    ui: bool = True
    process: subprocess.Popen[bytes] | None = None
    api_url: str = field(init=False)

    def __post_init__(self) -> None:
        self.api_url = f"http://{url_host(self.host)}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")

    def check_port(self) -> None:
        """Refuse in one line if something already listens on the port (a second ``serve``, say): sharing
        one Prefect server, two ``serve`` would register one deployment with two output folders."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((self.host, self.port))
            except OSError as problem:
                answering = (
                    " (a Prefect server answers there: another tarjama serve?)" if api_healthy(self.api_url) else ""
                )
                raise TarjamaError(
                    f"cannot start the Prefect server on {self.host}:{self.port}: {problem.strerror or problem}"
                    f"{answering}; stop it or choose another --port"
                ) from None

    def start_or_reuse(self, say: Callable[[str], None], timeout: float = SERVER_START_TIMEOUT_S) -> bool:
        """True if a server was started (and so must be stopped), False if one was reused.

        A started one is :mod:`tarjama.app.web.prefect_server`: Prefect's app behind the Host allow-list, with
        CORS for its own UI only and CSRF tokens required."""
        if api_healthy(self.api_url):
            say(f"reusing the Prefect server already answering at {self.api_url}")
            return False
        env = dict(os.environ)
        env.pop("PREFECT_API_URL", None)
        env |= {
            "PREFECT_SERVER_API_HOST": self.host,
            "PREFECT_SERVER_API_PORT": str(self.port),
            "PREFECT_UI_API_URL": self.api_url,  # the UI calls the API at this address, not the default port
            "PREFECT_UI_ENABLED": "true" if self.ui else "false",
            **guard_settings(self.host, self.port),
        }
        make_private_dir(self.log_path.parent)
        say(f"starting a Prefect server (home {env['PREFECT_HOME']}; log {self.log_path}) ...")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tarjama.app.web.prefect_server", self.host, str(self.port)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent(os.getpid()),
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log_path.read_text(errors="replace")[-2000:]
                self.process = None
                raise TarjamaError(f"the Prefect server exited while starting:\n{tail}")
            if api_healthy(self.api_url):
                return True
            time.sleep(0.5)
        self.stop()
        raise TarjamaError(f"the Prefect server did not answer within {timeout:.0f} s (log: {self.log_path})")

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM to the server's own process group, SIGKILL if it lingers."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


def _die_with_parent(parent: int) -> Callable[[], None]:
    """Run in the child before exec: SIGTERM it when ``parent`` dies (Linux ``PR_SET_PDEATHSIG``)."""

    def arrange() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # not Linux: the parent's own clean-up still stops it
            return
        if os.getppid() != parent:  # the parent died before the signal was arranged
            os._exit(1)

    return arrange


def ui_base_url(ui_url: str) -> str:
    """Where the server's default UI lives (Prefect 3.9 serves its new UI under ``/v2``, the old one at ``/``)."""
    try:
        settings = httpx.get(f"{ui_url}/ui-settings", timeout=5).json()
        base = settings[f"{settings['default_ui']}_base_url"]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return ui_url
    return ui_url + base.rstrip("/") if isinstance(base, str) else ui_url


@contextmanager
def web_log_printed(say: Callable[[str], None]) -> Iterator[None]:
    """The web app's log lines (a refused host, a stalled reader closed, a client gone mid-download) printed
    with ``say`` while ``serve`` runs, whatever logging Prefect set up."""

    class Say(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            say(printable(f"downloads: {record.getMessage()}"))

    logger, handler = logging.getLogger("tarjama.app.web"), Say(logging.INFO)
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


# --- the deployment and its runner -----------------------------------------------------------


def deployment_run_name() -> str:
    """Runs started from the UI are named like ``tarjama run`` names its output folders."""
    from prefect.runtime import flow_run

    from tarjama.corpus.outputs import new_run_name

    return new_run_name(list(flow_run.parameters.get("sources") or []))


UI_SETTABLE = ("engine", "checks", "rows", "translate")
"""The settings a run started from the UI may choose; every other one (home, memory, engine URLs, models
and keys, download URL, rates, retries) is the server's own, whatever the run asks."""
_GLOB_MAGIC = frozenset("*?[")


@dataclass(frozen=True)
class UiRunPolicy:
    """What a run started through the deployment (the Prefect UI or its API) may ask for.

    Anyone who reaches the API can fill in the run form, so its parameters are input: the outputs go
    only under the folder ``serve`` offers, articles and references are read only from the folders the
    user chose (``--article``'s folders, and where ``serve`` was started: relative paths in the form are
    read from there), and the settings are the server's own apart from :data:`UI_SETTABLE`.
    """

    out: Path
    source_roots: tuple[Path, ...]
    settings: Settings

    @classmethod
    def for_serve(cls, settings: Settings, out: Path, articles: Sequence[Path]) -> UiRunPolicy:
        roots = [a if a.is_dir() else a.parent for a in (Path(p).resolve() for p in articles)] + [Path.cwd()]
        return cls(out.resolve(), tuple(dict.fromkeys(roots)), settings)

    def apply(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """``parameters`` (validated by the flow) as this server allows them; a :class:`TarjamaError` names what is not.

        Every file the run would read is checked here, before any is read: each path given (a manifest,
        an article, a reference, a folder), then each match of a glob, each file of a folder and each
        reference beside an article (:func:`~tarjama.corpus.inputs.collect_articles`, which lists folders
        but reads no file when given no manifest)."""
        from tarjama.corpus.inputs import collect_articles, is_manifest

        out = Path(parameters.get("out") or self.out).expanduser().resolve()
        if not out.is_relative_to(self.out):
            raise TarjamaError(f"out={parameters.get('out')}: a run started from the UI writes only under {self.out}")
        sources = [str(item) for item in parameters.get("sources") or []]
        for name, items in (("sources", sources), ("references", parameters.get("references") or [])):
            for item in map(str, items):  # a glob's folder before its matches: nothing outside is even listed
                fixed = (
                    item if Path(item).exists() else item[: min(map(item.find, _GLOB_MAGIC & set(item)), default=None)]
                )
                self.check_readable(Path(fixed or "."), f"{name}: {item}")
        articles = [source for source in sources if not is_manifest(source)]
        if articles:
            collect_articles(articles, (), self.check_readable)
        asked = parameters.get("settings")
        allowed = {key: getattr(asked, key) for key in UI_SETTABLE if asked is not None and hasattr(asked, key)}
        return parameters | {"out": str(out), "settings": self.settings.model_copy(update=allowed)}

    def check_readable(self, path: Path, shown: str) -> None:
        """A :class:`TarjamaError` naming ``shown`` unless ``path``, its symlinks and ``..`` resolved, lies
        under an allowed folder. The message holds only what the user gave: nothing of what is outside.
        No ``~`` is expanded: the run reads ``~/x`` as a folder named ``~``, and so it is checked."""
        where = _resolved(path)
        if not any(where.is_relative_to(root) for root in self.source_roots):
            roots = ", ".join(str(r) for r in self.source_roots)
            raise TarjamaError(
                f"{shown}: outside the allowed folders; a run started from the UI reads only files under {roots}"
            )


def _resolved(path: Path) -> Path:
    """``path`` with its symlinks and ``..`` resolved, as far as it exists (a file not there yet: the run
    says so, if it may read where it would be); a symlink loop as the folder it is in, resolved: reading it
    fails (too many levels of symbolic links) and reads nothing."""
    try:
        try:
            return path.resolve(strict=True)
        except OSError:
            return path.resolve()
    except RuntimeError:  # Python 3.11 names a loop so, strict or not
        return path if path.parent == path else _resolved(path.parent) / path.name


DEPLOYMENT_DESCRIPTION = """\
Translate Arabic articles into English, align them with their human references and score them.

Run → Custom run shows the form: `sources` (`.ar.txt` files, folders, globs or manifests, absolute or
relative to where `tarjama serve` runs; references are found beside each article as `<id>.en.txt`),
`references` (more reference files, matched to articles by id), `engine`, `formats`, `rows`, and under
`advanced` the checks, the unit translation mode, filtered copies and deduplication. Every other
setting is the server's. Each run writes `<run>/aligned.tsv`, `aligned.parquet`, `scores.json` and
`report.md` under the folder `tarjama serve` offers, and shows a report, the first aligned rows and
download links as artifacts.
"""


@dataclass
class Served:
    """What ``tarjama serve`` is offering, as printed and as written to ``serve.json``."""

    api_url: str
    ui_url: str
    download_url: str
    deployment_id: str
    out: str
    quick_run: bool = True  # the form has default sources (--article, or the seed article): Quick run starts a run
    pid: int = field(default_factory=os.getpid)

    @property
    def deployment_url(self) -> str:
        return f"{self.ui_url}/deployments/deployment/{self.deployment_id}"

    def lines(self) -> list[str]:
        how = (
            "Run → Quick run, or Custom run for the form"
            if self.quick_run
            else "Run → Custom run, and fill in sources: without --article the form has no default articles"
        )
        return [
            f"Prefect UI:   {self.ui_url}/runs",
            f"deployment:   {self.deployment_url}  ({FLOW}/{DEPLOYMENT}: {how})",
            f"Prefect API:  {self.api_url}",
            f"downloads:    {self.download_url}/  (files under {self.out})",
            "Press Ctrl-C to stop.",
        ]


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    download_port: int = DEFAULT_DOWNLOAD_PORT,
    out: Path = Path("output"),
    articles: Sequence[Path] = (),
    say: Callable[[str], None] = print,
) -> None:
    """Start the Prefect server, the download server and the runner; block until Ctrl-C/SIGTERM.

    The caller has applied Prefect's settings for ``settings.home``
    (:func:`tarjama.flows.environment.configure_prefect`).
    """
    home = settings.home
    out = out.resolve()
    user_api = os.environ.get("PREFECT_API_URL")
    server = PrefectServer(host, port, home / "prefect-server.log")
    if not user_api:
        server.check_port()  # before anything starts: a second serve on this port is refused in one line
    out.mkdir(parents=True, exist_ok=True)

    def terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # the runner installs its own graceful SIGTERM handler once it starts

    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, terminate)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even if started with SIGINT ignored
    downloads: WebServer | None = None
    state = state_path(home)
    stack = ExitStack()
    try:
        stack.enter_context(web_log_printed(say))
        downloads = start_web_server(out, host, download_port)  # first: a busy port fails at once
        download_url = downloads.url
        if user_api:
            server.api_url = user_api.rstrip("/")
            if not api_healthy(server.api_url):
                raise TarjamaError(f"PREFECT_API_URL={user_api} does not answer")
            say(f"using the Prefect server at PREFECT_API_URL={user_api}")
        else:
            server.start_or_reuse(say)
        os.environ["PREFECT_API_URL"] = server.api_url  # Prefect's setting, for the runs the runner starts
        served_settings = settings.model_copy(update={"download_url": download_url})
        run_deployment_runner(server, served_settings, out, articles, state, say)
    except KeyboardInterrupt:
        pass
    finally:
        say("stopping ...")
        if downloads is not None:
            downloads.stop()
        server.stop()
        _remove_state(state)
        stack.close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, signal.default_int_handler)
        say("stopped.")


def run_deployment_runner(
    server: PrefectServer,
    settings: Settings,
    out: Path,
    articles: Sequence[Path],
    state: Path,
    say: Callable[[str], None],
) -> None:
    import asyncio

    from prefect.deployments.runner import EntrypointType
    from prefect.exceptions import TerminationSignal
    from prefect.runner import Runner
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from tarjama.flows.deployment import form_defaults, with_run_form
    from tarjama.flows.pipeline import run

    policy = UiRunPolicy.for_serve(settings, out, articles)
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        runner = Runner(name="tarjama-serve", query_seconds=2, limit=1, pause_on_shutdown=False)
        # add_flow keeps the flow in memory: runs start from it in a subprocess, wherever serve runs
        deployment_id = runner.add_flow(
            with_run_form(run, policy, deployment_run_name),
            name=DEPLOYMENT,
            parameters=form_defaults(settings, articles),
            description=DEPLOYMENT_DESCRIPTION,
            tags=["tarjama"],
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        download_url = settings.download_url
        assert download_url is not None, "serve gives its runs its own download URL"
        served = Served(
            server.api_url, ui_base_url(server.ui_url), download_url, str(deployment_id), str(out), bool(articles)
        )
        make_private_dir(state.parent)
        write_private(state, json.dumps(served.__dict__ | {"deployment_url": served.deployment_url}, indent=2) + "\n")
        try:
            asyncio.run(_run_until_interrupted(runner, served, say, settings.stop_wait))
        except TerminationSignal:
            pass


async def _run_until_interrupted(
    runner: Any, served: Served, say: Callable[[str], None], stop_wait: float = 10.0
) -> None:
    """Run ``runner`` until Ctrl-C or SIGTERM, which stop its runs in progress; a second Ctrl-C forces.

    The signals are handled as event-loop callbacks, never in the middle of other code, and the
    URLs are printed only once they are: a Ctrl-C right after "Press Ctrl-C" is never lost.
    """
    import asyncio

    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    main = asyncio.ensure_future(runner.start())
    interrupts = 0

    def interrupt() -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            say(
                f"Ctrl-C: stopping runs in progress, which send no new request and keep the answers in flight "
                f"(waiting up to {min(stop_wait, RUNNER_GRACE_S):g} s), and the servers (Ctrl-C again to force and lose them) ..."
            )
            # SIGTERM to each run's process: it stops translating, waits for the answers in flight (up to the
            # stop wait) and stores them, then its engine ends the run (Crashed); the runner's cancellation
            # sends SIGTERM again (ignored meanwhile) and kills what is left after RUNNER_GRACE_S
            for child in multiprocessing.active_children():
                child.terminate()
            stop_requested.set()
        else:
            say("Ctrl-C again: killing runs in progress ...")
            for child in multiprocessing.active_children():
                child.kill()
            main.cancel()

    async def stop_when_asked() -> None:
        while not runner.started and not main.done():  # runner.start() installs its own SIGTERM handler
            await asyncio.sleep(0.05)
        loop.add_signal_handler(signal.SIGTERM, interrupt)
        await stop_requested.wait()
        if not main.done():
            await runner.astop()

    loop.add_signal_handler(signal.SIGINT, interrupt)
    stopper = asyncio.ensure_future(stop_when_asked())
    for line in served.lines():
        say(line)
    try:
        await main
    except asyncio.CancelledError:
        pass
    finally:
        stopper.cancel()
        loop.remove_signal_handler(signal.SIGINT)
        loop.remove_signal_handler(signal.SIGTERM)


def _remove_state(state: Path) -> None:
    """Remove ``serve.json`` if this process wrote it."""
    try:
        if json.loads(state.read_text()).get("pid") == os.getpid():
            state.unlink()
    except (OSError, ValueError):
        pass
