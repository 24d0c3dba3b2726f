"""Tests of the L1 regularisation path (glassnet.l1_path, L1Path)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import math  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from glassnet import unwrap  # noqa: E402
from glassnet.datasets import make_cocircles  # noqa: E402
from glassnet.estimators import ReluNetClassifier, ReluNetRegressor  # noqa: E402
from glassnet.simplify.l1path import L1Path, l1_path  # noqa: E402

# tiny networks on CoCircles: no penalty simplifies within 1%; the warning is tested below
pytestmark = pytest.mark.filterwarnings("ignore:glassnet. warning. no penalty")


@pytest.fixture(scope="module")
def cocircles_path():
    df = make_cocircles(n_samples=600)
    X, y = df[["X0", "X1"]], df["target"]
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.25, random_state=0)
    est = ReluNetClassifier((20, 20), learning_rate=0.01, max_epochs=60, batch_size=100,
                            random_state=0)
    return l1_path(est, X_tr, y_tr, [0.05, 0.0, 0.005], X_va, y_va), X_tr, y_tr


def test_large_penalty_gives_fewer_regions(cocircles_path):
    path, X_tr, _ = cocircles_path
    t = path.table_
    assert list(t["l1_reg"]) == [0.0, 0.005, 0.05]  # sorted, same seed for each
    assert t["n_regions"].iloc[-1] < t["n_regions"].iloc[0]
    # the counts are those of unwrap on the training rows
    for est, n in zip(path.estimators_, t["n_regions"], strict=True):
        assert unwrap(est.network_, X_tr).n_regions == n
    assert ((t["top10_share"] > 0) & (t["top10_share"] <= 1)).all()
    assert (t["n_regions_95"] <= t["n_regions"]).all()
    assert (t["fit_time"] > 0).all()
    assert path.metric_ == "auc" and path.score_on_ == "validation"
    assert t["score"].between(0.0, 1.0).all()
    assert t["score"].iloc[0] > 0.85  # the unpenalised net separates the circles


def test_recommendation_is_the_fewest_regions_within_tolerance():
    # region counts need not fall with the penalty: the rule looks at the counts
    table = pd.DataFrame({"l1_reg": [0.0, 1e-4, 1e-3, 1e-2], "n_regions": [100, 120, 40, 60],
                          "score": [0.800, 0.801, 0.795, 0.799]})
    p = L1Path(table, metric="auc", score_on="validation", tolerance=0.01)
    assert p.recommended_ == 1e-3 and p.simplifies_
    same = table.assign(n_regions=[40, 120, 40, 60])  # tie on counts: the larger penalty
    assert L1Path(same, metric="auc", score_on="validation", tolerance=0.01).recommended_ == 1e-3
    flat = pd.DataFrame({"l1_reg": [0.0, 1e-3], "n_regions": [10, 12], "score": [0.8, 0.7]})
    q = L1Path(flat, metric="auc", score_on="validation", tolerance=0.01)
    assert q.recommended_ == 0.0 and not q.simplifies_


def test_test_rows_never_change_the_choice(cocircles_path):
    path, X_tr, y_tr = cocircles_path
    df = make_cocircles(n_samples=300, random_state=7)
    X_te = df[["X0", "X1"]]
    est = ReluNetClassifier((20, 20), learning_rate=0.01, max_epochs=60, batch_size=100,
                            random_state=0)
    garbage = np.random.default_rng(0).integers(0, 2, size=len(X_te))
    honest = l1_path(est, X_tr, y_tr, [0.0, 0.005, 0.05], X_test=X_te, y_test=df["target"])
    noisy = l1_path(est, X_tr, y_tr, [0.0, 0.005, 0.05], X_test=X_te, y_test=garbage)
    pd.testing.assert_series_equal(honest.table_["score"], noisy.table_["score"])
    assert honest.recommended_ == noisy.recommended_
    assert not np.allclose(honest.table_["test_score"], noisy.table_["test_score"])
    assert "test_score" not in path.table_.columns
    # the test column is each network's AUC on the test rows
    from sklearn.metrics import roc_auc_score

    for e, s in zip(honest.estimators_, honest.table_["test_score"], strict=True):
        assert s == pytest.approx(roc_auc_score(df["target"], e.predict_proba(X_te)[:, 1]))


def test_warns_when_no_penalty_simplifies(cocircles_path, capsys):
    _, X, y = cocircles_path
    est = ReluNetClassifier((6,), max_epochs=3, random_state=0)
    with pytest.warns(UserWarning, match="glassnet: warning: no penalty within"):
        path = l1_path(est, X, y, [0.0, 1e-12], verbose=True)
    assert not path.simplifies_
    assert "glassnet: l1_reg=0:" in capsys.readouterr().err


def test_recommended_penalty_rule():
    table = pd.DataFrame({"l1_reg": [0.0, 1e-3, 1e-2, 1e-1], "n_regions": [50, 20, 8, 2],
                          "score": [0.80, 0.795, 0.793, 0.60]})
    assert L1Path(table, metric="auc", score_on="validation", tolerance=0.01).recommended_ == 1e-2
    assert L1Path(table, metric="auc", score_on="validation", tolerance=0.0).recommended_ == 0.0
    rmse = table.assign(score=[10.0, 10.2, 11.0, 30.0])
    p = L1Path(rmse, metric="rmse", score_on="validation", tolerance=0.05)
    assert p.recommended_ == 1e-3 and p.best_score_ == 10.0
    nan = table.assign(score=math.nan)
    assert math.isnan(L1Path(nan, metric="auc", score_on="training", tolerance=0.01).recommended_)


def test_recommended_estimator_and_plot(cocircles_path):
    path = cocircles_path[0]
    est = path.recommended_estimator_
    assert est.l1_reg == path.recommended_
    out = path.plot()
    assert out is path
    assert path.figure_ is path.ax_.figure
    assert path.ax_.get_xscale() == "symlog"
    # the two drawn curves are the path's table: regions and score against the penalty
    t = path.table_
    regions_line = path.ax_.lines[0].get_xydata()
    np.testing.assert_array_equal(regions_line[:, 0], t["l1_reg"])
    np.testing.assert_array_equal(regions_line[:, 1], t["n_regions"])
    (score_line,) = path.score_ax_.lines
    np.testing.assert_allclose(score_line.get_ydata(), t["score"])
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert path.plot(ax=ax).ax_ is ax
    plt.close("all")


def test_regressor_path_uses_rmse_and_carved_validation_rows():
    # behaviour change: without X_val the score comes from rows carved off the training
    # rows (validation_fraction), not from the training rows themselves
    from sklearn.metrics import mean_squared_error

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (200, 2))
    y = np.abs(X[:, 0]) + X[:, 1]
    est = ReluNetRegressor((8,), learning_rate=0.02, max_epochs=20, random_state=0)
    path = l1_path(est, X, y, [0.0, 0.01], random_state=3)
    assert path.metric_ == "rmse" and path.score_on_ == "validation"
    fit_rows, val_rows = train_test_split(np.arange(200), test_size=0.2, random_state=3)
    for est_v, n, score in zip(path.estimators_, path.table_["n_regions"],
                               path.table_["score"], strict=True):
        assert unwrap(est_v.network_, X[fit_rows]).n_regions == n
        rmse = np.sqrt(mean_squared_error(y[val_rows], est_v.predict(X[val_rows])))
        assert score == pytest.approx(rmse)
    on_train = l1_path(est, X, y, [0.0], validation_fraction=None)
    assert on_train.score_on_ == "training"


def test_bad_arguments(cocircles_path):
    _, X, y = cocircles_path
    est = ReluNetClassifier((4,), max_epochs=2, random_state=0)
    with pytest.raises(ValueError, match=">= 0"):
        l1_path(est, X, y, [-1.0])
    with pytest.raises(ValueError, match="empty"):
        l1_path(est, X, y, [])
    with pytest.raises(ValueError, match="both"):
        l1_path(est, X, y, [0.0], X_val=X)
    with pytest.raises(TypeError, match="l1_reg"):
        l1_path(LogisticRegression(), X, y, [0.0])
    with pytest.raises(ValueError, match="X_test and y_test"):
        l1_path(est, X, y, [0.0], X_test=X)
    with pytest.raises(ValueError, match="validation_fraction"):
        l1_path(est, X, y, [0.0], validation_fraction=1.5)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_classifier_path_with_string_labels(n_classes):
    from sklearn.datasets import make_blobs
    from sklearn.metrics import roc_auc_score

    X, y = make_blobs(240, centers=n_classes, cluster_std=2.0, random_state=0)
    labels = np.array(["bad", "good", "ugly"])[y]
    est = ReluNetClassifier((8,), learning_rate=0.02, max_epochs=20, random_state=0)
    path = l1_path(est, X[:160], labels[:160], [0.0, 0.001], X[160:], labels[160:])
    est0 = path.estimators_[0]
    proba = est0.predict_proba(X[160:])
    if n_classes == 2:
        expected = roc_auc_score(labels[160:] == "good", proba[:, 1])
    else:
        expected = roc_auc_score(labels[160:], proba, multi_class="ovr")
    assert path.table_["score"].iloc[0] == pytest.approx(expected)


def test_standard_error_rule_and_its_se(cocircles_path):
    from sklearn.metrics import roc_auc_score

    path, X_tr, y_tr = cocircles_path
    assert path.tolerance_ == "se"
    # Hanley & McNeil (1982), written out here from the AUC and the class sizes
    df = make_cocircles(n_samples=600)
    _, X_va, _, y_va = train_test_split(df[["X0", "X1"]], df["target"], test_size=0.25,
                                        random_state=0)
    n1 = int((y_va == 1).sum())
    n0 = int((y_va == 0).sum())
    for est, se in zip(path.estimators_, path.table_["score_se"], strict=True):
        a = roc_auc_score(y_va, est.predict_proba(X_va)[:, 1])
        q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
        ref = np.sqrt((a * (1 - a) + (n1 - 1) * (q1 - a * a) + (n0 - 1) * (q2 - a * a))
                      / (n1 * n0))
        assert se == pytest.approx(ref, rel=1e-12)
    table = pd.DataFrame({"l1_reg": [0.0, 1e-3, 2e-3], "n_regions": [90, 30, 9],
                          "score": [0.775, 0.7700, 0.7662], "score_se": [0.009, 0.009, 0.009]})
    p = L1Path(table, metric="auc", score_on="validation", tolerance="se")
    assert p.recommended_ == 2e-3 and "one standard error (0.0090)" in p.rule_
    tight = table.assign(score_se=0.005)
    assert L1Path(tight, metric="auc", score_on="validation", tolerance="se").recommended_ == 1e-3
    with pytest.raises(ValueError, match="score_se"):
        L1Path(table.drop(columns="score_se"), metric="auc", score_on="validation",
               tolerance="se")


def test_rmse_standard_error_is_the_delta_method():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, (300, 2))
    y = np.abs(X[:, 0]) + X[:, 1] + rng.normal(0, 0.1, 300)
    est = ReluNetRegressor((8,), learning_rate=0.02, max_epochs=20, random_state=0)
    path = l1_path(est, X[:200], y[:200], [0.0], X[200:], y[200:])
    e = (path.estimators_[0].predict(X[200:]) - y[200:]) ** 2
    rmse = np.sqrt(e.mean())
    assert path.table_["score"].iloc[0] == pytest.approx(rmse)
    assert path.table_["score_se"].iloc[0] == pytest.approx(
        e.std(ddof=1) / np.sqrt(100) / (2 * rmse))
