"""Polygon kernels of :func:`glassnet.partition.partition_2d`: input checks, clipping of
padded convex polygons by lines, areas and centroids, and the decision-boundary segments.

Private to :mod:`glassnet.partition`; the algorithm and its tolerance rule are documented
there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.network import ReluNetwork

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
