"""Reliability: split-conformal prediction sets and intervals, calibration, Brier decomposition.

Split conformal prediction (Vovk et al. 2005; Lei et al. 2018) needs only held-out
calibration rows: with nonconformity scores ``s_i`` on ``n`` calibration rows and
``q`` = the ``ceil((n + 1)(1 - alpha))``-th smallest of them, the set
``{label k : score(x, k) <= q}`` holds the true label of a new exchangeable row with
probability at least ``1 - alpha``. Scores: ``1 - p_k(x)`` (classification, "LAC"),
``|y - f(x)|`` (regression, intervals ``f(x) +/- q``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from glassnet import _metrics as M
from glassnet.diagnose._common import ModelView, as_frame, check_xy
from glassnet.diagnose.weakspots import _features, _histogram_slices

__all__ = ["reliability", "ReliabilityResult", "conformal_quantile"]


def conformal_quantile(scores: np.ndarray, alpha: float) -> float:
    """The ``ceil((n + 1)(1 - alpha))``-th smallest score (``inf`` when that exceeds ``n``).

    Parameters
    ----------
    scores : ndarray of shape (n,)
        Nonconformity scores of the calibration rows.
    alpha : float
        Miscoverage level in (0, 1).

    Returns
    -------
    float
    """
    n = len(scores)
    k = int(np.ceil((n + 1) * (1 - alpha)))
    if k > n:
        return float("inf")
    return float(np.sort(scores)[k - 1])


@dataclass
class ReliabilityResult:
    """What :func:`reliability` measured.

    Attributes
    ----------
    summary : DataFrame
        One row: ``alpha``, ``nominal`` (``1 - alpha``), ``coverage`` on the test rows,
        ``bandwidth`` (mean set size, or interval width), ``quantile`` ``q``, ``n_calibration``.
    by_slice : DataFrame or None
        Coverage and bandwidth per histogram slice of the test rows.
    sets : ndarray
        Boolean (n_test, n_classes) prediction sets, or (n_test, 2) intervals.
    calibration : DataFrame or None
        Binary classification: :func:`glassnet._metrics.calibration_curve` on the test rows.
    brier : BrierDecomposition or None
        Binary classification: Murphy decomposition on the test rows.
    """

    summary: pd.DataFrame
    by_slice: pd.DataFrame | None
    sets: np.ndarray
    calibration: pd.DataFrame | None = None
    brier: Any = None
    task: str = field(default="classification")


def reliability(
    model: Any,
    X_cal: Any,
    y_cal: Any,
    X_test: Any,
    y_test: Any,
    *,
    alpha: float = 0.1,
    slice_features: Any = None,
    bins: int = 10,
    min_samples: int = 20,
    n_bins_calibration: int = 10,
    task: str = "auto",
) -> ReliabilityResult:
    """Split-conformal coverage and bandwidth, by slice; calibration and Brier decomposition.

    Parameters
    ----------
    model : fitted estimator or ReluNetwork
    X_cal, y_cal : array-like
        Calibration rows, not used to fit the model (the coverage guarantee needs rows
        exchangeable with the test rows; training rows give too small residuals).
    X_test, y_test : array-like
        Rows on which coverage is measured.
    alpha : float
        Miscoverage level; 0.1 asks for sets that hold the truth 90% of the time.
    slice_features : str or sequence of str, optional
        Features whose histogram slices get their own coverage (default: none).
    bins, min_samples : int
        Histogram bins per feature, and the smallest slice reported.
    n_bins_calibration : int
        Equal-width probability bins of the calibration curve and Brier decomposition.
    task : {"auto", "classification", "regression"}

    Returns
    -------
    ReliabilityResult
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1); got {alpha!r}.")
    view = ModelView(model, task)
    X_cal, y_cal = check_xy(X_cal, y_cal, "X_cal")
    X_test, y_test = check_xy(X_test, y_test, "X_test")
    out_cal, out_te = view.output(X_cal), view.output(X_test)
    calib = brier = None
    if view.task == "classification":
        P_cal = np.column_stack([1 - out_cal, out_cal]) if out_cal.ndim == 1 else out_cal
        P_te = np.column_stack([1 - out_te, out_te]) if out_te.ndim == 1 else out_te
        idx_cal = _class_index(view, y_cal, "y_cal")
        idx_te = _class_index(view, y_test, "y_test")
        q = conformal_quantile(1.0 - P_cal[np.arange(len(y_cal)), idx_cal], alpha)
        sets = (1.0 - P_te) <= q
        covered = sets[np.arange(len(y_test)), idx_te]
        width = sets.sum(axis=1).astype(np.float64)
        if out_te.ndim == 1:
            pos = view.classes[1]
            calib = M.calibration_curve(y_test, out_te, n_bins=n_bins_calibration,
                                        pos_label=pos)
            brier = M.brier_decomposition(y_test, out_te, n_bins=n_bins_calibration,
                                          pos_label=pos)
    else:
        q = conformal_quantile(np.abs(y_cal.astype(np.float64) - out_cal), alpha)
        sets = np.column_stack([out_te - q, out_te + q])
        yt = y_test.astype(np.float64)
        covered = (yt >= sets[:, 0]) & (yt <= sets[:, 1])
        width = np.full(len(yt), 2 * q)
    summary = pd.DataFrame([{
        "alpha": alpha, "nominal": 1 - alpha, "coverage": float(covered.mean()),
        "bandwidth": float(width.mean()), "quantile": q, "n_calibration": len(y_cal),
    }])
    by_slice = None
    if slice_features is not None:
        F = as_frame(X_test)
        rows = []
        for desc, mfun in _histogram_slices(F, _features(F, slice_features), bins):
            m = np.broadcast_to(np.asarray(mfun(F), dtype=bool), (len(y_test),))
            if m.sum() >= min_samples:
                rows.append({"slice": desc, "n": int(m.sum()), "coverage": covered[m].mean(),
                             "bandwidth": width[m].mean()})
        by_slice = pd.DataFrame(rows, columns=["slice", "n", "coverage", "bandwidth"])
    return ReliabilityResult(summary, by_slice, sets, calib, brier, view.task)


def _class_index(view: ModelView, y: np.ndarray, name: str) -> np.ndarray:
    idx = np.searchsorted(view.classes, y)
    idx = np.minimum(idx, len(view.classes) - 1)
    bad = view.classes[idx] != y
    if bad.any():
        raise ValueError(
            f"{name} holds labels {np.unique(y[bad])[:5].tolist()} that are not among the "
            f"model's classes {view.classes.tolist()}."
        )
    return idx
