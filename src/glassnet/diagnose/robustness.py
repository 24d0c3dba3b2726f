"""Robustness: performance under random input noise, and the exact worst case.

Random part (as PiML): each chosen feature gets noise of scale ``size * std_j`` (its standard
deviation on ``X``), for increasing ``size``; the score and the share of decisions that
change are averaged over repeats.

Exact part (ReLU classifiers): for each row, the smallest perturbation, measured in the same
per-feature standard deviations (``max_j |dx_j| / std_j``), that changes the network's
decision, from :func:`glassnet.decisions.min_flip_distance` (a mixed-integer program over the
activation patterns, HiGHS). The share of rows whose decision can be flipped within radius
``size`` is then exact, where the random curve only samples that ball: with uniform noise
(``noise="uniform"``, the same L-infinity ball) the random flip rate can never exceed it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from glassnet.diagnose._common import (
    ModelView,
    as_frame,
    as_network_or_none,
    check_xy,
    default_metric,
    one_score,
    rng_of,
)

__all__ = ["robustness", "RobustnessResult", "worst_case_flip"]


@dataclass
class RobustnessResult:
    """What :func:`robustness` measured.

    Attributes
    ----------
    random : DataFrame
        Per ``size``: ``<metric>_mean``, ``<metric>_std`` (over repeats), ``flip_rate`` (share
        of rows whose decision changed, mean over repeats; classification only).
    exact : DataFrame or None
        Per ``size``: ``share_flippable``, the exact share of the assessed rows whose decision
        some perturbation within that radius changes, over the ``n_rows`` rows whose MILP was
        solved; ``share_flippable_lo`` / ``_hi`` bound the share over all assessed rows,
        counting the ``n_timed_out`` rows as not flippable / flippable (equal when none timed
        out). None when not computed.
    distances : ndarray or None
        Exact flip radius of each assessed row (``inf``: no flip within the largest size;
        NaN: the MILP hit ``time_limit``).
    metric : str
    noise : str
    """

    random: pd.DataFrame
    exact: pd.DataFrame | None
    distances: np.ndarray | None
    metric: str
    noise: str


def _scaled_network(net: Any, std: np.ndarray) -> Any:
    """The network on standardised inputs ``z = x / std``: first-layer columns times std."""
    from glassnet.network import ReluNetwork

    W = [np.array(w, dtype=np.float64) for w in net.weights]
    W[0] = W[0] * std[None, :]
    return ReluNetwork(W, [np.array(b, dtype=np.float64) for b in net.biases],
                       output=net.output)


def worst_case_flip(
    model: Any, X: Any, *, scale: Any = "std", box: Any = None, radius: float | None = None,
    time_limit: float | None = None,
) -> np.ndarray:
    """Exact smallest perturbation of each row that changes a ReLU classifier's decision.

    Parameters
    ----------
    model : glassnet classifier, ReluNetwork or model :func:`glassnet.io.as_network` accepts
    X : array-like of shape (n, d)
    scale : "std", None or array-like of shape (d,)
        Unit of each feature: ``"std"`` (its standard deviation on ``X``), None (raw units)
        or given scales. The radius is ``max_j |dx_j| / scale_j``.
    box : (lo, hi) or array of shape (d, 2), optional
        Bounds on the perturbed point in raw units (rescaled with ``scale``).
    radius : float, optional
        Only look within this radius of each row (in ``scale`` units): each row's MILP is
        then posed on its own small box, whose tight neuron bounds make it much faster. A
        row with no decision change within ``radius`` gets ``inf``.
    time_limit : float, optional
        Seconds per MILP (rows that run out get NaN).

    Returns
    -------
    ndarray of shape (n,)
        Radius of the closest decision change; ``inf`` where none exists (within ``radius``).
    """
    from glassnet.decisions import min_flip_distance

    net = as_network_or_none(model)
    if net is None:
        raise TypeError(
            f"The exact worst case needs a ReLU network; {type(model).__name__} is not one. "
            "Pass exact=False for the random curve only."
        )
    Xa = net.check_input(X)
    d = Xa.shape[1]
    if isinstance(scale, str) and scale == "std":
        s = Xa.std(axis=0)
    elif scale is None:
        s = np.ones(d)
    else:
        s = np.asarray(scale, dtype=np.float64)
        if s.shape != (d,):
            raise ValueError(f"scale must have one entry per feature ({d}); got {s.shape}.")
    s = np.where(s > 0, s, 1.0)  # a constant feature keeps raw units
    zbox = None
    if box is not None:
        b = np.asarray(box, dtype=np.float64)
        # (lo, hi) as scalars or two rows, else one (lo, hi) row per feature; as
        # glassnet.decisions reads it, (lo, hi) wins when d == 2
        if b.shape == (2,) or b.shape == (2, d):
            lo, hi = np.broadcast_to(b[0], d), np.broadcast_to(b[1], d)
        elif b.shape == (d, 2):
            lo, hi = b[:, 0], b[:, 1]
        else:
            raise ValueError(f"box must be (lo, hi) or of shape ({d}, 2); got {b.shape}.")
        zbox = np.vstack([lo / s, hi / s])
    scaled, Z = _scaled_network(net, s), Xa / s
    if radius is None:
        return min_flip_distance(scaled, Z, norm="linf", box=zbox, time_limit=time_limit)
    if not radius > 0:
        raise ValueError(f"radius must be > 0; got {radius!r}.")
    out = np.empty(len(Z))
    for i, z in enumerate(Z):
        lo, hi = z - radius, z + radius
        if zbox is not None:
            lo, hi = np.maximum(lo, zbox[0]), np.minimum(hi, zbox[1])
        # a (2, d) box is read as (lo, hi) whatever d is
        out[i] = min_flip_distance(scaled, z[None], norm="linf", box=np.vstack([lo, hi]),
                                   time_limit=time_limit)[0]
    return out


def robustness(
    model: Any,
    X: Any,
    y: Any,
    *,
    features: Any = None,
    sizes: Any = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5),
    noise: str = "normal",
    n_repeats: int = 10,
    metric: str | None = None,
    exact: bool = True,
    max_exact_rows: int = 200,
    box: Any = None,
    time_limit: float | None = None,
    random_state: Any = 0,
    task: str = "auto",
) -> RobustnessResult:
    """Score under random perturbations of increasing size, and the exact worst-case curve.

    Parameters
    ----------
    model : fitted estimator or ReluNetwork
    X, y : array-like
        Rows to perturb (usually test rows).
    features : sequence of str or int, optional
        Features perturbed by the random noise (default all). The exact worst case always
        lets every feature move.
    sizes : sequence of float
        Noise scales in units of each feature's standard deviation on ``X``.
    noise : {"normal", "uniform"}
        ``normal``: ``N(0, (size std_j)^2)`` (as PiML); ``uniform``: ``U(-size std_j,
        size std_j)``, the L-infinity ball the exact curve is measured on.
    n_repeats : int
        Random draws per size.
    metric : str, optional
        Score (default AUC / RMSE).
    exact : bool
        Compute the exact worst-case flip radius (ReLU classifiers).
    max_exact_rows : int
        Rows assessed exactly (a random subset of this size when ``X`` is larger; each row
        is one MILP).
    box : optional
        Raw-unit bounds for the exact search (see :func:`worst_case_flip`).
    time_limit : float, optional
        Seconds per MILP.
    random_state : int, optional
    task : {"auto", "classification", "regression"}

    Returns
    -------
    RobustnessResult
    """
    view = ModelView(model, task)
    X, y = check_xy(X, y)
    metric = metric or default_metric(view)
    if noise not in ("normal", "uniform"):
        raise ValueError(f"noise must be 'normal' or 'uniform'; got {noise!r}.")
    sizes = np.asarray(sizes, dtype=np.float64)
    if sizes.ndim != 1 or sizes.size == 0 or np.any(sizes < 0) or not np.all(np.isfinite(sizes)):
        raise ValueError("sizes must be a non-empty sequence of finite non-negative numbers.")
    F = as_frame(X)
    A = F.to_numpy(dtype=np.float64)
    cols = list(range(A.shape[1])) if features is None else [
        F.columns.get_loc(f) if not isinstance(f, (int, np.integer)) else int(f)
        for f in ([features] if isinstance(features, str) else features)]
    std = A.std(axis=0)
    rng = rng_of(random_state)
    out0 = view.output(X)
    dec0 = view.decide(out0) if view.task == "classification" else None
    rows = []
    for size in sizes:
        vals, flips = [], []
        for _ in range(n_repeats if size > 0 else 1):
            P = A.copy()
            shape = (len(A), len(cols))
            u = rng.standard_normal(shape) if noise == "normal" else rng.uniform(-1, 1, shape)
            P[:, cols] += size * std[cols] * u
            Pin = pd.DataFrame(P, columns=F.columns) if hasattr(X, "columns") else P
            out = view.output(Pin)
            vals.append(one_score(view, y, out, metric))
            if dec0 is not None:
                flips.append(float(np.mean(view.decide(out) != dec0)))
        row = {"size": size, f"{metric}_mean": float(np.mean(vals)),
               f"{metric}_std": float(np.std(vals))}
        if dec0 is not None:
            row["flip_rate"] = float(np.mean(flips))
        rows.append(row)
    random_table = pd.DataFrame(rows)
    exact_table = dist = None
    if exact and view.task == "classification":
        take = np.arange(len(A))
        if len(A) > max_exact_rows:
            take = np.sort(rng.choice(len(A), max_exact_rows, replace=False))
        # the exact radius is in the same std units as the noise (std of all of X)
        net = as_network_or_none(model)
        if net is None:
            raise TypeError(
                f"exact=True needs a ReLU network; {type(model).__name__} is not one. "
                "Pass exact=False for the random curve only."
            )
        s = np.where(std > 0, std, 1.0)
        # only radii up to the largest size matter for the curve: a per-row box that small
        # keeps each MILP fast (rows with no flip inside it get inf)
        r_max = float(sizes.max())
        dist = worst_case_flip(net, A[take], scale=s, box=box, time_limit=time_limit,
                               radius=r_max if r_max > 0 else None)
        solved = ~np.isnan(dist)
        flips = np.array([np.sum(dist[solved] <= r) for r in sizes], dtype=np.float64)
        n_all, n_late = len(dist), int((~solved).sum())
        exact_table = pd.DataFrame({
            "size": sizes,
            "share_flippable": flips / solved.sum() if solved.any() else np.nan,
            # bounds over all assessed rows: timed-out rows counted as not flippable / flippable
            "share_flippable_lo": flips / n_all,
            "share_flippable_hi": (flips + n_late) / n_all,
            "n_rows": int(solved.sum()), "n_timed_out": n_late})
    return RobustnessResult(random_table, exact_table, dist, metric, noise)
