"""The connectivity graph of the merger's Ward tree: the k-nearest-neighbour graph of the
region centres, symmetrised and joined into one component, restricted to a fold's regions and
ranked by the fold's own centres (:class:`NeighbourGraph`). The choice of each point's first
``k`` neighbours runs in C where ``_ward_native`` is built (the same edges as the NumPy
version kept here as the fallback, ``tests/test_ward_native.py``)."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.neighbors import NearestNeighbors

try:  # the compiled loops (setup.py builds them where a compiler is found)
    from glassnet.simplify import _ward_native
except ImportError:  # pragma: no cover - exercised by tests/test_ward_native.py
    _ward_native = None

__all__ = ["NeighbourGraph", "connectivity_edges", "sq_dist"]

_MAX_FULL_GRAPH = 3000


def _components(edges: np.ndarray, R: int) -> tuple[int, np.ndarray]:
    """Number of connected components of the undirected graph ``edges`` ``(E, 2)`` on ``R``
    nodes, and each node's component (node 0's is 0): by union-find in C where it is built,
    else by SciPy (30x slower on a fold's graph: it builds a sparse matrix first)."""
    if _ward_native is not None:
        comp = np.empty(R, dtype=np.int64)
        n = _ward_native.components(R, np.ascontiguousarray(edges[:, 0], dtype=np.int64),
                                    np.ascontiguousarray(edges[:, 1], dtype=np.int64), comp)
        return n, comp
    return _components_scipy(edges, R)


def _components_scipy(edges: np.ndarray, R: int) -> tuple[int, np.ndarray]:
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(R, R))
    return connected_components(graph, directed=False)


def _join_components(centres: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Add edges until the graph is connected: each time, the component of point 0 is
    joined to the closest point outside it."""
    R = centres.shape[0]
    while True:
        n_comp, comp = _components(edges, R)
        if n_comp == 1:
            return edges.astype(np.int64)
        inside = np.flatnonzero(comp == 0)
        outside = np.flatnonzero(comp != 0)
        if inside.size > outside.size:  # query with the smaller side: same closest pair
            inside, outside = outside, inside
        nn_out = NearestNeighbors(n_neighbors=1).fit(centres[outside])
        dist, idx = nn_out.kneighbors(centres[inside])
        best = int(np.argmin(dist[:, 0]))
        p, q = int(inside[best]), int(outside[idx[best, 0]])
        edges = np.vstack([edges, [[min(p, q), max(p, q)]]])


def _edges_from_neighbours(neighbours: np.ndarray, k: int,
                           centres: np.ndarray | None = None) -> np.ndarray:
    """Undirected edges ``i < j`` from the first ``k`` non-self entries of each row (``-1``:
    no entry), sorted. With ``centres`` the entries are first re-ranked by the distances
    between the centres (a stable sort: ties keep the entries' order). Selected in C where
    it is built (the same edges; 2,500 points of 31 candidates ranked: 0.3 against 2 ms)."""
    R, m = neighbours.shape
    if _ward_native is not None:
        a, b = np.empty(R * k, np.int64), np.empty(R * k, np.int64)
        n = _ward_native.first_neighbours(
            R, m, 0 if centres is None else centres.shape[1], k,
            np.ascontiguousarray(neighbours, dtype=np.int64), centres, a, b)
        if n >= 0:  # -2: a distance is NaN; NumPy's sort decides where it goes
            return _unique_pairs(a[:n], b[:n], R)
    if centres is not None:
        neighbours = _ranked_numpy(neighbours, centres)
    return _edges_from_neighbours_numpy(neighbours, k)


def _edges_from_neighbours_numpy(neighbours: np.ndarray, k: int) -> np.ndarray:
    """:func:`_edges_from_neighbours` in NumPy, where the C module is not built."""
    R = neighbours.shape[0]
    own = neighbours == np.arange(R)[:, None]
    valid = (neighbours >= 0) & ~own
    rank = np.cumsum(valid, axis=1)
    keep = valid & (rank <= k)
    a = np.broadcast_to(np.arange(R)[:, None], neighbours.shape)[keep]
    return _unique_pairs(a, neighbours[keep], R)


def _unique_pairs(a: np.ndarray, b: np.ndarray, R: int) -> np.ndarray:
    """The distinct undirected pairs ``(min, max)`` of ``a[e], b[e]`` (indices below ``R``),
    sorted, as ``(E, 2)`` int64."""
    if a.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    # one int64 key per pair, sorted, repeats dropped (np.unique: 10x slower with axis=0,
    # which sorts structured rows, and 25x on the keys, where NumPy 2 hashes them first)
    key = np.sort(np.minimum(a, b).astype(np.int64) * R + np.maximum(a, b))
    key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    return np.column_stack([key // R, key % R])


def connectivity_edges(centres: np.ndarray, n_neighbors: int | None) -> np.ndarray:
    """Undirected edges ``(E, 2)`` (``i < j``) of a connected graph on the points.

    ``n_neighbors=None`` gives the complete graph. Otherwise the k-nearest-neighbour graph,
    symmetrised; if it falls apart, components are joined through their closest points.
    """
    R = centres.shape[0]
    if R < 2:
        return np.zeros((0, 2), dtype=np.int64)
    if n_neighbors is None:
        i, j = np.triu_indices(R, k=1)
        return np.column_stack([i, j]).astype(np.int64)
    k = min(n_neighbors, R - 1)
    _, ind = NearestNeighbors(n_neighbors=k + 1).fit(centres).kneighbors(centres)
    return _join_components(centres, _edges_from_neighbours(ind, k))


def sq_dist(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``((A - B) ** 2).sum(axis=-1)``, bit for bit, faster for few columns.

    Below 8 columns NumPy sums each row's few squares in a plain loop, but over an inner
    axis that short its reduction costs 5-10x more than the arithmetic; adding the columns'
    squares one column at a time does the same additions in the same order.
    """
    p = A.shape[-1]
    if p == 0 or p >= 8:
        return ((A - B) ** 2).sum(axis=-1)
    out = np.square(A[..., 0] - B[..., 0])
    for j in range(1, p):
        out += np.square(A[..., j] - B[..., j])
    return out


class NeighbourGraph:
    """The k-nearest-neighbour lists of all region centres, restricted on demand.

    ``n_neighbors=None`` means the complete graph. Restricted to a subset of regions (those
    present in a training fold), each region keeps the ``k`` present regions nearest to it
    among its ``3 k`` nearest overall, ranked by the distances between the *fold's* centres
    when they are given (a region's centre moves when some of its rows are held out);
    components left apart are then joined through their closest points, as in
    :func:`connectivity_edges`.
    """

    def __init__(self, centres: np.ndarray, n_neighbors: int | None) -> None:
        self.centres = centres
        self.k = n_neighbors
        R = centres.shape[0]
        self._ind = None
        if n_neighbors is not None and R > 1:
            m = min(3 * n_neighbors + 1, R)
            _, self._ind = NearestNeighbors(n_neighbors=m).fit(centres).kneighbors(centres)

    def edges(self, present: np.ndarray, centres: np.ndarray | None = None) -> np.ndarray:
        """Edges among ``present`` (indices into the centres), numbered ``0..len(present)-1``.

        ``centres`` (``(len(present), d)``, same units as the graph's) rank the candidate
        neighbours and join components; default: the graph's own centres.
        """
        P = present.size
        if P < 2:
            return np.zeros((0, 2), dtype=np.int64)
        if self.k is None:
            if P > _MAX_FULL_GRAPH:
                raise ValueError(
                    f"connectivity=None clusters all {P} regions on a complete graph, which is "
                    f"limited to {_MAX_FULL_GRAPH} regions; pass connectivity=k (an integer) "
                    "instead."
                )
            i, j = np.triu_indices(P, k=1)
            return np.column_stack([i, j]).astype(np.int64)
        pos = np.full(self.centres.shape[0], -1, dtype=np.int64)
        pos[present] = np.arange(P)
        local = pos[self._ind[present]]  # -1 where the neighbour is absent
        if centres is None:
            centres, rank_by = self.centres[present], None
        else:
            centres = rank_by = np.ascontiguousarray(centres, dtype=np.float64)
        return _join_components(centres,
                                _edges_from_neighbours(local, min(self.k, P - 1), rank_by))


def _ranked_numpy(local: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Each row's entries re-ranked by the distances between ``centres`` (a stable sort),
    absent and self entries marked ``-1``: NumPy's ranking, where the C module is not built."""
    P = local.shape[0]
    valid = (local >= 0) & (local != np.arange(P)[:, None])
    d2 = sq_dist(centres[:, None, :], centres[np.maximum(local, 0)])
    d2[~valid] = np.inf
    order = np.argsort(d2, axis=1, kind="stable")
    return np.take_along_axis(np.where(valid, local, -1), order, axis=1)
