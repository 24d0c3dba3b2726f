"""The fast paths of the merger's cross-validation (issue 17), against independent oracles.

- the Ward tree's three cost paths (written-out arithmetic up to 4 features, a Python loop up
  to 6, NumPy beyond) against a brute-force Ward that recomputes every admissible merge
  from scratch under the same connectivity graph;
- the logistic Newton (transposed design, steps accepted by the gradient's sign, damped by
  the objective otherwise) from cold and far warm starts against statsmodels' unpenalised
  Logit and scikit-learn's penalised ``LogisticRegression``;
- the warm start of a merged region (row-weighted mean of the previous fits over its
  regions) and the vectorised held-out probabilities against direct per-row formulas.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import random_network
from hypothesis import assume, given, settings
from hypothesis import strategies as st


# ---------------------------------------------------------------------- Ward tree
def _brute_force_ward(F: np.ndarray, w: np.ndarray, edges: np.ndarray):
    """Sequential Ward under a graph, every cost recomputed from the clusters' rows."""
    R = F.shape[0]
    members = {v: [v] for v in range(R)}
    leaf_edges = {(int(a), int(b)) for a, b in edges} | {(int(b), int(a)) for a, b in edges}
    children, heights = [], []
    for m in range(R - 1):
        best = None
        live = sorted(members)
        for ia, a in enumerate(live):
            for b in live[ia + 1:]:
                if not any((u, v) in leaf_edges for u in members[a] for v in members[b]):
                    continue
                na, nb = w[members[a]].sum(), w[members[b]].sum()
                ma = (w[members[a], None] * F[members[a]]).sum(0) / na
                mb = (w[members[b], None] * F[members[b]]).sum(0) / nb
                cost = na * nb / (na + nb) * np.sum((ma - mb) ** 2)
                if best is None or cost < best[0]:
                    best = (cost, a, b)
        cost, a, b = best
        children.append((a, b))
        heights.append(np.sqrt(2.0 * cost))
        members[R + m] = members.pop(a) + members.pop(b)
    return np.array(children), np.array(heights)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), R=st.integers(2, 13),
       p=st.sampled_from([1, 2, 3, 4, 5, 6, 7, 9]), k=st.integers(1, 4))
def test_ward_tree_paths_match_brute_force_under_a_graph(seed, R, p, k):
    from glassnet.simplify._ward import connectivity_edges, weighted_ward_tree

    rng = np.random.default_rng(seed)
    F = rng.normal(size=(R, p))
    w = rng.integers(1, 9, size=R).astype(float)
    edges = connectivity_edges(F, k)
    children, heights = weighted_ward_tree(F, w, edges)
    exp_children, exp_heights = _brute_force_ward(F, w, edges)
    np.testing.assert_array_equal(children, exp_children)
    np.testing.assert_allclose(heights, exp_heights, rtol=1e-9, atol=1e-12)


def test_written_out_costs_equal_the_loop_and_numpy_paths_bit_for_bit():
    # the same points with exact-zero columns appended take the other two paths (5-6
    # features: Python loop; 7+: NumPy); a zero coordinate adds exact zeros, so the trees and
    # heights must be the same numbers, not merely close
    from glassnet.simplify._ward import connectivity_edges, weighted_ward_tree

    rng = np.random.default_rng(3)
    F = rng.normal(size=(300, 3))
    w = rng.integers(1, 40, size=300).astype(float)
    edges = connectivity_edges(F, 5)
    base = weighted_ward_tree(F, w, edges)
    for extra in (2, 5):
        padded = np.hstack([F, np.zeros((300, extra))])
        other = weighted_ward_tree(padded, w, edges)
        np.testing.assert_array_equal(other[0], base[0])
        np.testing.assert_array_equal(other[1], base[1])


# ---------------------------------------------------------------------- logistic Newton
def _logistic_data(seed: int, n: int, d: int):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, d))
    beta = rng.normal(0, 1.0, size=d)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(Z @ beta + 0.3)))).astype(int)
    return Z, y


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(80, 400), d=st.integers(1, 4),
       start=st.sampled_from(["cold", "near", "far"]))
def test_newton_equals_statsmodels_unpenalised_logit(seed, n, d, start):
    import statsmodels.api as sm

    from glassnet.simplify._glm import logistic_newton

    Z, y = _logistic_data(seed, n, d)
    A = np.column_stack([Z, np.ones(n)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sm.Logit(y, A).fit(method="newton", tol=1e-14, maxiter=200, disp=0)
    # (near) separation has no finite maximum likelihood to compare with
    assume(ref.mle_retvals["converged"] and np.max(np.abs(ref.params)) < 8)
    init = {"cold": None, "near": ref.params + 0.3,
            "far": np.full(d + 1, 6.0)}[start]  # far: full Newton steps overshoot there
    theta = logistic_newton(Z, y, np.inf, init=init)
    np.testing.assert_allclose(theta, ref.params, rtol=0, atol=1e-8)


@pytest.mark.parametrize("C", [0.05, 1.0, 100.0])
def test_newton_warm_and_cold_equal_sklearn_penalised_fit(C):
    from sklearn.linear_model import LogisticRegression

    from glassnet.simplify._glm import logistic_newton

    Z, y = _logistic_data(7, 600, 3)
    ref = LogisticRegression(C=C, solver="newton-cholesky", tol=1e-14, max_iter=500).fit(Z, y)
    expected = np.r_[ref.coef_[0], ref.intercept_[0]]
    cold = logistic_newton(Z, y, C)
    for init in (None, expected - 0.4, np.full(4, -7.0)):
        theta = logistic_newton(Z, y, C, init=init)
        np.testing.assert_allclose(theta, expected, rtol=0, atol=1e-8)
        np.testing.assert_allclose(theta, cold, rtol=0, atol=1e-8)
    # the transposed design given directly is the same problem
    At = np.vstack([Z.T, np.ones(len(y))])
    np.testing.assert_allclose(logistic_newton(None, y, C, design_t=At), cold, atol=1e-12)


def test_far_start_needs_the_objective_and_still_lands_on_the_optimum(monkeypatch):
    # from a far start the first full Newton step overshoots (the gradient test fails), so
    # the damped branch must run: count the objective's log1p passes to see that it did
    # (NumPy's path: the compiled one's damped steps are checked in test_newton_buffers.py)
    from sklearn.linear_model import LogisticRegression

    from glassnet.simplify import _glm

    monkeypatch.setattr(_glm, "_glm_native", None)
    Z, y = _logistic_data(11, 500, 2)
    calls = {"n": 0}
    real = np.log1p

    def counting(*a, **k):
        calls["n"] += 1
        return real(*a, **k)

    monkeypatch.setattr(_glm.np, "log1p", counting)
    theta = _glm.logistic_newton(Z, y, 10.0, init=np.array([9.0, -9.0, 9.0]))
    monkeypatch.setattr(_glm.np, "log1p", real)
    assert calls["n"] > 1  # the start, then at least one damped comparison
    ref = LogisticRegression(C=10.0, solver="newton-cholesky", tol=1e-14, max_iter=500).fit(Z, y)
    np.testing.assert_allclose(theta, np.r_[ref.coef_[0], ref.intercept_[0]], atol=1e-8)


# ---------------------------------------------------------------------- FoldFitter
def _fitter(Z, y, leaf_of_row, n_leaves):
    from sklearn.linear_model import LogisticRegression

    from glassnet.simplify._glm import FoldFitter

    return FoldFitter(Z, y, leaf_of_row, n_leaves, LogisticRegression(C=100.0),
                      "classification", 2)


def test_warm_start_is_the_row_weighted_mean_of_the_previous_fits():
    from glassnet.simplify._common import ConstantModel

    rng = np.random.default_rng(0)
    leaf_of_row = rng.integers(0, 6, size=200)
    Z = rng.normal(size=(200, 2))
    fitter = _fitter(Z, rng.integers(0, 2, 200), leaf_of_row, 6)
    prev_labels = np.array([0, 0, 1, 2, 2, 1])
    previous = [rng.normal(size=3), rng.normal(size=3), ConstantModel(np.array([0.5, 0.5]))]
    leaves = np.array([1, 2, 4, 5])  # from groups 0, 1, 2 (constant: no coefficients), 1
    rows_per_leaf = np.bincount(leaf_of_row, minlength=6)
    num = rows_per_leaf[1] * previous[0] + (rows_per_leaf[2] + rows_per_leaf[5]) * previous[1]
    expected = num / (rows_per_leaf[1] + rows_per_leaf[2] + rows_per_leaf[5])
    got = fitter._warm_start(leaves, previous, prev_labels)
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    # only constant models before: no warm start (the cold start is used)
    assert fitter._warm_start(np.array([3]), previous, prev_labels) is None


def test_cv_refits_equal_sklearn_whatever_the_warm_start():
    # every merged region's cached, warm-started fit equals a cold scikit-learn fit on its rows
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(4)
    n, L = 1500, 12
    leaf_of_row = rng.integers(0, L, size=n)
    Z = rng.normal(size=(n, 2))
    slope = rng.normal(size=(L, 2))
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(Z * slope[leaf_of_row]).sum(1)))).astype(int)
    fitter = _fitter(Z, y, leaf_of_row, L)
    prev = prev_lab = None
    for lab in (np.zeros(L, int), np.repeat([0, 1], 6), np.repeat([0, 1, 2, 3], 3),
                np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5])):
        models = fitter.models(lab, prev, prev_lab)
        for g, model in enumerate(models):
            rows = np.isin(leaf_of_row, np.flatnonzero(lab == g))
            ref = LogisticRegression(C=100.0, solver="newton-cholesky", tol=1e-14,
                                     max_iter=500).fit(Z[rows], y[rows])
            np.testing.assert_allclose(model, np.r_[ref.coef_[0], ref.intercept_[0]],
                                       atol=1e-8)
        prev, prev_lab = models, lab


def test_heldout_probabilities_equal_a_per_row_computation():
    from scipy.special import expit

    from glassnet.simplify._common import ConstantModel

    rng = np.random.default_rng(2)
    fitter = _fitter(rng.normal(size=(10, 3)), rng.integers(0, 2, 10), np.zeros(10, int), 1)
    models = [rng.normal(size=4), ConstantModel(np.array([0.2, 0.8])),
              np.array([300.0, 0.0, 0.0, 500.0]), rng.normal(size=4)]  # 3: logits near +-800
    Z = rng.normal(size=(400, 3))
    groups = rng.integers(0, 4, size=400)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on extreme logits
        out = fitter.predict(models, Z, groups, 1)
    for i in range(400):
        m = models[groups[i]]
        if isinstance(m, ConstantModel):
            expected = m.value
        else:
            p = expit(Z[i] @ m[:-1] + m[-1])
            expected = np.array([1.0 - p, p])
        np.testing.assert_allclose(out[i], expected, rtol=1e-12, atol=1e-300)


def test_dendrogram_order_makes_every_tree_node_one_run():
    from glassnet.simplify._ward import connectivity_edges, dendrogram_order, weighted_ward_tree

    rng = np.random.default_rng(8)
    F = rng.normal(size=(60, 3))
    children, _ = weighted_ward_tree(F, rng.integers(1, 5, 60).astype(float),
                                     connectivity_edges(F, 4))
    order = dendrogram_order(children, 60)
    assert sorted(order.tolist()) == list(range(60))
    position = np.empty(60, int)
    position[order] = np.arange(60)
    leaves = {v: [v] for v in range(60)}
    for m, (a, b) in enumerate(children):
        leaves[60 + m] = leaves[a] + leaves[b]
        pos = np.sort(position[leaves[60 + m]])
        assert pos[-1] - pos[0] + 1 == pos.size  # one run, no gap


def test_rows_of_a_merged_region_are_its_rows_whatever_the_leaf_order():
    # slices (runs of the leaf order) and gathers (anything else) both give exactly the rows
    # whose leaf is in the set, in the fitter's own (sorted) row numbering
    rng = np.random.default_rng(9)
    L, n = 15, 700
    leaf_of_row = rng.integers(0, L, size=n)
    Z = rng.normal(size=(n, 2))
    y = rng.integers(0, 2, n)
    leaf_order = rng.permutation(L)
    from sklearn.linear_model import LogisticRegression

    from glassnet.simplify._glm import FoldFitter

    fitter = FoldFitter(Z, y, leaf_of_row, L, LogisticRegression(), "classification", 2,
                        leaf_order=leaf_order)
    for leaves in (leaf_order[3:9], leaf_order[[0, 5, 11]], np.arange(L), leaf_order[7:8]):
        rows = fitter.rows_of(np.sort(leaves))
        got = fitter.Z[rows]
        expected = Z[np.isin(leaf_of_row, leaves)]
        # the same rows (as sets of feature vectors) and the same targets
        assert got.shape == expected.shape
        np.testing.assert_array_equal(np.sort(got, axis=0), np.sort(expected, axis=0))
        assert fitter.y[rows].sum() == y[np.isin(leaf_of_row, leaves)].sum()
    assert isinstance(fitter.rows_of(np.sort(leaf_order[3:9])), slice)


def test_a_merged_region_without_leaves_gets_a_constant_model():
    # a label with no region (a gap in the numbering) holds no rows: the constant model of
    # zero counts, (0 + 0.5) / (0 + 1) per class, as for any region without two classes
    from glassnet.simplify._common import ConstantModel

    rng = np.random.default_rng(1)
    leaf_of_row = rng.integers(0, 4, size=120)
    fitter = _fitter(rng.normal(size=(120, 2)), rng.integers(0, 2, 120), leaf_of_row, 4)
    models = fitter.models(np.array([0, 0, 2, 2]), None, None)
    assert isinstance(models[1], ConstantModel)
    np.testing.assert_array_equal(models[1].value, [0.5, 0.5])
    assert all(isinstance(m, np.ndarray) for m in (models[0], models[2]))


# ---------------------------------------------------------------------- held-out predictions
@pytest.mark.parametrize("task", ["classification", "regression"])
def test_incremental_held_out_predictions_equal_full_ones(monkeypatch, task):
    # From one candidate count to the next, the CV predicts again only the held-out rows
    # whose model changed; every count's scores must equal those of predicting every row
    # (a fragmented network, so that some held-out rows fall in regions the training rows
    # never reached and are placed by the centroid rule, which moves with the count).
    from glassnet import RegionMerger
    from glassnet.simplify import _glm, _merge_cv

    rng = np.random.default_rng(4)
    X = rng.normal(size=(1500, 3))
    net = random_network(rng, 3, (24, 24), 1)
    z = net.forward(X)[:, 0]
    y = (z > np.median(z)).astype(int) if task == "classification" else z + rng.normal(size=1500)
    rows: list[int] = []
    real = _glm.FoldFitter.predict

    def counting(self, models, Z, groups, n_targets):
        rows.append(len(Z))
        return real(self, models, Z, groups, n_targets)

    monkeypatch.setattr(_glm.FoldFitter, "predict", counting)
    fits = {}
    for incremental in (True, False):
        monkeypatch.setattr(_merge_cv, "INCREMENTAL_PREDICTIONS", incremental)
        rows.clear()
        m = RegionMerger(net, task=task, random_state=0, n_jobs=1).fit(X, y)
        fits[incremental] = (m, sum(rows))
    (a, n_inc), (b, n_full) = fits[True], fits[False]
    for key in ("mean_test_score", "std_test_score"):
        assert np.array_equal(a.cv_results_[key], b.cv_results_[key])
    assert a.n_regions_ == b.n_regions_
    assert n_inc < 0.7 * n_full  # it did predict fewer rows


def test_batched_auc_of_all_counts_equals_one_auc_per_count(monkeypatch):
    # the default AUC scores every candidate count of a fold in one call (scorer.rows); the
    # CV table must equal that of a scorer called once per count, which equals scikit-learn
    from sklearn.metrics import roc_auc_score

    from glassnet import RegionMerger
    from glassnet.simplify import _scoring, merge

    rng = np.random.default_rng(5)
    X = rng.normal(size=(1200, 3))
    net = random_network(rng, 3, (20, 20), 1)
    z = net.forward(X)[:, 0]
    y = (z + 0.5 * rng.normal(size=1200) > np.median(z)).astype(int)
    name, scorer = _scoring.resolve_scoring("roc_auc", "classification", np.array([0, 1]))
    assert callable(scorer.rows)
    P = rng.random((4, 300))
    P[1, :150] = P[1, 150:]  # ties between classes
    yy = rng.integers(0, 2, 300)
    np.testing.assert_allclose(scorer.rows(yy, P), [roc_auc_score(yy, p) for p in P],
                               rtol=0, atol=1e-12)
    batched = RegionMerger(net, random_state=0, n_jobs=1).fit(X, y)
    real = _scoring.resolve_scoring

    def one_by_one(scoring, task, classes):
        nm, sc = real(scoring, task, classes)
        return nm, lambda y_true, out: sc(y_true, out)  # no .rows

    monkeypatch.setattr(merge, "resolve_scoring", one_by_one)
    single = RegionMerger(net, random_state=0, n_jobs=1).fit(X, y)
    for key in ("mean_test_score", "std_test_score"):
        assert np.array_equal(batched.cv_results_[key], single.cv_results_[key])
    for name in ("neg_log_loss", "accuracy"):
        assert not hasattr(real(name, "classification", np.array([0, 1]))[1], "rows")
    assert not hasattr(real("roc_auc", "classification", np.array([0, 1, 2]))[1], "rows")
