"""glassnet._metrics against direct formulas, scipy and brute force."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from glassnet import _metrics as M


def _auc_pairs(y, s):
    # AUC = P(score_pos > score_neg) + 0.5 P(tie), counted over all pairs
    pos, neg = s[y == 1], s[y == 0]
    diff = pos[:, None] - neg[None, :]
    return ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 60))
def test_auc_gini_ks_against_pair_count_and_scipy(seed, n):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[0], y[1] = 0, 1
    s = np.round(rng.normal(size=n) + 0.7 * y, 1)  # rounding makes ties
    assert M.auc(y, s) == pytest.approx(_auc_pairs(y, s), abs=1e-12)
    assert M.gini(y, s) == pytest.approx(2 * _auc_pairs(y, s) - 1, abs=1e-12)
    assert M.ks(y, s) == pytest.approx(stats.ks_2samp(s[y == 1], s[y == 0]).statistic, abs=1e-12)


def test_one_class_rule_and_labels():
    s = np.array([0.1, 0.4, 0.9])
    assert np.isnan(M.auc([1, 1, 1], s))
    assert np.isnan(M.gini([0, 0, 0], s))
    assert np.isnan(M.ks([0, 0, 0], s))
    assert M.roc_curve([1, 1, 1], s).empty
    # one class is still fine for scores defined on it
    assert M.brier([1, 1, 1], s) == pytest.approx(np.mean((s - 1) ** 2))
    assert M.accuracy([1, 1, 1], [1, 0, 1]) == pytest.approx(2 / 3)
    assert np.isnan(M.r2([2.0, 2.0, 2.0], [1.0, 2.0, 3.0]))
    # string labels: the larger one is positive; pos_label overrides
    y = np.array(["bad", "good", "good", "bad"])
    sc = np.array([0.9, 0.2, 0.3, 0.1])
    assert M.auc(y, sc) == pytest.approx(_auc_pairs((y == "good").astype(int), sc))
    assert M.auc(y, sc, pos_label="bad") == pytest.approx(_auc_pairs((y == "bad").astype(int), sc))
    with pytest.raises(ValueError, match="pos_label"):
        M.brier(["x", "x"], [0.2, 0.3])
    # two-column probabilities use the second column
    assert M.auc([0, 1, 1, 0], np.column_stack([1 - sc, sc])) == pytest.approx(
        _auc_pairs(np.array([0, 1, 1, 0]), sc))


def test_multiclass_auc_is_mean_of_one_vs_rest():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    p = rng.dirichlet(np.ones(3), 90)
    p[np.arange(90), y] += 0.3
    p /= p.sum(1, keepdims=True)
    expected = np.mean([_auc_pairs((y == k).astype(int), p[:, k]) for k in range(3)])
    assert M.auc(y, p) == pytest.approx(expected, abs=1e-12)
    # a class absent from y is left out of the mean
    mask = y != 2
    expected2 = np.mean([_auc_pairs((y[mask] == k).astype(int), p[mask, k]) for k in range(2)])
    assert M.auc(y[mask], p[mask], labels=[0, 1, 2]) == pytest.approx(expected2, abs=1e-12)
    with pytest.raises(ValueError, match="labels"):
        M.auc(y[mask], p[mask])


def test_brier_decomposition_identity_and_formulas():
    rng = np.random.default_rng(1)
    p = rng.uniform(size=500)
    y = (rng.uniform(size=500) < p ** 1.5).astype(int)
    d = M.brier_decomposition(y, p, n_bins=10)
    assert d.brier == pytest.approx(np.mean((p - y) ** 2))
    assert d.brier == pytest.approx(d.reliability - d.resolution + d.uncertainty + d.within_bin)
    # direct loop over the bins
    idx = np.minimum((p * 10).astype(int), 9)
    o = y.mean()
    rel = sum(np.sum(idx == k) * (p[idx == k].mean() - y[idx == k].mean()) ** 2
              for k in range(10) if np.any(idx == k)) / 500
    res = sum(np.sum(idx == k) * (y[idx == k].mean() - o) ** 2
              for k in range(10) if np.any(idx == k)) / 500
    assert d.reliability == pytest.approx(rel)
    assert d.resolution == pytest.approx(res)
    assert d.uncertainty == pytest.approx(o * (1 - o))
    # forecasts constant within bins: the decomposition is exact without the within-bin term
    pc = (idx + 0.5) / 10
    dc = M.brier_decomposition(y, pc, n_bins=10)
    assert dc.within_bin == pytest.approx(0.0, abs=1e-15)


def test_calibration_curve_matches_sklearn():
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(2)
    p = rng.beta(2, 5, size=400)
    y = (rng.uniform(size=400) < p).astype(int)
    for strategy in ("uniform", "quantile"):
        ours = M.calibration_curve(y, p, n_bins=8, strategy=strategy)
        true, pred = calibration_curve(y, p, n_bins=8, strategy=strategy)
        np.testing.assert_allclose(ours["observed_rate"], true)
        np.testing.assert_allclose(ours["mean_predicted"], pred)
        assert ours["n"].sum() == 400


def test_log_loss_accuracy_f1_regression_by_formula():
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.2, 0.7, 0.4, 0.1, 0.9])
    assert M.log_loss(y, p) == pytest.approx(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    assert M.log_loss([1, 1], [0.5, 0.8]) == pytest.approx(-np.mean(np.log([0.5, 0.8])))
    pred = (p > 0.5).astype(int)
    tp, fp, fn = 2, 0, 1
    assert M.f1(y, pred) == pytest.approx(2 * tp / (2 * tp + fp + fn))
    assert M.accuracy(y, pred) == pytest.approx(4 / 5)
    yr = np.array([1.0, 2.0, 4.0])
    pr = np.array([1.5, 2.0, 3.0])
    assert M.rmse(yr, pr) == pytest.approx(np.sqrt((0.25 + 0 + 1) / 3))
    assert M.mae(yr, pr) == pytest.approx(1.5 / 3)
    assert M.r2(yr, pr) == pytest.approx(1 - 1.25 / np.sum((yr - yr.mean()) ** 2))


def test_psi_by_hand_and_rules():
    rng = np.random.default_rng(3)
    e = rng.normal(size=1000)
    assert M.psi(e, e) == pytest.approx(0.0, abs=1e-15)
    a = rng.normal(0.5, 1.0, size=800)
    edges = np.quantile(e, np.arange(1, 10) / 10)
    eb = np.array([np.mean(np.digitize(e, edges) == k) for k in range(10)])
    ab = np.array([np.mean(np.digitize(a, edges) == k) for k in range(10)])
    assert M.psi(e, a) == pytest.approx(np.sum((ab - eb) * np.log(ab / eb)))
    # categorical: one bin per value, an empty bin gets the eps floor
    ec = np.array([0] * 50 + [1] * 50)
    ac = np.array([0] * 100)
    expected = (1 - 0.5) * np.log(1 / 0.5) + (1e-4 - 0.5) * np.log(1e-4 / 0.5)
    assert M.psi(ec, ac) == pytest.approx(expected)
    with pytest.raises(ValueError, match="NaN"):
        M.psi([0.0, np.nan], [0.0])
    with pytest.raises(ValueError, match="eps"):
        M.psi(e, a, eps=0.0)


def test_gains_table_against_sorting():
    rng = np.random.default_rng(4)
    s = rng.uniform(size=1000)
    y = (rng.uniform(size=1000) < s).astype(int)
    g = M.gains_table(y, s, n_bins=10)
    assert len(g) == 10 and g["n"].sum() == 1000
    order = np.argsort(-s)
    top = y[order[:100]]
    assert g["events"].iloc[0] == top.sum()
    assert g["min_score"].iloc[0] >= g["max_score"].iloc[1]
    assert g["capture_rate"].iloc[-1] == pytest.approx(1.0)
    assert g["lift"].iloc[0] == pytest.approx(top.mean() / y.mean())
    # KS over band edges cannot exceed the KS over every threshold
    assert g["ks"].max() <= M.ks(y, s) + 1e-12


def test_bad_input_messages():
    with pytest.raises(ValueError, match="rows"):
        M.auc([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="empty"):
        M.rmse([], [])
    with pytest.raises(ValueError, match="NaN"):
        M.auc([0, 1], [0.1, np.nan])
    with pytest.raises(ValueError, match="probabilities"):
        M.brier([0, 1], [0.1, 1.2])
    with pytest.raises(ValueError, match="1-D"):
        M.rmse(np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="binary"):
        M.ks([0, 1, 2], [0.1, 0.2, 0.3])


# ---------------------------------------------------------------------- many AUCs at once
# scores drawn from a few values and their one-ulp neighbours: ties, near-ties across the
# classes (the case the packed sort keys of auc_rows must send to the exact path), both zeros
_BASE = [-2.5, -1.0, -0.0, 0.0, 5e-324, 1e-300, 0.3, 1.0, 1.7e308]


def _score_values(draw_ints, rng):
    base = np.array(_BASE)[draw_ints % len(_BASE)]
    step = rng.integers(-1, 2, size=base.shape)
    out = np.where(step > 0, np.nextafter(base, np.inf), base)
    return np.where(step < 0, np.nextafter(base, -np.inf), out)


def _sk_auc_or_nan(y, s):
    from sklearn.metrics import roc_auc_score

    return roc_auc_score(y, s) if 0 < np.sum(y) < len(y) else np.nan


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 40), st.integers(1, 5), st.booleans())
def test_auc_rows_equals_sklearn_row_by_row(seed, m, G, continuous):
    from glassnet._metrics_grouped import auc_rows

    rng = np.random.default_rng(seed)
    y = rng.random(m) < rng.random()
    if continuous:
        scores = rng.normal(size=(G, m))
        # some samples score one ulp above or below (or equal to) another sample
        src, dst = rng.integers(0, m, size=(2, m // 3))
        scores[:, dst] = np.nextafter(scores[:, src], rng.choice([-np.inf, np.inf]))
        scores[:, dst[::2]] = scores[:, src[::2]]
    else:
        scores = _score_values(rng.integers(0, 100, size=(G, m)), rng)
    got = auc_rows(scores, y)
    ref = np.array([_sk_auc_or_nan(y, s) for s in scores])
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)  # NaN where ref is NaN


def test_auc_rows_exact_on_adversarial_near_ties():
    from glassnet._metrics_grouped import auc_rows

    rng = np.random.default_rng(7)
    x = rng.normal(size=400)
    y = np.arange(400) % 2 == 0
    # every negative one ulp above a positive (the lost key bit), then exactly tied
    near = x.copy()
    near[1::2] = np.nextafter(x[0::2], np.inf)
    tied = x.copy()
    tied[1::2] = x[0::2]
    zeros = np.where(y, 0.0, -0.0)  # equal floats with different bits: all tied
    scores = np.vstack([near, tied, zeros, -near])
    ref = [_sk_auc_or_nan(y, s) for s in scores]
    np.testing.assert_allclose(auc_rows(scores, y), ref, rtol=1e-12)
    assert auc_rows(scores, y)[2] == 0.5
    assert auc_rows(scores[:1], y)[0] != auc_rows(scores[1:2], y)[0]  # one ulp is not a tie


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 80), st.integers(1, 12), st.booleans())
def test_grouped_auc_equals_sklearn_group_by_group(seed, n, n_groups, continuous):
    from glassnet._metrics_grouped import grouped_auc

    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, size=n)  # some groups empty, some of one row
    y = rng.random(n) < 0.5
    if n_groups > 1:
        y[groups == 0] = True  # a one-class group
    score = (rng.normal(size=n) if continuous
             else _score_values(rng.integers(0, 100, size=n), rng))
    got = grouped_auc(groups, score, y, n_groups)
    ref = [_sk_auc_or_nan(y[groups == g], score[groups == g]) for g in range(n_groups)]
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)
