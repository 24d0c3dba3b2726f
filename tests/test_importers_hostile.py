"""Hostile numbers: certificates that cannot lie (issue 12 defect 6) and partition boxes
whose areas overflow (defect 11)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import random_network

import glassnet
from glassnet import ReluNetwork, unwrap
from glassnet.partition import partition_2d
from glassnet.regions import NonFiniteError


def _overflowing():
    # finite weights whose product overflows float64 in the output layer
    return ReluNetwork([np.full((2, 2), 1e200), np.full((1, 2), 1e200)], [np.zeros(2), np.zeros(1)])


def _chunks(X, step):
    for s in range(0, X.shape[0], step):
        yield X[s : s + step]


def test_overflowing_output_is_an_error_naming_the_layer_everywhere():
    net = _overflowing()
    X = np.ones((6, 2))
    with pytest.raises(NonFiniteError, match=r"row 0 .*output layer \(weights\[1\]\)"):
        unwrap(net, X)
    with pytest.raises(ValueError, match=r"weights\[1\]"):  # NonFiniteError is a ValueError
        unwrap(net, _chunks(X, 2))
    import dask.array as da

    with pytest.raises(NonFiniteError, match=r"weights\[1\]"):
        glassnet.dask.unwrap(net, da.from_array(X, chunks=(2, 2)))


def test_overflow_in_a_hidden_layer_is_named():
    net = ReluNetwork([np.full((2, 2), 1e300), np.full((2, 2), 1e300), np.ones((1, 2))],
                      [np.zeros(2)] * 2 + [np.zeros(1)])
    X = np.vstack([np.full((3, 2), 1e-300), [[1.0, 1.0]]])  # only the last row overflows
    with pytest.raises(NonFiniteError, match=r"row 3 .*hidden layer 2 \(weights\[1\]\)"):
        unwrap(net, X)


def test_local_model_overflow_with_finite_output_is_not_certified_as_exact():
    # W1 W0 = 1e400 overflows although every output is finite for tiny inputs: the old
    # certificate max(0, nan) reported 0.0 here.
    net = ReluNetwork([np.array([[1e200]]), np.array([[1e200]])], [np.zeros(1), np.zeros(1)])
    X = np.array([[1e-300], [2e-300]])
    assert np.isfinite(net.forward(X)).all()
    with pytest.raises(NonFiniteError, match="local linear model"):
        unwrap(net, X)
    with pytest.raises(NonFiniteError, match="local linear model"):
        unwrap(net, _chunks(X, 1))


def _brute_force_error(net, X, regions):
    """Independent recomputation: each row's LLM from its own activation mask."""
    worst = 0.0
    for x, lab in zip(X, regions.labels, strict=True):
        a, M, v = x, np.eye(len(x)), np.zeros(len(x))
        for W, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
            z = W @ a + b
            on = (z > 0).astype(float)
            M, v = (W @ M) * on[:, None], (W @ v + b) * on
            a = np.maximum(z, 0)
        out = net.weights[-1] @ a + net.biases[-1]
        llm = regions.coef[lab] @ x + regions.intercept[lab]
        worst = max(worst, float(np.abs(llm - out).max()))
    return worst


@pytest.mark.parametrize("how", ["memory", "chunks", "dask"])
def test_certificate_covers_every_chunk(rng, how):
    # Rounding grows with the scale of the rows, so the largest error sits in the LAST
    # chunk: a certificate computed over the first chunk only (issue 19's mutant) is
    # orders of magnitude too small and fails this test.
    net = random_network(rng, 3, (6, 5), 2)
    X = np.vstack([rng.normal(size=(40, 3)), rng.normal(size=(10, 3)) * 1e6])
    if how == "memory":
        regions = unwrap(net, X, chunk_size=8)
    elif how == "chunks":
        regions = unwrap(net, _chunks(X, 8))
    else:
        import dask.array as da

        regions = glassnet.dask.unwrap(net, da.from_array(X, chunks=(8, 3)))
    brute = _brute_force_error(net, X, regions) if how == "memory" else None
    if brute is None:  # labels of the streamed result follow the in-memory order
        brute = _brute_force_error(net, X, unwrap(net, X, chunk_size=8))
    assert brute > 1e-11  # the large rows really do carry the largest rounding error
    assert regions.max_abs_error >= 0.05 * brute
    assert regions.max_abs_error <= 20 * brute + 1e-12


@pytest.mark.parametrize(
    "bounds, match",
    [
        (((-1e300, 1e300), (-1e300, 1e300)), "overflows"),
        (((-1.7e308, 1.7e308), (0.0, 1.0)), "overflows"),
        (((0.0, 1e-200), (0.0, 1e-200)), "degenerate"),
        (((1.0, 1.0 + 2.3e-16), (0.0, 1.0)), "degenerate"),
        (((0.0, 1.0), (np.inf, 2.0)), "finite"),
    ],
)
def test_partition_refuses_boxes_without_a_finite_area(rng, bounds, match):
    net = random_network(rng, 2, (4,), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning may escape either
        with pytest.raises(ValueError, match=match):
            partition_2d(net, bounds)


def test_partition_refuses_overflowing_plane():
    net = ReluNetwork([np.eye(3) * 1e200, np.full((1, 3), 1e200)], [np.zeros(3), np.zeros(1)])
    plane = (np.zeros(3), np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="not finite"):
            partition_2d(net, ((-1.0, 1.0), (-1.0, 1.0)), plane=plane)


# ---------------------------------------------------------------- torch: exact types only
def _torch_classes():
    import torch
    from torch import nn

    class LeakyLinear(nn.Linear):  # a subclass with its own forward
        def forward(self, x):
            return super().forward(x) * 1.5

    class ClampReLU(nn.ReLU):
        def forward(self, x):
            return torch.clamp(x, min=-0.5)

    class Flatten(nn.Module):  # same name as torch's, different function
        def forward(self, x):
            return x * 2.0

    class Dropout(nn.Module):
        def forward(self, x):
            return x + 1.0

    class MySequential(nn.Sequential):
        def forward(self, x):
            return super().forward(x) - 3.0

    return LeakyLinear, ClampReLU, Flatten, Dropout, MySequential


@pytest.mark.parametrize("case", ["linear", "relu", "flatten", "dropout", "sequential"])
def test_torch_lookalike_layers_are_refused_naming_them(case):
    import torch
    from torch import nn

    LeakyLinear, ClampReLU, Flatten, Dropout, MySequential = _torch_classes()
    torch.manual_seed(0)
    layers = {
        "linear": [LeakyLinear(3, 4), nn.ReLU(), nn.Linear(4, 1)],
        "relu": [nn.Linear(3, 4), ClampReLU(), nn.Linear(4, 1)],
        "flatten": [Flatten(), nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1)],
        "dropout": [nn.Linear(3, 4), nn.ReLU(), Dropout(), nn.Linear(4, 1)],
    }
    if case == "sequential":
        module = MySequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
        match = "MySequential"
    else:
        module = nn.Sequential(*layers[case])
        match = {"linear": r"layer 0 \(LeakyLinear", "relu": r"layer 1 \(ClampReLU",
                 "flatten": r"layer 0 \(Flatten from", "dropout": r"layer 2 \(Dropout from"}[case]
    with pytest.raises(TypeError, match=match):
        glassnet.ReluNetwork.from_torch(module)


def test_torch_hooks_odd_dtypes_and_flatten_rows_refused():
    import torch
    from torch import nn

    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    handle = m[1].register_forward_hook(lambda mod, inp, out: out * 2)
    with pytest.raises(TypeError, match="hooks"):
        glassnet.ReluNetwork.from_torch(m)
    handle.remove()
    glassnet.ReluNetwork.from_torch(m)  # fine once the hook is gone
    with pytest.raises(TypeError, match="float16"):
        glassnet.ReluNetwork.from_torch(nn.Sequential(nn.Linear(3, 2)).half())
    with pytest.raises(TypeError, match="start_dim"):
        glassnet.ReluNetwork.from_torch(nn.Sequential(nn.Flatten(0), nn.Linear(3, 1)))
    with pytest.raises(TypeError, match="meta"):  # torch raised NotImplementedError here
        glassnet.ReluNetwork.from_torch(nn.Sequential(nn.Linear(3, 2, device="meta")))
    del torch


def test_torch_train_mode_is_imported_as_eval_and_modes_are_restored():
    import torch
    from torch import nn

    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Dropout(0.5),
                      nn.Linear(5, 1)).double()
    with torch.no_grad():
        m(torch.randn(64, 3, dtype=torch.float64) * 3 + 1)  # running statistics
    m.train()
    net = glassnet.ReluNetwork.from_torch(m)
    assert all(mod.training for mod in m.modules())  # the probe check restored every mode
    X = np.random.default_rng(0).normal(size=(20, 3))
    m.eval()
    with torch.no_grad():
        ref = m(torch.as_tensor(X)).numpy()
    np.testing.assert_allclose(net.forward(X), ref, rtol=1e-10, atol=1e-12)


def test_torch_probe_check_catches_a_name_based_reader(monkeypatch):
    """Reinstate issue 12's defect (layers recognised by name): the probe rows catch it."""
    import torch
    from torch import nn

    import glassnet.io._torch as imp

    _, _, Flatten, _, _ = _torch_classes()
    monkeypatch.setattr(imp, "_no_ops", lambda: (nn.Identity, nn.Dropout, Flatten))
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), Flatten(), nn.Linear(4, 1))
    with pytest.raises(glassnet.io.ImportMismatchError, match="does not reproduce"):
        glassnet.ReluNetwork.from_torch(m)


# ---------------------------------------------------------------- scikit-learn odd models
def test_sklearn_mlp_odd_activations_and_losses_refused():
    import warnings as w

    from sklearn.neural_network import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    with w.catch_warnings():
        w.simplefilter("ignore")
        poisson = MLPRegressor(loss="poisson", hidden_layer_sizes=(3,), max_iter=20).fit(
            X, np.exp(X[:, 0]))
        logistic = MLPClassifier(hidden_layer_sizes=(3,), activation="logistic",
                                 max_iter=20).fit(X, X[:, 0] > 0)
    with pytest.raises(TypeError, match="output activation 'exp'"):
        glassnet.io.from_sklearn(poisson)
    with pytest.raises(TypeError, match="activation='logistic'"):
        glassnet.io.from_sklearn(logistic)

    class MyMLP(MLPClassifier):
        pass

    with w.catch_warnings():
        w.simplefilter("ignore")
        sub = MyMLP(hidden_layer_sizes=(3,), max_iter=20).fit(X, X[:, 0] > 0)
    with pytest.raises(TypeError, match="MyMLP is not supported"):
        glassnet.io.from_sklearn(sub)
