"""tarjama: Arabic→English translation and bilingual sentence alignment.

The package is the pure core: every stage (normalise, segment, translate,
align, score, write) is a plain function or class that knows nothing of
Prefect. The ``flows`` package wires them into Prefect flows.
"""

from importlib.metadata import version

__version__ = version("tarjama")
"""Defined once, in pyproject.toml; raised whenever a change can alter results (see CHANGELOG.md),
so the version inside every signature and reuse key means something."""
