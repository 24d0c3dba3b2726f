"""Tests of the torch-backed estimators ReluNetClassifier and ReluNetRegressor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import make_blobs, make_circles
from sklearn.utils.estimator_checks import parametrize_with_checks

from glassnet import ReluNetwork, unwrap
from glassnet.estimators import ReluNetClassifier, ReluNetRegressor, train_relu_network

_SW_REASON = (
    "Weighted fits equal fits on repeated rows only in exact arithmetic: float32 sums over "
    "differently sized batches round differently and Adam amplifies the difference."
)


def _expected_failures(estimator):
    return {"check_sample_weight_equivalence_on_dense_data": _SW_REASON}


@parametrize_with_checks(
    [
        ReluNetClassifier((8,), learning_rate=0.02, max_epochs=60, random_state=0),
        ReluNetRegressor((8,), learning_rate=0.02, max_epochs=60, random_state=0),
    ],
    expected_failed_checks=_expected_failures,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def circles():
    X, y = make_circles(400, noise=0.1, factor=0.6, random_state=0)
    return X, y


def _fast(cls=ReluNetClassifier, **kw):
    params = dict(hidden_layer_sizes=(12, 12), learning_rate=0.02, max_epochs=40,
                  batch_size=64, random_state=0)
    params.update(kw)
    return cls(**params)


# ---------------------------------------------------------------------- network_
def test_network_is_the_model(circles):
    X, y = circles
    clf = _fast().fit(X, y)
    net = clf.network_
    assert isinstance(net, ReluNetwork)
    assert net.output == "sigmoid" and net.hidden_sizes == (12, 12)
    assert all(W.dtype == np.float64 for W in net.weights)
    np.testing.assert_array_equal(clf.predict_proba(X)[:, 1], net.predict_output(X)[:, 0])
    np.testing.assert_array_equal(clf.decision_function(X), net.forward(X)[:, 0])
    regions = unwrap(clf.network_, X)
    assert regions.max_abs_error < 1e-10
    assert regions.n_samples == len(X)
    assert clf.score(X, y) > 0.85  # the circles are learnable by a 12x12 net
    assert len(clf.loss_curve_) == clf.n_epochs_ == len(clf.validation_loss_curve_)


def test_dataframe_feature_names_and_unwrap(circles):
    X, y = circles
    df = pd.DataFrame(X, columns=["income", "debt"])
    clf = _fast().fit(df, y)
    assert list(clf.feature_names_in_) == ["income", "debt"]
    assert clf.network_.feature_names == ("income", "debt")
    assert unwrap(clf, df).feature_names == ("income", "debt")


def test_multiclass_any_label_type():
    X, y = make_blobs(300, centers=3, cluster_std=1.0, random_state=1)
    labels = np.array(["low", "mid", "high"])[y]
    clf = _fast().fit(X, labels)
    assert clf.network_.output == "softmax" and clf.network_.n_outputs == 3
    assert sorted(clf.classes_) == ["high", "low", "mid"]
    P = clf.predict_proba(X)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), P, rtol=1e-10)
    assert set(clf.predict(X)) <= set(labels)
    assert clf.score(X, labels) > 0.9


def test_regressor_single_and_multi_target():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (400, 3))
    y1 = 200.0 + 50.0 * np.abs(X[:, 0]) + 30.0 * X[:, 1]  # far from standardised
    reg = _fast(ReluNetRegressor, max_epochs=80).fit(X, y1)
    assert reg.network_.output == "identity"
    pred = reg.predict(X)
    assert pred.shape == (400,)
    np.testing.assert_array_equal(pred, reg.network_.forward(X)[:, 0])
    assert reg.score(X, y1) > 0.9  # the target scaling is folded back into network_
    Y = np.column_stack([y1, -X[:, 2]])
    reg2 = _fast(ReluNetRegressor, max_epochs=80).fit(X, Y)
    assert reg2.predict(X).shape == (400, 2)
    assert reg2.network_.n_outputs == 2 and reg2.n_outputs_ == 2


# ---------------------------------------------------------------------- reproducibility
def test_bitwise_reproducible_and_global_rng_untouched(circles):
    X, y = circles
    torch_state = torch.get_rng_state().clone()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    threads = torch.get_num_threads()
    a = _fast(random_state=7).fit(X, y)
    b = _fast(random_state=7).fit(X, y)
    c = _fast(random_state=8).fit(X, y)
    assert a.network_ == b.network_  # bitwise equal weights and biases
    assert a.loss_curve_ == b.loss_curve_
    assert a.network_ != c.network_
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert torch.get_num_threads() == threads  # fit trains on 1 thread, then restores
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


# ---------------------------------------------------------------------- early stopping
def test_early_stopping_restores_best_epoch():
    # few noisy rows and a wide net at a high rate: the validation loss turns up early
    X, y = make_circles(120, noise=0.3, factor=0.6, random_state=3)
    params = dict(hidden_layer_sizes=(64, 64), learning_rate=0.05, batch_size=16,
                  validation_fraction=0.3, random_state=0)
    full = ReluNetClassifier(max_epochs=80, n_iter_no_change=None, **params).fit(X, y)
    curve = np.array(full.validation_loss_curve_)
    assert full.n_epochs_ == 80
    assert full.best_epoch_ == int(np.argmin(curve)) + 1
    assert full.best_epoch_ < 80, "the setting should overfit"
    assert full.best_loss_ == curve.min()
    # training is deterministic, so stopping after best_epoch_ epochs gives the same weights
    short = ReluNetClassifier(max_epochs=full.best_epoch_, n_iter_no_change=None,
                              **params).fit(X, y)
    assert short.network_ == full.network_

    stopped = ReluNetClassifier(max_epochs=80, n_iter_no_change=5, **params).fit(X, y)
    assert stopped.n_epochs_ < 80
    assert stopped.n_epochs_ - stopped.best_epoch_ >= 5 - 1


def test_train_function_accepts_initial_weights(circles):
    X, y = circles
    clf = _fast().fit(X, y)
    net = clf.network_
    # zero learning rate would be rejected by the estimator; the function takes any init
    res = train_relu_network(X, y[:, None].astype(float), loss="bce",
                             init=(list(net.weights), list(net.biases)), learning_rate=1e-12,
                             max_epochs=1, n_iter_no_change=None)
    assert [W.shape for W in res.weights] == [W.shape for W in net.weights]
    for W0, W1 in zip(net.weights, res.weights, strict=True):
        np.testing.assert_allclose(W1, W0, atol=1e-6)  # float32 round trip, tiny step


@pytest.mark.parametrize("cls", [ReluNetClassifier, ReluNetRegressor])
def test_init_network_fine_tunes(circles, cls):
    X, y = circles
    target = y if cls is ReluNetClassifier else 100.0 + 10.0 * y
    first = _fast(cls).fit(X, target)
    tuned = _fast(cls, learning_rate=1e-9, max_epochs=1, n_iter_no_change=None,
                  hidden_layer_sizes=(3,)).fit(X, target, init_network=first.network_)
    assert tuned.network_.hidden_sizes == (12, 12)  # taken from init_network
    np.testing.assert_allclose(tuned.predict(X), first.predict(X), rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match="inputs"):
        _fast(cls).fit(X[:, :1], target, init_network=first.network_)


# ---------------------------------------------------------------------- sample weights
def test_sample_weight(circles):
    X, y = circles
    base = _fast().fit(X, y)
    ones = _fast().fit(X, y, sample_weight=np.ones(len(y)))
    assert base.network_ == ones.network_
    heavy = _fast().fit(X, y, sample_weight=np.where(y == 1, 20.0, 1.0))
    assert heavy.predict_proba(X)[:, 1].mean() > base.predict_proba(X)[:, 1].mean() + 0.05
    with pytest.raises(ValueError):
        _fast().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="non-zero|sums to 0"):
        _fast().fit(X, y, sample_weight=np.zeros(len(y)))


# ---------------------------------------------------------------------- progress bar
def test_verbose_progress_bar(circles, capsys):
    X, y = circles
    _fast(max_epochs=3, n_iter_no_change=None, verbose=1).fit(X, y)
    err = capsys.readouterr().err
    assert "3/3" in err and "val_loss" in err and "loss" in err
    _fast(max_epochs=3).fit(X, y)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------- bad input
def test_bad_input_errors(circles):
    X, y = circles
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        _fast().fit(Xn, y)
    df = pd.DataFrame({"a": X[:, 0], "grade": np.where(y == 1, "A", "B")})
    with pytest.raises(TypeError, match="non-numeric columns \\['grade'\\]"):
        _fast().fit(df, y)
    with pytest.raises(ValueError, match="text"):
        _fast().fit(np.array([["1.0", "x"], ["2.0", "y"]]), [0, 1])
    with pytest.raises(ValueError, match="only one class"):
        _fast().fit(X, np.zeros(len(y)))
    with pytest.raises(ValueError, match="2D array|2-D"):
        _fast().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _fast().fit(X, y[:-1])
    clf = _fast().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="Unknown label type"):
        _fast().fit(X, np.linspace(0, 1, len(y)))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": (0,)}, "positive integers"),
        ({"hidden_layer_sizes": (4, 2.5)}, "positive integers"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"l1_reg": -1.0}, "l1_reg"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"n_iter_no_change": 0}, "n_iter_no_change"),
        ({"batch_size": 0}, "batch_size"),
        ({"device": "no-such-device"}, "device"),
    ],
)
def test_bad_parameters(circles, params, match):
    X, y = circles
    with pytest.raises(ValueError, match=match):
        _fast(**params).fit(X, y)


def test_tiny_data_still_fits():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    clf = _fast(validation_fraction=0.5).fit(X, [0, 1, 1])
    assert clf.predict(X).shape == (3,)
