"""A run's output folder: its name, its private staging folder, and the ``latest`` link.

A run is written into a staging folder of its own (``<out>/.<run>.partial-<random>``, holding an
``owner`` file with the writer's host and process id) and renamed into place only when complete, so
a failed run leaves no half-written output and two runs can never share a staging folder. A
staging folder whose owner process is gone (killed while writing) is removed by the next run into
the same output folder; one whose owner is alive, or on another host, is left alone. So are the
temporaries of single files, named by their process (:func:`temporary_mark`).

A command stopped by a signal abandons the thread writing its run (:mod:`tarjama.app.stopping`), which
would go on writing, and even rename its staging folder into place, while the command says nothing was
written. So every file a run keeps (its shards, its staged folder) is written inside
:func:`writing`, and :func:`stop_writing` waits for the writes under way: afterwards nothing more is
written, and a run's folder either was renamed into place whole (with ``latest`` moved to it) or never
will be.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import tempfile
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from tarjama.errors import TarjamaError, storage_problem
from tarjama.text.article import document_id

LATEST = "latest"
SHARDS = ".shards"
"""Where the articles a run builds are kept for the next run into the same output folder."""
STAGING_MARK = ".partial-"
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def check_run_name(name: str) -> str:
    """A run name is one safe path segment: letters, digits, ``.``, ``_``, ``-``; not ``latest``."""
    if name == LATEST:
        raise TarjamaError(f"--name {name!r}: reserved for the link to the newest run")
    if not _SAFE_NAME.fullmatch(name) or ".." in name:
        raise TarjamaError(
            f"--name {name!r}: a run name is one folder name of letters, digits, '.', '_' and '-' "
            "(up to 200, starting with a letter or digit)"
        )
    return name


def new_run_name(articles: Sequence[str | Path]) -> str:
    """Time, first article and a random suffix: unique even for runs started in the same second."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    first = document_id(Path(articles[0])) if articles else "run"
    first = re.sub(r"[^A-Za-z0-9._-]+", "-", first).strip(".-")[:80] or "run"
    more = f"-and-{len(articles) - 1}-more" if len(articles) > 1 else ""
    return f"{stamp}-{first}{more}-{secrets.token_hex(4)}"


MIN_FREE_BYTES = 1 << 20
"""Less free space than this where a run writes is a full disk: found before anything is paid for,
not when the first translation or output file is stored. A run's outputs can still outgrow what is
left; then the write fails in one line and leaves nothing partial."""


def nearest_existing(path: Path) -> Path | None:
    """``path`` itself if it exists, else its nearest existing parent (where a write would create it)."""
    return next((p for p in (path.absolute(), *path.absolute().parents) if p.exists()), None)


HOME_ROLE = "its home: Prefect's database, logs and the run journals"


def check_free_space(path: Path, role: str = "") -> None:
    """Fail in one line if the disk that ``path`` is (or would be created) on is full; ``role`` says what
    tarjama keeps there, when the path does not (:data:`HOME_ROLE`)."""
    existing = nearest_existing(path)
    if existing is None:
        return
    folder = existing if existing.is_dir() else existing.parent
    try:
        disk = os.statvfs(folder)
    except OSError:
        return  # cannot tell: the write itself will say
    free = disk.f_bavail * disk.f_frsize
    if free < MIN_FREE_BYTES:
        raise TarjamaError(
            f"{path}: disk full ({free // 1024} KiB free in {folder}; tarjama needs at least "
            f"{MIN_FREE_BYTES >> 20} MiB there{f' for {role}' if role else ''})"
        )


def check_output_folder(out: Path) -> None:
    """Fail now, in one line, if runs cannot be written under ``out`` (before anything is paid for).

    Creates nothing: the nearest existing folder at or above ``out`` must take a file and have room,
    and ``out/.shards``, if there is one, must be a writable folder: a dangling symlink there was found
    only by the flow, after Prefect had started, and the run failed with exit status 1.
    """
    existing = nearest_existing(out)
    if existing is None or not existing.is_dir():
        raise TarjamaError(f"{existing}: exists and is not a directory, so {out} cannot be an output folder")
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as problem:
        raise TarjamaError(f"{out}: cannot write in {existing} ({problem.strerror or problem})") from None
    shards = out / SHARDS
    if shards.is_symlink() and not shards.exists():
        raise TarjamaError(f"{shards}: a symlink to {os.readlink(shards)}, which does not exist (remove it)")
    if shards.exists() and (not shards.is_dir() or not os.access(shards, os.W_OK | os.X_OK)):
        raise TarjamaError(f"{shards}: not a writable folder (built articles are kept there for the next run)")
    check_free_space(out)


def _owner_alive(staging: Path) -> bool:
    try:
        owner = json.loads((staging / "owner").read_text())
        host, pid = owner["host"], int(owner["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        # no owner file yet: a run between mkdtemp and writing it; or an unreadable one. Keep it
        # unless it is old enough that no live run can still be starting.
        try:
            return (datetime.now(UTC).timestamp() - staging.stat().st_mtime) < 3600
        except OSError:
            return False
    if host != socket.gethostname():
        return True  # another machine's run: we cannot tell, so never touch it
    return pid_alive(pid)


def pid_alive(pid: int) -> bool:
    """Whether a process of this machine with this id is running (one we may not signal counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_TEMPORARY = re.compile(r"\..+\.(?P<pid>[0-9]+)-(?P<host>[0-9a-f]{8})\.tmp")
_UNMARKED_TEMPORARY = re.compile(r"\..+\.(?:[a-z0-9_]{8}|[0-9]+)\.tmp")
"""A temporary named as tarjama named them before 0.3.4, without :func:`temporary_mark`: an atomic write's
file or private folder (``.<name>.<8 characters of tempfile's>.tmp``), the ``latest`` link's
(``.latest.<8 hex digits>.tmp``) and the plots cache's staging folder (``.<key>.<pid>.tmp``)."""

UNMARKED_TEMPORARY_AGE_S = 24 * 3600
"""How long a temporary without a process mark (:data:`_UNMARKED_TEMPORARY`) must have gone unwritten
before it is removed. Only tarjama before 0.3.4 made them, so no process can be asked about it, and just
after an upgrade an old run can still be writing one (a long corpus run, or another user's into the same
``--out``). Its writer touches it at every write (the file itself, or the file inside its private
folder: the newest of them counts), and writers stream as they go (a Parquet export a row group at a
time): one untouched for a day belongs to a run that was killed, not to a slow one. A day also dwarfs the clock skew
between hosts sharing a folder, and a killed run's leftover costs only disk until then."""


def _host_mark() -> str:
    return f"{zlib.crc32(socket.gethostname().encode()):08x}"


def temporary_mark() -> str:
    """How a temporary name beside a target says which process made it: ``<pid>-<host digest>``, ended by
    ``.tmp``. A run killed outright (SIGKILL, power loss) cannot remove its temporaries, and two runs may
    share a folder (``--out``): the name lets a later run remove only those of a process that is gone
    (:func:`remove_stale_temporaries`). An age threshold was rejected: a slow write (a large Parquet
    export) can outlast any age, and a killed run's leftovers would stay until then. An age decides only for
    the names made before this mark, which say nothing else (:data:`UNMARKED_TEMPORARY_AGE_S`)."""
    return f"{os.getpid()}-{_host_mark()}.tmp"


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Remove the temporaries (:func:`temporary_mark`) in ``folder`` whose process is gone; return them.

    Only this host's: another host's process cannot be checked, so its temporaries are kept, and so are
    those of a live process (a pid reused since its writer died only keeps a leftover longer). Those of
    tarjama before 0.3.4, which name no process, go once unwritten for :data:`UNMARKED_TEMPORARY_AGE_S`."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:  # no such folder (yet), or unreadable: nothing to remove
        return removed
    for entry in entries:
        found = _TEMPORARY.fullmatch(entry.name)
        if found is None:
            if not _UNMARKED_TEMPORARY.fullmatch(entry.name) or not _unwritten_for(entry, UNMARKED_TEMPORARY_AGE_S):
                continue
        elif found["host"] != _host_mark() or pid_alive(int(found["pid"])):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def _unwritten_for(entry: os.DirEntry[str], seconds: float) -> bool:
    """Whether nothing was written to ``entry`` for ``seconds``: a folder's own files included (a writer
    writes the file inside a private folder, and that leaves the folder's time as it was)."""
    try:
        newest = entry.stat(follow_symlinks=False).st_mtime
        if entry.is_dir(follow_symlinks=False):
            with os.scandir(entry.path) as inside:
                newest = max([newest, *(one.stat(follow_symlinks=False).st_mtime for one in inside)])
    except OSError:  # gone meanwhile, or unreadable: left alone
        return False
    return datetime.now(UTC).timestamp() - newest >= seconds


def remove_stale_staging(out: Path) -> list[Path]:
    """Remove staging folders under ``out`` whose writer died; return them."""
    removed: list[Path] = []
    if not out.is_dir():
        return removed
    for staging in out.glob(f".*{STAGING_MARK}*"):
        if staging.is_dir() and not staging.is_symlink() and not _owner_alive(staging):
            shutil.rmtree(staging, ignore_errors=True)
            removed.append(staging)
    return removed


def current_umask() -> int:
    """The process's umask, read without changing it where Linux tells it (``/proc/self/status``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restored at once
    os.umask(mask)
    return mask


def _cannot_write(target: Path, error: OSError) -> TarjamaError:
    return TarjamaError(f"{target}: cannot write ({storage_problem(error) or error.strerror or error})")


class WritingStopped(Exception):
    """The process stopped writing (:func:`stop_writing`) while this write was under way: it is abandoned."""


class _Writes:
    """The writes under way in this process, and whether it has stopped writing (see the module's docstring)."""

    def __init__(self) -> None:
        self.turn = threading.Condition()
        self.active = 0
        self.stopped = False
        self.committed: list[Path] = []  # run folders renamed into place by this process


_WRITES = _Writes()


def _abandon() -> NoReturn:
    """Block this (abandoned) thread for good: its process has stopped writing and is about to exit."""
    threading.Event().wait()
    raise AssertionError("unreachable")


@contextmanager
def writing() -> Iterator[None]:
    """A write of files a run keeps. Once the process has stopped writing, a write never starts, and one
    that was under way ends its thread when it is done (:func:`check_writing` ends it sooner)."""
    with _WRITES.turn:
        if _WRITES.stopped:
            _abandon()
        _WRITES.active += 1
    try:
        yield
    finally:
        with _WRITES.turn:
            _WRITES.active -= 1
            _WRITES.turn.notify_all()
            stopped = _WRITES.stopped
        if stopped:
            _abandon()


def check_writing() -> None:
    """Between the steps of a long write: raise :class:`WritingStopped` if the process has stopped writing."""
    if _WRITES.stopped:
        raise WritingStopped


def stop_writing(wait: bool = True) -> list[Path]:
    """Write nothing more in this process (it is about to exit on a signal): wait for the writes under way
    to finish or abandon their staging folders; the run folders this process renamed into place, complete.

    Without ``wait`` (a second signal: exit at once) the writes under way are left where they are, for
    the next run to remove (their staging folders name this process); the list is final all the same,
    since a rename happens under the same lock, only while writing is not stopped."""
    with _WRITES.turn:
        _WRITES.stopped = True
        if wait:
            _WRITES.turn.wait_for(lambda: _WRITES.active == 0)
        return list(_WRITES.committed)


@contextmanager
def staged_run_folder(out: Path, name: str, latest: bool = True) -> Iterator[Path]:
    """A private staging folder, renamed to ``out/name`` when the block succeeds, removed otherwise;
    ``out/latest`` then points at it (``latest``: a run's folder, not a comparison's). A write
    (:func:`writing`): the rename and the link happen both or neither when the process stops writing."""
    target = out / check_run_name(name)
    if target.exists() or target.is_symlink():
        raise TarjamaError(f"{target}: output directory already exists")
    with writing():
        yield from _staged(out, name, target, latest)


def _staged(out: Path, name: str, target: Path, latest: bool) -> Iterator[Path]:
    try:
        out.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(out)
        remove_stale_temporaries(out)  # a killed run's temporary `latest` link
        staging = Path(tempfile.mkdtemp(prefix=f".{name}{STAGING_MARK}", dir=out))
    except OSError as error:
        raise _cannot_write(target, error) from None
    try:  # at once: a signal raised in the main thread (compare's) removes it from here on
        try:
            # mkdtemp makes it private (0700), and the rename would keep that: the run folder gets what the umask gives
            staging.chmod(0o777 & ~current_umask())
            (staging / "owner").write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))
        except OSError as error:
            raise _cannot_write(target, error) from None
        yield staging
        with _WRITES.turn:
            check_writing()
            (staging / "owner").unlink()
            try:
                os.rename(staging, target)  # fails, rather than merging, if another run took the name meanwhile
            except OSError:
                raise TarjamaError(f"{target}: output directory already exists") from None
            _WRITES.committed.append(target)
            if latest:
                point_latest(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check_latest(out: Path) -> None:
    """Fail now, in one line, if ``<out>/latest`` is there and is no link: a run's output would be written
    but ``latest`` could not point at it (:func:`point_latest` never replaces a user's own file or folder)."""
    link = out / LATEST
    if link.exists() and not link.is_symlink():
        kind = "a directory" if link.is_dir() else "a file"
        raise TarjamaError(
            f"{link}: {kind}, not a link: tarjama points {LATEST} at the newest run in {out} "
            "(move it away, or give another --out)"
        )


def point_latest(target: Path) -> None:
    """``<out>/latest`` → the newest run, replaced atomically (a private temporary link per run)."""
    link = target.parent / LATEST
    if link.exists() and not link.is_symlink():
        return  # a user's own file or folder called "latest": never replace it
    tmp = target.parent / f".{LATEST}.{secrets.token_hex(4)}.{temporary_mark()}"
    tmp.symlink_to(target.name)
    try:
        tmp.replace(link)
    finally:
        tmp.unlink(missing_ok=True)


def check_output_parent(target: Path) -> None:
    """The folder a file is to be written in must be a folder (or creatable as one)."""
    existing = next((p for p in target.absolute().parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        raise TarjamaError(f"{target}: {existing} is not a directory")
