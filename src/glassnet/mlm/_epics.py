"""Merging cells into EPICs: the linkage tree, cutting it, numbering EPICs (private).

The scores used to choose the number of EPICs (mean squared error, log-loss) are also here.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cut_tree", "linkage_matrix", "mixture_loss", "renumber_by_size"]


def linkage_matrix(D: np.ndarray, method: str) -> np.ndarray:
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
    sizes = np.bincount(labels, weights=counts, minlength=J)
    order = np.lexsort((np.arange(J), -sizes))
    new = np.empty(J, dtype=np.int64)
    new[order] = np.arange(J)
    return new[labels]


def mixture_loss(resp: np.ndarray, Y: np.ndarray, kind: str) -> float:
    if kind == "identity":
        return float(((resp - Y) ** 2).mean())
    P = np.clip(resp, 1e-12, 1 - 1e-12)
    if kind == "sigmoid":
        return float(-(Y * np.log(P) + (1 - Y) * np.log1p(-P)).mean())
    return float(-(Y * np.log(P)).sum(axis=1).mean())
