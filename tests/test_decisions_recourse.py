"""Counterfactuals: validity, constraints and optimality (glassnet.decisions.recourse).

Oracles: (1) on 2-D networks, partition_2d's exact polygons: the target set inside each
region is its polygon cut by the region's linear decision half-plane, and the nearest point
of a convex polygon under a weighted L1/L-inf cost lies at one of its vertices or where an
edge meets a kink line of the cost through x0 (computed directly below); (2) on small
networks, brute force over activation patterns (and the discrete values of integer/one-hot
features), one linprog per combination.
"""

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from glassnet import ReluNetwork, partition_2d
from glassnet.decisions import counterfactual, recourse_audit
from glassnet.decisions.constraints import load_constraints

MARGIN_TOL = dict(rtol=1e-4, atol=1e-4)  # the program asks for a 1e-6 margin


def random_net(seed, d=2, hidden=(5, 4)):
    rng = np.random.default_rng(seed)
    sizes = [d, *hidden, 1]
    W = [rng.normal(size=(sizes[i + 1], sizes[i])) for i in range(len(sizes) - 1)]
    b = [rng.normal(size=sizes[i + 1]) for i in range(len(sizes) - 1)]
    return ReluNetwork(W, b, output="sigmoid")


# ---------------------------------------------------------------------- oracle 1: polygons
def clip_halfplane(poly, a, c):
    """Part of a convex polygon (vertices in order) where a @ p + c >= 0."""
    out = []
    n = len(poly)
    for k in range(n):
        p, q = poly[k], poly[(k + 1) % n]
        fp, fq = a @ p + c, a @ q + c
        if fp >= 0:
            out.append(p)
        if (fp > 0 > fq) or (fp < 0 < fq):
            out.append(p + fp / (fp - fq) * (q - p))
    return np.array(out)


def nearest_in_polygon(poly, x0, w, norm):
    """Exact nearest point of a convex polygon: the cost is linear between its kink lines
    through x0 (axes for L1, w-diagonals for L-inf), so the minimum is at a vertex of the
    polygon cut by them."""
    cands = [*poly]
    dirs = [np.array([1.0, 0.0]), np.array([0.0, 1.0]),
            np.array([1 / w[0], 1 / w[1]]), np.array([1 / w[0], -1 / w[1]])]
    n = len(poly)
    for u in dirs:
        nrm = np.array([-u[1], u[0]])  # the line {p : nrm @ (p - x0) = 0}
        for k in range(n):
            p, q = poly[k], poly[(k + 1) % n]
            fp, fq = nrm @ (p - x0), nrm @ (q - x0)
            if fp * fq < 0:
                cands.append(p + fp / (fp - fq) * (q - p))
    cands = np.array(cands)
    dist = np.abs(cands - x0) * w
    cost = dist.sum(1) if norm == "l1" else dist.max(1)
    # x0 itself when inside (every edge keeps it on the inner side)
    return cost.min()


def polygon_optimum(net, x0, target, w, norm, bounds):
    part = partition_2d(net, bounds)
    best = np.inf
    for r, verts in enumerate(part.vertices):
        a, c = part.coef[r, 0], part.intercept[r, 0]
        if target == 0:
            a, c = -a, -c
        piece = clip_halfplane(np.asarray(verts), a, c)
        if len(piece) >= 1:
            best = min(best, nearest_in_polygon(piece, x0, w, norm))
    return best


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), norm=st.sampled_from(["l1", "linf"]))
def test_optimal_against_partition_polygons(seed, norm):
    net = random_net(seed)
    rng = np.random.default_rng(seed)
    bounds = ((-3.0, 3.0), (-2.0, 2.0))
    lo, hi = np.array([-3.0, -2.0]), np.array([3.0, 2.0])
    X = rng.uniform(lo, hi, size=(2, 2))
    w = rng.uniform(0.5, 2.0, size=2)
    cf = counterfactual(net, X, cost=norm, weights=w, box=(lo, hi))
    for i in range(2):
        target = int(cf.frame.target[i])
        expect = polygon_optimum(net, X[i], target, w, norm, bounds)
        if np.isinf(expect):
            assert cf.frame.status[i] == "infeasible"
            continue
        assert cf.frame.status[i] == "found" and cf.frame.valid[i]
        np.testing.assert_allclose(cf.frame.cost[i], expect, **MARGIN_TOL)
        p = cf.counterfactual.to_numpy()[i]
        assert int(net.forward(p[None])[0, 0] > 0) == target


# ---------------------------------------------------------------------- oracle 2: patterns
def pattern_maps(net, pat):
    d = net.n_features
    A, c, rows_A, rows_c, off = np.eye(d), np.zeros(d), [], [], 0
    for W, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
        zA, zc = W @ A, W @ c + b
        rows_A.append(zA)
        rows_c.append(zc)
        on = np.asarray(pat[off : off + W.shape[0]], dtype=float)
        A, c = zA * on[:, None], zc * on
        off += W.shape[0]
    sgn = np.where(np.asarray(pat) == 1, -1.0, 1.0)
    return (sgn[:, None] * np.vstack(rows_A), -sgn * np.concatenate(rows_c),
            (net.weights[-1] @ A)[0], (net.weights[-1] @ c + net.biases[-1])[0])


def brute_force_l1(net, x0, target, w, lo, hi, fixed_values=(), lin=None):
    """Min weighted L1 cost over patterns x discrete assignments (dicts index -> value)."""
    d = net.n_features
    best = np.inf
    for pat in itertools.product([0, 1], repeat=net.n_hidden):
        A_reg, b_reg, G, g = pattern_maps(net, pat)
        s = -1.0 if target == 1 else 1.0  # target 1: G x + g >= 1e-6
        for assign in fixed_values or [{}]:
            blo, bhi = lo.copy(), hi.copy()
            for j, v in assign.items():
                blo[j] = bhi[j] = v
            rows = [np.c_[A_reg, np.zeros((len(b_reg), d))], np.c_[s * G[None], np.zeros((1, d))],
                    np.c_[np.eye(d), -np.eye(d)], np.c_[-np.eye(d), -np.eye(d)]]
            rhs = [b_reg, [-s * g - 1e-6], x0, -x0]
            if lin is not None:
                rows.append(np.c_[lin[0][None], np.zeros((1, d))])
                rhs.append([lin[1]])
            r = linprog(np.r_[np.zeros(d), w], A_ub=np.vstack(rows), b_ub=np.concatenate(rhs),
                        bounds=[*zip(blo, bhi, strict=True), *[(0, None)] * d], method="highs")
            if r.status == 0:
                best = min(best, r.fun)
    return best


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_constraints_respected_and_optimal_against_brute_force(seed):
    """immutable, increase-only, bounds, a linear constraint and an integer feature."""
    net = random_net(seed, d=4, hidden=(3, 3)).with_feature_names(["a", "b", "c", "k"])
    rng = np.random.default_rng(seed)
    lo, hi = np.array([-2.0, -2, -2, 0]), np.array([2.0, 2, 2, 3])
    x0 = np.r_[rng.uniform(-1.5, 1.5, size=3), rng.integers(0, 4)]
    w = rng.uniform(0.5, 2, size=4)
    spec = {"immutable": ["a"], "increase_only": ["b"], "bounds": {"c": [-1.0, 1.5]},
            "integer": ["k"], "linear": [{"coef": {"b": 1.0, "c": 1.0}, "upper": 2.0}]}
    cf = counterfactual(net, x0[None], cost="l1", weights=w, box=(lo, hi), constraints=spec)
    target = int(cf.frame.target[0])
    # the oracle: a fixed; b >= x0_b; c in [-1, 1.5] (and the box); k in {0..3}; b + c <= 2
    blo = np.array([x0[0], max(lo[1], x0[1]), max(-1.0, min(lo[2], x0[2])), 0.0])
    bhi = np.array([x0[0], max(hi[1], x0[1]), 1.5, 3.0])
    assigns = [{3: float(k)} for k in range(4)]
    expect = brute_force_l1(net, x0, target, w, blo, bhi, assigns,
                            lin=(np.array([0, 1.0, 1.0, 0]), 2.0))
    if np.isinf(expect):
        assert cf.frame.status[0] == "infeasible"
        return
    assert cf.frame.valid[0]
    np.testing.assert_allclose(cf.frame.cost[0], expect, **MARGIN_TOL)
    p = cf.counterfactual.to_numpy()[0]
    assert p[0] == x0[0] and p[1] >= x0[1] - 1e-12 and -1 - 1e-9 <= p[2] <= 1.5 + 1e-9
    assert p[3] == round(p[3]) and p[1] + p[2] <= 2 + 1e-7


def test_one_hot_groups_switch_exactly_one_category():
    rng = np.random.default_rng(5)
    net = random_net(21, d=4, hidden=(3, 3)).with_feature_names(["x", "y", "cat_a", "cat_b"])
    lo, hi = np.array([-2.0, -2, 0, 0]), np.array([2.0, 2, 1, 1])
    X = np.c_[rng.uniform(-1.5, 1.5, size=(4, 2)), np.tile([1.0, 0.0], (4, 1))]
    groups = {"cat": ["cat_a", "cat_b"]}
    cf = counterfactual(net, X, box=(lo, hi), constraints={"one_hot": groups},
                        weights=[1.0, 1.0, 0.5, 0.5])
    w = np.array([1.0, 1.0, 0.5, 0.5])
    for i in range(4):
        target = int(cf.frame.target[i])
        expect = brute_force_l1(net, X[i], target, w, lo, hi,
                                [{2: 1.0, 3: 0.0}, {2: 0.0, 3: 1.0}])
        if np.isinf(expect):
            assert cf.frame.status[i] == "infeasible"
            continue
        p = cf.counterfactual.to_numpy()[i]
        assert sorted(p[2:]) == [0.0, 1.0] and cf.frame.valid[i]
        np.testing.assert_allclose(cf.frame.cost[i], expect, **MARGIN_TOL)
    # an immutable group keeps its category
    cf = counterfactual(net, X, box=(lo, hi), constraints={"one_hot": groups,
                                                           "immutable": ["cat"]})
    found = cf.frame.status == "found"
    assert (cf.counterfactual[found][["cat_a", "cat_b"]].to_numpy() == [1.0, 0.0]).all()


def test_threshold_audit_and_changes_table(tmp_path):
    net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), [-1.0]], output="sigmoid",
                      feature_names=["income", "savings"])
    X = pd.DataFrame({"income": [0.2, 0.9, 0.1, 0.6], "savings": [0.3, 0.5, 0.1, 0.0],
                      "region": ["n", "s", "n", "s"]})
    # P(class 1) >= 0.8 needs x0 + x1 - 1 >= logit(0.8)
    cf = counterfactual(net, X[["income", "savings"]].iloc[[0]], target=1, threshold=0.8,
                        weights=[1.0, 1.0], box=([0, 0], [3, 3]))
    np.testing.assert_allclose(cf.frame.cost[0], 1 + np.log(4) - 0.5, atol=1e-5)
    assert cf.frame.probability_after[0] >= 0.8
    ch = cf.changes()
    assert set(ch.columns) == {"row", "feature", "original", "counterfactual", "delta"}
    np.testing.assert_allclose(ch.delta.sum(), cf.frame.cost[0], atol=1e-9)
    audit = recourse_audit(net, X, favorable=1, group="region", weights=[1.0, 1.0],
                           box=([0, 0], [1, 0.3]))
    s = audit.summary
    # declined: rows 0, 2, 3 (sums 0.5, 0.2, 0.6); within the box only income <= 1,
    # savings <= 0.3 can flip: row 2 needs 1.1 > 1 + 0.3 - ... feasible iff max sum 1.3 > 1
    assert s.loc["all", "n_declined"] == 3 and s.loc["n", "n_declined"] == 2
    assert s.loc["all", "share_feasible"] == 1.0
    np.testing.assert_allclose(s.loc["s", "cost_mean"], 0.4, atol=1e-5)
    path = tmp_path / "c.json"
    path.write_text('{"immutable": ["income"], "bounds": {"savings": [0, 0.4]}}')
    cons = load_constraints(path)
    cf = counterfactual(net, X[["income", "savings"]].iloc[[0]], constraints=cons,
                        weights=[1.0, 1.0], box=([0, 0], [3, 3]))
    assert cf.frame.status[0] == "infeasible"  # 0.2 + 0.4 <= 1


def test_bad_input():
    net = random_net(1)
    X = np.zeros((2, 2))
    with pytest.raises(ValueError, match="unknown feature"):
        counterfactual(net, X, constraints={"immutable": ["zzz"]}, box=([-1, -1], [1, 1]))
    with pytest.raises(ValueError, match="Unknown constraint"):
        counterfactual(net, X, constraints={"frozen": ["x0"]}, box=([-1, -1], [1, 1]))
    with pytest.raises(ValueError, match="cost|norm"):
        counterfactual(net, X, cost="l2", box=([-1, -1], [1, 1]))
    with pytest.raises(ValueError, match="target"):
        counterfactual(net, X, target=2, box=([-1, -1], [1, 1]))
    with pytest.raises(ValueError, match="threshold"):
        counterfactual(net, X, threshold=1.5, box=([-1, -1], [1, 1]))
    with pytest.raises(ValueError, match="data"):
        counterfactual(net, X[:1])
    with pytest.raises(ValueError, match="weights"):
        counterfactual(net, X, weights=[1.0], box=([-1, -1], [1, 1]))


@pytest.mark.parametrize("bounds, message", [
    ({"a": "x"}, r"constraints\['bounds'\]\['a'\] must be \[lower, upper\]; got 'x'"),
    ({"a": [1.0]}, r"must be \[lower, upper\]"),
    ({"a": [2.0, 1.0]}, r"constraints\['bounds'\]\['a'\]: lower 2.0 > upper 1.0"),
])
def test_malformed_bounds_are_refused_naming_the_feature(bounds, message):
    net = random_net(0).with_feature_names(["a", "b"])
    X = np.array([[0.1, 0.2], [0.5, -0.3], [1.0, 1.0]])
    with pytest.raises(ValueError, match=message):
        counterfactual(net, X, constraints={"bounds": bounds})


HOSTILE_CONSTRAINTS = [
    ("deep.json", lambda p: p.write_text("[" * 100_000 + "]" * 100_000),
     "nests its JSON too deeply"),
    ("zero.json", lambda p: p.symlink_to("/dev/zero"), "not a regular file"),
    ("big.json", lambda p: p.write_text('{"immutable": [' + ", ".join(['"x0"'] * 300_000)
                                        + "]}"), "over 1,048,576 bytes"),
    ("latin.json", lambda p: p.write_bytes('{"immutable": ["âge"]}'.encode("latin-1")),
     "not UTF-8"),
    ("c.yaml", lambda p: p.write_text("immutable: [x0\n"), "not valid YAML"),
]


@pytest.mark.parametrize("name, write, message", HOSTILE_CONSTRAINTS)
def test_hostile_constraints_files_are_refused_with_a_message(tmp_path, name, write, message):
    """Constraints files come from other teams: deep nesting, a device behind a link, an
    oversized file (over 1 MiB), bytes that are not UTF-8 and broken YAML each get a
    ValueError naming the file (before: a RecursionError escaped, and /dev/zero was read
    forever)."""
    path = tmp_path / name
    write(path)
    with pytest.raises(ValueError, match=message) as exc:
        load_constraints(path)
    assert name in str(exc.value)


def test_a_good_yaml_constraints_file_still_loads(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("immutable: [x0]\n")
    assert load_constraints(path).immutable == ["x0"]
