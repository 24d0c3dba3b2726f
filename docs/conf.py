"""Sphinx configuration of glassnet's API reference (``make docs`` -> docs/_build/html).

The reference is built from the docstrings (NumPy style, read by numpydoc) with autosummary;
the examples are listed with their docstrings by the small ``glassnet-examples`` directive
below instead of sphinx-gallery, because running them would train networks for minutes.
The topic pages (docs/*.md) stay plain markdown read on the repository.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
# autodoc imports every module; keep BLAS and matplotlib quiet and headless
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

project = "glassnet"
author = "glassnet developers"
copyright = "glassnet developers"  # noqa: A001 - Sphinx's name
release = version = "0.1.0"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
]
templates_path = ["_templates"]
exclude_patterns = ["_build", "**/generated/*.md"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"

autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"inherited-members": False}
autodoc_typehints = "none"  # numpydoc's Parameters sections already give the types
# numpydoc would add a table of every method and attribute, each needing its own page
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_static_path: list[str] = []
html_title = "glassnet API reference"


class ExamplesDirective(Directive):
    """List ``examples/*.py`` with their module docstrings, read with ``ast`` (never run)."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        out: list[nodes.Node] = []
        for path in sorted((ROOT / "examples").glob("*.py")):
            if path.name.startswith("_"):
                continue  # helpers shared by the examples
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
            section = nodes.section(ids=[nodes.make_id(f"example-{path.stem}")])
            section += nodes.title(text=path.name)
            # a literal block: the docstrings are plain text, not reStructuredText
            section += nodes.literal_block(text=doc or "(no docstring)")
            section += nodes.paragraph(text=f"Run: python examples/{path.name}")
            out.append(section)
        return out


def skip_member(app, what, name, obj, skip, options):  # noqa: ANN001, ANN201 - Sphinx's hook
    """Leave out scikit-learn's generated ``set_*_request`` methods (metadata routing)."""
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):  # noqa: ANN001, ANN201 - Sphinx's hook
    app.add_directive("glassnet-examples", ExamplesDirective)
    app.connect("autodoc-skip-member", skip_member)
    return {"parallel_read_safe": True}
