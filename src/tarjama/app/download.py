"""Which file a download URL names, and how it is offered to a browser (pure, no server).

``tarjama serve`` offers a run's outputs at ``<base>/files/<run>/<file>``,
where the path is relative to the output folder. A request may name only a
regular file inside one of its run folders (:func:`is_run_folder`; ``latest``
leads to one), never a file beside them, the shards, a translation memory or
another folder a user keeps there: the path is percent-decoded once, then
refused if it is absolute, has a ``..``, empty or hidden (dot) segment, a
backslash or a control character, and finally resolved (following symlinks)
and refused unless the real file still lies inside the real output folder.
Hidden segments are refused because a run is staged in ``.<run>.partial``
until it is complete. A folder inside (``<run>/``) is not found, as a folder:
the index lists the files, and only those these rules serve.

Data files are offered as attachments (saved, not displayed); plots and HTML
reports are shown in the browser (``inline``), so a report or a Prefect
artifact can embed a plot by its URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote

FILES_PREFIX = "/files/"
VIEW_PREFIX = "/view/"
DEFAULT_DOWNLOAD_PORT = 4201

CONTENT_TYPES = {
    ".tsv": "text/tab-separated-values; charset=utf-8",
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json",
    ".md": "text/markdown; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
}
SHOWN_INLINE = frozenset({".png", ".svg", ".html"})
RUN_MARKER = "scores.json"
"""What every run folder holds (``tarjama run`` and ``tarjama compare`` write it, the last file before the
folder is renamed into place) and what nothing else tarjama keeps under ``--out`` does."""


def is_run_folder(folder: Path) -> bool:
    """Whether ``folder`` is a run's (or a comparison's) output folder: one holding :data:`RUN_MARKER`."""
    return (folder / RUN_MARKER).is_file()


class DownloadRefused(Exception):
    """The request names something outside the output folder, or not a plain relative path (HTTP 403)."""


class DownloadNotFound(Exception):
    """No such file under the output folder (HTTP 404)."""


class DownloadIsFolder(DownloadNotFound):
    """The path names a folder inside the output folder, not a file (HTTP 404: the index lists its files)."""


@dataclass(frozen=True)
class Download:
    path: Path  # the real file, inside the real output folder
    relative: str  # as named in the URL, e.g. "20250101-120000-x/aligned.tsv"
    content_type: str
    filename: str  # what the browser should save it as
    inline: bool  # shown by the browser rather than saved


def file_url(base: str, relative: str | Path) -> str:
    """The URL of ``relative`` (a path inside the output folder), each segment percent-encoded."""
    parts = Path(relative).parts
    return base.rstrip("/") + FILES_PREFIX + "/".join(quote(part, safe="") for part in parts)


def viewer_url(base: str, run: str) -> str:
    """The URL of the side-by-side viewer of run folder ``run`` (one path segment, percent-encoded)."""
    return base.rstrip("/") + VIEW_PREFIX + quote(run, safe="")


def safe_relative(raw: str) -> str:
    """A URL path (below ``/files/``) decoded once and checked segment by segment."""
    try:
        path = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise DownloadRefused("path is not UTF-8") from None
    if not path:
        raise DownloadNotFound("no file named")
    if any(ord(c) < 32 or ord(c) == 127 for c in path) or "\\" in path:
        raise DownloadRefused("control character or backslash in path")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise DownloadRefused("absolute path")
    for segment in path.split("/"):
        if segment in ("", ".", ".."):
            raise DownloadRefused(f"path segment {segment!r} not allowed")
        if segment.startswith("."):
            raise DownloadRefused("hidden files are not served")
    return path


def resolve_download(root: Path, raw: str, runs: bool = False) -> Download:
    """The file that the URL path ``raw`` (below ``/files/``) names inside ``root``; with ``runs`` (``root``
    is an output folder, as ``tarjama serve`` offers it), only inside one of its run folders.

    Raises :class:`DownloadRefused` or :class:`DownloadNotFound` (:class:`DownloadIsFolder` for a folder,
    also when named with a trailing slash; a path outside the run folders is not found, folder or file).
    """
    folder = raw.endswith("/") and raw != "/"
    relative = safe_relative(raw[:-1] if folder else raw)
    try:
        real_root = root.resolve(strict=True)
        real = (real_root / relative).resolve(strict=True)
    except (FileNotFoundError, NotADirectoryError):
        raise DownloadNotFound(relative) from None
    except (OSError, RuntimeError) as problem:  # symlink loops and the like
        raise DownloadRefused(f"{relative}: {problem}") from None
    if not real.is_relative_to(real_root) or real == real_root:
        raise DownloadRefused(f"{relative}: outside the output folder")
    if runs and not is_run_folder(real_root / real.relative_to(real_root).parts[0]):
        raise DownloadNotFound(relative)
    if real.is_dir():
        raise DownloadIsFolder(relative)
    if folder or not real.is_file():
        raise DownloadNotFound(relative)
    return Download(
        real, relative, content_type(real), download_filename(relative), real.suffix.lower() in SHOWN_INLINE
    )


def served_files(root: Path, run: str = "") -> list[str]:
    """The files of run folder ``run`` under ``root`` (or of ``root``, itself a run folder), and those one
    folder down (``plots/…``), that :func:`resolve_download` serves, relative to the run folder: no hidden
    ones, no symlinks leading out, none at all if ``run`` is no run folder."""
    folder = root / run if run else root
    found = []
    for entry in sorted(folder.iterdir()):
        names = [entry.name]
        if entry.is_dir() and not entry.is_symlink() and not entry.name.startswith("."):
            names = [f"{entry.name}/{inner.name}" for inner in sorted(entry.iterdir())]
        for name in names:
            try:
                resolve_download(root, quote(f"{run}/{name}" if run else name, safe="/"), runs=bool(run))
            except (DownloadRefused, DownloadNotFound):
                continue
            found.append(name)
    return found


def content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


def download_filename(relative: str) -> str:
    """``<run>/aligned.tsv`` → ``<run>-aligned.tsv``, ``<run>/plots/row-chrf.png`` → ``<run>-plots-row-chrf.png``,
    so files of different runs never collide."""
    return relative.replace("/", "-")


def content_disposition(filename: str, inline: bool = False) -> str:
    """An ``attachment`` (or ``inline``) header with an ASCII fallback and the exact name in RFC 5987 form."""
    ascii_name = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
