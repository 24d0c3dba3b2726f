"""Split-conformal reliability: coverage at least nominal on held-out rows; sets by definition."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_network
from sklearn.calibration import calibration_curve
from sklearn.linear_model import LogisticRegression

from glassnet import diagnose as D


def test_classification_coverage_is_at_least_nominal_over_splits():
    # the network is the true probability: labels drawn from it, so rows are exchangeable
    rng = np.random.default_rng(0)
    net = random_network(rng, 3, (8,), 1, output="sigmoid")
    covs, alpha = [], 0.2
    for _ in range(40):
        X = rng.normal(size=(300, 3))
        y = (rng.uniform(size=300) < net.predict_output(X)[:, 0]).astype(int)
        r = D.reliability(net, X[:100], y[:100], X[100:], y[100:], alpha=alpha)
        covs.append(r.summary["coverage"].iloc[0])
    # marginal guarantee: E[coverage] >= 1 - alpha; 40 splits x 200 rows, sd about 0.005
    assert np.mean(covs) >= 1 - alpha - 0.01


def test_classification_sets_match_the_definition():
    rng = np.random.default_rng(1)
    net = random_network(rng, 2, (6,), 3, output="softmax")
    X = rng.normal(size=(250, 2))
    P = net.predict_output(X)
    y = np.array([rng.choice(3, p=p) for p in P])
    alpha = 0.1
    r = D.reliability(net, X[:100], y[:100], X[100:], y[100:], alpha=alpha)
    s = np.sort(1 - P[np.arange(100), y[:100]])
    q = s[int(np.ceil(101 * (1 - alpha))) - 1]
    expected = (1 - P[100:]) <= q
    np.testing.assert_array_equal(r.sets, expected)
    cover = expected[np.arange(150), y[100:]].mean()
    assert r.summary["coverage"].iloc[0] == pytest.approx(cover)
    assert r.summary["bandwidth"].iloc[0] == pytest.approx(expected.sum(1).mean())
    assert r.calibration is None and r.brier is None


def test_regression_intervals_cover_and_have_width_2q():
    rng = np.random.default_rng(2)
    net = random_network(rng, 2, (6,), 1)
    covs = []
    for _ in range(200):
        X = rng.normal(size=(300, 2))
        y = net.predict_output(X)[:, 0] + rng.standard_t(3, size=300)
        r = D.reliability(net, X[:100], y[:100], X[100:], y[100:], alpha=0.1)
        res = np.sort(np.abs(y[:100] - net.predict_output(X[:100])[:, 0]))
        q = res[int(np.ceil(101 * 0.9)) - 1]
        assert r.summary["bandwidth"].iloc[0] == pytest.approx(2 * q)
        covs.append(r.summary["coverage"].iloc[0])
    # E[coverage] = ceil(101 * 0.9) / 101 = 0.901; the mean of 200 splits has sd about 0.0025
    assert np.mean(covs) >= 0.9 - 0.0075


def test_calibration_slices_and_brier_on_binary():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(600, 2))
    y = (rng.uniform(size=600) < 1 / (1 + np.exp(-X[:, 0]))).astype(int)
    model = LogisticRegression().fit(X[:200], y[:200])
    r = D.reliability(model, X[200:400], y[200:400], X[400:], y[400:], slice_features=[0],
                      bins=4, min_samples=1)
    p = model.predict_proba(X[400:])[:, 1]
    true, pred = calibration_curve(y[400:], p, n_bins=10)
    np.testing.assert_allclose(r.calibration["observed_rate"], true)
    np.testing.assert_allclose(r.calibration["mean_predicted"], pred)
    assert r.brier.brier == pytest.approx(np.mean((p - y[400:]) ** 2))
    # per-slice coverage is the mean of the covered indicator in that slice
    covered = r.sets[np.arange(200), y[400:]]
    x = X[400:, 0]
    first = x < np.linspace(x.min(), x.max(), 5)[1]
    assert r.by_slice["coverage"].iloc[0] == pytest.approx(covered[first].mean())
    assert r.by_slice["n"].sum() == 200
    with pytest.raises(ValueError, match="alpha"):
        D.reliability(model, X[:10], y[:10], X[10:20], y[10:20], alpha=1.5)
    with pytest.raises(ValueError, match="not among the model's classes"):
        D.reliability(model, X[:10], y[:10] + 5, X[10:20], y[10:20])
