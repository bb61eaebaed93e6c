"""Where a tarjama home is, found without loading the settings (the ``run`` launcher needs it first)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

HOME_FOLDER = ".tarjama"
DEFAULT = "default"


def resolve_home(environ: Mapping[str, str], cwd: Path) -> tuple[Path, str]:
    """Where the translation memory and the Prefect database live, and why there.

    ``$TARJAMA_HOME``; else the nearest ``.tarjama`` folder in the current directory or above it (a
    project's own home, found from any of its sub-folders); else the user's
    ``$XDG_DATA_HOME/tarjama`` (``~/.local/share/tarjama``), shared by every project of the user.
    Always an absolute path (a relative one is taken from ``cwd``): a worker elsewhere finds the same home.
    """
    cwd = cwd.absolute()
    if environ.get("TARJAMA_HOME"):
        return cwd / Path(environ["TARJAMA_HOME"]).expanduser(), "TARJAMA_HOME"
    for folder in (cwd, *cwd.parents):
        if (folder / HOME_FOLDER).is_dir():
            return folder / HOME_FOLDER, f"{DEFAULT}: nearest {HOME_FOLDER} folder"
    data = Path(environ.get("XDG_DATA_HOME") or Path(environ.get("HOME") or Path.home()) / ".local" / "share")
    return cwd / data / "tarjama", f"{DEFAULT}: user data folder (no {HOME_FOLDER} folder above the current directory)"
