"""min_flip_distance: exact smallest decision-changing perturbation.

Oracle: brute force over every activation pattern of a small network, one linear program
per pattern (scipy.optimize.linprog): the nearest point of the pattern's region (closure,
from the weights directly) where the pattern's linear model gives the other decision.
"""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from glassnet import ReluNetwork
from glassnet.decisions import min_flip_distance


def random_net(seed, d=2, hidden=(3, 3), output="sigmoid", k=1):
    rng = np.random.default_rng(seed)
    sizes = [d, *hidden, k]
    W = [rng.normal(size=(sizes[i + 1], sizes[i])) for i in range(len(sizes) - 1)]
    b = [rng.normal(size=sizes[i + 1]) for i in range(len(sizes) - 1)]
    return ReluNetwork(W, b, output=output)


def pattern_maps(net, pattern):
    """Affine pre-activations A x + c of every neuron and the output map, from the weights."""
    A, c, rows_A, rows_c = np.eye(net.n_features), np.zeros(net.n_features), [], []
    off = 0
    for W, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
        zA, zc = W @ A, W @ c + b
        rows_A.append(zA)
        rows_c.append(zc)
        on = np.asarray(pattern[off : off + W.shape[0]], dtype=float)
        A, c = zA * on[:, None], zc * on
        off += W.shape[0]
    G, g = net.weights[-1] @ A, net.weights[-1] @ c + net.biases[-1]
    return np.vstack(rows_A), np.concatenate(rows_c), G, g


def brute_force_flip(net, x0, lo, hi, norm):
    d, H = net.n_features, net.n_hidden
    c0 = int(net.forward(x0[None])[0, 0] > 0)
    best = np.inf
    for pat in itertools.product([0, 1], repeat=H):
        A, c, G, g = pattern_maps(net, pat)
        sgn = np.where(np.asarray(pat) == 1, -1.0, 1.0)  # on: -(Ax+c) <= 0; off: Ax+c <= 0
        rows = [np.c_[sgn[:, None] * A, np.zeros((H, d if norm == "l1" else 1))]]
        rhs = [-sgn * c]
        # the other decision: class 1 needs G x + g >= 0, class 0 needs G x + g <= 0
        s = -1.0 if c0 == 0 else 1.0
        rows.append(np.c_[s * G, np.zeros((1, d if norm == "l1" else 1))])
        rhs.append(np.array([-s * g[0]]))
        if norm == "linf":  # x - t <= x0, -x - t <= -x0
            rows += [np.c_[np.eye(d), -np.ones((d, 1))], np.c_[-np.eye(d), -np.ones((d, 1))]]
            cost = np.r_[np.zeros(d), 1.0]
            extra = [(0, None)]
        else:  # x - e <= x0, -x - e <= -x0
            rows += [np.c_[np.eye(d), -np.eye(d)], np.c_[-np.eye(d), -np.eye(d)]]
            cost = np.r_[np.zeros(d), np.ones(d)]
            extra = [(0, None)] * d
        rhs += [x0, -x0]
        res = linprog(cost, A_ub=np.vstack(rows), b_ub=np.concatenate(rhs),
                      bounds=[*zip(lo, hi, strict=True), *extra], method="highs")
        if res.status == 0:
            best = min(best, res.fun)
    return best


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), norm=st.sampled_from(["linf", "l1"]))
def test_matches_brute_force_over_patterns(seed, norm):
    net = random_net(seed)
    rng = np.random.default_rng(seed)
    lo, hi = -np.full(2, 3.0), np.full(2, 3.0)
    X = rng.uniform(-2.5, 2.5, size=(2, 2))
    dist, pts = min_flip_distance(net, X, norm=norm, box=(lo, hi), return_points=True)
    for i in range(2):
        expect = brute_force_flip(net, X[i], lo, hi, norm)
        if np.isinf(expect):
            assert np.isinf(dist[i])
            continue
        np.testing.assert_allclose(dist[i], expect, rtol=1e-6, atol=1e-7)
        # the returned point is in the box, at that distance, and has the other decision
        assert ((pts[i] >= lo - 1e-9) & (pts[i] <= hi + 1e-9)).all()
        cls = net.forward(np.vstack([X[i], pts[i]]))[:, 0] > 0
        assert cls[0] != cls[1]
        gap = np.abs(pts[i] - X[i])
        np.testing.assert_allclose(gap.max() if norm == "linf" else gap.sum(), expect,
                                   rtol=1e-5, atol=1e-6)


def test_unbounded_search_finds_the_global_minimum():
    # decision x0 + x1 > 1 (identity hidden layer on the positive quadrant)
    net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), [-1.0]], output="sigmoid")
    X = np.array([[0.0, 0.0], [3.0, 3.0], [0.2, 0.1]])
    np.testing.assert_allclose(min_flip_distance(net, X), [0.5, 2.5, 0.35], atol=1e-9)
    np.testing.assert_allclose(min_flip_distance(net, X, norm="l1"), [1.0, 5.0, 0.7], atol=1e-9)
    # far away: the row needs a large box; the growing search still finds it
    far = np.array([[-1000.0, -1000.0]])
    np.testing.assert_allclose(min_flip_distance(net, far), [1000.5], rtol=1e-9)
    # a network that never says class 1 has no flip anywhere
    never = ReluNetwork([np.eye(2), -np.ones((1, 2))], [np.zeros(2), [-1.0]], output="sigmoid")
    assert np.isinf(min_flip_distance(never, X)).all()


def test_multiclass_flip_and_regression_refused():
    net = random_net(4, output="softmax", k=3)
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(4, 2))
    lo, hi = -np.full(2, 3.0), np.full(2, 3.0)
    dist, pts = min_flip_distance(net, X, box=(lo, hi), return_points=True)
    # dense grid oracle: no grid point with another class is closer than the MILP distance
    g = np.linspace(-3, 3, 301)
    G = np.array(np.meshgrid(g, g)).reshape(2, -1).T
    cg = net.forward(G).argmax(1)
    for i in range(4):
        c = net.forward(X[i : i + 1]).argmax()
        assert net.forward(pts[i : i + 1]).argmax() != c
        other = G[cg != c]
        nearest = np.abs(other - X[i]).max(axis=1).min()
        assert dist[i] <= nearest + 1e-9 and dist[i] >= nearest - 0.02 - 1e-9
    with pytest.raises(ValueError, match="regression"):
        min_flip_distance(random_net(1, output="identity"), X)
    with pytest.raises(ValueError, match="norm"):
        min_flip_distance(net, X, norm="l2")
    with pytest.raises(ValueError, match="box"):
        min_flip_distance(net, X, box=[[0, 0, 0], [1, 1, 1]])
