"""Tests of the mixture of linear models co-supervised by a network (MLM-EPIC)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import random_network
from scipy.stats import multivariate_normal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neural_network import MLPClassifier, MLPRegressor

from glassnet import MixtureOfLinearModels, ReluNetwork
from glassnet.mlm import MLMCoefficientDisplay
from glassnet.mlm import _linear as lin


# ---------------------------------------------------------------------- fixtures
def _data(n=400, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, d))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1] ** 2 - 0.3 * X[:, 2] + 0.05 * rng.normal(size=n)
    return X, y


def _mlp(cls, X, y, activation="relu", hidden=(12, 12)):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(hidden_layer_sizes=hidden, activation=activation, max_iter=300,
                   random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def reg_data():
    return _data()


@pytest.fixture(scope="module")
def reg_net(reg_data):
    X, y = reg_data
    return _mlp(MLPRegressor, X, y, activation="tanh")


@pytest.fixture(scope="module")
def reg_mlm(reg_data, reg_net):
    X, y = reg_data
    return MixtureOfLinearModels(reg_net, n_layer_clusters=4, clustering="kmeans", n_epics=5,
                                 random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def bin_setup():
    X, y = _data(seed=1)
    yb = (y > np.median(y)).astype(int)
    clf = _mlp(MLPClassifier, X, yb)
    mlm = MixtureOfLinearModels(clf, n_layer_clusters=3, clustering="kmeans", n_perturb=30,
                                n_epics=4, random_state=0).fit(X, yb)
    return X, yb, clf, mlm


def _slow_disparity(B, Z, groups, kind):
    """Definition of the mutual prediction disparity, pair by pair."""
    G = B.shape[0]
    D = np.zeros((G, G))
    for s in range(G):
        for t in range(G):
            pts = np.concatenate([Z[groups == s], Z[groups == t]])
            ms = lin.link(B[s, :, 0] + pts @ B[s, :, 1:].T, kind)
            mt = lin.link(B[t, :, 0] + pts @ B[t, :, 1:].T, kind)
            D[s, t] = ((ms - mt) ** 2).sum() / pts.shape[0]
    np.fill_diagonal(D, 0.0)
    return D


def _z_aug(mlm):
    return (mlm.augmented_X_ - mlm.feature_mean_) / mlm.feature_scale_


# ---------------------------------------------------------------------- cells
def test_cells_are_the_observed_label_tuples(reg_data, reg_net, reg_mlm):
    X, _ = reg_data
    net = ReluNetwork.from_sklearn(reg_net) if reg_net.activation == "relu" else None
    assert net is None  # the fixture network is tanh: hidden outputs computed by hand
    a = X
    labels = []
    for W, b, km in zip(reg_net.coefs_[:-1], reg_net.intercepts_[:-1],
                        reg_mlm.layer_clusterers_, strict=True):
        a = np.tanh(a @ W + b)
        labels.append(km.predict(a))
    tuples = np.column_stack(labels)
    observed = np.unique(tuples, axis=0)
    np.testing.assert_array_equal(reg_mlm.cells_, observed)
    np.testing.assert_array_equal(reg_mlm.cells_[reg_mlm.cell_labels_], tuples)
    np.testing.assert_array_equal(reg_mlm.cell_counts_,
                                  np.bincount(reg_mlm.cell_labels_, minlength=len(observed)))
    # only observed tuples, fewer than the full Cartesian product here
    assert len(observed) <= 4 ** 2


def test_augmented_data_layout(reg_data, reg_mlm):
    X, _ = reg_data
    C = reg_mlm.cells_.shape[0]
    real = reg_mlm.augmented_is_real_
    assert real.sum() == X.shape[0]
    np.testing.assert_allclose(reg_mlm.augmented_X_[real], X, atol=1e-12)
    assert np.array_equal(np.bincount(reg_mlm.augmented_cell_[~real], minlength=C),
                          np.full(C, 100))
    # perturbed targets are the network's predictions
    pert = reg_mlm.augmented_X_[~real]
    np.testing.assert_allclose(reg_mlm.augmented_y_[~real], reg_mlm.network.predict(pert),
                               rtol=1e-10, atol=1e-10)
    # perturbations are centred on the cell means with variance eps on standardised inputs
    Z = _z_aug(reg_mlm)
    cell = reg_mlm.augmented_cell_
    big = np.argmax(reg_mlm.cell_counts_)
    mean_real = Z[real & (cell == big)].mean(axis=0)
    dev = Z[~real & (cell == big)] - mean_real
    eps = reg_mlm.perturb_var  # the default, 1e-2
    assert np.all(np.abs(dev.mean(axis=0)) < 5 * np.sqrt(eps / 100))
    assert np.all(np.abs(dev.var(axis=0) / eps - 1) < 0.5)


# ---------------------------------------------------------------------- local models
def test_without_perturbation_a_cell_model_is_the_plain_fit(reg_data, reg_net):
    X, y = reg_data
    mlm = MixtureOfLinearModels(reg_net, n_layer_clusters=3, clustering="kmeans", n_perturb=0,
                                perturb_var=0.0, n_epics=2, random_state=1).fit(X, y)
    assert mlm.augmented_is_real_.all()
    for k in range(mlm.cells_.shape[0]):
        rows = mlm.cell_labels_ == k
        ref = LinearRegression().fit(X[rows], y[rows])
        pred = mlm.cell_intercept_[k] + X[rows] @ mlm.cell_coef_[k]
        np.testing.assert_allclose(pred, ref.predict(X[rows]), atol=1e-8)
        if rows.sum() > X.shape[1] + 1:
            np.testing.assert_allclose(mlm.cell_coef_[k], ref.coef_, atol=1e-8)
            np.testing.assert_allclose(mlm.cell_intercept_[k], ref.intercept_, atol=1e-8)


def test_epic_model_is_the_fit_on_the_union_of_its_cells(reg_mlm):
    Xa, ya = reg_mlm.augmented_X_, reg_mlm.augmented_y_
    ep = reg_mlm.epics_[reg_mlm.augmented_cell_]
    for j in range(reg_mlm.n_epics_):
        rows = ep == j
        ref = LinearRegression().fit(Xa[rows], ya[rows])
        np.testing.assert_allclose(reg_mlm.coef_[j], ref.coef_, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(reg_mlm.intercept_[j], ref.intercept_, rtol=1e-6, atol=1e-8)


def test_constant_targets_give_a_constant_model():
    rng = np.random.default_rng(3)
    Z = rng.normal(size=(40, 2))
    groups = np.repeat([0, 1], 20)
    Y = np.where(groups == 0, 1.0, rng.normal(size=40))[:, None]
    B = lin.fit_least_squares(lin.group_stats(Z, Y, groups, 2))
    np.testing.assert_allclose(B[0, 0], [1.0, 0.0, 0.0], atol=1e-12)
    Yc = np.where(groups == 0, 0.0, rng.integers(0, 2, 40))[:, None].astype(float)
    const = lin.constant_groups(Yc, groups, 2)
    assert const.tolist() == [True, False]


def test_batched_logistic_matches_scikit_learn():
    rng = np.random.default_rng(4)
    n, d, G = 300, 3, 3
    Z = rng.normal(size=(n, d))
    groups = rng.integers(0, G, n)
    beta = rng.normal(size=(G, d))
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(Z * beta[groups]).sum(1)))).astype(float)
    Cs = 2.0
    counts = np.bincount(groups)
    # per group: sum of losses + 0.5 * l2 * n_g * ||w||^2 == sklearn with C = 1 / (l2 * n_g)
    l2 = 1.0 / (Cs * counts.mean())
    B, iters = lin.fit_logistic(Z, y[:, None], groups, G, "sigmoid", l2=l2)
    assert iters.max() < 100
    for g in range(G):
        r = groups == g
        ref = LogisticRegression(C=1.0 / (l2 * counts[g]), tol=1e-10, max_iter=1000).fit(Z[r], y[r])
        np.testing.assert_allclose(B[g, 0, 1:], ref.coef_[0], rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(B[g, 0, 0], ref.intercept_[0], rtol=1e-4, atol=1e-5)


def test_batched_multinomial_reproduces_soft_targets():
    rng = np.random.default_rng(5)
    Z = rng.normal(size=(600, 2))
    groups = np.repeat([0, 1], 300)
    W = np.array([[[0.5, 1.0, -1.0], [0.0, -1.0, 0.5], [-0.5, 0.0, 0.5]],
                  [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, -2.0]]])
    eta = W[groups, :, 0] + np.einsum("nkd,nd->nk", W[groups, :, 1:], Z)
    P = lin.link(eta, "softmax")
    B, _ = lin.fit_logistic(Z, P, groups, 2, "softmax")
    # with exact soft targets the fit recovers the probabilities (model is identifiable up to
    # a shift of all classes)
    fitted = lin.link(lin.predict_groups(B, Z, groups), "softmax")
    np.testing.assert_allclose(fitted, P, atol=1e-6)


# ---------------------------------------------------------------------- disparity
def test_disparity_regression_equals_double_loop(reg_mlm):
    Z, groups = _z_aug(reg_mlm), reg_mlm.augmented_cell_
    slow = _slow_disparity(reg_mlm._B_cell, Z, groups, "identity")
    np.testing.assert_allclose(reg_mlm.disparity_, slow, rtol=1e-8, atol=1e-10)
    D = reg_mlm.disparity_
    np.testing.assert_array_equal(D, D.T)
    assert np.all(np.diag(D) == 0) and np.all(D >= 0)
    # the chunked point-evaluation path agrees with the closed form
    fast_points = lin.disparity_points(reg_mlm._B_cell, Z, groups, "identity")
    np.testing.assert_allclose(fast_points, slow, rtol=1e-8, atol=1e-10)


def test_disparity_classification_compares_probabilities(bin_setup):
    *_, mlm = bin_setup
    Z, groups = _z_aug(mlm), mlm.augmented_cell_
    slow = _slow_disparity(mlm._B_cell, Z, groups, "sigmoid")
    np.testing.assert_allclose(mlm.disparity_, slow, rtol=1e-8, atol=1e-12)
    assert np.all(mlm.disparity_ <= 1.0)
    np.testing.assert_array_equal(mlm.disparity_, mlm.disparity_.T)


def test_disparity_multiclass_points_equals_double_loop():
    rng = np.random.default_rng(6)
    Z = rng.normal(size=(90, 2))
    groups = rng.integers(0, 5, 90)
    B = rng.normal(size=(5, 3, 3))
    np.testing.assert_allclose(lin.disparity_points(B, Z, groups, "softmax"),
                               _slow_disparity(B, Z, groups, "softmax"), rtol=1e-10)


def test_epics_follow_the_linkage(reg_mlm):
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    Zl = linkage(squareform(reg_mlm.disparity_, checks=False), method="ward")
    np.testing.assert_allclose(reg_mlm.linkage_, Zl)
    ref = fcluster(Zl, reg_mlm.n_epics_, criterion="maxclust")
    # same partition up to the numbering
    pairs = set(zip(ref.tolist(), reg_mlm.epics_.tolist(), strict=True))
    assert len(pairs) == reg_mlm.n_epics_ == len(set(ref.tolist()))
    # numbered by decreasing size
    assert np.all(np.diff(reg_mlm.epic_counts_) <= 0)


# ---------------------------------------------------------------------- soft weights
def test_gaussian_log_density_matches_scipy():
    rng = np.random.default_rng(7)
    Z = rng.normal(size=(200, 3))
    groups = rng.integers(0, 4, 200)
    st = lin.group_stats(Z, np.zeros((200, 1)), groups, 4)
    for cov_type in ("full", "tied", "diag", "spherical"):
        means, prec = lin.gaussian_params(st, cov_type, 1e-6)
        got = lin.gaussian_log_density(Z[:10], means, prec, cov_type)
        for g in range(4):
            pts = Z[groups == g]
            if cov_type == "full":
                cov = np.cov(pts.T, bias=True)
            elif cov_type == "tied":
                cov = sum(np.cov(Z[groups == h].T, bias=True) * (groups == h).sum()
                          for h in range(4)) / 200
            elif cov_type == "diag":
                cov = np.diag(pts.var(axis=0))
            else:
                cov = np.eye(3) * pts.var(axis=0).mean()
            ref = multivariate_normal(pts.mean(axis=0), cov + 1e-6 * np.eye(3)).logpdf(Z[:10])
            np.testing.assert_allclose(got[:, g], ref, rtol=1e-8)


def test_gaussian_shrinkage_towards_pooled_covariance():
    rng = np.random.default_rng(8)
    Z = rng.normal(size=(120, 3)) * [1.0, 2.0, 0.5]
    groups = np.concatenate([rng.integers(0, 3, 119), [3]])  # group 3: a single point
    st = lin.group_stats(Z, np.zeros((120, 1)), groups, 4)
    pooled = sum(np.cov(Z[groups == h].T, bias=True) * (groups == h).sum()
                 for h in range(3)) / 120  # the singleton adds no scatter
    tau = 5.0
    for cov_type in ("full", "diag", "spherical", "tied"):
        means, prec = lin.gaussian_params(st, cov_type, 1e-6, shrinkage=tau)
        got = lin.gaussian_log_density(Z[:7], means, prec, cov_type)
        for g in range(4):
            pts = Z[groups == g]
            own = np.cov(pts.T, bias=True) if len(pts) > 1 else np.zeros((3, 3))
            cov = (len(pts) * own + tau * pooled) / (len(pts) + tau)
            if cov_type == "diag":
                cov = np.diag(np.diag(cov))
            elif cov_type == "spherical":
                cov = np.eye(3) * np.diag(cov).mean()
            elif cov_type == "tied":
                cov = pooled
            ref = multivariate_normal(pts.mean(axis=0), cov + 1e-6 * np.eye(3)).logpdf(Z[:7])
            np.testing.assert_allclose(got[:, g], ref, rtol=1e-8)
    # the single point borrows tau / (1 + tau) of the pooled shape
    means, prec = lin.gaussian_params(st, "full", 0.0, shrinkage=tau)
    cov3 = np.linalg.inv(prec[3] @ prec[3].T)
    np.testing.assert_allclose(cov3, tau / (1 + tau) * pooled, rtol=1e-10)


@pytest.mark.parametrize("source", ["real", "augmented"])
def test_cell_gaussians_come_from_the_chosen_points(reg_data, reg_net, source):
    X, y = reg_data
    tau = 3.0
    mlm = MixtureOfLinearModels(reg_net, n_layer_clusters=3, clustering="kmeans", n_perturb=20,
                                n_epics=2, covariance_source=source, covariance_shrinkage=tau,
                                random_state=0).fit(X, y)
    Z = _z_aug(mlm)
    keep = mlm.augmented_is_real_ if source == "real" else np.ones(len(Z), dtype=bool)
    Zs, gs = Z[keep], mlm.augmented_cell_[keep]
    C = mlm.cells_.shape[0]
    pooled = sum(np.cov(Zs[gs == h].T, bias=True) * (gs == h).sum() for h in range(C)) / len(Zs)
    got = lin.gaussian_log_density(Z[:9], mlm._cell_means, mlm._cell_prec, "full")
    for k in range(C):
        pts = Zs[gs == k]
        cov = (len(pts) * np.cov(pts.T, bias=True) + tau * pooled) / (len(pts) + tau)
        ref = multivariate_normal(pts.mean(axis=0), cov + 1e-6 * np.eye(3)).logpdf(Z[:9])
        np.testing.assert_allclose(got[:, k], ref, rtol=1e-7)


def test_unshrunk_augmented_gaussians_are_the_reference_ones(reg_data, reg_net):
    """covariance_source="augmented", covariance_shrinkage=0: each cell's plain Gaussian."""
    X, y = reg_data
    mlm = MixtureOfLinearModels(reg_net, n_layer_clusters=3, clustering="kmeans", n_perturb=20,
                                n_epics=2, covariance_source="augmented",
                                covariance_shrinkage=0.0, random_state=0).fit(X, y)
    Z = _z_aug(mlm)
    got = lin.gaussian_log_density(Z[:9], mlm._cell_means, mlm._cell_prec, "full")
    for k in range(mlm.cells_.shape[0]):
        pts = Z[mlm.augmented_cell_ == k]
        ref = multivariate_normal(pts.mean(axis=0),
                                  np.cov(pts.T, bias=True) + 1e-6 * np.eye(3)).logpdf(Z[:9])
        np.testing.assert_allclose(got[:, k], ref, rtol=1e-7)


def test_soft_weights_sum_to_one_and_mix_the_models(reg_data, reg_mlm):
    X, _ = reg_data
    for level in ("epic", "cell"):
        post = reg_mlm.posterior(X[:50], level=level)
        np.testing.assert_allclose(post.sum(axis=1), 1.0, atol=1e-12)
        assert np.all(post >= 0)
    post = reg_mlm.posterior(X[:50])
    models = reg_mlm.intercept_ + X[:50] @ reg_mlm.coef_.T  # (n, J)
    np.testing.assert_allclose(reg_mlm.predict(X[:50], weights="soft"),
                               (post * models).sum(axis=1), rtol=1e-10)
    hard = models[np.arange(50), post.argmax(axis=1)]
    np.testing.assert_allclose(reg_mlm.predict(X[:50], weights="hard"), hard, rtol=1e-10)
    np.testing.assert_array_equal(reg_mlm.assign(X[:50]), post.argmax(axis=1))


def test_epic_posterior_is_the_sum_of_its_cells(reg_data, reg_mlm):
    X, _ = reg_data
    cell_post = reg_mlm.posterior(X[:30], level="cell")
    epic_post = reg_mlm.posterior(X[:30], level="epic")
    summed = np.stack([cell_post[:, reg_mlm.epics_ == j].sum(axis=1)
                       for j in range(reg_mlm.n_epics_)], axis=1)
    np.testing.assert_allclose(epic_post, summed, rtol=1e-10, atol=1e-14)


def test_uniform_prior_weights(reg_data, reg_net):
    X, y = reg_data
    mlm = MixtureOfLinearModels(reg_net, n_layer_clusters=3, clustering="kmeans", n_perturb=20,
                                n_epics=3, prior="uniform", covariance_type="diag",
                                random_state=0).fit(X, y)
    post = mlm.posterior(X[:20])
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    # by hand: gamma_j ∝ (1/J) sum_{k in j} n_k / n_j N_k(x)
    Z = (X[:20] - mlm.feature_mean_) / mlm.feature_scale_
    dens = np.exp(lin.gaussian_log_density(Z, mlm._cell_means, mlm._cell_prec, "diag"))
    f = np.stack([(dens[:, mlm.epics_ == j] * mlm.cell_counts_[mlm.epics_ == j]).sum(1)
                  / mlm.epic_counts_[j] for j in range(3)], axis=1)
    np.testing.assert_allclose(post, f / f.sum(axis=1, keepdims=True), rtol=1e-8)


def test_all_cells_as_epics_equals_mlm_cell(reg_data, reg_net):
    X, y = reg_data
    mlm = MixtureOfLinearModels(reg_net, n_layer_clusters=3, clustering="kmeans", n_perturb=20,
                                n_epics=10_000, random_state=0)
    with pytest.warns(UserWarning, match="larger than the number of cells"):
        mlm.fit(X, y)
    assert mlm.n_epics_ == mlm.cells_.shape[0]
    np.testing.assert_allclose(mlm.predict(X[:40]), mlm.predict(X[:40], level="cell"),
                               rtol=1e-8)


# ---------------------------------------------------------------------- tasks and networks
def test_regression_beats_one_linear_model_and_follows_the_network(reg_data, reg_net):
    X, y = reg_data
    kw = dict(n_layer_clusters=5, clustering="kmeans", n_epics=8, random_state=0)
    mlm = MixtureOfLinearModels(reg_net, **kw).fit(X, y)
    one = np.sqrt(((LinearRegression().fit(X, y).predict(X) - y) ** 2).mean())
    assert np.sqrt(((mlm.predict(X) - y) ** 2).mean()) < 0.5 * one
    assert mlm.score(X, y) > 0.9
    # supervised by the network alone (labels = its predictions), the mixture mimics it
    net_pred = reg_net.predict(X)
    mimic = MixtureOfLinearModels(reg_net, **kw).fit(X, net_pred)
    one = np.sqrt(((LinearRegression().fit(X, net_pred).predict(X) - net_pred) ** 2).mean())
    assert np.sqrt(((mimic.predict(X) - net_pred) ** 2).mean()) < 0.4 * one


def test_binary_classification(bin_setup):
    X, yb, clf, mlm = bin_setup
    P = mlm.predict_proba(X)
    assert P.shape == (X.shape[0], 2)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert set(np.unique(mlm.predict(X))) <= {0, 1}
    assert mlm.coef_.shape == (mlm.n_epics_, 3)
    agreement = (mlm.predict(X) == clf.predict(X)).mean()
    assert agreement > 0.85
    s = mlm.summary()
    assert list(s["epic"]) == list(range(mlm.n_epics_))
    assert s["n_samples"].sum() == X.shape[0]


def test_multiclass_with_string_labels_and_tanh():
    X, y = _data(n=450, seed=2)
    labels = np.array(["low", "mid", "high"])[np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))]
    clf = _mlp(MLPClassifier, X, labels, activation="tanh")
    mlm = MixtureOfLinearModels(clf, n_layer_clusters=3, clustering="kmeans", n_perturb=20,
                                n_epics=4, random_state=0).fit(X, labels)
    np.testing.assert_array_equal(mlm.classes_, clf.classes_)
    P = mlm.predict_proba(X)
    assert P.shape == (450, 3)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    assert mlm.coef_.shape == (4, 3, 3) and mlm.intercept_.shape == (4, 3)
    assert (mlm.predict(X) == clf.predict(X)).mean() > 0.8
    coefs = mlm.coefficients()
    assert set(coefs["output"]) == {"high", "low", "mid"}
    assert len(coefs) == 12


def test_torch_tanh_network_and_auto_epics():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    X, y = _data(n=500, seed=3)
    net = torch.nn.Sequential(torch.nn.Linear(3, 10), torch.nn.Tanh(), torch.nn.Linear(10, 10),
                              torch.nn.GELU(), torch.nn.Linear(10, 1))
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    Xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y[:, None], dtype=torch.float32)
    for _ in range(200):
        opt.zero_grad()
        loss = ((net(Xt) - yt) ** 2).mean()
        loss.backward()
        opt.step()
    mlm = MixtureOfLinearModels(net, n_layer_clusters=[4, 3], clustering="kmeans", n_perturb=30,
                                n_epics="auto", random_state=0).fit(X, y)
    assert mlm.task_ == "regression" and mlm.n_layers_ == 2
    table = mlm.epic_scores_
    assert mlm.n_epics_ in set(table["n_epics"])
    assert table["n_epics"].iloc[0] == 1
    # the documented rule: excess held-out loss over the network within (1 + tol) of the best
    loss, net_loss = table["validation_loss"], table["network_loss"].iloc[0]
    best = (loss - net_loss).min()
    allowed = best + mlm.selection_tol * max(best, 0.05 * net_loss)
    ok = table[loss - net_loss <= allowed + 1e-12]
    assert mlm.n_epics_ == ok["n_epics"].min()
    # the network's held-out loss is its mean squared error on 20% of the rows (100 of 500),
    # so it lies between the means of its 100 smallest and 100 largest squared errors
    with torch.no_grad():
        full = net(torch.tensor(X, dtype=torch.float32)).double().numpy()[:, 0]
    sq = np.sort((full - y) ** 2)
    assert sq[:100].mean() - 1e-9 <= net_loss <= sq[-100:].mean() + 1e-9
    # the returned mixture is fitted on every row with the chosen number of EPICs
    assert mlm.augmented_is_real_.sum() == 500
    assert np.isfinite(mlm.predict(X[:50])).all()
    assert np.corrcoef(mlm.predict(X[:50]), full[:50])[0, 1] > 0.9


def test_torch_classifier_sigmoid_output_and_logits():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)
    X, y = _data(n=300, seed=4)
    yb = (y > np.median(y)).astype(int)
    body = [torch.nn.Linear(3, 8), torch.nn.ELU(), torch.nn.Linear(8, 1)]
    with_sigmoid = torch.nn.Sequential(*body, torch.nn.Sigmoid())
    logits = torch.nn.Sequential(*body)
    kw = dict(n_layer_clusters=3, clustering="kmeans", n_perturb=20, n_epics=2, random_state=0)
    a = MixtureOfLinearModels(with_sigmoid, **kw).fit(X, yb)
    b = MixtureOfLinearModels(logits, **kw).fit(X, yb)
    assert a.task_ == b.task_ == "classification"
    assert a.n_layers_ == b.n_layers_ == 1
    np.testing.assert_allclose(a.augmented_y_, b.augmented_y_, atol=1e-6)
    with torch.no_grad():
        p = with_sigmoid(torch.tensor(a.augmented_X_[~a.augmented_is_real_],
                                      dtype=torch.float32)).numpy()[:, 0]
    np.testing.assert_allclose(a.augmented_y_[~a.augmented_is_real_], p, atol=1e-6)


def test_relu_network_and_glassnet_estimator_like(rng):
    net = random_network(rng, 2, (8, 6), 1)
    X = rng.normal(size=(300, 2))
    y = net.forward(X)[:, 0]

    class Fitted:  # the shape of a fitted glassnet estimator
        _estimator_type = "regressor"
        network_ = net

    kw = dict(n_layer_clusters=3, clustering="kmeans", n_perturb=10, n_epics=3, random_state=0)
    a = MixtureOfLinearModels(net, **kw).fit(X, y)
    b = MixtureOfLinearModels(Fitted(), **kw).fit(X, y)
    np.testing.assert_allclose(a.predict(X), b.predict(X))
    assert a.n_layers_ == 2
    # a ReLU net's hidden outputs: the clustering saw max(0, z)
    H = net.hidden_outputs(X)
    np.testing.assert_array_equal(a.layer_clusterers_[1].predict(H[1]),
                                  a.cells_[a.cell_labels_, 1])


def test_gmm_clustering_and_dataframe_names(reg_data, reg_net):
    X, y = reg_data
    df = pd.DataFrame(X, columns=["a", "b", "c"])
    net = _mlp(MLPRegressor, df, y, activation="logistic", hidden=(8,))
    mlm = MixtureOfLinearModels(net, n_layer_clusters=3, clustering="gmm", n_perturb=20,
                                n_epics=2, random_state=0).fit(df, y)
    assert list(mlm.feature_names_in_) == ["a", "b", "c"]
    assert type(mlm.layer_clusterers_[0]).__name__ == "GaussianMixture"
    # a DataFrame with the columns in another order gives the same predictions
    np.testing.assert_allclose(mlm.predict(df[["c", "a", "b"]]), mlm.predict(X))
    assert list(mlm.coefficients().columns) == ["epic", "intercept", "a", "b", "c"]


def test_reproducible_with_random_state(reg_data, reg_net):
    X, y = reg_data
    kw = dict(n_layer_clusters=3, clustering="kmeans", n_perturb=20, n_epics=3, random_state=7)
    a = MixtureOfLinearModels(reg_net, **kw).fit(X, y)
    b = MixtureOfLinearModels(reg_net, **kw).fit(X, y)
    np.testing.assert_array_equal(a.augmented_X_, b.augmented_X_)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_penalties(bin_setup, reg_data, reg_net):
    X, y = reg_data
    l1 = MixtureOfLinearModels(reg_net, n_layer_clusters=3, clustering="kmeans", n_perturb=20,
                               n_epics=2, penalty="l1", alpha=0.5, random_state=0).fit(X, y)
    ols = MixtureOfLinearModels(reg_net, n_layer_clusters=3, clustering="kmeans", n_perturb=20,
                                n_epics=2, random_state=0).fit(X, y)
    assert np.abs(l1.coef_).sum() < np.abs(ols.coef_).sum()
    assert (l1.coef_ == 0).any()
    Xb, yb, clf, _ = bin_setup
    kw = dict(n_layer_clusters=3, clustering="kmeans", n_perturb=20, n_epics=2, random_state=0)
    weak = MixtureOfLinearModels(clf, **kw).fit(Xb, yb)
    ridge = MixtureOfLinearModels(clf, penalty="l2", alpha=1.0, **kw).fit(Xb, yb)
    lasso = MixtureOfLinearModels(clf, penalty="l1", alpha=0.05, **kw).fit(Xb, yb)
    assert np.abs(ridge.coef_).sum() < np.abs(weak.coef_).sum()
    assert np.abs(lasso.coef_).sum() < np.abs(weak.coef_).sum()


# ---------------------------------------------------------------------- interpretation
def test_rules_are_readable_and_true(reg_data, reg_net):
    X, y = reg_data
    df = pd.DataFrame(X, columns=["temp", "hum", "wind"])
    df["workingday"] = (X[:, 2] > 0).astype(float)
    net = _mlp(MLPRegressor, df, y + df["workingday"].to_numpy(), hidden=(10, 10))
    mlm = MixtureOfLinearModels(net, n_layer_clusters=4, clustering="kmeans", n_perturb=20,
                                n_epics=4, random_state=0).fit(df, y)
    rules = mlm.rules(psi=0.7, min_size=10)
    assert len(rules) > 0
    assert list(rules.columns) == ["epic", "rule", "n_samples", "purity", "coverage"]
    ep = mlm.epics_[mlm.cell_labels_]
    data = df.assign(_epic=ep)
    for r in rules.itertuples():
        assert "0.5" not in r.rule or "workingday" not in r.rule  # 0/1 feature reads == 0/1
        hit = data.query(r.rule) if r.rule != "(all rows)" else data
        assert len(hit) == r.n_samples >= 10
        assert (hit["_epic"] == r.epic).mean() == pytest.approx(r.purity)
        assert r.purity >= 0.7
        assert r.coverage == pytest.approx((hit["_epic"] == r.epic).sum() / (ep == r.epic).sum())
    with pytest.raises(ValueError, match="psi"):
        mlm.rules(psi=1.5)
    with pytest.raises(ValueError, match="EPIC 9"):
        mlm.rules(epics=[9])


def test_coefficient_display(reg_mlm):
    import matplotlib.pyplot as plt

    disp = reg_mlm.plot_coefficients()
    assert isinstance(disp, MLMCoefficientDisplay)
    assert disp.coef.shape == (reg_mlm.n_epics_, 3)
    assert disp.figure_ is disp.ax_.figure
    np.testing.assert_allclose(disp.coef, reg_mlm.coef_[disp._ids] * reg_mlm.feature_scale_)
    plt.close(disp.figure_)
    raw = MLMCoefficientDisplay.from_estimator(reg_mlm, level="cell", standardized=False,
                                               max_models=3)
    assert raw.coef.shape == (3, 3)
    plt.close(raw.figure_)


def test_coefficients_table_and_summary(reg_mlm):
    table = reg_mlm.coefficients()
    np.testing.assert_allclose(table[["x0", "x1", "x2"]].to_numpy(), reg_mlm.coef_)
    np.testing.assert_allclose(table["intercept"], reg_mlm.intercept_)
    s = reg_mlm.summary()
    assert (s["n_cells"].sum(), len(s)) == (reg_mlm.cells_.shape[0], reg_mlm.n_epics_)
    np.testing.assert_allclose(s["share"].sum(), 1.0)
    assert (s["rmse"] >= 0).all()


def test_clone_and_params(reg_mlm):
    params = reg_mlm.get_params(deep=False)
    assert params["n_layer_clusters"] == 4 and params["n_epics"] == 5
    c = clone(MixtureOfLinearModels(ReluNetwork([np.eye(2), np.ones((1, 2))],
                                                [np.zeros(2), np.zeros(1)]), n_epics=3))
    assert c.n_epics == 3 and not hasattr(c, "epics_")


# ---------------------------------------------------------------------- errors
def test_network_without_hidden_layers_is_rejected(rng):
    torch = pytest.importorskip("torch")
    X = rng.normal(size=(50, 2))
    y = X[:, 0]
    linear = ReluNetwork([np.ones((1, 2))], [np.zeros(1)])
    with pytest.raises(ValueError, match="no hidden layers"):
        MixtureOfLinearModels(linear).fit(X, y)
    with pytest.raises(ValueError, match="no hidden layers"):
        MixtureOfLinearModels(torch.nn.Sequential(torch.nn.Linear(2, 1)), n_epics=1).fit(X, y)


def test_bad_inputs_give_clear_errors(reg_data, reg_net, rng):
    X, y = reg_data
    with pytest.raises(ValueError, match="larger than the number of rows"):
        MixtureOfLinearModels(reg_net, n_layer_clusters=50, n_epics=2).fit(X[:20], y[:20])
    with pytest.raises(ValueError, match="one value per hidden layer"):
        MixtureOfLinearModels(reg_net, n_layer_clusters=[3, 3, 3], n_epics=2).fit(X, y)
    with pytest.raises(ValueError, match="n_layer_clusters"):
        MixtureOfLinearModels(reg_net, n_layer_clusters=0).fit(X, y)
    with pytest.raises(ValueError, match="clustering"):
        MixtureOfLinearModels(reg_net, clustering="dbscan").fit(X, y)
    with pytest.raises(ValueError, match="n_perturb"):
        MixtureOfLinearModels(reg_net, n_perturb=-1).fit(X, y)
    with pytest.raises(ValueError, match="perturb_var"):
        MixtureOfLinearModels(reg_net, perturb_var=-1e-3).fit(X, y)
    with pytest.raises(ValueError, match="n_epics"):
        MixtureOfLinearModels(reg_net, n_epics=0).fit(X, y)
    with pytest.raises(ValueError, match="weights"):
        MixtureOfLinearModels(reg_net, weights="fuzzy").fit(X, y)
    with pytest.raises(ValueError, match="covariance_type"):
        MixtureOfLinearModels(reg_net, covariance_type="banded").fit(X, y)
    with pytest.raises(ValueError, match="covariance_source"):
        MixtureOfLinearModels(reg_net, covariance_source="perturbed").fit(X, y)
    with pytest.raises(ValueError, match="covariance_shrinkage"):
        MixtureOfLinearModels(reg_net, covariance_shrinkage=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="features"):
        MixtureOfLinearModels(reg_net, n_epics=2).fit(X[:, :2], y)
    with pytest.raises(ValueError, match="NaN"):
        Xn = X.copy()
        Xn[3, 1] = np.nan
        MixtureOfLinearModels(reg_net, n_epics=2).fit(Xn, y)
    with pytest.raises(ValueError, match="rows"):
        MixtureOfLinearModels(reg_net, n_epics=2).fit(X, y[:-1])
    with pytest.raises(TypeError, match="Cannot explain"):
        MixtureOfLinearModels("not a network").fit(X, y)
    with pytest.raises(ValueError, match="not fitted"):
        MixtureOfLinearModels(MLPRegressor()).fit(X, y)
    with pytest.raises(ValueError, match="task"):
        MixtureOfLinearModels(reg_net, task="classification").fit(X, y)


def test_prediction_errors(reg_mlm, bin_setup, reg_data):
    X, _ = reg_data
    # a regressor has no predict_proba (as in scikit-learn), and the reason is chained
    assert not hasattr(reg_mlm, "predict_proba")
    with pytest.raises(AttributeError, match="predict_proba") as info:
        reg_mlm.predict_proba(X)
    assert "only available for classification" in str(info.value.__cause__)
    assert hasattr(bin_setup[3], "predict_proba")
    with pytest.raises(ValueError, match="level"):
        reg_mlm.predict(X, level="region")
    with pytest.raises(ValueError, match="features"):
        reg_mlm.predict(X[:, :2])
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        MixtureOfLinearModels(reg_mlm.network).predict(X)
    Xb, yb, clf, _ = bin_setup
    with pytest.raises(ValueError, match="does not know"):
        MixtureOfLinearModels(clf, n_epics=2).fit(Xb, yb + 5)
    with pytest.raises(ValueError, match="two classes"):
        net = ReluNetwork([np.eye(3), np.ones((1, 3))], [np.zeros(3), np.zeros(1)],
                          output="sigmoid")
        MixtureOfLinearModels(net, n_epics=2).fit(Xb, np.zeros(len(Xb)))


def test_onnx_relu_model_is_accepted(reg_data, tmp_path):
    """An ONNX file (path or bytes) is explained like the network it holds."""
    from skl2onnx import to_onnx

    X, y = reg_data
    mlp = _mlp(MLPRegressor, X, y, hidden=(8, 8))
    proto = to_onnx(mlp, X[:1].astype(np.float32), target_opset=17)
    path = tmp_path / "net.onnx"
    path.write_bytes(proto.SerializeToString())
    kw = dict(n_layer_clusters=3, clustering="kmeans", n_perturb=10, n_epics=3, random_state=0)
    ref = MixtureOfLinearModels(ReluNetwork.from_sklearn(mlp), **kw).fit(X, y)
    for source in (str(path), path.read_bytes()):
        got = MixtureOfLinearModels(source, **kw).fit(X, y)
        np.testing.assert_array_equal(got.cells_, ref.cells_)
        # the ONNX file holds float32 weights: predictions agree to float32 precision
        np.testing.assert_allclose(got.predict(X), ref.predict(X), rtol=1e-3, atol=1e-3)
