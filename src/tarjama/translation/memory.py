"""Translation memory: every translation we paid for, kept in SQLite.

Keyed by (engine, model, source sentence) so that changing engine or model
never returns a stale translation, while rerunning an article (or resuming a
killed run) translates nothing already translated. Each translation is
committed the moment it arrives; WAL mode keeps those small commits cheap and
lets a reader (another run, the UI) look while a run writes.

An engine whose output changed for the same model (``EngineSpec.memory_revision``,
e.g. the local engine's repair of broken output) stores under
``model@revision``; what it stored before is still served where its spec calls
it ``reusable``, so no translation paid for is lost and none is passed off as
the new revision's.

An engine that sends its requests to a URL (a web engine) and is pointed elsewhere than its default
(``--engine-url``, ``TARJAMA_<ENGINE>_URL``) stores under ``model via <url>`` (scheme, host, port and
path: never credentials or a query string), so two servers never serve each other's translations and
a run's engine signature says where its rows were translated. At an engine's default URL the key is
the model alone, as it always was. Translations stored before 0.3.5 for another URL (LibreTranslate
and OpenAI-compatible servers have no default) are not served: nothing says which server made them.
They stay in the file.

An answer that is no translation (empty, or the Arabic sent back: :func:`kept`) is neither stored nor
served, so the next run asks the engine again; an engine whose spec ``keeps_non_answers`` (the local
model, deterministic and repaired) keeps all it answers.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from tarjama.corpus.outputs import check_free_space, pid_alive
from tarjama.errors import TarjamaError, counted
from tarjama.private_files import make_private_dir
from tarjama.text.normalize import clean_translation
from tarjama.translation.broken import non_answer
from tarjama.translation.engines.base import EngineSpec, engine_names, get_spec

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    engine     TEXT NOT NULL,
    model      TEXT NOT NULL,
    source     TEXT NOT NULL,
    target     TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (engine, model, source)
)
"""


class TranslationMemory:
    """A persistent (engine, model, source) → target store."""

    def __init__(self, path: Path) -> None:
        self.path = path
        make_private_dir(path.parent)  # the home, usually: its user's alone when tarjama creates it
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(SCHEMA)

    @classmethod
    def check(cls, path: Path) -> None:
        """Fail in one line, before anything is translated, if ``path`` cannot be a translation memory.

        A text file, a folder, an unwritable place or a full disk is the user's to fix; finding it
        only when the first translation is stored would waste what that translation cost. (A full disk
        is checked first: SQLite would report it as a "disk I/O error".)
        """
        if path.is_dir():
            raise TarjamaError(f"{path}: translation memory is a directory, expected an SQLite file")
        check_free_space(path)
        try:
            with cls(path) as memory:
                memory._db.execute("BEGIN IMMEDIATE")  # takes the write lock: proves the file is writable
                memory._db.execute("ROLLBACK")
        except (sqlite3.Error, OSError) as problem:
            raise TarjamaError(f"{path}: unusable translation memory ({problem})") from None

    def lookup(self, engine: str, model: str, sources: Iterable[str], *, url: str | None = None) -> dict[str, str]:
        """The stored translations of those ``sources`` that have one (from before the engine's revision
        too, where still valid), leaving out answers that are no translation (:func:`kept`: an earlier
        version stored them); ``url``: where the engine sends its requests (:func:`memory_model`)."""
        wanted = list(dict.fromkeys(sources))
        found = self._select(engine, memory_model(engine, model, url), wanted)
        spec = _revised_spec(engine)
        if spec is not None and spec.reusable is not None:
            before = memory_model(engine, model, url, revised=False)
            earlier = self._select(engine, before, [source for source in wanted if source not in found])
            found.update((source, target) for source, target in earlier.items() if spec.reusable(source, target))
        return _served(engine, found)

    def _select(self, engine: str, model: str, wanted: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(wanted), 500):  # stay under SQLite's bound-parameter limit
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(
                f"SELECT source, target FROM translations WHERE engine=? AND model=? AND source IN ({marks})",
                (engine, model, *chunk),
            )
            found.update(rows)
        return found

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """A write that fails for want of storage (a full disk, an I/O error, a read-only file) is one
        line naming this file (:func:`storage_error`), not a traceback."""
        try:
            yield
        except sqlite3.Error as problem:
            error = storage_error(self.path, problem)
            if error is None:
                raise
            raise error from None

    def store(self, engine: str, model: str, source: str, target: str, *, url: str | None = None) -> None:
        """Persist one translation now (autocommit), replacing any older one; ``url`` as for :meth:`lookup`."""
        with self._writing():
            self._db.execute(
                "INSERT OR REPLACE INTO translations (engine, model, source, target) VALUES (?, ?, ?, ?)",
                (engine, memory_model(engine, model, url), source, target),
            )

    def store_many(self, engine: str, model: str, pairs: Iterable[tuple[str, str]], *, url: str | None = None) -> None:
        """Persist many translations in one transaction (a corpus driver storing what a worker returned)."""
        key = memory_model(engine, model, url)
        with self._writing(), self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO translations (engine, model, source, target) VALUES (?, ?, ?, ?)",
                [(engine, key, source, target) for source, target in pairs],
            )

    def _store_rows(self, rows: Iterable[tuple[str, str, str, str, str]]) -> None:
        """Persist rows as they are stored (engine, model field, source, target, created_at): salvaged ones."""
        with self._writing(), self._db:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO translations (engine, model, source, target, created_at) VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def merge(self, other: Path) -> int:
        """Copy every translation of the memory file ``other`` into this one; how many there were. A journal
        another run has just created holds no table yet: nothing to merge from it now. A damaged ``other``
        raises :class:`sqlite3.DatabaseError` (:func:`damaged`); this memory's disk filling up, a
        :class:`TarjamaError`."""
        self._db.execute("ATTACH DATABASE ? AS other", (str(other),))
        try:
            with self._writing(), self._db:
                self._db.execute("BEGIN")
                tables = "SELECT 1 FROM other.sqlite_master WHERE type = 'table' AND name = 'translations'"
                if self._db.execute(tables).fetchone() is None:
                    return 0
                count = self._db.execute("SELECT count(*) FROM other.translations").fetchone()[0]
                self._db.execute(
                    "INSERT OR REPLACE INTO translations (engine, model, source, target, created_at) "
                    "SELECT engine, model, source, target, created_at FROM other.translations"
                )
        finally:
            self._db.execute("DETACH DATABASE other")
        return int(count)

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM translations").fetchone()[0]

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> TranslationMemory:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@cache
def _spec(engine: str) -> EngineSpec | None:
    """The spec of ``engine`` (None for an unknown engine name)."""
    return get_spec(engine) if engine in engine_names() else None


def _revised_spec(engine: str) -> EngineSpec | None:
    """The spec of ``engine`` if it names a revision of its output (None for an unknown engine name)."""
    spec = _spec(engine)
    return spec if spec is not None and spec.memory_revision else None


def _served(engine: str, stored: Mapping[str, str]) -> dict[str, str]:
    """What the memory serves of ``stored`` translations: each cleaned as an answer is when it arrives (one
    an earlier version stored raw, with a terminal's colour codes, is served clean), and only those it keeps."""
    cleaned = {source: clean_translation(target) for source, target in stored.items()}
    return {source: target for source, target in cleaned.items() if kept(engine, source, target)}


def kept(engine: str, source: str, target: str) -> bool:
    """Whether the memory keeps ``target`` as ``engine``'s translation of ``source`` (and serves it): unless
    it is no translation at all (:func:`~tarjama.translation.broken.non_answer`: empty, mostly Arabic, the
    source sent back), which a web service gives when it is failing, so the next run asks again. An engine
    whose spec ``keeps_non_answers`` keeps every answer (an unknown engine name keeps none)."""
    spec = _spec(engine)
    return (spec is not None and spec.keeps_non_answers) or not non_answer(source, target)


def memory_model(engine: str, model: str, url: str | None = None, *, revised: bool = True) -> str:
    """The model field of ``engine``'s memory keys: what, with the engine's name and the source sentence,
    says which translation is whose. Every lookup and store of the memory and of the journals goes
    through here.

    ``model``, or ``model@revision`` (``EngineSpec.memory_revision``; ``revised=False``: the field
    before the revision); then `` via <url>`` when the engine sends its requests to ``url`` (its
    signature's ``url``) and that is not one of the engine's defaults (``WebEngine.default_urls``). The
    URL is written as :func:`~tarjama.translation.engines.transport.safe_url` writes it, without a
    trailing ``/``: scheme, host, port and path, never credentials or a query string (either may hold
    a key). An engine that is not a web engine has no defaults: any ``url`` is named.
    """
    spec = _revised_spec(engine)
    field = f"{model}@{spec.memory_revision}" if spec is not None and revised else model
    if url is None:
        return field
    endpoint = _endpoint(url)
    return field if endpoint in _default_endpoints(engine) else f"{field} via {endpoint}"


def _endpoint(url: str) -> str:
    """``url`` as a memory key names it: scheme, host, port and path (``https://host:8443/v1``)."""
    from tarjama.translation.engines.transport import safe_url

    return safe_url(url).rstrip("/")


@cache
def _default_endpoints(engine: str) -> frozenset[str]:
    """The endpoints ``engine`` uses when no URL is set (none for an unknown engine or one that is not a web engine)."""
    from tarjama.translation.engines.web import WebEngine

    if engine not in engine_names():
        return frozenset()
    factory = get_spec(engine).factory
    if not (isinstance(factory, type) and issubclass(factory, WebEngine)):
        return frozenset()
    return frozenset(_endpoint(url) for url in factory.default_urls())


JOURNALS = "journals"


def journal_folder(home: Path, memory: Path) -> Path:
    """Where the journals of runs into the memory file ``memory`` are: a folder per memory, so a run
    merges only what was paid for into its own memory (``<home>/journals/<digest of its path>``)."""
    digest = hashlib.sha256(str(memory.expanduser().resolve()).encode()).hexdigest()[:16]
    return home / JOURNALS / digest


def save_journals(home: Path, memory: Path, warn: Callable[[str], None] | None = None) -> int:
    """Merge the journals of ``memory``'s runs into it now, as the next run would; translations merged.
    Those of runs made before journals had a folder per memory (``<home>/journals/*.sqlite``) go to
    whichever memory is merged first: their memory is not known, and what they hold is paid for.
    ``warn`` is told, in one line each, of a damaged journal set aside (:func:`merge_journals`)."""
    with TranslationMemory(memory) as into:
        return merge_journals(into, journal_folder(home, memory), warn) + merge_journals(into, home / JOURNALS, warn)


def journal_path(folder: Path) -> Path:
    """This process's journal: a memory file of its own, so no two processes ever write one file.

    A worker stores every translation here the moment it arrives; the corpus driver merges journals
    into the translation memory. Work paid for by a worker that is killed mid-article is in its
    journal, found by the next task on that machine and merged by the next run.
    """
    return folder / f"{socket.gethostname()}-{os.getpid()}.sqlite"


def read_journals(
    folder: Path, engine: str, model: str, sources: Iterable[str], *, url: str | None = None
) -> dict[str, str]:
    """Translations of ``sources`` found in any journal in ``folder`` (this machine's killed workers' too),
    those the memory would serve (:func:`kept`); ``url`` as for :meth:`TranslationMemory.lookup`."""
    wanted = list(dict.fromkeys(sources))
    key = memory_model(engine, model, url)
    found: dict[str, str] = {}
    for path in sorted(folder.glob("*.sqlite")) if folder.is_dir() else []:
        try:
            db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)  # a name with ? or #
        except sqlite3.Error:
            continue
        try:
            for start in range(0, len(wanted), 500):
                chunk = [s for s in wanted[start : start + 500] if s not in found]
                if not chunk:
                    continue
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT source, target FROM translations WHERE engine=? AND model=? AND source IN ({marks})",
                    (engine, key, *chunk),
                )
                found.update(_served(engine, dict(rows)))
        except sqlite3.Error:
            pass  # a journal being created right now: nothing in it to find yet
        finally:
            db.close()
    return found


def merge_journals(memory: TranslationMemory, folder: Path, warn: Callable[[str], None] | None = None) -> int:
    """Merge every journal in ``folder`` into ``memory``; remove those whose writer is gone. Translations merged.

    A damaged journal (not an SQLite file, or one with a damaged page) would stop every later run into
    the memory: what rows of it can be read are merged, and the file is set aside, its bytes kept
    (:func:`set_aside`), with one line to ``warn`` (default: this module's logger) naming it.
    """
    merged = 0
    for path in sorted(folder.glob("*.sqlite")) if folder.is_dir() else []:
        try:
            merged += memory.merge(path)
        except sqlite3.DatabaseError as problem:
            if not damaged(problem):
                raise
            merged += salvage_journal(memory, path, problem, warn or logger.warning)
            continue
        host, _, pid = path.stem.rpartition("-")
        if host == socket.gethostname() and pid.isdigit() and not pid_alive(int(pid)):
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)
    return merged


_DAMAGED = frozenset({sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB})
_NO_STORAGE = frozenset(
    {sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM}
)


def _primary_code(problem: sqlite3.Error) -> int | None:
    code = getattr(problem, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def damaged(problem: sqlite3.Error) -> bool:
    """Whether SQLite says a file is damaged: ``file is not a database``, ``database disk image is malformed``."""
    return _primary_code(problem) in _DAMAGED


def storage_error(path: Path, problem: sqlite3.Error) -> TarjamaError | None:
    """The failed write to the SQLite file ``path`` in one line naming it, if the storage is to blame (a full
    disk: ``database or disk is full``, or, when SQLite cannot grow its WAL, ``disk I/O error``; a read-only
    file or folder); ``None`` for anything else."""
    if _primary_code(problem) not in _NO_STORAGE:
        return None
    try:
        check_free_space(path)  # a full disk is called one, whatever SQLite called it
    except TarjamaError as full:
        return full
    return TarjamaError(f"{path}: cannot write ({problem})")


def salvage_journal(memory: TranslationMemory, path: Path, problem: sqlite3.Error, warn: Callable[[str], None]) -> int:
    """Merge what rows of the damaged journal ``path`` can be read, set it aside and ``warn``; rows merged.

    A journal holds translations paid for: a partly damaged one is read from both ends (up to the
    damaged page each way). If the journal reads whole, the damage was the memory's: that is raised.
    """
    rows, whole = _readable_rows(path)
    if whole:
        raise TarjamaError(f"{memory.path}: damaged translation memory ({problem})") from None
    memory._store_rows(rows)
    aside = set_aside(path)
    kept = f"set aside as {aside.name}" if isinstance(aside, Path) else f"could not be set aside ({aside})"
    warn(
        f"{path}: damaged journal ({problem}); {counted(len(rows), 'translation')} read from it into "
        f"{memory.path}; the file is {kept}"
    )
    return len(rows)


def _readable_rows(path: Path) -> tuple[list[tuple[str, str, str, str, str]], bool]:
    """The rows of the journal ``path`` that can be read, and whether it read whole. A truncated file
    (a disk that filled up, a copy cut short) is read again as a copy whose header does not give its
    size: SQLite then reads the pages that are there, instead of calling the whole file malformed."""
    rows, whole = _rows_of(f"{path.absolute().as_uri()}?mode=ro")  # as a URI: a '?' or '#' in a name is kept
    if whole:
        return list(rows.values()), True
    with tempfile.TemporaryDirectory(prefix="tarjama-salvage-") as scratch:
        try:
            data = bytearray(path.read_bytes())
        except OSError:
            data = bytearray()
        if data.startswith(b"SQLite format 3\0") and len(data) >= 100:
            data[28:32] = bytes(4)  # "in-header database size": 0 = use the file's size
            copy = Path(scratch) / "journal.sqlite"
            copy.write_bytes(data)
            rows = {**_rows_of(f"{copy.as_uri()}?mode=ro")[0], **rows}
    return list(rows.values()), False


def _rows_of(uri: str) -> tuple[dict[tuple[str, str, str], tuple[str, str, str, str, str]], bool]:
    """The rows of the memory file at ``uri`` that can be read, from the first one on and from the last
    one back (up to a damaged page each way), by key; and whether it read whole."""
    rows: dict[tuple[str, str, str], tuple[str, str, str, str, str]] = {}
    whole = True
    try:
        db = sqlite3.connect(uri, uri=True, timeout=30)
    except sqlite3.Error:
        return rows, False
    try:
        for order in ("ASC", "DESC"):
            try:
                for row in db.execute(
                    f"SELECT engine, model, source, target, created_at FROM translations ORDER BY rowid {order}"
                ):
                    rows[row[:3]] = row
            except sqlite3.Error:
                whole = False
                continue
            break  # read whole from the first row: nothing to read from the end
        if whole:  # its table reads whole, but an index of it may be what is damaged
            whole = db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    except sqlite3.Error:
        whole = False
    finally:
        db.close()
    return rows, whole


def set_aside(path: Path) -> Path | str:
    """Rename the damaged SQLite file ``path`` (and its ``-wal``, if it holds anything) to
    ``<name>.damaged-<UTC time>``, out of the journals' glob, bytes kept; its new path, or why it could
    not be renamed. Its ``-shm`` (an index SQLite rebuilds) and an empty ``-wal`` are removed."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    aside = path.with_name(f"{path.name}.damaged-{stamp}")
    wal, shm = path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")
    try:
        if wal.exists() and wal.stat().st_size > 0:
            wal.rename(aside.with_name(aside.name + "-wal"))
        wal.unlink(missing_ok=True)
        shm.unlink(missing_ok=True)
        path.rename(aside)
    except OSError as problem:
        return problem.strerror or str(problem)
    return aside
