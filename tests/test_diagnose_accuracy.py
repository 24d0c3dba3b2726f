"""accuracy_table, weakspots and overfit against direct computations with scikit-learn."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import random_network
from sklearn.metrics import accuracy_score, f1_score, log_loss, mean_squared_error, roc_auc_score

from glassnet import diagnose as D


def _patterns(net, X):
    """Activation pattern of each row by a plain forward pass (brute-force regions)."""
    a = np.asarray(X, dtype=np.float64)
    bits = []
    for W, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
        z = a @ W.T + b
        bits.append(z > 0)
        a = np.maximum(z, 0)
    return np.hstack(bits)


@pytest.fixture
def case():
    rng = np.random.default_rng(7)
    net = random_network(rng, 3, (6, 5), 1, output="sigmoid")
    X = rng.normal(size=(500, 3))
    p = net.predict_output(X)[:, 0]
    y = (rng.uniform(size=500) < p).astype(int)
    return net, X[:300], y[:300], X[300:], y[300:]


def test_accuracy_table_matches_sklearn(case):
    net, Xtr, ytr, Xte, yte = case
    t = D.accuracy_table(net, Xtr, ytr, Xte, yte)
    for X, y, col in ((Xtr, ytr, "train"), (Xte, yte, "test")):
        p = net.predict_output(X)[:, 0]
        pred = (p >= 0.5).astype(int)
        assert t.loc["auc", col] == pytest.approx(roc_auc_score(y, p))
        assert t.loc["accuracy", col] == pytest.approx(accuracy_score(y, pred))
        assert t.loc["f1", col] == pytest.approx(f1_score(y, pred))
        assert t.loc["log_loss", col] == pytest.approx(log_loss(y, p))
        assert t.loc["brier", col] == pytest.approx(np.mean((p - y) ** 2))
    np.testing.assert_allclose(t["gap"], t["test"] - t["train"])


def test_accuracy_table_regression_and_bad_input():
    rng = np.random.default_rng(0)
    net = random_network(rng, 2, (5,), 1)
    X = rng.normal(size=(80, 2))
    y = net.predict_output(X)[:, 0] + rng.normal(0, 0.1, 80)
    t = D.accuracy_table(net, X[:40], y[:40], X[40:], y[40:])
    assert list(t.index) == ["rmse", "mae", "r2"]
    f = net.predict_output(X[40:])[:, 0]
    assert t.loc["rmse", "test"] == pytest.approx(np.sqrt(mean_squared_error(y[40:], f)))
    with pytest.raises(ValueError, match="one value per row"):
        D.accuracy_table(net, X[:40], y[:39], X[40:], y[40:])
    with pytest.raises(ValueError, match="2-D"):
        D.accuracy_table(net, X[:0], y[:0], X[40:], y[40:])
    with pytest.raises(TypeError, match="predict_proba"):
        D.accuracy_table(object(), X[:40], y[:40], X[40:], y[40:])


def test_accuracy_by_region_groups_rows_by_activation_pattern(case):
    net, Xtr, ytr, Xte, yte = case
    t = D.accuracy_table(net, Xtr, ytr, Xte, yte, by="region", min_rows=1, metrics=["brier"])
    pat_tr, pat_te = _patterns(net, Xtr), _patterns(net, Xte)
    keys_tr = [r.tobytes().hex() for r in pat_tr]
    keys_te = [r.tobytes().hex() for r in pat_te]
    groups = pd.Series(keys_tr).value_counts()
    seen = set(keys_tr)
    assert t["n_train"].sum() == len(Xtr)
    assert t["n_test"].sum() == len(Xte)
    # region 0 is the most populated pattern; its Brier scores are recomputed by hand
    top = groups.index[0]
    row = t.set_index("region").loc["0"]
    assert row["n_train"] == groups.iloc[0]
    m_tr = np.array([k == top for k in keys_tr])
    m_te = np.array([k == top for k in keys_te])
    p_tr, p_te = net.predict_output(Xtr)[:, 0], net.predict_output(Xte)[:, 0]
    assert row["brier_train"] == pytest.approx(np.mean((p_tr[m_tr] - ytr[m_tr]) ** 2))
    assert row["brier_test"] == pytest.approx(np.mean((p_te[m_te] - yte[m_te]) ** 2))
    unseen = sum(k not in seen for k in keys_te)
    if unseen:
        assert t.set_index("region").loc["-1", "n_test"] == unseen
    # small regions are pooled
    t2 = D.accuracy_table(net, Xtr, ytr, Xte, yte, by="region", min_rows=30)
    assert (t2["region"] == "small").sum() == (groups < 30).any()
    assert t2["n_train"].sum() == len(Xtr)


def test_weakspots_histogram_by_hand(case):
    net, _, _, X, y = case
    p = net.predict_output(X)[:, 0]
    w = D.weakspots(net, X, y, slice_features=[0], metric="log_loss", bins=4, min_samples=1,
                    threshold=0.05)
    overall = log_loss(y, p)
    x = X[:, 0]
    edges = np.linspace(x.min(), x.max(), 5)
    for b in range(4):
        m = (x >= edges[b]) & ((x < edges[b + 1]) if b < 3 else True)
        row = w[w["slice"].str.startswith(f"x0 in [{edges[b]:.4g},")].iloc[0]
        assert row["n"] == m.sum()
        ll = log_loss(y[m], p[m], labels=[0, 1])
        assert row["log_loss"] == pytest.approx(ll)
        assert row["worse_by"] == pytest.approx(ll - overall)
        assert row["weak"] == (ll - overall > 0.05 * overall)
    assert w["worse_by"].is_monotonic_decreasing


def test_weakspots_tree_and_region(case):
    net, Xtr, _, X, y = case
    w = D.weakspots(net, X, y, method="tree", metric="brier", max_depth=2, min_samples=10)
    assert w["n"].sum() == len(X) and len(w) <= 4
    # exact version: slices are the activation patterns of the training rows
    r = D.weakspots(net, X, y, method="region", X_regions=Xtr, metric="brier", min_samples=1)
    assert r["n"].sum() == len(X)
    keys = [k.tobytes().hex() for k in _patterns(net, X)]
    seen = {k.tobytes().hex() for k in _patterns(net, Xtr)}
    n_seen_groups = len({k for k in keys if k in seen}) + int(any(k not in seen for k in keys))
    assert len(r) == n_seen_groups
    with pytest.raises(ValueError, match="method"):
        D.weakspots(net, X, y, method="kmeans")
    with pytest.raises(ValueError, match="slice_features"):
        D.weakspots(net, X, y, slice_features=["nope"])


def test_overfit_by_hand(case):
    net, Xtr, ytr, Xte, yte = case
    o = D.overfit(net, Xtr, ytr, Xte, yte, slice_features=[1], metric="brier", bins=3,
                  min_samples=1, threshold=0.0)
    x = Xtr[:, 1]
    edges = np.linspace(x.min(), x.max(), 4)
    ptr, pte = net.predict_output(Xtr)[:, 0], net.predict_output(Xte)[:, 0]
    m_tr = Xtr[:, 1] < edges[1]
    m_te = Xte[:, 1] < edges[1]  # the first bin is open to the left
    row = o[o["slice"].str.startswith("x1 in [")].set_index("slice").iloc[
        [s.startswith(f"x1 in [{edges[0]:.4g},") for s in o["slice"]]].iloc[0]
    tr = np.mean((ptr[m_tr] - ytr[m_tr]) ** 2)
    te = np.mean((pte[m_te] - yte[m_te]) ** 2)
    assert row["n_train"] == m_tr.sum() and row["n_test"] == m_te.sum()
    assert row["gap"] == pytest.approx(te - tr)
    assert row["overfit"] == (te - tr > 0)
