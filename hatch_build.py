"""Wheels carry the top-level ``flows/`` folder as ``tarjama.flows``; editable installs find it in the checkout.

A wheel (built from the checkout or from the sdist) gets each module of ``flows/`` as ``tarjama/flows/...``,
hidden folders, caches and other strays left out: a force-included folder would take everything in it, a
checkout's ``.prefect/prefect.db`` too. An editable install cannot map a folder into a package
that way (hatchling refuses prefix rewrites in dev mode), so this hook gives the editable wheel a
small finder, loaded by a ``.pth`` file, that resolves ``tarjama.flows`` to the checkout's folder:
edits there take effect at once, as they do under ``src/``.

The long description (the package index's page) is the README with its relative links and picture
taken out (:class:`IndexReadme`): they name files of the repository, which an index page does not have.
"""

import re
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface
from hatchling.metadata.plugin.interface import MetadataHookInterface

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


PACKAGE_SUFFIXES = (".py", ".pem")  # what flows/ ships: modules and the TLS trust file; no backups or caches


class FlowsHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        flows = Path(self.root, "flows")
        if version != "editable":
            for path in sorted(flows.rglob("*")):
                relative = path.relative_to(flows)
                hidden = any(part.startswith(".") or part == "__pycache__" for part in relative.parts)
                if path.is_file() and path.suffix in PACKAGE_SUFFIXES and not hidden:
                    build_data["force_include"][str(path)] = f"tarjama/flows/{relative.as_posix()}"
            return
        folder = Path(tempfile.mkdtemp(prefix="tarjama-editable-"))
        finder = folder / "_tarjama_checkout_flows.py"
        finder.write_text(FINDER.format(flows=str(flows.resolve())), encoding="utf-8")
        loader = folder / "_tarjama_checkout_flows.pth"
        loader.write_text("import _tarjama_checkout_flows\n", encoding="utf-8")
        # an editable wheel gets the finder instead of the files: nothing is copied, the checkout is used
        build_data["force_include_editable"][str(finder)] = finder.name
        build_data["force_include_editable"][str(loader)] = loader.name


_PICTURE = re.compile(r"^!\[[^\]]*\]\((?![a-z]+:)[^)]*\)\n\n?", re.MULTILINE)
_RELATIVE_LINK = re.compile(r"\[[^\]]*\]\((?![a-z]+:)([^)#]+)(#[^)]*)?\)")


def index_readme(readme: str) -> str:
    """``readme`` for a package index: a relative picture dropped, a relative link as its file's path
    in plain text (``docs/inputs.md``); absolute links kept."""
    return _RELATIVE_LINK.sub(lambda link: f"`{link[1]}`", _PICTURE.sub("", readme))


class IndexReadme(MetadataHookInterface):
    def update(self, metadata: dict[str, Any]) -> None:
        readme = Path(self.root, "README.md").read_text(encoding="utf-8")
        metadata["readme"] = {"content-type": "text/markdown", "text": index_readme(readme)}
