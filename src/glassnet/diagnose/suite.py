"""Every diagnostic in one call: what ``glassnet diagnose`` and the examples run.

:func:`run_diagnostics` only computes (DataFrames and result objects, keyed by section);
:meth:`glassnet.Report.add_diagnostics` lays the results out as tables and Displays. The
two are apart so that a Python user gets the same numbers as the report without drawing
anything, and so that this analysis layer never reaches up to the plotting layer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.decisions.favorable import DEFAULT_FAVORABLE

__all__ = ["SECTIONS", "run_diagnostics"]

SECTIONS = ("accuracy", "weakspots", "overfit", "reliability", "robustness", "resilience",
            "fairness", "compare", "explain")


def run_diagnostics(
    model: Any,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    *,
    sections: Any = SECTIONS,
    protected: Any = None,
    reference_group: Any = None,
    favorable: Any = None,
    slice_features: Any = None,
    challengers: dict[str, Any] | None = None,
    exact_rows: int = 20,
    exact_time_limit: float | None = 5.0,
    random_state: int = 0,
) -> dict[str, Any]:
    """Run the chosen diagnostics and return their results by section.

    Parameters
    ----------
    model : fitted model or ReluNetwork
    X_train, y_train, X_test, y_test : array-like
        Training rows (accuracy gap, overfit, GLM baseline) and held-out rows (everything
        else; reliability calibrates on the first half of them and measures on the second).
    sections : sequence of str
        A subset of ``SECTIONS``.
    protected : array-like of shape (n_test,), optional
        Protected group of each test row, for the fairness section (skipped without it).
    reference_group : optional
    favorable : label, optional
        The favourable class of the fairness section (default: the model's class at
        position :data:`~glassnet.decisions.DEFAULT_FAVORABLE`, 0, as everywhere).
    slice_features : sequence, optional
        Features sliced by weakspots/overfit/reliability (default: all for weak spots, the
        first three for reliability).
    challengers : dict of str to fitted model, optional
        Extra models for the comparison.
    exact_rows : int
        Test rows assessed by the exact worst-case flip (one MILP each; 0 to skip). With
        ``exact_time_limit`` it bounds the section's time: at most rows x limit seconds
        (default 20 x 5 s; 50 rows at 20 s took 15 minutes on TaiwanCredit on a loaded machine).
    exact_time_limit : float or None
        Seconds per MILP; rows that run out are left out of the exact share and counted.
    random_state : int

    Returns
    -------
    dict
        Section name to its result (DataFrame or result object): ``accuracy``,
        ``weakspots``, ``weakspots_region`` (ReLU networks only), ``overfit``,
        ``reliability``, ``robustness``, ``resilience``, ``fairness``, ``compare``,
        ``permutation_importance``, ``h_statistic`` and ``ale`` (feature -> ALE frame);
        ``settings`` records what the captions need (metric, calibration rows, task).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from glassnet.diagnose import run_diagnostics
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    >>> clf = LogisticRegression().fit(X[:100], y[:100])
    >>> res = run_diagnostics(clf, X[:100], y[:100], X[100:], y[100:], sections=["accuracy"])
    >>> list(res)
    ['settings', 'accuracy']
    """
    from glassnet import diagnose as D
    from glassnet.diagnose._common import ModelView

    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown sections {unknown}; choose from {list(SECTIONS)}.")
    view = ModelView(model)
    clf = view.task == "classification"
    metric = "log_loss" if clf else "rmse"
    n_cal = len(y_test) // 2
    out: dict[str, Any] = {"settings": {
        "task": view.task, "metric": metric, "calibration_rows": n_cal,
        "evaluation_rows": len(y_test) - n_cal,
        "binary": view.binary, "sections": list(sections),
        "favorable": (view.classes[DEFAULT_FAVORABLE] if favorable is None else favorable)
        if clf else None,
    }}

    if "accuracy" in sections:
        out["accuracy"] = D.accuracy_table(model, X_train, y_train, X_test, y_test)
    if "weakspots" in sections:
        out["weakspots"] = D.weakspots(model, X_test, y_test, slice_features=slice_features,
                                       metric=metric)
        try:
            out["weakspots_region"] = D.weakspots(model, X_test, y_test, method="region",
                                                  X_regions=X_train, metric=metric)
        except TypeError:
            pass  # not a ReLU network: no exact regions
    if "overfit" in sections:
        out["overfit"] = D.overfit(model, X_train, y_train, X_test, y_test,
                                   slice_features=slice_features, metric=metric)
    if "reliability" in sections:
        Xc, Xe = _rows(X_test, slice(0, n_cal)), _rows(X_test, slice(n_cal, None))
        yc, ye = np.asarray(y_test)[:n_cal], np.asarray(y_test)[n_cal:]
        sf = slice_features if slice_features is not None else list(range(
            min(3, np.shape(X_test)[1])))
        out["reliability"] = D.reliability(model, Xc, yc, Xe, ye, alpha=0.1, slice_features=sf)
    if "robustness" in sections:
        out["robustness"] = D.robustness(
            model, X_test, y_test, exact=clf and exact_rows > 0,
            max_exact_rows=max(exact_rows, 1), time_limit=exact_time_limit,
            random_state=random_state)
    if "resilience" in sections:
        out["resilience"] = D.resilience(model, X_test, y_test, metric=metric)
    if "fairness" in sections and protected is not None:
        out["fairness"] = D.fairness(model, X_test, y_test, protected=protected,
                                     reference_group=reference_group, favorable=favorable)
    if "compare" in sections:
        models = {"network": model, **(challengers or {})}
        out["compare"] = D.compare(models, X_test, y_test, X_train=X_train, y_train=y_train)
    if "explain" in sections:
        pi = D.permutation_importance(model, X_test, y_test, random_state=random_state)
        out["permutation_importance"] = pi
        top = list(pi["feature"].head(3))
        if view.task == "regression" or view.binary:
            out["h_statistic"] = D.h_statistic(model, X_test, top, n_samples=150,
                                               random_state=random_state)
            out["ale"] = {str(f): D.ale(model, X_test, f if hasattr(X_test, "columns")
                                        else int(str(f).lstrip("x")))
                          for f in top}
    return out


def _rows(X: Any, sl: slice) -> Any:
    return X.iloc[sl] if hasattr(X, "iloc") else np.asarray(X)[sl]
