"""Resilience: the score on the worst-served rows and under simulated distribution shifts.

* Worst sample (as PiML's "worst-sample"): rows ranked by their own loss (log-loss or squared
  error); the score on the worst ``share`` of rows, for increasing shares. The PSI of each
  feature between those worst rows and the rest says which features set them apart.
* Shift: each feature in turn is moved by ``delta`` standard deviations on a random
  ``share`` of the rows; the score after the shift, and that feature's PSI against the
  original rows (how large a shift monitoring would see).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from glassnet import _metrics as M
from glassnet.diagnose._common import (
    ModelView,
    as_frame,
    check_xy,
    default_metric,
    one_score,
    rng_of,
)
from glassnet.diagnose.weakspots import row_loss

__all__ = ["resilience", "ResilienceResult"]


@dataclass
class ResilienceResult:
    """What :func:`resilience` measured.

    Attributes
    ----------
    worst : DataFrame
        ``share``, ``n``, ``<metric>`` on the worst ``share`` of rows (1.0 = all rows).
    psi : DataFrame
        ``feature``, ``psi`` between the worst ``psi_share`` of rows and the rest, largest first.
    shift : DataFrame or None
        ``feature``, ``delta``, ``<metric>``, ``change`` (shifted minus original), ``psi``.
    metric : str
    """

    worst: pd.DataFrame
    psi: pd.DataFrame
    shift: pd.DataFrame | None
    metric: str


def resilience(
    model: Any,
    X: Any,
    y: Any,
    *,
    shares: Any = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0),
    psi_share: float = 0.2,
    metric: str | None = None,
    shift_features: Any = None,
    deltas: Any = (0.5, 1.0),
    shift_share: float = 1.0,
    psi_bins: int = 10,
    random_state: Any = 0,
    task: str = "auto",
) -> ResilienceResult:
    """Score on the worst-performing share of rows; PSI per feature; simulated shifts.

    Parameters
    ----------
    model : fitted estimator or ReluNetwork
    X, y : array-like
    shares : sequence of float in (0, 1]
        Shares of worst rows scored. A share whose rows hold one class gives NaN AUC; use
        ``metric="log_loss"`` or ``"brier"`` for them (the worst rows are often one class).
    psi_share : float
        Share of worst rows compared with the rest by PSI.
    metric : str, optional
        Default AUC / RMSE.
    shift_features : sequence of str or int, optional
        Features shifted one at a time (default: none, no shift table).
    deltas : sequence of float
        Shift sizes in standard deviations of the feature.
    shift_share : float
        Share of rows (drawn at random) that are shifted.
    psi_bins : int
        Quantile bins of :func:`glassnet._metrics.psi`.
    random_state : int, optional
    task : {"auto", "classification", "regression"}

    Returns
    -------
    ResilienceResult
    """
    view = ModelView(model, task)
    X, y = check_xy(X, y)
    metric = metric or default_metric(view)
    shares = np.asarray(shares, dtype=np.float64)
    if shares.ndim != 1 or np.any((shares <= 0) | (shares > 1)):
        raise ValueError("shares must be numbers in (0, 1].")
    if not 0 < psi_share < 1:
        raise ValueError(f"psi_share must be in (0, 1); got {psi_share!r}.")
    out = view.output(X)
    order = np.argsort(-row_loss(view, y, out), kind="stable")
    n = len(y)
    rows = []
    for s in shares:
        k = max(1, int(round(s * n)))
        idx = order[:k]
        rows.append({"share": s, "n": k, metric: one_score(view, y[idx], out[idx], metric)})
    F = as_frame(X)
    k = max(1, int(round(psi_share * n)))
    worst = np.zeros(n, dtype=bool)
    worst[order[:k]] = True
    psi_rows = []
    for c in F.columns:
        x = F[c].to_numpy(dtype=np.float64)
        # the rest is the reference ("expected"), the worst rows the "actual" sample
        psi_rows.append({"feature": c, "psi": M.psi(x[~worst], x[worst], bins=psi_bins)
                         if (~worst).any() else np.nan})
    psi_table = pd.DataFrame(psi_rows).sort_values("psi", ascending=False, ignore_index=True)
    shift_table = None
    if shift_features is not None:
        if not 0 < shift_share <= 1:
            raise ValueError(f"shift_share must be in (0, 1]; got {shift_share!r}.")
        rng = rng_of(random_state)
        base = one_score(view, y, out, metric)
        feats = [shift_features] if isinstance(shift_features, (str, int)) else shift_features
        srows = []
        for f in feats:
            c = F.columns[f] if isinstance(f, (int, np.integer)) else f
            if c not in F.columns:
                raise ValueError(f"shift feature {c!r} is not a column of X.")
            x = F[c].to_numpy(dtype=np.float64)
            sd = x.std()
            for delta in deltas:
                pick = rng.uniform(size=n) < shift_share
                G = F.copy()
                G[c] = x + delta * sd * pick
                o = view.output(G if hasattr(X, "columns") else G.to_numpy())
                v = one_score(view, y, o, metric)
                srows.append({"feature": c, "delta": float(delta), metric: v,
                              "change": v - base,
                              "psi": M.psi(x, G[c].to_numpy(), bins=psi_bins)})
        shift_table = pd.DataFrame(srows)
    return ResilienceResult(pd.DataFrame(rows), psi_table, shift_table, metric)
