"""Write docs/api/*.rst from the modules' ``__all__`` (run after adding a public name).

    .venv/bin/python docs/gen_api.py

Every public object gets one page, in its home module (the documented module that is the
longest prefix of the object's ``__module__``; the top-level API first); other modules that
export it link to that page. tests/test_docs_build.py checks the pages list every name.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

DOCS = Path(__file__).resolve().parent
PLOTTING = DOCS.parent / "src" / "glassnet" / "plotting"

# page -> (title, modules documented on it)
PAGES: dict[str, tuple[str, list[str]]] = {
    "glassnet": ("Top-level API", ["glassnet"]),
    "io": ("Importers: glassnet.io", ["glassnet.io"]),
    "persist": ("Persistence: glassnet.persist", ["glassnet.persist"]),
    "datasets": ("Data sets: glassnet.datasets", ["glassnet.datasets"]),
    "simplify": ("Simplification: glassnet.simplify", ["glassnet.simplify"]),
    "mlm": ("Mixture of linear models: glassnet.mlm", ["glassnet.mlm"]),
    "decisions": ("Single decisions: glassnet.decisions", ["glassnet.decisions"]),
    "diagnose": ("Diagnostics: glassnet.diagnose", ["glassnet.diagnose"]),
    "monitor": ("Monitoring: glassnet.monitor", ["glassnet.monitor"]),
    "outcomes": ("Outcomes: glassnet.outcomes", ["glassnet.outcomes"]),
    "dask": ("Distributed unwrapping: glassnet.dask", ["glassnet.dask"]),
    "plotting": ("Displays: glassnet.plotting", ["glassnet.plotting", *sorted(
        f"glassnet.plotting.{m.name}" for m in pkgutil.iter_modules([str(PLOTTING)])
        if not m.name.startswith("_"))]),
    "report": ("Reports: glassnet.report", ["glassnet.report"]),
}


def public(module: str) -> list[tuple[str, object]]:
    mod = importlib.import_module(module)
    out = []
    for name in mod.__all__:
        if name == "__version__":
            continue
        obj = getattr(mod, name)
        out.append((name, obj))
    return out


def homes() -> dict[int, str]:
    """id(object) -> the module whose page documents it."""
    modules = [m for _, mods in PAGES.values() for m in mods]
    home: dict[int, str] = {}
    for _name, obj in public("glassnet"):
        home[id(obj)] = "glassnet"
    for module in modules[1:]:
        for name, obj in public(module):
            if id(obj) in home:
                continue
            own = getattr(obj, "__module__", "") or ""
            candidates = [m for m in modules[1:] if (own == m or own.startswith(m + "."))
                          and name in dict(public(m))]
            home[id(obj)] = max(candidates, key=len) if candidates else module
    return home


def block(module: str, home: dict[int, str], heading: bool) -> list[str]:
    names = public(module)
    own = [n for n, obj in names if home[id(obj)] == module]
    shared = [f":obj:`{home[id(obj)]}.{n}`" for n, obj in names if home[id(obj)] != module]
    out = [f"``{module}``", "-" * (len(module) + 4), ""] if heading else []
    if module != "glassnet":
        out += [f".. automodule:: {module}", "   :no-members:", ""]
    out += [f".. currentmodule:: {module}", ""]
    if own:
        out += [".. autosummary::", "   :toctree: generated", "", *[f"   {n}" for n in own], ""]
    if shared:
        out += [f"Also importable from ``{module}``, documented elsewhere: "
                + ", ".join(shared) + ".", ""]
    return out


def main() -> None:
    home = homes()
    for page, (title, modules) in PAGES.items():
        lines = [title, "=" * len(title), ""]
        if page == "glassnet":
            lines += ["Every name below is importable from ``glassnet`` directly; all but",
                      "``ReluNetwork``, ``Regions`` and ``unwrap`` are loaded on first use.", ""]
        for i, module in enumerate(modules):
            lines += block(module, home, heading=i > 0)
        (DOCS / "api" / f"{page}.rst").write_text("\n".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
