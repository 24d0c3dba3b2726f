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
