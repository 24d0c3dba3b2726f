"""Outcomes analysis and surrogate fidelity against direct computations."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp, spearmanr
from sklearn.metrics import roc_auc_score

from glassnet._metrics import psi, psi_from_counts, psi_terms_from_counts
from glassnet.outcomes import fidelity_table, outcomes, surrogate_fidelity


@pytest.fixture
def scored():
    rng = np.random.default_rng(3)
    p = rng.beta(1.2, 6.0, size=3000)
    y = (rng.random(3000) < p).astype(int)
    return y, p


def test_classification_figures_match_direct_formulas(scored):
    y, p = scored
    res = outcomes(y, p)
    auc = roc_auc_score(y, p)
    assert res["AUC"] == pytest.approx(auc, abs=1e-12)
    assert res["Gini"] == pytest.approx(2 * auc - 1, abs=1e-12)
    assert res["KS"] == pytest.approx(ks_2samp(p[y == 1], p[y == 0]).statistic, abs=1e-12)
    assert res["Brier score"] == pytest.approx(np.mean((p - y) ** 2), abs=1e-12)
    ll = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert res["log loss"] == pytest.approx(ll, rel=1e-9)
    assert res["events (positive class)"] == y.sum()
    # the KS threshold is where the class CDFs are furthest apart
    t = res.ks_threshold
    gap = np.mean(p[y == 1] >= t) - np.mean(p[y == 0] >= t)
    assert gap == pytest.approx(res["KS"], abs=1e-12)


def test_gains_and_calibration_tables(scored):
    y, p = scored
    res = outcomes(y, p, n_bins=5)
    g = res.gains
    assert g["n"].sum() == len(y)
    assert g["events"].sum() == y.sum()
    top = p >= np.quantile(p, 0.8)
    assert g["event_rate"].iloc[0] == pytest.approx(y[top].mean(), abs=0.02)
    cal = res.calibration
    assert cal["n"].sum() == len(y)
    # equal-count bins: each holds about a fifth of the rows
    assert cal["n"].min() >= 0.19 * len(y)


def test_regression_residuals():
    rng = np.random.default_rng(0)
    y = rng.normal(size=200)
    pred = y + rng.normal(0, 0.3, size=200)
    res = outcomes(y, pred, task="regression")
    assert res["RMSE"] == pytest.approx(np.sqrt(np.mean((y - pred) ** 2)))
    assert res["MAE"] == pytest.approx(np.mean(np.abs(y - pred)))
    ss = np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
    assert res["R²"] == pytest.approx(1 - ss)
    np.testing.assert_allclose(res.residuals["residual"], y - pred)


def test_one_class_and_bad_input():
    res = outcomes([1, 1, 1], [0.2, 0.5, 0.9])
    assert np.isnan(res["AUC"]) and res.roc is None
    with pytest.raises(ValueError, match="NaN"):
        outcomes([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="3 classes"):
        outcomes([0, 1, 2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="rows"):
        outcomes([0, 1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="empty"):
        outcomes([], [])


def test_surrogate_fidelity_direct():
    rng = np.random.default_rng(1)
    a = rng.random(500)
    b = np.clip(a + rng.normal(0, 0.1, 500), 0, 1)
    f = surrogate_fidelity(a, b)
    rmse = np.sqrt(np.mean((a - b) ** 2))
    assert f["score RMSE"] == pytest.approx(rmse)
    assert f["score RMSE / network score std"] == pytest.approx(rmse / a.std())
    assert f["decision agreement"] == pytest.approx(np.mean((a >= 0.5) == (b >= 0.5)))
    assert f["rank correlation"] == pytest.approx(spearmanr(a, b).statistic)
    assert surrogate_fidelity(a, a)["score RMSE"] == 0.0
    tab = fidelity_table(a, {"same": a, "noisy": b})
    assert list(tab["model"]) == ["same", "noisy"]
    assert tab.loc[0, "decision agreement"] == 1.0


def test_psi_from_counts_matches_psi_and_formula():
    rng = np.random.default_rng(2)
    e, a = rng.normal(size=1000), rng.normal(0.3, 1.2, size=700)
    edges = np.quantile(e, np.linspace(0, 1, 11)[1:-1])
    ce = np.bincount(np.searchsorted(edges, e, side="right"), minlength=10)
    ca = np.bincount(np.searchsorted(edges, a, side="right"), minlength=10)
    es, as_ = ce / ce.sum(), ca / ca.sum()
    direct = np.sum((as_ - es) * np.log(as_ / es))
    assert psi_from_counts(ce, ca) == pytest.approx(direct, rel=1e-12)
    assert psi_from_counts(ce, ca) == pytest.approx(psi(e, a), rel=1e-12)
    assert psi_terms_from_counts([5, 0], [5, 5])[1] > 0  # empty bin floored, finite
    with pytest.raises(ValueError):
        psi_from_counts([1, 2], [1])
    with pytest.raises(ValueError):
        psi_from_counts([0, 0], [1, 1])


def test_repr_html():
    res = outcomes([0, 1, 0, 1], [0.1, 0.9, 0.3, 0.6])
    html = res._repr_html_()
    assert "Outcomes" in html and "Gini" in html and isinstance(res.metrics, pd.DataFrame)
