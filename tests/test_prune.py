"""RegionPruner: top-k regions kept, the rest attached to the nearest centre, refit."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_moons
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from glassnet import RegionPruner, unwrap
from glassnet.io import as_network


@pytest.fixture(scope="module")
def fitted():
    X, y = make_moons(400, noise=0.25, random_state=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = as_network(MLPClassifier((12, 12), max_iter=400, random_state=0).fit(X, y))
        pruner = RegionPruner(net, n_regions=5).fit(X, y)
    return X, y, net, pruner


def test_keeps_largest_regions_and_attaches_rest_by_centre(fitted):
    X, y, net, p = fitted
    regions = unwrap(net, X)
    assert p.n_regions_ == 5
    top = np.argsort(-regions.counts, kind="stable")[:5]
    assert set(top) == set(p.kept_)
    assert np.array_equal(p.region_to_merged_[p.kept_], np.arange(5))
    sd = X.std(axis=0)
    centres = np.array([X[regions.labels == r].mean(axis=0) for r in range(len(regions))])
    d = (((centres[:, None, :] - centres[None, p.kept_, :]) / sd) ** 2).sum(-1)
    assert np.array_equal(p.region_to_merged_, d.argmin(axis=1))


def test_refit_per_kept_region(fitted):
    # the GLMs are refitted on inputs standardised with all training rows' mean/std
    X, y, net, p = fitted
    proba = p.predict_proba(X)
    sc = StandardScaler().fit(X)
    for g in range(p.n_regions_):
        rows = p.merged_labels_ == g
        if g in p.constant_regions_:
            continue
        # oracle: the same penalised fit by another solver (lbfgs), run to the optimum
        ref = LogisticRegression(C=100.0, tol=1e-12, max_iter=20000).fit(
            sc.transform(X[rows]), y[rows])
        assert np.allclose(proba[rows, 1], ref.predict_proba(sc.transform(X[rows]))[:, 1],
                           atol=1e-6)


def test_unseen_rows_go_to_nearest_kept_centre(fitted):
    X, y, net, p = fitted
    Xn = np.random.default_rng(0).uniform(-5, 5, size=(200, 2))
    unseen = p.regions_.assign(Xn) < 0
    assert unseen.any()
    sd = X.std(axis=0)
    d = (((Xn[unseen][:, None, :] - p.centres_[None]) / sd) ** 2).sum(-1)
    assert np.array_equal(p.apply(Xn)[unseen], d.argmin(axis=1))


def test_errors_and_api(fitted):
    X, y, net, p = fitted
    R = len(p.regions_)
    with pytest.raises(ValueError, match="larger than the"):
        RegionPruner(net, n_regions=R + 1).fit(X, y)
    with pytest.raises(ValueError, match="n_regions"):
        RegionPruner(net, n_regions=0).fit(X, y)
    c = clone(p).set_params(n_regions=2)
    assert c.get_params()["n_regions"] == 2 and not hasattr(c, "models_")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert c.fit(X, y).n_regions_ == 2
    assert len(p.summary(X, y)) == 5


# ---------------------------------------------------------------------- cross-validation
def test_cv_scores_are_those_of_pruners_fitted_on_each_fold(fitted, capsys):
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    X, y, net, _ = fitted
    folds = StratifiedKFold(3, shuffle=True, random_state=0)
    cand = [1, 2, 3, 5, 8]
    p = RegionPruner(net, n_regions="cv", cv=folds, candidates=cand, verbose=True).fit(X, y)
    tight = LogisticRegression(C=100.0, tol=1e-12, max_iter=20000)
    expect = np.zeros((3, len(cand)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one-class kept regions in small folds
        for f, (tr, te) in enumerate(folds.split(X, y)):
            for c, k in enumerate(cand):
                est = RegionPruner(net, n_regions=k, refit=tight).fit(X[tr], y[tr])
                expect[f, c] = roc_auc_score(y[te], est.predict_proba(X[te])[:, 1])
    np.testing.assert_allclose(p.cv_results_["mean_test_score"], expect.mean(0), atol=1e-6)
    # one-standard-error rule, computed here from the fold scores
    mean = expect.mean(0)
    sem = expect.std(0, ddof=1) / np.sqrt(3)
    best = int(np.argmax(mean))
    assert p.cv_n_regions_ == cand[int(np.flatnonzero(mean >= mean[best] - sem[best]).min())]
    assert p.n_regions_ == p.cv_n_regions_
    best_rule = clone(p).set_params(selection="best", verbose=False).fit(X, y)
    assert best_rule.cv_n_regions_ == cand[best]
    assert "glassnet: RegionPruner: kept" in capsys.readouterr().err
    assert p.plot_cv().ax_.get_xlabel() == "number of kept regions"


def test_cv_bad_arguments(fitted):
    X, y, net, _ = fitted
    with pytest.raises(ValueError, match="'cv' or an integer"):
        RegionPruner(net, n_regions="auto").fit(X, y)
    with pytest.raises(ValueError, match="selection"):
        RegionPruner(net, n_regions="cv", selection="median").fit(X, y)
    with pytest.raises(ValueError, match="candidates"):
        RegionPruner(net, n_regions="cv", candidates=[0, 2]).fit(X, y)
    with pytest.raises(ValueError, match="exceeds"):
        RegionPruner(net, n_regions="cv", candidates=[10_000]).fit(X, y)


def test_raw_scale_data_no_warning_and_raw_unit_coefficients():
    from test_merge import _raw_scale_problem

    X, y, net = _raw_scale_problem(4, n=2000)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = RegionPruner(net, n_regions="cv", cv=3, candidates=[1, 2, 3],
                         random_state=0).fit(X, y)
        proba = p.predict_proba(X)[:, 1]
    assert [str(w.message) for w in caught] == []
    # the reported coefficients act on raw rows exactly as the standardised models do
    g = p.merged_labels_
    eta = np.einsum("nd,nd->n", X, p.coef_[g, 0]) + p.intercept_[g, 0]
    np.testing.assert_allclose(proba, 1 / (1 + np.exp(-eta)), rtol=1e-10)
