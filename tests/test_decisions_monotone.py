"""Output bounds and monotonicity certificates (glassnet.decisions.monotone).

Oracles: brute force over every activation pattern of a small network with linprog (the
region's closure from the weights, intersected with the box; interior tested by the
largest slack), and dense sampling.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from glassnet import ReluNetwork
from glassnet.decisions import certify_monotone, monotonicity_table, output_bounds
from glassnet.decisions._milp import interval_bounds


def random_net(seed, d=2, hidden=(3, 3), output="identity"):
    rng = np.random.default_rng(seed)
    sizes = [d, *hidden, 1]
    W = [rng.normal(size=(sizes[i + 1], sizes[i])) for i in range(len(sizes) - 1)]
    b = [rng.normal(size=sizes[i + 1]) for i in range(len(sizes) - 1)]
    return ReluNetwork(W, b, output=output)


def regions_in_box(net, lo, hi):
    """(neuron rows, offsets, output coef, output intercept, has interior) per pattern."""
    out = []
    d = net.n_features
    for pat in itertools.product([0, 1], repeat=net.n_hidden):
        A, c, rows_A, rows_c, off = np.eye(d), np.zeros(d), [], [], 0
        for W, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
            zA, zc = W @ A, W @ c + b
            rows_A.append(zA)
            rows_c.append(zc)
            on = np.asarray(pat[off : off + W.shape[0]], dtype=float)
            A, c = zA * on[:, None], zc * on
            off += W.shape[0]
        NA, Nc = np.vstack(rows_A), np.concatenate(rows_c)
        G, g = net.weights[-1] @ A, net.weights[-1] @ c + net.biases[-1]
        sgn = np.where(np.asarray(pat) == 1, -1.0, 1.0)
        out.append((sgn[:, None] * NA, -sgn * Nc, G[0], g[0]))
    return out


def brute_bounds(net, lo, hi):
    low, up = np.inf, -np.inf
    for A_ub, b_ub, G, g in regions_in_box(net, lo, hi):
        for s in (1.0, -1.0):
            r = linprog(s * G, A_ub=A_ub, b_ub=b_ub, bounds=list(zip(lo, hi, strict=True)),
                        method="highs")
            if r.status == 0:
                val = s * r.fun + g
                low, up = min(low, val), max(up, val)
    return low, up


def brute_monotone(net, j, lo, hi):
    """Signs of coef_j over the regions with an interior point inside the box."""
    signs = []
    d = net.n_features
    for A_ub, b_ub, G, _ in regions_in_box(net, lo, hi):
        # maximise slack s: A_ub x + s <= b_ub (all neurons strictly inside), s <= 1
        norms = np.linalg.norm(A_ub, axis=1)
        r = linprog(np.r_[np.zeros(d), -1.0], A_ub=np.c_[A_ub, norms], b_ub=b_ub,
                    bounds=[*zip(lo, hi, strict=True), (None, 1.0)], method="highs")
        if r.status == 0 and -r.fun > 1e-9:
            signs.append(G[j])
    return np.array(signs)


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_output_bounds_match_brute_force_and_sampling(seed):
    net = random_net(seed)
    lo, hi = np.array([-2.0, -1.0]), np.array([1.5, 2.5])
    b = output_bounds(net, (lo, hi))
    low, up = brute_bounds(net, lo, hi)
    np.testing.assert_allclose([b.lower[0], b.upper[0]], [low, up], rtol=1e-7, atol=1e-7)
    # attained at points in the box
    np.testing.assert_allclose(net.forward(np.vstack([b.argmin[0], b.argmax[0]]))[:, 0],
                               [b.lower[0], b.upper[0]], atol=1e-9)
    g = np.random.default_rng(seed).uniform(lo, hi, size=(4000, 2))
    f = net.forward(g)[:, 0]
    assert f.min() >= b.lower[0] - 1e-9 and f.max() <= b.upper[0] + 1e-9


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 10_000), j=st.integers(0, 1))
def test_certificates_agree_with_brute_force(seed, j):
    net = random_net(seed)
    lo, hi = np.array([-2.0, -2.0]), np.array([2.0, 2.0])
    signs = brute_monotone(net, j, lo, hi)
    for direction, bad in (("increasing", signs < -1e-9), ("decreasing", signs > 1e-9)):
        cert = certify_monotone(net, j, box=(lo, hi), direction=direction)
        assert cert.status == ("violated" if bad.any() else "certified"), (direction, signs)
        if cert.status == "violated":
            xa, xb = cert.counterexample
            assert np.array_equal(np.delete(xa, j), np.delete(xb, j)) and xb[j] >= xa[j]
            assert ((xa >= lo) & (xa <= hi) & (xb >= lo) & (xb <= hi)).all()
            fa, fb = net.forward(np.vstack([xa, xb]))[:, 0]
            assert (fb < fa) if direction == "increasing" else (fb > fa)


def test_monotone_network_is_certified_and_table_reports_both_sides():
    # f = relu(x0) + 2 relu(x0 - 1) - relu(x1): increasing in x0, decreasing in x1,
    # and x2 enters as relu(x2) - relu(x2 - 1) + ... a bump, so neither
    W0 = np.array([[1.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [0, 0, 1.0]])
    b0 = np.array([0.0, -1.0, 0.0, 0.0, -1.0])
    W1 = np.array([[1.0, 2.0, -1.0, 1.0, -2.0]])
    net = ReluNetwork([W0, W1], [b0, np.zeros(1)], output="sigmoid",
                      feature_names=["income", "age", "util"])
    X = np.random.default_rng(0).uniform(-2, 3, size=(300, 3))
    tab = monotonicity_table(net, X)
    assert list(tab.certified) == ["increasing", "decreasing", "neither"]
    assert list(tab.data_sign) == ["increasing", "decreasing", "mixed"]
    assert "util" in tab.loc["util", "counterexample"]
    assert tab.loc["util", "worst_increase_violation"] < 0
    assert tab.loc["income", "worst_increase_violation"] == 0
    # from the data's regions (no MILP): a verified pair inside the data box
    c = certify_monotone(net, "util", X)
    xa, xb = c.counterexample
    assert c.status == "violated" and xb[2] > xa[2] and np.array_equal(xa[:2], xb[:2])
    assert ((xb >= X.min(0)) & (xb <= X.max(0))).all()
    fa, fb = net.forward(np.vstack([xa, xb]))[:, 0]
    assert fb < fa and (fa, fb) == c.outputs
    # the data-only summary: share of rows in regions where util's coefficient is negative
    np.testing.assert_allclose(tab.loc["util", "share_rows_negative"], np.mean(X[:, 2] > 1))


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), norm=st.sampled_from(["l1", "linf"]),
       radius=st.floats(0.05, 3.0))
def test_tightened_big_m_bounds_hold_at_sampled_points(seed, norm, radius):
    """The MILP is exact only if its big-M bounds are valid: sample the box and the ball."""
    net = random_net(seed, d=3, hidden=(6, 5, 4))
    rng = np.random.default_rng(seed)
    lo, hi = -np.ones(3) * 2, np.ones(3) * 2
    x0, w = rng.uniform(-1, 1, size=3), rng.uniform(0.5, 2, size=3)
    S = rng.uniform(-1, 1, size=(20000, 3))
    S *= (radius / ((np.abs(S) * w).sum(1) if norm == "l1" else (np.abs(S) * w).max(1)))[:, None]
    S *= rng.uniform(0, 1, size=(20000, 1))
    P = np.clip(x0 + S, lo, hi)
    for ball, pts in ((None, rng.uniform(lo, hi, size=(20000, 3))), ((x0, w, radius, norm), P)):
        zs = net.pre_activations(pts)
        for (zl, zu), z in zip(interval_bounds(net, lo, hi, tighten=True, ball=ball), zs,
                               strict=True):
            assert (z >= zl - 1e-9).all() and (z <= zu + 1e-9).all()


def test_bad_arguments():
    net = random_net(0)
    with pytest.raises(ValueError, match="box"):
        output_bounds(net)
    with pytest.raises(ValueError, match="inverted"):
        output_bounds(net, ([1.0, 0.0], [0.0, 1.0]))
    with pytest.raises(ValueError, match="direction"):
        certify_monotone(net, 0, box=([0, 0], [1, 1]), direction="up")
    with pytest.raises(ValueError, match="feature"):
        certify_monotone(net, "zzz", box=([0, 0], [1, 1]))
    with pytest.raises(ValueError, match="output"):
        certify_monotone(net, 0, box=([0, 0], [1, 1]), output=3)
