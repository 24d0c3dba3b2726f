"""Clustering core of :class:`glassnet.RegionMerger`: count-weighted Ward under a graph.

The neighbour graph of region centres is computed once per fit (:class:`NeighbourGraph`, in
``_graph.py``) and restricted to the regions present in each cross-validation fold, so one
k-nearest-neighbour search serves every fold. The tree itself keeps one heap entry per
cluster (its cheapest live merge, from a list sorted once when the cluster is formed).
"""

from __future__ import annotations

import gc
import heapq
import math

import numpy as np
from sklearn.neighbors import NearestNeighbors

from glassnet.simplify._cut import _dendrogram_runs, cut_runs, cut_tree, dendrogram_order
from glassnet.simplify._graph import (  # imported here for callers, as _cut's are
    NeighbourGraph,
    connectivity_edges,
    sq_dist,
)

try:  # the merge loop in C (setup.py builds it where a compiler is found)
    from glassnet.simplify import _ward_native
except ImportError:  # pragma: no cover - exercised by tests/test_ward_native.py
    _ward_native = None

__all__ = [  # cut_tree and dendrogram_order live in _cut.py, the graph in _graph.py
    "FoldCut",
    "NeighbourGraph",
    "absorb_small",
    "connectivity_edges",
    "cut_tree",
    "dendrogram_order",
    "nearest_centroid",
    "nearest_row",
    "relabel_by_weight",
    "weighted_centroids",
    "weighted_ward_tree",
]

_NOT_CONNECTED = "The connectivity graph is not connected; cannot finish the tree."
_PY_FEATURES = 6  # longer LLM feature vectors: merge costs by NumPy (measured crossover)


def weighted_ward_tree(
    features: np.ndarray, weights: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Agglomerative Ward tree of weighted points, merging only along graph edges.

    Parameters
    ----------
    features : ndarray of shape (R, p)
    weights : ndarray of shape (R,)
        Positive masses (row counts of the regions).
    edges : ndarray of shape (E, 2)
        Which points may merge; the graph must be connected.

    Returns
    -------
    children : ndarray of shape (R - 1, 2)
        Merge ``m`` joins nodes ``children[m]`` into node ``R + m`` (leaves are ``0..R-1``),
        as in scikit-learn's ``AgglomerativeClustering.children_``.
    distances : ndarray of shape (R - 1,)
        ``sqrt(2 * increase of the weighted within-cluster sum of squares)`` of each merge
        (SciPy's Ward height; for unit weights the same tree as scikit-learn's Ward).

    Notes
    -----
    The heap holds, per live cluster, its cheapest merge with a neighbour; every cluster
    also keeps its merge costs to the neighbours it had when it was formed, sorted. When
    the partner of a popped entry is gone, the next live partner of that sorted list is
    pushed instead. This is exact: two clusters become neighbours only when the later one is
    formed, so the later one's sorted list holds their pair, and its heap entry never costs
    more than that pair; every live pair is thus bounded by some entry, and the smallest
    live entry popped is the cheapest merge of the whole graph.
    """
    F = np.ascontiguousarray(features, dtype=np.float64)
    if F.shape[0] < 2:
        return np.empty((0, 2), dtype=np.int64), np.empty(0)
    w = np.ascontiguousarray(weights, dtype=np.float64)
    lists = _sorted_neighbours(F, w, _checked_edges(edges, F.shape[0]))
    if _ward_native is not None:
        return _native_loop(F, w, *lists)
    return _python_loop(F, w, *lists)


def _checked_edges(edges: np.ndarray, R: int) -> np.ndarray:
    """``edges`` as int64 ``(E, 2)``, or a ValueError: indices outside ``0..R-1`` or an edge
    from a point to itself would corrupt the tree (a point merged with itself)."""
    e = np.asarray(edges)
    if e.ndim != 2 or e.shape[1] != 2 or (e.size and e.dtype.kind not in "iu"):
        raise ValueError(f"edges must be an (E, 2) array of integer indices; got shape "
                         f"{e.shape} of dtype {e.dtype}.")
    e = e.astype(np.int64)
    if e.size and (e.min() < 0 or e.max() >= R):
        raise ValueError(f"edges hold indices outside 0..{R - 1} (the {R} points).")
    if np.any(e[:, 0] == e[:, 1]):
        raise ValueError("edges join a point to itself; pass pairs of distinct points.")
    return e


def _sorted_neighbours(
    F: np.ndarray, w: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every leaf's neighbours sorted by merge cost (ties: smaller neighbour first), as one
    list: ``bounds`` ``(R + 1,)`` delimits leaf ``i``'s ``other[bounds[i]:bounds[i + 1]]``
    and their ``cost``. Sorted in C where it is built (a counting sort by leaf, then each
    short list: the same lists, 5-10x faster than the three passes of ``np.lexsort``)."""
    R = F.shape[0]
    a, b = edges[:, 0], edges[:, 1]
    cost = w[a] * w[b] / (w[a] + w[b]) * sq_dist(F[a], F[b])
    if _ward_native is not None and not np.isnan(cost).any():
        E = cost.size
        bounds, other, both = np.empty(R + 1, np.int64), np.empty(2 * E, np.int64), np.empty(2 * E)
        _ward_native.sorted_neighbours(R, np.ascontiguousarray(a), np.ascontiguousarray(b),
                                       cost, bounds, other, both)
        return bounds, other, both
    return _sorted_neighbours_numpy(R, a, b, cost)


def _sorted_neighbours_numpy(R: int, a: np.ndarray, b: np.ndarray,
                             cost: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_sorted_neighbours`' lists by ``np.lexsort``, where the C module is not built."""
    ends = np.concatenate([a, b])
    other = np.concatenate([b, a])
    both = np.concatenate([cost, cost])
    order = np.lexsort((other, both, ends))
    bounds = np.searchsorted(ends[order], np.arange(R + 1))
    return (bounds.astype(np.int64), np.ascontiguousarray(other[order], dtype=np.int64),
            np.ascontiguousarray(both[order]))


def _native_loop(F: np.ndarray, w: np.ndarray, bounds: np.ndarray, other: np.ndarray,
                 cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The merge loop compiled (``_ward_native.c``): the same tree as :func:`_python_loop`,
    bit for bit, without the GIL."""
    R, p = F.shape
    children = np.empty((R - 1, 2), dtype=np.int64)
    heights = np.empty(R - 1)
    if not _ward_native.ward_loop(R, p, F, w, bounds, other, cost, children, heights):
        raise ValueError(_NOT_CONNECTED)
    return children, heights


def _python_loop(F: np.ndarray, w: np.ndarray, bounds: np.ndarray, other: np.ndarray,
                 cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The merge loop in Python, where the compiled module was not built."""
    # the loop allocates many small lists and sets: with the garbage collector on, its
    # passes over every object of the process (torch, scikit-learn...) cost more than the tree
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _ward_loop(F, w, bounds.tolist(), other.tolist(), cost.tolist())
    finally:
        if enabled:
            gc.enable()


def _ward_loop(F: np.ndarray, w: np.ndarray, bounds: list[int], other_sorted: list[int],
               cost_sorted: list[float]) -> tuple[np.ndarray, np.ndarray]:
    R, p = F.shape
    n_nodes = 2 * R - 1
    partners: list[list[int] | None] = [None] * n_nodes
    costs: list[list[float] | None] = [None] * n_nodes
    # the neighbours of every live cluster, kept current: a merge renames its two clusters
    # in the sets of their neighbours (about 6 set operations per merge on CoCircles,
    # cheaper than resolving stale names through a union-find at every merge)
    adj: list[set[int] | None] = [None] * n_nodes
    ptr = [0] * n_nodes
    heap = []
    for i in range(R):
        lo, hi = bounds[i], bounds[i + 1]
        partners[i] = nbrs = other_sorted[lo:hi]
        adj[i] = set(nbrs)
        costs[i] = cost_sorted[lo:hi]
        if hi > lo:
            heap.append((cost_sorted[lo], i, other_sorted[lo]))
    heapq.heapify(heap)
    heappop, heappush = heapq.heappop, heapq.heappush
    active = [True] * R + [False] * (R - 1)
    # A cluster has about 6 neighbours (CoCircles), so NumPy calls on such short vectors cost
    # more than the arithmetic: centroids and merge costs are Python floats (the same
    # operations in the same order, so the same numbers) unless the vectors are long.
    mass = w.tolist() + [0.0] * (R - 1)
    # up to 4 features (binary classification on up to 3 inputs: CoCircles has 3), the
    # vectors are padded with zeros to 4 and the arithmetic written out: 2x less CPU than
    # a loop over the coordinates, and the same numbers (a zero coordinate adds exact zeros)
    tiny = p <= 4
    small = p <= _PY_FEATURES
    if tiny:
        F4 = np.zeros((R, 4))
        F4[:, :p] = F
        mu: list = list(map(tuple, F4.tolist())) + [None] * (R - 1)
    elif small:
        mu = F.tolist() + [None] * (R - 1)
    else:
        mu = np.empty((n_nodes, p))
    if not small:
        mu[:R] = F
        mass_arr = np.empty(n_nodes)
        mass_arr[:R] = w
    children: list[tuple[int, int]] = []
    heights: list[float] = []
    sqrt = math.sqrt

    for node in range(R, n_nodes):
        while True:
            if not heap:
                raise ValueError(_NOT_CONNECTED)
            c, i, j = heappop(heap)
            if not active[i]:
                continue
            if active[j]:
                break
            # the partner merged away: the next live partner of i's sorted list
            p_i, k = partners[i], ptr[i] + 1
            n_i = len(p_i)
            while k < n_i and not active[p_i[k]]:
                k += 1
            ptr[i] = k
            if k < n_i:
                heappush(heap, (costs[i][k], i, p_i[k]))
        active[i] = active[j] = False
        active[node] = True
        mi, mj = mass[i], mass[j]
        mn = mass[node] = mi + mj
        if tiny:
            x0, x1, x2, x3 = mu[i]
            z0, z1, z2, z3 = mu[j]
            u0, u1, u2, u3 = un = mu[node] = ((mi * x0 + mj * z0) / mn, (mi * x1 + mj * z1) / mn,
                                              (mi * x2 + mj * z2) / mn, (mi * x3 + mj * z3) / mn)
        elif small:
            un = mu[node] = [(mi * x + mj * z) / mn for x, z in zip(mu[i], mu[j], strict=True)]
        else:
            un = mu[node] = (mi * mu[i] + mj * mu[j]) / mn
            mass_arr[node] = mn
        nb = adj[i] | adj[j]
        nb.discard(i)
        nb.discard(j)
        for q in nb:
            s = adj[q]
            s.discard(i)
            s.discard(j)
            s.add(node)
        adj[node] = nb
        adj[i] = adj[j] = partners[i] = partners[j] = costs[i] = costs[j] = None
        children.append((i, j) if i < j else (j, i))
        heights.append(sqrt(2.0 * c) if c > 0.0 else 0.0)
        if not nb:
            continue
        if tiny:
            pairs = []
            for q in nb:
                mq = mass[q]
                x0, x1, x2, x3 = mu[q]
                d0, d1, d2, d3 = x0 - u0, x1 - u1, x2 - u2, x3 - u3
                pairs.append((mn * mq / (mn + mq) * (d0 * d0 + d1 * d1 + d2 * d2 + d3 * d3), q))
            pairs.sort()
            costs[node], partners[node] = zip(*pairs, strict=True)
        elif small:
            pairs = []
            for q in nb:
                mq = mass[q]
                ss = 0.0
                for x, z in zip(mu[q], un, strict=False):  # equal lengths (p)
                    ss += (x - z) * (x - z)
                pairs.append((mn * mq / (mn + mq) * ss, q))
            pairs.sort()
            partners[node] = [q for _, q in pairs]
            costs[node] = [cq for cq, _ in pairs]
        else:
            q = np.fromiter(nb, dtype=np.int64, count=len(nb))
            mq = mass_arr[q]
            cq = mn * mq / (mn + mq) * ((mu[q] - un) ** 2).sum(1)
            o = np.lexsort((q, cq))
            partners[node] = q[o].tolist()
            costs[node] = cq[o].tolist()
        heappush(heap, (costs[node][0], node, partners[node][0]))
    return np.asarray(children, dtype=np.int64).reshape(R - 1, 2), np.asarray(heights)


def absorb_small(
    labels: np.ndarray,
    weights: np.ndarray,
    features: np.ndarray,
    edges: np.ndarray,
    min_count: float,
) -> np.ndarray:
    """Absorb clusters lighter than ``min_count`` into a neighbour, the lightest first.

    The receiving cluster is the graph neighbour (any cluster if none touches) with the
    least Ward cost. Returns labels ``0..K'-1`` numbered by decreasing weight.
    """
    labels = labels.copy()
    K = int(labels.max()) + 1
    mass = np.bincount(labels, weights=weights, minlength=K)
    if mass.min() >= min_count:
        return relabel_by_weight(labels, weights)
    sums = np.stack(
        [np.bincount(labels, weights=weights * features[:, j], minlength=K)
         for j in range(features.shape[1])],
        axis=1,
    )
    alive = np.ones(K, dtype=bool)
    ea, eb = (edges[:, 0], edges[:, 1]) if len(edges) else (np.zeros(0, int), np.zeros(0, int))
    while alive.sum() > 1:
        live = np.flatnonzero(alive)
        g = int(live[np.argmin(mass[live])])
        if mass[g] >= min_count:
            break
        la, lb = labels[ea], labels[eb]
        nb = np.unique(np.concatenate([lb[la == g], la[lb == g]]))
        nb = nb[(nb != g) & alive[nb]]
        if nb.size == 0:
            nb = live[live != g]
        mu_g = sums[g] / mass[g]
        mu_nb = sums[nb] / mass[nb][:, None]
        cost = mass[g] * mass[nb] / (mass[g] + mass[nb]) * ((mu_nb - mu_g) ** 2).sum(axis=1)
        t = int(nb[np.argmin(cost)])
        labels[labels == g] = t
        mass[t] += mass[g]
        sums[t] += sums[g]
        alive[g] = False
    return relabel_by_weight(labels, weights)


def relabel_by_weight(labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Renumber clusters 0..K-1 by decreasing total weight (ties: smallest old label)."""
    # labels are small non-negative integers: the clusters present by one bincount (no
    # np.unique, which hashes first in NumPy 2: 5x slower on a fold's 2,500 regions)
    labels = np.asarray(labels, dtype=np.int64)
    K = int(labels.max()) + 1
    uniq = np.flatnonzero(np.bincount(labels, minlength=K))
    mass = np.bincount(labels, weights=weights, minlength=K)[uniq]
    order = np.lexsort((uniq, -mass))
    rank = np.empty(K, dtype=np.int64)
    rank[uniq[order]] = np.arange(uniq.size)
    return rank[labels]


def weighted_centroids(labels: np.ndarray, weights: np.ndarray, features: np.ndarray) -> np.ndarray:
    K = int(labels.max()) + 1
    mass = np.bincount(labels, weights=weights, minlength=K)
    out = np.empty((K, features.shape[1]))
    for j in range(features.shape[1]):
        out[:, j] = np.bincount(labels, weights=weights * features[:, j], minlength=K) / mass
    return out


def nearest_row(Q: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Index of the row of ``P`` nearest to each row of ``Q`` (Euclidean distance)."""
    return NearestNeighbors(n_neighbors=1).fit(P).kneighbors(Q, return_distance=False)[:, 0]


def nearest_centroid(F: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    zero = np.zeros((1, F.shape[1]))
    d2 = (sq_dist(F, zero)[:, None] - 2.0 * F @ centroids.T
          + sq_dist(centroids, zero)[None, :])  # (X**2).sum(1), bit for bit, faster
    return np.argmin(d2, axis=1).astype(np.int64)


class Hierarchy:
    """The Ward tree of the regions present in a set of rows, ready to be cut."""

    def __init__(
        self,
        row_labels: np.ndarray,
        F_all: np.ndarray,
        n_all: int,
        graph: NeighbourGraph,
        centres: np.ndarray | None = None,
    ) -> None:
        counts = np.bincount(row_labels, minlength=n_all).astype(np.float64)
        self.present = np.flatnonzero(counts > 0)
        self.weights = counts[self.present]
        self.features = F_all[self.present]
        self.n_all = n_all
        self.edges = graph.edges(
            self.present, None if centres is None else centres[self.present]
        )
        self.children, self.distances = weighted_ward_tree(
            self.features, self.weights, self.edges
        )
        # the dendrogram order and every node's run of it: every cut and fold uses them
        self.runs = _dendrogram_runs(self.children, self.n_leaves)

    @property
    def n_leaves(self) -> int:
        return int(self.present.size)

    def leaf_order(self) -> np.ndarray:
        """The present regions in dendrogram order (see :func:`dendrogram_order`)."""
        return self.runs[0]

    def cut(self, n_clusters: int) -> np.ndarray:
        """:func:`cut_tree` of this tree, by :func:`cut_runs`."""
        return cut_runs(self.runs, self.children, n_clusters)

    def leaf_labels(self, n_clusters: int, min_count: float) -> np.ndarray:
        """Merged region of every present region (numbered by decreasing weight)."""
        lab = self.cut(n_clusters)
        return absorb_small(lab, self.weights, self.features, self.edges, min_count)

    def groups(self, n_clusters: int, min_count: float) -> tuple[np.ndarray, np.ndarray]:
        """Merged region of every region (``-1`` where absent) and the merged centroids."""
        lab = self.leaf_labels(n_clusters, min_count)
        mapping = np.full(self.n_all, -1, dtype=np.int64)
        mapping[self.present] = lab
        return mapping, weighted_centroids(lab, self.weights, self.features)


class FoldCut:
    """A tree fitted on all training rows, seen from one cross-validation fold.

    Each cut of ``full`` (a :class:`Hierarchy` of every region) is restricted to the regions
    present in the fold's training rows (``row_labels``); merged regions without such rows
    drop out, and ``min_count`` is applied with the fold's own counts along the graph
    edges between present regions. The tree is built from ``X`` and the network only (never
    ``y``), so a fold sees no held-out target through it; this saves one Ward tree per fold.
    """

    def __init__(self, full: Hierarchy, row_labels: np.ndarray) -> None:
        counts = np.bincount(row_labels, minlength=full.n_all).astype(np.float64)
        in_fold = counts[full.present] > 0
        self.full = full
        self.leaf_idx = np.flatnonzero(in_fold)  # positions among the full tree's leaves
        self.present = full.present[in_fold]
        self.weights = counts[self.present]
        self.features = full.features[in_fold]
        self.n_all = full.n_all
        pos = np.full(full.n_leaves, -1, dtype=np.int64)
        pos[self.leaf_idx] = np.arange(self.leaf_idx.size)
        e = pos[full.edges] if len(full.edges) else np.zeros((0, 2), dtype=np.int64)
        self.edges = e[(e >= 0).all(axis=1)]

    @property
    def n_leaves(self) -> int:
        return int(self.present.size)

    def leaf_order(self) -> np.ndarray:
        """The fold's regions in the full tree's dendrogram order."""
        rank = np.empty(self.full.n_leaves, dtype=np.int64)
        rank[self.full.leaf_order()] = np.arange(self.full.n_leaves)
        return np.argsort(rank[self.leaf_idx], kind="stable")

    def leaf_labels(self, n_clusters: int, min_count: float) -> np.ndarray:
        """Merged region of every present region (numbered by decreasing weight)."""
        lab = self.full.cut(n_clusters)[self.leaf_idx]
        _, lab = np.unique(lab, return_inverse=True)
        return absorb_small(lab.ravel(), self.weights, self.features, self.edges, min_count)
