"""Counterfactual recourse: the cheapest constrained change of a row that reaches a decision.

For each row ``x0`` the mixed-integer program (see :mod:`glassnet.decisions._milp`)

    minimise   cost(x - x0)
    subject to network(x) in the target class (by a small margin),
               x in the box, the constraints (immutable, one-directional, bounds, integer,
               one-hot, linear),

is solved to optimality by HiGHS, then the point is checked by a float64 forward pass.
``cost`` is the weighted L1 norm ``sum_j w_j |x_j - x0_j|`` (sparse changes) or the weighted
L-infinity norm ``max_j w_j |x_j - x0_j|`` (small changes everywhere). The default weights
are ``1 / MAD_j``, each feature's median absolute deviation from its median in the data
passed (``data``, else the rows being explained), so that one unit of cost is "one typical
deviation" in every feature. Where the MAD is 0 (a mostly constant or binary feature) the
standard deviation is used, and where that is 0 too, 1. One-hot members weigh 0.5 each, so
switching category costs 1.

The default box is the data's bounding box (the range the model was validated on), widened
to contain each row itself.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from glassnet.decisions._base import (
    add_distance,
    add_target,
    check_class,
    check_norm,
    check_threshold,
    class_margin,
    distance,
    input_names,
    predict_class,
    require_classifier,
)
from glassnet.decisions._milp import Model, check_box, interval_bounds
from glassnet.decisions._search import feasible_point, rounded_point
from glassnet.decisions.constraints import Constraints, Resolved, resolve
from glassnet.decisions.favorable import DEFAULT_FAVORABLE, favorable_note
from glassnet.io import as_network
from glassnet.network import ReluNetwork

__all__ = ["Counterfactuals", "RecourseAudit", "counterfactual", "mad_weights",
           "recourse_audit"]

# retries with a margin this many times larger when rounding leaves the point on the
# boundary (the MILP's feasibility tolerance is about 1e-7 in raw-output units)
_MARGIN_GROWTH = 100.0
_RETRIES = 3
# cost budgets tried in turn when no feasible point is known (see _solve_row)
_GROWING = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)


def mad_weights(data: np.ndarray) -> np.ndarray:
    """``1 / MAD`` per feature, falling back to ``1 / std`` and then 1 (module docstring)."""
    med = np.median(data, axis=0)
    mad = np.median(np.abs(data - med), axis=0)
    sd = data.std(axis=0) if data.shape[0] > 1 else np.zeros(data.shape[1])
    scale = np.where(mad > 0, mad, np.where(sd > 0, sd, 1.0))
    return 1.0 / scale


@dataclass
class Counterfactuals:
    """Result of :func:`counterfactual`.

    Attributes
    ----------
    frame : DataFrame
        One row per input row: ``status`` ("found": proved optimal; "already": already in
        the target class; "infeasible"; "time_limit": the best point known when the
        program stopped, not proved optimal), ``target``, ``cost``, ``valid`` (the forward
        pass at the counterfactual gives the target class), ``margin`` (raw-output margin
        into the target class there), ``gap`` (HiGHS's relative optimality gap; 0 means
        proved optimal), ``n_changed``, ``same_region`` (whether the counterfactual lies in
        the row's own activation region), ``region`` (its activation pattern, packed, hex),
        ``probability`` (binary: of the target class, before and after), ``seconds``
        (wall), ``cpu_seconds`` (this process's CPU time: the figure that does not depend on
        what else runs on the machine), ``n_binary`` (binary variables in the program).
    original, counterfactual : DataFrame
        The rows and their counterfactuals (NaN where none), columns = input names.
    integer_features : list of str
        The features held to whole values (listed, or found in the reference data).
    """

    frame: pd.DataFrame
    original: pd.DataFrame
    counterfactual: pd.DataFrame
    norm: str
    weights: np.ndarray
    integer_features: list = field(default_factory=list)

    def changes(self, atol: float = 1e-9) -> pd.DataFrame:
        """Tidy table of the features that change: row, feature, original, new, delta."""
        diff = self.counterfactual - self.original
        rows = []
        for r in diff.index:
            for f in diff.columns[np.abs(diff.loc[r].to_numpy()) > atol]:
                rows.append({"row": r, "feature": f, "original": self.original.at[r, f],
                             "counterfactual": self.counterfactual.at[r, f],
                             "delta": diff.at[r, f]})
        return pd.DataFrame(rows, columns=["row", "feature", "original", "counterfactual",
                                           "delta"])

    def __repr__(self) -> str:
        counts = self.frame.status.value_counts().to_dict()
        return f"Counterfactuals({len(self.frame)} rows, {counts}, cost={self.norm})"


def counterfactual(
    model: Any,
    X: Any,
    target: int | None = None,
    *,
    threshold: float | None = None,
    cost: str = "l1",
    weights: Any = None,
    data: Any = None,
    constraints: Any = None,
    box: Any = None,
    margin: float = 1e-6,
    tighten: bool = True,
    time_limit: float | None = 30.0,
) -> Counterfactuals:
    """Cheapest change of each row that reaches the target decision (exact, constrained).

    Parameters
    ----------
    model : ReluNetwork, Regions or any model :func:`glassnet.io.as_network` accepts
        A binary (sigmoid) or multi-class (softmax) classifier.
    X : array-like or DataFrame of shape (n, n_features)
        The rows (e.g. declined applicants).
    target : int, optional
        Class to reach. Default: the other class of each row (binary networks only).
    threshold : float, optional
        Binary networks: the target class's probability must reach this (default 0.5).
    cost : {"l1", "linf"}, default="l1"
        Weighted L1 (few features change) or weighted L-infinity (all move a little).
    weights : array-like of shape (n_features,), optional
        Cost per unit change of each feature. Default ``1 / MAD`` (module docstring).
    data : array-like or DataFrame, optional
        Reference data (e.g. the training rows) for the default weights, box and integer
        features.
    constraints : mapping or Constraints, optional
        See :mod:`glassnet.decisions.constraints`. Without an ``integer`` entry, the
        features whose values in ``data`` are whole numbers with at most 20 distinct values
        (codes, small counts) take whole values only (``Counterfactuals.integer_features``);
        ``{"integer": []}`` turns that off.
    box : (lo, hi), optional
        Where counterfactuals may lie. Default: the bounding box of ``data`` (else of
        ``X``), widened to contain each row.
    margin : float, default=1e-6
        How far into the target class (raw-output units) the program asks for, so the
        decision flips in a float64 forward pass despite solver tolerances; raised
        automatically (x100, up to 3 times) if the check still fails.
    tighten : bool, default=True
        LP-tightened big-M bounds (computed once for the whole box).
    time_limit : float or None, default=30
        Seconds per row; a stopped program reports its best point and gap.

    Returns
    -------
    Counterfactuals

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork
    >>> from glassnet.decisions import counterfactual
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), [-1.0]],
    ...                   output="sigmoid", feature_names=["income", "savings"])
    >>> cf = counterfactual(net, np.array([[0.2, 0.3]]), weights=[1.0, 2.0],
    ...                     box=([0, 0], [2, 2]), constraints={"immutable": []})
    >>> str(cf.frame.status[0]), bool(cf.frame.valid[0]), round(float(cf.frame.cost[0]), 4)
    ('found', True, 0.5)
    >>> cf.counterfactual.round(4).values.tolist()   # the cheaper feature moves
    [[0.7, 0.3]]
    """
    net = as_network(model)
    task = require_classifier(net, "counterfactual")
    norm = check_norm(cost)
    names = input_names(net)
    index = list(X.index) if hasattr(X, "columns") else None
    Xa = net.check_input(X)
    index = index if index is not None else list(range(Xa.shape[0]))
    D = net.check_input(data, name="data") if data is not None else Xa
    d = net.n_features
    if target is None and task != "binary":
        raise ValueError("target is required for a multi-class network (the class to reach).")
    tgt = None if target is None else check_class(net, target, "target")
    if threshold is not None and task != "binary":
        raise ValueError("threshold applies to binary networks; for multi-class the target "
                         "class must have the largest score.")
    lvl = 0.0 if threshold is None else check_threshold(threshold)
    if not (isinstance(margin, (int, float)) and np.isfinite(margin) and margin >= 0):
        raise ValueError(f"margin must be a finite number >= 0; got {margin!r}.")
    res = resolve(net, Constraints.from_dict(constraints), D if data is not None else None)
    w = _weights(weights, D, res, d)
    if box is not None:
        lo, hi = check_box(box, d)
    else:
        if D.shape[0] < 2 and data is None:
            raise ValueError("With one row and no data, pass data= (e.g. the training rows) "
                             "or box=(lo, hi): the default box is the data's bounding box.")
        lo, hi = D.min(axis=0), D.max(axis=0)
    glo, ghi = np.minimum(lo, Xa.min(axis=0)), np.maximum(hi, Xa.max(axis=0))
    gbounds = interval_bounds(net, glo, ghi, tighten=tighten)
    eta0 = net.forward(Xa)
    cls0 = predict_class(net, eta0)
    records, points = [], np.full_like(Xa, np.nan)
    eta_d, pools = net.forward(D), {}
    for i, x0 in enumerate(Xa):
        t = int(1 - cls0[i]) if tgt is None else tgt
        level = (lvl if t == 1 else -lvl) if net.n_outputs == 1 else 0.0
        rec = {"row": index[i], "target": t}
        # a positive margin means the target class (multi-class: strictly the largest)
        if class_margin(eta0[i : i + 1], t, level)[0] > 0:
            rec.update(status="already", cost=0.0, valid=True, gap=0.0, seconds=0.0,
                       n_binary=0)
            points[i] = x0
        else:
            if t not in pools:
                pools[t] = D[class_margin(eta_d, t, level) > 0]
            p, info = _solve_row(net, x0, t, level, res, lo, hi, gbounds, w, norm, margin,
                                 time_limit, pools[t])
            rec.update(info)
            if p is not None:
                points[i] = p
        records.append(rec)
    frame = pd.DataFrame(records)
    frame["cost"] = np.where(np.isfinite(points).all(1), distance(points, Xa, w, norm), np.nan)
    ok = np.isfinite(points).all(axis=1)
    eta1 = np.full_like(eta0, np.nan)
    if ok.any():
        eta1[ok] = net.forward(points[ok])
    marg = np.full(Xa.shape[0], np.nan)
    for i in np.flatnonzero(ok):
        t = records[i]["target"]
        level = (lvl if t == 1 else -lvl) if net.n_outputs == 1 else 0.0
        marg[i] = class_margin(eta1[i : i + 1], t, level)[0]
    frame["margin"] = marg
    frame["valid"] = ok & (marg > 0)
    frame["n_changed"] = np.where(ok, (np.abs(points - Xa) > 1e-9).sum(axis=1), 0)
    pat0 = net.activation_patterns(Xa)
    region = [""] * Xa.shape[0]
    same = np.zeros(Xa.shape[0], dtype=bool)
    if ok.any():
        pat1 = net.activation_patterns(points[ok])
        for k, i in enumerate(np.flatnonzero(ok)):
            region[i] = np.packbits(pat1[k]).tobytes().hex()
            same[i] = bool((pat1[k] == pat0[i]).all())
    frame["same_region"] = same
    frame["region"] = region
    if net.n_outputs == 1:
        from scipy.special import expit

        sgn = np.where(frame.target.to_numpy() == 1, 1.0, -1.0)
        frame["probability_before"] = expit(sgn * eta0[:, 0])
        frame["probability_after"] = expit(sgn * eta1[:, 0])
    cols = ["row", "status", "target", "cost", "valid", "margin", "gap", "n_changed",
            "same_region", "region", "seconds", "cpu_seconds", "n_binary"]
    frame["cpu_seconds"] = frame.get("cpu_seconds", pd.Series(np.nan, index=frame.index))
    frame = frame[cols + [c for c in frame.columns if c not in cols]]
    return Counterfactuals(
        frame=frame,
        original=pd.DataFrame(Xa, index=index, columns=names),
        counterfactual=pd.DataFrame(points, index=index, columns=names),
        norm=norm, weights=w,
        integer_features=[n for n, k in zip(names, res.integer, strict=True) if k],
    )


def _weights(weights: Any, D: np.ndarray, res: Resolved, d: int) -> np.ndarray:
    if weights is None:
        w = mad_weights(D)
        for g in res.groups:
            w[g] = 0.5
        return w
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.shape != (d,) or not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(f"weights must be {d} finite non-negative numbers; got shape "
                         f"{w.shape}.")
    return w


def _row_box(x0, lo, hi, res: Resolved):
    lo = np.maximum(np.minimum(lo, x0), res.lower)
    hi = np.minimum(np.maximum(hi, x0), res.upper)
    lo = np.where(res.fixed, x0, lo)
    hi = np.where(res.fixed, x0, hi)
    lo = np.where(res.up_only, np.maximum(lo, x0), lo)
    hi = np.where(res.down_only, np.minimum(hi, x0), hi)
    for g in res.groups:
        lo[g] = np.maximum(lo[g], 0.0)
        hi[g] = np.minimum(hi[g], 1.0)
    lo = np.where(res.integer, np.ceil(lo - 1e-9), lo)
    hi = np.where(res.integer, np.floor(hi + 1e-9), hi)
    return lo, hi


def _solve_row(net: ReluNetwork, x0, t, level, res: Resolved, lo, hi, gbounds, w, norm,
               margin, time_limit, pool):
    t0, c0 = time.perf_counter(), time.process_time()
    rlo, rhi = _row_box(x0, lo, hi, res)
    info: dict[str, Any] = {"gap": np.nan, "n_binary": 0}
    if (rlo > rhi).any():
        info.update(status="infeasible", seconds=time.perf_counter() - t0)
        return None, info
    discrete = res.integer | _in_groups(res, x0.size)
    # Budgets: the cost of a feasible point when one is found (the optimum lies in that
    # ball), else growing balls; the last budget covers the whole row box.
    full = float(distance(np.where(np.abs(rlo - x0) > np.abs(rhi - x0), rlo, rhi), x0, w,
                          norm)[0]) * (1 + 1e-9) + 1e-9
    upper, guess = feasible_point(net, x0, t, level, margin, rlo, rhi, res, w, norm, pool,
                                  discrete)
    if res.integer.any():
        # Integer features: points from the data rarely sit near the optimum, and a wide
        # ball makes the integer program slow. The optimum with them relaxed, rounded and
        # polished, often does.
        relaxed_ok = _in_groups(res, x0.size)
        limit = None if time_limit is None else time_limit / 4
        r_upper, relaxed = feasible_point(net, x0, t, level, margin, rlo, rhi, res, w, norm,
                                          pool, relaxed_ok)
        if np.isfinite(r_upper):  # its ball is small: the relaxed program is fast
            budget = min(r_upper * (1 + 1e-6) + 1e-9, full)
            found, _ = _solve_budget(net, x0, t, level, res, rlo, rhi, gbounds, w, norm,
                                     margin, limit, budget, relaxed_ok)
            relaxed = relaxed if found is None else found
        if relaxed is not None:
            cost, point = rounded_point(net, relaxed, x0, t, level, margin, rlo, rhi, res, w,
                                        norm, discrete)
            if cost < upper:
                upper, guess = cost, point
    if np.isfinite(upper):
        budgets = [min(upper * (1 + 1e-6) + 1e-9, full)]
    else:
        budgets = [b for b in _GROWING if b < full] + [full]
    for k, budget in enumerate(budgets):
        last = k == len(budgets) - 1
        limit = None if time_limit is None else max(time_limit - (time.perf_counter() - t0),
                                                    1e-3)
        p, info = _solve_budget(net, x0, t, level, res, rlo, rhi, gbounds, w, norm, margin,
                                limit, budget, discrete)
        if guess is not None and (p is None or (
                info["status"] != "found" and distance(guess, x0, w, norm)[0]
                < distance(p, x0, w, norm)[0])):
            # the program stopped without a point, or with a worse one (time limit, or
            # tolerances made the known point infeasible): the verified feasible point is
            # still an answer, just not proved optimal
            info.update(status="time_limit", gap=np.nan)
            p = guess
        if p is not None or info["status"] != "infeasible" or last:
            info["seconds"] = time.perf_counter() - t0
            info["cpu_seconds"] = time.process_time() - c0
            return p, info
    return None, info  # pragma: no cover - the loop always returns on its last budget


def _solve_budget(net, x0, t, level, res, rlo, rhi, gbounds, w, norm, margin, time_limit,
                  budget, discrete):
    """Solve the row's MILP inside the cost ball ``cost <= budget``."""
    # the global (LP-tightened) bounds hold in the row's box, which lies inside the global
    # one; the ball's own bounds are tighter: keep the best of both
    rb = interval_bounds(net, rlo, rhi, tighten=True, ball=(x0, w, budget, norm))
    bounds = [(np.maximum(a[0], b[0]), np.minimum(a[1], b[1]))
              for a, b in zip(gbounds, rb, strict=True)]
    info: dict[str, Any] = {}
    m_margin = margin
    for _ in range(_RETRIES + 1):
        m = Model(rlo, rhi)
        for j in np.flatnonzero(discrete):
            m.integer[m.x[j]] = 1
        E, e0 = m.add_network(net, m.x, bounds)
        add_target(m, E, e0, t, level, m_margin)
        for g in res.groups:
            m.add_row(m.x[g], 1.0, 1.0, 1.0)
        for cols, vals, llo, lhi in res.linear:
            m.add_row(m.x[cols], vals, llo, lhi)
        c = add_distance(m, x0, w, norm, budget)
        sol = m.solve(c, time_limit=time_limit)
        info.update(gap=sol.gap, n_binary=m.n_binary)
        if sol.x is None:
            info["status"] = "infeasible" if sol.status == "infeasible" else "time_limit"
            return None, info
        p = np.clip(sol.x[: x0.size], rlo, rhi)
        p[discrete] = np.round(p[discrete])
        if class_margin(net.forward(p[None]), t, level)[0] > 0:
            info["status"] = "found" if sol.status == "optimal" else "time_limit"
            return p, info
        m_margin = max(m_margin, 1e-9) * _MARGIN_GROWTH
    warnings.warn("A counterfactual failed the forward-pass check after margin retries; "
                  "it is reported with valid=False.", RuntimeWarning, stacklevel=4)
    info["status"] = "found"
    return p, info


def _in_groups(res: Resolved, d: int) -> np.ndarray:
    mask = np.zeros(d, bool)
    for g in res.groups:
        mask[g] = True
    return mask


# ---------------------------------------------------------------------- audit
@dataclass
class RecourseAudit:
    """Result of :func:`recourse_audit`.

    Attributes
    ----------
    summary : DataFrame
        Per group (and ``"all"``): ``n_rows``, ``n_declined``, ``n_feasible`` (declined rows
        with a valid counterfactual under the constraints), ``share_feasible``, and the cost
        distribution of the feasible ones: ``cost_mean``, ``cost_median``, ``cost_p90``,
        ``cost_max``.
    counterfactuals : Counterfactuals
        The declined rows' counterfactuals.
    """

    summary: pd.DataFrame
    counterfactuals: Counterfactuals


def recourse_audit(
    model: Any, X: Any, *, favorable: int = DEFAULT_FAVORABLE, group: Any = None,
    **kwargs: Any
) -> RecourseAudit:
    """Share of declined rows that have a feasible recourse, and what it costs, by group.

    Parameters
    ----------
    model : as in :func:`counterfactual`
    X : DataFrame or array-like
        Rows to audit. A DataFrame may carry the ``group`` column besides the inputs.
    favorable : int, default=DEFAULT_FAVORABLE (0)
        The approved class (0: no default; see :mod:`glassnet.decisions.favorable`);
        rows predicted otherwise are declined and get a counterfactual with
        ``target=favorable``.
    group : str or array-like, optional
        A column of ``X`` (kept out of the inputs unless it is one) or one label per row.
    **kwargs
        Passed to :func:`counterfactual` (cost, constraints, data, box, threshold, ...).

    Returns
    -------
    RecourseAudit
    """
    net = as_network(model)
    require_classifier(net, "recourse_audit")
    fav = check_class(net, favorable, "favorable")
    labels = None
    if isinstance(group, str):
        if not hasattr(X, "columns") or group not in X.columns:
            raise ValueError(f"group={group!r} must be a column of the DataFrame X.")
        labels = X[group].to_numpy()
        if net.feature_names is not None and group not in net.feature_names:
            X = X.drop(columns=[group])
    elif group is not None:
        labels = np.asarray(group)
    index = list(X.index) if hasattr(X, "columns") else None
    Xa = net.check_input(X)
    if labels is not None and labels.shape != (Xa.shape[0],):
        raise ValueError(f"group has {labels.shape} labels for {Xa.shape[0]} rows.")
    kwargs.setdefault("data", Xa)
    declined = predict_class(net, net.forward(Xa)) != fav
    if not declined.any():
        raise ValueError("No row of X is declined (all are in the favorable class).")
    Xd = pd.DataFrame(Xa[declined], columns=input_names(net),
                      index=np.asarray(index if index is not None
                                       else np.arange(Xa.shape[0]))[declined])
    cfs = counterfactual(net, Xd, fav, **kwargs)
    f = cfs.frame
    labels = np.full(Xa.shape[0], "all", dtype=object) if labels is None else labels
    rows = []
    for name, mask in [("all", np.ones(Xa.shape[0], bool)),
                       *[(g, labels == g) for g in pd.unique(labels) if g != "all"]]:
        dm = mask[declined]
        sub = f[dm]
        feas = sub[sub.valid]
        rows.append({"group": name, "n_rows": int(mask.sum()), "n_declined": int(dm.sum()),
                     "n_feasible": int(len(feas)),
                     "share_feasible": len(feas) / max(int(dm.sum()), 1),
                     "cost_mean": feas.cost.mean(), "cost_median": feas.cost.median(),
                     "cost_p90": feas.cost.quantile(0.9) if len(feas) else np.nan,
                     "cost_max": feas.cost.max()})
    summary = pd.DataFrame(rows).set_index("group")
    summary.attrs["favorable"] = fav  # declined = not in this class
    summary.attrs["favorable_note"] = favorable_note(fav)
    return RecourseAudit(summary, cfs)
