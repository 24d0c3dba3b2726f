"""Exact partition of a 2-D input box into the activation regions of a ReLU network.

:func:`partition_2d` returns every activation region of a network inside a box as a convex
polygon, with its activation pattern, its exact local linear model (LLM), its area and the
pieces of the decision boundary it holds. No grid is sampled: the polygons are computed by
cutting the box with the network's neuron lines ("recursive oblique partitioning").
:class:`glassnet.plotting.partition.PartitionDisplay` draws the result.

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

from glassnet._lazy import lazy_attributes
from glassnet.io import as_network
from glassnet.network import ReluNetwork
from glassnet.partition._polygon import (
    _BLOCK,
    _DEFAULT_TOL,
    _box_polygon,
    _check_bounds,
    _check_plane,
    _check_points,
    _check_tol,
    _decision_boundary,
    _decision_level,
    _scale,
    _scale3,
    _shoelace,
    _split_layer,
    _vertex_mean,
    _zero_segments,
)

__all__ = ["Partition2D", "PartitionDisplay", "partition_2d"]


# PartitionDisplay lives in glassnet.plotting.partition (every Display is in plotting/); the
# old import path keeps working without importing matplotlib with this module.
_LAZY = {"PartitionDisplay": "glassnet.plotting.partition"}
__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())


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

    def centroid_outputs(self) -> np.ndarray:
        """The network's output (after the link) at each region's centroid.

        Returns
        -------
        ndarray of shape (R, n_outputs)
            Computed from the region's exact LLM, so it equals
            ``network.predict_output`` at the centroid.
        """
        eta = np.einsum("rkj,rj->rk", self.plane_coef, self.centroids) + self.plane_intercept
        return self.network.apply_link(eta)

    def to_plane(self, X: Any) -> np.ndarray:
        """Rows in plane coordinates ``(a, b)``.

        Parameters
        ----------
        X : array-like of shape (n, 2) or (n, n_features)
            Rows already in plane coordinates (2 columns), or input rows, projected onto
            the plane by least squares (their exact coordinates when they lie on it).

        Returns
        -------
        ndarray of shape (n, 2)
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] not in (2, self.network.n_features):
            raise ValueError(
                f"X must have shape (n, 2) in plane coordinates or "
                f"(n, {self.network.n_features}) in input space; got {X.shape}."
            )
        if not self.is_plane or X.shape[1] == 2 and self.network.n_features != 2:
            return X
        sol, *_ = np.linalg.lstsq(self.directions, (X - self.origin).T, rcond=None)
        return sol.T

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
        out = self.centroid_outputs()
        for j in range(k):
            suffix = "" if k == 1 else f"_{j}"
            data[f"output{suffix}"] = out[:, j]
            data[f"coef_a{suffix}"] = self.plane_coef[:, j, 0]
            data[f"coef_b{suffix}"] = self.plane_coef[:, j, 1]
            data[f"intercept{suffix}"] = self.plane_intercept[:, j]
        frame = pd.DataFrame(data)
        frame.index.name = "region"
        return frame


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
