"""L1 regularisation path: how the number of activation regions falls as the penalty grows.

A larger L1 penalty on the weights drives weights towards zero, so fewer neurons change
state across the data and the network splits the inputs into fewer activation regions
(fewer local linear models), usually at some cost in accuracy. :func:`l1_path` trains one
network per penalty and tabulates both sides of that trade-off; :class:`L1Path` holds the
table, recommends a penalty and plots the path.

No test row takes part in the choice: the penalty is chosen on validation rows, given
(``X_val``) or carved from the training rows (``validation_fraction``); test rows
(``X_test``) are only scored and reported in their own column. The recommendation is the
penalty giving the **fewest regions among those whose validation score is within one
standard error of the best** (``tolerance="se"``, the default; or within a relative
``tolerance``), so it simplifies as far as the validation rows can tell the scores apart.
The standard error is that of the best penalty's score on the validation rows: Hanley and
McNeil's (1982) formula for an AUC (averaged over classes one-vs-rest for several
classes), the delta method for an RMSE. The region count is not monotone in the penalty,
which is why the rule looks at the counts and not at the largest penalty.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from glassnet.regions import unwrap_in_memory

__all__ = ["L1Path", "l1_path"]


class L1Path:
    """Result of :func:`l1_path`, in the style of scikit-learn's Display objects.

    Attributes
    ----------
    table_ : DataFrame
        One row per penalty, sorted by penalty: ``l1_reg``, ``n_regions`` (distinct
        activation regions on the training rows), ``n_regions_95`` (regions covering 95%
        of the training rows), ``top10_share`` (share of training rows in the 10 largest
        regions), ``score`` (AUC for classifiers, RMSE for regressors, on the validation
        rows: the only column used to choose), ``score_se`` (its standard error),
        ``test_score`` (only when test rows were
        given; reported, never used), ``n_epochs`` and ``fit_time`` (seconds).
    metric_ : {"auc", "rmse"}
    score_on_ : {"validation", "training"}
        Whether ``score`` was computed on validation rows (given or carved from the
        training rows) or, with ``validation_fraction=None`` and no ``X_val``, on the
        training rows.
    tolerance_ : float or "se"
    rule_ : str
        The recommendation rule in words, with the band used.
    best_score_ : float
    recommended_ : float
        Among the penalties whose score is within the band of the best, the one with the
        fewest regions (ties: the larger penalty). Band: one standard error of the best
        score (``score_se`` column) for ``tolerance="se"``; otherwise relative,
        ``score >= best * (1 - tolerance)`` for AUC, ``score <= best * (1 + tolerance)``
        for RMSE.
    simplifies_ : bool
        Whether the recommended network has fewer regions than the smallest penalty's.
    estimators_ : list
        The fitted estimators, in the order of ``table_``.
    figure_, ax_ : matplotlib objects
        Set by :meth:`plot`; ``ax_`` is the regions axis, ``score_ax_`` its twin.
    """

    def __init__(
        self,
        table: pd.DataFrame,
        *,
        metric: str,
        score_on: str,
        tolerance: float | str,
        estimators: Sequence[Any] = (),
    ) -> None:
        self.table_ = table.reset_index(drop=True)
        self.metric_ = metric
        self.score_on_ = score_on
        self.tolerance_ = tolerance if tolerance == "se" else float(tolerance)
        self.estimators_ = list(estimators)
        scores = self.table_["score"].to_numpy(dtype=np.float64)
        penalties = self.table_["l1_reg"].to_numpy(dtype=np.float64)
        regions = self.table_["n_regions"].to_numpy(dtype=np.float64)
        ok = np.isfinite(scores)
        self.simplifies_ = False
        self.rule_ = ""
        if not ok.any():
            self.best_score_ = math.nan
            self.recommended_ = math.nan
            return
        best = int(np.flatnonzero(ok)[np.argmax(scores[ok] if metric == "auc" else -scores[ok])])
        self.best_score_ = float(scores[best])
        if self.tolerance_ == "se":
            if "score_se" not in self.table_:
                raise ValueError('tolerance="se" needs a score_se column in the table.')
            band = float(self.table_["score_se"].iloc[best])
            what = f"one standard error ({band:.4f})"
        else:
            band = self.best_score_ * self.tolerance_
            what = f"{self.tolerance_:.1%}"
        if metric == "auc":
            within = ok & (scores >= self.best_score_ - band - 1e-12)
        else:
            within = ok & (scores <= self.best_score_ + band + 1e-12)
        self.rule_ = (f"the fewest regions among the penalties within {what} of the best "
                      f"{score_on} {metric.upper()} ({self.best_score_:.4f})")
        idx = np.flatnonzero(within)
        pick = idx[np.lexsort((-penalties[idx], regions[idx]))[0]]
        self.recommended_ = float(penalties[pick])
        self.simplifies_ = bool(regions[pick] < regions[0])

    @property
    def recommended_estimator_(self) -> Any:
        """The fitted estimator trained with :attr:`recommended_`."""
        if not self.estimators_:
            raise AttributeError("This L1Path holds no estimators.")
        i = int(np.flatnonzero(self.table_["l1_reg"].to_numpy() == self.recommended_)[0])
        return self.estimators_[i]

    def plot(self, ax: Any = None, *, log_regions: bool = True) -> L1Path:
        """Plot the number of regions (left axis) and the score (right axis) vs the penalty.

        Draws with :class:`glassnet.plotting.simplify.L1PathDisplay` and keeps its axes.

        The penalty axis is symmetric-log so that 0 can be shown; the recommended penalty
        is marked by a dashed vertical line.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Where to draw; a new figure is created by default.
        log_regions : bool, default=True
            Log scale for the regions axis.

        Returns
        -------
        self
        """
        from glassnet.plotting.simplify import L1PathDisplay

        disp = L1PathDisplay.from_path(self, ax=ax, log_regions=log_regions)
        self.ax_, self.score_ax_, self.figure_ = disp.ax_, disp.score_ax_, disp.figure_
        return self

    def _repr_html_(self) -> str:
        from glassnet._repr import repr_html

        return repr_html(self)

    def __repr__(self) -> str:
        return (
            f"L1Path({len(self.table_)} penalties, metric={self.metric_!r}, "
            f"recommended_={self.recommended_:g})"
        )


def _is_classifier(estimator: Any) -> bool:
    from sklearn.base import is_classifier

    return bool(is_classifier(estimator))


def l1_path(
    estimator: Any,
    X: Any,
    y: Any,
    l1_values: Sequence[float],
    X_val: Any = None,
    y_val: Any = None,
    *,
    validation_fraction: float | None = 0.2,
    X_test: Any = None,
    y_test: Any = None,
    tolerance: float | str = "se",
    sample_weight: Any = None,
    random_state: Any = 0,
    verbose: bool | int = False,
) -> L1Path:
    """Train ``estimator`` once per L1 penalty and tabulate regions against score.

    For each value ``v`` of ``l1_values`` the estimator is cloned, given ``l1_reg=v`` and
    fitted on the training rows; the trained network is unwrapped on them (exactly, with
    :func:`glassnet.unwrap`) to count its activation regions, and scored on the validation
    rows: ROC AUC for a classifier (one-vs-rest macro average for several classes), RMSE
    for a regressor. The penalty is recommended from the validation scores only.

    Parameters
    ----------
    estimator : ReluNetClassifier or ReluNetRegressor (unfitted; only its parameters are used)
        Any scikit-learn estimator with an ``l1_reg`` parameter and a ``network_``
        attribute after fitting works.
    X, y : training data
    l1_values : sequence of float
        Non-negative penalties (duplicates removed; evaluated in increasing order).
    X_val, y_val : validation data, optional
        Rows used to score and choose. Without them, ``validation_fraction`` of ``(X, y)``
        is held out (stratified for classifiers, shuffled with ``random_state``) and the
        networks are trained on the rest.
    validation_fraction : float or None, default=0.2
        Share of the training rows carved out for validation when ``X_val`` is not given.
        ``None`` scores on the training rows themselves (``score_on_ == "training"``),
        which favours small penalties.
    X_test, y_test : test data, optional
        Scored for every penalty into the ``test_score`` column, for reporting only: they
        never influence the recommendation.
    tolerance : "se" or float, default="se"
        Band around the best validation score for :attr:`L1Path.recommended_`: one
        standard error of that score (``"se"``), or a relative slack (``0.01`` = 1%).
    sample_weight : array-like of shape (n_samples,), optional
        Passed to ``fit`` (split with the rows when validation rows are carved out).
    random_state : int, RandomState or None, default=0
        The carved validation split.
    verbose : bool or int
        ``True``: a progress bar over the penalties (terminal/notebook) and one line per
        penalty on stderr.

    Returns
    -------
    L1Path

    Examples
    --------
    >>> from sklearn.datasets import make_circles
    >>> from glassnet import ReluNetClassifier, l1_path
    >>> X, y = make_circles(300, noise=0.1, factor=0.6, random_state=0)
    >>> est = ReluNetClassifier((16, 16), learning_rate=0.01, max_epochs=40, random_state=0)
    >>> path = l1_path(est, X, y, [0.0, 0.01])
    >>> list(path.table_.columns)[:4]
    ['l1_reg', 'n_regions', 'n_regions_95', 'top10_share']
    """
    from sklearn.base import clone

    from glassnet.simplify._glm import progress

    if "l1_reg" not in estimator.get_params():
        raise TypeError(
            f"{type(estimator).__name__} has no l1_reg parameter; pass a "
            "glassnet.ReluNetClassifier or ReluNetRegressor."
        )
    values = np.asarray(l1_values, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("l1_values is empty; pass at least one penalty.")
    if not np.isfinite(values).all() or (values < 0).any():
        raise ValueError(f"l1_values must be finite and >= 0; got {values.tolist()}.")
    if tolerance != "se" and not (isinstance(tolerance, (int, float)) and tolerance >= 0):
        raise ValueError(f'tolerance must be "se" or a number >= 0; got {tolerance!r}.')
    if (X_val is None) != (y_val is None):
        raise ValueError("Pass both X_val and y_val, or neither.")
    if (X_test is None) != (y_test is None):
        raise ValueError("Pass both X_test and y_test, or neither.")
    values = np.unique(values)
    classifier = _is_classifier(estimator)
    metric = "auc" if classifier else "rmse"
    if X_val is None and validation_fraction is not None:
        X, X_val, y, y_val, sample_weight = _carve(
            X, y, sample_weight, validation_fraction, classifier, random_state
        )
    score_on = "training" if X_val is None else "validation"
    Xs, ys = (X, y) if X_val is None else (X_val, y_val)

    rows = []
    fitted = []
    bar = progress(values.size, "L1 path", verbose)
    for v in values:
        est = clone(estimator).set_params(l1_reg=float(v))
        start = time.perf_counter()
        if sample_weight is None:
            est.fit(X, y)
        else:
            est.fit(X, y, sample_weight=sample_weight)
        fit_time = time.perf_counter() - start
        regions = unwrap_in_memory(est.network_, X)
        counts = regions.counts
        row = {
            "l1_reg": float(v),
            "n_regions": int(regions.n_regions),
            "n_regions_95": int(regions.n_regions_covering(0.95)),
            "top10_share": float(counts[:10].sum() / counts.sum()),
        }
        row["score"], row["score_se"] = _score(est, Xs, ys, classifier, with_se=True)
        if X_test is not None:
            row["test_score"] = _score(est, X_test, y_test, classifier)[0]
        row.update(n_epochs=int(getattr(est, "n_epochs_", -1)), fit_time=fit_time)
        rows.append(row)
        fitted.append(est)
        bar.update(1)
        if verbose:
            bar.write(f"glassnet: l1_reg={v:g}: {row['n_regions']} regions, {score_on} "
                      f"{metric.upper()} {row['score']:.4f} ({fit_time:.1f} s)", file=sys.stderr)
    bar.close()
    path = L1Path(
        pd.DataFrame(rows), metric=metric, score_on=score_on, tolerance=tolerance,
        estimators=fitted,
    )
    if len(values) > 1 and math.isfinite(path.recommended_) and not path.simplifies_:
        warnings.warn(
            f"glassnet: warning: no penalty within the band of the best {score_on} score "
            f"({path.rule_.split(' within ')[1].split(' of ')[0]}) gives fewer regions than "
            "the smallest penalty; try larger l1_values or a larger tolerance.",
            UserWarning,
            stacklevel=2,
        )
    return path


def _carve(X: Any, y: Any, sample_weight: Any, fraction: float, classifier: bool,
           random_state: Any) -> tuple[Any, Any, Any, Any, Any]:
    """Split validation rows off the training rows (stratified for classifiers)."""
    from sklearn.model_selection import train_test_split

    if not (isinstance(fraction, (int, float)) and 0 < fraction < 1):
        raise ValueError(
            f"validation_fraction must be a number in (0, 1) or None; got {fraction!r}."
        )
    y_arr = np.asarray(y)
    strat = y_arr if classifier and y_arr.ndim == 1 else None
    idx = np.arange(y_arr.shape[0])
    try:
        tr, va = train_test_split(idx, test_size=fraction, random_state=random_state,
                                  stratify=strat)
    except ValueError as err:
        raise ValueError(
            f"Cannot carve {fraction:.0%} of the {idx.size} training rows into validation "
            f"rows ({err}); pass X_val and y_val, or more rows."
        ) from None

    def take(a: Any, rows: np.ndarray) -> Any:
        if a is None:
            return None
        return a.iloc[rows] if hasattr(a, "iloc") else np.asarray(a)[rows]

    sw = take(sample_weight, tr)
    return take(X, tr), take(X, va), take(y, tr), take(y, va), sw


def _score(est: Any, X: Any, y: Any, classifier: bool,
           with_se: bool = False) -> tuple[float, float]:
    """The score (AUC or RMSE) and, with ``with_se``, its standard error on these rows."""
    from glassnet._metrics import auc as auc_of

    if classifier:
        y_arr = np.asarray(y)
        present = np.unique(y_arr).size
        if present < 2:
            return math.nan, math.nan  # AUC is undefined on one class
        proba = est.predict_proba(X)
        if proba.shape[1] == 2:
            auc = auc_of(y_arr, proba[:, 1], pos_label=est.classes_[1])
            pos = y_arr == est.classes_[1]
            return auc, (_auc_se(auc, int(pos.sum()), int((~pos).sum())) if with_se else math.nan)
        # the one-vs-rest mean is undefined unless every class occurs
        auc = auc_of(y_arr, proba, labels=est.classes_) if present == proba.shape[1] \
            else math.nan
        if not with_se:
            return auc, math.nan
        ses = []
        for c, cls in enumerate(est.classes_):
            pos = y_arr == cls
            if 0 < pos.sum() < pos.size:
                a = auc_of(pos, proba[:, c])
                ses.append(_auc_se(a, int(pos.sum()), int((~pos).sum())))
        return auc, float(np.mean(ses)) if ses else math.nan
    resid = np.asarray(est.predict(X), dtype=np.float64) - np.asarray(y, dtype=np.float64)
    sq = (resid**2).reshape(resid.shape[0], -1).mean(axis=1)
    rmse = float(np.sqrt(sq.mean()))
    # delta method: se(MSE) = sd(squared errors) / sqrt(n), se(RMSE) = se(MSE) / (2 RMSE)
    se = float(sq.std(ddof=1) / np.sqrt(sq.size) / (2 * rmse)) if sq.size > 1 and rmse > 0 \
        else math.nan
    return rmse, se


def _auc_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Hanley and McNeil's (1982) standard error of an AUC from its value and class sizes."""
    q1 = auc / (2.0 - auc)
    q2 = 2.0 * auc**2 / (1.0 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (
        n_pos * n_neg
    )
    return float(np.sqrt(max(var, 0.0)))
