"""The API reference builds from the docstrings with warnings as errors (issue 13).

Sphinx runs in a fresh process on a copy of docs/ in a temporary directory (autosummary
writes its stub pages next to the sources; the checkout stays clean), with ``-W
--keep-going`` so every docstring warning fails the test, and ``-j 1`` for the shared
machine. A second, cheap test checks that the hand-written API pages list every public name,
so a name added to a module's ``__all__`` cannot be left out of the reference.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _pages() -> dict[str, tuple[str, list[str]]]:
    """The page -> modules map of docs/gen_api.py (the script that writes docs/api/*.rst)."""
    spec = importlib.util.spec_from_file_location("gen_api", DOCS / "gen_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.PAGES


def test_api_pages_list_every_public_name():
    missing = []
    for page, (_, modules) in _pages().items():
        text = (DOCS / "api" / f"{page}.rst").read_text(encoding="utf-8")
        # an autosummary entry is an indented name on its own line; a name documented on
        # another page is linked as :obj:`glassnet.MODULE.NAME`
        listed = set(re.findall(r"^   (\w+)$", text, flags=re.M))
        listed |= set(re.findall(r":obj:`glassnet(?:\.\w+)*\.(\w+)`", text))
        for module in modules:
            names = [n for n in importlib.import_module(module).__all__ if n != "__version__"]
            missing += [f"{module}.{n} (docs/api/{page}.rst)" for n in names
                        if n not in listed]
    assert not missing, f"add these public names to the API reference: {missing}"


def test_sphinx_build_has_no_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="needs the docs extra: pip install -e '.[docs]'")
    pytest.importorskip("numpydoc", reason="needs the docs extra: pip install -e '.[docs]'")
    src = tmp_path / "docs"
    shutil.copytree(DOCS, src, ignore=shutil.ignore_patterns("_build", "generated"))
    # conf.py finds the package and the examples next to docs/
    (tmp_path / "src").symlink_to(ROOT / "src")
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    out = tmp_path / "html"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-j", "1", "-q",
         str(src), str(out), "-d", str(tmp_path / "doctrees")],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, f"sphinx failed:\n{result.stdout}\n{result.stderr}"
    assert "WARNING" not in result.stderr and "ERROR" not in result.stderr, result.stderr
    # every top-level public name has its own page, and the examples page lists the scripts
    for name in ("unwrap", "ReluNetwork", "Regions", "RegionMerger", "Report"):
        page = out / "api" / "generated" / f"glassnet.{name}.html"
        assert page.is_file(), f"no page for glassnet.{name}"
    examples = (out / "examples.html").read_text(encoding="utf-8")
    scripts = [p.name for p in (ROOT / "examples").glob("*.py") if not p.name.startswith("_")]
    assert scripts and all(s in examples for s in scripts)
