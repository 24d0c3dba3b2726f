"""The mixture's defaults, the automatic choices and the package layout (glassnet.mlm)."""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import multivariate_normal
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

import glassnet.mlm
from glassnet.mlm import MixtureOfLinearModels
from glassnet.mlm import _linear as lin
from glassnet.mlm._epics import cell_posterior_terms, merged_posterior, merged_start


def _data(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 3))
    y = np.sin(2 * X[:, 0]) + X[:, 1] * np.abs(X[:, 2]) + 0.05 * rng.standard_normal(n)
    return X, y


@pytest.fixture(scope="module")
def reg():
    X, y = _data(300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        net = MLPRegressor(hidden_layer_sizes=(8, 8), activation="tanh", max_iter=300,
                           random_state=0).fit(X, y)
    return X, y, net


def test_auto_layer_clusters_follow_the_documented_rule(reg):
    X, y, net = reg
    mlm = MixtureOfLinearModels(net, n_perturb=5, n_epics=3, random_state=0).fit(X, y)
    # regression: min(100, ceil(sqrt(300))) = 18 k-means clusters in every hidden layer
    assert [type(c) for c in mlm.layer_clusterers_] == [KMeans, KMeans]
    assert [c.n_clusters for c in mlm.layer_clusterers_] == [18, 18]
    # classification: capped at 16 even though sqrt(300) > 16
    yb = (y > np.median(y)).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(8, 8), max_iter=300, random_state=0).fit(X, yb)
    mlm = MixtureOfLinearModels(clf, n_perturb=5, n_epics=2, random_state=0).fit(X, yb)
    assert [c.n_clusters for c in mlm.layer_clusterers_] == [16, 16]
    # tiny data: never more clusters than rows
    mlm = MixtureOfLinearModels(net, n_perturb=5, n_epics=1, random_state=0).fit(X[:3], y[:3])
    assert [c.n_clusters for c in mlm.layer_clusterers_] == [2, 2]


def test_defaults_are_the_documented_ones(reg):
    params = MixtureOfLinearModels(reg[2]).get_params()
    assert params["clustering"] == "kmeans" and params["n_layer_clusters"] == "auto"
    assert params["n_perturb"] == 100 and params["perturb_var"] == 1e-2
    assert params["n_epics"] == "auto" and params["selection_tol"] == 0.2
    assert params["covariance_shrinkage"] == 20.0
    doc = (Path(__file__).parents[1] / "docs" / "mlm.md").read_text()
    for phrase in ("`clustering=\"kmeans\"`", "`perturb_var=1e-2`", "`selection_tol=0.2`"):
        assert phrase in doc


@pytest.mark.parametrize("prior", ["size", "uniform"])
def test_cached_soft_weights_equal_the_mixture_formula(prior):
    rng = np.random.default_rng(1)
    n, C, J, d = 40, 7, 3, 2
    Z = rng.standard_normal((n, d))
    means = rng.standard_normal((C, d))
    counts = rng.integers(1, 20, size=C).astype(float)
    labels = np.array([0, 1, 2, 0, 1, 2, 2])
    # log N(z; mu_k, I) by scipy, then gamma_j ∝ pi_j sum_{k in j} (n_k / n_j) N_k
    logdens = np.column_stack([multivariate_normal(means[k], np.eye(d)).logpdf(Z)
                               for k in range(C)])
    n_j = np.array([counts[labels == j].sum() for j in range(J)])
    pi = n_j / n_j.sum() if prior == "size" else np.full(J, 1 / J)
    expect = np.column_stack([
        pi[j] * sum(counts[k] / n_j[j] * np.exp(logdens[:, k]) for k in np.flatnonzero(labels == j))
        for j in range(J)])
    expect /= expect.sum(axis=1, keepdims=True)
    got = merged_posterior(cell_posterior_terms(logdens, counts), labels, J, counts, prior)
    np.testing.assert_allclose(got, expect, rtol=1e-10, atol=1e-14)


def test_warm_started_logistic_fits_reach_the_same_models():
    rng = np.random.default_rng(2)
    Z = rng.standard_normal((600, 3))
    cells = rng.integers(0, 6, size=600)
    p = 1 / (1 + np.exp(-(Z @ [1.0, -2.0, 0.5] + 0.3 * cells)))
    T = (rng.uniform(size=600) < p).astype(float)[:, None]
    B_cell, _ = lin.fit_logistic(Z, T, cells, 6, "sigmoid")
    labels = np.array([0, 0, 1, 1, 2, 2])
    groups = labels[cells]
    counts = np.bincount(cells, minlength=6).astype(float)
    cold, it_cold = lin.fit_logistic(Z, T, groups, 3, "sigmoid")
    warm, it_warm = lin.fit_logistic(Z, T, groups, 3, "sigmoid",
                                     B0=merged_start(B_cell, labels, counts, 3))
    np.testing.assert_allclose(warm, cold, rtol=1e-6, atol=1e-7)
    assert it_warm.sum() <= it_cold.sum()


def test_package_layout_and_public_path():
    pkg = Path(glassnet.mlm.__file__).parent
    sizes = {p.name: len(p.read_text().splitlines()) for p in pkg.glob("*.py")}
    assert {"model.py", "rules.py", "_network.py", "_linear.py"} <= set(sizes)
    assert max(sizes.values()) <= 620, sizes
    # saved files and pickles name the public package, as before the split
    assert MixtureOfLinearModels.__module__ == "glassnet.mlm"
    assert pickle.loads(pickle.dumps(MixtureOfLinearModels)) is MixtureOfLinearModels


def test_heatmap_colour_scale_follows_the_models_that_hold_the_rows():
    # one 15-row model with huge coefficients next to models holding 985 rows: the colour
    # limit is the row-weighted 98% quantile of |coef| (computed here by repeating rows),
    # so the large models stay visible and the outlier is clipped (arrow on the colour bar)
    import matplotlib

    matplotlib.use("Agg")
    from glassnet.mlm import MLMCoefficientDisplay

    rng = np.random.default_rng(0)
    coef = rng.normal(size=(4, 3))
    coef[3] = [400.0, -350.0, 500.0]
    sizes = np.array([500, 300, 185, 15])
    d = MLMCoefficientDisplay(coef, ["a", "b", "c"], sizes).plot()
    expanded = np.abs(np.repeat(coef, sizes, axis=0)).ravel()
    expected = np.sort(expanded)[int(np.ceil(0.98 * expanded.size)) - 1]
    lo, hi = d.image_.get_clim()
    assert hi == pytest.approx(expected) and lo == pytest.approx(-expected)
    assert hi < 5  # not the outlier's 500
    assert d.figure_.axes[-1].get_label() == "<colorbar>"
