"""Folders and files of tarjama's home that only their user may read (stdlib only: imported by every command).

The home's Prefect database holds Secret blocks (engines' API keys), and ``serve.json`` and
``prefect-server.json`` say where this user's servers listen and the shared server's identity token.
Under a usual umask (022) they were readable by every user of the machine. What tarjama creates is
now its user's alone: folders 0700 (as the XDG base directory specification asks of a folder it
creates), the files it writes 0600. A folder that already exists keeps its mode: a home the user made
(or shares on purpose) is theirs to set.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def make_private_dir(path: Path) -> Path:
    """``path`` as a folder; each folder created here, ``path`` and its missing parents, 0700."""
    missing = []
    folder = path.expanduser()
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)  # the umask can only take bits away from 0700
    path.expanduser().mkdir(exist_ok=True)  # a file in its place: FileExistsError, as before
    return path


def write_private(path: Path, text: str) -> None:
    """``text`` into ``path``, a file of tarjama's own, readable and writable by its user only (one written
    0644 by an earlier version is tightened)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), PRIVATE_FILE)
        handle.write(text)
