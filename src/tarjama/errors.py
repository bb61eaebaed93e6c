"""Errors a user can act on, and the wording of what the user is told (:func:`printable`, :func:`counted`).

Anything raised as a :class:`TarjamaError` is shown by the CLI as one line
(``tarjama: error: ...``) with exit status 2; anything else is a bug.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path


def printable(text: str) -> str:
    """``text`` with every unprintable character escaped (``\\x1b``, ``\\n``, ``\\u202e``).

    Messages name files, and a file name can hold ANSI escape sequences, line breaks or bidi
    overrides: sent raw, they would recolour, rewrite or reorder the user's terminal.
    """
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def counted(number: int, noun: str) -> str:
    """A count and its noun, for messages: ``1 article``, ``2 articles``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


class TarjamaError(Exception):
    """A problem with the user's input or set-up, explained in one line (of printable characters)."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))


class InputError(TarjamaError):
    """A bad input file: the message always names the file and the problem."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")

    def __reduce__(self) -> tuple[type[InputError], tuple[Path, str]]:
        """Rebuilt from path and problem, so the error crosses process boundaries (Dask, Prefect) intact."""
        return type(self), (self.path, self.problem)


_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO})


def storage_problem(error: Exception) -> str | None:
    """What a failed write says about the storage (``No space left on device``, ...), or ``None`` if nothing.

    A full disk, an exhausted quota or a read-only file system is the user's to fix, not a bug: it
    deserves one line naming the file, not a traceback. Polars reports I/O errors without an
    ``errno`` (an ``OSError``, or a ``ComputeError`` from its Parquet writer), so the number is also
    read from the message (``... (os error 28)``).
    """
    number = error.errno if isinstance(error, OSError) else None
    if number is None:
        found = re.search(r"\(os error (\d+)\)", str(error))
        number = int(found.group(1)) if found else None
    return os.strerror(number) if number in _STORAGE_ERRNOS else None
