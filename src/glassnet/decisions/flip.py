"""The smallest change of the input that changes a network's decision (robustness radius)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassnet.decisions._base import (
    add_distance,
    add_target,
    check_norm,
    class_margin,
    distance,
    predict_class,
    require_classifier,
)
from glassnet.decisions._milp import Model, check_box, interval_bounds
from glassnet.io import as_network
from glassnet.network import ReluNetwork

__all__ = ["min_flip_distance"]

# Without a box, the search box around a row grows by this factor until the optimum lies
# strictly inside it (then no point outside can be closer), at most _MAX_GROW times.
_GROW = 4.0
_MAX_GROW = 10
# With a box, the search starts at 1/_GROW**_SHRINK of the box's reach from the row.
_SHRINK = 4
# Margins (raw-output units) tried when the optimum, which lies on the decision boundary,
# has to be pushed just across it for the forward-pass check.
_NUDGES = (1e-12, 1e-10, 1e-8, 1e-6, 1e-4)
# How far across (relative to the output's size) a verified point must be.
_SAFE = 1e-13


def min_flip_distance(
    model: Any,
    X: Any,
    *,
    norm: str = "linf",
    box: Any = None,
    tighten: bool = True,
    return_points: bool = False,
    time_limit: float | None = None,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Exact smallest perturbation of each row that changes the network's decision.

    Binary classifier (one sigmoid output): the raw output crosses 0 (probability 0.5).
    Multi-class (softmax): the predicted class changes. Solved as a mixed-integer program
    (HiGHS) over the network's activation patterns, one per row (and per rival class), so
    the answer is the true minimum, not a bound or a sample.

    Parameters
    ----------
    model : ReluNetwork, Regions or any model :func:`glassnet.io.as_network` accepts
    X : array-like or DataFrame of shape (n, n_features)
    norm : {"linf", "l1"}, default="linf"
        Distance in input units (scale the inputs first if they differ).
    box : (lo, hi) or array of shape (n_features, 2), optional
        Only points inside this box count. Without a box the input space is unbounded: a
        box around the row grows (by 4x, up to 10 times from ``max(1, |x|_inf)``) until the
        optimum lies strictly inside it, which proves it is the global one.
    tighten : bool, default=True
        Tighten the big-M bounds with linear programs (fewer unstable neurons; slower set-up).
    return_points : bool, default=False
        Also return the closest flipped points.
    time_limit : float, optional
        Seconds per MILP; a row whose MILP stops early gets NaN and a warning.

    Returns
    -------
    distance : ndarray of shape (n,)
        ``np.inf`` where no point of the box (or of the largest search box) changes the
        decision. Each finite value is verified: the forward pass at the returned point,
        pushed just across the boundary, gives another decision.
    points : ndarray of shape (n, n_features)
        Only with ``return_points``: the closest point on the far side (NaN for ``inf``).

    Raises
    ------
    ValueError
        For a regression network, a bad norm or box, or bad rows.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork
    >>> from glassnet.decisions import min_flip_distance
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), [-1.0]], output="sigmoid")
    >>> min_flip_distance(net, np.array([[0.0, 0.0]])).round(6)
    array([0.5])
    """
    net = as_network(model)
    require_classifier(net, "min_flip_distance")
    norm = check_norm(norm)
    X = net.check_input(X)
    d = net.n_features
    fixed_box = None if box is None else check_box(box, d)
    cls = predict_class(net, net.forward(X))
    weights = np.ones(d)
    dist = np.full(X.shape[0], np.inf)
    points = np.full(X.shape, np.nan)
    for i, x0 in enumerate(X):
        if fixed_box is not None:
            res = _flip_within(net, x0, cls[i], *fixed_box, norm, weights, tighten,
                               time_limit)
        else:
            res = None
            radius = max(1.0, float(np.abs(x0).max()))
            for _ in range(_MAX_GROW):
                cand = _flip_in_box(net, x0, cls[i], x0 - radius, x0 + radius, norm, weights,
                                    tighten, time_limit)
                # inside the box strictly: every point outside is farther than the box edge
                if cand is not None and (not np.isfinite(cand[0]) or cand[0] < radius * (1 - 1e-9)):
                    if np.isfinite(cand[0]):
                        res = cand
                        break
                radius *= _GROW
        if res is None:
            continue
        dist[i], points[i] = res
    return (dist, points) if return_points else dist


def _flip_within(net: ReluNetwork, x0, c, lo, hi, norm, weights, tighten, time_limit):
    """Nearest flip in the box [lo, hi], searched in growing boxes around ``x0``.

    Over a wide box nearly every neuron is unstable and the MILP is hard; inside a small box
    around the row most neurons are stable. A flip found at distance below the search
    radius is the optimum over the whole box (every point outside the search box is
    farther), so the search grows (x4 from 1/256 of the box's reach) only until then.
    """
    reach = float(np.max(np.maximum(hi - x0, x0 - lo)))
    radius = reach / _GROW**_SHRINK
    while True:
        full = radius >= reach
        slo = lo if full else np.maximum(lo, x0 - radius)
        shi = hi if full else np.minimum(hi, x0 + radius)
        if full or (slo <= shi).all():
            res = _flip_in_box(net, x0, c, slo, shi, norm, weights, tighten, time_limit)
            if full or np.isnan(res[0]) or res[0] < radius * (1 - 1e-9):
                return res
        radius *= _GROW


def _flip_in_box(net: ReluNetwork, x0, c, lo, hi, norm, weights, tighten, time_limit):
    """(distance, point) of the nearest other-decision point in [lo, hi]; None if none."""
    bounds = interval_bounds(net, lo, hi, tighten=tighten)
    rivals = [1 - c] if net.n_outputs == 1 else [j for j in range(net.n_outputs) if j != c]
    best = None
    for j in rivals:
        for k, margin in enumerate((0.0, *_NUDGES)):
            m = Model(lo, hi)
            E, e0 = m.add_network(net, m.x, bounds)
            add_target(m, E, e0, j, 0.0, margin, against=None if net.n_outputs == 1 else c)
            cost = add_distance(m, x0, weights, norm)
            sol = m.solve(cost, time_limit=time_limit)
            if sol.x is None:
                if sol.status != "infeasible":
                    warnings.warn(f"MILP stopped ({sol.status}); distance left as NaN.",
                                  RuntimeWarning, stacklevel=3)
                    return (np.nan, np.full(x0.shape, np.nan))
                break  # no point of class j in the box
            p = np.clip(sol.x[: x0.size], lo, hi)
            dval = float(distance(p, x0, weights, norm)[0])
            if k == 0:
                exact = (dval, p)
            q = _pushed_across(net, x0, p, c, lo, hi)
            if q is not None:
                if best is None or exact[0] < best[0]:
                    best = (exact[0], q if k == 0 else p)
                break
        else:
            warnings.warn("Could not verify a flipped point by a forward pass; the MILP "
                          "distance is reported unverified.", RuntimeWarning, stacklevel=3)
            if best is None or exact[0] < best[0]:
                best = exact
    return best if best is not None else (np.inf, np.full(x0.shape, np.nan))


def _pushed_across(net, x0, p, c, lo, hi):
    """``p`` or a point a hair farther along the ray from ``x0`` whose decision is not
    ``c`` in a float64 forward pass, by a margin that survives rounding (a point exactly on
    the boundary could be filed either way by another matrix-product order); None if none.
    """
    for delta in (0.0, 1e-12, 1e-10, 1e-8, 1e-6):
        q = np.clip(x0 + (1.0 + delta) * (p - x0), lo, hi)
        eta = net.forward(q[None, :])
        k = int(predict_class(net, eta)[0])
        if k != c and class_margin(eta, k)[0] > _SAFE * (1.0 + np.abs(eta).max()):
            return q
    return None
