"""Robustness (random and exact worst case) and resilience against forward passes and sampling."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_network
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import log_loss, roc_auc_score

from glassnet import ReluNetwork
from glassnet import diagnose as D


def _decision(net, X):
    return net.forward(X)[:, 0] > 0


def test_flip_radius_of_a_linear_rule_in_std_units():
    # decision x0 > 0.5 (the second feature is ignored): the radius is |x0 - 0.5| / std0
    net = ReluNetwork([np.array([[1.0, 0.0], [-1.0, 0.0]]), np.array([[1.0, -1.0]])],
                      [np.zeros(2), np.array([-0.5])], output="sigmoid")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12, 2)) * np.array([2.0, 0.3])
    d_raw = D.worst_case_flip(net, X, scale=None)
    np.testing.assert_allclose(d_raw, np.abs(X[:, 0] - 0.5), atol=1e-7)
    d_std = D.worst_case_flip(net, X)
    np.testing.assert_allclose(d_std, np.abs(X[:, 0] - 0.5) / X[:, 0].std(), atol=1e-7)
    # searching only within a radius: the same distances inside it, inf beyond
    d_r = D.worst_case_flip(net, X, radius=0.3)
    np.testing.assert_allclose(d_r, np.where(d_std <= 0.3, d_std, np.inf), atol=1e-7)


def test_exact_radius_verified_by_forward_passes_and_dense_sampling():
    from glassnet.decisions import min_flip_distance

    rng = np.random.default_rng(1)
    net = random_network(rng, 2, (6, 4), 1, output="sigmoid")
    X = rng.normal(size=(6, 2)) * np.array([1.0, 3.0])
    s = X.std(axis=0)
    d = D.worst_case_flip(net, X)
    assert np.all(d > 0)
    # the returned radius is attained: H4's closest point, mapped back to raw units, lies on
    # the decision boundary at exactly that std-scaled distance
    scaled = ReluNetwork([net.weights[0] * s, *net.weights[1:]], list(net.biases),
                         output="sigmoid")
    dz, pz = min_flip_distance(scaled, X / s, return_points=True)
    np.testing.assert_allclose(d, dz)
    for x0, r, p in zip(X, d, pz * s, strict=True):
        if not np.isfinite(r):
            continue
        assert np.max(np.abs(p - x0) / s) == pytest.approx(r, rel=1e-6, abs=1e-9)
        assert abs(net.forward(p[None])[0, 0]) < 1e-6
        # no point strictly inside the ball changes the decision (dense sampling + corners)
        u = rng.uniform(-1, 1, size=(4000, 2))
        corners = np.array([[1, 1], [1, -1], [-1, 1], [-1, -1]], dtype=float)
        P = x0 + 0.999 * r * s * np.vstack([u, corners])
        assert np.all(_decision(net, P) == _decision(net, x0[None])[0])


def test_random_flip_rate_never_exceeds_the_exact_share():
    rng = np.random.default_rng(2)
    net = random_network(rng, 3, (6,), 1, output="sigmoid")
    X = rng.normal(size=(24, 3))
    y = (rng.uniform(size=24) < net.predict_output(X)[:, 0]).astype(int)
    sizes = (0.0, 0.1, 0.3, 0.6)
    r = D.robustness(net, X, y, sizes=sizes, noise="uniform", n_repeats=5, max_exact_rows=24)
    assert r.exact["n_rows"].iloc[0] == 24
    assert np.all(r.random["flip_rate"].to_numpy() <= r.exact["share_flippable"].to_numpy())
    np.testing.assert_allclose(r.exact["share_flippable"],
                               [np.mean(r.distances <= s) for s in sizes])
    # nothing timed out: the bounds over all rows coincide with the share
    assert r.exact["n_timed_out"].iloc[0] == 0
    np.testing.assert_allclose(r.exact["share_flippable_lo"], r.exact["share_flippable"])
    np.testing.assert_allclose(r.exact["share_flippable_hi"], r.exact["share_flippable"])
    assert r.random["auc_mean"].iloc[0] == pytest.approx(
        roc_auc_score(y, net.predict_output(X)[:, 0]))
    assert r.random["flip_rate"].iloc[0] == 0.0
    # noise on one feature only: the others are untouched, so a net ignoring it never flips
    lin = ReluNetwork([np.array([[1.0, 0, 0], [-1.0, 0, 0]]), np.array([[1.0, -1.0]])],
                      [np.zeros(2), np.zeros(1)], output="sigmoid")
    r2 = D.robustness(lin, X, y, features=[1, 2], sizes=(0.5,), exact=False, n_repeats=3)
    assert r2.random["flip_rate"].iloc[0] == 0.0 and r2.exact is None
    with pytest.raises(ValueError, match="noise"):
        D.robustness(net, X, y, noise="laplace")


def test_resilience_worst_rows_and_psi_by_hand():
    rng = np.random.default_rng(3)
    net = random_network(rng, 2, (6,), 1, output="sigmoid")
    X = rng.normal(size=(200, 2))
    p = net.predict_output(X)[:, 0]
    y = (rng.uniform(size=200) < p).astype(int)
    r = D.resilience(net, X, y, shares=(0.25, 1.0), psi_share=0.25, metric="log_loss",
                     shift_features=[0], deltas=(1.0,))
    loss = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    worst = np.argsort(-loss)[:50]
    assert r.worst["log_loss"].iloc[0] == pytest.approx(log_loss(y[worst], p[worst],
                                                                 labels=[0, 1]))
    assert r.worst["log_loss"].iloc[1] == pytest.approx(log_loss(y, p))
    # PSI of x1: the rest is the reference, 10 quantile bins of it
    mask = np.zeros(200, bool)
    mask[worst] = True
    ref, act = X[~mask, 1], X[mask, 1]
    edges = np.quantile(ref, np.arange(1, 10) / 10)
    e = np.maximum(np.bincount(np.searchsorted(edges, ref, side="right"), minlength=10) / 150,
                   1e-4)
    a = np.maximum(np.bincount(np.searchsorted(edges, act, side="right"), minlength=10) / 50,
                   1e-4)
    assert r.psi.set_index("feature").loc["x1", "psi"] == pytest.approx(
        np.sum((a - e) * np.log(a / e)))
    # a shift of every row by one std of x0
    Z = X.copy()
    Z[:, 0] += X[:, 0].std()
    row = r.shift.iloc[0]
    assert row["log_loss"] == pytest.approx(log_loss(y, net.predict_output(Z)[:, 0]))
    assert row["change"] == pytest.approx(row["log_loss"] - log_loss(y, p))


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10_000), st.booleans())
def test_flip_radius_hypothesis_small_networks(seed, near_boundary):
    rng = np.random.default_rng(seed)
    net = random_network(rng, 2, (4,), 1, output="sigmoid")
    X = rng.normal(size=(3, 2))
    if near_boundary:
        # move the first row onto a first-layer neuron's hyperplane, then 1e-9 off it
        w, b = net.weights[0][0], net.biases[0][0]
        X[0] = X[0] - (w @ X[0] + b) / (w @ w) * w + 1e-9 * w
    s = X.std(axis=0)
    d = D.worst_case_flip(net, X)
    d_r = D.worst_case_flip(net, X, radius=0.5)
    np.testing.assert_allclose(d_r, np.where(d <= 0.5, d, np.inf), rtol=1e-6, atol=1e-8)
    for x0, r in zip(X, d, strict=True):
        if np.isfinite(r) and r > 1e-9:
            P = x0 + 0.999 * r * s * rng.uniform(-1, 1, size=(2000, 2))
            assert np.all(_decision(net, P) == _decision(net, x0[None])[0])
