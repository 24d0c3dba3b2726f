"""The 32-bit bucket keys of glassnet._metrics_grouped against exact oracles.

``auc_rows`` and ``grouped_auc`` sort fixed-point bucket keys and correct the buckets that
hold both classes. Every AUC must equal the exact Mann-Whitney value, correctly rounded:
the oracle counts (positive, negative) pairs with float comparisons only (ties one half)
and rounds the fraction with Python's exact ``Fraction``; ``roc_auc_score`` is checked
beside it. The scores are adversarial: exact ties across the classes, scores one ulp apart,
both zeros, subnormals, float32 overflow (|s| > 3.4e38), ranges that overflow float64, and
clusters of distinct scores far closer than one bucket.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import roc_auc_score

from glassnet._metrics_grouped import auc_rows, grouped_auc

F32_MAX = float(np.finfo(np.float32).max)
POOL = [0.0, -0.0, 5e-324, -5e-324, 1e-310, 2.2250738585072014e-308, 1e-30, 0.1, 1.0, -1.0,
        F32_MAX, np.nextafter(F32_MAX, np.inf), 3.5e38, -3.5e38, 1e300, -1e300,
        1.7976931348623157e308, -1.7976931348623157e308]


def exact_auc(y: np.ndarray, s: np.ndarray) -> float:
    """Correctly rounded (#{pos > neg} + #{pos == neg} / 2) / (n1 n0); NaN for one class."""
    pos, neg = s[y], s[~y]
    if pos.size == 0 or neg.size == 0:
        return np.nan
    if pos.size * neg.size <= 1_000_000:  # brute force over all pairs
        two_u = int(2 * (pos[:, None] > neg).sum() + (pos[:, None] == neg).sum())
    else:  # the same count from sorted negatives (float comparisons only)
        ns = np.sort(neg)
        below, upto = np.searchsorted(ns, pos, "left"), np.searchsorted(ns, pos, "right")
        two_u = int(below.sum() + upto.sum())
    return float(Fraction(two_u, 2 * pos.size * neg.size))


def sk_auc(y, s):
    return roc_auc_score(y, s) if 0 < y.sum() < y.size else np.nan


def _step(v: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """``v`` moved ``steps`` (-1, 0, 1) ulps, left where that would leave the finite floats."""
    with np.errstate(over="ignore"):
        out = np.where(steps > 0, np.nextafter(v, np.inf), v)
        out = np.where(steps < 0, np.nextafter(v, -np.inf), out)
    return np.where(np.isfinite(out), out, v)


finite = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def scores_and_labels(draw, max_rows: int = 5):
    """A (G, m) score matrix drawn from a small palette (ties), one ulp steps, and labels."""
    m = draw(st.integers(2, 30))
    G = draw(st.integers(1, max_rows))
    mode = draw(st.sampled_from(["palette", "cluster", "free"]))
    if mode == "free":
        scores = draw(hnp.arrays(np.float64, (G, m), elements=finite))
    else:
        if mode == "palette":
            palette = np.array(draw(st.lists(st.one_of(finite, st.sampled_from(POOL)),
                                             min_size=1, max_size=6)))
        else:
            # distinct scores far closer than one bucket ((hi - lo) / 2**30) of the vector
            palette = 0.5 + np.arange(6) * 2.0**-40
        idx = draw(hnp.arrays(np.int64, (G, m), elements=st.integers(0, palette.size - 1)))
        steps = draw(hnp.arrays(np.int64, (G, m), elements=st.integers(-1, 1)))
        scores = _step(palette[idx], steps)
        if mode == "cluster":  # the vector's range is [0, 1]: the cluster shares a bucket
            scores[:, 0], scores[:, -1] = 0.0, 1.0
    y = draw(hnp.arrays(np.bool_, m))
    return scores, y


@settings(max_examples=300, deadline=None)
@given(scores_and_labels())
def test_auc_rows_is_the_exact_mann_whitney_value(case):
    scores, y = case
    got = auc_rows(scores, y)
    ref = np.array([exact_auc(y, s) for s in scores])
    np.testing.assert_array_equal(got, ref)  # bit for bit; NaN where one class
    np.testing.assert_allclose(got, [sk_auc(y, s) for s in scores], rtol=1e-12, atol=1e-15)


@settings(max_examples=300, deadline=None)
@given(scores_and_labels(max_rows=1), st.integers(1, 6), st.data())
def test_grouped_auc_is_exact_in_every_group(case, n_groups, data):
    scores, y = case
    score = scores[0]
    groups = data.draw(hnp.arrays(np.int64, score.shape, elements=st.integers(0, n_groups - 1)))
    got = grouped_auc(groups, score, y, n_groups)
    ref = [exact_auc(y[groups == g], score[groups == g]) for g in range(n_groups)]
    np.testing.assert_array_equal(got, ref)


def test_bucket_mates_in_reverse_order_are_corrected():
    # range [0, 1]: a bucket is ~1e-9 wide, so 0.5 and 0.5 + 1e-13 share one; the key sort
    # puts the negative first, as if the positive (at 0.5) scored higher, which is false
    s = np.array([0.0, 1.0, 0.5, 0.5 + 1e-13, 0.25, 0.75])
    y = np.array([False, True, True, False, False, True])
    assert auc_rows(s[None], y)[0] == exact_auc(y, s) == 8 / 9  # keys alone: 1
    tie = s.copy()
    tie[3] = 0.5  # now an exact tie across the classes: half a pair
    assert auc_rows(tie[None], y)[0] == exact_auc(y, tie) == 8.5 / 9
    # the same inside groups (group 1 repeats the vector)
    g = np.repeat([0, 1], 6)
    got = grouped_auc(g, np.concatenate([s, tie]), np.concatenate([y, y]), 2)
    np.testing.assert_array_equal(got, [8 / 9, 8.5 / 9])


@pytest.mark.parametrize("name, row", [
    ("constant", np.full(8, 2.5)),
    ("both zeros", np.array([0.0, -0.0] * 4)),
    ("range overflows", np.array([1.7e308, -1.7e308, 1.0, 0.0, -1.0, 1.7e308, 2.0, -1.7e308])),
    ("subnormal range", np.array([5e-324, 0.0, 1e-323, 5e-324, 0.0, 1.5e-323, -0.0, 5e-324])),
    ("float32 overflow", np.array([3.5e38, 3.6e38, -3.5e38, F32_MAX, 3.5e38, 1.0, 3.6e38, 0.0])),
])
def test_degenerate_ranges(name, row):
    y = np.array([True, False, True, False, False, True, True, False])
    assert auc_rows(row[None], y)[0] == exact_auc(y, row), name
    assert grouped_auc(np.zeros(8, dtype=np.int64), row, y, 1)[0] == exact_auc(y, row), name


def test_many_blocks_and_a_doubtful_bucket_in_each():
    # 150 rows of 1,000 scores: several blocks of rows; every tenth row gets bucket mates
    # of both classes (one ulp apart or tied) somewhere in it
    rng = np.random.default_rng(3)
    m, G = 1000, 150
    y = rng.random(m) < 0.4
    scores = rng.normal(size=(G, m))
    p, n = np.flatnonzero(y)[:5], np.flatnonzero(~y)[:5]
    for r in range(0, G, 10):
        scores[r, n] = np.nextafter(scores[r, p], np.inf if r % 20 else -np.inf)
        scores[r, n[:2]] = scores[r, p[:2]]
    got = auc_rows(scores, y)
    ref = np.array([exact_auc(y, s) for s in scores])
    np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("m", [65_535, 65_536])
def test_rank_sums_either_side_of_the_int32_limit(m):
    # the positive rank sum is accumulated in int32 up to m = 65,535 and in float64 above;
    # three negatives at the bottom of the second row: its rank sum m (m + 1) / 2 - 6 is
    # above 2**31 - 1 for m = 65,536 (an int32 accumulator would wrap)
    rng = np.random.default_rng(m)
    y = np.ones(m, dtype=bool)
    y[:3] = False
    scores = np.vstack([np.round(rng.normal(size=m), 2), np.arange(m, dtype=np.float64)])
    got = auc_rows(scores, y)
    np.testing.assert_array_equal(got, [exact_auc(y, s) for s in scores])
    np.testing.assert_allclose(got, [roc_auc_score(y, s) for s in scores], rtol=1e-12)


def test_grouped_auc_with_groups_of_very_different_scales():
    # one bucket map spans all groups: a group whose scores vary by 1e-12 shares buckets
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(3), 200)
    score = np.concatenate([rng.normal(size=200) * 1e6, 1.0 + rng.normal(size=200) * 1e-12,
                            np.round(rng.normal(size=200), 1)])
    y = rng.random(600) < 0.5
    got = grouped_auc(g, score, y, 3)
    ref = [exact_auc(y[g == k], score[g == k]) for k in range(3)]
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_allclose(got, [roc_auc_score(y[g == k], score[g == k]) for k in range(3)],
                               rtol=1e-12)


def test_many_doubtful_buckets_on_a_long_vector():
    # 400k scores: ~1e10 (positive, negative) pairs over 2**30 buckets leaves dozens of
    # buckets with both classes, plus exact ties across the classes put in on purpose
    rng = np.random.default_rng(11)
    m = 400_000
    y = rng.random(m) < 0.5
    s = rng.normal(size=m) + 0.3 * y
    src, dst = rng.integers(0, m, size=(2, 2_000))
    s[dst] = s[src]
    # three rows in doubt: the exact fix-up takes them two at a time (2**20 scores)
    rows = np.vstack([s, -s, 3.0 * s + 1.0])
    got = auc_rows(rows, y)
    np.testing.assert_array_equal(got, [exact_auc(y, r) for r in rows])
    np.testing.assert_allclose(got[0], roc_auc_score(y, s), rtol=1e-12)


def test_scores_on_a_grid_share_the_filter_slot():
    # integer scores 0..1024: every bucket number is a multiple of 2**20, so all scores fall
    # in one slot of the membership filter and the lookup must still find the right ones
    rng = np.random.default_rng(12)
    s = rng.integers(0, 1025, size=20_000).astype(np.float64)
    y = rng.random(20_000) < 0.3
    assert auc_rows(s[None], y)[0] == exact_auc(y, s)
    g = rng.integers(0, 7, size=20_000)
    got = grouped_auc(g, s, y, 7)
    np.testing.assert_array_equal(got, [exact_auc(y[g == k], s[g == k]) for k in range(7)])


def test_grouped_auc_on_many_rows_and_groups():
    rng = np.random.default_rng(13)
    n, G = 300_000, 500
    g = rng.integers(0, G, size=n)
    y = rng.random(n) < 0.4
    s = np.round(rng.normal(size=n) * (1 + g % 5), 3)  # ties, scales differing by group
    got = grouped_auc(g, s, y, G)
    order = np.argsort(g, kind="stable")
    bounds = np.searchsorted(g[order], np.arange(G + 1))
    ref = [exact_auc(y[order[a:b]], s[order[a:b]])
           for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    np.testing.assert_array_equal(got, ref)


def test_strided_score_views_need_no_copy_and_give_the_same_aucs():
    # the region table passes (regions, rows) views of a (regions, outputs, rows) buffer
    rng = np.random.default_rng(14)
    buf = np.round(rng.normal(size=(40, 3, 500)), 2)
    y = rng.random(500) < 0.4
    cases = [(buf[:, 1, :], y), (buf[:, 2, ::-1], y[::-1]),
             (np.asfortranarray(buf[:, 0, :]), y)]
    for view, labels in cases:
        assert not view.flags.c_contiguous
        got = auc_rows(view, labels)
        np.testing.assert_array_equal(got, [exact_auc(labels, r) for r in view])


@pytest.mark.parametrize("packed_bits", [True, False])
def test_global_accuracy_against_a_forward_pass_of_every_region_model(packed_bits,
                                                                      monkeypatch):
    """Every region's global accuracy equals its LLM's calls on all rows counted directly;
    without ``np.bitwise_count`` (NumPy < 2.0, which pyproject allows) the plain count runs."""
    from glassnet import ReluNetwork, unwrap

    if not packed_bits:
        monkeypatch.delattr(np, "bitwise_count", raising=False)
    rng = np.random.default_rng(3)
    sizes = [3, 8, 6, 1]
    W = [rng.normal(size=(sizes[i + 1], sizes[i])) for i in range(3)]
    b = [rng.normal(size=sizes[i + 1]) for i in range(3)]
    net = ReluNetwork(W, b, output="sigmoid")
    X = rng.normal(size=(1003, 3))  # not a multiple of 8: padded bits must not count
    y = rng.integers(0, 2, 1003)
    regions = unwrap(net, X)
    table = regions.summary(X, y, global_top=None).sort_values("region")
    calls = (X @ regions.coef[:, 0, :].T + regions.intercept[:, 0]) > 0
    expect = (calls == y[:, None].astype(bool)).mean(axis=0)
    np.testing.assert_allclose(table["global_accuracy"].to_numpy(), expect, rtol=0, atol=1e-15)
