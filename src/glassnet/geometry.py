"""Geometry of activation regions: half-space representation and distance to the boundary.

Inside the region of an activation pattern ``P`` every hidden neuron's pre-activation is an
affine function of the input, ``z_i(x) = A_i x + c_i`` (:meth:`ReluNetwork.neuron_affine_maps`).
The region is the convex polytope where each neuron keeps its state::

    on  (P_i = 1):  A_i x + c_i >  0   <=>   -A_i x <= c_i   (closure)
    off (P_i = 0):  A_i x + c_i <= 0   <=>    A_i x <= -c_i

A point whose pre-activation is exactly 0 is filed as off (see :mod:`glassnet.network`), so
the off side includes its hyperplane; the on side is open, and the H-representation returned
here describes the region's closure.

Distance to the boundary
------------------------
For a point ``x`` inside a convex polytope ``{y : a_i y <= b_i}`` the Euclidean distance to
the complement (how far ``x`` can move before leaving) is ``min_i (b_i - a_i x) / ||a_i||``
over *all* the constraints. The complement is the union of the open half-spaces
``{a_i y > b_i}``, and the distance to a union is the smallest distance to its members, each
of which is the distance to its hyperplane. A redundant constraint's half-space lies inside
the union of the others, so it never attains the minimum alone: the minimum over all rows
equals the minimum over the non-redundant facets, and no linear program is needed.
:func:`boundary_distance` uses this, fully vectorised; the tests check it against the LP
facets and a brute-force line search.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linprog

from glassnet.io import as_network
from glassnet.network import ReluNetwork
from glassnet.regions import Regions, factorize_patterns

__all__ = ["region_halfspaces", "boundary_distance", "neuron_affine_maps_batched"]

# elements per chunk of the (patterns, H, d) tensor of affine maps
_CHUNK_ELEMS = 1 << 22


def neuron_affine_maps_batched(
    net: ReluNetwork, patterns: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`ReluNetwork.neuron_affine_maps` for many patterns at once.

    Parameters
    ----------
    net : ReluNetwork
    patterns : ndarray of bool, shape (R, H)

    Returns
    -------
    A : ndarray of shape (R, H, n_features)
    c : ndarray of shape (R, H)
    """
    At, c = _affine_maps_t(net, np.asarray(patterns, dtype=bool))
    return np.ascontiguousarray(At.transpose(0, 2, 1)), c


def _affine_maps_t(net: ReluNetwork, P: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradients as ``(R, d, H)``: each layer is then one (R d, h) x (h, h') matrix product."""
    R, H, d = P.shape[0], net.n_hidden, net.n_features
    At = np.empty((R, d, H))
    c = np.empty((R, H))
    offs = net.layer_offsets
    W, b = net.weights, net.biases
    Mt = np.broadcast_to(W[0].T, (R, d, W[0].shape[0]))
    v = np.broadcast_to(b[0], (R, b[0].shape[0]))
    for layer in range(len(net.hidden_sizes)):
        At[:, :, offs[layer] : offs[layer + 1]] = Mt
        c[:, offs[layer] : offs[layer + 1]] = v
        if layer + 1 == len(net.hidden_sizes):
            break
        on = P[:, offs[layer] : offs[layer + 1]]
        h = on.shape[1]
        Mt = ((Mt * on[:, None, :]).reshape(R * d, h) @ W[layer + 1].T).reshape(R, d, -1)
        v = (v * on) @ W[layer + 1].T + b[layer + 1]
    return At, c


# ---------------------------------------------------------------------- half-spaces
def _pattern_of(net: ReluNetwork, pattern_or_x: Any, regions: Regions | None) -> np.ndarray:
    H, d = net.n_hidden, net.n_features
    if isinstance(pattern_or_x, (int, np.integer)) and not isinstance(pattern_or_x, bool):
        if regions is None:
            raise TypeError(
                "An integer selects a region only when a Regions object is passed as net; "
                "otherwise pass a boolean activation pattern or a point x."
            )
        if not 0 <= pattern_or_x < len(regions):
            raise ValueError(f"region must be in 0..{len(regions) - 1}; got {pattern_or_x}.")
        return regions.patterns[int(pattern_or_x)]
    arr = np.asarray(pattern_or_x)
    if arr.dtype == bool:
        if arr.shape != (H,):
            raise ValueError(f"A pattern must have shape ({H},); got {arr.shape}.")
        return arr
    if arr.ndim == 1 and arr.shape[0] == d:
        return net.activation_patterns(arr[None, :])[0]
    if arr.ndim == 1 and arr.shape[0] == H and np.isin(arr, (0, 1)).all():
        return arr.astype(bool)
    raise ValueError(
        f"pattern_or_x must be a boolean activation pattern of shape ({H},) or a point of "
        f"shape ({d},); got shape {arr.shape}."
    )


def _box_rows(bounds: Any, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    try:
        lo, hi = bounds
    except (TypeError, ValueError) as exc:
        raise ValueError("bounds must be a pair (lower, upper) of scalars or arrays.") from exc
    lo = np.broadcast_to(np.asarray(lo, dtype=np.float64), (d,))
    hi = np.broadcast_to(np.asarray(hi, dtype=np.float64), (d,))
    if np.isnan(lo).any() or np.isnan(hi).any() or (lo > hi).any():
        raise ValueError("bounds must satisfy lower <= upper (no NaN) for every feature.")
    eye = np.eye(d)
    up, dn = np.isfinite(hi), np.isfinite(lo)
    A = np.concatenate([eye[up], -eye[dn]])
    c = np.concatenate([hi[up], -lo[dn]])
    src = np.concatenate([np.flatnonzero(up), d + np.flatnonzero(dn)])
    return A, c, src


def region_halfspaces(
    net: Any,
    pattern_or_x: Any,
    *,
    bounds: Any = None,
    remove_redundant: bool = True,
    return_source: bool = False,
    tol: float = 1e-7,
) -> tuple[np.ndarray, ...]:
    """Half-space (H-)representation ``A x <= c`` of one activation region.

    Parameters
    ----------
    net : ReluNetwork, Regions, or a model :func:`glassnet.io.as_network` accepts
    pattern_or_x : bool array of shape (H,), point of shape (n_features,), or int
        The region: an activation pattern (pass a *boolean* array), a point inside it, or,
        when ``net`` is a :class:`Regions`, a region index.
    bounds : (lower, upper), optional
        Intersect the region with the box ``lower <= x <= upper`` (scalars or arrays of
        shape (n_features,); infinite entries add no constraint).
    remove_redundant : bool, default True
        Drop constraints that do not touch the region (linear programs solved with HiGHS;
        facets are first certified cheaply by shooting rays from an interior point, and
        rows that cannot reach the region's bounding box are dropped without an LP).
    return_source : bool, default False
        Also return, per row, where it comes from: the neuron index ``0..H-1`` (network
        order), ``H + j`` for the upper bound of feature ``j``, ``H + d + j`` for its lower
        bound.
    tol : float, default 1e-7
        Slack below which a constraint counts as touching the region (HiGHS's own feasibility
        tolerance is 1e-7, so facets thinner than this may be dropped).

    Returns
    -------
    A : ndarray of shape (m, n_features)
        Rows of unit Euclidean norm, so ``c - A @ x`` is the distance from ``x`` to each
        hyperplane.
    c : ndarray of shape (m,)
    source : ndarray of shape (m,), only with ``return_source``

    Raises
    ------
    ValueError
        If the pattern is not realisable (its region is empty or has no interior).

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork, region_halfspaces
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> A, c = region_halfspaces(net, np.array([1.0, -1.0]))   # x0 > 0, x1 <= 0
    >>> A, c
    (array([[-1.,  0.],
           [ 0.,  1.]]), array([0., 0.]))
    """
    regions = net if isinstance(net, Regions) else None
    net = as_network(net)
    d, H = net.n_features, net.n_hidden
    P = _pattern_of(net, pattern_or_x, regions)
    if not tol > 0:
        raise ValueError(f"tol must be positive; got {tol}.")
    A, c = net.neuron_affine_maps(P)
    s = np.where(P, -1.0, 1.0)
    G = s[:, None] * A
    h = -s * c
    norms = np.linalg.norm(G, axis=1)
    scale = max(1.0, float(norms.max(initial=0.0)))
    flat = norms <= 1e-14 * scale
    # a neuron constant on the region: its constraint is 0 <= h (strictly 0 < h when on)
    bad = flat & ((h < 0) | (P & (h <= 0)))
    if bad.any():
        raise ValueError(
            f"The activation pattern is not realisable: neuron {int(np.flatnonzero(bad)[0])} is "
            "constant on the region with the wrong sign, so the region is empty."
        )
    keep = ~flat
    G, h, src = G[keep] / norms[keep, None], h[keep] / norms[keep], np.flatnonzero(keep)
    if bounds is not None:
        Ab, cb, sb = _box_rows(bounds, d)
        G, h, src = np.concatenate([G, Ab]), np.concatenate([h, cb]), np.concatenate([src, H + sb])
    if remove_redundant and G.shape[0] > 0:
        sel = _non_redundant(G, h, tol)
        G, h, src = G[sel], h[sel], src[sel]
    G, h = G + 0.0, h + 0.0  # no negative zeros
    return (G, h, src) if return_source else (G, h)


def _interior_point(G: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, float]:
    """Chebyshev-like centre: maximise the smallest slack t (capped at 1) of unit-norm rows."""
    m, d = G.shape
    res = linprog(
        np.r_[np.zeros(d), -1.0],
        A_ub=np.column_stack([G, np.ones(m)]),
        b_ub=h,
        bounds=[(None, None)] * d + [(None, 1.0)],
        method="highs",
    )
    if res.status == 2:
        raise ValueError("The activation pattern is not realisable: its region is empty.")
    if res.status != 0:
        raise RuntimeError(f"Linear program for an interior point failed: {res.message}")
    return res.x[:d], float(res.x[d])


def _non_redundant(G: np.ndarray, h: np.ndarray, tol: float) -> np.ndarray:
    """Boolean mask of the rows of ``G x <= h`` (unit-norm rows) that touch the polytope."""
    m, d = G.shape
    x0, t = _interior_point(G, h)
    if t <= tol:
        raise ValueError(
            "The region has no interior (it is lower-dimensional or empty), so its facets are "
            "not well defined."
        )
    facet = np.zeros(m, dtype=bool)
    redundant = np.zeros(m, dtype=bool)
    # rays from x0: the first hyperplane each ray crosses is a facet
    rng = np.random.default_rng(0)
    dirs = np.concatenate([G, rng.standard_normal((max(64, 8 * d), d))])
    slack = h - G @ x0
    rate = dirs @ G.T  # (rays, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        hit = np.where(rate > 0, slack / rate, np.inf)
    first = hit.argmin(axis=1)
    facet[first[np.isfinite(hit[np.arange(hit.shape[0]), first])]] = True
    # a row that cannot reach even the region's bounding box is redundant (strict test, so
    # duplicated facets are never both dropped here)
    todo = ~facet
    if todo.sum() > 2 * d:
        lo, hi = _bounding_box(G, h)
        with np.errstate(invalid="ignore"):
            reach = np.where(G > 0, G * hi, G * lo)
            reach = np.where(G == 0, 0.0, reach).sum(axis=1)
        redundant |= todo & (reach < h - tol)
    # the rest: maximise g_i x over the other active rows (row i relaxed); remove as found
    active = ~redundant
    for i in np.flatnonzero(~facet & ~redundant):
        rhs = h.copy()
        rhs[i] += 1.0
        res = linprog(-G[i], A_ub=G[active], b_ub=rhs[active], bounds=[(None, None)] * d,
                      method="highs")
        if res.status == 0 and -res.fun <= h[i] + tol:
            active[i] = False
        elif res.status not in (0, 3):
            raise RuntimeError(f"Redundancy linear program failed: {res.message}")
    return active


def _bounding_box(G: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = G.shape[1]
    lo, hi = np.full(d, -np.inf), np.full(d, np.inf)
    for j in range(d):
        for sign in (1.0, -1.0):
            cost = np.zeros(d)
            cost[j] = sign
            res = linprog(cost, A_ub=G, b_ub=h, bounds=[(None, None)] * d, method="highs")
            if res.status == 0:
                if sign > 0:
                    lo[j] = res.fun
                else:
                    hi[j] = -res.fun
    return lo, hi


# ---------------------------------------------------------------------- boundary distance
def boundary_distance(
    net: Any,
    X: Any,
    *,
    return_neuron: bool = False,
    chunk_size: int | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Euclidean distance from each row to the boundary of its own activation region.

    This is how far the input can move, in any direction, before some neuron changes state
    and with it the local linear model. It is exact (see the module docstring): the
    minimum over the region's constraints of ``|z_i(x)| / ||A_i||``, where ``z_i(x)`` is
    neuron ``i``'s pre-activation and ``A_i`` its gradient on the region; this equals the
    minimum over the non-redundant facets. Computed for many rows at once: the gradients
    are computed once per distinct pattern in each chunk.

    Distances are in the units of ``X``; standardise the features first if they have
    different scales. A row whose region is all of input space (no neuron depends on the
    input there) gets ``inf``; a row exactly on a boundary (a pre-activation exactly 0) gets 0.

    Parameters
    ----------
    net : ReluNetwork, Regions, or a model :func:`glassnet.io.as_network` accepts
    X : array-like of shape (n_samples, n_features)
    return_neuron : bool, default False
        Also return the index (network order) of the neuron whose hyperplane is nearest,
        ``-1`` where the distance is infinite.
    chunk_size : int, optional
        Rows per chunk.

    Returns
    -------
    distance : ndarray of shape (n_samples,)
    neuron : ndarray of shape (n_samples,), only with ``return_neuron``

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork, boundary_distance
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> boundary_distance(net, np.array([[3.0, -1.0], [0.5, 2.0]]))
    array([1. , 0.5])
    """
    net = as_network(net)
    X = net.check_input(X)
    n, H, d = X.shape[0], net.n_hidden, net.n_features
    dist = np.full(n, np.inf)
    nearest = np.full(n, -1, dtype=np.int64)
    if H == 0:
        return (dist, nearest) if return_neuron else dist
    step = chunk_size or max(256, _CHUNK_ELEMS // max(1, H * d))
    if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 1:
        raise ValueError(f"chunk_size must be a positive integer or None; got {chunk_size!r}.")
    W, b = net.weights, net.biases
    for s in range(0, n, step):
        Xc = X[s : s + step]
        z = np.empty((Xc.shape[0], H))
        a, off = Xc, 0
        for Wl, bl in zip(W[:-1], b[:-1], strict=True):
            zl = a @ Wl.T
            zl += bl
            z[:, off : off + zl.shape[1]] = zl
            off += zl.shape[1]
            a = np.maximum(zl, 0.0)
        codes, first = factorize_patterns(np.packbits(z > 0.0, axis=1))
        At, _ = _affine_maps_t(net, z[first] > 0.0)
        with np.errstate(divide="ignore"):
            inv = 1.0 / np.sqrt(np.einsum("rdh,rdh->rh", At, At))  # inf for flat neurons
        np.abs(z, out=z)
        z *= inv[codes]
        z[np.isnan(z)] = np.inf  # a flat neuron at exactly 0 (0 * inf) never bounds the region
        ratio = z
        j = ratio.argmin(axis=1)
        dd = ratio[np.arange(ratio.shape[0]), j]
        dist[s : s + step] = dd
        nearest[s : s + step] = np.where(np.isfinite(dd), j, -1)
    return (dist, nearest) if return_neuron else dist
