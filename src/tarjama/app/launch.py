"""The ``tarjama`` command: a ``run`` goes to the home's warm process when one answers
(:mod:`tarjama.app.preload`), and leaves one behind when none did; every command else goes straight
to the CLI (:mod:`tarjama.app.cli`). Nothing heavy is imported before that choice is made."""

from __future__ import annotations

import os
import sys


def main() -> None:
    if sys.argv[1:2] != ["run"]:
        _cli()
        return
    from tarjama.app import preload

    environ = dict(os.environ)  # as the command received it: the run changes its own
    status = preload.delegate(sys.argv, environ)
    if status is not None:
        sys.exit(status)
    try:
        _cli()
    finally:
        preload.start(environ)


def _cli() -> None:
    from tarjama.app.cli import entry

    entry()
