"""Mutation testing for glassnet: do the tests fail when the code is wrong?

A small, dependency-free mutation runner (standard library ``ast`` only). It was chosen over
mutmut/cosmic-ray because it must never touch the shared checkout, must run only the test
files that cover a module, and must fit a seeded sample in about 20 minutes on two busy cores.

How it works
------------
1. Each module is parsed with :mod:`ast` and every *mutation point* is listed: arithmetic
   operators (``+``/``-``, ``*``/``/``, ``//``, ``%``, ``**``, also in ``+=``...),
   comparisons (``<``/``<=``, ``>``/``>=``, ``==``/``!=``, ``is``/``is not``,
   ``in``/``not in``), ``and``/``or``, ``not`` dropped, numeric constants ``k -> k + 1``
   (``0 -> -1`` inside a subscript, so ``X.shape[0]`` becomes ``X.shape[-1]``),
   ``True``/``False`` swapped, ``if`` conditions negated, ``raise`` replaced by ``pass`` and
   ``return X`` replaced by ``return None``. Docstrings, strings, annotations and
   ``TYPE_CHECKING`` blocks are never mutated.
2. ``src/``, ``tests/``, ``pyproject.toml`` and ``setup.py`` of a commit (``--ref``, default
   ``HEAD``, via ``git archive``; ``--ref worktree`` copies the working tree instead) are
   written once into a temporary directory and its C module is compiled there in place
   (``../shared`` is linked beside it for the data sets), so what others are editing in the
   shared checkout is never measured half-done. Each mutant is
   written into that copy only (regenerated with ``ast.unparse``), the module's test files
   are run with ``pytest -x -q -p no:cacheprovider -p no:randomly -m "not slow"`` under a timeout
   (3x the unmutated run + 20 s), and the file is restored. ``PYTHONPATH`` points at the
   copy; the runner checks that the copy, not the checkout, is what gets imported.
3. A mutant is *killed* (tests fail), *timeout* (counted as killed) or *survived*. Mutants
   listed in ``tools/mutation_equivalent.txt`` (``path:line:col:operator reason``) are
   *equivalent* and left out of the score: score = killed / (mutants - equivalent).

Usage
-----
``python tools/mutation.py --modules network geometry --sample 40 --seed 0`` (seeded sample)
``python tools/mutation.py --modules network --full`` (every mutant)
``python tools/mutation.py --modules network --match network.py:158:`` (keys that match)
``python tools/mutation.py --list`` (modules, mutant counts and test files)
``python tools/mutation.py --rescore results.jsonl`` (scores of earlier runs, today's equivalents)
Results are appended as JSON lines (module, mutant, result, seconds, commit, seed) to ``--out``
(default ``$TMPDIR/glassnet-mutation-results.jsonl``). Decisions mutants run only the test
file of the mutated source (``SOURCE_TESTS``), which can only under-count kills.
"""

from __future__ import annotations

import argparse
import ast
import copy
import glob
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EQUIVALENT_FILE = os.path.join(REPO, "tools", "mutation_equivalent.txt")
LAST_OUTPUT = [""]  # output of the latest pytest run, shown when the unmutated run fails

# Module key -> (source files, test files), as glob patterns relative to the repository root,
# expanded in the snapshot being measured (so a module that became a package, or moved, is
# found whichever commit is measured). The matching tests/test_mutation_gaps_<key>*.py files
# (see GAP_KEYS) are added automatically.
MODULES: dict[str, tuple[list[str], list[str]]] = {
    "network": (["src/glassnet/network.py"], ["tests/test_network.py"]),
    "engine": (["src/glassnet/_engine.py", "src/glassnet/_screen.py"],
               ["tests/test_engine.py", "tests/test_regions.py"]),
    "regions": (["src/glassnet/regions.py"], ["tests/test_regions.py", "tests/test_streaming.py"]),
    "geometry": (["src/glassnet/geometry.py"], ["tests/test_geometry.py"]),
    "partition": (  # a module, or a package since the architecture refactor
        ["src/glassnet/partition.py", "src/glassnet/partition/*.py"],
        ["tests/test_partition.py"],
    ),
    "persist": (  # io/_persist*.py before the move, glassnet/persist/ after it
        ["src/glassnet/io/_persist*.py", "src/glassnet/persist/*.py"],
        ["tests/test_persist.py", "tests/test_persist_hostile.py"],
    ),
    "importers": (
        ["src/glassnet/io/_sklearn.py", "src/glassnet/io/_torch.py"],
        ["tests/test_importers.py", "tests/test_importers_hostile.py"],
    ),
    "summary": (
        ["src/glassnet/summary.py", "src/glassnet/inference.py"],
        ["tests/test_summary.py"],
    ),
    "auc": (  # the region table's exact AUCs from 32-bit keys (issue 17)
        ["src/glassnet/_metrics_grouped.py"],
        ["tests/test_auc_keys.py", "tests/test_metrics.py", "tests/test_summary.py"],
    ),
    "explain": (
        ["src/glassnet/explain.py"],
        ["tests/test_summary.py"],  # local_contributions & co. are tested through summary
    ),
    "merge": (
        ["src/glassnet/simplify/merge.py", "src/glassnet/simplify/_merge_cv.py",
         "src/glassnet/simplify/_ward.py", "src/glassnet/simplify/_cut.py",
         "src/glassnet/simplify/_graph.py", "src/glassnet/simplify/_cv.py",
         "src/glassnet/simplify/_scoring.py",
         "src/glassnet/simplify/_glm.py", "src/glassnet/simplify/_common.py"],
        ["tests/test_merge.py", "tests/test_merge_refit_threads.py",
         "tests/test_ward_native.py", "tests/test_newton_buffers.py",
         "tests/test_ward_cut_runs.py", "tests/test_glm_native.py",
         "tests/test_cv_splitters.py", "tests/test_merge_candidates.py",
         "tests/test_merge_speed_paths.py", "tests/test_merge_blas_threads.py"],
    ),
    "mlm": (["src/glassnet/mlm/model.py", "src/glassnet/mlm/_linear.py"], ["tests/test_mlm.py"]),
    "decisions": (["src/glassnet/decisions/*.py"], ["tests/test_decisions_*.py"]),
}
# Narrower test sets for files whose own tests are known (glob of the mutated file -> test
# globs), used instead of the module's test files (the gap tests still run first). Only for
# modules whose full test set is too slow to run per mutant (decisions: ~45 s unloaded, minutes
# on a busy machine). It can only *under*-count kills (a mutant the subset misses might fail
# another module test), so the score it gives is a lower bound.
SOURCE_TESTS: dict[str, list[str]] = {
    "src/glassnet/decisions/reasons.py": ["tests/test_decisions_reasons.py"],
    "src/glassnet/decisions/favorable.py": [
        "tests/test_decisions_favorable.py",
        "tests/test_decisions_reasons.py",
    ],
    "src/glassnet/decisions/flip.py": ["tests/test_decisions_flip.py"],
    "src/glassnet/decisions/monotone.py": ["tests/test_decisions_monotone.py"],
    "src/glassnet/decisions/recourse.py": [
        "tests/test_decisions_recourse.py",
        "tests/test_decisions_integer.py",
    ],
    "src/glassnet/decisions/constraints.py": [
        "tests/test_decisions_recourse.py",
        "tests/test_decisions_integer.py",
    ],
    "src/glassnet/decisions/_search.py": [
        "tests/test_decisions_recourse.py",
        "tests/test_decisions_integer.py",
    ],
}
# gap-test prefixes per key (default: the key itself)
GAP_KEYS: dict[str, list[str]] = {
    "explain": ["explain", "summary"],  # explain's first gap tests live with summary's
    "engine": ["engine", "regions"],
}
# `make mutation` without --modules: every module above (a seeded sample of each)
DEFAULT_MODULES = list(MODULES)


def expand(patterns: list[str], root: str = REPO) -> list[str]:
    """Paths (relative to ``root``) matching ``patterns``, sorted, each once."""
    found: list[str] = []
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(root, pattern))):
            rel = os.path.relpath(path, root)
            if rel not in found:
                found.append(rel)
    return found


_BINOP_SWAP = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Mult,
    ast.Pow: ast.Mult,
}
_CMP_SWAP = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


@dataclass(frozen=True)
class Mutant:
    """The ``index``-th mutation point of ``path`` (at ``line``), described by ``op``."""

    path: str
    index: int
    line: int
    op: str
    col: int = 0
    dup: int = 0

    @property
    def key(self) -> str:
        # the column tells apart two mutants of one kind on one line (a == b and c == d);
        # nested operations that start at one column (the two + of a + b + c) get #1, #2...
        # after the first, in the AST walk's order (outermost first)
        base = f"{self.path}:{self.line}:{self.col}:{self.op}"
        return f"{base}#{self.dup}" if self.dup else base


def _skip_nodes(tree: ast.AST) -> set[int]:
    """ids of nodes never mutated: docstrings, annotations, ``if TYPE_CHECKING:`` blocks."""
    skip: set[int] = set()

    def mark(node: ast.AST | None) -> None:
        if node is not None:
            for sub in ast.walk(node):
                skip.add(id(sub))

    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                mark(body[0])
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            mark(node.returns)
            for arg in ast.walk(node.args):
                if isinstance(arg, ast.arg):
                    mark(arg.annotation)
        if isinstance(node, ast.AnnAssign):
            mark(node.annotation)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            mark(node)
    return skip


def _points(tree: ast.AST) -> list[tuple[ast.AST, str, int]]:
    """Every mutation point as (node, operator name, line), in a deterministic walk order."""
    skip = _skip_nodes(tree)
    subscript_slices = {id(n.slice) for n in ast.walk(tree) if isinstance(n, ast.Subscript)}
    out: list[tuple[ast.AST, str, int]] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BINOP_SWAP:
            out.append(
                (node, f"{type(node.op).__name__}->{_BINOP_SWAP[type(node.op)].__name__}", line)
            )
        elif isinstance(node, ast.Compare):
            for i, cmp in enumerate(node.ops):
                if type(cmp) in _CMP_SWAP:
                    out.append(
                        (
                            node,
                            f"cmp{i}:{type(cmp).__name__}->{_CMP_SWAP[type(cmp)].__name__}",
                            line,
                        )
                    )
        elif isinstance(node, ast.BoolOp):
            out.append((node, "and->or" if isinstance(node.op, ast.And) else "or->and", line))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            out.append((node, "drop-not", line))
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
            if isinstance(node.value, bool):
                out.append((node, f"{node.value}->{not node.value}", line))
            elif node.value == 0 and id(node) in subscript_slices:
                out.append((node, "index0->-1", line))
            else:
                out.append((node, f"const{node.value!r}->+1", line))
        elif isinstance(node, ast.If):
            out.append((node, "negate-if", line))
        elif isinstance(node, ast.Raise):
            out.append((node, "raise->pass", line))
        elif (
            isinstance(node, ast.Return)
            and node.value is not None
            and not (isinstance(node.value, ast.Constant) and node.value.value is None)
        ):
            out.append((node, "return->None", line))
    return out


def list_mutants(path: str, root: str = REPO) -> list[Mutant]:
    """All mutants of the file at ``path`` (relative to the repository root ``root``)."""
    with open(os.path.join(root, path), encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    out: list[Mutant] = []
    seen: dict[tuple[int, int, str], int] = {}
    for i, (node, op, line) in enumerate(_points(tree)):
        col = getattr(node, "col_offset", 0)
        dup = seen.get((line, col, op), 0)
        seen[(line, col, op)] = dup + 1
        out.append(Mutant(path, i, line, op, col, dup))
    return out


def mutated_source(path: str, index: int, source: str | None = None) -> str:
    """Source of ``path`` with its ``index``-th mutation point changed (via ``ast.unparse``)."""
    if source is None:
        with open(os.path.join(REPO, path), encoding="utf-8") as fh:
            source = fh.read()
    tree = ast.parse(source)
    node, op, _ = _points(tree)[index]
    if isinstance(node, (ast.BinOp, ast.AugAssign)):
        node.op = _BINOP_SWAP[type(node.op)]()
    elif isinstance(node, ast.Compare):
        i = int(op[3 : op.index(":")])
        node.ops[i] = _CMP_SWAP[type(node.ops[i])]()
    elif isinstance(node, ast.BoolOp):
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif isinstance(node, ast.UnaryOp):  # drop-not: `not x` -> `not not x`, i.e. bool(x)
        node.operand = ast.UnaryOp(ast.Not(), node.operand)
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            node.value = not node.value
        elif op == "index0->-1":
            node.value = -1
        else:
            node.value = node.value + 1
    elif isinstance(node, ast.If):
        node.test = ast.UnaryOp(ast.Not(), copy.deepcopy(node.test))
    elif isinstance(node, ast.Raise):
        node.__class__ = ast.Pass
        del node.exc, node.cause
    elif isinstance(node, ast.Return):
        node.value = ast.Constant(None)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def load_equivalent() -> dict[str, str]:
    """``path:line:col:operator -> reason`` from tools/mutation_equivalent.txt (``#``: comment)."""
    out: dict[str, str] = {}
    if os.path.exists(EQUIVALENT_FILE):
        with open(EQUIVALENT_FILE, encoding="utf-8") as fh:
            for raw in fh:
                raw = raw.strip()
                if raw and not raw.startswith("#"):
                    key, _, reason = raw.partition(" ")
                    out[key] = reason.strip()
    return out


def resolve_ref(ref: str | None) -> str:
    """The commit hash of ``ref`` (``None``: the working tree, reported as ``HEAD+worktree``)."""
    rev = "HEAD" if ref is None else ref
    out = subprocess.run(
        ["git", "-C", REPO, "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"--ref {rev!r} is not a commit: {out.stderr.strip()}")
    commit = out.stdout.strip()
    return commit if ref is not None else f"{commit}+worktree"


def build_extensions(root: str) -> None:
    """Compile the copy's optional C module in place (``setup.py build_ext --inplace``), as
    ``make test`` runs with it; where that fails the copy runs the Python fallback and its
    tests are told so (``GLASSNET_PURE_PYTHON_OK``)."""
    if not os.path.exists(os.path.join(root, "setup.py")):
        return
    res = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
        cwd=root, capture_output=True, text=True,
    )
    built = any(name.startswith("_ward_native") and name.endswith((".so", ".pyd"))
                for name in os.listdir(os.path.join(root, "src", "glassnet", "simplify")))
    if res.returncode != 0 or not built:
        print("note: the C module did not build in the copy; its Python fallback is measured",
              file=sys.stderr)
        os.environ["GLASSNET_PURE_PYTHON_OK"] = "1"


def make_sandbox(ref: str | None = None) -> str:
    """Snapshot src/, tests/, pyproject.toml and setup.py in a temp dir, its C module built
    there; return the snapshot's root.

    ``ref`` is a commit (``git archive``: what was committed, whatever others are editing in the
    shared checkout at the time); ``None`` copies the working tree as it is now.
    """
    base = tempfile.mkdtemp(prefix="glassnet-mutation-")
    root = os.path.join(base, "main")
    os.makedirs(root)
    if ref is None:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".hypothesis")
        shutil.copytree(os.path.join(REPO, "src"), os.path.join(root, "src"), ignore=ignore)
        shutil.copytree(os.path.join(REPO, "tests"), os.path.join(root, "tests"), ignore=ignore)
        shutil.copy(os.path.join(REPO, "pyproject.toml"), root)
        shutil.copy(os.path.join(REPO, "setup.py"), root)
    else:
        # setup.py (the C module's build) exists only from commit 7eed5ab on
        has_setup = subprocess.run(
            ["git", "-C", REPO, "ls-tree", "--name-only", ref, "setup.py"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        paths = ["src", "tests", "pyproject.toml"] + (["setup.py"] if has_setup else [])
        archive = subprocess.run(
            ["git", "-C", REPO, "archive", "--format=tar", ref, *paths],
            capture_output=True,
            check=True,
        ).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(root, filter="data")
    build_extensions(root)
    # the copy only: no hypothesis deadline, so a slow run on a busy machine is never
    # mistaken for a killed mutant
    with open(os.path.join(root, "conftest.py"), "w", encoding="utf-8") as fh:
        fh.write(
            "from hypothesis import settings\n"
            "settings.register_profile('mutation', deadline=None)\n"
            "settings.load_profile('mutation')\n"
        )
    shared = os.path.abspath(os.path.join(REPO, "..", "shared"))
    if os.path.isdir(shared):
        os.symlink(shared, os.path.join(base, "shared"))
    return root


def run_tests(root: str, tests: list[str], timeout: float) -> tuple[str, float]:
    """Run ``tests`` inside the sandbox; return ('passed'|'failed'|'timeout', seconds)."""
    env = dict(
        os.environ,
        PYTHONPATH=os.path.join(root, "src"),
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-x",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-p",
        "no:xdist",
        "-m",
        "not slow",
        *tests,
    ]
    start = time.time()
    try:
        proc = subprocess.run(
            cmd,
            cwd=root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.time() - start
    LAST_OUTPUT[0] = proc.stdout.decode(errors="replace")
    return ("passed" if proc.returncode == 0 else "failed"), time.time() - start


def check_sandbox_import(root: str) -> None:
    """Refuse to run if the sandbox's PYTHONPATH does not win over the editable install."""
    env = dict(os.environ, PYTHONPATH=os.path.join(root, "src"))
    out = subprocess.run(
        [sys.executable, "-c", "import glassnet; print(glassnet.__file__)"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not out.startswith(root):
        raise SystemExit(f"the sandbox imports glassnet from {out}, not from {root}; aborting")


def test_files(key: str, root: str = REPO) -> list[str]:
    """The test files run against ``key``'s mutants: its gap tests first, then ``MODULES``'."""
    gaps = expand([f"tests/test_mutation_gaps_{k}*.py" for k in GAP_KEYS.get(key, [key])], root)
    # the gap files first: they are small and fast, so with -x a mutant they kill stops early
    return [*gaps, *(t for t in expand(MODULES[key][1], root) if t not in gaps)]


def mutant_tests(key: str, path: str, tests: list[str], root: str = REPO) -> list[str]:
    """The tests run against a mutant of ``path``: ``SOURCE_TESTS``' narrower set if any."""
    if path not in SOURCE_TESTS:
        return tests
    gaps = [t for t in tests if os.path.basename(t).startswith("test_mutation_gaps_")]
    own = [t for t in expand(SOURCE_TESTS[path], root) if t not in gaps]
    return [*gaps, *own] if own else tests


def run_module(
    key: str,
    root: str,
    sample: int | None,
    seed: int,
    out,
    equivalent: dict[str, str],
    match: list[str] | None = None,
    tests: list[str] | None = None,
    commit: str = "",
) -> dict:
    """Run the chosen mutants of one module; return its counts and score."""
    sources = expand(MODULES[key][0], root)
    explicit = tests is not None  # --tests: run exactly these against every mutant
    tests = tests or test_files(key, root)
    status, base_time = run_tests(root, tests, timeout=900)
    if status != "passed":
        print(f"[{key}] the unmutated tests do not pass ({status}); skipping", flush=True)
        print("\n".join(LAST_OUTPUT[0].splitlines()[-15:]), flush=True)
        return {"module": key, "error": f"baseline {status}"}
    timeout = 3 * base_time + 20
    mutants = [m for s in sources for m in list_mutants(s, root)]  # the copy: a fixed snapshot
    chosen = (
        mutants
        if sample is None or sample >= len(mutants)
        else sorted(
            random.Random(f"{seed}:{key}").sample(mutants, sample), key=lambda m: (m.path, m.index)
        )
    )
    if match is not None:  # re-check named mutants (e.g. former survivors), no sampling
        chosen = [m for m in mutants if any(part in m.key for part in match)]
    print(
        f"[{key}] {len(chosen)}/{len(mutants)} mutants, tests {tests}, baseline {base_time:.1f}s",
        flush=True,
    )
    counts = {"killed": 0, "timeout": 0, "survived": 0, "equivalent": 0}
    for m in chosen:
        if m.key in equivalent:
            counts["equivalent"] += 1
            record = {"module": key, "mutant": m.key, "result": "equivalent", "commit": commit}
            out.write(json.dumps(record) + "\n")
            continue
        target = os.path.join(root, m.path)
        with open(target, encoding="utf-8") as fh:
            original = fh.read()
        try:
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(mutated_source(m.path, m.index, original))
            status, secs = run_tests(
                root, tests if explicit else mutant_tests(key, m.path, tests, root), timeout
            )
        finally:
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(original)
        result = {"failed": "killed", "timeout": "timeout", "passed": "survived"}[status]
        counts[result] += 1
        out.write(
            json.dumps(
                {
                    "module": key,
                    "mutant": m.key,
                    "result": result,
                    "seconds": round(secs, 1),
                    "commit": commit,
                    "seed": seed,
                }
            )
            + "\n"
        )
        out.flush()
        if result == "survived":
            print(f"  SURVIVED {m.key}", flush=True)
    denominator = len(chosen) - counts["equivalent"]
    score = (counts["killed"] + counts["timeout"]) / denominator if denominator else float("nan")
    summary = {
        "module": key,
        "mutants": len(chosen),
        "population": len(mutants),
        **counts,
        "score": score,
    }
    print(
        f"[{key}] killed {counts['killed'] + counts['timeout']}/{denominator} non-equivalent "
        f"({100 * score:.1f}%), {counts['equivalent']} equivalent",
        flush=True,
    )
    return summary


def rescore(paths: list[str], equivalent: dict[str, str]) -> int:
    """Print killed / non-equivalent per (module, commit) from JSON-lines result files."""
    latest: dict[tuple[str, str, str], str] = {}
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for raw in fh:
                rec = json.loads(raw)
                latest[(rec["module"], rec.get("commit", "?"), rec["mutant"])] = rec["result"]
    table: dict[tuple[str, str], dict[str, int]] = {}
    for (module, commit, mutant), result in latest.items():
        row = table.setdefault((module, commit), {"killed": 0, "survived": 0, "equivalent": 0})
        if mutant in equivalent or result == "equivalent":
            row["equivalent"] += 1
        elif result in ("killed", "timeout"):
            row["killed"] += 1
        else:
            row["survived"] += 1
            print(f"  survived: {mutant} ({commit[:9]})")
    print("module        commit     killed/non-equivalent  score   equivalent")
    for (module, commit), row in sorted(table.items()):
        n = row["killed"] + row["survived"]
        score = f"{100 * row['killed'] / n:5.1f}%" if n else "  -  "
        print(f"{module:<13} {commit[:9]:<10} {row['killed']:>6}/{n:<15} {score}  "
              f"{row['equivalent']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--modules",
        nargs="+",
        default=DEFAULT_MODULES,
        choices=sorted(MODULES),
        help="module keys (default: all of them)",
    )
    parser.add_argument(
        "--sample", type=int, default=6, help="mutants per module (seeded); ignored by --full"
    )
    parser.add_argument(
        "--ref",
        default="HEAD",
        help="commit to measure (git archive; default HEAD: what is committed, not what others "
        "are editing); 'worktree' copies the working tree as it is",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full", action="store_true", help="every mutant of every chosen module")
    parser.add_argument(
        "--list", action="store_true", help="print modules, mutant counts and test files"
    )
    parser.add_argument(
        "--match",
        nargs="+",
        default=None,
        help="only mutants whose path:line:col:operator contains one of these (no sampling)",
    )
    parser.add_argument(
        "--tests",
        nargs="+",
        default=None,
        help="run these test files instead of the module's (e.g. re-check survivors quickly)",
    )
    parser.add_argument("--out", default=None, help="JSON-lines results file")
    parser.add_argument(
        "--rescore",
        nargs="+",
        default=None,
        metavar="JSONL",
        help="print per-module scores of earlier results, with today's equivalent list "
        "(the latest result per mutant and commit wins: re-checks replace first runs)",
    )
    args = parser.parse_args(argv)
    if args.rescore:
        return rescore(args.rescore, load_equivalent())
    if args.list:
        for key in args.modules:
            n = sum(len(list_mutants(s)) for s in expand(MODULES[key][0]))
            print(f"{key}: {n} mutants; tests {test_files(key)}")
        return 0
    ref = None if args.ref == "worktree" else args.ref
    commit = resolve_ref(ref)
    root = make_sandbox(commit if ref is not None else None)
    # a `kill` (SIGTERM) unwinds like Ctrl-C, so the sandbox is removed in the finally below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    check_sandbox_import(root)
    print(f"measuring {commit}", flush=True)
    out_path = args.out or os.path.join(tempfile.gettempdir(), "glassnet-mutation-results.jsonl")
    equivalent = load_equivalent()
    summaries = []
    try:
        with open(out_path, "a", encoding="utf-8") as out:
            for key in args.modules:
                summaries.append(
                    run_module(
                        key,
                        root,
                        None if args.full else args.sample,
                        args.seed,
                        out,
                        equivalent,
                        args.match,
                        args.tests,
                        commit,
                    )
                )
    finally:
        shutil.rmtree(os.path.dirname(root), ignore_errors=True)
    print("\nmodule        killed/non-equivalent  score   equivalent")
    for s in summaries:
        if "error" in s:
            print(f"{s['module']:<13} {s['error']}")
        else:
            nonequiv = s["mutants"] - s["equivalent"]
            killed = s["killed"] + s["timeout"]
            print(
                f"{s['module']:<13} {killed:>6}/{nonequiv:<15} {100 * s['score']:5.1f}%  "
                f"{s['equivalent']}"
            )
    print(f"commit {commit}, seed {args.seed}; results: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
