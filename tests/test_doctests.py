"""Run the examples in the docstrings of every glassnet module (``>>>`` lines).

Modules are found from the source tree, so a new module's examples are tested as soon as
it lands. ``EXCLUDED`` lists the modules whose examples are illustrations that cannot run
in the test suite, with the reason.
"""

from __future__ import annotations

import doctest
import importlib
import warnings
from pathlib import Path

import pytest

import glassnet

SRC = Path(glassnet.__file__).parent

EXCLUDED = {
    # its module docstring shows a session on a dask cluster (Client, LocalCluster, 10M rows)
    "glassnet.dask": "cluster session example, not self-contained",
}


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(rel.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        if name.endswith("__main__") or ">>>" not in path.read_text(encoding="utf-8"):
            continue
        names.append(name)
    return names


MODULES = _modules_with_examples()

# Modules whose classes declare the public package as their ``__module__`` (so pickles, reprs
# and saved files name the public path); doctest finds their examples only through that package.
PUBLIC_HOME = {"glassnet.mlm.model": "glassnet.mlm"}


def test_core_modules_have_examples():
    for name in ("glassnet.network", "glassnet.regions", "glassnet.report",
                 "glassnet.persist._core"):
        assert name in MODULES


@pytest.mark.parametrize("name", [m for m in MODULES if m not in EXCLUDED])
def test_docstring_examples(name):
    module = importlib.import_module(PUBLIC_HOME.get(name, name))
    with warnings.catch_warnings():
        # examples train tiny models for a few iterations; convergence warnings are expected
        warnings.simplefilter("ignore")
        result = doctest.testmod(
            module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, report=True
        )
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
