"""A cheap feasible counterfactual: the upper bound that makes the exact MILP small.

The MILP of a counterfactual gets much easier when its inputs are restricted to the cost
ball ``cost(x - x0) <= U`` around the row: most neurons become stable (one sign in the
whole ball), the big-M bounds tighten, and HiGHS proves optimality quickly. Any feasible
point gives a valid ``U`` and the optimum lies inside that ball, so exactness is kept.

The point comes from the data: the cheapest few rows the network already puts in the target
class, projected onto the row's constraints, are joined to ``x0`` by a segment; bisection
finds where the segment enters the target class; and one linear program inside that
point's activation region (where the network is linear) moves it to the region's cheapest
target point.
"""

from __future__ import annotations

import numpy as np

from glassnet.decisions._base import add_target, class_margin, distance
from glassnet.decisions._milp import Model
from glassnet.network import ReluNetwork

_CANDIDATES = 5
_BISECT = 40
_ROUNDS = 8


def feasible_point(net: ReluNetwork, x0, t, level, margin, rlo, rhi, res, w, norm, pool,
                   discrete) -> tuple[float, np.ndarray | None]:
    """(cost, point) of a verified target-class point within the constraints, or (inf,
    None). ``pool`` holds data rows; ``discrete`` marks integer and one-hot inputs."""
    if pool.shape[0] == 0:
        return np.inf, None
    C = np.clip(pool, rlo, rhi)
    C[:, discrete] = np.clip(np.round(C[:, discrete]), rlo[discrete], rhi[discrete])
    ok = np.ones(C.shape[0], bool)
    for g in res.groups:
        ok &= np.abs(C[:, g].sum(axis=1) - 1.0) < 1e-9
    for cols, vals, lo_, hi_ in res.linear:
        v = C[:, cols] @ vals
        ok &= (v >= lo_ - 1e-9) & (v <= hi_ + 1e-9)
    C = C[ok]
    if C.shape[0] == 0:
        return np.inf, None
    ok = class_margin(net.forward(C), t, level) > 2 * margin
    C = C[ok]
    if C.shape[0] == 0:
        return np.inf, None
    costs = distance(C, x0, w, norm)
    best_cost, best = np.inf, None
    for k in np.argsort(costs)[:_CANDIDATES]:
        c = C[k]
        # alternate: enter the target class along the segment from x0, then move to the
        # cheapest target point of that region; stop when a round gains nothing
        prev = np.inf
        for _ in range(_ROUNDS):
            q = c if discrete.any() else _bisect(net, x0, c, t, level, margin)
            p = _polish(net, q, x0, t, level, margin, rlo, rhi, res, w, norm, discrete)
            if p is None or class_margin(net.forward(p[None]), t, level)[0] <= 0:
                p = q
            cost = float(distance(p, x0, w, norm)[0])
            if cost < best_cost:
                best_cost, best = cost, p
            if cost >= prev * (1 - 1e-6) or discrete.any():
                break
            prev, c = cost, p
    return best_cost, best


def _bisect(net, x0, c, t, level, margin):
    """First point of the segment x0 -> c (c in the target class) in the target class."""
    a, b = 0.0, 1.0
    for _ in range(_BISECT):
        mid = 0.5 * (a + b)
        if class_margin(net.forward((x0 + mid * (c - x0))[None]), t, level)[0] > 2 * margin:
            b = mid
        else:
            a = mid
    return x0 + b * (c - x0)


def _polish(net, q, x0, t, level, margin, rlo, rhi, res, w, norm, discrete):
    """Cheapest target point in the closure of ``q``'s activation region (one LP)."""
    lo = np.where(discrete, q, rlo)
    hi = np.where(discrete, q, rhi)
    pattern = net.activation_patterns(q[None])[0]
    A, c = net.neuron_affine_maps(pattern)
    m = Model(lo, hi)
    for i in range(A.shape[0]):  # on: A x + c >= 0, off: A x + c <= 0
        if pattern[i]:
            m.add_row(m.x, A[i], -c[i], np.inf)
        else:
            m.add_row(m.x, A[i], -np.inf, -c[i])
    coef, icpt = net.local_linear_models(pattern[None])
    E = np.zeros((net.n_outputs, m.n))
    E[:, m.x] = coef[0]
    add_target(m, E, icpt[0], t, level, 2 * margin)
    for cols, vals, lo_, hi_ in res.linear:
        m.add_row(m.x[cols], vals, lo_, hi_)
    cost = m.add_ball(x0, w, np.inf, norm)
    sol = m.solve(cost)
    if sol.x is None:
        return None
    return np.clip(sol.x[: x0.size], lo, hi)


def rounded_point(net: ReluNetwork, relaxed, x0, t, level, margin, rlo, rhi, res, w, norm,
                  discrete) -> tuple[float, np.ndarray | None]:
    """(cost, point) from the optimum with the integer features relaxed (``relaxed``):
    those rounded away from ``x0`` (the side the relaxed optimum moved to) or to the
    nearest whole number, then the continuous features polished inside the rounded
    point's region (one LP). Verified by a forward pass; (inf, None) when neither
    rounding gives a target-class point within the constraints."""
    ints = res.integer
    best_cost, best = np.inf, None
    away = np.where(relaxed < x0, np.floor(relaxed + 1e-9), np.ceil(relaxed - 1e-9))
    for rounded in (away, np.round(relaxed)):
        r = relaxed.copy()
        r[ints] = np.clip(rounded[ints], rlo[ints], rhi[ints])
        for p in (_polish(net, r, x0, t, level, margin, rlo, rhi, res, w, norm, discrete), r):
            if p is None or not _within(p, res) or class_margin(net.forward(p[None]), t,
                                                                 level)[0] <= 0:
                continue
            cost = float(distance(p, x0, w, norm)[0])
            if cost < best_cost:
                best_cost, best = cost, p
            break
    return best_cost, best


def _within(p: np.ndarray, res) -> bool:
    """``p`` meets the linear constraints (one-hot groups are never relaxed)."""
    return all(lo_ - 1e-9 <= p[cols] @ vals <= hi_ + 1e-9 for cols, vals, lo_, hi_ in res.linear)
