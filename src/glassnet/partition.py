"""Exact partition of a 2-D input box into the activation regions of a ReLU network.

:func:`partition_2d` returns every activation region of a network inside a box as a convex
polygon, with its activation pattern, its exact local linear model (LLM), its area and the
pieces of the decision boundary it holds. No grid is sampled: the polygons are computed by
cutting the box with the network's neuron lines ("recursive oblique partitioning").
:class:`PartitionDisplay` draws the result.

Algorithm
---------
The box is the first polygon. Every polygon carries the affine map from the plane
coordinates ``(a, b)`` to the pre-activations of the current hidden layer,
``z(a, b) = M_p @ [a, b] + m_p``; inside one polygon of the partition by the layers below,
this map is exact. For each layer:

1. a bounding-box test finds, for every polygon, the neurons whose line may cross it;
2. the neurons are taken one at a time; the candidate polygons (vectorised) evaluate the
   neuron at their vertices, and those with vertices strictly on both sides are clipped
   into a positive and a negative piece (Sutherland-Hodgman against one line, on padded
   vertex arrays); pieces inherit their parent's map, which is exact for the whole layer;
3. after all neurons of the layer, no polygon is crossed by any of its neurons, so each
   polygon's on/off state is read at an interior point (the mean of its vertices), and
   the map is composed with the layer: ``M <- W[l+1] diag(on) M`` (maps are stored as
   ``(P, 3, n)`` blocks ``[dz/da; dz/db; z(0)]``, so this is one matrix product).

After the last hidden layer the composed map is the region's LLM in plane coordinates;
the input-space LLM of a plane slice comes from :meth:`ReluNetwork.local_linear_models`.

Tolerance for degenerate cuts
-----------------------------
In floating point, a neuron's line that passes exactly through a vertex, or runs along an
edge, gives values like ``1e-17`` instead of 0 at those vertices. A vertex therefore counts
as *on* the line when ``|z| <= tol * s`` with ``s = |dz/da| max|a| + |dz/db| max|b| + |z(0)|``
(the size of the terms summed to evaluate ``z`` over the box, the natural scale of its
rounding error) and the default ``tol = 1e-9``. A polygon is cut only by a neuron that is
beyond this tolerance on *both* sides at some of its vertices, so two identical neurons,
a line through a box corner or along an edge, and neurons with zero weights create no
slivers; since every cut replaces a polygon by two pieces that cover it exactly, no gaps
appear either. A neuron whose value at the interior point is within the tolerance of zero
is off, as :meth:`ReluNetwork.activation_patterns` files an exact 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from glassnet.network import ReluNetwork

__all__ = ["Partition2D", "PartitionDisplay", "partition_2d"]

_DEFAULT_TOL = 1e-9
# Polygons per block when composing the per-polygon maps (bounds temporary memory).
_BLOCK = 8192


# ---------------------------------------------------------------------- validation
def _check_bounds(bounds: Any) -> np.ndarray:
    try:
        B = np.asarray(bounds, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"bounds must be ((x0, x1), (y0, y1)) with numbers; got {bounds!r}."
        ) from exc
    if B.shape != (2, 2):
        raise ValueError(f"bounds must be ((x0, x1), (y0, y1)); got shape {B.shape}.")
    if not np.isfinite(B).all():
        raise ValueError("bounds must be finite numbers.")
    if not (B[0, 0] < B[0, 1] and B[1, 0] < B[1, 1]):
        raise ValueError(
            f"The box {B.tolist()} is empty or inverted; pass ((x0, x1), (y0, y1)) with "
            "x0 < x1 and y0 < y1."
        )
    with np.errstate(over="ignore", under="ignore"):
        area = (B[0, 1] - B[0, 0]) * (B[1, 1] - B[1, 0])
    if not np.isfinite(area):
        raise ValueError(
            f"The box {B.tolist()} has an area that overflows float64 (x1 - x0 and y1 - y0 "
            "must multiply to less than 1.8e308); pass a smaller box."
        )
    if area <= 0.0 or np.nextafter(B[0, 0], B[0, 1]) >= B[0, 1] or (
        np.nextafter(B[1, 0], B[1, 1]) >= B[1, 1]
    ):
        raise ValueError(
            f"The box {B.tolist()} is degenerate: its area underflows float64 or a side "
            "spans a single float; pass a box with a measurable area."
        )
    return B


def _check_plane(plane: Any, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``origin`` (d,) and ``U`` (d, 2) for a plane ``(origin, u, v)``."""
    if plane is None:
        if d != 2:
            raise ValueError(
                f"The network has {d} input features; partition_2d needs 2, or a 2-D slice "
                "given by plane=(origin, u, v) (x = origin + a*u + b*v)."
            )
        return np.zeros(2), np.eye(2)
    if not isinstance(plane, (tuple, list)) or len(plane) != 3:
        raise TypeError("plane must be a tuple (origin, u, v) of three vectors.")
    parts = []
    for name, vec in zip(("origin", "u", "v"), plane, strict=True):
        try:
            a = np.asarray(vec, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"plane {name} must be a numeric vector.") from exc
        if a.shape != (d,):
            raise ValueError(f"plane {name} must have shape ({d},); got {a.shape}.")
        if not np.isfinite(a).all():
            raise ValueError(f"plane {name} contains NaN or infinity.")
        parts.append(a)
    origin, u, v = parts
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        raise ValueError("plane directions u and v must be non-zero vectors.")
    cos = abs(u @ v) / (nu * nv)
    if 1.0 - cos <= 1e-12:
        raise ValueError(
            "plane directions u and v are parallel (the plane is degenerate); pass two "
            "linearly independent directions."
        )
    return origin, np.stack([u, v], axis=1)


def _check_tol(tol: Any) -> float:
    if isinstance(tol, bool) or not isinstance(tol, (int, float, np.floating, np.integer)):
        raise TypeError(f"tol must be a float; got {tol!r}.")
    tol = float(tol)
    if not (np.isfinite(tol) and 0.0 <= tol < 1e-3):
        raise ValueError(f"tol must lie in [0, 1e-3); got {tol}.")
    return tol


def _decision_level(net: ReluNetwork, threshold: Any) -> float | None:
    """The raw-output level of the decision boundary (None: no boundary or argmax)."""
    if net.output == "softmax":
        if threshold is not None:
            raise ValueError(
                "threshold has no meaning for a softmax output: its decision boundary is "
                "where the predicted class (argmax) changes. Leave threshold=None."
            )
        return None
    if threshold is None:
        return 0.0 if net.output == "sigmoid" else None
    if isinstance(threshold, bool) or not np.isscalar(threshold):
        raise TypeError(f"threshold must be a number; got {threshold!r}.")
    t = float(threshold)
    if net.output == "sigmoid":
        if not 0.0 < t < 1.0:
            raise ValueError(f"threshold is a probability for a sigmoid output; got {t}.")
        return float(np.log(t) - np.log1p(-t))
    if not np.isfinite(t):
        raise ValueError("threshold must be finite.")
    return t


# ---------------------------------------------------------------------- polygon kernels
def _compact(pts: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gather the kept points of each row, in order, padded with the last kept point."""
    K = pts.shape[0]
    cnt = keep.sum(axis=1)
    width = int(cnt.max())
    pos = np.cumsum(keep, axis=1) - 1
    rows, cols = np.nonzero(keep)
    out = np.empty((K, width, 2))
    out[rows, pos[rows, cols]] = pts[rows, cols]
    fill = np.minimum(np.arange(width)[None, :], cnt[:, None] - 1)
    return out[np.arange(K)[:, None], fill], cnt


def _edge_crossings(
    pv: np.ndarray, f: np.ndarray, s: np.ndarray, cnt: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where an affine function changes sign along each polygon edge.

    ``pv`` (K, V, 2) padded vertices, ``f`` (K, V) the function there, ``s`` its sign with
    the tolerance applied, ``cnt`` (K,) vertex counts. Returns the crossing point on every
    edge (K, V, 2) (meaningful only where ``cross``), ``cross`` (K, V) for edges whose ends
    have strictly opposite signs, and ``valid`` (K, V) marking real (unpadded) vertices.
    """
    nxt = np.roll(pv, -1, axis=1)
    fn = np.roll(f, -1, axis=1)
    cross = (s * np.roll(s, -1, axis=1)) < 0
    t = np.zeros_like(f)
    np.divide(f, f - fn, out=t, where=cross)
    xp = pv + t[..., None] * (nxt - pv)
    valid = np.arange(pv.shape[1])[None, :] < cnt[:, None]
    return xp, cross, valid


def _clip(
    pv: np.ndarray, cnt: np.ndarray, f: np.ndarray, s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split convex polygons by the zero line of an affine function.

    ``pv`` (K, V, 2) are vertices in order, padded by repeating the last one (so the edge
    from column V-1 to column 0 is the closing edge and padding edges have length 0);
    ``f`` (K, V) the function at the vertices and ``s`` its sign with the tolerance
    applied (0 = on the line). Returns the positive and the negative pieces.
    """
    V = pv.shape[1]
    xp, cross, valid = _edge_crossings(pv, f, s, cnt)
    pts = np.stack([pv, xp], axis=2).reshape(pv.shape[0], 2 * V, 2)
    keep_pos = np.stack([valid & (s >= 0), cross], axis=2).reshape(-1, 2 * V)
    keep_neg = np.stack([valid & (s <= 0), cross], axis=2).reshape(-1, 2 * V)
    pos, pcnt = _compact(pts, keep_pos)
    neg, ncnt = _compact(pts, keep_neg)
    return pos, pcnt, neg, ncnt


def _fit_width(pieces: np.ndarray, width: int) -> np.ndarray:
    """Pad (by repeating the last column) or keep ``pieces`` to ``width`` columns."""
    w = pieces.shape[1]
    if w == width:
        return pieces
    return np.concatenate([pieces, np.repeat(pieces[:, -1:], width - w, axis=1)], axis=1)


class _PolygonStore:
    """Growable padded array of polygons; the last column always holds the last vertex."""

    def __init__(self, verts: np.ndarray, counts: np.ndarray, owner: np.ndarray) -> None:
        self.n = verts.shape[0]
        cap = max(16, 2 * self.n)
        self.verts = np.empty((cap, verts.shape[1], 2))
        self.verts[: self.n] = verts
        self.counts = np.empty(cap, dtype=np.int64)
        self.counts[: self.n] = counts
        self.owner = np.empty(cap, dtype=np.int64)
        self.owner[: self.n] = owner

    @property
    def width(self) -> int:
        return self.verts.shape[1]

    def _widen(self, width: int) -> None:
        if width > self.width:
            self.verts = _fit_width(self.verts, width)

    def replace(self, idx: np.ndarray, pieces: np.ndarray, cnt: np.ndarray) -> None:
        self._widen(pieces.shape[1])
        self.verts[idx] = _fit_width(pieces, self.width)
        self.counts[idx] = cnt

    def append(self, pieces: np.ndarray, cnt: np.ndarray, owner: np.ndarray) -> None:
        self._widen(pieces.shape[1])
        k = pieces.shape[0]
        if self.n + k > self.verts.shape[0]:
            cap = max(2 * self.verts.shape[0], self.n + k)
            for name in ("verts", "counts", "owner"):
                old = getattr(self, name)
                new = np.empty((cap, *old.shape[1:]), dtype=old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        self.verts[self.n : self.n + k] = _fit_width(pieces, self.width)
        self.counts[self.n : self.n + k] = cnt
        self.owner[self.n : self.n + k] = owner
        self.n += k


def _split_layer(
    verts: np.ndarray,
    counts: np.ndarray,
    F: np.ndarray,
    thr: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut every polygon ``p`` by the lines ``a F[p, 0] + b F[p, 1] + F[p, 2] = 0``.

    ``F`` (P, 3, n) holds each polygon's map to the layer's pre-activations, ``thr``
    (P, n) the zero tolerance per polygon and neuron. Returns the new polygons, their
    vertex counts and ``owner``: the index of the input polygon each piece comes from.
    """
    P = verts.shape[0]
    lo, hi = verts.min(axis=1), verts.max(axis=1)  # padding repeats vertices: no effect
    mid, half = (lo + hi) / 2, (hi - lo) / 2
    fc = F[:, 0] * mid[:, :1] + F[:, 1] * mid[:, 1:] + F[:, 2]
    reach = np.abs(F[:, 0]) * half[:, :1] + np.abs(F[:, 1]) * half[:, 1:]
    # Neurons whose line may cross the polygon's bounding box, one row per neuron.
    maybe = np.ascontiguousarray(((fc + reach > thr) & (fc - reach < -thr)).T)
    store = _PolygonStore(verts, counts, np.arange(P))
    for k in np.flatnonzero(maybe.any(axis=1)):
        idx = np.flatnonzero(maybe[k, store.owner[: store.n]])
        if idx.size == 0:
            continue
        own = store.owner[idx]
        Fk, tk = F[own, :, k], thr[own, k]
        pv = store.verts[idx]
        f = pv[..., 0] * Fk[:, :1] + pv[..., 1] * Fk[:, 1:2] + Fk[:, 2:]
        s = (f > tk[:, None]).astype(np.int8) - (f < -tk[:, None]).astype(np.int8)
        cut = (s > 0).any(axis=1) & (s < 0).any(axis=1)
        if not cut.any():
            continue
        idx, own = idx[cut], own[cut]
        pos, pcnt, neg, ncnt = _clip(pv[cut], store.counts[idx], f[cut], s[cut])
        store.replace(idx, pos, pcnt)
        store.append(neg, ncnt, own)
    n = store.n
    return store.verts[:n], store.counts[:n], store.owner[:n]


def _vertex_mean(verts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    valid = np.arange(verts.shape[1])[None, :] < counts[:, None]
    return (verts * valid[..., None]).sum(axis=1) / counts[:, None]


def _shoelace(verts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Signed areas and centroids of padded polygons (padding edges add nothing)."""
    x, y = verts[..., 0], verts[..., 1]
    # Shift to a local origin so large coordinates do not cancel catastrophically.
    x0, y0 = x[:, :1], y[:, :1]
    x, y = x - x0, y - y0
    xn, yn = np.roll(x, -1, axis=1), np.roll(y, -1, axis=1)
    cr = x * yn - xn * y
    area = cr.sum(axis=1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = ((x + xn) * cr).sum(axis=1) / (6 * area)
        cy = ((y + yn) * cr).sum(axis=1) / (6 * area)
    return area, np.stack([cx + x0[:, 0], cy + y0[:, 0]], axis=1)


def _zero_segments(
    verts: np.ndarray,
    counts: np.ndarray,
    g: np.ndarray,
    g0: np.ndarray,
    thr: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Segment where ``g @ x + g0 = 0`` inside each convex polygon.

    Returns ``has`` (K,) bool and ``seg`` (K, 2, 2). A polygon on which the function is
    zero everywhere (within ``thr``) has no segment.
    """
    K, V = verts.shape[:2]
    f = verts[..., 0] * g[:, :1] + verts[..., 1] * g[:, 1:] + g0[:, None]
    s = (f > thr[:, None]).astype(np.int8) - (f < -thr[:, None]).astype(np.int8)
    xp, cross, valid = _edge_crossings(verts, f, s, counts)
    pts = np.concatenate([verts, xp], axis=1)
    keep = np.concatenate([valid & (s == 0), cross], axis=1)
    direction = np.stack([-g[:, 1], g[:, 0]], axis=1)
    proj = np.einsum("kvj,kj->kv", pts, direction)
    lo = np.where(keep, proj, np.inf).argmin(axis=1)
    hi = np.where(keep, proj, -np.inf).argmax(axis=1)
    rows = np.arange(K)
    seg = np.stack([pts[rows, lo], pts[rows, hi]], axis=1)
    has = keep.any(axis=1) & ((s != 0) & valid).any(axis=1) & (lo != hi)
    has &= np.abs(proj[rows, hi] - proj[rows, lo]) > 0
    return has, seg


def _clip_segments(seg: np.ndarray, h0: np.ndarray, h1: np.ndarray) -> tuple[np.ndarray, ...]:
    """Keep the part of each segment where an affine ``h`` (values h0, h1 at its ends) >= 0."""
    alive = (h0 >= 0) | (h1 >= 0)
    t = np.zeros_like(h0)
    flip = (h0 < 0) != (h1 < 0)
    np.divide(h0, h0 - h1, out=t, where=flip)
    point = seg[:, 0] + t[:, None] * (seg[:, 1] - seg[:, 0])
    new = seg.copy()
    new[flip & (h0 < 0), 0] = point[flip & (h0 < 0)]
    new[flip & (h1 < 0), 1] = point[flip & (h1 < 0)]
    return alive, new


# ---------------------------------------------------------------------- the result
class Partition2D:
    """Every activation region of a network in a 2-D box, as exact convex polygons.

    Built by :func:`partition_2d`; see there. Polygons are in the plane coordinates
    ``(a, b)``: the input itself for a 2-D network, or ``x = origin + a*u + b*v`` for a
    slice given by ``plane``.

    Attributes
    ----------
    network : ReluNetwork
    bounds : ndarray of shape (2, 2)
        The box ``((a0, a1), (b0, b1))``.
    origin : ndarray of shape (n_features,)
    directions : ndarray of shape (n_features, 2)
        The plane's ``u`` and ``v`` as columns (the identity for a 2-D network).
    vertices : list of ndarray of shape (n_vertices_r, 2)
        The polygon of each region, vertices in counter-clockwise order.
    patterns : ndarray of shape (R, H) bool
        Activation pattern of each region (network order, first hidden layer first).
    coef : ndarray of shape (R, n_outputs, n_features)
    intercept : ndarray of shape (R, n_outputs)
        The region's LLM in the input space: ``network.forward(x) = coef[r] @ x +
        intercept[r]`` for ``x`` in region ``r``.
    plane_coef : ndarray of shape (R, n_outputs, 2)
    plane_intercept : ndarray of shape (R, n_outputs)
        The same LLM in the plane coordinates: ``forward(origin + a*u + b*v) =
        plane_coef[r] @ (a, b) + plane_intercept[r]``.
    areas : ndarray of shape (R,)
    centroids : ndarray of shape (R, 2)
    decision_segments : ndarray of shape (S, 2, 2)
        The decision boundary as line segments, each inside one region. For a sigmoid
        output, where the raw output equals the threshold's logit (probability 0.5 by
        default), per output; for an identity output, where it equals ``threshold`` (none
        when ``threshold`` is None); for a softmax output, where the predicted class changes:
        the points where two classes tie for the highest score.
    decision_regions : ndarray of shape (S,)
        The region each segment lies in.
    decision_outputs : ndarray of shape (S, 2)
        The outputs involved: ``(j, j)`` for output ``j`` crossing its threshold, ``(i, j)``
        for softmax classes ``i`` and ``j`` tied at the top.
    threshold : float or None
        The threshold used, in output units (a probability for a sigmoid output).
    tol : float
        The relative tolerance of degenerate cuts (see the module documentation).
    """

    def __init__(
        self,
        network: ReluNetwork,
        *,
        bounds: np.ndarray,
        origin: np.ndarray,
        directions: np.ndarray,
        vertices: list[np.ndarray],
        patterns: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
        plane_coef: np.ndarray,
        plane_intercept: np.ndarray,
        areas: np.ndarray,
        centroids: np.ndarray,
        decision_segments: np.ndarray,
        decision_regions: np.ndarray,
        decision_outputs: np.ndarray,
        threshold: float | None,
        tol: float,
        is_plane: bool,
    ) -> None:
        self.network = network
        self.bounds = bounds
        self.origin = origin
        self.directions = directions
        self.vertices = vertices
        self.patterns = patterns
        self.coef = coef
        self.intercept = intercept
        self.plane_coef = plane_coef
        self.plane_intercept = plane_intercept
        self.areas = areas
        self.centroids = centroids
        self.decision_segments = decision_segments
        self.decision_regions = decision_regions
        self.decision_outputs = decision_outputs
        self.threshold = threshold
        self.tol = tol
        self.is_plane = is_plane
        self._lookup = None

    def __len__(self) -> int:
        return len(self.vertices)

    @property
    def n_regions(self) -> int:
        return len(self)

    @property
    def box_area(self) -> float:
        return float(np.prod(self.bounds[:, 1] - self.bounds[:, 0]))

    def __repr__(self) -> str:
        kind = "plane slice" if self.is_plane else "input box"
        return (
            f"Partition2D({len(self)} regions of {self.network!r} in the {kind} "
            f"{self.bounds.tolist()}, {len(self.decision_segments)} boundary segments)"
        )

    # ------------------------------------------------------------------ evaluation
    def to_input(self, points: Any) -> np.ndarray:
        """Map plane coordinates ``(m, 2)`` to input space: ``origin + a*u + b*v``."""
        P = _check_points(points)
        return self.origin[None, :] + P @ self.directions.T

    def predict_raw(self, points: Any) -> np.ndarray:
        """The network's raw output at plane points ``(m, 2)``, shape ``(m, n_outputs)``."""
        return self.network.forward(self.to_input(points))

    def locate(self, points: Any) -> np.ndarray:
        """Index of the region holding each plane point ``(m, 2)``; -1 outside the box.

        A point is matched to the region with its activation pattern; a point on a
        boundary whose pattern belongs to no 2-D region (where the network files an exact
        0 as off, e.g. a vertex) goes to a polygon that contains it.
        """
        from glassnet.regions import PatternLookup

        P = _check_points(points)
        out = np.full(P.shape[0], -1, dtype=np.int64)
        inside = (
            (P[:, 0] >= self.bounds[0, 0])
            & (P[:, 0] <= self.bounds[0, 1])
            & (P[:, 1] >= self.bounds[1, 0])
            & (P[:, 1] <= self.bounds[1, 1])
        )
        if not inside.any():
            return out
        if self._lookup is None:
            self._lookup = PatternLookup(np.packbits(self.patterns, axis=1))
        sel = np.flatnonzero(inside)
        pats = self.network.activation_patterns(self.to_input(P[sel]))
        out[sel] = self._lookup.lookup(np.packbits(pats, axis=1))
        for i in sel[out[sel] < 0]:
            out[i] = self._containing_polygon(P[i])
        return out

    def _containing_polygon(self, p: np.ndarray) -> int:
        best, best_val = -1, -np.inf
        for r, poly in enumerate(self.vertices):
            e = np.roll(poly, -1, axis=0) - poly
            w = p[None, :] - poly
            worst = (e[:, 0] * w[:, 1] - e[:, 1] * w[:, 0]).min()
            if worst > best_val:
                best, best_val = r, worst
        return best

    def llm_segments(self, regions: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """Each region's own decision line, extended across the whole box.

        For region ``r`` this is where its LLM (not the network) crosses the decision
        level (for softmax: where its top two classes at the centroid tie).

        Parameters
        ----------
        regions : array-like of int, optional
            Which regions (default all).

        Returns
        -------
        segments : ndarray of shape (S, 2, 2)
        region : ndarray of shape (S,)
            The region of each segment; regions whose line misses the box have none.
        """
        idx = np.arange(len(self)) if regions is None else np.asarray(regions, dtype=np.int64)
        if idx.ndim != 1 or (idx.size and (idx.min() < -len(self) or idx.max() >= len(self))):
            raise ValueError(f"regions must be indices in [0, {len(self)}).")
        idx = idx % max(len(self), 1)
        g, g0 = self._decision_function(idx)
        if g is None:
            raise ValueError(
                "This partition has no decision level: pass threshold= to partition_2d for "
                "a network with an identity output."
            )
        box = _box_polygon(self.bounds)
        K = idx.size
        verts = np.broadcast_to(box, (K, 4, 2))
        thr = self.tol * _scale(g, g0, self.bounds)
        has, seg = _zero_segments(verts, np.full(K, 4), g, g0, thr)
        return seg[has], idx[has]

    def _decision_function(self, idx: np.ndarray) -> tuple[np.ndarray | None, np.ndarray]:
        """Gradient and offset (plane coords) of the function whose zero is the decision."""
        c, c0 = self.plane_coef[idx], self.plane_intercept[idx]
        if self.network.output == "softmax":
            scores = np.einsum("rkj,rj->rk", c, self.centroids[idx]) + c0
            order = np.argsort(-scores, axis=1)
            top, second = order[:, 0], order[:, 1]
            rows = np.arange(idx.size)
            return c[rows, top] - c[rows, second], c0[rows, top] - c0[rows, second]
        level = _decision_level(self.network, self.threshold)
        if level is None:
            return None, c0[:, 0]
        return c[:, 0], c0[:, 0] - level

    def to_frame(self) -> pd.DataFrame:
        """One row per region: area, share of the box, centroid, vertex count, the
        network's output at the centroid (after the link) and the plane LLM."""
        k = self.network.n_outputs
        data: dict[str, Any] = {
            "area": self.areas,
            "share": self.areas / self.box_area,
            "centroid_a": self.centroids[:, 0],
            "centroid_b": self.centroids[:, 1],
            "n_vertices": np.array([len(v) for v in self.vertices], dtype=np.int64),
            "n_on": self.patterns.sum(axis=1),
        }
        eta = np.einsum("rkj,rj->rk", self.plane_coef, self.centroids) + self.plane_intercept
        out = self.network.apply_link(eta)
        for j in range(k):
            suffix = "" if k == 1 else f"_{j}"
            data[f"output{suffix}"] = out[:, j]
            data[f"coef_a{suffix}"] = self.plane_coef[:, j, 0]
            data[f"coef_b{suffix}"] = self.plane_coef[:, j, 1]
            data[f"intercept{suffix}"] = self.plane_intercept[:, j]
        frame = pd.DataFrame(data)
        frame.index.name = "region"
        return frame


def _check_points(points: Any) -> np.ndarray:
    P = np.asarray(points, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] != 2:
        raise ValueError(f"points must have shape (m, 2) in plane coordinates; got {P.shape}.")
    if not np.isfinite(P).all():
        raise ValueError("points contain NaN or infinity.")
    return P


def _box_polygon(bounds: np.ndarray) -> np.ndarray:
    (x0, x1), (y0, y1) = bounds
    return np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float64)


def _scale3(F: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """:func:`_scale` for maps stored as ``F`` (P, 3, n)."""
    A = np.abs(bounds[0]).max()
    B = np.abs(bounds[1]).max()
    return np.abs(F[:, 0]) * A + np.abs(F[:, 1]) * B + np.abs(F[:, 2])


def _scale(g: np.ndarray, g0: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Floating-point scale of an affine function over the box (see module docs)."""
    A = np.abs(bounds[0]).max()
    B = np.abs(bounds[1]).max()
    return np.abs(g[..., 0]) * A + np.abs(g[..., 1]) * B + np.abs(g0)


# ---------------------------------------------------------------------- main entry
def partition_2d(
    net: Any,
    bounds: Any,
    *,
    plane: tuple[Any, Any, Any] | None = None,
    threshold: float | None = None,
    tol: float = _DEFAULT_TOL,
) -> Partition2D:
    """Exact partition of a 2-D box into the activation regions of a ReLU network.

    Parameters
    ----------
    net : ReluNetwork or a model glassnet can import
        A :class:`~glassnet.ReluNetwork`, a fitted scikit-learn MLP, a torch
        ``nn.Sequential`` or a fitted glassnet estimator.
    bounds : ((x0, x1), (y0, y1))
        The box, with ``x0 < x1`` and ``y0 < y1``. In plane coordinates ``(a, b)`` when
        ``plane`` is given.
    plane : (origin, u, v), optional
        For a network with more than 2 inputs: partition the 2-D slice
        ``x = origin + a*u + b*v`` (u and v linearly independent, not necessarily
        orthonormal). Required unless the network has exactly 2 inputs.
    threshold : float, optional
        Where the decision boundary is drawn: a probability for a sigmoid output (default
        0.5, i.e. raw output 0), a raw output level for an identity output (default: no
        boundary). Must be None for softmax, whose boundary is the change of the argmax.
    tol : float, default 1e-9
        Relative tolerance for degenerate cuts: a vertex whose pre-activation is within
        ``tol`` times its floating-point scale of 0 lies on the neuron's line (see
        :mod:`glassnet.partition`).

    Returns
    -------
    Partition2D
        ``len(partition)`` regions; their areas sum to the box area.

    Raises
    ------
    TypeError
        If ``net`` is not a ReLU network glassnet can read.
    ValueError
        If the network's input is not 2-D and no plane is given, the box is empty or
        inverted, or the plane is degenerate (u, v parallel or zero).

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork, partition_2d
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> p = partition_2d(net, ((-1, 1), (-1, 1)))
    >>> len(p), float(p.areas.sum())
    (4, 4.0)
    """
    if not isinstance(net, ReluNetwork):
        from glassnet.io import as_network

        net = as_network(net)
    B = _check_bounds(bounds)
    origin, U = _check_plane(plane, net.n_features)
    tol = _check_tol(tol)
    level = _decision_level(net, threshold)

    verts = _box_polygon(B)[None]
    counts = np.array([4], dtype=np.int64)
    # F[p] (3, n): pre-activations z = a F[p, 0] + b F[p, 1] + F[p, 2] in polygon p.
    W0 = net.weights[0]
    F = np.stack([W0 @ U[:, 0], W0 @ U[:, 1], W0 @ origin + net.biases[0]])[None]
    layer_patterns: list[np.ndarray] = []
    L = len(net.hidden_sizes)
    for layer in range(L):
        thr = tol * _scale3(F, B)
        verts, counts, owner = _split_layer(verts, counts, F, thr)
        inner = _vertex_mean(verts, counts)
        P = verts.shape[0]
        W_next, b_next = net.weights[layer + 1], net.biases[layer + 1]
        on = np.empty((P, F.shape[2]), dtype=bool)
        F_next = np.empty((P, 3, W_next.shape[0]))
        for s in range(0, P, _BLOCK):
            o = owner[s : s + _BLOCK]
            Fo = F[o]
            c = inner[s : s + _BLOCK]
            on_b = Fo[:, 0] * c[:, :1] + Fo[:, 1] * c[:, 1:] + Fo[:, 2] > thr[o]
            on[s : s + _BLOCK] = on_b
            Fo *= on_b[:, None, :]
            # One matrix product for the block: rows (polygon, a/b/1), columns neurons.
            with np.errstate(over="ignore", invalid="ignore"):  # refused once built
                nxt = (Fo.reshape(-1, Fo.shape[2]) @ W_next.T).reshape(-1, 3, W_next.shape[0])
            nxt[:, 2] += b_next
            F_next[s : s + _BLOCK] = nxt
        layer_patterns = [lp[owner] for lp in layer_patterns]
        layer_patterns.append(on)
        F = F_next
    if L == 0:
        F = F + np.zeros((verts.shape[0], 1, 1))

    R = verts.shape[0]
    if L:
        patterns = np.concatenate(layer_patterns, axis=1)
    else:
        patterns = np.zeros((R, 0), dtype=bool)
    # F now maps (a, b) to the raw outputs: the LLM in plane coordinates.
    plane_coef = np.ascontiguousarray(F[:, :2].transpose(0, 2, 1))
    plane_intercept = np.ascontiguousarray(F[:, 2])
    if plane is None:
        coef, intercept = plane_coef.copy(), plane_intercept.copy()
    else:
        coef, intercept = net.local_linear_models(patterns)
    with np.errstate(over="ignore", invalid="ignore"):
        areas, centroids = _shoelace(verts)
    finite = (np.isfinite(areas).all() and np.isfinite(plane_coef).all()
              and np.isfinite(plane_intercept).all() and np.isfinite(coef).all())
    if not finite:
        raise ValueError(
            "The partition is not finite in float64: region areas or the network's local "
            "linear models overflow over this box (huge bounds, plane directions or "
            "weights). Pass a smaller box or rescale the plane directions."
        )
    bad = ~np.isfinite(centroids).all(axis=1)
    if bad.any():  # zero-area polygons cannot occur by construction; stay safe
        centroids[bad] = _vertex_mean(verts[bad], counts[bad])
    vertices = [verts[r, : counts[r]].copy() for r in range(R)]
    seg, seg_r, seg_o = _decision_boundary(
        net, verts, counts, plane_coef, plane_intercept, level, tol, B
    )
    return Partition2D(
        net,
        bounds=B,
        origin=origin,
        directions=U,
        vertices=vertices,
        patterns=patterns,
        coef=coef,
        intercept=intercept,
        plane_coef=plane_coef,
        plane_intercept=plane_intercept,
        areas=areas,
        centroids=centroids,
        decision_segments=seg,
        decision_regions=seg_r,
        decision_outputs=seg_o,
        threshold=_threshold_used(net, threshold),
        tol=tol,
        is_plane=plane is not None,
    )


def _threshold_used(net: ReluNetwork, threshold: Any) -> float | None:
    if threshold is not None:
        return float(threshold)
    return 0.5 if net.output == "sigmoid" else None


def _decision_boundary(
    net: ReluNetwork,
    verts: np.ndarray,
    counts: np.ndarray,
    c: np.ndarray,
    c0: np.ndarray,
    level: float | None,
    tol: float,
    bounds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    R, k = c0.shape
    segs, regs, outs = [], [], []
    if net.output == "softmax":
        for i in range(k):
            for j in range(i + 1, k):
                g, g0 = c[:, i] - c[:, j], c0[:, i] - c0[:, j]
                has, seg = _zero_segments(verts, counts, g, g0, tol * _scale(g, g0, bounds))
                for other in range(k):
                    if other in (i, j) or not has.any():
                        continue
                    h, h0 = c[:, i] - c[:, other], c0[:, i] - c0[:, other]
                    hv = np.einsum("rej,rj->re", seg, h) + h0[:, None]
                    alive, seg = _clip_segments(seg, hv[:, 0], hv[:, 1])
                    has &= alive
                has &= np.linalg.norm(seg[:, 1] - seg[:, 0], axis=1) > 0
                r = np.flatnonzero(has)
                segs.append(seg[r])
                regs.append(r)
                outs.append(np.tile([i, j], (r.size, 1)))
    elif level is not None:
        for j in range(k):
            g, g0 = c[:, j], c0[:, j] - level
            has, seg = _zero_segments(verts, counts, g, g0, tol * _scale(g, g0, bounds))
            r = np.flatnonzero(has)
            segs.append(seg[r])
            regs.append(r)
            outs.append(np.tile([j, j], (r.size, 1)))
    if not segs:
        return np.zeros((0, 2, 2)), np.zeros(0, dtype=np.int64), np.zeros((0, 2), dtype=np.int64)
    return (
        np.concatenate(segs),
        np.concatenate(regs).astype(np.int64),
        np.concatenate(outs).astype(np.int64).reshape(-1, 2),
    )


# ---------------------------------------------------------------------- display
class PartitionDisplay:
    """Partition map: every activation region of a 2-D box, coloured by its LLM.

    In the style of scikit-learn's Display objects: build with :meth:`from_network` or
    :meth:`from_partition` (which also plot), or construct and call :meth:`plot`.

    Parameters
    ----------
    partition : Partition2D
    X : array-like of shape (n_samples, 2) or (n_samples, n_features), optional
        Data points to overlay. With a plane, rows are projected onto the plane (least
        squares) and drawn at their plane coordinates.
    y : array-like of shape (n_samples,), optional
        Labels or values colouring the points.

    Attributes
    ----------
    figure_ : matplotlib Figure
    ax_ : matplotlib Axes
    regions_ : matplotlib PolyCollection
        The polygons.
    boundary_ : LineCollection or None
        The network's decision boundary.
    llm_lines_ : LineCollection or None
        The regions' own decision lines.
    scatter_ : PathCollection or None
        The data points.
    """

    def __init__(self, partition: Partition2D, *, X: Any = None, y: Any = None) -> None:
        if not isinstance(partition, Partition2D):
            raise TypeError(f"partition must be a Partition2D; got {type(partition).__name__}.")
        self.partition = partition
        self.X = X
        self.y = y

    @classmethod
    def from_network(
        cls,
        net: Any,
        bounds: Any,
        *,
        plane: tuple[Any, Any, Any] | None = None,
        threshold: float | None = None,
        X: Any = None,
        y: Any = None,
        ax: Any = None,
        **plot_kwargs: Any,
    ) -> PartitionDisplay:
        """Partition ``net`` over ``bounds`` (see :func:`partition_2d`) and plot it."""
        part = partition_2d(net, bounds, plane=plane, threshold=threshold)
        return cls(part, X=X, y=y).plot(ax=ax, **plot_kwargs)

    @classmethod
    def from_partition(
        cls, partition: Partition2D, *, X: Any = None, y: Any = None, ax: Any = None,
        **plot_kwargs: Any,
    ) -> PartitionDisplay:
        """Plot an existing :class:`Partition2D`."""
        return cls(partition, X=X, y=y).plot(ax=ax, **plot_kwargs)

    def _points(self) -> np.ndarray | None:
        if self.X is None:
            return None
        p = self.partition
        X = np.asarray(self.X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] not in (2, p.network.n_features):
            raise ValueError(
                f"X must have shape (n, 2) in plane coordinates or (n, {p.network.n_features})"
                f" in input space; got {X.shape}."
            )
        if not p.is_plane or X.shape[1] == 2 and p.network.n_features != 2:
            return X
        sol, *_ = np.linalg.lstsq(p.directions, (X - p.origin).T, rcond=None)
        return sol.T

    def plot(
        self,
        ax: Any = None,
        *,
        color_by: str = "output",
        output: int = 0,
        cmap: Any = None,
        edgecolor: Any = "white",
        linewidth: float | None = None,
        alpha: float = 1.0,
        boundary: bool = True,
        llm_lines: Any = None,
        scatter_kwargs: dict | None = None,
    ) -> PartitionDisplay:
        """Draw the partition.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure when None.
        color_by : {"output", "gradient", "region"}
            ``"output"``: the network's output (after the link) at the region's centroid,
            the predicted class for softmax; ``"gradient"``: the direction of the region's
            LLM gradient in the plane as hue, its size as lightness (regions with similar
            LLMs look alike); ``"region"``: one arbitrary distinct colour per region.
        output : int
            Which output colours the map with ``"output"``/``"gradient"``.
        cmap : str or Colormap, optional
        edgecolor, linewidth, alpha
            Polygon style; ``linewidth`` defaults to 0.3, or 0.1 above 1000 regions.
        boundary : bool
            Draw the network's decision boundary (black).
        llm_lines : None, "all" or array-like of int
            Draw these regions' own decision lines across the box (dashed).
        scatter_kwargs : dict, optional
            Passed to ``ax.scatter`` for the data points.

        Returns
        -------
        self
        """
        import matplotlib.pyplot as plt
        from matplotlib import colors as mcolors
        from matplotlib.collections import LineCollection, PolyCollection

        p = self.partition
        k = p.network.n_outputs
        if not (isinstance(output, (int, np.integer)) and 0 <= output < k):
            raise ValueError(f"output must be an integer in [0, {k}); got {output!r}.")
        if color_by not in ("output", "gradient", "region"):
            raise ValueError(
                f"color_by must be 'output', 'gradient' or 'region'; got {color_by!r}."
            )
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 6))
        else:
            fig = ax.figure
        if linewidth is None:
            linewidth = 0.3 if len(p) <= 1000 else 0.1
        facecolors = self._facecolors(color_by, output, cmap, mcolors, plt)
        polys = PolyCollection(
            p.vertices, facecolors=facecolors, edgecolors=edgecolor, linewidths=linewidth,
            alpha=alpha,
        )
        ax.add_collection(polys)
        self.boundary_ = None
        if boundary and len(p.decision_segments):
            self.boundary_ = LineCollection(p.decision_segments, colors="black", linewidths=1.5)
            ax.add_collection(self.boundary_)
        self.llm_lines_ = None
        if llm_lines is not None:
            regions = None if isinstance(llm_lines, str) and llm_lines == "all" else llm_lines
            segs, _ = p.llm_segments(regions)
            self.llm_lines_ = LineCollection(
                segs, colors="#00a000", linewidths=1.4, linestyles="--"
            )
            ax.add_collection(self.llm_lines_)
        self.scatter_ = None
        pts = self._points()
        if pts is not None:
            kw = {"s": 8, "edgecolors": "black", "linewidths": 0.2}
            if self.y is not None:
                kw.update(c=np.asarray(self.y), cmap="coolwarm")
            else:
                kw.update(color="black")
            kw.update(scatter_kwargs or {})
            self.scatter_ = ax.scatter(pts[:, 0], pts[:, 1], **kw)
        ax.set_xlim(*p.bounds[0])
        ax.set_ylim(*p.bounds[1])
        ax.set_aspect("equal", adjustable="box")
        names = p.network.feature_names or ("x0", "x1")
        ax.set_xlabel("a" if p.is_plane else names[0])
        ax.set_ylabel("b" if p.is_plane else names[1])
        ax.set_title(f"{len(p)} activation regions")
        self.regions_ = polys
        self.figure_, self.ax_ = fig, ax
        return self

    def _facecolors(self, color_by: str, output: int, cmap: Any, mcolors: Any, plt: Any):
        p = self.partition
        R = len(p)
        if color_by == "region":
            hue = (np.arange(R) * 0.618033988749895) % 1.0
            sat = 0.35 + 0.3 * ((np.arange(R) * 0.381966) % 1.0)
            return mcolors.hsv_to_rgb(np.stack([hue, sat, np.full(R, 0.95)], axis=1))
        if color_by == "gradient":
            g = p.plane_coef[:, output]
            hue = (np.arctan2(g[:, 1], g[:, 0]) / (2 * np.pi)) % 1.0
            size = np.linalg.norm(g, axis=1)
            ref = np.quantile(size, 0.95) if R else 1.0
            val = 0.35 + 0.6 * np.clip(size / ref if ref > 0 else 0 * size, 0, 1)
            return mcolors.hsv_to_rgb(np.stack([hue, np.full(R, 0.6), val], axis=1))
        eta = np.einsum("rkj,rj->rk", p.plane_coef, p.centroids) + p.plane_intercept
        out = p.network.apply_link(eta)
        if p.network.output == "softmax":
            cm = plt.get_cmap(cmap or "tab10")
            cls = out.argmax(axis=1)
            base = np.asarray(cm(cls % cm.N))[:, :3]
            conf = out.max(axis=1)[:, None]
            return 1.0 - (1.0 - base) * (0.3 + 0.7 * conf)
        val = out[:, output]
        if p.network.output == "sigmoid":
            norm = mcolors.Normalize(0.0, 1.0)
        else:
            hi = val.max() if val.max() > val.min() else val.min() + 1.0
            norm = mcolors.Normalize(val.min(), hi)
        return plt.get_cmap(cmap or "RdBu_r")(norm(val))

