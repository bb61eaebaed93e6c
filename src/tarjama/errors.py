"""Errors a user can act on.

Anything raised as a :class:`TarjamaError` is shown by the CLI as one line
(``tarjama: error: ...``) with exit status 2; anything else is a bug.
"""

from __future__ import annotations

from pathlib import Path


class TarjamaError(Exception):
    """A problem with the user's input or set-up, explained in one line."""


class InputError(TarjamaError):
    """A bad input file: the message always names the file and the problem."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")
