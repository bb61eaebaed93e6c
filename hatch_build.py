"""Editable installs find ``tarjama.flows`` in the checkout's top-level ``flows/`` folder.

A wheel (built from the checkout or from the sdist) carries ``flows/`` as ``tarjama/flows`` through
the ``force-include`` table in pyproject.toml. An editable install cannot map a folder into a
package that way (hatchling refuses prefix rewrites in dev mode), so this hook gives the editable
wheel a small finder, loaded by a ``.pth`` file, that resolves ``tarjama.flows`` to the checkout's
folder: edits there take effect at once, as they do under ``src/``.
"""

import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

FINDER = '''"""Resolves tarjama.flows to the checkout this editable install points at (made by hatch_build.py)."""

import importlib.util
import sys

FLOWS = {flows!r}


class CheckoutFlowsFinder:
    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "tarjama.flows":
            return None
        return importlib.util.spec_from_file_location(
            name, FLOWS + "/__init__.py", submodule_search_locations=[FLOWS]
        )


sys.meta_path.append(CheckoutFlowsFinder)
'''


class EditableFlowsHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version != "editable":
            return
        folder = Path(tempfile.mkdtemp(prefix="tarjama-editable-"))
        finder = folder / "_tarjama_checkout_flows.py"
        finder.write_text(FINDER.format(flows=str(Path(self.root, "flows").resolve())), encoding="utf-8")
        loader = folder / "_tarjama_checkout_flows.pth"
        loader.write_text("import _tarjama_checkout_flows\n", encoding="utf-8")
        # replaces the force-include table in an editable wheel: nothing is copied, the checkout is used
        build_data["force_include_editable"][str(finder)] = finder.name
        build_data["force_include_editable"][str(loader)] = loader.name
