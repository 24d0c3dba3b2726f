"""Cutting a merge tree (``children`` as :func:`glassnet.simplify.merge.weighted_ward_tree`
returns it) into clusters: the dendrogram order of its leaves, every node's run of that
order, and the clusters after a number of merges."""

from __future__ import annotations

import numpy as np

try:  # the compiled runs (setup.py); the Python loops below do the same without it
    from glassnet.simplify import _ward_native
except ImportError:  # pragma: no cover - exercised by tests/test_ward_native.py
    _ward_native = None

__all__ = ["cut_runs", "cut_tree", "dendrogram_order"]


def dendrogram_order(children: np.ndarray, n_leaves: int) -> np.ndarray:
    """The leaves from left to right in the drawing of the tree: every node's leaves are
    one run of this order (so every cut's clusters are runs too)."""
    return _dendrogram_runs(children, n_leaves)[0]


def _dendrogram_runs(children: np.ndarray,
                     n_leaves: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`dendrogram_order` with every node's run of it: ``(order, start, size)``, node
    ``c``'s leaves being ``order[start[c]:start[c] + size[c]]`` (nodes numbered as in
    ``children``: leaves ``0..R-1``, merge ``m`` is node ``R + m``)."""
    R = n_leaves
    if R < 2:
        return np.arange(R), np.zeros(R, dtype=np.int64), np.ones(R, dtype=np.int64)
    if _ward_native is not None:  # the same loops in C: 10x faster on 2,700 leaves
        order, start, size = (np.empty(R, np.int64), np.empty(2 * R - 1, np.int64),
                              np.empty(2 * R - 1, np.int64))
        _ward_native.dendrogram_runs(R, np.ascontiguousarray(children, dtype=np.int64),
                                     order, start, size)
        return order, start, size
    return _dendrogram_runs_py(children, R)


def _dendrogram_runs_py(children: np.ndarray,
                        R: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_dendrogram_runs` in Python, where the C module is not built."""
    size = [1] * R + [0] * (R - 1)
    kids = children.tolist()
    for m, (a, b) in enumerate(kids):
        size[R + m] = size[a] + size[b]
    start = [0] * (2 * R - 1)
    for m in range(R - 2, -1, -1):  # the root first: a child starts where its left part ends
        a, b = kids[m]
        start[a] = start[R + m]
        start[b] = start[R + m] + size[a]
    order = np.empty(R, dtype=np.int64)
    order[start[:R]] = np.arange(R)
    return order, np.asarray(start, dtype=np.int64), np.asarray(size, dtype=np.int64)


def cut_runs(runs: tuple[np.ndarray, np.ndarray, np.ndarray], children: np.ndarray,
             n_clusters: int) -> np.ndarray:
    """:func:`cut_tree` from the tree's :func:`_dendrogram_runs`: the clusters after the first
    ``R - n_clusters`` merges are the nodes formed by then whose merge into a parent comes
    later, each one run of the dendrogram order, so a cut is a few array operations on the
    runs instead of pointer jumping over all nodes (a 2,700-leaf tree: 0.065 against 0.55 ms
    per cut, and each fold cuts its tree 20 times). Same labels, numbered in order of their
    smallest leaf."""
    order, start, size = runs
    R = order.size
    m = R - n_clusters
    if m >= R - 1:  # one cluster (or a single leaf)
        return np.zeros(R, dtype=np.int64)
    nodes = children[m:].ravel()
    nodes = nodes[nodes < R + m]  # formed by merge m - 1 at the latest, merged later
    nodes = nodes[np.argsort(start[nodes])]
    first = start[nodes]
    smallest = np.minimum.reduceat(order, first)  # each cluster's smallest leaf
    rank = np.empty(nodes.size, dtype=np.int64)
    rank[np.argsort(smallest, kind="stable")] = np.arange(nodes.size)
    return np.repeat(rank, size[nodes])[start[:R]]


def cut_tree(children: np.ndarray, n_leaves: int, n_clusters: int) -> np.ndarray:
    """Cluster of every leaf after the first ``n_leaves - n_clusters`` merges.

    Clusters are numbered in order of their smallest leaf.
    """
    R = n_leaves
    m = R - n_clusters
    parent = np.arange(2 * R - 1)
    if m > 0:
        new = R + np.arange(m)
        parent[children[:m, 0]] = new
        parent[children[:m, 1]] = new
    root = parent
    while True:
        nxt = root[root]
        if np.array_equal(nxt, root):
            break
        root = nxt
    _, first, labels = np.unique(root[:R], return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(first.size)
    return rank[labels.ravel()]
