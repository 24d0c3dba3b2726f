"""Pipelines (issue 14 item 3, issue 12 defect 5): exact against the pipeline's own
predictions on raw rows, or refused naming the step."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    MaxAbsScaler,
    MinMaxScaler,
    OneHotEncoder,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)

import glassnet
from glassnet import ReluNetClassifier, ReluNetRegressor, unwrap
from glassnet.io import ImportMismatchError, as_network, from_sklearn, input_encoder


def _mlpc(hidden, **kw):
    return MLPClassifier(hidden_layer_sizes=hidden, random_state=0, **kw)


def _mlpr(hidden, **kw):
    return MLPRegressor(hidden_layer_sizes=hidden, random_state=0, **kw)


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    # raw units far from standardised: offsets and scales up to 1e4
    X = rng.normal(size=(300, 3)) * [1.0, 30.0, 1e4] + [5.0, -200.0, 5e4]
    X[:, 0] = np.abs(X[:, 0])  # a non-negative column
    y = ((X[:, 0] - 5) + (X[:, 1] + 200) / 30 > 0).astype(int)
    y_reg = X[:, 0] * 2 + X[:, 1] / 30 + rng.normal(size=300)
    return X, y, y_reg


SCALERS = [
    StandardScaler(),
    StandardScaler(with_mean=False),  # issue 12: the mean used to be subtracted anyway
    StandardScaler(with_std=False),
    StandardScaler(with_mean=False, with_std=False),
    MinMaxScaler(),
    MinMaxScaler(feature_range=(-3.0, 0.5)),
    RobustScaler(),
    RobustScaler(with_centering=False),
    RobustScaler(with_scaling=False),
    RobustScaler(quantile_range=(10.0, 90.0), unit_variance=True),
    MaxAbsScaler(),
]


def _rel_err(a, b):
    return float(np.max(np.abs(a - b)) / max(1.0, float(np.max(np.abs(b)))))


@pytest.mark.parametrize("scaler", SCALERS, ids=lambda s: repr(s))
def test_scaler_pipelines_are_exact_on_raw_rows(data, scaler):
    X, y, y_reg = data
    clf = _fit(make_pipeline(scaler, _mlpc((6, 5), max_iter=60)), X, y)
    net = from_sklearn(clf)
    p = net.predict_output(X)[:, 0]
    assert _rel_err(p, clf.predict_proba(X)[:, 1]) <= 1e-9
    reg = _fit(make_pipeline(scaler, _mlpr((6,), max_iter=60)), X, y_reg)
    net_r = as_network(reg)
    assert _rel_err(net_r.forward(X)[:, 0], reg.predict(X)) <= 1e-9
    # unwrap on raw rows: every local linear model reproduces the pipeline exactly
    regions = unwrap(reg, X)
    lab = regions.labels
    llm = np.einsum("nkd,nd->nk", regions.coef[lab], X) + regions.intercept[lab]
    assert _rel_err(llm[:, 0], reg.predict(X)) <= 1e-9


def test_two_scalers_and_passthrough_compose(data):
    X, y, _ = data
    pipe = _fit(Pipeline([("a", RobustScaler()), ("skip", "passthrough"), ("b", MinMaxScaler()),
                          ("mlp", _mlpc((5,), max_iter=60))]), X, y)
    assert _rel_err(from_sklearn(pipe).predict_output(X)[:, 0],
                    pipe.predict_proba(X)[:, 1]) <= 1e-9


def test_clipping_scaler_is_refused_naming_the_step(data):
    X, y, _ = data
    pipe = _fit(make_pipeline(MinMaxScaler(clip=True), _mlpc((4,), max_iter=20)), X, y)
    with pytest.raises(TypeError, match=r"step 0 \('minmaxscaler'.*clip=True.*not affine"):
        from_sklearn(pipe)


class MyScaler(StandardScaler):
    """A subclass may transform differently: never read as a StandardScaler."""


@pytest.mark.parametrize("step", [PolynomialFeatures(), MyScaler()], ids=["poly", "subclass"])
def test_unsupported_steps_are_refused_naming_them(data, step):
    X, y, _ = data
    pipe = _fit(make_pipeline(StandardScaler(), step, _mlpc((4,), max_iter=20)), X, y)
    name = type(step).__name__
    with pytest.raises(TypeError, match=rf"step 1 \('{name.lower()}', {name}\) is not supported"):
        from_sklearn(pipe)


def test_pipeline_not_ending_in_a_network_is_refused_without_mlm_advice(data):
    from sklearn.linear_model import LogisticRegression

    X, y, _ = data
    pipe = _fit(make_pipeline(StandardScaler(), LogisticRegression()), X, y)
    with pytest.raises(TypeError, match=r"step 1 \('logisticregression'") as info:
        as_network(pipe)
    assert "MixtureOfLinearModels" not in str(info.value)


@pytest.mark.parametrize("est_cls", [ReluNetClassifier, ReluNetRegressor])
def test_pipelines_ending_in_glassnet_estimators(data, est_cls):
    X, y, y_reg = data
    est = est_cls(hidden_layer_sizes=(6,), max_epochs=3, random_state=0)
    pipe = _fit(make_pipeline(StandardScaler(with_mean=False), est), X,
                y if est_cls is ReluNetClassifier else y_reg)
    net = as_network(pipe)
    if est_cls is ReluNetClassifier:
        assert _rel_err(net.predict_output(X)[:, 0], pipe.predict_proba(X)[:, 1]) <= 1e-9
    else:
        assert _rel_err(net.forward(X)[:, 0], pipe.predict(X)) <= 1e-9
    regions = unwrap(pipe, X)  # no more "use MixtureOfLinearModels" for our own estimators
    assert regions.n_samples == X.shape[0]


def test_frozen_estimator_and_regions_are_accepted(data):
    from sklearn.frozen import FrozenEstimator

    X, y, _ = data
    pipe = _fit(make_pipeline(StandardScaler(), _mlpc((5,), max_iter=40)),
                X, y)
    net = as_network(FrozenEstimator(pipe))
    assert net == as_network(pipe)
    regions = unwrap(net, X)
    assert as_network(regions) is net


# ------------------------------------------------------------------ one-hot encoding
@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(3)
    n = 400
    df = pd.DataFrame({
        "limit": rng.normal(5e4, 2e4, n),
        "edu": rng.choice(["grad", "uni", "high", "other"], n),
        "age": rng.integers(21, 70, n).astype(float),
        "sex": rng.choice([1, 2], n),  # integer-coded category
    })
    y = ((df["limit"] > 5e4) ^ (df["edu"] == "uni")).astype(int).to_numpy()
    return df, y


@pytest.mark.parametrize(
    "ohe",
    [
        OneHotEncoder(sparse_output=False),
        OneHotEncoder(drop="first", sparse_output=False),
        OneHotEncoder(drop="if_binary", handle_unknown="ignore"),  # sparse output
        OneHotEncoder(handle_unknown="infrequent_if_exist", min_frequency=80,
                      sparse_output=False),
    ],
    ids=["dense", "drop-first", "if-binary-sparse", "infrequent"],
)
@pytest.mark.parametrize("remainder", ["drop", "passthrough", MinMaxScaler()],
                         ids=["drop", "passthrough", "scaled"])
def test_column_transformer_with_one_hot_is_exact_and_records_groups(frame, ohe, remainder):
    df, y = frame
    ct = ColumnTransformer([("num", StandardScaler(), ["limit"]), ("cat", ohe, ["edu", "sex"])],
                           remainder=remainder)
    pipe = _fit(make_pipeline(ct, _mlpc((8,), max_iter=80)), df, y)
    net = as_network(pipe)
    encode = input_encoder(pipe)
    assert encode is not None
    Z = encode(df)
    assert _rel_err(net.predict_output(Z)[:, 0], pipe.predict_proba(df)[:, 1]) <= 1e-9
    groups = dict(net.feature_groups)
    assert set(groups) == {"edu", "sex"}
    # the oracle for the groups: scikit-learn's own output names, without the prefixes
    out = [n.split("__", 1)[1] for n in ct.get_feature_names_out()]
    assert list(net.feature_names) == out
    for col, members in groups.items():
        assert all(m.startswith(col + "_") for m in members)
        assert len(members) == sum(n.startswith(col + "_") for n in out)
    # numeric columns are in raw units: the scaler is folded into the network
    assert "limit" in net.feature_names
    # columns in another order are matched by name; unknown categories follow the pipeline
    shuffled = df[df.columns[::-1]]
    np.testing.assert_array_equal(encode(shuffled), Z)
    if ohe.handle_unknown != "error":
        odd = df.head(5).assign(edu="never seen")
        with warnings.catch_warnings():  # scikit-learn's own "unknown categories" warning
            warnings.simplefilter("ignore", UserWarning)
            assert _rel_err(net.predict_output(encode(odd))[:, 0],
                            pipe.predict_proba(odd)[:, 1]) <= 1e-9


def test_one_hot_alone_and_groups_sum_over_every_input(frame):
    df, y = frame
    cats = df[["edu", "sex"]]
    pipe = _fit(make_pipeline(OneHotEncoder(sparse_output=False),
                              _mlpc((4,), max_iter=50)), cats, y)
    net = as_network(pipe)
    idx = net.groups_index()
    assert sorted(idx) == ["edu", "sex"]
    assert sorted(np.concatenate(list(idx.values())).tolist()) == list(range(net.n_features))
    assert _rel_err(net.predict_output(input_encoder(pipe)(cats))[:, 0],
                    pipe.predict_proba(cats)[:, 1]) <= 1e-9


def test_one_hot_after_another_step_is_refused(frame):
    df, y = frame
    num = df[["limit", "age"]]
    pipe = _fit(make_pipeline(StandardScaler(), OneHotEncoder(handle_unknown="ignore"),
                              _mlpc((3,), max_iter=5)), num, y)
    with pytest.raises(TypeError, match=r"step 1 \('onehotencoder'.*first"):
        as_network(pipe)


def test_encoder_refuses_rows_it_cannot_encode(frame):
    df, y = frame
    ct = ColumnTransformer([("num", "passthrough", ["limit"]),
                            ("cat", OneHotEncoder(sparse_output=False), ["edu"])])
    pipe = _fit(make_pipeline(ct, _mlpc((3,), max_iter=5)), df, y)
    encode = input_encoder(pipe)
    with pytest.raises(ValueError, match="edu"):
        encode(df[["limit", "age"]])


def test_plain_models_have_no_encoder(data):
    X, y, _ = data
    pipe = _fit(make_pipeline(StandardScaler(), _mlpc((3,), max_iter=5)), X, y)
    assert input_encoder(pipe) is None
    assert input_encoder(as_network(pipe)) is None


# ------------------------------------------------------------------ last line of defence
def test_probe_check_catches_a_misread_scaler(data, monkeypatch):
    """Reinstate issue 12's defect (with_mean ignored): the probe rows must catch it."""
    import glassnet.io._sklearn as imp
    from glassnet.io._compose import Affine

    def buggy(step, where):
        if type(step) is StandardScaler:
            return Affine(np.diag(1 / step.scale_), -step.mean_ / step.scale_, where)
        return None

    monkeypatch.setattr(imp, "scaler_affine", buggy)
    X, y, _ = data
    pipe = _fit(make_pipeline(StandardScaler(with_mean=False),
                              _mlpc((5,), max_iter=60)), X, y)
    with pytest.raises(ImportMismatchError, match="does not reproduce the original"):
        from_sklearn(pipe)


def test_glassnet_namespace_exports():
    assert glassnet.io.input_encoder is input_encoder
    assert issubclass(ImportMismatchError, ValueError)


def test_unwrap_one_hot_pipeline_on_raw_frame(frame):
    df, y = frame
    ct = ColumnTransformer([("num", RobustScaler(), ["limit", "age"]),
                            ("cat", OneHotEncoder(handle_unknown="ignore"), ["edu"])])
    pipe = _fit(make_pipeline(ct, _mlpc((6,), max_iter=80)), df, y)
    regions = unwrap(pipe, df)  # raw rows: encoded with the pipeline's own encoder
    Z = ct.transform(df)  # scikit-learn's encoding, scaled: the oracle works in raw units
    raw = np.column_stack([df["limit"], df["age"], Z[:, 2:]])
    lab = regions.labels
    eta = np.einsum("nkd,nd->nk", regions.coef[lab], raw) + regions.intercept[lab]
    p = 1 / (1 + np.exp(-eta[:, 0]))
    assert _rel_err(p, pipe.predict_proba(df)[:, 1]) <= 1e-9
    assert regions.max_abs_error < 1e-9


def test_column_transformer_of_scalers_is_folded_into_raw_rows(data):
    X, y, _ = data
    ct = ColumnTransformer([("a", MaxAbsScaler(), [2]), ("b", StandardScaler(with_std=False), [0])],
                           remainder="drop")  # column 1 dropped, columns reordered
    pipe = _fit(make_pipeline(ct, _mlpc((5,), max_iter=60)), X, y)
    net = as_network(pipe)
    assert net.n_features == 3 and input_encoder(pipe) is None
    assert _rel_err(net.predict_output(X)[:, 0], pipe.predict_proba(X)[:, 1]) <= 1e-9
    assert not np.any(net.weights[0][:, 1])  # the dropped column has no influence


# ------------------------------------------------------------------ hypothesis: random pipelines
SCALER_FACTORIES = [
    lambda d: StandardScaler(with_mean=d.draw(st.booleans()), with_std=d.draw(st.booleans())),
    lambda d: MinMaxScaler(feature_range=(d.draw(st.floats(-5, 0)), d.draw(st.floats(0.5, 5)))),
    lambda d: RobustScaler(with_centering=d.draw(st.booleans()),
                           with_scaling=d.draw(st.booleans()),
                           unit_variance=d.draw(st.booleans())),
    lambda d: MaxAbsScaler(),
]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_scaler_pipelines_exact_near_region_boundaries(data):
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    d = data.draw(st.integers(1, 4))
    scale = 10.0 ** data.draw(st.integers(-3, 4))
    X = (rng.normal(size=(60, d)) + rng.normal(size=d) * 3) * scale
    y = (X[:, 0] > np.median(X[:, 0])).astype(int)
    steps = [data.draw(st.sampled_from(SCALER_FACTORIES))(data)
             for _ in range(data.draw(st.integers(1, 2)))]
    pipe = _fit(make_pipeline(*steps, _mlpc((5, 3), max_iter=15)), X, y)
    net = from_sklearn(pipe)
    # rows moved onto (and just past) a first-layer boundary of the imported network
    W, b = net.weights[0], net.biases[0]
    j = data.draw(st.integers(0, W.shape[0] - 1))
    if np.any(W[j]):
        z = X @ W[j] + b[j]
        on_boundary = X - np.outer(z / (W[j] @ W[j]), W[j])
        X = np.vstack([X, on_boundary, on_boundary + 1e-9 * scale * W[j] / np.linalg.norm(W[j])])
    regions = unwrap(net, X)
    lab = regions.labels
    eta = np.einsum("nkd,nd->nk", regions.coef[lab], X) + regions.intercept[lab]
    p_llm = 1 / (1 + np.exp(-eta[:, 0]))
    p_pipe = pipe.predict_proba(X)[:, 1]
    assert _rel_err(net.predict_output(X)[:, 0], p_pipe) <= 1e-9
    assert _rel_err(p_llm, p_pipe) <= 1e-9


def test_streamed_unwrap_of_one_hot_pipeline_matches_in_memory(frame, tmp_path):
    df, y = frame
    ct = ColumnTransformer([("num", StandardScaler(), ["limit"]),
                            ("cat", OneHotEncoder(handle_unknown="ignore"), ["edu", "sex"])])
    pipe = _fit(make_pipeline(ct, _mlpc((6,), max_iter=80)), df, y)
    ref = unwrap(pipe, df, y)
    framed = df.assign(target=y)
    by_name = unwrap(pipe, (framed.iloc[s : s + 70] for s in range(0, len(df), 70)), "target")
    tuples = unwrap(pipe, ((df.iloc[s : s + 90], y[s : s + 90]) for s in range(0, len(df), 90)))
    path = tmp_path / "raw.csv"
    framed.to_csv(path, index=False)  # raw text categories in the file
    from_file = unwrap(pipe, path, "target", chunk_size=64)
    for streamed in (by_name, tuples, from_file):
        assert streamed.counts.tolist() == ref.counts.tolist()
        np.testing.assert_allclose(streamed.coef, ref.coef, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(streamed.y_sum, ref.y_sum)
        assert streamed.max_abs_error < 1e-9
