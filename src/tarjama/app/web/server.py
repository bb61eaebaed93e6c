"""Run the web app with uvicorn in a background thread: one event loop, not one thread per connection.

uvicorn closes a connection that stays idle for ``timeout_keep_alive``
seconds, but only between requests. :class:`IdleTimeoutProtocol` also
starts that clock when the connection opens and keeps it running until a
whole request head has arrived, so neither a silent client nor one that
dribbles a header a byte at a time holds its connection for long; and a
client that takes none of its response for that long (a stalled reader) is
closed too. When the server stops, a response still being sent gets
``SHUTDOWN_GRACE_S`` to finish and is then closed in one log line.
``limit_concurrency`` caps the connections served at once (503 beyond it).
A client that leaves before its response is complete is logged in one line.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from tarjama.app.download import DEFAULT_DOWNLOAD_PORT
from tarjama.app.web.app import create_app
from tarjama.errors import TarjamaError

log = logging.getLogger("tarjama.app.web")

IDLE_TIMEOUT_S = 10
MAX_CONNECTIONS = 100
SHUTDOWN_GRACE_S = 3
START_TIMEOUT_S = 30.0
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
EVERY_INTERFACE = ("0.0.0.0", "::", "")


class IdleTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with the idle clock running from the first byte until a request head is in,
    and again whenever the client's buffers are full, until it takes more of its response."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    def data_received(self, data: bytes) -> None:
        timer = self.timeout_keep_alive_task
        super().data_received(data)  # cancels the clock on any byte
        waiting_for_head = self.cycle is None or self.cycle.response_complete
        if timer is not None and waiting_for_head and self.timeout_keep_alive_task is None:
            if not self.transport.is_closing():  # still no whole request: the same deadline, not a new one
                self.timeout_keep_alive_task = self.loop.call_at(timer.when(), self.timeout_keep_alive_handler)

    stall_clock: asyncio.TimerHandle | None = None
    stalled = False
    cut_by_shutdown = False

    def pause_writing(self) -> None:
        """The client's buffers are full: it must take some of the response within the idle time."""
        super().pause_writing()
        self._watch_reader(self.transport.get_write_buffer_size())

    def resume_writing(self) -> None:
        super().resume_writing()
        if self.stall_clock is not None:
            self.stall_clock.cancel()
            self.stall_clock = None

    def _watch_reader(self, unsent: int) -> None:
        self.stall_clock = self.loop.call_later(self.timeout_keep_alive, self._check_reader, unsent)

    def _check_reader(self, unsent_before: int) -> None:
        unsent = self.transport.get_write_buffer_size()
        if unsent < unsent_before:  # slow, but reading: another idle time to take more
            self._watch_reader(unsent)
            return
        self.stall_clock, self.stalled = None, True
        self.transport.abort()

    def shutdown(self) -> None:
        """The server is stopping: a response in progress gets the grace period, then its connection is closed.

        Left to uvicorn, the response's task would be cancelled instead, which it logs as an error in the
        application with two tracebacks, for a download that was merely cut short."""
        super().shutdown()
        if self.cycle is not None and not self.cycle.response_complete:
            self.loop.call_later(SHUTDOWN_GRACE_S, self._close_at_shutdown)

    def _close_at_shutdown(self) -> None:
        if not self.transport.is_closing():
            self.cut_by_shutdown = True
            self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.stall_clock is not None:
            self.stall_clock.cancel()
            self.stall_clock = None
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            scope = cycle.scope
            path = scope["raw_path"].decode("latin-1")[:300]
            address = scope.get("client")
            client = f"{address[0]}:{address[1]}" if address else "a client"
            if self.cut_by_shutdown:
                log.info(
                    "%s was still receiving %s %s when the server stopped: closed after %s s",
                    client,
                    scope["method"],
                    path,
                    SHUTDOWN_GRACE_S,
                )
            elif self.stalled:
                log.info(
                    "%s stopped reading the response to %s %s: closed after %s s",
                    client,
                    scope["method"],
                    path,
                    self.timeout_keep_alive,
                )
            else:
                log.info("%s disconnected before the response to %s %s was complete", client, scope["method"], path)
        super().connection_lost(exc)


def url_host(host: str) -> str:
    """How a browser reaches a server bound to ``host``: for every interface, this machine's name or address."""
    if host not in EVERY_INTERFACE:
        return f"[{host}]" if ":" in host else host
    name = socket.gethostname()
    try:
        if name and not socket.gethostbyname(name).startswith("127."):
            return name
    except OSError:
        pass
    return _outgoing_address() or "127.0.0.1"


def _outgoing_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # sends nothing: only picks the outgoing interface
            return str(probe.getsockname()[0])
        except OSError:
            return None


def allowed_hosts_for(host: str, extra: Iterable[str] = ()) -> list[str]:
    """The ``Host`` names a server bound to ``host`` answers to: loopback, ``host``, and ``extra``.

    Bound to every interface, it also answers to this machine's names and
    addresses, which is how other machines reach it.
    """
    names = [*LOOPBACK_HOSTS, *extra]
    if host not in EVERY_INTERFACE:
        return [*names, host]
    machine = [socket.gethostname(), socket.getfqdn(), url_host(host), _outgoing_address() or ""]
    for name in filter(None, machine[:2]):
        try:
            machine += [str(info[4][0]) for info in socket.getaddrinfo(name, None)]
        except OSError:
            pass
    return [*names, *dict.fromkeys(filter(None, machine))]


def _listen(host: str, port: int) -> socket.socket:
    """A listening socket that names ``IPPROTO_TCP``, so that asyncio turns Nagle's algorithm off.

    asyncio sets ``TCP_NODELAY`` only on sockets whose protocol is ``IPPROTO_TCP``
    (``socket.create_server`` leaves it 0); with Nagle on, a small response waits
    about 40 ms for the client's delayed ACK.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        listener.listen(socket.SOMAXCONN)
    except OSError:
        listener.close()
        raise
    return listener


@dataclass
class WebServer:
    """A running web app: its ``url`` (no trailing slash), and :meth:`stop`."""

    url: str
    host: str
    port: int
    server: uvicorn.Server = field(repr=False)
    thread: threading.Thread = field(repr=False)

    def stop(self, timeout: float = SHUTDOWN_GRACE_S + 7) -> None:
        """Stop accepting, let responses in progress finish for a moment, then close everything."""
        self.server.should_exit = True
        self.thread.join(timeout)
        if self.thread.is_alive():
            self.server.force_exit = True
            self.thread.join(5)


def start_web_server(
    root: Path,
    host: str = "127.0.0.1",
    port: int = DEFAULT_DOWNLOAD_PORT,
    allowed_hosts: Iterable[str] | None = None,
    *,
    idle_timeout: int = IDLE_TIMEOUT_S,
    max_connections: int = MAX_CONNECTIONS,
) -> WebServer:
    """Serve ``root`` on ``host:port`` (``port=0``: any free port) until :meth:`WebServer.stop`.

    ``allowed_hosts`` defaults to :func:`allowed_hosts_for` ``host``. The port
    is bound before this returns, so a busy port is a :class:`TarjamaError` here.
    """
    try:
        listener = _listen(host, port)
    except OSError as problem:
        raise TarjamaError(f"cannot serve downloads on {host}:{port}: {problem.strerror or problem}") from None
    bound_port = listener.getsockname()[1]
    config = uvicorn.Config(
        create_app(root, allowed_hosts_for(host) if allowed_hosts is None else allowed_hosts),
        http=IdleTimeoutProtocol,
        ws="none",
        lifespan="off",
        interface="asgi3",
        log_config=None,  # the caller's logging, untouched
        access_log=False,
        proxy_headers=False,  # nothing in front of it: never trust X-Forwarded-*
        server_header=False,
        timeout_keep_alive=idle_timeout,
        limit_concurrency=max_connections,
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S + 2,  # a backstop: IdleTimeoutProtocol closes them first
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, name="tarjama-web", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            listener.close()
            raise TarjamaError(f"the web server on {host}:{bound_port} did not start")
        time.sleep(0.01)
    return WebServer(f"http://{url_host(host)}:{bound_port}", host, bound_port, server, thread)
