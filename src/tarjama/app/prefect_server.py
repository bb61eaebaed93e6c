"""A Prefect server shared by consecutive tarjama commands of one home, never managed by the user.

Starting a Prefect server costs about 6 s; a private one per ``tarjama run`` paid it on every run.
Instead the first command that needs an API starts this one, detached, on a free 127.0.0.1 port,
and records it in ``<home>/prefect-server.json``; later commands reuse it while it answers, and it
stops by itself once nothing has used it for its idle time (``TARJAMA_PREFECT_SERVER_IDLE``,
default 10 min).

How it is kept honest:

- *who is using it*: a command holds a lease, ``<home>/prefect-server.users/<pid>``, while it talks
  to the server (a long run may send nothing for minutes); the server counts a lease whose process
  is alive, and every request, as use;
- *races*: starting, reusing (which takes a lease) and stopping for idleness happen under one lock,
  ``<home>/prefect-server.lock``, so a command never takes a server that is about to stop, and two
  commands never start two servers;
- *stale records*: a record is trusted only if its server answers ``/tarjama/identity`` with the
  record's token (a dead pid, or a port now held by someone else, fails that); such a record is
  replaced by a new server;
- *who may talk to it*: it binds 127.0.0.1 only and, like the servers of ``tarjama serve``, answers
  only the Host names of this machine's loopback and pages it serves itself, the identity probe
  included (:class:`tarjama.app.web.app.HostAllowList`), with CORS for its own origins only and CSRF
  tokens required on every change (:func:`tarjama.app.web.prefect_server.guard_settings`; Prefect's
  client fetches them).

This module imports no Prefect at module level: the server process imports it, the commands only
talk to it over HTTP.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tarjama.corpus.outputs import pid_alive
from tarjama.errors import TarjamaError
from tarjama.private_files import make_private_dir, write_private

RECORD = "prefect-server.json"
USERS = "prefect-server.users"
LOCK = "prefect-server.lock"
LOG = "prefect-shared-server.log"
IDENTITY_PATH = "/tarjama/identity"
DEFAULT_IDLE_S = 600.0
START_TIMEOUT_S = 240.0
HOST = "127.0.0.1"


@dataclass(frozen=True)
class SharedServer:
    """What ``<home>/prefect-server.json`` records: the server's process, port and identity token."""

    pid: int
    port: int
    token: str
    idle_s: float

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.port}/api"

    def answers(self, timeout: float = 2.0) -> bool:
        """Whether this very server answers (not just something on its port)."""
        import http.client

        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            connection.request("GET", IDENTITY_PATH)
            response = connection.getresponse()
            return response.status == 200 and response.read().decode(errors="replace") == self.token
        except OSError:
            return False
        finally:
            connection.close()


def read_record(home: Path) -> SharedServer | None:
    try:
        raw = json.loads((home / RECORD).read_text())
        return SharedServer(int(raw["pid"]), int(raw["port"]), str(raw["token"]), float(raw["idle_s"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def running_api_url(home: Path) -> str | None:
    """The shared server's API if it is running and answering; never starts one."""
    record = read_record(home)
    return record.api_url if record is not None and record.answers() else None


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    make_private_dir(home)
    with (home / LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lease(home: Path) -> Path:
    return home / USERS / str(os.getpid())


@contextlib.contextmanager
def shared_api(home: Path, idle_s: float = DEFAULT_IDLE_S, start_timeout: float = START_TIMEOUT_S) -> Iterator[str]:
    """The shared server's API URL, started if needed, leased for as long as the block lasts.

    The caller has applied Prefect's settings for ``home``
    (:func:`tarjama.flows.environment.configure_prefect`): the server inherits them.
    """
    lease = _lease(home)
    with _locked(home):
        record = read_record(home)
        if record is None or not record.answers():
            record = _start(home, idle_s, start_timeout)
        lease.parent.mkdir(parents=True, exist_ok=True)
        lease.touch()
    try:
        yield record.api_url
    finally:
        lease.unlink(missing_ok=True)


def _start(home: Path, idle_s: float, timeout: float) -> SharedServer:
    """A new server on a port bound here and handed over (no other process can take it meanwhile)."""
    from tarjama.app.web.prefect_server import guard_settings  # the web app's modules: only when starting one

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((HOST, 0))
    port = listener.getsockname()[1]
    token = secrets.token_hex(16)
    log = home / LOG
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env |= {"PREFECT_UI_ENABLED": "false", "PREFECT_SERVER_UI_ENABLED": "false"}  # runs need only the API
    env |= guard_settings(HOST, port)  # as `tarjama serve`'s: CORS for its own origins, CSRF tokens required
    command = [
        sys.executable,
        "-m",
        "tarjama.app.prefect_server",
        str(home),
        str(listener.fileno()),
        token,
        str(idle_s),
    ]
    with log.open("ab") as output:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            pass_fds=(listener.fileno(),),
            start_new_session=True,  # detached: it outlives this command, and no Ctrl-C of it reaches the server
        )
    record = SharedServer(process.pid, port, token, idle_s)
    listener.close()  # the server holds its own copy
    deadline = time.monotonic() + timeout
    while not record.answers(timeout=1.0):
        if process.poll() is not None:
            raise TarjamaError(f"the Prefect server exited while starting:\n{log.read_text(errors='replace')[-2000:]}")
        if time.monotonic() > deadline:
            process.terminate()
            raise TarjamaError(f"the Prefect server did not answer within {timeout:.0f} s (log: {log})")
        time.sleep(0.2)
    write_private(home / RECORD, json.dumps(asdict(record)) + "\n")  # its token: this user's alone
    return record


# --- the server process ------------------------------------------------------------------------


class Activity:
    """When the server was last used: a request, or a live command's lease; idle after ``idle_s``."""

    def __init__(self, home: Path, idle_s: float) -> None:
        self.home = home
        self.idle_s = idle_s
        self.last = time.monotonic()

    def touch(self) -> None:
        self.last = time.monotonic()

    def leased(self) -> bool:
        """Whether a command holding a lease is alive; leases of dead processes are removed."""
        found = False
        for lease in (self.home / USERS).glob("*"):
            if pid_alive(int(lease.name)) if lease.name.isdigit() else False:
                found = True
            else:
                lease.unlink(missing_ok=True)
        return found

    def stop_if_idle(self) -> bool:
        """True (and the record removed, so no command takes this server any more) once idle."""
        with _locked(self.home):
            if self.leased():
                self.touch()
            if time.monotonic() - self.last < self.idle_s:
                return False
            record = read_record(self.home)
            if record is not None and record.pid == os.getpid():
                (self.home / RECORD).unlink(missing_ok=True)
            return True


class Watched:
    """The ASGI app wrapped: answers the identity probe, counts every other request as use."""

    def __init__(self, app: Any, token: str, activity: Activity) -> None:
        self.app = app
        self.token = token.encode()
        self.activity = activity

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == IDENTITY_PATH:
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            await send({"type": "http.response.body", "body": self.token})
            return
        if scope["type"] in ("http", "websocket"):
            self.activity.touch()
        await self.app(scope, receive, send)


def serve_shared(home: Path, listener: socket.socket, token: str, idle_s: float) -> None:
    """Run Prefect's API on ``listener`` until idle for ``idle_s`` (or SIGTERM)."""
    import uvicorn
    from prefect.server.api.server import create_app

    from tarjama.app.web.app import HostAllowList
    from tarjama.app.web.server import allowed_hosts_for

    activity = Activity(home, idle_s)
    # the Host and Origin checks first: the identity probe, too, answers only this server's own names and pages
    app = HostAllowList(Watched(create_app(final=True), token, activity), allowed_hosts_for(HOST))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_keep_alive=30))

    def watch() -> None:
        while not server.should_exit:
            time.sleep(min(5.0, max(0.2, idle_s / 4)))
            if activity.stop_if_idle():
                print(f"idle for {idle_s:.0f} s: stopping", flush=True)
                server.should_exit = True

    threading.Thread(target=watch, daemon=True, name="idle-watch").start()
    try:
        server.run(sockets=[listener])
    finally:
        with _locked(home):
            record = read_record(home)
            if record is not None and record.pid == os.getpid():
                (home / RECORD).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="tarjama's shared Prefect server (started by tarjama itself)")
    parser.add_argument("home", type=Path)
    parser.add_argument("fd", type=int, help="the listening socket, bound by the command that starts the server")
    parser.add_argument("token")
    parser.add_argument("idle_s", type=float)
    options = parser.parse_args(argv)
    listener = socket.socket(fileno=options.fd)
    listener.listen(socket.SOMAXCONN)
    serve_shared(options.home, listener, options.token, options.idle_s)


if __name__ == "__main__":
    main()
