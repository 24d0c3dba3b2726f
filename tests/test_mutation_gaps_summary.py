"""Gaps found by mutation testing in glassnet.summary / inference / explain (issue 19).

Oracles: NumPy formulas written out here (weighted shares, contributions against a baseline
computed with np.mean / np.median), scikit-learn's unpenalised logistic regression for the
GLM refit, and the network weights for the exact local model of a one-region network.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import random_network
from sklearn.linear_model import LogisticRegression

from glassnet import (
    ReluNetwork,
    coefficient_distribution,
    local_contributions,
    region_inference,
    region_summary,
    unwrap,
)


@pytest.mark.parametrize("bad", [-1, 3, 1.5])
def test_softmax_labels_outside_0_k_minus_1_are_refused(rng, bad):
    net = random_network(rng, 2, (5,), 3, "softmax")
    X = rng.normal(size=(30, 2))
    reg = unwrap(net, X)
    y = rng.integers(0, 3, size=30).astype(float)
    region_summary(reg, X, y)  # control: valid labels are accepted
    y[4] = bad  # -1 must not silently become the last class (np.eye(3)[-1])
    with pytest.raises(ValueError, match=r"class indices 0\.\.2"):
        region_summary(reg, X, y)


def test_mean_and_median_baselines_are_not_swapped(rng):
    net = random_network(rng, 3, (6,), 1)
    X = rng.exponential(size=(41, 3))  # skewed: mean and median differ clearly
    assert np.abs(X.mean(axis=0) - np.median(X, axis=0)).min() > 0.05
    raw = local_contributions(net, X)
    for name, b in (("mean", X.mean(axis=0)), ("median", np.median(X, axis=0))):
        got = local_contributions(net, X, baseline=name)
        explicit = local_contributions(net, X, baseline=b)
        np.testing.assert_allclose(got.to_numpy(), explicit.to_numpy(), atol=1e-12)
        # direct formula: coef_j * (x_j - b_j), with coef_j = raw contribution / x_j
        slopes = raw[["x0", "x1", "x2"]].to_numpy() / X
        np.testing.assert_allclose(got[["x0", "x1", "x2"]].to_numpy(), slopes * (X - b),
                                   atol=1e-9)
        np.testing.assert_allclose(got["output"], net.forward(X)[:, 0], atol=1e-10)
    with pytest.raises(ValueError, match="baseline must be"):
        local_contributions(net, X, baseline="mode")


def test_share_positive_and_share_negative_are_weighted_shares(rng):
    net = random_network(rng, 2, (6,), 1)
    X = rng.normal(size=(200, 2))
    reg = unwrap(net, X)
    dist = coefficient_distribution(reg, quantiles=())
    w = reg.counts / reg.counts.sum()
    vals = np.column_stack([reg.coef[:, 0, :], reg.intercept[:, 0]])
    np.testing.assert_allclose(dist["share_negative"].to_numpy(), w @ (vals < 0), atol=1e-12)
    np.testing.assert_allclose(dist["share_positive"].to_numpy(), w @ (vals > 0), atol=1e-12)
    # row oracle: share of rows whose own exact slope on x0 is negative
    slopes = np.array([reg.coef[r, 0, 0] for r in reg.labels])
    assert dist.loc["x0", "share_negative"] == pytest.approx((slopes < 0).mean())


def test_region_inference_on_a_two_output_softmax_network(rng):
    # every hidden neuron is on for all rows (large biases): one region, whose exact model is
    # the weights' product, and whose logit of class 1 vs 0 is eta1 - eta0
    W0, b0 = rng.normal(size=(4, 2)), np.full(4, 50.0)
    W1, b1 = rng.normal(size=(2, 4)), np.array([0.2, -0.1])
    net = ReluNetwork([W0, W1], [b0, b1], output="softmax")
    X = rng.normal(size=(400, 2))
    reg = unwrap(net, X)
    assert len(reg) == 1
    y = (rng.random(400) < 1 / (1 + np.exp(-(0.5 + X @ [1.0, -0.7])))).astype(float)
    df = region_inference(reg, X, y, 0)
    llm = W1 @ W0
    expected_llm = np.r_[(W1 @ b0 + b1)[1] - (W1 @ b0 + b1)[0], llm[1] - llm[0]]
    np.testing.assert_allclose(df["llm_coef"].to_numpy(), expected_llm, rtol=1e-10)
    sk = LogisticRegression(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(df["coef"].to_numpy(), np.r_[sk.intercept_, sk.coef_[0]],
                               rtol=1e-5, atol=1e-6)
    assert df.attrs["model"] == "logit" and df.attrs["n_obs"] == 400


def _row_slopes(net, X, eps=1e-6):
    """(n, k, d) exact slopes of every row by central finite differences of the forward pass."""
    n, d = X.shape
    out = np.empty((n, net.n_outputs, d))
    for j in range(d):
        e = np.zeros(d)
        e[j] = eps
        out[:, :, j] = (net.forward(X + e) - net.forward(X - e)) / (2 * eps)
    return out


def _interior_rows(net, X, eps=1e-6):
    """Rows whose pattern does not change within eps (finite differences stay in one region)."""
    P = net.activation_patterns(X)
    ok = np.ones(len(X), dtype=bool)
    for j in range(X.shape[1]):
        e = np.zeros(X.shape[1])
        e[j] = eps
        ok &= (net.activation_patterns(X + e) == P).all(1)
        ok &= (net.activation_patterns(X - e) == P).all(1)
    return X[ok]


def test_feature_importance_std_and_raw_match_a_row_by_row_formula(rng):
    from glassnet import feature_importance

    net = random_network(rng, 3, (6,), 1)
    X = _interior_rows(net, rng.normal(size=(120, 3)) * [1.0, 5.0, 0.2])
    reg = unwrap(net, X)
    slopes = _row_slopes(net, X)[:, 0, :]
    for scale, s in (("std", X.std(axis=0)), ("raw", np.ones(3))):
        fi = feature_importance(reg, X, scale=scale)
        mean_abs = np.abs(slopes * s).mean(axis=0)
        got = fi.loc[["x0", "x1", "x2"]]
        np.testing.assert_allclose(got["mean_abs_effect"], mean_abs, rtol=1e-5)
        np.testing.assert_allclose(got["importance"], mean_abs / mean_abs.sum(), rtol=1e-5)
        np.testing.assert_allclose(got["mean_effect"], (slopes * s).mean(axis=0), rtol=1e-5,
                                   atol=1e-9)
        assert list(fi.index) == list(got.sort_values("importance", ascending=False).index)
    # a group's effect: the row-wise standard deviation of its linear contribution
    g = feature_importance(reg, X, groups={"g": ["x0", "x1"]})
    cov = np.cov(X[:, :2], rowvar=False, ddof=0)
    eff = np.sqrt(np.einsum("nm,mk,nk->n", slopes[:, :2], cov, slopes[:, :2])).mean()
    assert g.loc["g", "mean_abs_effect"] == pytest.approx(eff, rel=1e-5)


def test_output_index_is_checked_at_both_ends(rng):
    net = random_network(rng, 2, (4,), 3, "softmax")
    X = rng.normal(size=(10, 2))
    for bad in (-1, 3):
        with pytest.raises(ValueError, match=r"output must be in 0\.\.2"):
            local_contributions(net, X, output=bad)
    with pytest.raises(TypeError, match="output must be an integer"):
        local_contributions(net, X, output=True)
    got = local_contributions(net, X, output=2)  # the last valid output is output 2
    np.testing.assert_allclose(got["output"], net.forward(X)[:, 2], atol=1e-10)


def test_coefficient_distribution_defaults_output_0_and_five_quantiles(rng):
    net = random_network(rng, 2, (6,), 2)
    X = rng.normal(size=(150, 2))
    reg = unwrap(net, X)
    dist = coefficient_distribution(reg)
    assert [c for c in dist.columns if c.startswith("q")] == [
        "q0.05", "q0.25", "q0.5", "q0.75", "q0.95"]
    w = reg.counts / reg.counts.sum()
    np.testing.assert_allclose(dist.loc[["x0", "x1"], "mean"], w @ reg.coef[:, 0, :], atol=1e-12)
    assert dist.loc["intercept", "mean"] == pytest.approx(w @ reg.intercept[:, 0])
    # weighted median by expanding every region to its rows (brute force)
    rows = np.repeat(reg.coef[:, 0, 0], reg.counts)
    assert dist.loc["x0", "q0.5"] == np.sort(rows)[int(np.ceil(0.5 * len(rows))) - 1]


def test_three_class_softmax_auc_is_the_macro_one_vs_rest_auc(rng):
    from sklearn.metrics import roc_auc_score

    net = random_network(rng, 2, (5,), 3, "softmax")
    X = rng.normal(size=(300, 2))
    prob = net.predict_output(X)
    y = np.array([rng.choice(3, p=row) for row in prob])
    reg = unwrap(net, X)
    df = region_summary(reg, X, y)
    assert df.attrs["network_auc"] == pytest.approx(
        roc_auc_score(y, prob, multi_class="ovr", average="macro"), rel=1e-9)
    checked = 0
    for r in range(len(reg)):
        rows = reg.labels == r
        aucs = [roc_auc_score(y[rows] == j, prob[rows, j]) for j in range(3)
                if 0 < (y[rows] == j).sum() < rows.sum()]
        if aucs:
            assert df.loc[df["region"] == r, "local_auc"].item() == pytest.approx(np.mean(aucs))
            checked += 1
    assert checked >= 3


def test_binary_y_with_the_wrong_number_of_columns_is_a_value_error(rng):
    net = random_network(rng, 2, (4,), 1, "sigmoid")
    X = rng.normal(size=(20, 2))
    reg = unwrap(net, X)
    y2 = rng.integers(0, 2, size=(20, 2)).astype(float)
    with pytest.raises(ValueError, match=r"y has 2 column\(s\) but the network has 1 output"):
        region_summary(reg, X, y2)


def test_explanations_of_a_scikit_learn_model_equal_those_of_its_network(rng):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    X = rng.normal(size=(80, 3))
    y = X[:, 0] - 2 * X[:, 1] ** 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPRegressor(hidden_layer_sizes=(6,), max_iter=50, random_state=0).fit(X, y)
    got = local_contributions(mlp, X[:10])
    # the contributions add up to the model's own prediction (scikit-learn's forward pass)
    np.testing.assert_allclose(got["output"], mlp.predict(X[:10]), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(got.drop(columns="output").sum(axis=1), mlp.predict(X[:10]),
                               rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("output, k", [("softmax", 3), ("sigmoid", 2), ("identity", 1)])
def test_global_accuracy_of_every_link_matches_sklearn(rng, output, k):
    """Global accuracy (each region's LLM on all rows) for softmax (arg-max), several sigmoid
    labels (mean over labels, eta > 0) and an identity output scored as a classifier
    (threshold 0.5), against sklearn's accuracy_score row by row."""
    from sklearn.metrics import accuracy_score

    net = random_network(rng, 3, (6, 5), k, output)
    X = rng.normal(size=(250, 3))
    if output == "softmax":
        y = rng.integers(0, k, size=250)
    else:
        y = (rng.random((250, k)) < 0.5).astype(float)
    reg = unwrap(net, X)
    df = region_summary(reg, X, y, task="classification", global_top=None)
    for i, r in enumerate(df["region"]):
        eta = X @ reg.coef[r].T + reg.intercept[r]
        if output == "softmax":
            expected = accuracy_score(y, eta.argmax(axis=1))
        else:
            thr = 0.0 if output == "sigmoid" else 0.5
            expected = np.mean([accuracy_score(y[:, j], eta[:, j] > thr) for j in range(k)])
        assert df["global_accuracy"].iloc[i] == pytest.approx(expected, rel=1e-12)


def test_region_inference_names_one_region_or_the_selected_rows():
    # one row per quadrant: a GLM with 2 features and an intercept needs more than 3 rows,
    # so one region (1 row) is refused naming that region, three regions together (3 rows)
    # naming "the selected rows"
    net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    X = np.array([[1.0, 2.0], [-1.0, 3.0], [2.0, -1.0], [-3.0, -1.0]])
    y = X.sum(axis=1)
    regions = unwrap(net, X)
    assert len(regions) == 4 and (regions.counts == 1).all()
    with pytest.raises(ValueError, match=r"^region 2 has 1 rows"):
        region_inference(regions, X, y, 2)
    with pytest.raises(ValueError, match=r"^the selected rows has 3 rows"):
        region_inference(regions, X, y, [0, 1, 3])


def test_global_accuracy_counts_a_score_exactly_at_the_threshold_as_class_0():
    # one region, raw output exactly x0 (5 + x0 - 5 in integers): rows with x0 = 0 have
    # probability 0.5, which is class 0 (p > 0.5 is class 1), so with
    # y = 0 there every row is right
    net = ReluNetwork([np.array([[1.0, 0.0]]), np.array([[1.0]])],
                      [np.array([5.0]), np.array([-5.0])], output="sigmoid")
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [-1.0, 0.0]])
    y = np.array([0, 0, 1, 0])
    assert (net.predict_output(X)[:, 0] > 0.5).astype(int).tolist() == y.tolist()
    df = region_summary(unwrap(net, X), X, y, task="classification", global_top=None)
    assert df["global_accuracy"].tolist() == [1.0]


@pytest.mark.parametrize("name", ["top", "global_top", "global_rows"])
def test_region_summary_count_options_accept_1_and_refuse_0(name):
    net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)], output="sigmoid")
    X = np.array([[1.0, 2.0], [-1.0, 3.0], [2.0, -1.0], [-3.0, -1.0], [2.0, 2.0]])
    y = np.array([1, 0, 1, 0, 1])
    reg = unwrap(net, X)
    df = region_summary(reg, X, y, task="classification", **{name: 1})
    if name == "top":
        assert len(df) == 1 and df["region"].tolist() == [0]  # the largest region only
    else:
        assert len(df) == len(reg)
    with pytest.raises(ValueError, match=rf"{name} must be a positive integer or None; got 0"):
        region_summary(reg, X, y, task="classification", **{name: 0})


@pytest.mark.parametrize("d", [10, 11])
def test_unknown_group_member_lists_the_features_and_marks_a_cut(d):
    # the message lists the first 10 feature names, with "..." only when there are more
    names = [f"f{j}" for j in range(d)]
    net = ReluNetwork([np.ones((2, d)), np.ones((1, 2))], [np.zeros(2), np.zeros(1)],
                      feature_names=names)
    X = np.ones((3, d))
    listed = str(names[:10]) + ("..." if d > 10 else "")
    with pytest.raises(ValueError) as err:
        local_contributions(net, X, groups={"g": ["nope"]})
    assert str(err.value) == (f"groups['g'] names 'nope', which is not a feature "
                              f"(features: {listed}).")
