"""Names of a module that are imported on first use (PEP 562 ``__getattr__``/``__dir__``).

Packages keep heavy dependencies (torch, matplotlib, statsmodels) out of their import by
listing public names in a ``_LAZY = {"Name": "glassnet.module"}`` table and installing

    __getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())

The table stays a literal in the package, where ``tests/test_architecture.py`` reads it as the
imports it stands for. This module imports nothing from glassnet (layer 0).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["lazy_attributes"]


def lazy_attributes(
    module: str,
    table: dict[str, str],
    namespace: dict[str, Any],
    submodules: Iterable[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for the module named ``module``.

    ``table`` maps a public name to the module defining it; ``submodules`` are names of the
    module's own submodules, imported as modules. A name resolved once is stored in
    ``namespace`` (the module's ``globals()``), so later lookups do not come back here.
    """
    subs = frozenset(submodules)

    def __getattr__(name: str) -> Any:
        if name in table:
            value = getattr(importlib.import_module(table[name]), name)
        elif name in subs:
            value = importlib.import_module(f"{module}.{name}")
        else:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(table) | subs)

    return __getattr__, __dir__
