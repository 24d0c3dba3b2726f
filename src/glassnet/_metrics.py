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

The input checks live in :mod:`glassnet._metrics_inputs` and the binned scores (Brier
decomposition, calibration curve, PSI, gains table) in :mod:`glassnet._metrics_binned`;
every name is re-exported here, so callers import one module. The three import nothing
else from glassnet, so every floor of the package may import them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as _skm

from glassnet._metrics_binned import (
    BrierDecomposition,
    brier_decomposition,
    calibration_curve,
    gains_table,
    psi,
    psi_edges,
    psi_from_counts,
    psi_terms_from_counts,
)
from glassnet._metrics_inputs import as_1d, binary_target, check_proba, pair

__all__ = [
    "auc", "gini", "ks", "roc_curve", "brier", "brier_decomposition", "BrierDecomposition",
    "log_loss", "accuracy", "f1", "rmse", "mae", "r2", "psi", "gains_table",
    "calibration_curve", "binary_target", "psi_from_counts", "psi_terms_from_counts",
]

# the old private name of the PSI bin edges (monitor reads it)
_psi_edges = psi_edges


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
    y, s = pair(y, s)
    yb = binary_target(y, pos_label)
    if yb.min() == yb.max():
        return float("nan")
    return float(_skm.roc_auc_score(yb, s))


def _auc_ovr(y: Any, proba: np.ndarray, labels: Any) -> float:
    y = as_1d(y, "y", numeric=False)
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
    y, s = pair(y, score)
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
    y, s = pair(y, score)
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
    y, p = pair(y, proba, "proba")
    check_proba(p)
    yb = binary_target(y, pos_label)
    return float(_skm.mean_squared_error(yb, p))



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
        y, p = pair(y, p, "proba")
        check_proba(p)
        yb = binary_target(y, pos_label)
        return float(_skm.log_loss(yb, np.column_stack([1.0 - p, p]), labels=[0.0, 1.0]))
    y = as_1d(y, "y", numeric=False)
    if len(y) != len(p):
        raise ValueError(f"y has {len(y)} rows but proba has {len(p)}; they must match.")
    check_proba(p)
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
    y = as_1d(y, "y", numeric=False)
    pred = as_1d(pred, "pred", numeric=False)
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
    y = as_1d(y, "y", numeric=False)
    pred = as_1d(pred, "pred", numeric=False)
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
    y, p = pair(as_1d(y, "y"), pred, "pred")
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
    y, p = pair(as_1d(y, "y"), pred, "pred")
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
    y, p = pair(as_1d(y, "y"), pred, "pred")
    y = y.astype(np.float64)
    if len(y) < 2 or np.all(y == y[0]):
        return float("nan")
    return float(_skm.r2_score(y, p))
