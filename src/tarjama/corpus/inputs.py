"""What a corpus run reads: articles from files, folders, globs and manifests, each with its references.

An article is an :class:`ArticleInput`: its id, where it came from, its Arabic (a file or a text)
and its references. Sources:

- a file ``<id>.ar.txt``: references beside it by convention (``<id>.en.txt``,
  ``<id>.en-<label>.txt``), or the ``--reference`` files given;
- a folder: every ``*.ar.txt`` below it, in path order, references by convention;
- a glob (``corpus/**/*.ar.txt``), expanded the same way;
- a manifest, ``.jsonl`` (one JSON object per line) or ``.parquet`` (one row per article), so a
  crawl dump of 100,000 articles needs no 100,000 files. A record is
  ``{"id": ..., "text": "<Arabic>"}`` or ``{"id": ..., "path": "<file>"}``, with optional
  ``"references": [{"label": "en", "text": ...} | {"label": "en", "path": ...}]``; relative paths
  are relative to the manifest's folder.

Reading an article's text is deferred to :meth:`ArticleInput.load`, so a bad article fails alone,
when it is processed; a bad manifest (not JSON, a record without an id or text or with an empty one,
duplicate ids, an id or label :func:`~tarjama.text.article.name_problem` refuses) fails the run at
once, in one line naming the manifest and the record, and so does a file whose name gives such an id
or label. A JSONL manifest may begin with a UTF-8 byte-order mark, as an article file may.
"""

from __future__ import annotations

import fnmatch
import functools
import glob
import hashlib
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tarjama.errors import InputError, TarjamaError
from tarjama.text.article import (
    Document,
    check_file_name,
    check_regular_file,
    document_id,
    find_references,
    labelled_references,
    load_document,
    name_problem,
    open_regular,
    parse_document,
    reference_label,
    split_reference_name,
)

MANIFEST_SUFFIXES = (".jsonl", ".parquet")
PARQUET_CHUNK_ROWS = 512
_GLOB_CHARS = frozenset("*?[")

ReadCheck = Callable[[Path, str], None]
"""Called with each file (or folder) a run would read, and how to name it in a message, before it is read
or listed: raises to refuse it (:class:`~tarjama.app.serve.UiRunPolicy`). The name is what the user gave
(a path, ``a match of <pattern>``, ``a reference beside ...``), never what the file turned out to be."""


def _read_anything(path: Path, shown: str) -> None:
    """The :data:`ReadCheck` of a run started from the command line: every file may be read."""


@dataclass(frozen=True)
class ManifestField:
    """Where a text sits in a manifest: a JSONL line (its byte offset) or a Parquet row, and the field.

    A corpus run holds one of these per article instead of the text, so a crawl dump's texts are
    read when each article is built, not held for the whole run (about 6 KB an article)."""

    manifest: Path
    position: int
    field: tuple[str | int, ...]

    def read(self) -> str:
        import polars as pl

        try:
            if self.manifest.suffix == ".jsonl":
                with open_regular(self.manifest) as lines:
                    lines.seek(self.position)
                    value: Any = json.loads(lines.readline())
            else:
                stat = self.manifest.stat()
                first_row = self.position - self.position % PARQUET_CHUNK_ROWS
                chunk = _parquet_chunk(self.manifest, (stat.st_mtime_ns, stat.st_size, stat.st_ino), first_row)
                value = chunk[self.position - first_row]
            for step in self.field:
                value = value[step]
        except (OSError, ValueError, LookupError, TypeError, pl.exceptions.PolarsError):
            value = None
        if not isinstance(value, str):
            raise InputError(self.manifest, "changed while the run was reading it (a record's text is gone)")
        return value


@functools.lru_cache(maxsize=1)
def _parquet_chunk(manifest: Path, stamp: tuple[int, int, int], first_row: int) -> list[dict[str, Any]]:
    """``PARQUET_CHUNK_ROWS`` records of a Parquet manifest from ``first_row`` (``stamp``: the file's
    mtime, size and inode, so a rewritten manifest is read again).

    One row costs about what 512 do (Parquet decodes pages, not rows: 100 ms a row in a 95 MB manifest
    of 20,000 articles), and a run reads its articles in order, each record several times (its key,
    then its texts); so the chunk around a row is kept for the next ones: about 3 MB, one chunk."""
    from tarjama.corpus.readers import scan_parquet

    return scan_parquet(manifest).slice(first_row, PARQUET_CHUNK_ROWS).collect().rows(named=True)


@dataclass(frozen=True)
class TextSource:
    """A text to read: a file (``origin``), or a text given in a manifest (``text``, or where to find it:
    ``field``), with ``origin`` naming the record in messages."""

    origin: Path
    text: str | None = None
    field: ManifestField | None = None

    @property
    def is_file(self) -> bool:
        return self.text is None and self.field is None

    def _inline(self) -> str | None:
        return self.field.read() if self.field is not None else self.text

    def load(self, lang: str, doc_id: str | None = None) -> Document:
        inline = self._inline()
        if inline is None:
            return load_document(self.origin, lang, doc_id)
        return parse_document(inline, self.origin, lang, doc_id)

    def digest(self) -> str:
        """A hash of the content (not of the path), so a moved article is still the same article."""
        inline = self._inline()
        if inline is not None:
            return hashlib.sha256(inline.encode()).hexdigest()
        with open_regular(self.origin) as handle:  # a FIFO would block here: refused unread, an OSError
            return hashlib.file_digest(handle, "sha256").hexdigest()


@dataclass(frozen=True)
class ReferenceInput:
    label: str
    source: TextSource


@dataclass(frozen=True)
class ArticleInput:
    id: str
    source: TextSource
    references: tuple[ReferenceInput, ...] = ()

    @property
    def origin(self) -> str:
        return str(self.source.origin)

    def load(self) -> tuple[Document, list[Document]]:
        """The article and its references, read and split; an unreadable one raises :class:`TarjamaError`."""
        article = self.source.load("ar", self.id)
        references = [ref.source.load("en", self.id) for ref in self.references]
        return article, references

    def digest(self) -> str:
        parts = [self.id, self.source.digest(), *(f"{r.label}:{r.source.digest()}" for r in self.references)]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


Listings = dict[Path, dict[str, list[str]]]
"""Folders listed already, each with its labelled references by article id
(:func:`~tarjama.text.article.labelled_references`): a folder is listed once, not once per article."""


def _from_file(
    path: Path, check: ReadCheck = _read_anything, shown: str | None = None, listings: Listings | None = None
) -> ArticleInput:
    """The article in ``path`` with the references beside it (``shown``: how messages name ``path``,
    checked already; ``listings``: the folders listed so far, kept for the next article)."""
    beside = f"a reference beside {path if shown is None else shown}"
    listings = {} if listings is None else listings
    if path.parent not in listings:
        listings[path.parent] = labelled_references(path.parent)
    given = find_references(path, listings[path.parent])
    for reference in given:
        check(reference, beside)
    article_id = document_id(path)
    check_file_name(path, article_id, "article id")
    return ArticleInput(article_id, TextSource(path), _file_references(given))


def _file_references(paths: Sequence[Path]) -> tuple[ReferenceInput, ...]:
    """References read from files, each labelled by its file name."""
    references = []
    for path in paths:
        label = reference_label(path)
        check_file_name(path, label, "reference label")
        references.append(ReferenceInput(label, TextSource(path)))
    return tuple(references)


def _record_source(record: dict[str, Any], base: Path, where: str, field: ManifestField) -> TextSource:
    """Where a record's text is. One the record shows to be missing (an empty ``"text"`` or ``"path"``, or
    neither) fails the run at once, as a record without an id does, not once every article has failed."""
    text, path = record.get("text"), record.get("path")
    if isinstance(text, str):
        if not text.strip():
            raise TarjamaError(f'{where}: the "text" is {"empty" if not text else "only whitespace"}')
        return TextSource(Path(where), field=field)
    if isinstance(path, str):
        if not path.strip():
            raise TarjamaError(f'{where}: the "path" is empty')
        given = Path(path)
        return TextSource(given if given.is_absolute() else base / given)
    raise TarjamaError(f'{where}: needs a "text" or a "path"')


def _records(manifest: Path) -> Iterator[tuple[str, int, dict[str, Any]]]:
    """Each record of ``manifest``: where it is (for messages), its position (a JSONL line's byte
    offset, a Parquet row's index) and its fields."""
    if manifest.suffix == ".jsonl":
        try:
            with open_regular(manifest) as lines:
                offset = 0
                for number, raw in enumerate(lines, start=1):
                    position, offset = offset, offset + len(raw)
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")  # a mark, as an article may have
                    if not line.strip():
                        continue
                    try:
                        record = json.loads(line)
                    except ValueError as problem:
                        raise TarjamaError(f"{manifest}:{number}: not JSON ({problem})") from None
                    if not isinstance(record, dict):
                        raise TarjamaError(f"{manifest}:{number}: expected a JSON object per line")
                    yield f"{manifest}:{number}", position, record
        except (OSError, UnicodeDecodeError) as problem:
            raise InputError(manifest, f"unreadable manifest ({problem})") from None
        return
    from tarjama.corpus.readers import read_parquet

    try:
        frame = read_parquet(manifest)
    except Exception as problem:  # polars' errors name what is wrong on their first line ("parquet: ...")
        detail = (str(problem).strip().splitlines() or [type(problem).__name__])[0].removeprefix("parquet: ")
        raise InputError(manifest, f"unreadable Parquet manifest ({detail})") from None
    for row, record in enumerate(frame.iter_rows(named=True)):
        yield f"{manifest}:row {row + 1}", row, record


def read_manifest(manifest: Path) -> list[ArticleInput]:
    """The articles a manifest lists (see the module docstring for the record format)."""
    check_regular_file(manifest)
    articles = []
    for where, position, record in _records(manifest):
        article_id = record.get("id")
        if not isinstance(article_id, str) or not article_id.strip():
            raise TarjamaError(f'{where}: needs an "id" (a non-empty string)')
        problem = name_problem(article_id)
        if problem:  # kept as given: an id that is written differently per output is refused, not changed
            raise TarjamaError(f'{where}: the "id" {article_id!r} {problem}')
        references = []
        for index, ref in enumerate(record.get("references") or [], start=1):
            if not isinstance(ref, dict):
                raise TarjamaError(f"{where}: reference {index} must be an object with a label and a text or path")
            label = ref.get("label") or "en"
            if not isinstance(label, str):
                raise TarjamaError(f'{where}: reference {index}: its "label" must be a string, not {label!r}')
            problem = name_problem(label)
            if problem:
                raise TarjamaError(f'{where}: reference {index}: the "label" {label!r} {problem}')
            field = ManifestField(manifest, position, ("references", index - 1, "text"))
            references.append(
                ReferenceInput(str(label), _record_source(ref, manifest.parent, f"{where} (reference {label})", field))
            )
        source = _record_source(record, manifest.parent, where, ManifestField(manifest, position, ("text",)))
        articles.append(ArticleInput(article_id, source, tuple(references)))
    if not articles:
        raise InputError(manifest, "manifest lists no articles")
    return articles


def is_manifest(source: str) -> bool:
    """Whether a source names a manifest: a ``.jsonl`` or ``.parquet`` path that exists or is no glob (an
    existing path is a path, whatever characters its name holds: ``m4 [x]/m.jsonl``)."""
    path = Path(source)
    return path.suffix in MANIFEST_SUFFIXES and (path.exists() or not _GLOB_CHARS & set(source))


def collect_articles(
    paths: Sequence[str | Path], references: Sequence[Path] = (), check: ReadCheck = _read_anything
) -> list[ArticleInput]:
    """Every article named by ``paths`` (files, folders, globs, manifests), each once, in order.

    ``references`` (``--reference``) go to the one article given, or, with several articles, to the
    article whose whole id their file name gives (:func:`~tarjama.text.article.split_reference_name`).
    ``check`` sees every file before it is read (each path given, each glob match, each manifest, each
    reference beside an article or given) and every folder before it is listed; the texts themselves
    are not read here. Paths a manifest names are not checked: a manifest is a file its author wrote.
    """
    articles: list[ArticleInput] = []
    listings: Listings = {}
    for raw in paths:
        text = str(raw)
        path = Path(text)
        if is_manifest(text):
            check(path, text)
            articles += read_manifest(path)
        elif path.is_dir():
            check(path, text)
            found = sorted(path.rglob("*.ar.txt"))  # rglob enters no symlinked folder
            for match in found:
                check(match, f"a file in {text}")
            if not found:
                raise TarjamaError(f"{path}: no *.ar.txt articles in this folder")
            articles += [_from_file(p, check, f"a file in {text}", listings) for p in found]
        elif _GLOB_CHARS & set(text) and not path.exists():
            found = sorted(p for p in expand_glob(text) if _names_an_article(p))
            for match in found:  # all of them before any is looked into
                check(match, f"a match of {text}")
            if not found:
                raise TarjamaError(f"{text}: the pattern matches no file")
            articles += [_from_file(p, check, f"a match of {text}", listings) for p in found]
        else:
            check(path, text)
            articles.append(_from_file(path, check, listings=listings))
    for reference in references:  # named on the command line: a FIFO or a folder there is a usage error
        check(reference, str(reference))
        check_regular_file(reference)
    articles = _each_once(articles)
    if references:
        articles = _with_given_references(articles, references)
    for article in articles:
        for label, origins in _by_label(article.references).items():
            if len(origins) > 1:  # their rows' keys would clash
                named = list(dict.fromkeys(origins))
                where = " and ".join(named) if len(named) > 1 else f"{named[0]}, {len(origins)} times"
                raise TarjamaError(
                    f"article {article.id!r} has {len(origins)} references labelled {label!r} ({where}): "
                    "each reference needs a label of its own"
                )
    return articles


def _each_once(articles: list[ArticleInput]) -> list[ArticleInput]:
    """``articles`` with the same files reached twice (``in/*.ar.txt in``) kept once; two different articles
    with one id are refused."""
    seen: dict[str, ArticleInput] = {}
    for article in articles:
        first = seen.setdefault(article.id, article)
        if first is not article and (_files(first) is None or _files(first) != _files(article)):
            raise TarjamaError(f"article id {article.id!r} appears twice: {first.origin} and {article.origin}")
    return list(seen.values())


def _by_label(references: Sequence[ReferenceInput]) -> dict[str, list[str]]:
    by_label: dict[str, list[str]] = {}
    for reference in references:
        by_label.setdefault(reference.label, []).append(str(reference.source.origin))
    return by_label


def _files(article: ArticleInput) -> tuple[Path, ...] | None:
    """The files an article is read from, resolved (so two paths to one file are one), or ``None`` if
    any of its texts is a manifest's."""
    sources = [article.source, *(r.source for r in article.references)]
    if not all(source.is_file for source in sources):
        return None
    return tuple(_resolved(source.origin) for source in sources)


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except RuntimeError:  # a symlink loop (so Python 3.11 names it): it fails alone when it is read
        return path.absolute()


def _names_an_article(match: Path) -> bool:
    """Whether a glob's match is an article: anything but a folder (a FIFO or device then fails alone, in
    one line, as in a folder), and a folder named ``*.ar.txt``, as a folder's search finds it."""
    return not match.is_dir() or match.name.endswith(".ar.txt")


def _with_given_references(articles: list[ArticleInput], given: Sequence[Path]) -> list[ArticleInput]:
    if len(articles) == 1:
        only = articles[0]
        return [ArticleInput(only.id, only.source, _file_references(given))]
    by_id: dict[str, list[Path]] = {a.id: [] for a in articles}
    for reference in given:
        owner = (split_reference_name(reference.name) or ("",))[0]  # the whole id, as the name gives it
        if owner not in by_id:
            raise TarjamaError(
                f"{reference}: matches no article (name it <article-id>.en.txt or <article-id>.en-<label>.txt)"
            )
        by_id[owner].append(reference)
    return [ArticleInput(a.id, a.source, _file_references(by_id[a.id])) if by_id[a.id] else a for a in articles]


def expand_glob(pattern: str) -> list[Path]:
    """The paths ``pattern`` matches, as ``glob.glob(pattern, recursive=True)`` finds them, except that
    ``**`` enters no symlinked folder (as :meth:`pathlib.Path.rglob` does in Python 3.11, and a folder
    given as a source): ``glob.glob`` follows them, so a link to its own folder (``ln -s . loop/x``) made
    it walk forever. A ``*`` or a name still follows a link, one level, as a path typed in full would.
    Names starting with a dot match only a part that starts with one, as in ``glob``."""
    parts = pattern.split(os.sep)
    bases = [os.sep] if parts[0] == "" else [""]  # absolute, or from the current folder
    if parts[0] == "":
        parts = parts[1:]
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        step: list[str] = []
        for base in bases:
            if part == "**":
                step += _below(base, folders_only=not last)
            elif glob.has_magic(part):
                step += [os.path.join(base, name) for name in _matching(base, part, folders_only=not last)]
            elif part == "" and not last:  # a doubled separator
                step.append(base)
            else:
                joined = os.path.join(base, part)
                if os.path.lexists(joined) if last else os.path.isdir(joined):
                    step.append(joined)
        bases = list(dict.fromkeys(step))
    return [Path(found) for found in bases if found]


def _entries(folder: str) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder or os.curdir) as entries:
            return list(entries)
    except OSError:
        return []


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _matching(folder: str, part: str, folders_only: bool) -> list[str]:
    names = [e.name for e in _entries(folder) if not folders_only or _is_folder(e)]
    if not part.startswith("."):
        names = [name for name in names if not name.startswith(".")]
    return fnmatch.filter(names, part)


def _below(folder: str, folders_only: bool) -> list[str]:
    """What ``**`` matches under ``folder``: ``folder`` itself (as ``glob`` gives it, with a trailing
    separator) and every folder below it (``folders_only``) or every path, entering no hidden or symlinked
    folder, and (as pathlib's ``**``) not giving a symlinked folder as a folder to look into."""
    found = [os.path.join(folder, "")]
    pending = [folder]
    while pending:
        current = pending.pop()
        for entry in _entries(current):
            if entry.name.startswith("."):
                continue
            path = os.path.join(current, entry.name)
            real_folder = _is_folder(entry) and not entry.is_symlink()
            if real_folder or not folders_only:
                found.append(path)
            if real_folder:
                pending.append(path)
    return found
