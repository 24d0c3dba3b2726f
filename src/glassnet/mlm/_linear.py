"""Batched linear algebra behind the mixture of linear models (private).

Everything here works on *groups* of points (cells or EPICs) at once, in standardised input
coordinates ``z``:

* :func:`group_stats` / :func:`merge_stats`: counts, means and centred scatter matrices of
  every group, from the points (one pass per chunk, a sparse indicator matrix does the segment
  sums) or from the statistics of the groups being merged (parallel-axis rule, no points).
* :func:`fit_least_squares`: one least-squares model per group from its statistics; the
  minimum-norm solution (as :class:`sklearn.linear_model.LinearRegression`) when the group's
  points do not determine every coefficient.
* :func:`fit_logistic`: batched Newton's method for logistic (sigmoid, one output) or
  multinomial (softmax) models with soft targets, an optional ridge penalty and per-group
  step halving.
* :func:`fit_l1_loop`: Lasso / L1-logistic fits, one scikit-learn call per group.
* :func:`disparity_regression` / :func:`disparity_points`: the mutual prediction disparity of
  every pair of groups, from the statistics (linear models) or by evaluating every model on
  every point in chunks (probabilities).
* :func:`gaussian_log_density`: log N(z; mu_g, Sigma_g) for all rows and groups.

A model is stored as ``B`` of shape ``(G, K, 1 + d)``: column 0 is the intercept, the rest the
slopes on ``z``; ``K`` outputs (targets, the positive class, or every class).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_softmax, softmax

# About this many float64 values per temporary buffer.
_CHUNK_VALUES = 4_000_000


def _indicator(groups: np.ndarray, n_groups: int) -> sp.csr_matrix:
    n = groups.shape[0]
    return sp.csr_matrix((np.ones(n), (groups, np.arange(n))), shape=(n_groups, n))


@dataclass
class GroupStats:
    """Sufficient statistics of groups of points (standardised coordinates).

    ``n`` (G,), ``zbar`` (G, d), ``Czz`` (G, d, d) = sum of (z - zbar)(z - zbar)^T,
    ``ybar`` (G, K) and ``Czy`` (G, d, K) = sum of (z - zbar)(y - ybar)^T.
    """

    n: np.ndarray
    zbar: np.ndarray
    Czz: np.ndarray
    ybar: np.ndarray
    Czy: np.ndarray


def group_stats(Z: np.ndarray, Y: np.ndarray, groups: np.ndarray, n_groups: int) -> GroupStats:
    """Statistics of the points of every group, computed with centred values (no cancellation)."""
    N, d = Z.shape
    K = Y.shape[1]
    S = _indicator(groups, n_groups)
    n = np.asarray(S.sum(axis=1)).ravel()
    safe = np.maximum(n, 1.0)[:, None]
    zbar = np.asarray(S @ Z) / safe
    ybar = np.asarray(S @ Y) / safe
    Czz = np.zeros((n_groups, d * d))
    Czy = np.zeros((n_groups, d * K))
    step = max(1, _CHUNK_VALUES // max(1, d * (d + K)))
    for s in range(0, N, step):
        g = groups[s : s + step]
        zc = Z[s : s + step] - zbar[g]
        yc = Y[s : s + step] - ybar[g]
        Sc = S[:, s : s + step]
        Czz += Sc @ (zc[:, :, None] * zc[:, None, :]).reshape(len(g), d * d)
        Czy += Sc @ (zc[:, :, None] * yc[:, None, :]).reshape(len(g), d * K)
    return GroupStats(n, zbar, Czz.reshape(n_groups, d, d), ybar, Czy.reshape(n_groups, d, K))


def merge_stats(st: GroupStats, labels: np.ndarray, n_merged: int) -> GroupStats:
    """Statistics of unions of groups (``labels[g]`` = merged group of group ``g``)."""
    S = _indicator(labels, n_merged)
    n = S @ st.n
    safe = np.maximum(n, 1.0)[:, None]
    zbar = (S @ (st.n[:, None] * st.zbar)) / safe
    ybar = (S @ (st.n[:, None] * st.ybar)) / safe
    dz = st.zbar - zbar[labels]
    dy = st.ybar - ybar[labels]
    G, d = st.zbar.shape
    K = st.ybar.shape[1]
    Czz = st.Czz + st.n[:, None, None] * dz[:, :, None] * dz[:, None, :]
    Czy = st.Czy + st.n[:, None, None] * dz[:, :, None] * dy[:, None, :]
    Czz = (S @ Czz.reshape(G, d * d)).reshape(n_merged, d, d)
    Czy = (S @ Czy.reshape(G, d * K)).reshape(n_merged, d, K)
    return GroupStats(n, zbar, Czz, ybar, Czy)


def _pinv_psd(A: np.ndarray, rcond: float = 1e-10) -> np.ndarray:
    """Batched pseudo-inverse of symmetric positive semi-definite matrices (G, d, d)."""
    vals, vecs = np.linalg.eigh(A)
    top = np.maximum(vals.max(axis=1, keepdims=True), 0.0)
    keep = vals > rcond * top
    inv = np.zeros_like(vals)
    inv[keep] = 1.0 / vals[keep]
    return (vecs * inv[:, None, :]) @ np.swapaxes(vecs, 1, 2)


def fit_least_squares(st: GroupStats) -> np.ndarray:
    """Least-squares model of every group from its statistics, ``B`` of shape (G, K, 1 + d).

    Slopes solve ``Czz w = Czy`` (minimum norm when ``Czz`` is singular, e.g. fewer points than
    features or a feature constant within the group); the intercept makes the model pass
    through the group's mean point. A group whose targets are all equal gets zero slopes, i.e.
    a constant model.
    """
    W = _pinv_psd(st.Czz) @ st.Czy  # (G, d, K)
    W = np.swapaxes(W, 1, 2)  # (G, K, d)
    b = st.ybar - np.einsum("gkd,gd->gk", W, st.zbar)
    return np.concatenate([b[:, :, None], W], axis=2)


def predict_groups(B: np.ndarray, Z: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Linear predictor of each point under its own group's model, shape (N, K)."""
    out = np.empty((Z.shape[0], B.shape[1]))
    step = max(1, _CHUNK_VALUES // max(1, B.shape[1] * B.shape[2]))
    for s in range(0, Z.shape[0], step):
        Bg = B[groups[s : s + step]]
        out[s : s + step] = Bg[:, :, 0] + np.einsum("nkd,nd->nk", Bg[:, :, 1:], Z[s : s + step])
    return out


def predict_all(B: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Linear predictor of every point under every model, shape (N, G, K)."""
    G, K, p = B.shape
    return (Z @ B[:, :, 1:].reshape(G * K, p - 1).T + B[:, :, 0].reshape(-1)).reshape(-1, G, K)


def link(eta: np.ndarray, kind: str) -> np.ndarray:
    """Apply the response function along the last axis: identity, sigmoid or softmax."""
    if kind == "sigmoid":
        return expit(eta)
    if kind == "softmax":
        return softmax(eta, axis=-1)
    return eta


def _loss(eta: np.ndarray, Y: np.ndarray, kind: str) -> np.ndarray:
    """Cross-entropy per point with soft targets."""
    if kind == "sigmoid":
        return (np.logaddexp(0.0, eta) - Y * eta).sum(axis=1)
    return -(Y * log_softmax(eta, axis=1)).sum(axis=1)


def constant_groups(Y: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Groups whose targets are all identical (per output)."""
    K = Y.shape[1]
    hi = np.full((n_groups, K), -np.inf)
    lo = np.full((n_groups, K), np.inf)
    np.maximum.at(hi, groups, Y)
    np.minimum.at(lo, groups, Y)
    return np.all(hi - lo <= 1e-12, axis=1)


def constant_logistic(ybar: np.ndarray, kind: str, d: int) -> np.ndarray:
    """Intercept-only models reproducing mean probabilities ``ybar`` (clipped to 1e-6)."""
    p = np.clip(ybar, 1e-6, 1 - 1e-6)
    b = np.log(p) - np.log1p(-p) if kind == "sigmoid" else np.log(p)
    B = np.zeros((ybar.shape[0], ybar.shape[1], 1 + d))
    B[:, :, 0] = b
    return B


def fit_logistic(
    Z: np.ndarray,
    Y: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    kind: str,
    *,
    l2: float = 0.0,
    max_iter: int = 100,
    tol: float = 1e-8,
    B0: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Batched Newton fits of logistic/multinomial models with soft targets, one per group.

    Minimises, per group ``g`` with ``n_g`` points,
    ``sum_i CE(y_i, link(B_g a_i)) + 0.5 * l2 * n_g * ||slopes||^2 + 0.5 * 1e-10 * n_g * ||B_g||^2``
    where ``a_i = (1, z_i)`` and CE is the cross-entropy. The tiny last term only makes the
    problem strictly convex (softmax models are otherwise defined up to a shift, and perfectly
    separated groups have no finite optimum); it changes no prediction measurably.

    Returns ``B`` (G, K, 1 + d) and the number of Newton iterations used by each group.
    """
    N, d = Z.shape
    K = Y.shape[1]
    p = d + 1
    P = K * p
    counts = np.bincount(groups, minlength=n_groups).astype(np.float64)
    pen = np.full((K, p), l2)
    pen[:, 0] = 0.0
    pen = pen.reshape(-1) + 1e-10
    pen_g = counts[:, None] * pen[None, :]  # (G, P)
    B = np.zeros((n_groups, K, p)) if B0 is None else B0.copy()
    S = _indicator(groups, n_groups)
    A = np.concatenate([np.ones((N, 1)), Z], axis=1)
    active = counts > 0
    iters = np.zeros(n_groups, dtype=int)
    # rows sorted by group, so each group's Hessian is a few dense products of its own rows
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(n_groups + 1))
    A_sorted = A[order]

    def objective(Bc: np.ndarray) -> np.ndarray:
        eta = predict_groups(Bc, Z, groups)
        val = np.asarray(S @ _loss(eta, Y, kind))
        return val + 0.5 * (pen_g * Bc.reshape(n_groups, P) ** 2).sum(axis=1)

    obj = objective(B)
    for _ in range(max_iter):
        if not active.any():
            break
        eta = predict_groups(B, Z, groups)
        mu = link(eta, kind)
        R = mu - Y  # (N, K)
        grad = np.asarray(S @ (R[:, :, None] * A[:, None, :]).reshape(N, P))
        grad += pen_g * B.reshape(n_groups, P)
        H = _group_hessians(A_sorted, mu[order], bounds, active, kind, K)
        H[:, np.arange(P), np.arange(P)] += pen_g
        idx = np.flatnonzero(active)
        step = np.zeros((n_groups, P))
        step[idx] = np.linalg.solve(H[idx], grad[idx][:, :, None])[:, :, 0]
        # Step halving, per group, until the objective does not increase.
        t = np.ones(n_groups)
        newB = B - (t[:, None] * step).reshape(B.shape)
        new_obj = objective(newB)
        for _halve in range(30):
            worse = active & (new_obj > obj + 1e-12 * np.abs(obj))
            if not worse.any():
                break
            t[worse] *= 0.5
            newB = B - (t[:, None] * step).reshape(B.shape)
            new_obj = objective(newB)
        worse = new_obj > obj + 1e-12 * np.abs(obj)
        t[worse] = 0.0
        newB = B - (t[:, None] * step).reshape(B.shape)
        new_obj = np.where(worse, obj, new_obj)
        iters[active] += 1
        change = np.abs(t[:, None] * step).max(axis=1)
        decrease = obj - new_obj
        B, obj = newB, new_obj
        # converged: tiny steps, or an objective that no longer moves (e.g. probabilities
        # saturating towards 0 or 1, where the parameters drift without changing predictions)
        active &= (change > tol) & (decrease > tol * np.maximum(1.0, np.abs(obj)))
    return B, iters


def _group_hessians(
    A: np.ndarray, mu: np.ndarray, bounds: np.ndarray, active: np.ndarray, kind: str, K: int
) -> np.ndarray:
    """Cross-entropy Hessian of every active group, shape (G, K p, K p).

    ``A`` (rows sorted by group, with the leading 1) and ``mu`` (their fitted probabilities)
    hold group ``g`` in rows ``bounds[g]:bounds[g + 1]``. Block ``(k, l)`` of a group's Hessian
    is ``A_g^T diag(w_kl) A_g`` with ``w_kl = mu_k (delta_kl - mu_l)`` (``mu (1 - mu)`` for a
    sigmoid): one BLAS product per block, with no per-row outer products in memory.
    """
    G = bounds.size - 1
    p = A.shape[1]
    H = np.zeros((G, K, p, K, p))
    for g in np.flatnonzero(active):
        a, m = A[bounds[g] : bounds[g + 1]], mu[bounds[g] : bounds[g + 1]]
        if kind == "sigmoid":
            H[g, 0, :, 0, :] = a.T @ ((m[:, 0] * (1.0 - m[:, 0]))[:, None] * a)
            continue
        for k in range(K):
            for j in range(k, K):
                w = m[:, k] * ((k == j) - m[:, j])
                blk = a.T @ (w[:, None] * a)
                H[g, k, :, j, :] = blk
                H[g, j, :, k, :] = blk.T
    return H.reshape(G, K * p, K * p)


def fit_l1_loop(
    Z: np.ndarray,
    Y: np.ndarray,
    groups: np.ndarray,
    n_groups: int,
    kind: str,
    alpha: float,
    random_state: int | None,
) -> np.ndarray:
    """L1-penalised models, one scikit-learn fit per group.

    Regression uses :class:`~sklearn.linear_model.Lasso` (``alpha`` as there: mean half squared
    error plus ``alpha * ||w||_1``). Classification uses
    :class:`~sklearn.linear_model.LogisticRegression` with the L1 penalty; soft targets are
    represented by repeating each point once per class with the class probability as sample
    weight, and ``C = 1 / (alpha * n_g)`` gives the same per-point scale as the Lasso.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import Lasso, LogisticRegression

    N, d = Z.shape
    K = Y.shape[1]
    B = np.zeros((n_groups, K, d + 1))
    order = np.argsort(groups, kind="stable")
    bounds = np.searchsorted(groups[order], np.arange(n_groups + 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for g in range(n_groups):
            rows = order[bounds[g] : bounds[g + 1]]
            if rows.size == 0:
                continue
            Zg, Yg = Z[rows], Y[rows]
            if kind == "identity":
                if np.ptp(Yg, axis=0).max() <= 1e-12:
                    B[g, :, 0] = Yg[0]
                    continue
                m = Lasso(alpha=alpha, max_iter=10000).fit(Zg, Yg if K > 1 else Yg[:, 0])
                B[g, :, 1:] = np.atleast_2d(m.coef_)
                B[g, :, 0] = m.intercept_
                continue
            soft = np.concatenate([1 - Yg, Yg], axis=1) if kind == "sigmoid" else Yg
            n_cls = soft.shape[1]
            Xr = np.repeat(Zg, n_cls, axis=0)
            lab = np.tile(np.arange(n_cls), rows.size)
            w = soft.reshape(-1)
            present = np.unique(lab[w > 0])
            if present.size < 2:
                B[g] = constant_logistic(soft.mean(axis=0, keepdims=True)[:, -K:], kind, d)[0]
                continue
            m = LogisticRegression(
                C=1.0 / (alpha * rows.size), solver="saga", max_iter=2000,
                random_state=random_state, **_l1_logistic_kwargs(),
            ).fit(Xr, lab, sample_weight=w)
            if kind == "sigmoid":
                B[g, 0, 1:] = m.coef_[0]
                B[g, 0, 0] = m.intercept_[0]
            else:
                coef = np.zeros((K, d))
                icpt = np.full(K, -30.0)
                coef[m.classes_] = m.coef_ if len(m.classes_) > 2 else np.vstack(
                    [-0.5 * m.coef_[0], 0.5 * m.coef_[0]]
                )
                icpt[m.classes_] = m.intercept_ if len(m.classes_) > 2 else np.array(
                    [-0.5 * m.intercept_[0], 0.5 * m.intercept_[0]]
                )
                B[g, :, 1:] = coef
                B[g, :, 0] = icpt
    return B


def _l1_logistic_kwargs() -> dict:
    """The L1 penalty of LogisticRegression (``penalty`` is deprecated from scikit-learn 1.8)."""
    import sklearn

    major, minor = (int(v) for v in sklearn.__version__.split(".")[:2])
    return {"l1_ratio": 1.0} if (major, minor) >= (1, 8) else {"penalty": "l1"}


def disparity_regression(st: GroupStats, B: np.ndarray) -> np.ndarray:
    """Mutual prediction disparity of linear models, from the groups' statistics.

    For groups ``s`` and ``t`` with models ``m_s``, ``m_t``: ``S[s, t]`` is the sum over the
    points of ``s`` of ``||m_s(z) - m_t(z)||^2``. Writing ``z = zbar_s + c``, the sum splits
    into ``n_s ||m_s(zbar_s) - m_t(zbar_s)||^2 + sum_k dw_k^T Czz_s dw_k`` with
    ``dw = w_s - w_t``, which expands into a few matrix products over all pairs at once.
    Returns ``D = (S + S^T) / (n_s + n_t)``.
    """
    G, K, p = B.shape
    d = p - 1
    W = B[:, :, 1:]  # (G, K, d)
    # models evaluated at every group's mean point: E[s, t, k] = m_t(zbar_s)_k
    E = predict_all(B, st.zbar)
    own = E[np.arange(G), np.arange(G)]  # (G, K)
    term1 = st.n[:, None] * ((own[:, None, :] - E) ** 2).sum(axis=2)
    C = st.Czz.reshape(G, d * d)
    CW = np.einsum("sab,skb->ska", st.Czz, W)  # (G, K, d)
    quad_own = np.einsum("ska,ska->s", CW, W)  # w_s^T C_s w_s
    cross = CW.reshape(G, K * d) @ W.reshape(G, K * d).T  # w_s^T C_s w_t
    M = np.einsum("tka,tkb->tab", W, W).reshape(G, d * d)
    quad_other = C @ M.T  # w_t^T C_s w_t
    S = term1 + quad_own[:, None] - 2.0 * cross + quad_other
    np.maximum(S, 0.0, out=S)
    return _symmetrise(S, st.n)


def disparity_points(
    B: np.ndarray, Z: np.ndarray, groups: np.ndarray, kind: str
) -> np.ndarray:
    """Mutual prediction disparity by evaluating every model on every point (in chunks).

    Differences are taken on the response scale: probabilities for ``sigmoid``/``softmax``
    (summed over classes), values for ``identity``.
    """
    G, K, p = B.shape
    S = np.zeros((G, G))
    Ind = _indicator(groups, G)
    step = max(1, _CHUNK_VALUES // max(1, G * K))
    for s in range(0, Z.shape[0], step):
        g = groups[s : s + step]
        resp = link(predict_all(B, Z[s : s + step]), kind)  # (n, G, K)
        own = resp[np.arange(len(g)), g]  # (n, K)
        diff = ((resp - own[:, None, :]) ** 2).sum(axis=2)
        S += Ind[:, s : s + step] @ diff
    counts = np.bincount(groups, minlength=G).astype(np.float64)
    return _symmetrise(S, counts)


def _symmetrise(S: np.ndarray, n: np.ndarray) -> np.ndarray:
    D = (S + S.T) / np.maximum(n[:, None] + n[None, :], 1.0)
    np.fill_diagonal(D, 0.0)
    return D


def gaussian_params(
    st: GroupStats, covariance_type: str, reg_covar: float, shrinkage: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Per-group Gaussian parameters as (means, precision Cholesky factors or scales).

    The pooled within-group covariance is ``P = sum_g Czz_g / sum_g n_g``. With
    ``shrinkage = tau > 0`` each group's covariance is the posterior mean under a prior
    centred on ``P`` worth ``tau`` points, ``(Czz_g + tau P) / (n_g + tau)``: a group with a
    single point gets ``tau / (1 + tau) P`` instead of a degenerate covariance, a large group
    keeps (nearly) its own. ``reg_covar`` is then added to the diagonal.

    ``full``: (G, d, d) upper factors ``U`` with ``Sigma^{-1} = U U^T``; ``tied``: ``P`` for
    every group, same shape (repeated); ``diag``: (G, d) inverse standard deviations (the
    diagonal of the full covariance); ``spherical``: (G,) inverse standard deviations (the
    mean of that diagonal).
    """
    G, d = st.zbar.shape
    n = np.maximum(st.n, 1.0)
    tau = float(shrinkage)
    pooled = st.Czz.sum(axis=0) / n.sum()
    if covariance_type not in ("full", "tied", "diag", "spherical"):
        raise ValueError(f"Unknown covariance_type {covariance_type!r}.")
    if covariance_type in ("full", "tied"):
        if covariance_type == "full":
            cov = (st.Czz + tau * pooled) / (n + tau)[:, None, None]
        else:
            cov = np.broadcast_to(pooled, (G, d, d)).copy()
        cov[:, np.arange(d), np.arange(d)] += reg_covar
        L = np.linalg.cholesky(cov)
        eye = np.broadcast_to(np.eye(d), (G, d, d))
        # precision Cholesky: inv(L)^T, as scikit-learn's GaussianMixture
        prec = np.swapaxes(np.linalg.solve(L, eye), 1, 2)
        return st.zbar, prec
    var = (np.diagonal(st.Czz, axis1=1, axis2=2) + tau * np.diagonal(pooled)) / (n + tau)[:, None]
    if covariance_type == "diag":
        return st.zbar, 1.0 / np.sqrt(var + reg_covar)
    return st.zbar, 1.0 / np.sqrt(var.mean(axis=1) + reg_covar)


def gaussian_log_density(
    Z: np.ndarray, means: np.ndarray, prec: np.ndarray, covariance_type: str
) -> np.ndarray:
    """log N(z; mu_g, Sigma_g) for every row and group, shape (N, G), in chunks of rows."""
    N, d = Z.shape
    G = means.shape[0]
    out = np.empty((N, G))
    const = -0.5 * d * np.log(2 * np.pi)
    if covariance_type in ("full", "tied"):
        logdet = np.log(np.diagonal(prec, axis1=1, axis2=2)).sum(axis=1)  # log|Sigma|^{-1/2}
        Pall = np.swapaxes(prec, 0, 1).reshape(d, G * d)  # (d, G*d)
        muP = np.einsum("ga,gab->gb", means, prec).reshape(-1)
        step = max(1, _CHUNK_VALUES // max(1, G * d))
        for s in range(0, N, step):
            y = Z[s : s + step] @ Pall - muP
            maha = (y.reshape(-1, G, d) ** 2).sum(axis=2)
            out[s : s + step] = const + logdet - 0.5 * maha
        return out
    if covariance_type == "diag":
        logdet = np.log(prec).sum(axis=1)
        P2 = prec**2  # (G, d)
        # ||(z - mu) * p||^2 = z^2 . p^2 - 2 z . (mu p^2) + mu^2 . p^2
        c = (means**2 * P2).sum(axis=1)
        step = max(1, _CHUNK_VALUES // max(1, G))
        for s in range(0, N, step):
            z = Z[s : s + step]
            maha = (z**2) @ P2.T - 2 * z @ (means * P2).T + c
            out[s : s + step] = const + logdet - 0.5 * np.maximum(maha, 0.0)
        return out
    logdet = d * np.log(prec)
    c = (means**2).sum(axis=1)
    step = max(1, _CHUNK_VALUES // max(1, G))
    for s in range(0, N, step):
        z = Z[s : s + step]
        sq = (z**2).sum(axis=1)[:, None] - 2 * z @ means.T + c
        out[s : s + step] = const + logdet - 0.5 * np.maximum(sq, 0.0) * prec**2
    return out


def group_posterior(
    logdens: np.ndarray, log_weight: np.ndarray, merged: np.ndarray, n_merged: int
) -> np.ndarray:
    """Posterior over merged groups: ``gamma_j ∝ sum_{g in j} exp(log_weight_g + logdens_g)``."""
    L = logdens + log_weight[None, :]
    L -= L.max(axis=1, keepdims=True)
    E = np.exp(L)
    post = np.asarray(_indicator(merged, n_merged) @ E.T).T
    post /= post.sum(axis=1, keepdims=True)
    return post


