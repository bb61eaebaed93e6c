"""A warm process per home that later ``tarjama run`` commands fork from, so a rerun skips the imports.

Python's imports are most of a rerun whose articles are all reused (Prefect, polars, numpy, numba,
matplotlib: about 3 of 5.5 s on an idle machine). The first ``tarjama run`` of a home leaves this
process behind, detached, as it leaves the shared Prefect server: it imports what a run needs, then
waits on a Unix socket. A later ``tarjama run`` (:func:`delegate`) sends it the command line, the
environment, the working folder and umask, and its own standard input, output and error (the file
descriptors themselves); the process forks, and the child *is* the run: the same CLI code, writing
straight to the user's terminal or pipes. The command waits for the child's exit status, exits with
it, and forwards SIGINT, SIGTERM and SIGHUP to it. The child itself tells the command its pid and, as
it exits, its status, over its own copy of the connection, so a warm process killed meanwhile costs the
run nothing; the warm process tells the status only of a child that could not (killed by a signal).

How it stays honest:

- *the same code*: the request carries a fingerprint of the interpreter, tarjama's and the flows'
  source files (paths, sizes, times), the installed packages (their folder's time), every
  ``PYTHON*`` variable (``PYTHONPATH`` decides which plug-in a name imports) and every
  ``PREFECT_*`` variable (Prefect reads some when it loads); a process whose fingerprint differs, or
  one that has imported a module from outside the interpreter's folders (a plug-in on ``PYTHONPATH``
  or installed for editing) whose file has changed since, refuses, the command runs itself, and a new
  process replaces the old one;
- *the same user*: the socket lives in a folder only the user can open, and the peer's uid is checked;
- *killed means killed*: if the command dies (even by SIGKILL) its run is killed at once, as it
  would have been in-process;
- *never in the way*: any failure to reach a process (none, stale, busy socket, a closed standard
  stream) runs the command in-process as before; ``TARJAMA_PRELOAD=off`` turns it off; the process
  stops after ``TARJAMA_PREFECT_SERVER_IDLE`` seconds without a run, or when its home is removed.

Only imports of the standard library and :mod:`tarjama.home` at module level: the command's side must
stay cheap.
"""

from __future__ import annotations

import array
import contextlib
import fcntl
import hashlib
import json
import os
import select
import signal
import socket
import stat
import struct
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from tarjama.home import resolve_home

if TYPE_CHECKING:
    from tarjama.settings import Settings
    from tarjama.translation.engines.base import EngineSpec

STANDARD_FDS = (0, 1, 2)
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
LOG = "preload.log"
HEADER = struct.Struct("!I")
MAX_REQUEST = 16 << 20
CONNECT_TIMEOUT_S = 2.0
POLL_S = 0.1
REPORTED_WAIT_S = 30.0
"""How long a command waits for the end of a child that has reported its status (a descendant the run
forked may hold the connection open, and a zombie may wait for a busy warm process)."""
# What a run imports, found by listing sys.modules after one (the rest come with these). Not
# tarjama.app.cli: its consoles look at the terminal when it loads, and it is light.
WARM_MODULES = (
    "typer",
    "tarjama.flows.pipeline",
    "tarjama.corpus.build",
    "tarjama.corpus.export",
    "tarjama.corpus.formats",
    "tarjama.corpus.dataset_card",
    "tarjama.corpus.plots",
    "tarjama.alignment.align",
    "tarjama.alignment.regroup",
    "tarjama.quality.score",
    "tarjama.quality.checks",
    "tarjama.app.runs",
    "tarjama.app.stopping",
    "prefect.flow_engine",
    "prefect.task_engine",
    "prefect.task_runners",
    "prefect.client.orchestration",
    "prefect.concurrency.sync",
    "prefect.events.clients",
    "prefect.logging.handlers",
    "prefect.utilities.visualization",
    "fastapi.encoders",  # Prefect's parameter serialisation
    "markdown_it",
    "matplotlib.pyplot",
)


# --- where, and for which code ------------------------------------------------------------------


def socket_path(home: Path) -> Path | None:
    """The home's socket, in a folder of the user's own under the temporary folder (a home's path may be
    longer than a socket's 107 bytes allow); ``None`` if that folder is not safely the user's."""
    folder = Path(tempfile.gettempdir()) / f"tarjama-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = folder.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None
    return folder / (hashlib.sha256(str(home).encode()).hexdigest()[:24] + ".sock")


def _code_folders() -> list[Path]:
    import importlib.util

    import tarjama

    folders = [Path(tarjama.__file__).parent]
    spec = importlib.util.find_spec("tarjama.flows")
    if spec is not None and spec.submodule_search_locations:
        folders += [Path(p) for p in spec.submodule_search_locations]
    return folders


def fingerprint(environ: Mapping[str, str]) -> str:
    """What the warm process's imports depend on: the interpreter, the code, the packages, Prefect's variables."""
    digest = hashlib.sha256(f"{sys.executable}\n{sys.version}\n".encode())
    for folder in _code_folders():
        for path in sorted(folder.rglob("*.py")):
            with contextlib.suppress(OSError):
                info = path.stat()
                digest.update(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    with contextlib.suppress(OSError, KeyError):
        digest.update(str(Path(sysconfig.get_paths()["purelib"]).stat().st_mtime_ns).encode())
    for key in sorted(k for k in environ if k.startswith(("PREFECT_", "PYTHON"))):
        digest.update(f"{key}={environ[key]}\n".encode())
    return digest.hexdigest()


FileStamp = tuple[int, int] | None
"""A file's size and modification time in nanoseconds; None when it cannot be read."""


def outside_module_files() -> dict[str, FileStamp]:
    """The source files of the loaded modules that live outside the interpreter's own folders (standard
    library, installed packages) and tarjama's code, which the fingerprint covers: plug-ins found on
    ``PYTHONPATH`` or installed for editing, which an edit changes without touching any installed folder."""
    own = tuple(
        str(Path(p).resolve()) for p in {sys.prefix, sys.base_prefix, sys.exec_prefix, *map(str, _code_folders())}
    )
    files: dict[str, FileStamp] = {}
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if isinstance(name, str) and not str(Path(name).resolve()).startswith(own):
            files[name] = _stamp(name)
    return files


def changed_files(files: Mapping[str, FileStamp]) -> list[str]:
    """Those of ``files`` (:func:`outside_module_files`) whose size or time is no longer what was stamped."""
    return [name for name, stamp in files.items() if _stamp(name) != stamp]


def _stamp(name: str) -> FileStamp:
    try:
        info = os.stat(name)
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns


# --- the command's side -------------------------------------------------------------------------


def _send(connection: socket.socket, message: Mapping[str, Any], fds: Sequence[int] = ()) -> None:
    payload = json.dumps(message).encode()
    data = [HEADER.pack(len(payload)) + payload]
    if fds:
        connection.sendmsg(data, [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", fds))])
    else:
        connection.sendall(data[0])


def _take(buffer: bytearray) -> dict[str, Any] | None:
    """The first whole message of ``buffer``, removed from it; ``None`` while it is incomplete (a
    message that is not an object is dropped). ValueError for one larger than allowed."""
    if len(buffer) < HEADER.size:
        return None
    size = HEADER.unpack_from(buffer)[0]
    if size > MAX_REQUEST:
        raise ValueError(f"a message of {size} bytes")
    if len(buffer) < HEADER.size + size:
        return None
    message = json.loads(bytes(buffer[HEADER.size : HEADER.size + size]))
    del buffer[: HEADER.size + size]
    return message if isinstance(message, dict) else {}


def _receive(connection: socket.socket, buffer: bytearray | None = None) -> dict[str, Any] | None:
    """One message, or ``None`` if the other side closed first (or sent too much). What arrived after it
    stays in ``buffer``."""
    buffer = bytearray() if buffer is None else buffer
    try:
        while (message := _take(buffer)) is None:
            chunk = connection.recv(65536)
            if not chunk:
                return None
            buffer += chunk
    except ValueError:
        return None
    return message


def delegate(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int | None:
    """Run the command ``argv`` in the home's warm process: its exit status, or ``None`` to run it here."""
    environ = dict(os.environ if environ is None else environ)
    if environ.get("TARJAMA_PRELOAD", "").strip() == "off":
        return None
    cwd = Path.cwd()
    path = socket_path(resolve_home(environ, cwd)[0])
    if path is None or not path.exists():
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.settimeout(CONNECT_TIMEOUT_S)
        connection.connect(str(path))
        umask = os.umask(0)
        os.umask(umask)
        request = {"fingerprint": fingerprint(environ), "argv": list(argv), "env": environ, "cwd": str(cwd)}
        _send(connection, request | {"umask": umask}, STANDARD_FDS)
        buffer = bytearray()
        answer = _receive(connection, buffer)  # from the child, before it runs anything
    except (OSError, ValueError):
        connection.close()
        return None
    if answer is None or not isinstance(answer.get("pid"), int):  # refused, or no run started: run it here
        connection.close()
        return None
    return _wait_for_child(connection, answer["pid"], buffer)


def _wait_for_child(connection: socket.socket, pid: int, buffer: bytearray) -> int:
    """The child's exit status; the signals this command receives meanwhile go to the child.

    The child reports its own status as it exits, the warm process once it has reaped the child (the
    status of a child killed by a signal, which could not report). Either the warm process's report, or
    the child's followed by its end (the connection closed, or its process gone: a warm process killed
    meanwhile leaves it to init, which reaps it) ends the wait: the run's files and locks are released
    when the command returns, as without the warm process."""

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for signum in FORWARDED:
        signal.signal(signum, forward)
    connection.settimeout(None)
    status: int | None = None
    reported = 0.0
    try:
        while True:
            while (message := _take(buffer)) is not None:
                if isinstance(message.get("exit"), int):
                    status = message["exit"]
                    if message.get("by") != "run":
                        return status  # the warm process reaped the child
                    reported = time.monotonic()
            if status is not None and (not _exists(pid) or time.monotonic() - reported > REPORTED_WAIT_S):
                return status
            if select.select([connection], [], [], POLL_S)[0]:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                buffer += chunk
    except (OSError, ValueError):
        pass
    finally:
        connection.close()
    if status is not None:
        return status
    print(
        f"tarjama: error: the run (process {pid}) ended without reporting its exit status, and so did the warm process",
        file=sys.stderr,
    )
    return 1


def _exists(pid: int) -> bool:
    """Not yet reaped (a zombie still exists)."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):  # gone (another user's process may hold the number now)
        return False
    return True


def start(environ: Mapping[str, str]) -> None:
    """Leave a warm process behind for the home of ``environ`` and the current folder, unless one
    answers there already. It gets the command's environment as the command received it (a run
    changes its own), so that its fingerprint is the next command's."""
    if environ.get("TARJAMA_PRELOAD", "").strip() == "off":
        return
    home = resolve_home(environ, Path.cwd())[0]
    path = socket_path(home)
    if path is None or _answers(path) or not home.is_dir():
        return
    with (home / LOG).open("ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "tarjama.app.preload"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(environ),
            start_new_session=True,  # detached: it outlives this command, and no Ctrl-C of it reaches it
        )


def _answers(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(CONNECT_TIMEOUT_S)
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


# --- the warm process ---------------------------------------------------------------------------


@contextlib.contextmanager
def _bound(path: Path) -> Iterator[socket.socket | None]:
    """The listening socket at ``path``, or ``None`` if a live process already listens there."""
    with open(path.with_suffix(".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(path):
            yield None
            return
        path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        os.chmod(path, 0o600)
        listener.listen(16)
        inode = path.stat().st_ino
    try:
        yield listener
    finally:
        listener.close()
        with contextlib.suppress(OSError):
            if path.stat().st_ino == inode:  # not a newer process's socket
                path.unlink()


class WarmProcess:
    """Accepts runs, forks one child per run, and tells each command its child's exit status.

    Between runs it calls ``prepare`` (Prefect's settings for the server the next run will find; its API
    URL), after each run and whenever a Prefect server of the home starts or stops, so that the run need not."""

    def __init__(
        self,
        home: Path,
        listener: socket.socket,
        idle_s: float,
        environ: Mapping[str, str],
        prepare: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.home = home
        self.listener = listener
        self.idle_s = idle_s
        self.fingerprint = fingerprint(environ)
        self.outside_files = outside_module_files()  # after the imports: the plug-ins a forked run would reuse
        self.prepare = prepare
        self.prepared_for: list[float | None] | None = None
        self.prepared_api: str | None = None
        self.children: dict[int, socket.socket] = {}
        self.last_used = time.monotonic()
        self.stopping = False  # code changed, or SIGTERM: no more runs; those under way finish

    def _prepare_if_changed(self) -> None:
        from tarjama.app.prefect_server import RECORD  # loaded already: the runs' flows import both
        from tarjama.app.runs import SERVE_STATE

        records: list[float | None] = []
        for name in (SERVE_STATE, RECORD):  # a Prefect server of the home started or stopped: serve's, the shared one
            try:
                records.append((self.home / name).stat().st_mtime)
            except OSError:
                records.append(None)
        if records != self.prepared_for:
            self.prepared_for = records
            self._prepare()

    def _prepare(self) -> None:
        try:
            api = self.prepare()
        except Exception as problem:  # a run prepares for itself, as without the warm process
            api = f"none ({problem!r})"
        if api != self.prepared_api:
            self.prepared_api = api
            print(f"Prefect's settings loaded for the API {api}", flush=True)

    def serve(self) -> None:
        while True:
            self._reap()
            self._prepare_if_changed()
            finished = self.stopping or time.monotonic() - self.last_used > self.idle_s or not self.home.is_dir()
            if finished:
                self.listener.close()  # a command now runs itself at once, rather than wait to be refused
                if not self.children:
                    return
                time.sleep(POLL_S)
                continue
            ready, _, _ = select.select([self.listener], [], [], POLL_S)
            if ready:
                connection, _ = self.listener.accept()
                self.last_used = time.monotonic()
                try:
                    self._handle(connection)
                except (OSError, ValueError) as problem:
                    print(f"request refused: {problem}", flush=True)
                    connection.close()

    def stop(self, _signum: int = signal.SIGTERM, _frame: object = None) -> None:
        self.stopping = True

    def _handle(self, connection: socket.socket) -> None:
        _pid, uid, _gid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
        if uid != os.getuid():
            connection.close()
            return
        connection.settimeout(CONNECT_TIMEOUT_S)
        first, fds, _flags, _address = socket.recv_fds(connection, 65536, len(STANDARD_FDS))
        try:
            request = _receive(connection, bytearray(first))
            if request is None or len(fds) != len(STANDARD_FDS):
                connection.close()
                return
            edited = changed_files(self.outside_files)
            if request.get("fingerprint") != self.fingerprint or edited:
                _send(connection, {"refused": "stale"})
                connection.close()
                self.stopping = True  # the next run starts a process with the new code
                changed = f"code, import path or Prefect settings changed{': ' + edited[0] if edited else ''}"
                print(f"{changed}: stopping", flush=True)
                return
            pid = os.fork()
            if pid == 0:
                self._become_run(connection, fds, request)
            self.children[pid] = connection  # the child tells the command its pid
            print(f"run {pid} started", flush=True)
            connection.settimeout(None)
        finally:
            for fd in fds:
                os.close(fd)

    def _become_run(self, connection: socket.socket, fds: list[int], request: dict[str, Any]) -> None:
        """In the child: take the command's streams, folder and environment, and run the command."""
        status = 1
        try:
            _send(connection, {"pid": os.getpid()})  # first: the command runs itself if it hears nothing
            self.listener.close()
            for other in self.children.values():
                other.close()
            for target, fd in zip(STANDARD_FDS, fds, strict=True):
                os.dup2(fd, target)
            for signum in (*FORWARDED, signal.SIGCHLD):
                signal.signal(signum, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            os.chdir(request["cwd"])
            os.umask(int(request["umask"]))
            os.environ.clear()
            os.environ.update({str(k): str(v) for k, v in request["env"].items()})
            sys.argv = [str(a) for a in request["argv"]]
            for stream in (sys.stdout, sys.stderr):
                if hasattr(stream, "reconfigure"):
                    stream.reconfigure(line_buffering=stream.isatty())
            threading.Thread(target=_die_with_command, args=(connection,), daemon=True).start()
            from tarjama.app.cli import entry

            entry()
        except SystemExit as end:
            status = end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            _exit_without_teardown(status, connection)

    def _reap(self) -> None:
        while self.children:
            try:
                pid, wait_status, usage = os.wait4(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            connection = self.children.pop(pid, None)
            if connection is None:
                continue
            code = os.waitstatus_to_exitcode(wait_status)
            status = code if code >= 0 else 128 - code  # killed by signal n: the shell's 128 + n
            cpu_s = usage.ru_utime + usage.ru_stime  # the run's own: its command's is only the waiting
            print(f"run {pid} ended with status {status}; CPU {cpu_s:.2f} s", flush=True)
            with contextlib.suppress(OSError):
                _send(connection, {"exit": status})
            connection.close()
            self.last_used = time.monotonic()
            self._prepare()  # the run may have found another server than the one prepared for


def _exit_without_teardown(status: int, connection: socket.socket) -> NoReturn:
    """Exit as Python would (its exit handlers: Prefect sends the run's last logs and events; logging
    flushes), without tearing down the modules of the warm process one by one, which took seconds. The
    command hears the status from here, last, not only from the warm process, which may be gone."""
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    with contextlib.suppress(OSError):
        _send(connection, {"exit": status & 0xFF, "by": "run"})  # what the warm process would see
    os._exit(status)


def _die_with_command(connection: socket.socket) -> None:
    """The command sends nothing after its request: end of input means it is gone, and so is its run."""
    try:
        connection.settimeout(None)
        while connection.recv(4096):
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGKILL)


def _learn_web_engine_signatures(settings: Settings, specs: Iterable[EngineSpec]) -> None:
    """A run learns its engine's signature by building the engine (a web engine's HTTP client and its TLS
    context: 30 ms idle, 0.1 s at load), once per process and options: here for every web engine with the
    home's options, so a run with the same options finds it known (with others, it builds the engine)."""
    from tarjama.corpus.build import engine_signature_of

    for spec in specs:
        if (
            spec.rate_limit is not None
            and spec.model_of is None
            and spec.readiness(settings.engine_options(spec.name)) is None
        ):
            with contextlib.suppress(Exception):  # the run says what is wrong, as before
                engine_signature_of(settings.model_copy(update={"engine": spec.name}))


def _complete_models(prefix: str) -> None:
    """Build the pydantic models of modules under ``prefix`` that are built on first use (Prefect defers
    most of its own), here once rather than in every run (0.07 s of a run at load)."""
    import pydantic

    pending: list[type[pydantic.BaseModel]] = [pydantic.BaseModel]
    while pending:
        model = pending.pop()
        pending += model.__subclasses__()
        if model.__module__.startswith(prefix) and not model.__pydantic_complete__:
            with contextlib.suppress(Exception):  # one that cannot be built yet is built when used, as before
                model.model_rebuild()


def main() -> None:
    """The warm process: settings from the environment it was started with, imports, then runs."""
    from tarjama.errors import TarjamaError
    from tarjama.settings import Settings

    environ = dict(os.environ)
    try:
        settings = Settings.load(environ)
    except TarjamaError as problem:
        print(f"not started: {problem}", flush=True)
        return
    path = socket_path(settings.home)
    if path is None or not settings.preload:
        return
    from tarjama.flows.environment import configure_prefect, prepare_for_next_run
    from tarjama.translation.engines import all_specs

    configure_prefect(settings.home)  # the defaults a run applies before Prefect loads
    for module in WARM_MODULES:
        __import__(module)
    _learn_web_engine_signatures(settings, all_specs())  # every engine's module, and the plug-ins looked up
    _complete_models("prefect.")
    with _bound(path) as listener:
        if listener is None:
            return
        print(f"warm process {os.getpid()} for {settings.home} at {path}", flush=True)
        warm = WarmProcess(
            settings.home, listener, settings.prefect_server_idle, environ, lambda: prepare_for_next_run(settings.home)
        )
        signal.signal(signal.SIGTERM, warm.stop)
        warm.serve()


if __name__ == "__main__":
    main()
