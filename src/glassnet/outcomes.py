"""Outcomes analysis and surrogate fidelity: the figures a validator files.

:func:`outcomes` scores a model's predictions against observed outcomes: for a binary
classifier the ROC curve, AUC, Gini, Kolmogorov-Smirnov statistic, calibration (reliability
curve, Brier score and its decomposition) and a gains table; for a regressor the residuals
with RMSE, MAE and R². :func:`surrogate_fidelity` measures how closely a simplified model
(merged, pruned, L1, flattened, MLM) reproduces the network it stands in for: agreement of
scores and of decisions, with the score error put on the scale of the network's own scores.

Every score comes from :mod:`glassnet._metrics` (one place for each formula and its
one-class rule); this module only arranges them into tables a report or a Display shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from glassnet import _metrics

__all__ = ["OutcomesResult", "outcomes", "surrogate_fidelity", "fidelity_table"]


def _vector(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass at least one row.")
    return arr


def _scores(a: Any, name: str) -> np.ndarray:
    arr = _vector(a, name)
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be numeric scores; got dtype {arr.dtype}.") from exc
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} holds NaN or infinite values; drop or fill those rows first.")
    return arr


def _binary_target(y: Any, positive: Any = None) -> tuple[np.ndarray, Any]:
    yv = _vector(y, "y")
    if pd.isna(pd.Series(yv)).any():
        raise ValueError("y holds missing values; drop those rows first.")
    classes = np.unique(yv)
    if classes.size > 2:
        raise ValueError(
            f"outcomes analyses a binary target; y has {classes.size} classes. Score one class "
            "against the rest (pass y == c with that class's probability)."
        )
    if positive is None:
        positive = classes[-1] if classes.size else 1
    return (yv == positive).astype(np.int64), positive


@dataclass
class OutcomesResult:
    """Outcomes of one model's predictions on one set of rows.

    Attributes
    ----------
    task : str
        ``"classification"`` (binary) or ``"regression"``.
    metrics : DataFrame
        One row per figure (``metric``, ``value``): AUC, Gini, KS, Brier with its
        decomposition and log loss for a classifier; RMSE, MAE, R² and the residual mean for
        a regressor; row and event counts in both.
    roc : DataFrame or None
        False and true positive rates with the thresholds (classification).
    calibration : DataFrame or None
        Mean predicted probability and observed event rate per bin (classification).
    gains : DataFrame or None
        The gains table (classification), highest scores first.
    residuals : DataFrame or None
        ``prediction``, ``observed`` and ``residual`` per row (regression).
    ks_threshold : float or None
        Score at which the two class score distributions are furthest apart.
    """

    task: str
    metrics: pd.DataFrame
    roc: pd.DataFrame | None = None
    calibration: pd.DataFrame | None = None
    gains: pd.DataFrame | None = None
    residuals: pd.DataFrame | None = None
    ks_threshold: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float:
        """The value of one figure, e.g. ``result["Gini"]``."""
        m = self.metrics.set_index("metric")["value"]
        if name not in m.index:
            raise KeyError(f"No figure {name!r}; available: {list(m.index)}.")
        return float(m[name])

    def _repr_html_(self) -> str:
        from glassnet._repr import html_summary

        return html_summary(f"Outcomes ({self.task})", self.metrics)


def outcomes(
    y: Any,
    score: Any,
    *,
    task: str = "classification",
    n_bins: int = 10,
    positive: Any = None,
) -> OutcomesResult:
    """Outcomes analysis of predictions ``score`` against observed ``y``.

    Parameters
    ----------
    y : array-like of shape (n,)
        Observed outcomes: two classes (classification) or numbers (regression).
    score : array-like of shape (n,)
        For classification the predicted probability of the positive class (calibration
        and Brier need probabilities; AUC, Gini and KS only the ranking). For regression
        the predicted value.
    task : {"classification", "regression"}, default "classification"
    n_bins : int, default 10
        Bins of the calibration curve (equal-count: each bin holds about n/n_bins rows, so
        no bin rests on a handful of rows) and of the gains table (deciles by default, the
        convention in credit scoring).
    positive : optional
        The positive class label (default: the larger of the two labels).

    Returns
    -------
    OutcomesResult

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet.outcomes import outcomes
    >>> res = outcomes([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> round(res["AUC"], 2), round(res["Gini"], 2)
    (0.75, 0.5)
    """
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression'; got {task!r}.")
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 2:
        raise ValueError(f"n_bins must be an integer >= 2; got {n_bins!r}.")
    s = _scores(score, "score")
    if task == "regression":
        yv = _scores(y, "y")
        if yv.size != s.size:
            raise ValueError(f"y has {yv.size} rows but score has {s.size}.")
        return _regression(yv, s)
    yb, pos = _binary_target(y, positive)
    if yb.size != s.size:
        raise ValueError(f"y has {yb.size} rows but score has {s.size}.")
    return _classification(yb, s, int(n_bins), pos)


def _classification(y: np.ndarray, p: np.ndarray, n_bins: int, positive: Any) -> OutcomesResult:
    n, events = y.size, int(y.sum())
    is_prob = bool((p >= 0).all() and (p <= 1).all())
    rows: list[tuple[str, float]] = [("rows", n), ("events (positive class)", events),
                                     ("event rate", events / n)]
    auc = _metrics.auc(y, p)
    rows += [("AUC", auc), ("Gini", _metrics.gini(y, p)), ("KS", _metrics.ks(y, p))]
    roc = cal = gains = None
    ks_at = None
    if 0 < events < n:
        roc = _metrics.roc_curve(y, p)
        ks_at = float(roc["threshold"].iloc[int(np.argmax(roc["tpr"] - roc["fpr"]))])
        gains = _metrics.gains_table(y, p, n_bins=n_bins)
    if is_prob:
        dec = _metrics.brier_decomposition(y, p, n_bins=n_bins, strategy="quantile")
        rows += [("Brier score", _metrics.brier(y, p)),
                 ("Brier reliability (calibration error)", dec.reliability),
                 ("Brier resolution", dec.resolution),
                 ("Brier uncertainty", dec.uncertainty),
                 ("log loss", _metrics.log_loss(y, p))]
        cal = _metrics.calibration_curve(y, p, n_bins=n_bins, strategy="quantile")
    metrics = pd.DataFrame(rows, columns=["metric", "value"])
    return OutcomesResult("classification", metrics, roc=roc, calibration=cal, gains=gains,
                          ks_threshold=ks_at,
                          info={"positive": positive, "probabilities": is_prob})


def _regression(y: np.ndarray, pred: np.ndarray) -> OutcomesResult:
    res = y - pred
    rows = [("rows", y.size), ("RMSE", _metrics.rmse(y, pred)), ("MAE", _metrics.mae(y, pred)),
            ("R²", _metrics.r2(y, pred)), ("mean residual (bias)", float(res.mean())),
            ("residual std", float(res.std()))]
    resid = pd.DataFrame({"prediction": pred, "observed": y, "residual": res})
    return OutcomesResult("regression", pd.DataFrame(rows, columns=["metric", "value"]),
                          residuals=resid)


# ---------------------------------------------------------------------- fidelity
def surrogate_fidelity(
    network_score: Any,
    surrogate_score: Any,
    *,
    task: str = "classification",
    threshold: float = 0.5,
) -> dict[str, float]:
    """How closely a surrogate reproduces the network on the same rows.

    Parameters
    ----------
    network_score, surrogate_score : array-like of shape (n,)
        The network's and the surrogate's predictions for the same rows (probabilities of
        the positive class for a classifier, values for a regressor).
    task : {"classification", "regression"}, default "classification"
    threshold : float, default 0.5
        Decision cut-off on the probability: decisions agree when both scores fall on the
        same side.

    Returns
    -------
    dict
        ``score RMSE`` (in the score's units), ``score RMSE / network score std`` (the
        error on the scale of the network's own spread: 0 is perfect, 1 is no better than
        predicting the mean score), ``max abs score difference``, ``R² vs network`` (the
        share of the network's score variance the surrogate reproduces), ``rank
        correlation`` (Spearman; ranking is what AUC and cut-offs depend on) and, for a
        classifier, ``decision agreement`` at ``threshold``.
    """
    a = _scores(network_score, "network_score")
    b = _scores(surrogate_score, "surrogate_score")
    if a.size != b.size:
        raise ValueError(f"network_score has {a.size} rows but surrogate_score has {b.size}.")
    from scipy.stats import spearmanr

    diff = b - a
    rmse = float(np.sqrt(np.mean(diff**2)))
    sd = float(a.std())
    out = {
        "rows": float(a.size),
        "score RMSE": rmse,
        "score RMSE / network score std": rmse / sd if sd > 0 else float("nan"),
        "max abs score difference": float(np.abs(diff).max()),
        "R² vs network": _metrics.r2(a, b) if sd > 0 else float("nan"),
    }
    if a.size > 1 and a.std() > 0 and b.std() > 0:
        out["rank correlation"] = float(spearmanr(a, b).statistic)
    else:
        out["rank correlation"] = float("nan")
    if task == "classification":
        out["decision agreement"] = float(np.mean((a >= threshold) == (b >= threshold)))
    elif task != "regression":
        raise ValueError(f"task must be 'classification' or 'regression'; got {task!r}.")
    return out


def fidelity_table(
    network_score: Any,
    surrogates: Mapping[str, Any],
    *,
    task: str = "classification",
    threshold: float = 0.5,
) -> pd.DataFrame:
    """One row of :func:`surrogate_fidelity` per named surrogate (``{name: scores}``)."""
    if not surrogates:
        raise ValueError("Pass at least one surrogate's scores.")
    rows = []
    for name, sc in surrogates.items():
        row = {"model": str(name)}
        row.update(surrogate_fidelity(network_score, sc, task=task, threshold=threshold))
        row["rows"] = int(row["rows"])
        rows.append(row)
    return pd.DataFrame(rows)
