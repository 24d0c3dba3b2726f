"""Every score glassnet reports, in one place, with one rule for degenerate inputs.

Diagnostics, reports and monitoring all score models; they call these functions so that a
figure means the same thing wherever it is printed. scikit-learn computes the scores where it
has them; this module adds input checks, the one-class rule and the credit-risk measures
scikit-learn lacks (KS, PSI, gains table, Brier decomposition).

Rules
-----
* **One class present.** A ranking score (``auc``, ``gini``, ``ks``) is undefined when ``y``
  holds a single class: these return ``nan`` rather than raising, so a table over slices or
  regions can still be built; ``r2`` likewise returns ``nan`` when ``y`` is constant. Scores
  that are defined for one class (accuracy, Brier, log-loss, RMSE, ...) are computed as usual.
* **Binary positives.** For 0/1 (or boolean) targets the positive class is 1; for any other two
  labels it is the larger one, unless ``pos_label`` says otherwise.
* **Multi-class AUC** is the unweighted mean of the one-vs-rest AUCs over the classes that occur
  (with both "class" and "rest" present); the others are left out rather than counted as nan.
* **PSI** bins on the quantiles of ``expected`` (see :func:`psi` for the empty-bin rule).

This module imports nothing from glassnet, so every floor of the package may import it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sklearn import metrics as _skm

__all__ = [
    "auc", "gini", "ks", "roc_curve", "brier", "brier_decomposition", "BrierDecomposition",
    "log_loss", "accuracy", "f1", "rmse", "mae", "r2", "psi", "gains_table",
    "calibration_curve", "binary_target", "psi_from_counts", "psi_terms_from_counts",
]


# --------------------------------------------------------------------------- input checks
def _as_1d(a: Any, name: str, *, numeric: bool = True) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {arr.shape}. Pass one value per row.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass at least one row.")
    if numeric:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be numeric; got dtype {arr.dtype}.") from exc
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} holds NaN or infinity; drop or impute those rows first.")
    elif arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name} holds NaN; drop those rows first.")
    return arr


def _pair(y: Any, score: Any, score_name: str = "score") -> tuple[np.ndarray, np.ndarray]:
    y = _as_1d(y, "y", numeric=False)
    s = _as_1d(score, score_name)
    if len(y) != len(s):
        raise ValueError(f"y has {len(y)} rows but {score_name} has {len(s)}; they must match.")
    return y, s


def _check_proba(p: np.ndarray, name: str = "proba") -> None:
    if p.min() < 0.0 or p.max() > 1.0:
        raise ValueError(f"{name} must be probabilities in [0, 1]; got [{p.min():g}, {p.max():g}].")


def binary_target(y: Any, pos_label: Any = None) -> np.ndarray:
    """Return ``y`` as a float64 0/1 vector (1 = positive class).

    Parameters
    ----------
    y : array-like of shape (n,)
        Labels with at most two distinct values.
    pos_label : scalar, optional
        The positive label. Default: 1 when the labels are a subset of {0, 1} (or booleans),
        else the larger of the two labels.

    Returns
    -------
    ndarray of shape (n,)
        1.0 where ``y == pos_label``, else 0.0.
    """
    y = _as_1d(y, "y", numeric=False)
    classes = np.unique(y)
    if len(classes) > 2:
        raise ValueError(
            f"y has {len(classes)} classes {classes[:5].tolist()}...; this score is binary. "
            "Pass a 2-D probability matrix for multi-class AUC, or one-vs-rest labels."
        )
    if pos_label is None:
        if y.dtype.kind == "b" or set(classes.tolist()) <= {0, 1}:
            pos_label = 1
        elif len(classes) == 2:
            pos_label = classes[1]
        else:
            raise ValueError(
                f"y holds the single label {classes[0]!r}, so the positive class is ambiguous; "
                "pass pos_label."
            )
    return (y == pos_label).astype(np.float64)


# --------------------------------------------------------------------------- ranking
def auc(y: Any, score: Any, *, labels: Any = None, pos_label: Any = None) -> float:
    """Area under the ROC curve; ``nan`` when ``y`` holds one class.

    Parameters
    ----------
    y : array-like of shape (n,)
        True labels.
    score : array-like of shape (n,) or (n, n_classes)
        Scores for the positive class (binary), or class probabilities. A 2-column matrix with
        binary ``y`` uses its second column; more columns give the macro one-vs-rest AUC.
    labels : array-like, optional
        The class of each column of a 2-D ``score`` (default: the sorted classes of ``y``,
        which must then number ``score.shape[1]``).
    pos_label : scalar, optional
        Positive label for binary ``y`` (see :func:`binary_target`).

    Returns
    -------
    float
        The AUC in [0, 1], or ``nan`` when it is undefined (one class present).
    """
    s = np.asarray(score)
    if s.ndim == 2 and s.shape[1] > 2:
        return _auc_ovr(y, s, labels)
    if s.ndim == 2 and s.shape[1] == 2:
        s = s[:, 1]
    y, s = _pair(y, s)
    yb = binary_target(y, pos_label)
    if yb.min() == yb.max():
        return float("nan")
    return float(_skm.roc_auc_score(yb, s))


def _auc_ovr(y: Any, proba: np.ndarray, labels: Any) -> float:
    y = _as_1d(y, "y", numeric=False)
    proba = np.asarray(proba, dtype=np.float64)
    if len(y) != len(proba):
        raise ValueError(f"y has {len(y)} rows but score has {len(proba)}; they must match.")
    if not np.all(np.isfinite(proba)):
        raise ValueError("score holds NaN or infinity; drop or impute those rows first.")
    if labels is None:
        labels = np.unique(y)
        if len(labels) != proba.shape[1]:
            raise ValueError(
                f"score has {proba.shape[1]} columns but y holds {len(labels)} classes; pass "
                "labels= naming the class of each column."
            )
    labels = np.asarray(labels)
    if len(labels) != proba.shape[1]:
        raise ValueError(
            f"labels has {len(labels)} entries but score has {proba.shape[1]} columns."
        )
    per_class = []
    for k, lab in enumerate(labels):
        yk = (y == lab).astype(np.float64)
        if 0.0 < yk.mean() < 1.0:
            per_class.append(_skm.roc_auc_score(yk, proba[:, k]))
    return float(np.mean(per_class)) if per_class else float("nan")


def gini(y: Any, score: Any, **kwargs: Any) -> float:
    """Gini coefficient (accuracy ratio) ``2 * AUC - 1``; ``nan`` with one class.

    Parameters
    ----------
    y, score, **kwargs
        As for :func:`auc`.

    Returns
    -------
    float
    """
    return 2.0 * auc(y, score, **kwargs) - 1.0


def ks(y: Any, score: Any, *, pos_label: Any = None) -> float:
    """Kolmogorov-Smirnov statistic: the largest distance between the score CDFs of the classes.

    Equal to ``max |TPR - FPR|`` over all thresholds, and to
    ``scipy.stats.ks_2samp(score[y == 1], score[y == 0]).statistic``.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels.
    score : array-like of shape (n,)
        Scores.
    pos_label : scalar, optional
        See :func:`binary_target`.

    Returns
    -------
    float
        KS in [0, 1], or ``nan`` when one class is present.
    """
    y, s = _pair(y, score)
    yb = binary_target(y, pos_label)
    if yb.min() == yb.max():
        return float("nan")
    fpr, tpr, _ = _skm.roc_curve(yb, s, drop_intermediate=False)
    return float(np.max(np.abs(tpr - fpr)))


def roc_curve(y: Any, score: Any, *, pos_label: Any = None) -> pd.DataFrame:
    """ROC curve points as a DataFrame with columns ``fpr``, ``tpr``, ``threshold``.

    Parameters
    ----------
    y, score, pos_label
        As for :func:`ks`.

    Returns
    -------
    DataFrame
        Empty (with the columns) when one class is present.
    """
    y, s = _pair(y, score)
    yb = binary_target(y, pos_label)
    if yb.min() == yb.max():
        return pd.DataFrame({"fpr": [], "tpr": [], "threshold": []})
    fpr, tpr, thr = _skm.roc_curve(yb, s)
    return pd.DataFrame({"fpr": fpr, "tpr": tpr, "threshold": thr})


# --------------------------------------------------------------------------- probabilities
def brier(y: Any, proba: Any, *, pos_label: Any = None) -> float:
    """Brier score: mean squared difference between the probability and the 0/1 outcome.

    Parameters
    ----------
    y : array-like of shape (n,)
        Binary labels.
    proba : array-like of shape (n,)
        Predicted probability of the positive class.
    pos_label : scalar, optional
        See :func:`binary_target`.

    Returns
    -------
    float
    """
    y, p = _pair(y, proba, "proba")
    _check_proba(p)
    yb = binary_target(y, pos_label)
    return float(_skm.mean_squared_error(yb, p))


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


def _bin_index(p: np.ndarray, n_bins: int, strategy: str) -> np.ndarray:
    # the same bin edges and rule as sklearn.calibration.calibration_curve
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    elif strategy == "quantile":
        edges = np.percentile(p, np.linspace(0.0, 100.0, n_bins + 1))
    else:
        raise ValueError(f"strategy must be 'uniform' or 'quantile'; got {strategy!r}.")
    return np.searchsorted(edges[1:-1], p)


def _check_bins(n_bins: int, name: str = "n_bins") -> int:
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"{name} must be a positive integer; got {n_bins!r}.")
    return int(n_bins)


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
    y, p = _pair(y, proba, "proba")
    _check_proba(p)
    n_bins = _check_bins(n_bins)
    yb = binary_target(y, pos_label)
    idx = _bin_index(p, n_bins, strategy)
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
    y, p = _pair(y, proba, "proba")
    _check_proba(p)
    n_bins = _check_bins(n_bins)
    yb = binary_target(y, pos_label)
    idx = _bin_index(p, n_bins, strategy)
    counts = np.bincount(idx, minlength=n_bins)
    nz = np.flatnonzero(counts)
    return pd.DataFrame({
        "bin": nz,
        "n": counts[nz],
        "mean_predicted": np.bincount(idx, weights=p, minlength=n_bins)[nz] / counts[nz],
        "observed_rate": np.bincount(idx, weights=yb, minlength=n_bins)[nz] / counts[nz],
    })


def log_loss(y: Any, proba: Any, *, labels: Any = None, pos_label: Any = None) -> float:
    """Mean negative log-likelihood (cross-entropy); probabilities are clipped by scikit-learn.

    Parameters
    ----------
    y : array-like of shape (n,)
        Labels.
    proba : array-like of shape (n,) or (n, n_classes)
        Probability of the positive class, or of each class (columns in ``labels`` order).
    labels : array-like, optional
        Class of each column of a 2-D ``proba`` (needed when ``y`` misses some classes).
    pos_label : scalar, optional
        Positive label for a 1-D ``proba`` (see :func:`binary_target`).

    Returns
    -------
    float
    """
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim == 1 or (p.ndim == 2 and p.shape[1] == 1):
        y, p = _pair(y, p, "proba")
        _check_proba(p)
        yb = binary_target(y, pos_label)
        return float(_skm.log_loss(yb, np.column_stack([1.0 - p, p]), labels=[0.0, 1.0]))
    y = _as_1d(y, "y", numeric=False)
    if len(y) != len(p):
        raise ValueError(f"y has {len(y)} rows but proba has {len(p)}; they must match.")
    _check_proba(p)
    return float(_skm.log_loss(y, p, labels=labels))


# --------------------------------------------------------------------------- decisions
def accuracy(y: Any, pred: Any) -> float:
    """Share of rows whose predicted label equals the true label.

    Parameters
    ----------
    y, pred : array-like of shape (n,)
        True and predicted labels.

    Returns
    -------
    float
    """
    y = _as_1d(y, "y", numeric=False)
    pred = _as_1d(pred, "pred", numeric=False)
    if len(y) != len(pred):
        raise ValueError(f"y has {len(y)} rows but pred has {len(pred)}; they must match.")
    return float(_skm.accuracy_score(y, pred))


def f1(y: Any, pred: Any, *, average: str | None = None, pos_label: Any = None) -> float:
    """F1 score; binary F1 of the positive class for two labels, else macro-averaged.

    A class that is never predicted and never present scores 0 (``zero_division=0``).

    Parameters
    ----------
    y, pred : array-like of shape (n,)
        True and predicted labels.
    average : str, optional
        scikit-learn's ``average``; default ``"binary"`` when at most two labels occur in ``y``
        and ``pred`` together, else ``"macro"``.
    pos_label : scalar, optional
        Positive label for the binary case (see :func:`binary_target`).

    Returns
    -------
    float
    """
    y = _as_1d(y, "y", numeric=False)
    pred = _as_1d(pred, "pred", numeric=False)
    if len(y) != len(pred):
        raise ValueError(f"y has {len(y)} rows but pred has {len(pred)}; they must match.")
    classes = np.unique(np.concatenate([y, pred]))
    if average is None:
        average = "binary" if len(classes) <= 2 else "macro"
    if average == "binary":
        both = np.concatenate([y, pred])
        yb = binary_target(both, pos_label)
        return float(_skm.f1_score(yb[: len(y)], yb[len(y):], zero_division=0.0))
    return float(_skm.f1_score(y, pred, average=average, zero_division=0.0))


# --------------------------------------------------------------------------- regression
def rmse(y: Any, pred: Any) -> float:
    """Root mean squared error.

    Parameters
    ----------
    y, pred : array-like of shape (n,)
        Targets and predictions.

    Returns
    -------
    float
    """
    y, p = _pair(_as_1d(y, "y"), pred, "pred")
    return float(_skm.root_mean_squared_error(y.astype(np.float64), p))


def mae(y: Any, pred: Any) -> float:
    """Mean absolute error.

    Parameters
    ----------
    y, pred : array-like of shape (n,)
        Targets and predictions.

    Returns
    -------
    float
    """
    y, p = _pair(_as_1d(y, "y"), pred, "pred")
    return float(_skm.mean_absolute_error(y.astype(np.float64), p))


def r2(y: Any, pred: Any) -> float:
    """Coefficient of determination; ``nan`` when ``y`` is constant (or has one row).

    Parameters
    ----------
    y, pred : array-like of shape (n,)
        Targets and predictions.

    Returns
    -------
    float
    """
    y, p = _pair(_as_1d(y, "y"), pred, "pred")
    y = y.astype(np.float64)
    if len(y) < 2 or np.all(y == y[0]):
        return float("nan")
    return float(_skm.r2_score(y, p))


# --------------------------------------------------------------------------- stability
def _psi_edges(expected: np.ndarray, bins: int) -> np.ndarray:
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
    e = _as_1d(expected, "expected")
    a = _as_1d(actual, "actual")
    bins = _check_bins(bins, "bins")
    if not 0.0 < eps < 1.0:
        raise ValueError(f"eps must be in (0, 1); got {eps!r}.")
    edges = _psi_edges(e, bins)
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
    y, s = _pair(y, score)
    yb = binary_target(y, pos_label)
    n_bins = _check_bins(n_bins)
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
