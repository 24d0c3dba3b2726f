"""The package's one-way layering (issue 13; ../shared/DESIGN.md, docs/architecture.md).

Every import of a glassnet module, at the top of a file and inside functions, is parsed with
:mod:`ast` (not by importing anything, so a lazy import hidden in a function counts too) and
checked against the layer map below:

* a module may import only from its own layer or lower ones;
* a module may not import another component's private name (``from glassnet.regions import
  _x``) or another package's private module (``glassnet.io._files`` from outside ``io``);
  the shared private modules at the top (``glassnet._engine``, ``_metrics``, ...) are internal
  API for every layer, but their private *names* are not.

Two explicit lists keep the test passing today while failing on anything new:
``ALLOWED_ENTRY_POINTS`` (the documented lazy upward doors, by function) and ``KNOWN_DEBTS``
(current violations, by module pair: what is left of issue 13). Entries that no longer occur
fail too, so the lists shrink as the debts are paid. Module sizes over 600 lines are checked
the same way against ``LARGE_MODULES``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "glassnet"

# Layer of every module, by longest matching dotted prefix (docs/architecture.md has the same
# table with one line per module). 0 = lowest floor.
LAYERS: dict[str, int] = {
    # 0: validation, metrics, data sets, CSV reading, shared HTML summaries
    "glassnet._validation": 0,
    "glassnet._metrics": 0,
    "glassnet._metrics_inputs": 0,
    "glassnet._metrics_binned": 0,
    "glassnet._metrics_grouped": 0,
    "glassnet._csv_read": 0,
    "glassnet._csv": 0,
    "glassnet._repr": 0,
    "glassnet._params": 0,
    "glassnet._lazy": 0,
    "glassnet.datasets": 0,
    "glassnet.provenance": 0,
    # ``from glassnet import __version__``: a constant of the package
    "glassnet": 0,
    # 1: the network
    "glassnet.network": 1,
    # 2: engine, importers (the one coercion), estimators and their private helpers
    "glassnet._engine": 2,
    "glassnet._screen": 2,
    "glassnet.io": 2,
    "glassnet.estimators": 2,
    "glassnet._training": 2,
    "glassnet._estimator_inputs": 2,
    # 3: unwrap and its back-ends (peers), the Regions container
    "glassnet.unwrap": 3,
    "glassnet.regions": 3,
    "glassnet.streaming": 3,
    "glassnet.dask": 3,
    # 4: analyses and models on regions
    "glassnet.summary": 4,
    "glassnet.explain": 4,
    "glassnet.inference": 4,
    "glassnet.geometry": 4,
    "glassnet.partition": 4,
    "glassnet.decisions": 4,
    "glassnet.diagnose": 4,
    "glassnet.monitor": 4,
    "glassnet.outcomes": 4,
    "glassnet.fragmentation": 4,
    "glassnet.simplify": 4,
    "glassnet.mlm": 4,
    # 5: persistence, above everything it saves
    "glassnet.persist": 5,
    # 6: every Display
    "glassnet.plotting": 6,
    # 7: report assembly
    "glassnet.report": 7,
    # 8: command line
    "glassnet.cli": 8,
    "glassnet.__main__": 8,
}

# The package's __init__ is the documented lazy entry point for every public name: exempt.
EXEMPT = {"glassnet"}

# Documented upward doors: (importer module, enclosing function's qualified name, target
# module). Each is a one-line delegation to the module that owns the work.
ALLOWED_ENTRY_POINTS: set[tuple[str, str, str]] = {
    # ReluNetwork.from_* classmethods delegate to the importers
    ("glassnet.network", "ReluNetwork.from_sklearn", "glassnet.io"),
    ("glassnet.network", "ReluNetwork.from_torch", "glassnet.io"),
    ("glassnet.network", "ReluNetwork.from_onnx", "glassnet.io"),
    # Regions' convenience methods delegate to the analyses (as DataFrame.plot does in pandas)
    ("glassnet.regions", "Regions.summary", "glassnet.summary"),
    ("glassnet.regions", "Regions.feature_importance", "glassnet.summary"),
    ("glassnet.regions", "Regions.local_contributions", "glassnet.summary"),
    ("glassnet.regions", "Regions.inference", "glassnet.summary"),
    # result objects' plot methods delegate to their Display (as estimators' plot_* do)
    ("glassnet.monitor", "StabilityResult.plot", "glassnet.plotting.monitor"),
    ("glassnet.mlm.model", "MixtureOfLinearModels.plot_coefficients", "glassnet.plotting.mlm"),
    # old import path of a Display moved into plotting/ (lazy, so no matplotlib on import)
    ("glassnet.mlm", "__getattr__", "glassnet.plotting.mlm"),
    # old import paths of Displays moved into plotting/ (lazy, so no matplotlib on import)
    ("glassnet.partition", "__getattr__", "glassnet.plotting.partition"),
    ("glassnet.simplify.merge", "__getattr__", "glassnet.plotting.simplify"),
    ("glassnet.simplify", "__getattr__", "glassnet.plotting.simplify"),
    # simplifiers' plot methods delegate to their Displays
    ("glassnet.simplify.merge", "RegionMerger.plot_cv", "glassnet.plotting.simplify"),
    ("glassnet.simplify.merge", "RegionMerger.plot_dendrogram", "glassnet.plotting.simplify"),
    ("glassnet.simplify.prune", "RegionPruner.plot_cv", "glassnet.plotting.simplify"),
    ("glassnet.simplify.l1path", "L1Path.plot", "glassnet.plotting.simplify"),
}

# Current violations, by (importer, target) module pair, with what is wrong. The test fails
# on any violation not listed here, and on any listed pair that no longer occurs.
# Every debt issue 13 listed is paid: a new upward or private import fails the test.
KNOWN_DEBTS: dict[tuple[str, str], str] = {}

# Modules over MAX_LINES today (issue 13 wants none); a new one fails the test.
MAX_LINES = 600
LARGE_MODULES: set[str] = set()


@dataclass(frozen=True)
class Import:
    importer: str
    function: str  # qualified name of the enclosing function, "" at module level
    target: str  # the glassnet module imported from (or imported)
    name: str  # the name imported from it, "" for ``import glassnet.x``
    line: int


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(module: str) -> bool:
    return (SRC / Path(*module.split(".")) / "__init__.py").exists()


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if _is_package(importer) else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str) -> None:
        self.module = module
        self.scope: list[str] = []
        self.found: list[Import] = []

    def _scoped(self, node: ast.AST) -> None:
        self.scope.append(node.name)  # type: ignore[attr-defined]
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped

    def _function(self) -> str:
        return ".".join(self.scope)

    def visit_Assign(self, node: ast.Assign) -> None:
        # a package's ``_LAZY = {"Name": "glassnet.module"}`` is an import done by its
        # ``__getattr__`` on first use: judge it as one
        if (not self.scope and isinstance(node.value, ast.Dict)
                and any(getattr(t, "id", "") == "_LAZY" for t in node.targets)):
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                if (isinstance(key, ast.Constant) and isinstance(value, ast.Constant)
                        and str(value.value).split(".")[0] == "glassnet"):
                    self.found.append(Import(self.module, "__getattr__", value.value,
                                             key.value, node.lineno))
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] == "glassnet":
                self.found.append(Import(self.module, self._function(), alias.name, "",
                                         node.lineno))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        target = _resolve(self.module, node)
        if target.split(".")[0] != "glassnet":
            return
        for alias in node.names:
            # ``from glassnet.io import _persist`` imports a module, not a name
            sub = f"{target}.{alias.name}"
            if _is_package(sub) or (SRC / Path(*sub.split("."))).with_suffix(".py").exists():
                self.found.append(Import(self.module, self._function(), sub, "", node.lineno))
            elif target == "glassnet":
                # a public name of the package: judge the module that defines it
                self.found.append(Import(self.module, self._function(),
                                         _public_names().get(alias.name, "glassnet"),
                                         alias.name, node.lineno))
            else:
                self.found.append(Import(self.module, self._function(), target, alias.name,
                                         node.lineno))


def _public_names() -> dict[str, str]:
    """Public name -> defining module, read from glassnet/__init__.py (``_LAZY`` and imports)."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("glassnet"):
            names.update({a.asname or a.name: node.module for a in node.names})
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
                and any(getattr(t, "id", "") == "_LAZY" for t in node.targets)):
            names.update(ast.literal_eval(node.value))
    return names


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports() -> list[Import]:
    found: list[Import] = []
    for module, path in _modules().items():
        collector = _Collector(module)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        found.extend(collector.found)
    return found


def layer_of(module: str) -> int:
    """Layer of ``module`` by the longest matching prefix in ``LAYERS`` (KeyError if none)."""
    def matches(prefix: str) -> bool:
        if module == prefix or prefix == "glassnet":  # the package itself: exact match only
            return module == prefix
        return module.startswith(prefix + ".")

    best = max(filter(matches, LAYERS), key=len, default=None)
    if best is None:
        raise KeyError(f"{module} has no layer: add it to LAYERS and docs/architecture.md")
    return LAYERS[best]


def component_of(module: str) -> str:
    """The unit that may share private names: a subpackage, or a single top-level module."""
    parts = module.split(".")
    if len(parts) >= 2 and _is_package(".".join(parts[:2])):
        return ".".join(parts[:2])
    return module


def _private_module_of_other_package(imp: Import) -> bool:
    parts = imp.target.split(".")
    # glassnet.<pkg>.<_private...> reached from outside <pkg>
    return (len(parts) >= 3 and any(p.startswith("_") for p in parts[2:])
            and component_of(imp.target) != component_of(imp.importer))


def judge(imp: Import) -> list[str]:
    """What is wrong with one import (empty when it is allowed)."""
    if imp.importer in EXEMPT or (imp.importer, imp.function, imp.target) in ALLOWED_ENTRY_POINTS:
        return []
    reasons = []
    lo, hi = layer_of(imp.importer), layer_of(imp.target)
    if hi > lo:
        reasons.append(f"upward {lo}->{hi}")
    if (imp.name.startswith("_") and not imp.name.startswith("__")
            and component_of(imp.target) != component_of(imp.importer)):
        reasons.append(f"private name {imp.name}")
    if _private_module_of_other_package(imp):
        reasons.append("private module of another package")
    return reasons


def violations() -> dict[tuple[str, str], list[str]]:
    """Every violation, grouped by (importer, target) module pair."""
    out: dict[tuple[str, str], list[str]] = {}
    for imp in _imports():
        reasons = judge(imp)
        if reasons:
            where = f"{imp.importer}:{imp.line}" + (f" in {imp.function}" if imp.function
                                                    else "")
            out.setdefault((imp.importer, imp.target), []).append(
                f"{where}: {', '.join(reasons)}")
    return out


def test_judge_on_hand_made_imports():
    def imp(importer, target, name="", function=""):
        return Import(importer, function, target, name, 1)

    assert judge(imp("glassnet.regions", "glassnet.network", "ReluNetwork")) == []
    assert judge(imp("glassnet.network", "glassnet.plotting")) == ["upward 1->6"]
    assert judge(imp("glassnet.summary", "glassnet.regions", "_x")) == ["private name _x"]
    # private names and modules are shared freely inside one package
    assert judge(imp("glassnet.mlm.model", "glassnet.mlm._linear", "_fit")) == []
    assert judge(imp("glassnet.cli.unwrap", "glassnet.io._onnx")) == [
        "private module of another package"]
    # the shared private modules at the top are internal API, their private names are not
    assert judge(imp("glassnet.summary", "glassnet._metrics", "auc")) == []
    assert judge(imp("glassnet.summary", "glassnet._metrics", "_x")) == ["private name _x"]
    # a documented entry point passes only from its own function
    assert judge(imp("glassnet.network", "glassnet.io", "from_torch",
                     "ReluNetwork.from_torch")) == []
    assert judge(imp("glassnet.network", "glassnet.io", "from_torch",
                     "ReluNetwork.forward")) == ["upward 1->2"]
def test_every_module_has_a_layer():
    missing = [m for m in _modules() if m not in EXEMPT and not _has_layer(m)]
    assert not missing, f"add these modules to LAYERS (and docs/architecture.md): {missing}"


def _has_layer(module: str) -> bool:
    try:
        layer_of(module)
    except KeyError:
        return False
    return True


def test_layer_lookup_uses_the_longest_prefix():
    # the map itself, checked against hand-picked cases
    assert layer_of("glassnet.persist._zip") == 5
    assert layer_of("glassnet.io._onnx") == 2
    assert layer_of("glassnet.plotting.decisions") == 6
    assert layer_of("glassnet.decisions._milp") == 4
    assert layer_of("glassnet") == 0
    assert not _has_layer("glassnet.unknown_module")
    assert component_of("glassnet.persist._core") == "glassnet.persist"
    assert component_of("glassnet.regions") == "glassnet.regions"


def test_collector_sees_function_level_and_relative_imports(tmp_path):
    # an independent check of the parser on a hand-written module
    code = (
        "from glassnet.network import ReluNetwork\n"
        "class A:\n"
        "    def f(self):\n"
        "        from glassnet.summary import _private\n"
        "        import glassnet.report\n"
        "_LAZY = {'Report': 'glassnet.report'}\n"
    )
    collector = _Collector("glassnet.regions")
    collector.visit(ast.parse(code))
    got = {(i.function, i.target, i.name) for i in collector.found}
    assert got == {("", "glassnet.network", "ReluNetwork"),
                   ("A.f", "glassnet.summary", "_private"),
                   ("A.f", "glassnet.report", ""),
                   ("__getattr__", "glassnet.report", "Report")}


def test_no_new_layer_or_privacy_violations():
    found = violations()
    new = {pair: lines for pair, lines in found.items() if pair not in KNOWN_DEBTS}
    assert not new, "new import violations (fix them, or document a debt):\n" + "\n".join(
        line for lines in new.values() for line in lines)


def test_known_debts_still_exist():
    # a paid debt must leave the list, so the list stays what is left of issue 13
    found = violations()
    paid = sorted(pair for pair in KNOWN_DEBTS if pair not in found)
    assert not paid, f"these debts are paid: remove them from KNOWN_DEBTS and docs: {paid}"


def test_allowed_entry_points_still_exist():
    present = {(i.importer, i.function, i.target) for i in _imports()}
    stale = sorted(ALLOWED_ENTRY_POINTS - present)
    assert not stale, f"remove stale entry points from ALLOWED_ENTRY_POINTS and docs: {stale}"


def test_module_sizes():
    sizes = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in _modules().items()}
    large = {m for m, n in sizes.items() if n > MAX_LINES}
    new = sorted(f"{m} ({sizes[m]} lines)" for m in large - LARGE_MODULES)
    assert not new, f"modules over {MAX_LINES} lines (split them by job): {new}"
    shrunk = sorted(LARGE_MODULES - large)
    assert not shrunk, f"now under {MAX_LINES} lines: remove from LARGE_MODULES: {shrunk}"


def test_import_glassnet_stays_light():
    # a fresh interpreter: this test process may long since have imported everything
    code = ("import sys, glassnet; heavy = ('torch', 'matplotlib', 'statsmodels'); "
            "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=120)
    assert result.stdout.strip() == "[]", f"import glassnet loads {result.stdout.strip()}"


def test_architecture_page_lists_every_module_and_debt():
    # docs/architecture.md is the maintained picture: one line per module, every debt named
    page = (SRC.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [str(p.relative_to(PACKAGE)) for p in _modules().values()
               if f"`{p.relative_to(PACKAGE).as_posix()}`" not in page]
    assert not missing, f"add these modules to docs/architecture.md: {missing}"
    short = {pair: tuple(m.removeprefix("glassnet.") for m in pair) for pair in KNOWN_DEBTS}
    unnamed = [pair for pair, (a, b) in short.items()
               if f"`{a}`" not in page or f"`{b}`" not in page]
    assert not unnamed, f"name these debts in docs/architecture.md: {unnamed}"
