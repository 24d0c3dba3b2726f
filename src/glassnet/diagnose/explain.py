"""Post-hoc explanations: permutation importance and PDP/ICE through scikit-learn; ALE and
Friedman's H-statistic implemented once against their published definitions.

* ALE (Apley and Zhu 2020, eq. 15): on the grid ``z_0 < ... < z_K`` of quantiles of ``x_j``,
  the uncentred effect at ``z_k`` is ``g(z_k) = sum_{m<=k} mean_{i in N(m)} [f(z_m, x_i,-j) -
  f(z_{m-1}, x_i,-j)]`` where ``N(m)`` holds the rows with ``x_ij`` in ``(z_{m-1}, z_m]``
  (the first interval also holds ``z_0``); the ALE is ``g`` minus its mean over the rows,
  ``(1/n) sum_i g(z_{k(i)})`` with ``k(i)`` the interval of row ``i``.
* H-statistic (Friedman and Popescu 2008, eq. 44): with partial dependences centred to mean
  zero over the rows, ``H^2_jk = sum_i [PD_jk(x_ij, x_ik) - PD_j(x_ij) - PD_k(x_ik)]^2 /
  sum_i PD_jk(x_ij, x_ik)^2``, every partial dependence evaluated at the rows themselves.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from glassnet.diagnose._common import (
    HIGHER_IS_BETTER,
    ModelView,
    as_frame,
    check_xy,
    default_metric,
    one_score,
    rng_of,
)

__all__ = ["permutation_importance", "partial_dependence", "ale", "h_statistic", "as_sklearn"]


def _f(view: ModelView, F: pd.DataFrame, X_like: Any) -> np.ndarray:
    """Model output on the rows of ``F`` given back in the type the model was given."""
    data = F if hasattr(X_like, "columns") else F.to_numpy(dtype=np.float64)
    out = view.output(data)
    if out.ndim != 1:
        raise ValueError("ALE/H-statistic need a single output: binary classification "
                         "(positive-class probability) or regression.")
    return out


def _feature_index(F: pd.DataFrame, feature: Any) -> str:
    if isinstance(feature, (int, np.integer)) and not isinstance(feature, bool):
        if not 0 <= feature < F.shape[1]:
            raise ValueError(f"feature index {feature} is out of range for {F.shape[1]} columns.")
        return F.columns[feature]
    if feature not in F.columns:
        raise ValueError(
            f"feature {feature!r} is not a column; choose from {list(F.columns)[:20]}."
        )
    return feature


def permutation_importance(
    model: Any, X: Any, y: Any, *, metric: str | None = None, n_repeats: int = 5,
    random_state: Any = 0, task: str = "auto",
) -> pd.DataFrame:
    """Drop of the score when one feature is shuffled (scikit-learn's implementation).

    Parameters
    ----------
    model : fitted estimator or ReluNetwork
    X, y : array-like
        Rows to score (usually held-out rows).
    metric : str, optional
        Score (default AUC / RMSE); the importance is oriented so that larger = more important.
    n_repeats : int
        Shuffles per feature.
    random_state : int, optional
    task : {"auto", "classification", "regression"}

    Returns
    -------
    DataFrame
        ``feature``, ``importance_mean``, ``importance_std``, sorted by decreasing importance.
    """
    from sklearn.inspection import permutation_importance as sk_pi

    view = ModelView(model, task)
    X, y = check_xy(X, y)
    metric = metric or default_metric(view)
    sign = HIGHER_IS_BETTER.get(metric)
    if sign is None:
        raise ValueError(f"Unknown metric {metric!r}; choose from {sorted(HIGHER_IS_BETTER)}.")
    F = as_frame(X)

    def scorer(_est: Any, Xp: Any, yp: Any) -> float:
        return sign * one_score(view, np.asarray(yp), view.output(Xp), metric)

    res = sk_pi(_Opaque(), F if hasattr(X, "columns") else F.to_numpy(), y, scoring=scorer,
                n_repeats=n_repeats, random_state=random_state)
    frame = pd.DataFrame({"feature": list(F.columns), "importance_mean": res.importances_mean,
                          "importance_std": res.importances_std})
    return frame.sort_values("importance_mean", ascending=False, ignore_index=True)


class _Opaque:
    """Stand-in estimator: scikit-learn's permutation importance only hands it to the scorer."""

    def fit(self, X: Any, y: Any = None) -> _Opaque:  # pragma: no cover - never called
        return self


def as_sklearn(model: Any, task: str = "auto") -> Any:
    """A fitted scikit-learn estimator for ``model`` (itself when it already is one).

    A :class:`~glassnet.ReluNetwork` is wrapped so that scikit-learn's inspection tools
    (``partial_dependence``, ``PartialDependenceDisplay``) accept it.
    """
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

    if hasattr(model, "get_params") and (hasattr(model, "predict_proba")
                                         or hasattr(model, "predict")):
        return model
    view = ModelView(model, task)

    class _Wrapped(BaseEstimator):
        def __init__(self) -> None:
            self.classes_ = view.classes
            self.fitted_ = True

        def fit(self, X: Any, y: Any = None) -> Any:
            # already fitted: scikit-learn's inspection tools only require the method
            return self

        def predict(self, X: Any) -> np.ndarray:
            return view.predict(X)

    if view.task == "classification":
        class Wrapped(ClassifierMixin, _Wrapped):
            def predict_proba(self, X: Any) -> np.ndarray:
                out = view.output(X)
                return np.column_stack([1 - out, out]) if out.ndim == 1 else out
    else:
        class Wrapped(RegressorMixin, _Wrapped):  # type: ignore[no-redef]
            pass
    return Wrapped()


def partial_dependence(
    model: Any, X: Any, features: Any, *, kind: str = "average", grid_resolution: int = 50,
    task: str = "auto",
) -> Any:
    """Partial dependence (PDP) and individual conditional expectation (ICE) curves.

    A thin call to :func:`sklearn.inspection.partial_dependence` (``method="brute"``), with
    ReLU networks wrapped by :func:`as_sklearn`. For a figure use
    ``sklearn.inspection.PartialDependenceDisplay.from_estimator(as_sklearn(model), X, ...)``.

    Parameters
    ----------
    model : fitted estimator or ReluNetwork
    X : array-like
    features : int, str, or sequence
        As scikit-learn's ``features``.
    kind : {"average", "individual", "both"}
    grid_resolution : int
    task : {"auto", "classification", "regression"}

    Returns
    -------
    sklearn.utils.Bunch
        ``grid_values``, and ``average`` and/or ``individual``.
    """
    from sklearn.inspection import partial_dependence as sk_pd

    return sk_pd(as_sklearn(model, task), X, features, kind=kind,
                 grid_resolution=grid_resolution, method="brute")


def ale(
    model: Any, X: Any, feature: Any, *, n_bins: int = 20, task: str = "auto",
) -> pd.DataFrame:
    """First-order accumulated local effects of one feature (Apley and Zhu 2020).

    Parameters
    ----------
    model : fitted estimator or ReluNetwork
        Binary classifier (effect on the positive-class probability) or regressor.
    X : array-like of shape (n, d)
        Rows defining the grid (quantiles of the feature) and the local averages.
    feature : int or str
    n_bins : int
        Number of quantile intervals (fewer when the feature has ties).
    task : {"auto", "classification", "regression"}

    Returns
    -------
    DataFrame
        ``grid`` (``z_0..z_K``), ``ale`` (centred effect at each grid point; 0 at ``z_0`` before
        centring), ``n`` (rows in the interval ending at the grid point; 0 for ``z_0``).
    """
    view = ModelView(model, task)
    if np.shape(X)[0] < 2:
        raise ValueError("ale needs at least two rows.")
    F = as_frame(X)
    col = _feature_index(F, feature)
    x = F[col].to_numpy(dtype=np.float64)
    z = np.unique(np.quantile(x, np.linspace(0.0, 1.0, n_bins + 1)))
    if len(z) < 2:
        raise ValueError(f"feature {col!r} is constant on X; it has no effect to accumulate.")
    # interval k (1..K) holds z_{k-1} < x <= z_k; the smallest value goes to interval 1
    k = np.clip(np.searchsorted(z, x, side="left"), 1, len(z) - 1)
    lo, hi = F.copy(), F.copy()
    lo[col] = z[k - 1]
    hi[col] = z[k]
    diff = _f(view, hi, X) - _f(view, lo, X)
    K = len(z) - 1
    n_k = np.bincount(k, minlength=K + 1)[1:]
    mean_k = np.bincount(k, weights=diff, minlength=K + 1)[1:] / np.maximum(n_k, 1)
    g = np.concatenate([[0.0], np.cumsum(mean_k)])
    centred = g - np.sum(n_k * g[1:]) / len(x)
    return pd.DataFrame({"grid": z, "ale": centred, "n": np.concatenate([[0], n_k])})


def h_statistic(
    model: Any, X: Any, features: Any = None, *, n_samples: int = 200, random_state: Any = 0,
    task: str = "auto",
) -> pd.DataFrame:
    """Friedman's pairwise interaction statistic ``H^2_jk`` (Friedman and Popescu 2008).

    Parameters
    ----------
    model : fitted estimator or ReluNetwork
        Binary classifier (on the positive-class probability) or regressor.
    X : array-like of shape (n, d)
    features : sequence of int or str, optional
        Features whose pairs are measured (default all; the cost is ``n_samples^2`` model
        evaluations per pair, so choose a few for wide data).
    n_samples : int
        Rows drawn (without replacement) when ``X`` has more; the statistic is then computed
        exactly on that sample.
    random_state : int, optional
    task : {"auto", "classification", "regression"}

    Returns
    -------
    DataFrame
        ``feature_1``, ``feature_2``, ``h2`` (share of the pair's joint effect variance due to
        interaction, in [0, 1] up to sampling), ``h`` = sqrt(h2), sorted by decreasing ``h2``.
    """
    view = ModelView(model, task)
    F = as_frame(X)
    if len(F) > n_samples:
        idx = rng_of(random_state).choice(len(F), n_samples, replace=False)
        F = F.iloc[np.sort(idx)].reset_index(drop=True)
    feats = list(F.columns) if features is None else [_feature_index(F, f) for f in features]
    if len(feats) < 2:
        raise ValueError("h_statistic needs at least two features.")
    pd1 = {f: _pd_at_rows(view, F, [f], X) for f in feats}
    rows = []
    for a, b in combinations(feats, 2):
        pd2 = _pd_at_rows(view, F, [a, b], X)
        num = np.sum((pd2 - pd1[a] - pd1[b]) ** 2)
        den = np.sum(pd2 ** 2)
        h2 = float(num / den) if den > 0 else float("nan")
        rows.append({"feature_1": a, "feature_2": b, "h2": h2, "h": np.sqrt(h2)})
    return pd.DataFrame(rows).sort_values("h2", ascending=False, ignore_index=True)


def _pd_at_rows(view: ModelView, F: pd.DataFrame, cols: list[str], X_like: Any) -> np.ndarray:
    """Centred partial dependence on ``cols`` evaluated at each row's own values of ``cols``."""
    n = len(F)
    big = pd.concat([F] * n, ignore_index=True)  # block i: every row with row i's cols
    for c in cols:
        big[c] = np.repeat(F[c].to_numpy(), n)
    pd_vals = _f(view, big, X_like).reshape(n, n).mean(axis=1)
    return pd_vals - pd_vals.mean()
