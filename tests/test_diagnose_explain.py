"""ALE, H-statistic, PDP and permutation importance on functions with known answers."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_network

from glassnet import ReluNetwork
from glassnet import diagnose as D


class _Fn:
    """A regressor given by a formula (anything with ``predict`` is a model to diagnose)."""

    def __init__(self, f):
        self.f = f

    def predict(self, X):
        return self.f(np.asarray(X, dtype=np.float64))


def _linear_net(b):
    """ReLU network computing exactly ``b @ x``: relu(x) - relu(-x) = x."""
    d = len(b)
    W1 = np.vstack([np.eye(d), -np.eye(d)])
    W2 = np.concatenate([b, -np.asarray(b)])[None, :]
    return ReluNetwork([W1, W2], [np.zeros(2 * d), np.zeros(1)])


def test_ale_of_a_linear_function_is_the_line():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    X[:, 1] = X[:, 0] + 0.1 * rng.normal(size=300)  # correlated features: ALE stays exact
    b = np.array([2.0, -1.0, 0.5])
    a = D.ale(_linear_net(b), X, 0, n_bins=10)
    np.testing.assert_allclose(np.diff(a["ale"]), b[0] * np.diff(a["grid"]), atol=1e-12)
    # centred: the row-weighted mean of the effect is zero
    k = np.clip(np.searchsorted(a["grid"], X[:, 0], side="left"), 1, len(a) - 1)
    assert np.mean(a["ale"].to_numpy()[k]) == pytest.approx(0.0, abs=1e-12)
    assert a["n"].sum() == 300


def test_ale_matches_the_definition_on_a_random_network():
    rng = np.random.default_rng(1)
    net = random_network(rng, 2, (8, 6), 1)
    X = rng.uniform(-1, 1, size=(120, 2))
    a = D.ale(net, X, 1, n_bins=5)
    z = np.quantile(X[:, 1], np.linspace(0, 1, 6))
    g = [0.0]
    for k in range(1, 6):
        rows = X[(X[:, 1] > z[k - 1]) & (X[:, 1] <= z[k])] if k > 1 else X[X[:, 1] <= z[1]]
        hi, lo = rows.copy(), rows.copy()
        hi[:, 1], lo[:, 1] = z[k], z[k - 1]
        g.append(g[-1] + np.mean(net.predict_output(hi)[:, 0] - net.predict_output(lo)[:, 0]))
    g = np.array(g)
    counts = np.array([np.sum(X[:, 1] <= z[1])] + [
        np.sum((X[:, 1] > z[k - 1]) & (X[:, 1] <= z[k])) for k in range(2, 6)])
    np.testing.assert_allclose(a["ale"], g - np.sum(counts * g[1:]) / 120, atol=1e-12)


def test_h_statistic_additive_is_zero_and_product_is_known():
    rng = np.random.default_rng(2)
    X = rng.uniform(size=(150, 3))
    add = D.h_statistic(_Fn(lambda A: np.sin(3 * A[:, 0]) + A[:, 1] ** 2 + A[:, 2]), X)
    np.testing.assert_allclose(add["h2"], 0.0, atol=1e-20)
    prod = D.h_statistic(_Fn(lambda A: A[:, 0] * A[:, 1]), X, [0, 1])
    # on the sample, with centred PDs: PD_12 - PD_1 - PD_2 = (x1 - m1)(x2 - m2) - cov,
    # PD_12 = x1 x2 - mean(x1 x2)
    x1, x2 = X[:, 0], X[:, 1]
    cross = (x1 - x1.mean()) * (x2 - x2.mean())
    num = np.sum((cross - cross.mean()) ** 2)
    den = np.sum((x1 * x2 - np.mean(x1 * x2)) ** 2)
    assert prod["h2"].iloc[0] == pytest.approx(num / den, rel=1e-10)
    # population value for independent U(0, 1): Var(x1) Var(x2) / Var(x1 x2) = 1/7
    big = D.h_statistic(_Fn(lambda A: A[:, 0] * A[:, 1]), rng.uniform(size=(400, 2)),
                        n_samples=400)
    assert big["h2"].iloc[0] == pytest.approx(1 / 7, abs=0.03)


def test_partial_dependence_of_a_network_is_the_brute_force_average():
    rng = np.random.default_rng(3)
    net = random_network(rng, 3, (6,), 1, output="sigmoid")
    X = rng.normal(size=(60, 3))
    res = D.partial_dependence(net, X, [2], grid_resolution=7, kind="both")
    for v, avg, ind in zip(res["grid_values"][0], res["average"][0], res["individual"][0].T,
                           strict=True):
        Z = X.copy()
        Z[:, 2] = v
        p = net.predict_output(Z)[:, 0]
        assert avg == pytest.approx(p.mean())
        np.testing.assert_allclose(ind, p)


def test_permutation_importance_ignores_unused_features():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 3))
    y = 3 * X[:, 0] + 0.1 * rng.normal(size=300)
    net = _linear_net(np.array([3.0, 0.0, 0.0]))
    pi = D.permutation_importance(net, X, y, metric="rmse", n_repeats=3).set_index("feature")
    assert pi.loc["x1", "importance_mean"] == 0.0 and pi.loc["x2", "importance_mean"] == 0.0
    # shuffling x0 raises the RMSE from about 0.1 to about 3 sqrt(2 var(x0))
    assert pi.loc["x0", "importance_mean"] > 3.0
    with pytest.raises(ValueError, match="metric"):
        D.permutation_importance(net, X, y, metric="auroc")
