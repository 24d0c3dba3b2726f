"""Tests of the torch-backed estimators ReluNetClassifier and ReluNetRegressor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_blobs, make_circles
from sklearn.utils.estimator_checks import parametrize_with_checks

from glassnet import ReluNetwork, unwrap
from glassnet._estimator_inputs import fold_standardization, unfold_standardization
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
    df = pd.DataFrame({"a": X[:, 0], "grade": np.where(y == 1, "A", None)})
    with pytest.raises(ValueError, match="Categorical column 'grade' has missing values"):
        _fast().fit(df, y)
    with pytest.raises(ValueError, match="'nope', which is not a column"):
        _fast(categorical_features=["nope"]).fit(df.fillna("B"), y)
    with pytest.raises(ValueError, match="position 5 is out of range"):
        _fast(categorical_features=[5]).fit(X, y)
    with pytest.raises(TypeError, match="standardize"):
        _fast(standardize="yes").fit(X, y)
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
        ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": (4, 2.5)}, "hidden_layer_sizes"),
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


# ---------------------------------------------------------------------- standardisation
def _raw_scaled_data(n=500, seed=0):
    """Columns on wildly different scales plus a constant column, as in raw credit data."""
    rng = np.random.default_rng(seed)
    X = np.column_stack([
        rng.normal(1e5, 3e4, n),          # an amount
        rng.uniform(0, 1, n),             # a rate
        np.full(n, 7.0),                  # constant: scale must fall back to 1
        rng.normal(-50.0, 0.01, n),       # tiny spread far from 0
    ])
    eta = (X[:, 0] - 1e5) / 3e4 - 2 * (X[:, 1] - 0.5) + (X[:, 3] + 50.0) / 0.01
    y = (eta + rng.normal(0, 0.5, n) > 0).astype(int)
    return X, y


def _unfolded(net, mean, scale):
    """The network on standardised inputs, recovered from network_ by hand."""
    W0 = np.array(net.weights[0]) * scale
    b0 = np.array(net.biases[0]) + np.array(net.weights[0]) @ mean
    return ReluNetwork([W0, *net.weights[1:]], [b0, *net.biases[1:]], net.output)


def test_standardize_is_folded_exactly_into_network():
    from sklearn.preprocessing import StandardScaler

    X, y = _raw_scaled_data()
    clf = _fast(hidden_layer_sizes=(10, 10), max_epochs=30).fit(X, y)
    sc = StandardScaler().fit(X)  # independent oracle of the scaling (constant column: 1)
    np.testing.assert_allclose(clf.input_mean_, sc.mean_, rtol=1e-12)
    np.testing.assert_allclose(clf.input_scale_, sc.scale_, rtol=1e-12)
    assert clf.input_scale_[2] == 1.0
    net_std = _unfolded(clf.network_, sc.mean_, sc.scale_)
    # the trained weights are float32 numbers: undoing the fold recovers them
    W0 = np.array(net_std.weights[0])
    np.testing.assert_allclose(W0, W0.astype(np.float32), rtol=1e-6, atol=1e-12)
    eta_std = net_std.forward(sc.transform(X))[:, 0]
    eta = clf.decision_function(X)
    assert np.max(np.abs(eta - eta_std) / np.maximum(1.0, np.abs(eta_std))) <= 1e-9
    p = clf.predict_proba(X)[:, 1]
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-eta_std)), rtol=1e-9)
    # the network lives in raw units: exact LLMs on raw rows, coefficients = d eta / d x_raw
    regions = unwrap(clf, X)
    assert regions.max_abs_error <= 1e-9 * max(1.0, np.abs(eta).max())
    Xt = torch.tensor(sc.transform(X[:20]), dtype=torch.float64, requires_grad=True)
    a = Xt
    for W, b in zip(net_std.weights[:-1], net_std.biases[:-1], strict=True):
        a = torch.relu(a @ torch.tensor(W).T + torch.tensor(b))
    out = a @ torch.tensor(net_std.weights[-1]).T + torch.tensor(net_std.biases[-1])
    (grad_std,) = torch.autograd.grad(out.sum(), Xt)
    grad_raw = grad_std.numpy() / sc.scale_  # chain rule through (x - m) / s
    coef = regions.coef[regions.labels[:20], 0, :]
    np.testing.assert_allclose(coef, grad_raw, rtol=1e-9, atol=1e-15)


def test_standardize_equals_training_on_standardised_rows():
    from sklearn.preprocessing import StandardScaler

    X, y = _raw_scaled_data(seed=1)
    a = _fast(max_epochs=15).fit(X, y)
    Z = StandardScaler().fit_transform(X)
    b = _fast(max_epochs=15, standardize=False).fit(Z, y)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(Z), atol=1e-5)
    raw = _fast(max_epochs=15, standardize=False).fit(X, y)
    np.testing.assert_array_equal(raw.input_mean_, 0.0)
    # unscaled training of the same budget is much worse on these columns
    assert a.score(X, y) > raw.score(X, y) + 0.1


def test_regressor_standardize_and_init_network_round_trip():
    X, _ = _raw_scaled_data(seed=2)
    y = 1e-4 * X[:, 0] + np.abs(X[:, 1] - 0.5)
    first = _fast(ReluNetRegressor, max_epochs=40).fit(X, y)
    assert first.score(X, y) > 0.8
    tuned = _fast(ReluNetRegressor, learning_rate=1e-9, max_epochs=1, n_iter_no_change=None).fit(
        X, y, init_network=first.network_)
    np.testing.assert_allclose(tuned.predict(X), first.predict(X), rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------- categorical inputs
def _credit_frame(n=600, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "amount": rng.normal(5e4, 2e4, n),
        "grade": pd.Series(rng.choice(["A", "B", "C"], n), dtype="object"),
        "education": rng.integers(1, 5, n),  # integer-coded category
        "age": rng.uniform(20, 70, n),
    })
    eta = (df["amount"] - 5e4) / 2e4 + (df["grade"] == "A") - 1.5 * (df["education"] == 3)
    y = (eta + rng.normal(0, 0.5, n) > 0).astype(int)
    return df, y.to_numpy()


def test_categorical_columns_are_one_hot_encoded_with_groups():
    df, y = _credit_frame()
    clf = _fast(categorical_features=["education"]).fit(df, y)
    # oracle: pandas' own one-hot encoding, columns expanded in place
    dummies = pd.concat(
        [df[["amount"]], pd.get_dummies(df["grade"], prefix="grade", dtype=float),
         pd.get_dummies(df["education"], prefix="education", dtype=float), df[["age"]]],
        axis=1,
    )
    assert list(clf.get_feature_names_out()) == list(dummies.columns)
    np.testing.assert_array_equal(clf.transform_inputs(df), dummies.to_numpy(dtype=float))
    groups = {"grade": ("grade_A", "grade_B", "grade_C"),
              "education": ("education_1", "education_2", "education_3", "education_4")}
    assert clf.feature_groups_ == groups
    assert dict(clf.network_.feature_groups) == groups
    assert clf.categorical_features_ == ["grade", "education"]
    # one-hot columns are not standardised; numeric ones are
    np.testing.assert_array_equal(clf.input_scale_[1:8], 1.0)
    assert clf.input_scale_[0] == pytest.approx(df["amount"].std(ddof=0))
    np.testing.assert_array_equal(
        clf.decision_function(df), clf.network_.forward(dummies.to_numpy(dtype=float))[:, 0])
    with pytest.raises(ValueError, match="same order"):  # scikit-learn's rule
        clf.predict_proba(df[df.columns[::-1]])
    regions = unwrap(clf, df)  # raw rows through the estimator's encoding
    assert regions.feature_names == tuple(dummies.columns)
    assert regions.max_abs_error < 1e-9
    assert clf.score(df, y) > 0.75


def test_integer_codes_given_as_categorical_behave_like_category_dtype():
    df, y = _credit_frame(seed=1)
    as_codes = _fast(categorical_features=["education", 1]).fit(df, y)
    cat = df.assign(education=df["education"].astype("category"))
    as_category = _fast().fit(cat, y)
    assert as_codes.network_ == as_category.network_  # bitwise equal training
    # plain arrays with positions work too (names x0, x1, ...)
    arr = _fast(categorical_features=[1, 2]).fit(df.to_numpy(dtype=object), y)
    assert list(arr.get_feature_names_out())[:3] == ["x0", "x1_A", "x1_B"]
    np.testing.assert_allclose(arr.predict_proba(df.to_numpy(dtype=object)),
                               as_codes.predict_proba(df), atol=1e-12)


def test_unseen_category_warns_and_encodes_as_zeros():
    df, y = _credit_frame(seed=2)
    clf = _fast(categorical_features=["education"]).fit(df, y)
    new = df.iloc[:3].copy()
    new["grade"] = ["A", "Z", "B"]
    with pytest.warns(UserWarning, match=r"\['grade'\] hold categories never seen"):
        Z = clf.transform_inputs(new)
    np.testing.assert_array_equal(Z[1, 1:4], 0.0)
    with pytest.raises(ValueError, match="missing"):
        clf.predict(new.assign(grade=[None, "A", "B"]))
    with pytest.raises(ValueError, match="features|columns|names"):
        clf.predict(df.drop(columns="age"))


def test_categorical_estimator_saves_and_loads(tmp_path):
    from glassnet.persist import load, save

    df, y = _credit_frame(n=300, seed=3)
    clf = _fast(categorical_features=["education"], max_epochs=5).fit(df, y)
    save(clf, tmp_path / "clf.glassnet")
    back = load(tmp_path / "clf.glassnet")
    np.testing.assert_array_equal(back.predict_proba(df), clf.predict_proba(df))
    assert back.network_.feature_groups == clf.network_.feature_groups


# ---------------------------------------------------------------------- folding (hypothesis)
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), log_scale=st.floats(-3, 6), shift=st.floats(-1e5, 1e5))
def test_folded_network_equals_network_on_standardised_inputs(seed, log_scale, shift):
    """Exact to 1e-9 relative for means up to 1e5 standard deviations from 0 (the fold's
    rounding grows like 1e-16 * |mean / scale|; see docs/training.md)."""
    rng = np.random.default_rng(seed)
    d, h = 4, (5, 3)
    sizes = [d, *h, 1]
    Ws = [rng.normal(size=(b, a)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [rng.normal(size=b) for b in sizes[1:]]
    scale = 10.0 ** (log_scale + rng.uniform(-2, 2, d))
    mean = (shift + rng.normal(size=d)) * scale  # |mean| / scale up to about 1e5
    Z = rng.normal(size=(60, d))
    # points on first-layer boundaries: move each row onto one neuron's hyperplane
    for i in range(20):
        k = i % h[0]
        w, b0 = Ws[0][k], bs[0][k]
        Z[i] -= (w @ Z[i] + b0) / (w @ w) * w
    X = mean + Z * scale  # raw rows far from standardised
    std_net = ReluNetwork(Ws, bs)
    Wf, bf = fold_standardization(Ws, bs, mean, scale)
    folded = ReluNetwork(Wf, bf)
    ref = std_net.forward((X - mean) / scale)
    out = folded.forward(X)
    tol = 1e-9 * np.maximum(1.0, np.abs(ref))
    assert (np.abs(out - ref) <= tol).all()
    Wu, bu = unfold_standardization(Wf, bf, mean, scale)
    np.testing.assert_allclose(Wu[0], Ws[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(bu[0], bs[0], rtol=1e-9, atol=1e-9 * max(1.0, np.abs(bf[0]).max()))


def test_standardization_is_weighted_by_sample_weight():
    X, y = _raw_scaled_data(seed=3)
    w = np.random.default_rng(0).uniform(0, 3, len(y))
    clf = _fast(max_epochs=2).fit(X, y, sample_weight=w)
    mean = np.average(X, axis=0, weights=w)
    np.testing.assert_allclose(clf.input_mean_, mean, rtol=1e-12)
    sd = np.sqrt(np.average((X - mean) ** 2, axis=0, weights=w))
    np.testing.assert_allclose(clf.input_scale_[[0, 1, 3]], sd[[0, 1, 3]], rtol=1e-10)
    assert clf.input_scale_[2] == 1.0  # the constant column
