"""Gaps found by mutation testing in glassnet.network (issue 19): assertions that were missing.

Oracles: the forward pass and central finite differences (never the local-linear-model code itself).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_network
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet import ReluNetwork


def _finite_difference_jacobian(net, x, eps=1e-6):
    """(k, d) Jacobian of the raw output by central differences (exact inside one region)."""
    d = x.shape[0]
    cols = []
    for j in range(d):
        e = np.zeros(d)
        e[j] = eps
        cols.append((net.forward((x + e)[None]) - net.forward((x - e)[None]))[0] / (2 * eps))
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("shape", [(3, 0), (0, 3)])
def test_weight_matrix_with_an_empty_dimension_is_refused(shape):
    W0 = np.zeros(shape)
    with pytest.raises(ValueError, match="empty dimension"):
        ReluNetwork([W0, np.ones((1, shape[0]))], [np.zeros(shape[0]), np.zeros(1)])


def test_integer_01_patterns_give_the_same_exact_models_as_booleans(rng):
    net = random_network(rng, 3, (5, 4), 2)
    X = rng.normal(size=(30, 3))
    P = net.activation_patterns(X)
    coef_i, icpt_i = net.local_linear_models(P.astype(np.int64))
    coef_u, icpt_u = net.local_linear_models(P.astype(np.uint8))
    # oracle 1: the model reproduces the forward pass at the point that selected it
    pred = np.einsum("rkd,rd->rk", coef_i, X) + icpt_i
    np.testing.assert_allclose(pred, net.forward(X), rtol=1e-10, atol=1e-10)
    # oracle 2: its slope is the finite-difference Jacobian (points far from any boundary)
    for r in range(5):
        np.testing.assert_allclose(coef_i[r], _finite_difference_jacobian(net, X[r]), atol=1e-5)
    np.testing.assert_array_equal(coef_u, coef_i)
    np.testing.assert_array_equal(icpt_u, icpt_i)


def test_patterns_with_values_other_than_0_1_are_refused(rng):
    net = random_network(rng, 2, (3,), 1)
    with pytest.raises(ValueError, match="0/1"):
        net.local_linear_models(np.array([[1, 2, 0]]))
    with pytest.raises(ValueError, match=r"shape \(R, 3\)"):
        net.local_linear_models(np.array([[1, 0]]))


def test_feature_names_are_kept_as_a_tuple_of_strings():
    # hidden width 3 differs from the 2 inputs: names are counted against the inputs
    net = ReluNetwork([np.ones((3, 2)), np.ones((1, 3))], [np.zeros(3), np.zeros(1)],
                      feature_names=["age", 7])
    assert net.feature_names == ("age", "7")
    assert ReluNetwork([np.eye(2)], [np.zeros(2)]).feature_names is None
    with pytest.raises(ValueError, match="3 feature names for 2 input features"):
        ReluNetwork([np.ones((3, 2)), np.ones((1, 3))], [np.zeros(3), np.zeros(1)],
                    feature_names=["a", "b", "c"])


@pytest.mark.parametrize("output", ["identity", "sigmoid", "softmax"])
def test_apply_link_matches_the_textbook_formulas(rng, output):
    k = 1 if output == "sigmoid" else 3
    net = random_network(rng, 2, (4,), k, output)
    eta = rng.normal(scale=3.0, size=(7, k))
    expected = {"identity": eta,
                "sigmoid": 1.0 / (1.0 + np.exp(-eta)),
                "softmax": np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)}[output]
    got = net.apply_link(eta)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    X = rng.normal(size=(5, 2))
    np.testing.assert_allclose(net.predict_output(X), net.apply_link(net.forward(X)), rtol=1e-12)


def test_neuron_affine_maps_match_pre_activations_and_check_the_shape(rng):
    net = random_network(rng, 3, (4, 3), 1)
    X = rng.normal(size=(6, 3))
    P = net.activation_patterns(X)
    Z = np.concatenate(net.pre_activations(X), axis=1)  # oracle: the layer-by-layer forward pass
    for r in range(6):
        A, c = net.neuron_affine_maps(P[r])
        np.testing.assert_allclose(A @ X[r] + c, Z[r], rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match=r"pattern must have shape \(7,\)"):
        net.neuron_affine_maps(P[0, :6])
    with pytest.raises(ValueError, match=r"pattern must have shape \(7,\)"):
        net.neuron_affine_maps(P[:2])


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), near=st.booleans())
def test_integer_patterns_are_exact_on_random_networks_near_boundaries(seed, near):
    rng = np.random.default_rng(seed)
    net = random_network(rng, 3, (4, 3), 2)
    x = rng.normal(size=3)
    if near:  # slide x onto the hyperplane of first-layer neuron 0, then just off it
        w, b = net.weights[0][0], net.biases[0][0]
        x = x - (w @ x + b) / (w @ w) * w + rng.choice([-1e-9, 1e-9]) * w
    p = net.activation_patterns(x[None])[0].astype(np.int8)
    coef, icpt = net.local_linear_models(p)
    np.testing.assert_allclose(coef[0] @ x + icpt[0], _numpy_forward(net, x), atol=1e-9)


def _numpy_forward(net, x):
    a = x
    for W, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
        a = np.maximum(W @ a + b, 0.0)
    return net.weights[-1] @ a + net.biases[-1]


def test_default_chunk_keeps_one_activation_buffer_near_32_mib():
    # documented budget: one float64 buffer of (rows x widest layer) stays near 32 MiB
    wide = ReluNetwork([np.zeros((500, 3)), np.zeros((1, 500))], [np.zeros(500), np.zeros(1)])
    assert wide.default_chunk_size() == (32 * 2**20) // (500 * 8)  # 8388 rows of 500 floats
    huge = ReluNetwork([np.zeros((40000, 2)), np.zeros((1, 40000))],
                       [np.zeros(40000), np.zeros(1)])
    assert huge.default_chunk_size() == 1024  # never fewer rows than 1024 per chunk


def test_softmax_needs_two_outputs_and_accepts_exactly_two(rng):
    two = ReluNetwork([np.ones((3, 2)), rng.normal(size=(2, 3))], [np.zeros(3), np.zeros(2)],
                      output="softmax")
    X = rng.normal(size=(4, 2))
    eta = two.forward(X)
    np.testing.assert_allclose(two.predict_output(X)[:, 1], 1 / (1 + np.exp(eta[:, 0] - eta[:, 1])),
                               rtol=1e-12)
    with pytest.raises(ValueError, match="softmax output needs at least 2 outputs"):
        ReluNetwork([np.ones((3, 2)), np.ones((1, 3))], [np.zeros(3), np.zeros(1)],
                    output="softmax")
