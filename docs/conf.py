"""Sphinx configuration of glassnet's API reference (``make docs`` -> docs/_build/html).

The reference is built from the docstrings (NumPy style, read by numpydoc) with autosummary.
The examples (``examples/*.py``) are a sphinx-gallery gallery (``docs/gallery/``, generated
at each build and gitignored): one page per script with its docstring and its source in
blocks, and download links; the scripts are **not run** at the build (``plot_gallery`` off
and a ``filename_pattern`` that matches no file), because they train networks for minutes
and read the shared data sets, so the build stays fast and offline. ``docs/examples.rst``
lists them with the command that runs each (the small ``glassnet-examples`` directive).
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
from sphinx import addnodes

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
    "sphinx_gallery.gen_gallery",
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

# The examples gallery. Every example starts with a reStructuredText title in its docstring
# (sphinx-gallery's card title; the first paragraph after it is the card's description).
sphinx_gallery_conf = {
    "examples_dirs": "../examples",  # relative to this file: docs/../examples
    "gallery_dirs": "gallery",
    # never execute: no figures, no training at the build (the scripts' own docs give their
    # figures); both switches, so a file named plot_*.py would not run either
    "plot_gallery": False,
    "filename_pattern": r"^$",
    "ignore_pattern": r"(^|[/\\])_[^/\\]*\.py$",  # _cocircles.py and other helpers
    "write_computation_times": False,  # nothing runs; no sg_execution_times.rst in docs/
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "show_signature": False,
}

html_theme = "alabaster"
html_static_path: list[str] = []
html_title = "glassnet API reference"


def example_cards() -> list[tuple[str, str, str]]:
    """``(stem, title, first sentence)`` of every example, read with ``ast`` (never run)."""
    cards = []
    for path in sorted((ROOT / "examples").glob("*.py")):
        if path.name.startswith("_"):
            continue  # helpers shared by the examples
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        blocks = [b.strip() for b in doc.split("\n\n") if b.strip()]
        head = blocks[0].splitlines() if blocks else []
        if len(head) != 2 or set(head[1]) != {"="}:
            raise ValueError(f"examples/{path.name}: the docstring must start with a title "
                             "underlined with '=' (the gallery card's title)")
        # the first sentence of the first paragraph, on one line
        text = " ".join(blocks[1].split()) if len(blocks) > 1 else ""
        cards.append((path.stem, head[0], re.split(r"(?<=\.)\s", text, maxsplit=1)[0]))
    return cards


class ExamplesDirective(Directive):
    """One entry per example: its title (a link to its gallery page), first sentence, and the
    command that runs it."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        items = nodes.bullet_list()
        for stem, title, sentence in example_cards():
            para = nodes.paragraph()
            ref = addnodes.pending_xref("", refdoc=self.state.document.settings.env.docname,
                                        refdomain="std", reftype="ref", refexplicit=True,
                                        reftarget=f"sphx_glr_gallery_{stem}.py")
            ref += nodes.inline(text=title.replace("``", ""))  # a link's text is plain
            para += ref
            # the docstrings are reStructuredText (the gallery renders them): inline markup
            text, messages = self.state.inline_text(f": {sentence} " if sentence else " ",
                                                    self.lineno)
            para.extend([*text, nodes.literal(text=f"python examples/{stem}.py"), *messages])
            items += nodes.list_item("", para)
        return [items]


def skip_member(app, what, name, obj, skip, options):  # noqa: ANN001, ANN201 - Sphinx's hook
    """Leave out scikit-learn's generated ``set_*_request`` methods (metadata routing)."""
    if re.fullmatch(r"set_\w+_request", name):
        return True
    return None


def setup(app):  # noqa: ANN001, ANN201 - Sphinx's hook
    app.add_directive("glassnet-examples", ExamplesDirective)
    app.connect("autodoc-skip-member", skip_member)
    return {"parallel_read_safe": True}
