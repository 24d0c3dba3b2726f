"""Gaps found by mutation testing in glassnet.simplify.merge (issue 19).

Oracles: scikit-learn's LinearRegression refitted here on the rows of each (known) merged
region, networks whose regions are known by hand, and the documented default candidates.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import random_network
from sklearn.linear_model import LinearRegression

from glassnet import ReluNetwork
from glassnet.simplify.merge import RegionMerger


def test_merger_on_data_with_a_single_region_is_one_global_glm(rng):
    X = rng.normal(size=(300, 2))
    # every hidden neuron is on for all rows: a single activation region
    net = ReluNetwork([rng.normal(size=(3, 2)), rng.normal(size=(1, 3))],
                      [np.full(3, 50.0), np.zeros(1)])
    y = X @ [1.0, -2.0] + 0.3 + rng.normal(scale=0.1, size=300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default regression grid is cut silently to [1]
        m = RegionMerger(net, random_state=0).fit(X, y)
    with pytest.warns(UserWarning, match="exceed the 1 regions"):
        RegionMerger(net, candidates=[1, 2], random_state=0).fit(X, y)
    assert m.n_regions_ == 1 and len(m.regions_) == 1
    assert (m.merged_labels_ == 0).all()
    assert m.cv_results_["n_regions"].tolist() == [1]
    assert m.linkage_matrix().shape == (0, 4)
    X_new = rng.normal(size=(20, 2))
    ols = LinearRegression().fit(X, y)
    np.testing.assert_allclose(m.predict(X_new), ols.predict(X_new), rtol=1e-7, atol=1e-8)


def _two_region_problem(rng):
    X = rng.normal(size=(400, 2))
    net = ReluNetwork([np.array([[1.0, 0.0]]), np.array([[2.0]])], [np.zeros(1), np.zeros(1)])
    y = np.where(X[:, 0] > 0, 2.0 * X[:, 0] + 1.0, -0.5 * X[:, 1]) + rng.normal(0, 0.05, 400)
    return net, X, y


def test_ward_tree_with_exactly_two_regions(rng):
    net, X, y = _two_region_problem(rng)
    side = X[:, 0] > 0
    X_new = rng.normal(size=(50, 2))
    two = RegionMerger(net, n_regions=2, min_count=1).fit(X, y)
    assert two.n_regions_ == 2
    # the merged regions are exactly the two sides of x0 = 0, each with its own OLS fit
    labels = two.merged_labels_
    assert len(set(labels[side])) == 1 and len(set(labels[~side])) == 1
    assert labels[side][0] != labels[~side][0]
    new_side = X_new[:, 0] > 0
    expected = np.where(new_side, LinearRegression().fit(X[side], y[side]).predict(X_new),
                        LinearRegression().fit(X[~side], y[~side]).predict(X_new))
    np.testing.assert_allclose(two.predict(X_new), expected, rtol=1e-7, atol=1e-8)
    # one merge joins the two leaves 0 and 1 into a cluster of size 2 (SciPy's format)
    Z = two.linkage_matrix()
    assert Z.shape == (1, 4)
    assert sorted(Z[0, :2].tolist()) == [0.0, 1.0] and Z[0, 3] == 2 and Z[0, 2] > 0
    one = RegionMerger(net, n_regions=1, min_count=1).fit(X, y)
    assert one.n_regions_ == 1
    np.testing.assert_allclose(one.predict(X_new), LinearRegression().fit(X, y).predict(X_new),
                               rtol=1e-7, atol=1e-8)
    with pytest.raises(ValueError, match="n_regions=3 is larger than the 2"):
        RegionMerger(net, n_regions=3, min_count=1).fit(X, y)


def test_default_candidates_are_1_to_20_for_classification(rng):
    net = random_network(rng, 2, (12, 12), 1, output="sigmoid")
    X = rng.normal(size=(1500, 2))
    f = net.forward(X)[:, 0] + rng.normal(0, 0.1, 1500)
    y = (f > np.median(f)).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # one-class merged regions may warn (min_count=1)
        warnings.filterwarnings("error", message=".*exceed")  # no candidate may be dropped
        m = RegionMerger(net, cv=2, min_count=1, random_state=0).fit(X, y)
    assert len(m.regions_) > 40
    assert m.cv_results_["n_regions"].tolist() == list(range(1, 21))
    assert 1 <= m.n_regions_ <= 20


def test_default_regression_candidates_run_up_the_documented_grid(rng):
    from sklearn.model_selection import KFold

    from glassnet import unwrap

    net = random_network(rng, 2, (12, 12), 1)
    X = rng.normal(size=(1500, 2))
    y = net.forward(X)[:, 0] + rng.normal(0, 0.1, 1500)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default grid is cut silently
        m = RegionMerger(net, cv=2, min_count=1, random_state=0).fit(X, y)
    # the regions of the smallest training fold, counted here by a fresh unwrap
    folds = KFold(2, shuffle=True, random_state=0).split(X)
    fewest = min(len(unwrap(net, X[train])) for train, _ in folds)
    grid = [1, 2, 3, 5, 8, 13, 20, 30, 50, 80, 130, 200, 300, 500, 800, 1300, 2000]
    cap = min(fewest, max(20, 4 * 750 // 1))
    assert m.cv_results_["n_regions"].tolist() == [g for g in grid if g <= cap]
    # min_count bounds the grid too: 4 * 750 rows / 150 = 20
    m150 = RegionMerger(net, cv=2, min_count=150, random_state=0).fit(X, y)
    assert m150.cv_results_["n_regions"].tolist() == [1, 2, 3, 5, 8, 13, 20]


def _neg_rmse(y, pred):
    return -float(np.sqrt(np.mean((y - pred) ** 2)))


def test_cv_scores_and_their_plot_match_a_hand_made_cross_validation(rng):
    from sklearn.model_selection import KFold

    net, X, y = _two_region_problem(rng)
    folds = KFold(4, shuffle=True, random_state=1)
    m = RegionMerger(net, cv=folds, candidates=[1, 2], min_count=1, selection="best").fit(X, y)
    side = X[:, 0] > 0
    expected = {1: [], 2: []}
    for train, test in folds.split(X):
        glob_fit = LinearRegression().fit(X[train], y[train])
        expected[1].append(_neg_rmse(y[test], glob_fit.predict(X[test])))
        pred = np.empty(len(test))
        for s in (True, False):
            tr, te = train[side[train] == s], test[side[test] == s]
            pred[side[test] == s] = LinearRegression().fit(X[tr], y[tr]).predict(X[te])
        expected[2].append(_neg_rmse(y[test], pred))
    res = m.cv_results_
    assert res["n_regions"].tolist() == [1, 2]
    for i, k in enumerate((1, 2)):
        np.testing.assert_allclose([res[f"split{j}_test_score"][i] for j in range(4)],
                                   expected[k], rtol=1e-7)
        assert res["mean_test_score"][i] == pytest.approx(np.mean(expected[k]), rel=1e-7)
    # two regions fit the kinked target far better: "best" picks 2
    assert m.cv_n_regions_ == 2 and m.n_regions_ == 2
    import matplotlib

    matplotlib.use("Agg")
    disp = m.plot_cv()
    line = disp.ax_.lines[0]
    np.testing.assert_allclose(line.get_xdata(), [1, 2])
    np.testing.assert_allclose(line.get_ydata(), res["mean_test_score"])
    chosen = [ln for ln in disp.ax_.lines if "chosen" in str(ln.get_label())]
    assert len(chosen) == 1 and chosen[0].get_xdata()[0] == 2
    assert disp.figure_ is disp.ax_.figure
    import matplotlib.pyplot as plt

    plt.close(disp.figure_)


def test_centroids_are_count_weighted_means_of_the_regions_llm_features(rng):
    # oracle built here from the definition (issue 19: a test took its expected value from
    # the merger's own centroids_): per region, the slopes times the feature's standard
    # deviation and the LLM's value at the region's mean row; a merged region's centroid is
    # the count-weighted mean of its regions' vectors
    net = random_network(rng, 2, (6,), 1)
    X = rng.normal(size=(500, 2))
    y = net.forward(X)[:, 0] + rng.normal(0, 0.1, 500)
    m = RegionMerger(net, n_regions=3, min_count=1).fit(X, y)
    reg = m.regions_
    P = net.activation_patterns(X)
    sd = X.std(axis=0)
    expected = np.zeros((m.n_regions_, 3))
    weight = np.zeros(m.n_regions_)
    for r in range(len(reg)):
        rows = (P == reg.patterns[r]).all(axis=1)
        centre = X[rows].mean(axis=0)
        vec = np.r_[reg.coef[r, 0] * sd, reg.intercept[r, 0] + reg.coef[r, 0] @ centre]
        g = m.region_to_merged_[r]
        expected[g] += rows.sum() * vec
        weight[g] += rows.sum()
    np.testing.assert_allclose(m.centroids_, expected / weight[:, None], rtol=1e-9, atol=1e-12)
    # and every region's merged label is what merged_labels_ gives its rows
    np.testing.assert_array_equal(m.merged_labels_, m.region_to_merged_[reg.labels])


def test_multiclass_merge_probabilities_match_per_region_logistic_refits(rng):
    from sklearn.linear_model import LogisticRegression

    net = random_network(rng, 2, (5,), 3, "softmax")
    X = rng.normal(size=(600, 2))
    p = net.predict_output(X)
    y = np.array([rng.choice(3, p=row) for row in p])
    m = RegionMerger(net, n_regions=2, min_count=1).fit(X, y)
    assert m.n_regions_ == 2
    mu, sd = X.mean(axis=0), X.std(axis=0)
    X_new = X[:40] + rng.normal(0, 0.01, size=(40, 2))
    ids = m.regions_.assign(X_new)
    seen = ids >= 0
    groups_new = np.where(seen, m.region_to_merged_[ids], -1)
    expected = np.empty((40, 3))
    for g in range(2):
        rows = m.merged_labels_ == g
        # oracle: the same penalised fit by another solver (lbfgs), run to the optimum
        lr = LogisticRegression(C=100.0, tol=1e-12, max_iter=20000).fit((X[rows] - mu) / sd,
                                                                        y[rows])
        sel = groups_new == g
        expected[sel] = lr.predict_proba((X_new[sel] - mu) / sd)
    got = m.predict_proba(X_new)
    assert seen.sum() > 30
    assert got.shape == (40, 3)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(got[seen], expected[seen], atol=2e-4)


def test_merger_region_inference_matches_textbook_ols_formulas(rng):
    from scipy import stats

    net, X, y = _two_region_problem(rng)
    m = RegionMerger(net, n_regions=2, min_count=1).fit(X, y)
    g = int(m.merged_labels_[np.argmax(X[:, 0])])  # the merged region of the x0 > 0 side
    df = m.region_inference(X, y, g, alpha=0.1)
    rows = X[:, 0] > 0
    Z = np.column_stack([np.ones(rows.sum()), X[rows]])
    beta, *_ = np.linalg.lstsq(Z, y[rows], rcond=None)
    n, p = Z.shape
    sigma2 = np.sum((y[rows] - Z @ beta) ** 2) / (n - p)
    se = np.sqrt(np.diag(sigma2 * np.linalg.inv(Z.T @ Z)))
    t = beta / se
    q = stats.t.ppf(0.95, n - p)
    assert list(df.index) == ["intercept", "x0", "x1"]
    np.testing.assert_allclose(df["coef"], beta, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(df["std_err"], se, rtol=1e-8)
    np.testing.assert_allclose(df["t"], t, rtol=1e-8)
    np.testing.assert_allclose(df["p_value"], 2 * stats.t.sf(np.abs(t), n - p), rtol=1e-6,
                               atol=1e-300)
    np.testing.assert_allclose(df["ci_low"], beta - q * se, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(df["ci_high"], beta + q * se, rtol=1e-8, atol=1e-10)
    assert df.attrs["n_obs"] == n
    # the target's true slope on x0 there is 2 and x1 has no effect: the 90 % CIs say so
    assert df.loc["x0", "ci_low"] < 2.0 < df.loc["x0", "ci_high"]
    with pytest.raises(ValueError, match=r"region must be in 0\.\.1"):
        m.region_inference(X, y, 2)


def test_absorption_uses_the_receiving_clusters_updated_centroid():
    from glassnet.simplify.merge import absorb_small

    # four one-leaf clusters on a line (weight, feature): A (1, 10), B (2, 4), C (2.5, 0),
    # D (10, -3.5); min_count 2.8; no graph edges, so any cluster may receive.
    # Step 1, the lightest A: Ward costs 1*2/3*6^2 = 24 (B), 71 (C), 165 (D) -> B, whose
    # mean becomes (10 + 8) / 3 = 6 with mass 3 (>= 2.8).
    # Step 2, C (2.5): to B 2.5*3/5.5*(6-0)^2 = 49.1, to D 2.5*10/12.5*3.5^2 = 24.5 -> D.
    # With B's stale mean 4 the cost to B would be 21.8 and C would wrongly join B.
    labels = absorb_small(np.arange(4), np.array([1.0, 2.0, 2.5, 10.0]),
                          np.array([[10.0], [4.0], [0.0], [-3.5]]), np.zeros((0, 2), int), 2.8)
    assert labels[0] == labels[1] and labels[2] == labels[3] and labels[0] != labels[2]
    assert labels[2] == 0  # numbered by decreasing weight: {C, D} weighs 12.5, {A, B} 3


def test_unit_weight_ward_tree_on_a_complete_graph_matches_scipy(rng):
    from scipy.cluster.hierarchy import linkage

    from glassnet.simplify.merge import weighted_ward_tree

    F = rng.normal(size=(9, 3))
    i, j = np.triu_indices(9, k=1)
    children, distances = weighted_ward_tree(F, np.ones(9), np.column_stack([i, j]))
    Z = linkage(F, method="ward")
    np.testing.assert_allclose(np.sort(distances), np.sort(Z[:, 2]), rtol=1e-10)
    assert len(children) == 8


@pytest.mark.parametrize("p", [3, 20])  # Python-float and NumPy merge costs
def test_weighted_ward_tree_matches_brute_force_merges(rng, p):
    from scipy.cluster.hierarchy import linkage

    from glassnet.simplify.merge import weighted_ward_tree

    # complete graph, integer weights: each merge is the cheapest pair by the textbook cost
    # n_a n_b / (n_a + n_b) ||mu_a - mu_b||^2, recomputed here from scratch every step
    F = rng.normal(size=(12, p))
    wts = rng.integers(1, 6, size=12).astype(float)
    i, j = np.triu_indices(12, k=1)
    children, distances = weighted_ward_tree(F, wts, np.column_stack([i, j]))
    live = {v: (wts[v], F[v]) for v in range(12)}
    for m in range(11):
        pairs = [(na * nb / (na + nb) * np.sum((ma - mb) ** 2), a, b)
                 for a, (na, ma) in live.items() for b, (nb, mb) in live.items() if a < b]
        c, a, b = min(pairs)
        assert tuple(children[m]) == (a, b)
        assert distances[m] == pytest.approx(np.sqrt(2 * c), rel=1e-10)
        (na, ma), (nb, mb) = live.pop(a), live.pop(b)
        live[12 + m] = (na + nb, (na * ma + nb * mb) / (na + nb))
    # unit weights: SciPy's Ward linkage
    children1, distances1 = weighted_ward_tree(F, np.ones(12), np.column_stack([i, j]))
    np.testing.assert_allclose(distances1, linkage(F, method="ward")[:, 2], rtol=1e-10)


def test_fold_neighbour_graph_matches_brute_force():
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from glassnet.simplify._ward import NeighbourGraph

    # a fold keeps, per present region, the k present regions nearest by the FOLD's centres
    # among the 3k + 1 nearest overall (itself included) by the graph's centres
    rng = np.random.default_rng(0)  # a draw where the fold's ranking changes the edges
    R, k, P = 80, 3, 50
    C = rng.normal(size=(R, 2))
    graph = NeighbourGraph(C, k)
    present = np.sort(rng.choice(R, P, replace=False))
    fold_C = C[present] + rng.normal(0, 0.4, size=(P, 2))  # held-out rows move the centres
    overall = np.argsort(((C[:, None] - C[None]) ** 2).sum(-1), axis=1)[:, : 3 * k + 1]
    pos = {int(r): n for n, r in enumerate(present)}
    expected = set()
    for n, r in enumerate(present):
        cands = [pos[int(c)] for c in overall[r] if int(c) in pos and c != r]
        cands.sort(key=lambda v: float(((fold_C[n] - fold_C[v]) ** 2).sum()))
        expected |= {(min(n, v), max(n, v)) for v in cands[:k]}
    e = np.array(sorted(expected))
    adj = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(P, P))
    assert connected_components(adj, directed=False)[0] == 1  # no joining edges needed
    got = {tuple(v) for v in graph.edges(present, fold_C).tolist()}
    assert got == expected
    # k >= P - 1 present regions: every pair is an edge (k is capped at P - 1)
    line = np.array([[0.0], [1.0], [2.0], [10.0]])
    small = NeighbourGraph(line, 5).edges(np.arange(4), line)
    assert {tuple(v) for v in small.tolist()} == {(a, b) for a in range(4) for b in range(a + 1, 4)}


def test_fold_graph_with_no_present_neighbour_is_joined_by_one_edge():
    from glassnet.simplify._ward import NeighbourGraph

    # k = 1: each point's 3k + 1 = 4 nearest are its own cluster of four; a fold holding
    # one point of each cluster finds no present neighbour at all, so its only edge is
    # the one joining the two components (no self-loop or other placeholder edge)
    C = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.1], [0.1, 0.1],
                  [9.0, 9.0], [9.1, 9.0], [9.0, 9.1], [9.1, 9.1]])
    present = np.array([0, 4])
    edges = NeighbourGraph(C, 1).edges(present, C[present])
    assert edges.tolist() == [[0, 1]]


def test_old_display_import_path_still_resolves():
    import glassnet.simplify.merge as merge_module
    from glassnet.plotting.simplify import MergeCVDisplay, MergeDendrogramDisplay

    assert merge_module.MergeCVDisplay is MergeCVDisplay
    assert merge_module.MergeDendrogramDisplay is MergeDendrogramDisplay
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        merge_module.NoSuchName  # noqa: B018


def test_complete_graph_limit_and_single_point(monkeypatch):
    import glassnet.simplify._graph as graph_module
    from glassnet.simplify._ward import NeighbourGraph, connectivity_edges

    # connectivity=None: a fold may hold up to _MAX_FULL_GRAPH regions (complete graph), not one
    # more (limit lowered here so the graphs stay small)
    monkeypatch.setattr(graph_module, "_MAX_FULL_GRAPH", 5)
    graph = NeighbourGraph(np.arange(12.0).reshape(6, 2), None)
    e = graph.edges(np.arange(5))
    assert {tuple(v) for v in e.tolist()} == {(a, b) for a in range(5) for b in range(a + 1, 5)}
    with pytest.raises(ValueError, match="limited to 5 regions"):
        graph.edges(np.arange(6))
    # one point: no edge, in the documented (E, 2) shape
    assert connectivity_edges(np.zeros((1, 3)), 5).shape == (0, 2)
    assert connectivity_edges(np.zeros((1, 3)), None).shape == (0, 2)


def test_cv_without_connectivity_runs_on_complete_graphs():
    net = random_network(np.random.default_rng(2), 2, (6,), 1)
    X = np.random.default_rng(3).normal(size=(300, 2))
    y = net.forward(X)[:, 0]
    m = RegionMerger(net, connectivity=None, cv=3, candidates=[1, 2, 4], min_count=1,
                     random_state=0).fit(X, y)
    assert m.cv_results_["n_regions"].tolist() == [1, 2, 4]
    assert np.isfinite(m.cv_results_["mean_test_score"]).all()
