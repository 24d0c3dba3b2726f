"""Merging cells into EPICs: the linkage tree, cutting it, numbering EPICs (private).

The scores used to choose the number of EPICs (mean squared error, log-loss) are also here.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = [
    "cell_posterior_terms", "cut_tree", "linkage_matrix", "merged_posterior", "merged_start",
    "mixture_loss", "renumber_by_size",
]


def linkage_matrix(D: np.ndarray, method: str) -> np.ndarray:
    """SciPy linkage of the cells from their disparity matrix ``D`` (empty for one cell)."""
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    if D.shape[0] == 1:
        return np.empty((0, 4))
    return linkage(squareform(D, checks=False), method=method)


def cut_tree(link_matrix: np.ndarray, n: int, J: int) -> np.ndarray:
    """Cluster of every leaf after the first ``n - J`` merges (exactly ``J`` clusters)."""
    parent = np.arange(2 * n - 1) if n > 1 else np.arange(1)
    for i in range(n - J):
        a, b = int(link_matrix[i, 0]), int(link_matrix[i, 1])
        parent[a] = n + i
        parent[b] = n + i
    root = parent[:n].copy()
    while True:
        nxt = parent[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    return np.unique(root, return_inverse=True)[1].ravel()


def renumber_by_size(labels: np.ndarray, counts: np.ndarray, J: int) -> np.ndarray:
    """Renumber clusters 0..J-1 by decreasing total ``counts`` (ties by old number)."""
    sizes = np.bincount(labels, weights=counts, minlength=J)
    order = np.lexsort((np.arange(J), -sizes))
    new = np.empty(J, dtype=np.int64)
    new[order] = np.arange(J)
    return new[labels]


def mixture_loss(resp: np.ndarray, Y: np.ndarray, kind: str) -> float:
    """Mean squared error (``identity``) or mean log-loss (``sigmoid``/``softmax``)."""
    if kind == "identity":
        return float(((resp - Y) ** 2).mean())
    P = np.clip(resp, 1e-12, 1 - 1e-12)
    if kind == "sigmoid":
        return float(-(Y * np.log(P) + (1 - Y) * np.log1p(-P)).mean())
    return float(-(Y * np.log(P)).sum(axis=1).mean())


def merged_start(B_cell: np.ndarray, labels: np.ndarray, counts: np.ndarray, J: int) -> np.ndarray:
    """Size-weighted mean of the cell models of every merged group: a Newton start."""
    C = B_cell.shape[0]
    flat = B_cell.reshape(C, -1) * counts[:, None]
    sums = np.zeros((J, flat.shape[1]))
    np.add.at(sums, labels, flat)
    sizes = np.bincount(labels, weights=counts, minlength=J)
    return (sums / np.maximum(sizes, 1e-300)[:, None]).reshape((J,) + B_cell.shape[1:])


def cell_posterior_terms(logdens: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``n_k N(x; mu_k, Sigma_k)`` for every row and cell, scaled per row (max 1).

    Summing these per EPIC and normalising gives the soft weights for ``prior="size"``;
    dividing the sums by the EPICs' sizes first gives those for ``prior="uniform"``. They
    do not depend on how cells are merged, so choosing the number of EPICs computes them once.
    """
    L = logdens + np.log(counts)[None, :]
    L -= L.max(axis=1, keepdims=True)
    return np.exp(L)


def merged_posterior(
    terms: np.ndarray, labels: np.ndarray, J: int, counts: np.ndarray, prior: str
) -> np.ndarray:
    """Soft weights of ``J`` merged groups from :func:`cell_posterior_terms`."""
    # (J, C) indicator times (C, n) terms: the sum over each group's cells
    indicator = sp.csr_matrix((np.ones(labels.size), (labels, np.arange(labels.size))),
                              shape=(J, labels.size))
    post = np.asarray(indicator @ terms.T).T
    if prior == "uniform":
        post /= np.bincount(labels, weights=counts, minlength=J)[None, :]
    return post / post.sum(axis=1, keepdims=True)
