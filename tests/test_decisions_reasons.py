"""Reason codes: exact integrated gradients (glassnet.decisions.reasons).

Oracles: the forward pass (completeness: attributions sum to f(x) - f(ref)), and a dense
midpoint Riemann sum of central finite-difference gradients (per-feature values).
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

from glassnet import ReluNetwork
from glassnet.decisions import path_attributions, reason_codes


def random_net(seed, d=3, hidden=(6, 5), output="sigmoid", k=1):
    rng = np.random.default_rng(seed)
    sizes = [d, *hidden, k]
    W = [rng.normal(size=(sizes[i + 1], sizes[i])) for i in range(len(sizes) - 1)]
    b = [rng.normal(size=sizes[i + 1]) for i in range(len(sizes) - 1)]
    return ReluNetwork(W, b, output=output)


def numeric_ig(net, ref, x, out=0, sign=1.0, steps=4000, h=1e-6):
    """Riemann-sum IG with finite-difference gradients: no region machinery involved."""
    t = (np.arange(steps) + 0.5) / steps
    P = ref + t[:, None] * (x - ref)
    grads = np.empty_like(P)
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = h
        grads[:, j] = (net.forward(P + e)[:, out] - net.forward(P - e)[:, out]) / (2 * h)
    return sign * (x - ref) * grads.mean(axis=0)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.5, 6.0), favorable=st.integers(0, 1))
def test_attributions_sum_exactly_on_random_networks(seed, scale, favorable):
    net = random_net(seed)
    rng = np.random.default_rng(seed + 1)
    X = rng.normal(size=(6, 3)) * scale
    ref = rng.normal(size=3) * scale  # typically in another region than the rows
    sign = 1.0 if favorable == 1 else -1.0
    eta_x, eta_r = sign * net.forward(X)[:, 0], sign * net.forward(ref[None])[0, 0]
    A = path_attributions(net, X, reference=ref, favorable=favorable)
    np.testing.assert_allclose(A.sum(axis=1), eta_x - eta_r, rtol=0, atol=1e-9)
    S = path_attributions(net, X, reference=ref, favorable=favorable, output="score")
    np.testing.assert_allclose(S.sum(axis=1), expit(eta_x) - expit(eta_r), rtol=0, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_points_on_region_boundaries_still_sum_exactly(seed):
    """Rows and references placed exactly on a first-layer neuron's boundary."""
    net = random_net(seed)
    rng = np.random.default_rng(seed)
    W, b = net.weights[0], net.biases[0]
    X = rng.normal(size=(4, 3)) * 2
    # project each row onto neuron 0's hyperplane W0 x + b0 = 0
    X = X - ((X @ W[0] + b[0]) / (W[0] @ W[0]))[:, None] * W[0]
    ref = X[0] + 0.0
    A = path_attributions(net, X, reference=ref, favorable=1)
    np.testing.assert_allclose(A.sum(axis=1), net.forward(X)[:, 0] - net.forward(ref[None])[0, 0],
                               atol=1e-9, rtol=0)


def test_per_feature_values_match_a_dense_numeric_integral():
    net = random_net(3, hidden=(8, 8))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(3, 3)) * 3
    ref = np.array([0.5, -1.0, 2.0])
    A = path_attributions(net, X, reference=ref, favorable=1).to_numpy()
    for i in range(3):
        np.testing.assert_allclose(A[i], numeric_ig(net, ref, X[i]), rtol=5e-4, atol=2e-3)


def test_multiclass_explains_the_favorable_logit():
    net = random_net(5, output="softmax", k=3)
    X = np.random.default_rng(1).normal(size=(5, 3)) * 2
    ref = np.zeros(3)
    A = path_attributions(net, X, reference=ref, favorable=2)
    np.testing.assert_allclose(A.sum(axis=1), net.forward(X)[:, 2] - net.forward(ref[None])[0, 2],
                               atol=1e-9)
    np.testing.assert_allclose(A.to_numpy()[0], numeric_ig(net, ref, X[0], out=2), atol=2e-3)
    with pytest.raises(ValueError, match="binary"):
        reason_codes(net, X, reference=ref, output="score")


def test_groups_sum_their_members_and_top_reasons_are_the_most_negative():
    net = random_net(7, d=4).with_feature_names(["a", "b", "c", "d"])
    X = pd.DataFrame(np.random.default_rng(2).normal(size=(5, 4)) * 2, columns=list("abcd"),
                     index=[10, 11, 12, 13, 14])
    ref = np.zeros(4)
    full = path_attributions(net, X, reference=ref, groups={})
    grouped = path_attributions(net, X, reference=ref, groups={"cd": ["c", "d"]})
    assert list(grouped.columns) == ["a", "b", "cd"]
    np.testing.assert_allclose(grouped["cd"], full["c"] + full["d"], atol=1e-12)
    rc = reason_codes(net, X, reference=ref, top_k=2, groups={})
    for row, part in rc.groupby("row"):
        neg = full.loc[row][full.loc[row] < 0].sort_values()
        assert list(part.feature) == list(neg.index[:2])
        assert (part.contribution < 0).all()
        assert list(part["rank"]) == list(range(1, len(part) + 1))
    assert set(rc.row) <= set(X.index)


def test_within_region_shortcut_is_exact_in_the_same_region_and_reports_its_error():
    net = random_net(11)
    x = np.array([[0.3, -0.2, 0.1]])
    ref_near = x[0] + 1e-7  # same region (a random point's region has positive width)
    assert (net.activation_patterns(x) == net.activation_patterns(ref_near[None])).all()
    rc = reason_codes(net, x, reference=ref_near, top_k=None, favorable=1)
    assert abs(rc.within_region_error.iloc[0]) < 1e-12
    np.testing.assert_allclose(rc.within_region, rc.contribution_logit, atol=1e-12)
    far = np.array([5.0, -4.0, 3.0])
    rc = reason_codes(net, x, reference=far, top_k=None, favorable=1)
    direct = (net.forward(x)[0, 0] - net.forward(far[None])[0, 0]) - rc.within_region.sum()
    np.testing.assert_allclose(rc.within_region_error.iloc[0], direct, atol=1e-12)


def test_string_references():
    net = random_net(13)
    rng = np.random.default_rng(3)
    pop = rng.normal(size=(200, 3)) * 2
    approved = pop[net.forward(pop)[:, 0] > 0]
    X = rng.normal(size=(4, 3))
    rc = reason_codes(net, X, reference="approved_mean", population=pop, top_k=None,
                      favorable=1)
    mean_eta = net.forward(approved.mean(axis=0)[None])[0, 0]
    np.testing.assert_allclose(rc.groupby("row").total.first(), net.forward(X)[:, 0] - mean_eta,
                               atol=1e-12)
    rc = reason_codes(net, X, reference="nearest_approved", population=pop, top_k=None,
                      favorable=1)
    sd = pop.std(axis=0)
    for i in range(4):
        j = np.argmin((((approved - X[i]) / sd) ** 2).sum(axis=1))
        part = rc[rc.row == i].set_index("feature").loc[["x0", "x1", "x2"]]
        np.testing.assert_allclose(part.reference_value.to_numpy(), approved[j], atol=1e-12)


def test_bad_input_is_rejected():
    net = random_net(1)
    reg = random_net(1, output="identity")
    X = np.zeros((2, 3))
    with pytest.raises(ValueError, match="decision"):
        reason_codes(reg, X, reference=np.zeros(3))
    with pytest.raises(ValueError, match="population"):
        reason_codes(net, X, reference="approved_mean")
    with pytest.raises(ValueError, match="reference"):
        reason_codes(net, X, reference="median")
    with pytest.raises(ValueError, match="features"):
        reason_codes(net, np.zeros((2, 4)), reference=np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        reason_codes(net, np.array([[np.nan, 0, 0]]), reference=np.zeros(3))
    with pytest.raises(ValueError, match="top_k"):
        reason_codes(net, X, reference=np.zeros(3), top_k=0)
    with pytest.raises(ValueError, match="favorable"):
        reason_codes(net, X, reference=np.zeros(3), favorable=2)
    with pytest.raises(ValueError, match="one profile"):
        reason_codes(net, X, reference=np.zeros((2, 3)))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_accepts_regions_and_sklearn_models():
    from sklearn.neural_network import MLPClassifier

    from glassnet import unwrap

    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 3))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int)
    mlp = MLPClassifier(hidden_layer_sizes=(6,), max_iter=100, random_state=0).fit(X, y)
    ref = np.zeros(3)
    a = path_attributions(mlp, X[:4], reference=ref)
    b = path_attributions(unwrap(mlp, X), X[:4], reference=ref)
    np.testing.assert_array_equal(a.to_numpy(), b.to_numpy())
    # the default favourable class is 0 (glassnet.decisions.favorable): the attributions
    # explain the log-odds of class 0, read here from scikit-learn's own probabilities
    p, p0 = mlp.predict_proba(X[:4]), mlp.predict_proba(ref[None])[0]
    np.testing.assert_allclose(a.sum(axis=1), np.log(p[:, 0] / p[:, 1]) - np.log(p0[0] / p0[1]),
                               atol=1e-9)
    c = path_attributions(mlp, X[:4], reference=ref, favorable=1)
    np.testing.assert_allclose(c.sum(axis=1), np.log(p[:, 1] / p[:, 0]) - np.log(p0[1] / p0[0]),
                               atol=1e-9)
