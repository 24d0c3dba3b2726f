"""Scores computed over bins: Brier decomposition, calibration curve, PSI and gains table.

Part of :mod:`glassnet._metrics` (which re-exports every name here); split off because these
share one job, grouping rows into probability, quantile or count bins, and its edge rules:
calibration bins are scikit-learn's, PSI bins are the quantiles of ``expected`` (one bin per
value when it has few distinct values) with an ``eps`` floor on empty bins, gains bands are
the quantiles of the score with ties kept in one band.

This module imports nothing from glassnet but the shared input checks.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from glassnet._metrics_inputs import as_1d, binary_target, check_bins, check_proba, pair

__all__ = [
    "BrierDecomposition", "brier_decomposition", "calibration_curve", "psi", "psi_edges",
    "psi_from_counts", "psi_terms_from_counts", "gains_table",
]


class BrierDecomposition(NamedTuple):
    """Murphy's decomposition ``brier = reliability - resolution + uncertainty + within_bin``.

    ``within_bin`` is the part due to forecasts varying inside a bin (zero when every bin holds a
    single forecast value), so the identity is exact.
    """

    brier: float
    reliability: float
    resolution: float
    uncertainty: float
    within_bin: float


def bin_index(p: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    """Bin of every probability in ``p`` (``n_bins`` uniform or quantile bins)."""
    # the same bin edges and rule as sklearn.calibration.calibration_curve
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.percentile(p, np.linspace(0.0, 100.0, n_bins + 1))
    else:
        raise ValueError(f"strategy must be 'uniform' or 'quantile'; got {strategy!r}.")
    return np.searchsorted(edges[1:-1], p)


def brier_decomposition(
    y: Any, proba: Any, *, n_bins: int = 10, strategy: str = "uniform", pos_label: Any = None
) -> BrierDecomposition:
    """Murphy (1973) decomposition of the Brier score over probability bins.

    With bins ``k`` holding ``n_k`` rows, mean forecast ``f_k`` and event rate ``o_k``, and
    overall event rate ``o``: reliability ``= sum n_k (f_k - o_k)^2 / n`` (lower is better),
    resolution ``= sum n_k (o_k - o)^2 / n`` (higher is better), uncertainty ``= o (1 - o)``.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels.
    proba : array-like of shape (n,)
        Probability of the positive class.
    n_bins : int
        Number of bins (10 by default, as for :func:`calibration_curve`).
    strategy : {"uniform", "quantile"}
        Equal-width bins on [0, 1] or equal-count bins, with scikit-learn's edges.
    pos_label : scalar, optional
        See :func:`binary_target`.

    Returns
    -------
    BrierDecomposition
    """
    y, p = pair(y, proba, "proba")
    check_proba(p)
    n_bins = check_bins(n_bins)
    yb = binary_target(y, pos_label)
    idx = bin_index(p, n_bins, strategy)
    n = len(p)
    o = yb.mean()
    counts = np.bincount(idx, minlength=n_bins).astype(np.float64)
    nz = counts > 0
    f_k = np.bincount(idx, weights=p, minlength=n_bins)[nz] / counts[nz]
    o_k = np.bincount(idx, weights=yb, minlength=n_bins)[nz] / counts[nz]
    rel = float(np.sum(counts[nz] * (f_k - o_k) ** 2) / n)
    res = float(np.sum(counts[nz] * (o_k - o) ** 2) / n)
    unc = float(o * (1.0 - o))
    b = float(np.mean((p - yb) ** 2))
    return BrierDecomposition(b, rel, res, unc, b - (rel - res + unc))


def calibration_curve(
    y: Any, proba: Any, *, n_bins: int = 10, strategy: str = "uniform", pos_label: Any = None
) -> pd.DataFrame:
    """Observed event rate against mean predicted probability, per probability bin.

    The bins are scikit-learn's (:func:`sklearn.calibration.calibration_curve`); empty bins are
    dropped. This adds the row count per bin, which a reliability diagram needs for weighting.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels.
    proba : array-like of shape (n,)
        Probability of the positive class.
    n_bins : int
        Number of bins.
    strategy : {"uniform", "quantile"}
        Equal-width or equal-count bins.
    pos_label : scalar, optional
        See :func:`binary_target`.

    Returns
    -------
    DataFrame
        Columns ``bin``, ``n``, ``mean_predicted``, ``observed_rate``.
    """
    y, p = pair(y, proba, "proba")
    check_proba(p)
    n_bins = check_bins(n_bins)
    yb = binary_target(y, pos_label)
    idx = bin_index(p, n_bins, strategy)
    counts = np.bincount(idx, minlength=n_bins)
    nz = np.flatnonzero(counts)
    return pd.DataFrame({
        "bin": nz,
        "n": counts[nz],
        "mean_predicted": np.bincount(idx, weights=p, minlength=n_bins)[nz] / counts[nz],
        "observed_rate": np.bincount(idx, weights=yb, minlength=n_bins)[nz] / counts[nz],
    })


# --------------------------------------------------------------------------- stability
def psi_edges(expected: np.ndarray, bins: int) -> np.ndarray:
    """Inner bin edges of :func:`psi`: quantiles of ``expected``, or midpoints of few values."""
    values = np.unique(expected)
    if len(values) <= bins:
        # few distinct values (a categorical or integer code): one bin per value
        return (values[:-1] + values[1:]) / 2.0
    return np.unique(np.quantile(expected, np.linspace(0.0, 1.0, bins + 1)[1:-1]))


def psi(expected: Any, actual: Any, *, bins: int = 10, eps: float = 1e-4) -> float:
    """Population stability index of ``actual`` against ``expected``.

    ``PSI = sum_b (a_b - e_b) * ln(a_b / e_b)`` over bins ``b``, where ``e_b`` and ``a_b`` are
    the shares of ``expected`` and ``actual`` in each bin. The bins are the ``bins``-quantiles of
    ``expected`` (duplicate edges merged; the outer bins are open, so every ``actual`` value
    falls in one); when ``expected`` has at most ``bins`` distinct values, each value is a bin.

    Empty-bin rule: a share below ``eps`` is replaced by ``eps`` (shares are not renormalised),
    so a bin empty on one side adds a large but finite term instead of infinity. Common reading:
    below 0.1 stable, 0.1 to 0.25 some shift, above 0.25 a significant shift.

    Parameters
    ----------
    expected : array-like of shape (n,)
        Reference values (e.g. one feature on the development sample).
    actual : array-like of shape (m,)
        Values to compare (e.g. the same feature on recent data).
    bins : int
        Number of quantile bins on ``expected``.
    eps : float
        Floor on the bin shares, in (0, 1).

    Returns
    -------
    float
        PSI, >= 0.
    """
    e = as_1d(expected, "expected")
    a = as_1d(actual, "actual")
    bins = check_bins(bins, "bins")
    if not 0.0 < eps < 1.0:
        raise ValueError(f"eps must be in (0, 1); got {eps!r}.")
    edges = psi_edges(e, bins)
    k = len(edges) + 1
    e_share = np.bincount(np.searchsorted(edges, e, side="right"), minlength=k) / len(e)
    a_share = np.bincount(np.searchsorted(edges, a, side="right"), minlength=k) / len(a)
    e_share = np.maximum(e_share, eps)
    a_share = np.maximum(a_share, eps)
    return float(np.sum((a_share - e_share) * np.log(a_share / e_share)))


def gains_table(y: Any, score: Any, *, n_bins: int = 10, pos_label: Any = None) -> pd.DataFrame:
    """Gains (lift) table: rows grouped into score bands, highest scores first.

    Bands are the ``n_bins``-quantiles of ``score``; tied scores stay in one band, so there may
    be fewer bands than ``n_bins`` when scores repeat.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels (1 = event, e.g. default).
    score : array-like of shape (n,)
        Scores, higher meaning more likely an event.
    n_bins : int
        Number of bands (10: deciles).
    pos_label : scalar, optional
        See :func:`binary_target`.

    Returns
    -------
    DataFrame
        One row per band with ``band`` (1 = highest scores), ``n``, ``events``, ``event_rate``,
        ``min_score``, ``max_score``, ``cum_n``, ``cum_events``, ``capture_rate`` (cumulative
        share of all events), ``cum_nonevent_share``, ``lift`` (band event rate / overall rate),
        ``cum_lift`` and ``ks`` (``capture_rate - cum_nonevent_share``).
    """
    y, s = pair(y, score)
    yb = binary_target(y, pos_label)
    n_bins = check_bins(n_bins)
    edges = np.unique(np.quantile(s, np.linspace(0.0, 1.0, n_bins + 1)[1:-1]))
    # band 0 holds the highest scores
    band = len(edges) - np.searchsorted(edges, s, side="right")
    k = len(edges) + 1
    n = np.bincount(band, minlength=k).astype(np.float64)
    keep = n > 0
    ev = np.bincount(band, weights=yb, minlength=k)[keep]
    n = n[keep]
    smin = np.array([s[band == b].min() for b in np.flatnonzero(keep)])
    smax = np.array([s[band == b].max() for b in np.flatnonzero(keep)])
    tot_ev = yb.sum()
    tot_nonev = len(yb) - tot_ev
    rate = yb.mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        cum_n = np.cumsum(n)
        cum_ev = np.cumsum(ev)
        capture = cum_ev / tot_ev if tot_ev > 0 else np.full(len(n), np.nan)
        nonev = cum_n - cum_ev
        cum_nonev = nonev / tot_nonev if tot_nonev > 0 else np.full(len(n), np.nan)
        lift = (ev / n) / rate if rate > 0 else np.full(len(n), np.nan)
        cum_lift = (cum_ev / cum_n) / rate if rate > 0 else np.full(len(n), np.nan)
    return pd.DataFrame({
        "band": np.arange(1, len(n) + 1),
        "n": n.astype(np.int64),
        "events": ev,
        "event_rate": ev / n,
        "min_score": smin,
        "max_score": smax,
        "cum_n": cum_n.astype(np.int64),
        "cum_events": cum_ev,
        "capture_rate": capture,
        "cum_nonevent_share": cum_nonev,
        "lift": lift,
        "cum_lift": cum_lift,
        "ks": capture - cum_nonev,
    })


def psi_terms_from_counts(expected_counts: Any, actual_counts: Any, *,
                          eps: float = 1e-4) -> np.ndarray:
    """Per-bin PSI terms ``(a_b - e_b) ln(a_b / e_b)`` from bin counts (same ``eps`` rule as
    :func:`psi`), for data counted chunk by chunk or categories such as activation regions.

    Parameters
    ----------
    expected_counts, actual_counts : array-like of shape (n_bins,)
        Non-negative counts of the reference and the compared rows in the same bins.
    eps : float
        Floor on the bin shares, in (0, 1).

    Returns
    -------
    ndarray of shape (n_bins,)
    """
    e = np.asarray(expected_counts, dtype=np.float64)
    a = np.asarray(actual_counts, dtype=np.float64)
    if e.ndim != 1 or e.shape != a.shape or e.size == 0:
        raise ValueError(f"Counts must be two 1-D arrays of one length; got {e.shape}, {a.shape}.")
    if not (np.isfinite(e).all() and np.isfinite(a).all()) or (e < 0).any() or (a < 0).any():
        raise ValueError("Counts must be finite and non-negative.")
    if e.sum() <= 0 or a.sum() <= 0:
        raise ValueError("Each side needs at least one counted row.")
    if not 0.0 < eps < 1.0:
        raise ValueError(f"eps must be in (0, 1); got {eps!r}.")
    e_share = np.maximum(e / e.sum(), eps)
    a_share = np.maximum(a / a.sum(), eps)
    return (a_share - e_share) * np.log(a_share / e_share)


def psi_from_counts(expected_counts: Any, actual_counts: Any, *, eps: float = 1e-4) -> float:
    """PSI from bin counts: the sum of :func:`psi_terms_from_counts`; equals :func:`psi` when
    the counts are those of its bins."""
    return float(np.sum(psi_terms_from_counts(expected_counts, actual_counts, eps=eps)))
