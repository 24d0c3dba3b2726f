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
