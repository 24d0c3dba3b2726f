"""ReluNetwork: construction, forward pass, activation patterns, LLMs, and bad input."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pandas as pd
import pytest
from conftest import random_network

from glassnet import ReluNetwork

SQ = 1 / np.sqrt(2)


@pytest.fixture
def seed_net() -> ReluNetwork:
    """The two-hidden-layer example of the first seed, with the sum of layer 2 as output."""
    W0 = SQ * np.array([[-1.0, 1.0], [1.0, 1.0]])
    W1 = np.array([[1, 1 / 4], [1 / 2, 1 / 3], [1 / 3, 1 / 2], [1 / 4, 1]])
    return ReluNetwork([W0, W1, np.ones((1, 4))], [np.zeros(2), -0.3 * np.ones(4), np.zeros(1)])


def test_shapes_and_repr(seed_net):
    assert seed_net.n_features == 2
    assert seed_net.n_outputs == 1
    assert seed_net.hidden_sizes == (2, 4)
    assert seed_net.n_hidden == 6
    assert "2 -> 2 -> 4 -> 1" in repr(seed_net)


def test_seed_example_patterns_by_hand(seed_net):
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    expected = np.array([
        [0, 1, 0, 0, 1, 1],   # h0 = (0, 1/sqrt2): only W1 rows 3, 4 exceed 0.3
        [1, 1, 1, 1, 1, 1],
        [1, 0, 1, 1, 0, 0],
        [0, 0, 0, 0, 0, 0],
    ], dtype=bool)
    np.testing.assert_array_equal(seed_net.activation_patterns(X), expected)


def test_seed_example_llms_by_hand(seed_net):
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    coef, intercept = seed_net.local_linear_models(seed_net.activation_patterns(X))
    # worked out on paper from W(0), W(1), b(1) of the seed
    np.testing.assert_allclose(coef[0, 0], 1.5 * SQ * np.array([1, 1]), rtol=1e-14)
    np.testing.assert_allclose(intercept[0], [-0.6], rtol=1e-14)
    np.testing.assert_allclose(coef[1, 0], [0.0, 25 / 12 * 2 * SQ], atol=1e-14)
    np.testing.assert_allclose(intercept[1], [-1.2], rtol=1e-14)
    np.testing.assert_allclose(coef[2, 0], 1.5 * SQ * np.array([-1, 1]), rtol=1e-14)
    np.testing.assert_allclose(coef[3], 0.0)
    np.testing.assert_allclose(intercept[3], 0.0)
    out = seed_net.forward(X)
    llm = np.einsum("nkd,nd->nk", coef, X) + intercept
    np.testing.assert_allclose(llm, out, rtol=1e-14, atol=1e-15)


def test_zero_pre_activation_counts_as_off():
    # x = 0 and zero biases give pre-activations exactly 0 in every neuron
    net = ReluNetwork([np.eye(3), np.ones((1, 3))], [np.zeros(3), np.zeros(1)])
    pat = net.activation_patterns(np.zeros((1, 3)))
    assert not pat.any()
    # the first neuron is exactly 0 here, the second positive, the third negative
    pat = net.activation_patterns(np.array([[0.0, 1.0, -1.0]]))
    np.testing.assert_array_equal(pat, [[False, True, False]])


def test_forward_links_and_dataframe(rng):
    net = random_network(rng, 3, (5,), 3, output="softmax")
    X = rng.normal(size=(20, 3))
    p = net.predict_output(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    eta = net.forward(X)
    np.testing.assert_allclose(p, np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True))
    named = net.with_feature_names(["a", "b", "c"])
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    np.testing.assert_array_equal(named.forward(df), eta)
    # columns in another order are matched by name, not position
    np.testing.assert_array_equal(named.forward(df[["c", "a", "b"]]), eta)
    sig = random_network(rng, 3, (4,), 1, output="sigmoid")
    np.testing.assert_allclose(sig.predict_output(X), 1 / (1 + np.exp(-sig.forward(X))))


def test_chunk_size_does_not_change_results(rng):
    net = random_network(rng, 4, (8, 8), 2)
    X = rng.normal(size=(101, 4))
    full = net.forward(X)
    for cs in (1, 7, 100, 1000):
        # BLAS may block a GEMM differently for other row counts: equal to rounding
        np.testing.assert_allclose(net.forward(X, chunk_size=cs), full, rtol=1e-13, atol=1e-14)
        np.testing.assert_array_equal(net.activation_patterns(X, chunk_size=cs),
                                      net.activation_patterns(X))


def test_immutable_and_copy_semantics(rng):
    net = random_network(rng, 2, (3,), 1)
    with pytest.raises(ValueError):
        net.weights[0][0, 0] = 1.0
    with pytest.raises(AttributeError):
        net.output = "sigmoid"
    assert copy.deepcopy(net) is net
    again = pickle.loads(pickle.dumps(net))
    assert again == net and again is not net
    other = ReluNetwork([w.copy() for w in net.weights], [b.copy() for b in net.biases])
    assert other == net
    w = [x.copy() for x in net.weights]
    w[0][0, 0] += 1
    assert ReluNetwork(w, list(net.biases)) != net


def test_caller_arrays_are_copied():
    W = [np.eye(2), np.ones((1, 2))]
    net = ReluNetwork(W, [np.zeros(2), np.zeros(1)])
    W[0][0, 0] = 5.0
    assert net.weights[0][0, 0] == 1.0


@pytest.mark.parametrize(
    "weights, biases, kwargs, exc, match",
    [
        ([np.eye(2), np.ones((1, 3))], [np.zeros(2), np.zeros(1)], {}, ValueError,
         "weights\\[1\\]"),
        ([np.eye(2)], [np.zeros(3)], {}, ValueError, "bias"),
        ([np.eye(2)], [np.zeros(2), np.zeros(2)], {}, ValueError, "bias vectors"),
        ([], [], {}, ValueError, "at least one layer"),
        ([np.ones(2)], [np.zeros(1)], {}, ValueError, "2-D"),
        ([np.array([[np.nan, 1.0]])], [np.zeros(1)], {}, ValueError, "NaN"),
        ([np.ones((1, 2))], [np.zeros(1)], {"output": "tanh"}, ValueError, "output"),
        ([np.ones((1, 2))], [np.zeros(1)], {"output": "softmax"}, ValueError, "softmax"),
        ([np.ones((1, 2))], [np.zeros(1)], {"feature_names": ["a"]}, ValueError, "feature names"),
        ([np.ones((1, 2))], [np.zeros(1)], {"feature_names": ["a", "a"]}, ValueError, "unique"),
        ([np.array([["a", "b"]])], [np.zeros(1)], {}, TypeError, "numeric"),
        (np.eye(2), [np.zeros(2)], {}, TypeError, "sequences"),
    ],
)
def test_bad_construction(weights, biases, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        ReluNetwork(weights, biases, **kwargs)


@pytest.mark.parametrize(
    "X, exc, match",
    [
        (np.array([1.0, 2.0, 3.0]), ValueError, "2-D"),
        (np.zeros((0, 3)), ValueError, "empty"),
        (np.zeros((4, 2)), ValueError, "expects 3"),
        (np.array([[1.0, np.nan, 0.0]]), ValueError, "NaN"),
        (np.array([[1.0, np.inf, 0.0]]), ValueError, "inf"),
        (np.array([["a", "b", "c"]], dtype=object), TypeError, "non-numeric"),
        (None, ValueError, "None"),
    ],
)
def test_bad_input_to_forward(rng, X, exc, match):
    net = random_network(rng, 3, (4,), 1)
    for method in (net.forward, net.activation_patterns, net.predict_output):
        with pytest.raises(exc, match=match):
            method(X)


def test_dataframe_missing_column_named(rng):
    net = random_network(rng, 2, (3,), 1).with_feature_names(["a", "b"])
    with pytest.raises(ValueError, match="b"):
        net.forward(pd.DataFrame({"a": [1.0], "c": [2.0]}))


def test_bad_patterns_for_llms(rng):
    net = random_network(rng, 2, (3, 2), 1)
    with pytest.raises(ValueError):
        net.local_linear_models(np.zeros((2, 4), dtype=bool))
    with pytest.raises(ValueError, match="0/1"):
        net.local_linear_models(np.full((2, 5), 2))


def test_network_without_hidden_layer_is_affine(rng):
    W, b = rng.normal(size=(2, 3)), rng.normal(size=2)
    net = ReluNetwork([W], [b])
    X = rng.normal(size=(5, 3))
    np.testing.assert_allclose(net.forward(X), X @ W.T + b)
    assert net.activation_patterns(X).shape == (5, 0)


# ---------------------------------------------------------------- feature_groups
def _grouped(rng):
    names = ["age", "edu_1", "edu_2", "inc", "edu_3"]
    net = random_network(rng, 5, (3,), 1).with_feature_names(names)
    return net.with_feature_groups({"education": ["edu_1", "edu_2", "edu_3"]})


def test_feature_groups_index_covers_every_input_once(rng):
    net = _grouped(rng)
    assert dict(net.feature_groups) == {"education": ("edu_1", "edu_2", "edu_3")}
    idx = net.groups_index()
    assert list(idx) == ["age", "education", "inc"]  # ordered by first input
    np.testing.assert_array_equal(idx["education"], [1, 2, 4])
    allidx = np.sort(np.concatenate(list(idx.values())))
    np.testing.assert_array_equal(allidx, np.arange(net.n_features))
    # without declared groups every input is its own group, named x{i} without names
    plain = random_network(rng, 3, (2,), 1)
    assert plain.feature_groups is None
    assert {k: v.tolist() for k, v in plain.groups_index().items()} == {
        "x0": [0], "x1": [1], "x2": [2]}


def test_feature_groups_immutable_and_preserved(rng):
    net = _grouped(rng)
    with pytest.raises(TypeError):
        net.feature_groups["other"] = ("age",)  # type: ignore[index]
    assert pickle.loads(pickle.dumps(net)) == net
    assert pickle.loads(pickle.dumps(net)).feature_groups == net.feature_groups
    assert copy.deepcopy(net) is net
    assert net != net.with_feature_groups(None)
    renamed = net.with_feature_names(["a", "e1", "e2", "i", "e3"])
    assert dict(renamed.feature_groups) == {"education": ("e1", "e2", "e3")}
    assert net.with_feature_names(None).feature_groups is None
    rebuilt = net.with_layers([2 * w for w in net.weights], list(net.biases))
    assert rebuilt.feature_groups == net.feature_groups
    assert rebuilt.feature_names == net.feature_names
    assert repr(net).endswith("output='identity', 1 group)")


@pytest.mark.parametrize(
    "groups, exc, match",
    [
        ({"g": ["nope"]}, ValueError, "nope"),
        ({"g": ["age"], "h": ["age", "inc"]}, ValueError, "at most one group"),
        ({"inc": ["age"]}, ValueError, "rename the group"),
        ({"g": []}, ValueError, "empty"),
        ({"g": "age"}, TypeError, "sequence"),
        (["age"], TypeError, "mapping"),
        ({"": ["age"]}, TypeError, "non-empty"),
    ],
)
def test_bad_feature_groups(rng, groups, exc, match):
    names = ["age", "edu_1", "edu_2", "inc", "edu_3"]
    net = random_network(rng, 5, (3,), 1).with_feature_names(names)
    with pytest.raises(exc, match=match):
        net.with_feature_groups(groups)


def test_feature_groups_need_feature_names(rng):
    net = random_network(rng, 2, (3,), 1)
    with pytest.raises(ValueError, match="feature_names"):
        ReluNetwork(net.weights, net.biases, feature_groups={"g": ["x0"]})


def test_task_from_the_output_link_matches_sklearn_estimator_types(rng):
    # oracle: scikit-learn's own MLPs, whose type (regressor/classifier) fixes the task,
    # imported through the one coercion glassnet.io.as_network
    from sklearn.base import is_classifier
    from sklearn.frozen import FrozenEstimator
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    from glassnet.io import as_network

    X = rng.normal(size=(60, 3))
    y_bin = (X[:, 0] > 0).astype(int)
    models = [
        MLPRegressor(hidden_layer_sizes=(4,), max_iter=30, random_state=0).fit(X, X[:, 0]),
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=30, random_state=0).fit(X, y_bin),
        MLPClassifier(hidden_layer_sizes=(4,), max_iter=30, random_state=0).fit(
            X, np.digitize(X[:, 0], [-0.5, 0.5])),
    ]
    import warnings

    for model in models:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = as_network(FrozenEstimator(model))
        expected = "classification" if is_classifier(model) else "regression"
        assert net.task == expected, (type(model).__name__, net.output)
    one = ReluNetwork([np.ones((1, 2))], [np.zeros(1)], output="sigmoid")
    assert one.task == "classification"
    assert ReluNetwork([np.ones((1, 2))], [np.zeros(1)]).task == "regression"
