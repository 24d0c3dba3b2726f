"""Tests for glassnet.summary: tables against row-by-row references, explanations, inference."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from conftest import random_network
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from glassnet import (
    ReluNetwork,
    coefficient_distribution,
    feature_importance,
    local_contributions,
    region_inference,
    region_summary,
    unwrap,
)
from glassnet.summary import grouped_auc


# ---------------------------------------------------------------------- fixtures
def _binary_case(rng, n=400, d=3, hidden=(6, 5)):
    net = random_network(rng, d, hidden, 1, "sigmoid")
    X = rng.normal(size=(n, d))
    p = net.predict_output(X)[:, 0]
    y = (rng.random(n) < 0.3 + 0.4 * p).astype(float)  # related to the network, not equal
    return net, X, y


def _reference_row(net, X, labels, r):
    """Slow row-by-row statistics of region r (loops and sklearn, no grouping tricks)."""
    rows = [i for i in range(X.shape[0]) if labels[i] == r]
    Xr = X[rows]
    out = {"count": len(rows), "share": len(rows) / X.shape[0]}
    out["pred_mean"] = net.predict_output(Xr).mean(axis=0)
    eta_r = net.forward(Xr)
    return out, rows, eta_r


def _local_auc(score, yb):
    return roc_auc_score(yb, score) if 0 < yb.sum() < yb.size else np.nan


# ---------------------------------------------------------------------- summary table
def test_binary_summary_matches_row_by_row_reference(rng):
    net, X, y = _binary_case(rng)
    reg = unwrap(net, X)
    df = region_summary(reg, X, y)
    assert list(df["region"]) == list(range(len(reg)))
    assert df["count"].is_monotonic_decreasing
    labels = reg.labels
    n = X.shape[0]
    cum = 0.0
    for i, r in enumerate(df["region"]):
        ref, rows, eta_r = _reference_row(net, X, labels, r)
        row = df.iloc[i]
        cum += ref["share"]
        assert row["count"] == ref["count"]
        assert row["share"] == pytest.approx(ref["share"])
        assert row["cum_share"] == pytest.approx(cum)
        assert row["y_mean"] == pytest.approx(np.mean(y[rows]))
        assert row["y_std"] == pytest.approx(np.std(y[rows]), abs=1e-12)
        assert row["pred_mean"] == pytest.approx(ref["pred_mean"][0], rel=1e-12)
        auc = _local_auc(eta_r[:, 0], y[rows])
        if np.isnan(auc):
            assert np.isnan(row["local_auc"])
        else:
            assert row["local_auc"] == pytest.approx(auc, rel=1e-12)
        assert row["local_accuracy"] == pytest.approx(np.mean((eta_r[:, 0] > 0) == (y[rows] == 1)))
        # global: this region's LLM on every row
        eta_all = X @ reg.coef[r, 0] + reg.intercept[r, 0]
        assert row["global_auc"] == pytest.approx(roc_auc_score(y, eta_all), rel=1e-12)
        assert row["global_accuracy"] == pytest.approx(np.mean((eta_all > 0) == (y == 1)))
        assert row["intercept"] == reg.intercept[r, 0]
        for j in range(X.shape[1]):
            assert row[f"coef_x{j}"] == reg.coef[r, 0, j]
    assert df.attrs["network_auc"] == pytest.approx(roc_auc_score(y, net.forward(X)[:, 0]))
    assert df.attrs["global_rows"] == n


def test_regression_multi_output_matches_reference_and_global_mse_is_exact(rng):
    net = random_network(rng, 4, (7, 7), 2, "identity")
    X = rng.normal(size=(300, 4)) * [1.0, 10.0, 0.1, 3.0] + [0, 50, 0, -2]
    Y = net.forward(X) + rng.normal(size=(300, 2))
    reg = unwrap(net, X)
    df = region_summary(reg, X, Y)
    assert "local_auc" not in df and "y_mean[1]" in df and "coef_x3[1]" in df
    for i, r in enumerate(df["region"][:30]):
        rows = np.flatnonzero(reg.labels == r)
        pred = net.forward(X[rows])
        mse = np.mean((pred - Y[rows]) ** 2)
        assert df["local_mse"].iloc[i] == pytest.approx(mse, rel=1e-10)
        assert df["local_rmse"].iloc[i] == pytest.approx(np.sqrt(mse), rel=1e-10)
        for j in range(2):
            assert df[f"y_mean[{j}]"].iloc[i] == pytest.approx(Y[rows, j].mean())
            assert df[f"pred_mean[{j}]"].iloc[i] == pytest.approx(pred[:, j].mean(), rel=1e-12)
        glob = X @ reg.coef[r].T + reg.intercept[r]
        assert df["global_mse"].iloc[i] == pytest.approx(np.mean((glob - Y) ** 2), rel=1e-9)
    assert df.attrs["network_mse"] == pytest.approx(np.mean((net.forward(X) - Y) ** 2))


def test_softmax_multiclass_macro_ovr_auc_and_argmax_accuracy(rng):
    net = random_network(rng, 3, (6, 6), 3, "softmax")
    X = rng.normal(size=(300, 3))
    y = rng.integers(0, 3, size=300)
    reg = unwrap(net, X)
    df = region_summary(reg, X, y, top=15)
    P = net.predict_output(X)
    for i, r in enumerate(df["region"]):
        rows = np.flatnonzero(reg.labels == r)
        aucs = [_local_auc(P[rows, j], (y[rows] == j).astype(int)) for j in range(3)]
        aucs = [a for a in aucs if not np.isnan(a)]
        expected = np.mean(aucs) if aucs else np.nan
        np.testing.assert_allclose(df["local_auc"].iloc[i], expected, rtol=1e-12)
        acc = np.mean(P[rows].argmax(axis=1) == y[rows])
        assert df["local_accuracy"].iloc[i] == pytest.approx(acc)
        assert df["y_mean[2]"].iloc[i] == pytest.approx(np.mean(y[rows] == 2))
        glob = net.apply_link(X @ reg.coef[r].T + reg.intercept[r])
        g = np.mean([roc_auc_score(y == j, glob[:, j]) for j in range(3)])
        assert df["global_auc"].iloc[i] == pytest.approx(g, rel=1e-12)


def test_two_softmax_outputs_equal_binary_auc(rng):
    net = random_network(rng, 2, (8,), 2, "softmax")
    X = rng.normal(size=(300, 2))
    y = rng.integers(0, 2, size=300)
    reg = unwrap(net, X)
    df = region_summary(reg, X, y)
    eta = net.forward(X)
    overall = roc_auc_score(y, eta[:, 1] - eta[:, 0])
    assert df.attrs["network_auc"] == pytest.approx(overall)
    one_hot = np.eye(2)[y]
    pd.testing.assert_frame_equal(df, region_summary(reg, X, one_hot))


def test_filters_top_min_count_coverage_and_global_top(rng):
    net, X, y = _binary_case(rng)
    reg = unwrap(net, X)
    full = region_summary(reg, X, y)
    df = region_summary(reg, X, y, min_count=5)
    assert (df["count"] >= 5).all() and len(df) == (reg.counts >= 5).sum()
    assert len(region_summary(reg, X, y, top=3)) == 3
    cov = region_summary(reg, X, y, coverage=0.5)
    assert cov["cum_share"].iloc[-1] >= 0.5 and (len(cov) == 1 or cov["cum_share"].iloc[-2] < 0.5)
    g = region_summary(reg, X, y, global_top=4)
    assert g["global_auc"].iloc[:4].notna().all() and g["global_auc"].iloc[4:].isna().all()
    pd.testing.assert_series_equal(g["global_auc"].iloc[:4], full["global_auc"].iloc[:4])
    assert reg.summary(X, y, top=3).equals(full.iloc[:3])


def test_global_sample_is_close_to_exact(rng):
    net, X, y = _binary_case(rng, n=3000, d=2, hidden=(5,))
    reg = unwrap(net, X)
    exact = region_summary(reg, X, y, top=5, global_rows=None)
    sampled = region_summary(reg, X, y, top=5, global_rows=1000)
    assert sampled.attrs["global_rows"] == 1000 and exact.attrs["global_rows"] == 3000
    np.testing.assert_allclose(sampled["global_auc"], exact["global_auc"], atol=0.06)
    assert not np.array_equal(sampled["global_auc"], exact["global_auc"])


def test_summary_without_y_has_no_performance_columns(rng):
    net, X, _ = _binary_case(rng)
    df = region_summary(unwrap(net, X), X)
    assert not any(c.startswith(("local_", "global_", "y_")) for c in df.columns)
    assert "pred_mean" in df


def test_grouped_auc_with_ties_matches_sklearn(rng):
    n = 2000
    groups = rng.integers(0, 7, size=n)
    score = rng.integers(0, 5, size=n).astype(float)  # many ties
    yb = rng.random(n) < 0.4
    yb[groups == 6] = True  # one group with a single class
    auc = grouped_auc(groups, score, yb, 8)
    for g in range(6):
        m = groups == g
        assert auc[g] == pytest.approx(roc_auc_score(yb[m], score[m]), rel=1e-12)
    assert np.isnan(auc[6]) and np.isnan(auc[7])


def test_summary_bad_input(rng):
    net, X, y = _binary_case(rng)
    reg = unwrap(net, X)
    with pytest.raises(ValueError, match="rows"):
        region_summary(reg, X[:10], y[:10])
    with pytest.raises(ValueError, match="do(es)? not match"):
        region_summary(reg, X[::-1].copy(), y)
    with pytest.raises(ValueError, match="0/1"):
        region_summary(reg, X, y * 2)
    with pytest.raises(ValueError, match="task"):
        region_summary(reg, X, y, task="ranking")
    with pytest.raises(ValueError, match="top"):
        region_summary(reg, X, y, top=0)
    with pytest.raises(TypeError, match="Regions"):
        region_summary(net, X, y)
    sm_net = random_network(rng, 3, (4,), 3, "softmax")
    with pytest.raises(ValueError, match="class indices"):
        region_summary(unwrap(sm_net, X), X, np.full(X.shape[0], 3))


# ---------------------------------------------------------------------- contributions
@pytest.mark.parametrize("k,output", [(1, "sigmoid"), (3, "identity")])
def test_contributions_sum_to_network_output(rng, k, output):
    net = random_network(rng, 5, (9, 9, 9), k, output)
    X = rng.normal(size=(500, 5))
    reg = unwrap(net, X)
    eta = net.forward(X)
    Xnew = rng.normal(size=(200, 5)) * 3  # rows never unwrapped
    for model, data in ((reg, X), (net, Xnew)):
        ref = net.forward(data)
        for baseline in (None, "mean", rng.normal(size=5)):
            c = local_contributions(model, data, baseline)
            parts = c[[*reg.feature_names, "base"]].to_numpy().sum(axis=1)
            np.testing.assert_allclose(parts, ref.ravel(), atol=1e-9, rtol=0)
            np.testing.assert_allclose(c["output"], ref.ravel(), atol=1e-9, rtol=0)
    c0 = local_contributions(reg, X, output=k - 1)
    np.testing.assert_allclose(c0["output"], eta[:, k - 1], atol=1e-9, rtol=0)
    coef, intercept = reg.local_models(X)
    np.testing.assert_array_equal(c0["x2"], coef[:, k - 1, 2] * X[:, 2])
    np.testing.assert_array_equal(c0["base"], intercept[:, k - 1])


def test_contributions_keep_dataframe_index_and_names(rng):
    net = random_network(rng, 2, (4,), 1)
    X = pd.DataFrame(rng.normal(size=(6, 2)), columns=["age", "income"], index=list("abcdef"))
    c = unwrap(net, X).local_contributions(X, baseline=pd.Series({"income": 1.0, "age": 2.0}))
    assert list(c.columns) == ["age", "income", "base", "output"]
    assert list(c.index) == list("abcdef")
    coef, _ = unwrap(net, X).local_models(X)
    np.testing.assert_allclose(c["age"], coef[:, 0, 0] * (X["age"] - 2.0))
    with pytest.raises(ValueError, match="baseline"):
        local_contributions(net, X, baseline=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="baseline"):
        local_contributions(net, X, baseline="mode")
    with pytest.raises(ValueError, match="output"):
        local_contributions(net, X, output=2)


# ---------------------------------------------------------------------- importance
def _autograd_coef(net, X):
    """Per-row gradient d eta / d x of every output by torch autograd (independent oracle)."""
    import torch

    Xt = torch.tensor(np.asarray(X, dtype=float), requires_grad=True)
    a = Xt
    for W, b in zip(net.weights[:-1], net.biases[:-1], strict=True):
        a = torch.relu(a @ torch.tensor(W).T + torch.tensor(b))
    out = a @ torch.tensor(net.weights[-1]).T + torch.tensor(net.biases[-1])
    grads = [torch.autograd.grad(out[:, j].sum(), Xt, retain_graph=True)[0].numpy()
             for j in range(out.shape[1])]
    return np.stack(grads, axis=1)  # (n, k, d)


def test_feature_importance_formula_and_every_feature(rng):
    net = random_network(rng, 6, (8, 8), 2)
    W0 = np.array(net.weights[0])
    W0[:, 4] = 0.0  # feature x4 has no effect anywhere
    net = ReluNetwork([W0, *net.weights[1:]], list(net.biases))
    X = rng.normal(size=(400, 6)) * [1, 2, 3, 4, 5, 6] + [0, 100, 0, -5, 0, 1e4]
    reg = unwrap(net, X)
    grad = _autograd_coef(net, X)  # (n, k, d)
    names = [f"x{j}" for j in range(6)]
    # default with X: standardised, mean over rows of |coef| * sd, averaged over outputs
    imp = feature_importance(reg, X)
    ref = (np.abs(grad) * X.std(axis=0)).mean(axis=1).mean(axis=0)
    np.testing.assert_allclose(imp.loc[names, "mean_abs_effect"], ref, rtol=1e-9)
    np.testing.assert_allclose(imp.loc[names, "importance"], ref / ref.sum(), rtol=1e-9)
    assert imp.attrs["scale"] == "std" and "standard-deviation" in imp.columns.name
    assert sorted(imp.index) == names
    assert imp["importance"].sum() == pytest.approx(1.0)
    assert imp.loc["x4", "importance"] == 0.0
    assert imp["importance"].is_monotonic_decreasing
    # raw units: without X (the unwrapped counts), or scale="raw"
    raw = feature_importance(reg)
    ref_raw = np.abs(grad).mean(axis=1).mean(axis=0)
    np.testing.assert_allclose(raw.loc[names, "mean_abs_effect"], ref_raw, rtol=1e-9)
    assert raw.attrs["scale"] == "raw"
    pd.testing.assert_frame_equal(feature_importance(reg, X, scale="raw"), raw)
    pd.testing.assert_frame_equal(feature_importance(reg, X, standardize=False), raw)
    one = feature_importance(reg, X, output=1)
    np.testing.assert_allclose(one.loc["x0", "mean_effect"],
                               (grad[:, 1, 0] * X[:, 0].std()).mean(), rtol=1e-9)
    with pytest.raises(ValueError, match="needs X"):
        feature_importance(reg, scale="std")
    with pytest.raises(ValueError, match="scale must be"):
        feature_importance(reg, X, scale="unit")


def _grouped_case(rng):
    """A network whose inputs 1..3 are the one-hot columns of one categorical column."""
    n = 500
    cat = rng.integers(0, 3, n)
    X = np.column_stack([rng.normal(size=n) * 50, np.eye(3)[cat], rng.normal(size=n)])
    names = ["amount", "grade_A", "grade_B", "grade_C", "age"]
    net0 = random_network(rng, 5, (7, 6), 1, "sigmoid")
    net = ReluNetwork(net0.weights, net0.biases, "sigmoid", names,
                      feature_groups={"grade": ("grade_A", "grade_B", "grade_C")})
    return net, pd.DataFrame(X, columns=names)


def test_group_contributions_are_sums_and_exact(rng):
    net, X = _grouped_case(rng)
    grad = _autograd_coef(net, X)[:, 0, :]
    c = local_contributions(net, X, baseline="mean", by_group=True)
    assert list(c.columns) == ["amount", "grade", "age", "base", "output"]
    x = X.to_numpy() - X.to_numpy().mean(axis=0)
    np.testing.assert_allclose(c["grade"], (grad[:, 1:4] * x[:, 1:4]).sum(axis=1),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(c["amount"], grad[:, 0] * x[:, 0], rtol=1e-9, atol=1e-12)
    # still an exact decomposition of the network's output
    np.testing.assert_allclose(c[["amount", "grade", "age", "base"]].sum(axis=1),
                               net.forward(X)[:, 0], rtol=1e-9, atol=1e-9)
    own = local_contributions(net, X, groups={"size": ["amount", "age"]})
    assert list(own.columns) == ["size", "grade_A", "grade_B", "grade_C", "base", "output"]
    with pytest.raises(ValueError, match="not a feature"):
        local_contributions(net, X, groups={"g": ["nope"]})


def test_group_importance_is_sd_of_group_contribution(rng):
    net, X = _grouped_case(rng)
    reg = unwrap(net, X)
    grad = _autograd_coef(net, X)[:, 0, :]
    imp = feature_importance(reg, X, by_group=True)
    assert sorted(imp.index) == ["age", "amount", "grade"] and imp.index.name == "group"
    Xa = X.to_numpy()
    cov = np.cov(Xa[:, 1:4], rowvar=False, ddof=0)
    ref_grade = np.sqrt(np.einsum("nm,mk,nk->n", grad[:, 1:4], cov, grad[:, 1:4])).mean()
    assert imp.loc["grade", "mean_abs_effect"] == pytest.approx(ref_grade, rel=1e-9)
    ref_amount = (np.abs(grad[:, 0]) * Xa[:, 0].std()).mean()
    assert imp.loc["amount", "mean_abs_effect"] == pytest.approx(ref_amount, rel=1e-9)
    assert np.isnan(imp.loc["grade", "mean_effect"])
    raw = feature_importance(reg, X, by_group=True, scale="raw")
    ref_raw = np.sqrt((grad[:, 1:4] ** 2).sum(axis=1)).mean()
    assert raw.loc["grade", "mean_abs_effect"] == pytest.approx(ref_raw, rel=1e-9)


def test_coefficient_distribution_matches_expanded_rows(rng):
    net = random_network(rng, 3, (6, 6), 1)
    X = rng.normal(size=(500, 3))
    reg = unwrap(net, X)
    q = (0.1, 0.5, 0.9)
    dist = coefficient_distribution(reg, quantiles=q)
    coef, intercept = reg.local_models(X)
    vals = np.column_stack([coef[:, 0, :], intercept[:, 0]])
    assert list(dist.index) == ["x0", "x1", "x2", "intercept"]
    np.testing.assert_allclose(dist["mean"], vals.mean(axis=0))
    np.testing.assert_allclose(dist["std"], vals.std(axis=0), atol=1e-12)
    for qi in q:
        expected = np.quantile(vals, qi, axis=0, method="inverted_cdf")
        np.testing.assert_array_equal(dist[f"q{qi:g}"], expected)
    np.testing.assert_allclose(dist["share_positive"], (vals > 0).mean(axis=0))
    with pytest.raises(ValueError, match="quantiles"):
        coefficient_distribution(reg, quantiles=(0.5, 1.5))


# ---------------------------------------------------------------------- inference
def _inference_case(rng):
    net = random_network(rng, 2, (3,), 1, "sigmoid")
    X = rng.normal(size=(3000, 2))
    eta = X @ [1.0, -1.5] + 0.3
    y = (rng.random(3000) < 1 / (1 + np.exp(-eta))).astype(float)
    return net, X, y


def test_inference_matches_statsmodels(rng):
    net, X, y = _inference_case(rng)
    reg = unwrap(net, X)
    r = 0
    table = region_inference(reg, X, y, r)
    rows = reg.labels == r
    res = sm.Logit(y[rows], sm.add_constant(X[rows])).fit(disp=0)
    np.testing.assert_allclose(table["coef"], res.params, rtol=1e-6)
    np.testing.assert_allclose(table["std_err"], res.bse, rtol=1e-6)
    np.testing.assert_allclose(table["z"], res.tvalues, rtol=1e-6)
    np.testing.assert_allclose(table["p_value"], res.pvalues, rtol=1e-5, atol=1e-300)
    np.testing.assert_allclose(table[["ci_low", "ci_high"]], res.conf_int(0.05), rtol=1e-6)
    assert list(table.index) == ["intercept", "x0", "x1"]
    np.testing.assert_array_equal(table["llm_coef"], [reg.intercept[r, 0], *reg.coef[r, 0]])
    assert table.attrs["n_obs"] == rows.sum()
    # a merged region = the union of its regions' rows; OLS for regression
    merged = region_inference(reg, X, y, [0, 1], task="regression", alpha=0.1)
    rows = np.isin(reg.labels, [0, 1])
    ols = sm.OLS(y[rows], sm.add_constant(X[rows])).fit()
    np.testing.assert_allclose(merged["t"], ols.tvalues, rtol=1e-8)
    np.testing.assert_allclose(merged[["ci_low", "ci_high"]], ols.conf_int(0.1), rtol=1e-8)
    assert "llm_coef" not in merged
    mask_table = reg.inference(X, y, rows, task="regression", alpha=0.1)
    pd.testing.assert_frame_equal(mask_table, merged, check_like=True)


def test_inference_clear_errors(rng):
    net, X, y = _inference_case(rng)
    reg = unwrap(net, X)
    small = int(np.flatnonzero(reg.counts <= 3)[0]) if (reg.counts <= 3).any() else None
    tiny = np.zeros(X.shape[0], dtype=bool)
    tiny[:3] = True
    with pytest.raises(ValueError, match="rows"):
        region_inference(reg, X, y, tiny if small is None else small)
    with pytest.raises(ValueError, match="separated"):
        region_inference(reg, X, (X[:, 0] > 0).astype(float), np.ones(X.shape[0], dtype=bool))
    with pytest.raises(ValueError, match="single class"):
        region_inference(reg, X, np.zeros(X.shape[0]), 0)
    with pytest.raises(ValueError, match="region indices"):
        region_inference(reg, X, y, len(reg))
    with pytest.raises(TypeError, match="region"):
        region_inference(reg, X, y, "big")


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_inference_drops_constant_and_collinear_columns(rng, task):
    n = 2000
    x0, x1 = rng.normal(size=n), rng.normal(size=n)
    cat = rng.integers(0, 3, n)
    onehot = np.eye(3)[cat]  # sums to 1: the last column is collinear with the intercept
    X = np.column_stack([x0, np.full(n, 2.0), x1, onehot, x0 - 2 * x1])
    names = ["x0", "flat", "x1", "c_A", "c_B", "c_C", "combo"]
    eta = 0.8 * x0 - 0.5 * x1 + 0.6 * onehot[:, 0] - 0.2
    if task == "classification":
        y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
        net = random_network(rng, 7, (4,), 1, "sigmoid")
    else:
        y = eta + rng.normal(size=n)
        net = random_network(rng, 7, (4,), 1, "identity")
    reg = unwrap(net.with_feature_names(names), X)
    rows = np.ones(n, dtype=bool)
    df = region_inference(reg, X, y, rows, task=task)
    assert df.attrs["dropped"] == {"constant": ["flat"], "collinear": ["c_C", "combo"]}
    assert "['flat']" in df.attrs["note"] and "['c_C', 'combo']" in df.attrs["note"]
    assert df.loc[["flat", "c_C", "combo"]].isna().all().all()
    # oracle: statsmodels on the reduced design chosen by hand
    Z = sm.add_constant(X[:, [0, 2, 3, 4]])
    ref = (sm.Logit(y, Z).fit(disp=0) if task == "classification" else sm.OLS(y, Z).fit())
    kept = ["intercept", "x0", "x1", "c_A", "c_B"]
    np.testing.assert_allclose(df.loc[kept, "coef"], ref.params, rtol=1e-6)
    np.testing.assert_allclose(df.loc[kept, "std_err"], ref.bse, rtol=1e-6)
    np.testing.assert_allclose(df.loc[kept, "p_value"], ref.pvalues, rtol=1e-5, atol=1e-300)
    net2 = random_network(rng, 2, (3,), 1, net.output)
    plain = region_inference(unwrap(net2, X[:, [0, 2]]), X[:, [0, 2]], y, rows, task=task)
    assert plain.attrs["note"] == "" and not plain.isna().any().any()


def test_region_summary_group_contributions(rng):
    net, X = _grouped_case(rng)
    reg = unwrap(net, X)
    df = region_summary(reg, X, by_group=True)
    assert [c for c in df.columns if c.startswith("contrib_")] == [
        "contrib_amount", "contrib_grade", "contrib_age"]
    # oracle: per-row autograd gradients times x, summed over the group, averaged per region
    grad = _autograd_coef(net, X)[:, 0, :]
    gx = grad * X.to_numpy()
    per_row = pd.DataFrame({"region": reg.labels, "grade": gx[:, 1:4].sum(axis=1),
                            "eta": net.forward(X)[:, 0]})
    means = per_row.groupby("region").mean().loc[df["region"]]
    np.testing.assert_allclose(df["contrib_grade"], means["grade"], rtol=1e-9, atol=1e-9)
    # additive: intercept + group contributions = the region's mean raw output
    total = df["intercept"] + df[["contrib_amount", "contrib_grade", "contrib_age"]].sum(axis=1)
    np.testing.assert_allclose(total, means["eta"], rtol=1e-9, atol=1e-9)
    assert "contrib_amount" not in region_summary(reg, X).columns


def test_auc_rows_with_ties_and_constant_rows_match_sklearn(rng):
    from glassnet._metrics_grouped import auc_rows

    m = 1500
    yb = rng.random(m) < 0.35
    score = np.column_stack([
        rng.normal(size=m),                       # continuous
        rng.integers(0, 4, size=m).astype(float),  # heavy ties
        np.full(m, 2.5),                           # one run: AUC 0.5
        -np.arange(m, dtype=float),                # strictly decreasing
        np.round(rng.normal(size=m), 1),           # some ties
    ])
    auc = auc_rows(score.T, yb)
    ref = [roc_auc_score(yb, score[:, j]) for j in range(score.shape[1])]
    np.testing.assert_allclose(auc, ref, rtol=1e-12)
    assert np.isnan(auc_rows(score.T, np.ones(m, dtype=bool))).all()


def test_every_region_metric_matches_a_per_region_loop(rng):
    """Classification and regression columns against a loop over regions with sklearn."""
    from sklearn.metrics import accuracy_score, mean_squared_error

    net = random_network(rng, 2, (6, 6), 1, "sigmoid")
    X = np.round(rng.normal(size=(1200, 2)), 1)  # rounded rows: tied scores inside regions
    y = (rng.random(1200) < net.predict_output(X)[:, 0]).astype(float)
    reg = unwrap(net, X)
    y[reg.labels == len(reg) - 1] = 1.0  # the smallest region holds one class only
    df = region_summary(reg, X, y, global_top=None).set_index("region")
    eta = net.forward(X)[:, 0]
    for r in range(len(reg)):
        m = reg.labels == r
        assert df.loc[r, "local_auc"] == pytest.approx(_local_auc(eta[m], y[m]), rel=1e-12,
                                                       nan_ok=True)
        acc = accuracy_score(y[m], eta[m] > 0)
        assert df.loc[r, "local_accuracy"] == pytest.approx(acc, rel=1e-12)
        assert df.loc[r, "y_std"] == pytest.approx(np.std(y[m]), abs=1e-12)
    assert np.isnan(df.loc[len(reg) - 1, "local_auc"])

    netr = random_network(rng, 2, (6, 6), 1, "identity")
    yr = rng.normal(size=1200)
    regr = unwrap(netr, X)
    dfr = region_summary(regr, X, yr).set_index("region")
    out = netr.forward(X)[:, 0]
    for r in range(len(regr)):
        m = regr.labels == r
        mse = mean_squared_error(yr[m], out[m])
        assert dfr.loc[r, "local_rmse"] == pytest.approx(np.sqrt(mse), rel=1e-9, abs=1e-12)
        assert dfr.loc[r, "pred_mean"] == pytest.approx(out[m].mean(), rel=1e-9, abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000), st.integers(20, 300), st.sampled_from([1, 2]))
def test_vectorised_region_metrics_equal_a_loop_over_regions_with_sklearn(seed, n, decimals):
    """Every per-region column, local and global, against sklearn on each region's rows
    (one-class regions, single-row regions, tied scores from rounded rows)."""
    from sklearn.metrics import accuracy_score, mean_squared_error

    rng = np.random.default_rng(seed)
    X = np.round(rng.normal(size=(n, 2)), decimals)
    net = random_network(rng, 2, (5, 5), 1, "sigmoid")
    reg = unwrap(net, X)
    y = (rng.random(n) < net.predict_output(X)[:, 0]).astype(float)
    y[reg.labels == 0] = 1.0  # the largest region holds one class only
    df = region_summary(reg, X, y, global_top=None).set_index("region")
    eta = net.forward(X)[:, 0]
    for r in range(len(reg)):
        m = reg.labels == r
        row = df.loc[r]
        assert row["count"] == m.sum()
        assert row["local_auc"] == pytest.approx(_local_auc(eta[m], y[m]), rel=1e-12,
                                                 nan_ok=True)
        assert row["local_accuracy"] == pytest.approx(accuracy_score(y[m], eta[m] > 0))
        assert row["y_mean"] == pytest.approx(y[m].mean())
        assert row["pred_mean"] == pytest.approx(net.predict_output(X[m])[:, 0].mean())
        glob = X @ reg.coef[r, 0] + reg.intercept[r, 0]
        assert row["global_auc"] == pytest.approx(_local_auc(glob, y), rel=1e-12, nan_ok=True)
        assert row["global_accuracy"] == pytest.approx(accuracy_score(y, glob > 0))
    assert np.isnan(df.loc[0, "local_auc"])

    netr = random_network(rng, 2, (5, 5), 1, "identity")
    regr = unwrap(netr, X)
    yr = rng.normal(size=n)
    dfr = region_summary(regr, X, yr, global_top=None).set_index("region")
    out = netr.forward(X)[:, 0]
    for r in range(len(regr)):
        m = regr.labels == r
        assert dfr.loc[r, "local_mse"] == pytest.approx(mean_squared_error(yr[m], out[m]),
                                                        rel=1e-9, abs=1e-12)
        glob = X @ regr.coef[r, 0] + regr.intercept[r, 0]
        assert dfr.loc[r, "global_mse"] == pytest.approx(mean_squared_error(yr, glob),
                                                         rel=1e-9, abs=1e-12)
