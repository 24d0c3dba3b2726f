"""Importers: scikit-learn MLPs (and pipelines) and torch Sequentials agree with the source."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, MinMaxScaler, RobustScaler, StandardScaler

from glassnet import ReluNetwork, unwrap
from glassnet.io import as_network


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.fixture
def data(rng):
    X = rng.normal(size=(200, 4)) * [1.0, 10.0, 0.1, 3.0] + [0.0, 50.0, 0.0, -2.0]
    return X


@pytest.mark.parametrize("n_classes", [2, 3])
def test_sklearn_classifier_matches_predict_proba(data, n_classes):
    y = np.digitize(data[:, 0], np.quantile(data[:, 0], np.linspace(0, 1, n_classes + 1)[1:-1]))
    est = _fit(MLPClassifier(hidden_layer_sizes=(8, 6), max_iter=200, random_state=0), data, y)
    net = ReluNetwork.from_sklearn(est)
    proba = est.predict_proba(data)
    got = net.predict_output(data)
    if n_classes == 2:
        assert net.output == "sigmoid" and got.shape == (200, 1)
        np.testing.assert_allclose(got[:, 0], proba[:, 1], rtol=1e-9, atol=1e-12)
    else:
        assert net.output == "softmax"
        np.testing.assert_allclose(got, proba, rtol=1e-9, atol=1e-12)
    regions = unwrap(net, data)
    assert regions.max_abs_error < 1e-9


def test_sklearn_multi_output_regressor(data):
    Y = np.c_[data.sum(axis=1), data[:, 0] ** 2]
    est = _fit(MLPRegressor(hidden_layer_sizes=(10,), max_iter=300, random_state=0), data, Y)
    net = ReluNetwork.from_sklearn(est)
    assert net.output == "identity" and net.n_outputs == 2
    np.testing.assert_allclose(net.predict_output(data), est.predict(data), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("scaler", [StandardScaler(), MinMaxScaler(), MaxAbsScaler(),
                                    RobustScaler()])
def test_sklearn_pipeline_scalers_folded(data, scaler):
    y = data[:, 1] - 50 + data[:, 0]
    pipe = _fit(make_pipeline(scaler, MLPRegressor(hidden_layer_sizes=(6, 6), max_iter=300,
                                                   random_state=0)), data, y)
    net = ReluNetwork.from_sklearn(pipe)
    np.testing.assert_allclose(net.forward(data)[:, 0], pipe.predict(data), rtol=1e-9, atol=1e-9)
    assert net.n_features == 4


def test_sklearn_feature_names_from_dataframe(data):
    df = pd.DataFrame(data, columns=["a", "b", "c", "d"])
    est = _fit(MLPRegressor(hidden_layer_sizes=(4,), max_iter=50, random_state=0), df, data[:, 0])
    assert ReluNetwork.from_sklearn(est).feature_names == ("a", "b", "c", "d")


def test_sklearn_errors(data):
    y = (data[:, 0] > 0).astype(int)
    with pytest.raises(TypeError, match="tanh"):
        ReluNetwork.from_sklearn(_fit(MLPClassifier(hidden_layer_sizes=(3,), activation="tanh",
                                                    max_iter=20), data, y))
    with pytest.raises(ValueError, match="not fitted"):
        ReluNetwork.from_sklearn(MLPClassifier())
    from sklearn.linear_model import LogisticRegression

    with pytest.raises(TypeError, match="LogisticRegression"):
        ReluNetwork.from_sklearn(LogisticRegression().fit(data, y))
    with pytest.raises(TypeError):
        ReluNetwork.from_sklearn(_fit(make_pipeline(MinMaxScaler(clip=True), MLPClassifier(
            hidden_layer_sizes=(3,), max_iter=20)), data, y))


def _torch_out(module, X):
    module.eval()
    with torch.no_grad():
        dtype = next(module.parameters()).dtype
        return module(torch.as_tensor(X, dtype=dtype)).double().numpy()


def test_torch_sequential_with_batchnorm_dropout_flatten(data):
    torch.manual_seed(0)
    module = torch.nn.Sequential(
        torch.nn.Flatten(),
        torch.nn.Linear(4, 16),
        torch.nn.BatchNorm1d(16),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.3),
        torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Identity()),
        torch.nn.BatchNorm1d(8),
        torch.nn.Linear(8, 3),
        torch.nn.Softmax(dim=1),
    ).double()
    # give BatchNorm non-trivial running statistics and affine parameters
    module.train()
    with torch.no_grad():
        for _ in range(5):
            module(torch.as_tensor(data * 1.3 + 0.5))
        for m in module.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.weight.uniform_(0.5, 2.0)
                m.bias.uniform_(-1, 1)
    net = ReluNetwork.from_torch(module)
    assert net.output == "softmax"
    assert net.hidden_sizes == (16, 8)
    expected = _torch_out(module, data)
    np.testing.assert_allclose(net.predict_output(data), expected, rtol=1e-9, atol=1e-12)
    assert unwrap(net, data).max_abs_error < 1e-9


def test_torch_float32_and_sigmoid(data):
    torch.manual_seed(1)
    module = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.ReLU(), torch.nn.Linear(5, 1),
                                 torch.nn.Sigmoid())
    net = ReluNetwork.from_torch(module)
    assert net.output == "sigmoid"
    got32 = _torch_out(module, data.astype(np.float32))
    np.testing.assert_allclose(net.predict_output(data), got32, rtol=1e-5)
    # the import itself is float64: same weights give the same raw output as a float64 module
    expected = _torch_out(module.double(), data)
    np.testing.assert_allclose(net.predict_output(data), expected, rtol=1e-12)


def test_torch_errors():
    with pytest.raises(TypeError, match="Tanh"):
        ReluNetwork.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(),
                                                   torch.nn.Linear(3, 1)))
    with pytest.raises(TypeError, match="Sequential"):
        ReluNetwork.from_torch(torch.nn.Conv1d(1, 1, 2))
    with pytest.raises(TypeError, match="LogSoftmax"):
        ReluNetwork.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.LogSoftmax(1)))
    with pytest.raises(ValueError):
        ReluNetwork.from_torch(torch.nn.Sequential(torch.nn.ReLU()))


def test_as_network_dispatch(data):
    est = _fit(MLPRegressor(hidden_layer_sizes=(3,), max_iter=20, random_state=0), data,
               data[:, 0])
    assert isinstance(as_network(est), ReluNetwork)
    mod = torch.nn.Sequential(torch.nn.Linear(4, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    assert as_network(mod).hidden_sizes == (2,)
    net = as_network(est)
    assert as_network(net) is net
    with pytest.raises(TypeError):
        as_network(42)
