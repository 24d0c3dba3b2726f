"""The compiled Ward merge loop (``glassnet.simplify._ward_native``) against the Python loop
and against an independent brute force.

- the C loop must give the Python loop's tree bit for bit (children equal, heights equal as
  int64 bit patterns) on random inputs: 2..80 points, 1..130 features (130 crosses NumPy's
  128-element pairwise-summation block), float and small-integer weights and features (many
  exact ties of cost), random spanning trees with extra and duplicated edges, k-NN graphs and
  the complete graph;
- both loops against a brute-force count-weighted Ward written here (every admissible merge
  cost recomputed from the clusters' points at every step) on inputs with distinct costs;
- errors: disconnected graphs, invalid edges, and ``ward_loop`` called directly with
  inconsistent buffers (in a subprocess, so that a crash fails one test, not the run);
- a large tree (3,000 points) once, and four trees built in threads;
- the module's other two loops against their NumPy/Python versions, bit for bit: the leaves'
  sorted neighbour lists (``np.lexsort``) and the dendrogram runs, and what each refuses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from glassnet.simplify import _graph as graph_module
from glassnet.simplify import _ward
from glassnet.simplify._ward import connectivity_edges, weighted_ward_tree

PURE_OK = os.environ.get("GLASSNET_PURE_PYTHON_OK") == "1"
P_VALUES = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 16, 17, 24, 40, 130]


def _native_module():
    """The compiled module, or a failure (a skip where GLASSNET_PURE_PYTHON_OK=1)."""
    try:
        from glassnet.simplify import _ward_native
    except ImportError as exc:
        msg = (
            "glassnet.simplify._ward_native is not built: setup.py's optional build of the C "
            "merge loop failed (no C compiler?) and the Ward tree falls back to the ~30x "
            "slower Python loop. See why with `pip install -e . -v` (the compiler's output); "
            f"set GLASSNET_PURE_PYTHON_OK=1 to accept the pure-Python build. ({exc})"
        )
        if PURE_OK:
            pytest.skip("GLASSNET_PURE_PYTHON_OK=1: pure-Python build accepted; " + msg)
        pytest.fail(msg)
    return _ward_native


def test_native_module_is_built():
    mod = _native_module()
    assert callable(mod.ward_loop)
    # weighted_ward_tree must be dispatching to it
    assert _ward._ward_native is mod


# ---------------------------------------------------------------------- inputs
def _random_tree(rng: np.random.Generator, R: int) -> np.ndarray:
    """A uniformly shuffled random spanning tree (each vertex joins an earlier one)."""
    perm = rng.permutation(R)
    parents = [int(rng.integers(0, v)) for v in range(1, R)]
    e = np.array([[perm[v], perm[u]] for v, u in zip(range(1, R), parents, strict=True)],
                 dtype=np.int64).reshape(-1, 2)
    flip = rng.random(len(e)) < 0.5
    e[flip] = e[flip][:, ::-1]
    return e


def _extra_edges(rng: np.random.Generator, R: int, n: int) -> np.ndarray:
    a = rng.integers(0, R, size=n)
    b = rng.integers(0, R, size=n)
    keep = a != b
    return np.column_stack([a[keep], b[keep]]).astype(np.int64)


def _features(rng: np.random.Generator, R: int, p: int, kind: str) -> np.ndarray:
    if kind == "int":  # many exact ties of cost
        return rng.integers(-2, 3, size=(R, p)).astype(np.float64)
    if kind == "int_few":  # even more ties: two values only
        return rng.integers(0, 2, size=(R, p)).astype(np.float64)
    # normal, columns and points of mixed magnitudes
    scale = 10.0 ** rng.integers(-4, 5, size=(1, p)) * 10.0 ** rng.integers(-2, 3, size=(R, 1))
    return rng.normal(size=(R, p)) * scale


def _weights(rng: np.random.Generator, R: int, kind: str) -> np.ndarray:
    if kind == "int":
        return rng.integers(1, 4, size=R).astype(np.float64)
    if kind == "ones":
        return np.ones(R)
    return rng.uniform(0.05, 20.0, size=R)


def _graph(rng: np.random.Generator, F: np.ndarray, kind: str, k: int, extra: int) -> np.ndarray:
    R = F.shape[0]
    if kind == "complete":
        return connectivity_edges(F, None)
    if kind == "knn":
        return connectivity_edges(F, k)
    e = np.vstack([_random_tree(rng, R), _extra_edges(rng, R, extra)])
    if kind == "duplicated":  # every edge again, some reversed, some three times
        again = e.copy()
        flip = rng.random(len(again)) < 0.5
        again[flip] = again[flip][:, ::-1]
        e = np.vstack([e, again, e[: len(e) // 3]])
    return e[rng.permutation(len(e))]


def _lists(F, w, edges):
    F = np.ascontiguousarray(F, dtype=np.float64)
    w = np.ascontiguousarray(w, dtype=np.float64)
    return F, w, _ward._sorted_neighbours(F, w, _ward._checked_edges(edges, F.shape[0]))


def _assert_bitwise_same(a, b):
    (ca, ha), (cb, hb) = a, b
    assert ca.dtype == cb.dtype == np.int64 and ca.shape == cb.shape
    assert ha.dtype == hb.dtype == np.float64 and ha.shape == hb.shape
    if not np.array_equal(ca, cb):
        m = int(np.flatnonzero((ca != cb).any(axis=1))[0])
        raise AssertionError(f"children differ first at merge {m}: {ca[m]} vs {cb[m]}")
    diff = np.flatnonzero(ha.view(np.int64) != hb.view(np.int64))
    if diff.size:
        m = int(diff[0])
        raise AssertionError(f"heights differ first at merge {m}: {ha[m]!r} vs {hb[m]!r}")


def _both_loops(F, w, edges):
    F, w, lists = _lists(F, w, edges)
    return _ward._native_loop(F, w, *lists), _ward._python_loop(F, w, *lists)


# ---------------------------------------------------------------------- C == Python
@settings(max_examples=250, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    R=st.integers(2, 80),
    p=st.sampled_from(P_VALUES),
    fkind=st.sampled_from(["normal", "int", "int_few"]),
    wkind=st.sampled_from(["float", "int", "ones"]),
    gkind=st.sampled_from(["tree", "duplicated", "knn", "complete"]),
    k=st.integers(1, 6),
    extra=st.integers(0, 60),
)
def test_native_loop_matches_python_loop_bit_for_bit(seed, R, p, fkind, wkind, gkind, k, extra):
    _native_module()
    rng = np.random.default_rng(seed)
    F = _features(rng, R, p, fkind)
    w = _weights(rng, R, wkind)
    edges = _graph(rng, F, gkind, k, extra)
    _assert_bitwise_same(*_both_loops(F, w, edges))


@pytest.mark.parametrize("p", P_VALUES)
def test_native_loop_matches_python_loop_every_p_with_ties(p):
    """Each p at least once, on the tie-heaviest inputs (0/1 features, unit weights) and on
    continuous ones, over k-NN, tree+extra and complete graphs."""
    _native_module()
    rng = np.random.default_rng(1000 + p)
    for R in (2, 3, 17, 64):
        for fkind, wkind in (("int_few", "ones"), ("int", "int"), ("normal", "float")):
            F = _features(rng, R, p, fkind)
            w = _weights(rng, R, wkind)
            for gkind in ("knn", "duplicated", "complete"):
                edges = _graph(rng, F, gkind, 3, R)
                _assert_bitwise_same(*_both_loops(F, w, edges))


def test_all_equal_points_every_cost_zero():
    """All costs are 0.0: the order is decided by the ties alone (heap (cost, i, j), lists
    (cost, q)); heights all exactly zero."""
    _native_module()
    rng = np.random.default_rng(7)
    for R, p in ((30, 3), (30, 7), (25, 130)):
        F = np.full((R, p), 1.5)
        w = rng.integers(1, 5, size=R).astype(float)
        for edges in (connectivity_edges(rng.normal(size=(R, 2)), 2),
                      connectivity_edges(F, None)):
            nat, py = _both_loops(F, w, edges)
            _assert_bitwise_same(nat, py)
            assert np.all(nat[1] == 0.0)


def test_weighted_ward_tree_uses_native_and_matches_fallback(monkeypatch):
    mod = _native_module()
    rng = np.random.default_rng(3)
    F = rng.integers(-2, 3, size=(60, 5)).astype(float)
    w = rng.integers(1, 4, size=60).astype(float)
    edges = connectivity_edges(F, 4)
    calls = []
    real = mod.ward_loop

    def spy(*args):
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(mod, "ward_loop", spy)
    native = weighted_ward_tree(F, w, edges)
    assert calls, "weighted_ward_tree did not call the compiled loop"
    monkeypatch.setattr(_ward, "_ward_native", None)
    fallback = weighted_ward_tree(F, w, edges)
    _assert_bitwise_same(native, fallback)


# ---------------------------------------------------------------------- brute-force oracle
def _brute_force(F: np.ndarray, w: np.ndarray, edges: np.ndarray):
    """Ward merges from scratch: at each step every pair of live clusters joined by some
    original edge, its cost n_a n_b / (n_a + n_b) ||mu_a - mu_b||^2 from the clusters' points.
    Returns children (R-1, 2) (smaller id first), heights sqrt(2 cost), and the smallest
    relative gap between the best and the second-best admissible cost over all steps."""
    R = F.shape[0]
    members = {v: [v] for v in range(R)}
    adjacent = np.zeros((R, R), dtype=bool)
    adjacent[edges[:, 0], edges[:, 1]] = True
    adjacent[edges[:, 1], edges[:, 0]] = True
    children, heights, gap = [], [], np.inf
    for m in range(R - 1):
        cand = []
        live = sorted(members)
        for ia, a in enumerate(live):
            for b in live[ia + 1:]:
                if not adjacent[np.ix_(members[a], members[b])].any():
                    continue
                na, nb = w[members[a]].sum(), w[members[b]].sum()
                mu_a = (w[members[a], None] * F[members[a]]).sum(0) / na
                mu_b = (w[members[b], None] * F[members[b]]).sum(0) / nb
                cand.append((na * nb / (na + nb) * float(np.sum((mu_a - mu_b) ** 2)), a, b))
        if not cand:
            raise ValueError("not connected")
        cand.sort()
        cost, a, b = cand[0]
        if len(cand) > 1:
            gap = min(gap, (cand[1][0] - cost) / max(cand[1][0], 1e-300))
        children.append((a, b))
        heights.append(np.sqrt(2.0 * cost))
        members[R + m] = members.pop(a) + members.pop(b)
    return np.array(children, dtype=np.int64).reshape(-1, 2), np.array(heights), gap


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    R=st.integers(2, 14),
    p=st.sampled_from(P_VALUES),
    wkind=st.sampled_from(["float", "int"]),
    gkind=st.sampled_from(["tree", "duplicated", "knn", "complete"]),
    k=st.integers(1, 4),
    extra=st.integers(0, 10),
)
def test_both_loops_match_brute_force_ward(seed, R, p, wkind, gkind, k, extra):
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(R, p))  # continuous: distinct costs
    w = _weights(rng, R, wkind)
    edges = _graph(rng, F, gkind, k, extra)
    want_c, want_h, gap = _brute_force(F, w, edges)
    assume(gap > 1e-9)  # a near-tie could be decided either way by rounding
    F2, w2, lists = _lists(F, w, edges)
    loops = [("python", _ward._python_loop)]
    if _ward._ward_native is not None:  # its absence fails test_native_module_is_built
        loops.append(("native", _ward._native_loop))
    for name, loop in loops:
        c, h = loop(F2, w2, *lists)
        np.testing.assert_array_equal(c, want_c, err_msg=name)
        np.testing.assert_allclose(h, want_h, rtol=1e-12, atol=0, err_msg=name)


def test_brute_force_oracle_on_a_hand_computed_case():
    """The oracle itself: points 0, 1, 3 on a line, weights 1, 1, 2, path graph 0-1-2.
    Merge {0,1} (cost 1*1/2*1 = 0.5, height 1), then mu=0.5 mass 2 with point 3 mass 2:
    cost 2*2/4*2.5^2 = 6.25, height sqrt(12.5)."""
    F = np.array([[0.0], [1.0], [3.0]])
    w = np.array([1.0, 1.0, 2.0])
    edges = np.array([[0, 1], [1, 2]])
    c, h, _ = _brute_force(F, w, edges)
    np.testing.assert_array_equal(c, [[0, 1], [2, 3]])
    np.testing.assert_allclose(h, [1.0, np.sqrt(12.5)], rtol=1e-15)
    python = _ward._python_loop(F, w, *_lists(F, w, edges)[2])
    for c2, h2 in (weighted_ward_tree(F, w, edges), python):
        np.testing.assert_array_equal(c2, [[0, 1], [2, 3]])
        np.testing.assert_allclose(h2, [1.0, np.sqrt(12.5)], rtol=1e-15)


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize("edges,R", [
    (np.array([[0, 1], [2, 3]]), 4),          # two components
    (np.array([[0, 1], [1, 2]]), 4),          # an isolated point
    (np.array([[0, 1], [1, 0], [0, 1]]), 3),  # duplicated edges, point 2 alone
    (np.zeros((0, 2), dtype=np.int64), 2),    # no edges at all
])
def test_disconnected_graph_raises_not_connected(edges, R):
    rng = np.random.default_rng(0)
    F = rng.normal(size=(R, 3))
    w = np.ones(R)
    F2, w2, lists = _lists(F, w, edges)
    with pytest.raises(ValueError, match="not connected"):
        _ward._python_loop(F2, w2, *lists)
    with pytest.raises(ValueError, match="not connected"):
        weighted_ward_tree(F, w, edges)
    if _ward._ward_native is not None:  # its absence fails test_native_module_is_built
        with pytest.raises(ValueError, match="not connected"):
            _ward._native_loop(F2, w2, *lists)


@pytest.mark.parametrize("edges", [
    np.array([[0, 1], [-1, 2]]),
    np.array([[0, 1], [1, 4]]),               # == R
    np.array([[0, 1], [1, 100]]),
    np.array([[0, 1], [2, 2], [1, 3]]),       # self-loop
    np.array([[0, 1, 2], [1, 2, 3]]),         # (E, 3)
    np.array([0, 1, 1, 2]),                   # 1-D
    np.array([[0.0, 1.0], [1.0, 2.0], [2.0, 3.0]]),  # float
    np.array([[[0, 1]], [[1, 2]], [[2, 3]]]),  # 3-D
], ids=["negative", "equal_R", "large", "self_loop", "E3", "1d", "float", "3d"])
def test_weighted_ward_tree_rejects_invalid_edges(edges):
    F = np.arange(8.0).reshape(4, 2)
    with pytest.raises(ValueError):
        weighted_ward_tree(F, np.ones(4), edges)


_DIRECT_CALLS = {
    # name: (python snippet building args from the good ones, expected exception name)
    "ok": ("pass", None),
    "R_too_large": ("args[0] = R + 1", "ValueError"),
    "R_too_small": ("args[0] = R - 1", "ValueError"),
    "R_below_2": ("args[0] = 1", "ValueError"),
    "R_negative": ("args[0] = -3", "ValueError"),
    "R_huge": ("args[0] = 2**61", "ValueError"),
    "p_wrong": ("args[1] = p + 1", "ValueError"),
    "p_zero": ("args[1] = 0", "ValueError"),
    "p_negative": ("args[1] = -1", "ValueError"),
    "w_short": ("args[3] = w[:-1].copy()", "ValueError"),
    "bounds_short": ("args[4] = bounds[:-1].copy()", "ValueError"),
    "bounds_not_from_zero": ("b = bounds.copy(); b[0] = 1; args[4] = b", "ValueError"),
    "bounds_end_short": ("b = bounds.copy(); b[-1] -= 1; args[4] = b", "ValueError"),
    "bounds_end_long": ("b = bounds.copy(); b[-1] += 1; args[4] = b", "ValueError"),
    "bounds_decreasing": ("b = bounds.copy(); b[1] = b[-1] + 5; args[4] = b", "ValueError"),
    "bounds_decreasing_in_range": (
        "b = bounds.copy(); b[2], b[3] = b[3], b[2]; args[4] = b", "ValueError"),
    "bounds_negative_inside": ("b = bounds.copy(); b[1] = -4; args[4] = b", "ValueError"),
    "other_index_R": ("o = other.copy(); o[3] = R; args[5] = o", "ValueError"),
    "other_index_negative": ("o = other.copy(); o[-1] = -1; args[5] = o", "ValueError"),
    "other_index_huge": ("o = other.copy(); o[0] = 2**62; args[5] = o", "ValueError"),
    "other_shorter_than_cost": ("args[5] = other[:-1].copy()", "ValueError"),
    "cost_short": ("args[6] = cost[:-1].copy()", "ValueError"),
    "children_short": ("args[7] = np.empty((R - 2, 2), dtype=np.int64)", "ValueError"),
    "heights_short": ("args[8] = np.empty(R - 2)", "ValueError"),
    "heights_readonly": ("h = np.empty(R - 1); h.flags.writeable = False; args[8] = h",
                         "TypeError"),
    "F_not_contiguous": ("args[2] = np.repeat(F, 2, axis=1)[:, ::2]", "ValueError"),
    "F_int32_wrong_size": ("args[2] = F.astype(np.int32)", "ValueError"),
    "missing_argument": ("args.pop()", "TypeError"),
}

_DIRECT_SCRIPT = """
import sys
import numpy as np
from glassnet.simplify import _ward_native
good = dict(np.load(sys.argv[1]))
R, p = int(good["R"]), int(good["p"])
F, w, bounds, other, cost = (good[k] for k in ("F", "w", "bounds", "other", "cost"))
cases = {cases}
for name, snippet in cases.items():
    print("BEGIN", name, flush=True)
    args = [R, p, F, w, bounds, other, cost, np.empty((R - 1, 2), dtype=np.int64),
            np.empty(R - 1)]
    exec(snippet)
    try:
        res = _ward_native.ward_loop(*args)
    except Exception as exc:
        print("CASE", name, "RAISED", type(exc).__name__, exc, flush=True)
    else:
        print("CASE", name, "RETURNED", res, flush=True)
"""


def test_ward_loop_direct_calls_with_inconsistent_buffers(tmp_path):
    """Every case of _DIRECT_CALLS in one subprocess (importing the package once): an
    out-of-bounds read or write must fail this test, not kill the test run."""
    _native_module()
    rng = np.random.default_rng(5)
    R, p = 12, 3
    F = rng.normal(size=(R, p))
    w = rng.uniform(1, 3, size=R)
    bounds, other, cost = _ward._sorted_neighbours(F, w, connectivity_edges(F, 3))
    assert bounds[1] < bounds[2] < bounds[3]  # the swap in bounds_decreasing_in_range bites
    path = tmp_path / "good.npz"
    np.savez(path, R=R, p=p, F=F, w=w, bounds=bounds, other=other, cost=cost)
    cases = {name: snippet for name, (snippet, _) in _DIRECT_CALLS.items()}
    script = _DIRECT_SCRIPT.format(cases=repr(cases))
    proc = subprocess.run([sys.executable, "-c", script, str(path)],
                          capture_output=True, text=True, timeout=120)
    lines = proc.stdout.splitlines()
    begun = [ln.split()[1] for ln in lines if ln.startswith("BEGIN ")]
    assert proc.returncode == 0, (
        f"ward_loop crashed (exit {proc.returncode}) on case {begun[-1] if begun else None!r}:"
        f"\n{proc.stdout}\n{proc.stderr}")
    got = {ln.split()[1]: ln.split(maxsplit=2)[2] for ln in lines if ln.startswith("CASE ")}
    assert set(got) == set(_DIRECT_CALLS)
    wrong = []
    for name, (_, expected) in _DIRECT_CALLS.items():
        want = "RETURNED True" if expected is None else f"RAISED {expected} "
        if not got[name].startswith(want):
            wrong.append(f"{name}: {got[name]} (expected {want.strip()})")
    assert not wrong, "\n".join(wrong)


def test_ward_loop_refuses_bad_buffers_in_process():
    """The same refusals in this process, with the arrays left untouched afterwards (the
    loop never ran: children and heights keep their sentinel values)."""
    mod = _native_module()
    rng = np.random.default_rng(9)
    R, p = 10, 2
    F = rng.normal(size=(R, p))
    w = np.ones(R)
    bounds, other, cost = _ward._sorted_neighbours(F, w, connectivity_edges(F, 2))
    children = np.full((R - 1, 2), -7, dtype=np.int64)
    heights = np.full(R - 1, -7.0)
    bad_other = other.copy()
    bad_other[0] = R
    bad_bounds = bounds.copy()
    bad_bounds[4], bad_bounds[5] = bad_bounds[5], bad_bounds[4]
    for args, match in (
        ((R, p, F, w, bounds, bad_other, cost), "out of range"),
        ((R, p, F, w, bad_bounds, other, cost), "non-decreasing"),
        ((R, p + 1, F, w, bounds, other, cost), "F holds"),
        ((R + 1, p, F, w, bounds, other, cost), "holds"),
    ):
        assert bad_bounds[4] > bad_bounds[5]
        with pytest.raises(ValueError, match=match):
            mod.ward_loop(*args, children, heights)
        assert np.all(children == -7) and np.all(heights == -7.0)
    assert mod.ward_loop(R, p, F, w, bounds, other, cost, children, heights) is True


# ---------------------------------------------------------------------- large and threads
@pytest.mark.parametrize("fkind", ["normal", "int"])
def test_large_knn_tree_bit_for_bit(fkind):
    _native_module()
    rng = np.random.default_rng(2024)
    R = 3000
    F = rng.normal(size=(R, 3)) if fkind == "normal" else _features(rng, R, 3, "int")
    w = rng.integers(1, 101, size=R).astype(float)
    edges = connectivity_edges(F, 5)
    nat, py = _both_loops(F, w, edges)
    _assert_bitwise_same(nat, py)
    assert np.unique(nat[0]).size == 2 * (R - 1)  # every node but the root merged once


def test_native_trees_in_threads_match_sequential():
    _native_module()
    rng = np.random.default_rng(11)
    jobs = []
    for p in (2, 3, 9, 130):
        R = 1500 if p < 100 else 300
        F = rng.normal(size=(R, p))
        w = rng.integers(1, 50, size=R).astype(float)
        jobs.append(_lists(F, w, connectivity_edges(F, 5)))
    sequential = [_ward._native_loop(F, w, *lists) for F, w, lists in jobs]
    for _ in range(3):
        with ThreadPoolExecutor(max_workers=4) as ex:
            threaded = list(ex.map(lambda job: _ward._native_loop(job[0], job[1], *job[2]),
                                   jobs))
        for a, b in zip(sequential, threaded, strict=True):
            _assert_bitwise_same(a, b)
    # and the same as the Python loop, for good measure
    for (F, w, lists), a in zip(jobs, sequential, strict=True):
        _assert_bitwise_same(a, _ward._python_loop(F, w, *lists))


@pytest.mark.parametrize("was_enabled", [True, False])
def test_python_loop_leaves_the_garbage_collector_as_it_found_it(was_enabled):
    # the Python loop pauses the collector for speed; it must restore the caller's setting
    # (and a caller that had paused it must not find it switched on)
    import gc

    rng = np.random.default_rng(3)
    F, w = rng.standard_normal((30, 3)), rng.integers(1, 9, 30).astype(float)
    lists = _ward._sorted_neighbours(F, w, connectivity_edges(F, 3))
    try:
        gc.enable() if was_enabled else gc.disable()
        _ward._python_loop(F, w, *lists)
        assert gc.isenabled() is was_enabled
        # and when the loop fails (a disconnected graph), too
        bad = _ward._sorted_neighbours(F[:4], w[:4], np.array([[0, 1], [2, 3]]))
        with pytest.raises(ValueError, match="not connected"):
            _ward._python_loop(F[:4], w[:4], *bad)
        assert gc.isenabled() is was_enabled
    finally:
        gc.enable()


def test_out_of_range_edges_name_the_valid_range():
    F, w = np.zeros((10, 2)), np.ones(10)
    with pytest.raises(ValueError, match=r"outside 0\.\.9 \(the 10 points\)"):
        weighted_ward_tree(F, w, np.array([[0, 10]]))


# ---------------------------------------------------------------------- sorted lists, runs
@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    R=st.integers(2, 90),
    p=st.sampled_from([1, 2, 3, 9]),
    fkind=st.sampled_from(["normal", "int", "int_few"]),
    gkind=st.sampled_from(["tree", "duplicated", "knn", "complete"]),
    extra=st.integers(0, 200),
)
def test_sorted_neighbours_in_c_equal_lexsort_bit_for_bit(seed, R, p, fkind, gkind, extra):
    # every leaf's list sorted by (cost, neighbour), ties of cost included (integer
    # features), duplicated edges included: the C counting sort against np.lexsort
    _native_module()
    rng = np.random.default_rng(seed)
    F = _features(rng, R, p, fkind)
    w = _weights(rng, R, "int" if fkind != "normal" else "float")
    edges = _ward._checked_edges(_graph(rng, F, gkind, 3, extra), R)
    got = _ward._sorted_neighbours(F, w, edges)
    a, b = edges[:, 0], edges[:, 1]
    cost = w[a] * w[b] / (w[a] + w[b]) * ((F[a] - F[b]) ** 2).sum(axis=1)
    want = _ward._sorted_neighbours_numpy(R, a, b, cost)
    for g, e in zip(got, want, strict=True):
        assert g.dtype == e.dtype and g.shape == e.shape
        assert np.array_equal(g.view(np.int64), e.view(np.int64))


def test_sorted_neighbours_with_nan_costs_take_lexsort(monkeypatch):
    _native_module()
    F = np.array([[0.0], [np.nan], [1.0], [3.0]])
    edges = np.array([[0, 1], [1, 2], [2, 3], [0, 3]])
    calls = []
    monkeypatch.setattr(_ward, "_sorted_neighbours_numpy",
                        lambda *a: calls.append(a) or ("lexsort",))
    assert _ward._sorted_neighbours(F, np.ones(4), edges) == ("lexsort",)
    assert len(calls) == 1


def test_sorted_neighbours_refuses_bad_buffers():
    mod = _native_module()
    a, b = np.array([0, 1], dtype=np.int64), np.array([1, 2], dtype=np.int64)
    cost = np.array([1.0, 2.0])
    out = (np.empty(4, np.int64), np.empty(4, np.int64), np.empty(4))
    assert mod.sorted_neighbours(3, a, b, cost, *out) is None
    assert out[0].tolist() == [0, 1, 3, 4] and out[1].tolist() == [1, 0, 2, 1]
    with pytest.raises(ValueError, match="out of range"):
        mod.sorted_neighbours(2, a, b, cost, np.empty(3, np.int64), *out[1:])
    with pytest.raises(ValueError, match="out of range"):
        mod.sorted_neighbours(3, a, np.array([1, -1], dtype=np.int64), cost, *out)
    with pytest.raises(ValueError, match="cost holds"):
        mod.sorted_neighbours(3, a, b, cost[:1], *out)
    with pytest.raises(ValueError, match="other holds"):
        mod.sorted_neighbours(3, a, b, cost, out[0], np.empty(3, np.int64), out[2])
    with pytest.raises(ValueError, match="R >= 1"):
        mod.sorted_neighbours(0, a[:0], b[:0], cost[:0], np.empty(1, np.int64),
                              np.empty(0, np.int64), np.empty(0))


def _random_merges(rng: np.random.Generator, R: int) -> np.ndarray:
    """Any binary tree: each merge joins two live nodes picked at random."""
    live = list(range(R))
    children = []
    for m in range(R - 1):
        i, j = rng.choice(len(live), size=2, replace=False)
        children.append([live[i], live[j]])
        live = [x for k, x in enumerate(live) if k not in (i, j)] + [R + m]
    return np.array(children, dtype=np.int64).reshape(-1, 2)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), R=st.integers(2, 300))
def test_dendrogram_runs_in_c_equal_the_python_loops(seed, R):
    from glassnet.simplify import _cut

    _native_module()
    children = _random_merges(np.random.default_rng(seed), R)
    got = _cut._dendrogram_runs(children, R)
    want = _cut._dendrogram_runs_py(children, R)
    for g, e in zip(got, want, strict=True):
        assert g.dtype == e.dtype == np.int64
        np.testing.assert_array_equal(g, e)


def test_dendrogram_runs_refuse_what_is_not_a_tree():
    mod = _native_module()
    R = 4
    good = np.array([[0, 1], [2, 4], [3, 5]], dtype=np.int64)
    out = (np.empty(R, np.int64), np.empty(2 * R - 1, np.int64), np.empty(2 * R - 1, np.int64))
    assert mod.dendrogram_runs(R, good, *out) is None
    for bad in ([[0, 1], [2, 5], [3, 4]],   # node 5 used before it is formed
                [[0, 1], [1, 2], [3, 5]],   # leaf 1 merged twice
                [[0, 1], [2, 4], [3, 4]],   # node 4 merged twice
                [[0, -1], [2, 4], [3, 5]],  # negative
                [[0, 1], [2, 4], [3, 7]]):  # beyond the tree
        with pytest.raises(ValueError, match="not form a tree"):
            mod.dendrogram_runs(R, np.array(bad, dtype=np.int64), *out)
    with pytest.raises(ValueError, match="children holds"):
        mod.dendrogram_runs(R, good[:2], *out)
    with pytest.raises(ValueError, match="R >= 2"):
        mod.dendrogram_runs(1, good[:0], *out)


@settings(max_examples=120, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    P=st.integers(2, 120),
    m=st.integers(1, 40),
    k=st.integers(1, 12),
    p=st.sampled_from([1, 2, 3, 8, 9]),
    ties=st.booleans(),
    absent=st.floats(0.0, 0.6),
)
def test_fold_neighbour_edges_in_c_equal_numpy(seed, P, m, k, p, ties, absent):
    # candidates with repeats, the point itself and absent (-1) entries, re-ranked by the
    # fold's centres (integer centres: many tied distances, kept in candidate order) or kept
    # in their order: the C selection against NumPy's stable argsort and cumsum
    _native_module()
    rng = np.random.default_rng(seed)
    local = rng.integers(0, P, size=(P, m))
    local[rng.random((P, m)) < absent] = -1
    local[:, 0] = np.where(rng.random(P) < 0.5, np.arange(P), local[:, 0])  # self entries
    centres = (rng.integers(-2, 3, size=(P, p)).astype(float) if ties
               else rng.normal(size=(P, p)) * 10.0 ** rng.integers(-3, 4, size=(1, p)))
    k = min(k, P - 1)
    got = graph_module._edges_from_neighbours(local, k, centres)
    want = graph_module._edges_from_neighbours_numpy(graph_module._ranked_numpy(local, centres),
                                                     k)
    assert got.dtype == want.dtype == np.int64
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(graph_module._edges_from_neighbours(local, k),
                                  graph_module._edges_from_neighbours_numpy(local, k))


def test_fold_neighbour_edges_with_nan_centres_take_numpy(monkeypatch):
    _native_module()
    local = np.array([[1, 2], [0, 2], [0, 1]])
    centres = np.array([[0.0], [np.nan], [1.0]])
    calls = []
    real = graph_module._ranked_numpy
    monkeypatch.setattr(graph_module, "_ranked_numpy",
                        lambda *a: calls.append(a) or real(*a))
    got = graph_module._edges_from_neighbours(local, 1, centres)
    assert len(calls) == 1
    np.testing.assert_array_equal(
        got, graph_module._edges_from_neighbours_numpy(real(local, centres), 1))


def test_first_neighbours_refuses_bad_buffers():
    mod = _native_module()
    local = np.array([[1, 2], [0, -1], [0, 1]], dtype=np.int64)
    centres = np.array([[0.0], [5.0], [1.0]])
    a, b = np.empty(3, np.int64), np.empty(3, np.int64)
    assert mod.first_neighbours(3, 2, 1, 1, local, centres, a, b) == 3
    assert a.tolist() == [0, 1, 2] and b.tolist() == [2, 0, 0]
    assert mod.first_neighbours(3, 2, 0, 1, local, None, a, b) == 3
    assert b.tolist() == [1, 0, 0]
    bad = local.copy()
    bad[1, 1] = 3
    with pytest.raises(ValueError, match="out of range"):
        mod.first_neighbours(3, 2, 1, 1, bad, centres, a, b)
    bad[1, 1] = -2
    with pytest.raises(ValueError, match="out of range"):
        mod.first_neighbours(3, 2, 1, 1, bad, centres, a, b)
    with pytest.raises(ValueError, match="centres holds"):
        mod.first_neighbours(3, 2, 2, 1, local, centres, a, b)
    with pytest.raises(ValueError, match="out_a holds"):
        mod.first_neighbours(3, 2, 1, 2, local, centres, a, b)
    with pytest.raises(ValueError, match="local holds"):
        mod.first_neighbours(4, 2, 1, 1, local, centres, a, b)
    with pytest.raises(ValueError, match="negative"):
        mod.first_neighbours(3, 2, 1, -1, local, centres, a, b)
    assert mod.first_neighbours(3, 2, 1, 1, local, np.array([[0.0], [np.nan], [1.0]]),
                                a, b) == -2


def test_graph_dispatchers_without_the_module_give_the_same_edges(monkeypatch):
    # where the module is not built, the dispatchers themselves must fall back to NumPy
    _native_module()
    rng = np.random.default_rng(12)
    P, m, k = 60, 12, 4
    local = rng.integers(-1, P, size=(P, m))
    centres = rng.normal(size=(P, 2))
    ranked = graph_module._edges_from_neighbours(local, k, centres)
    plain = graph_module._edges_from_neighbours(local, k)
    F, w = rng.normal(size=(P, 3)), rng.uniform(1, 3, size=P)
    edges = connectivity_edges(F, 3)
    lists = _ward._sorted_neighbours(F, w, edges)
    monkeypatch.setattr(graph_module, "_ward_native", None)
    monkeypatch.setattr(_ward, "_ward_native", None)
    np.testing.assert_array_equal(graph_module._edges_from_neighbours(local, k, centres), ranked)
    np.testing.assert_array_equal(graph_module._edges_from_neighbours(local, k), plain)
    for got, want in zip(_ward._sorted_neighbours(F, w, edges), lists, strict=True):
        np.testing.assert_array_equal(got, want)


def _components_by_search(edges: np.ndarray, R: int) -> np.ndarray:
    """Each node's component by breadth-first search from the lowest unlabelled node: the
    oracle for the union-find in C (numbered by lowest node, as the C module promises)."""
    nbrs: list[list[int]] = [[] for _ in range(R)]
    for a, b in edges.tolist():
        nbrs[a].append(b)
        nbrs[b].append(a)
    comp = np.full(R, -1, dtype=np.int64)
    n = 0
    for start in range(R):
        if comp[start] >= 0:
            continue
        comp[start] = n
        frontier = [start]
        while frontier:
            nxt = []
            for u in frontier:
                for v in nbrs[u]:
                    if comp[v] < 0:
                        comp[v] = n
                        nxt.append(v)
            frontier = nxt
        n += 1
    return comp


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), R=st.integers(1, 200), density=st.floats(0.0, 2.0))
def test_components_in_c_equal_a_graph_search_and_scipy(seed, R, density):
    _native_module()
    rng = np.random.default_rng(seed)
    E = int(density * R)
    edges = rng.integers(0, R, size=(E, 2)) if E else np.zeros((0, 2), dtype=np.int64)
    n, comp = graph_module._components(edges, R)
    want = _components_by_search(edges, R)
    assert n == int(want.max()) + 1
    np.testing.assert_array_equal(comp, want)
    n_sp, comp_sp = graph_module._components_scipy(edges, R)
    assert n_sp == n and comp_sp[0] == 0
    # scipy's numbering may differ: the same partition
    np.testing.assert_array_equal(comp[:, None] == comp[None, :],
                                  comp_sp[:, None] == comp_sp[None, :])


def test_components_refuse_bad_buffers():
    mod = _native_module()
    a, b = np.array([0, 1], dtype=np.int64), np.array([1, 2], dtype=np.int64)
    comp = np.empty(4, dtype=np.int64)
    assert mod.components(4, a, b, comp) == 2 and comp.tolist() == [0, 0, 0, 1]
    with pytest.raises(ValueError, match="out of range"):
        mod.components(4, a, np.array([1, 4], dtype=np.int64), comp)
    with pytest.raises(ValueError, match="out of range"):
        mod.components(4, np.array([-1, 0], dtype=np.int64), b, comp)
    with pytest.raises(ValueError, match="b holds"):
        mod.components(4, a, b[:1], comp)
    with pytest.raises(ValueError, match="comp holds"):
        mod.components(5, a, b, comp)
    with pytest.raises(ValueError, match="negative"):
        mod.components(-1, a, b, comp)


def test_join_components_without_the_module_gives_the_same_edges(monkeypatch):
    # three clusters far apart: the kNN graph falls apart and is joined; the SciPy
    # fallback must join it through the same pairs
    _native_module()
    rng = np.random.default_rng(3)
    F = np.concatenate([rng.normal(size=(30, 2)) + off for off in (0, 50, 200)])
    joined = connectivity_edges(F, 2)
    assert graph_module._components(joined, F.shape[0])[0] == 1
    monkeypatch.setattr(graph_module, "_ward_native", None)
    np.testing.assert_array_equal(connectivity_edges(F, 2), joined)
