"""Wald inference for the rows of one region: a GLM refitted with statsmodels.

Split out of :mod:`glassnet.summary` (``region_inference`` still imports from there).
statsmodels is imported inside the function, so ``import glassnet`` does not load it.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from glassnet._validation import check_y
from glassnet.explain import _check_regions, _infer_task, _unwrapped_rows
from glassnet.regions import Regions

__all__ = ["region_inference"]


# ---------------------------------------------------------------------- inference
def _rows_of(regions: Regions, region: Any, n: int) -> tuple[np.ndarray, list[int] | None]:
    labels = np.asarray(regions.labels)
    R = len(regions)
    arr = np.asarray(region)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValueError(f"A boolean region mask must have shape ({n},); got {arr.shape}.")
        return arr, None
    if arr.dtype.kind not in "iu":
        raise TypeError(
            "region must be a region index, a sequence of region indices (a merged region) "
            f"or a boolean row mask; got {region!r}."
        )
    ids = np.atleast_1d(arr).astype(np.int64)
    if ids.size == 0 or ids.min() < 0 or ids.max() >= R:
        raise ValueError(f"region indices must be in 0..{R - 1}; got {region!r}.")
    return np.isin(labels, ids), ids.tolist()


def region_inference(
    regions: Regions,
    X: Any,
    y: Any,
    region: Any,
    *,
    task: str | None = None,
    alpha: float = 0.05,
    return_result: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, Any]:
    """Refit a GLM on one region's rows and report Wald inference for its coefficients.

    Classification fits a logistic regression (``statsmodels`` ``Logit``), regression an
    ordinary least-squares model (``OLS``), each with an intercept, on the rows of the
    region (or of several regions together: a merged region).

    Parameters
    ----------
    regions : Regions
    X : array-like of shape (n_samples, n_features)
        The unwrapped rows.
    y : array-like of shape (n_samples,)
        0/1 labels (classification) or a numeric target (regression).
    region : int, sequence of int, or boolean mask of shape (n_samples,)
        The region, the regions forming a merged region, or the rows themselves.
    task : {"classification", "regression"}, optional
        Default: from the network's output link.
    alpha : float, default 0.05
        Confidence intervals have level ``1 - alpha``.
    return_result : bool, default False
        Also return the fitted statsmodels results object.

    Returns
    -------
    DataFrame indexed by ``intercept`` and the feature names with ``coef``, ``std_err``,
    ``z`` (logistic) or ``t`` (OLS), ``p_value``, ``ci_low``, ``ci_high``; for a single
    region of a one-output network also ``llm_coef``, the network's exact local
    coefficient (raw/logit scale) for comparison. ``attrs`` holds ``n_obs``, ``model``,
    ``region`` and ``statistic``.

    Raises
    ------
    ValueError
        Too few rows for the number of parameters, a constant or collinear feature within
        the rows, a single class, or perfect separation (logistic estimates do not exist).
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        PerfectSeparationError,
        PerfectSeparationWarning,
    )

    regions = _check_regions(regions)
    net = regions.network
    task = _infer_task(net, task)
    X = _unwrapped_rows(regions, X)
    n, d = X.shape
    yv = check_y(y, n)
    if yv.ndim != 1:
        raise ValueError("region_inference needs a 1-D y (one target or 0/1 label per row).")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
    mask, ids = _rows_of(regions, region, n)
    Xr, yr = X[mask], yv[mask]
    m, p = Xr.shape[0], d + 1
    what = f"region {region}" if ids is not None and len(ids) == 1 else "the selected rows"
    if m <= p:
        raise ValueError(
            f"{what} has {m} rows; a GLM with {d} features and an intercept needs more than "
            f"{p} rows (and many more for reliable standard errors). Merge small regions first."
        )
    Z = np.column_stack([np.ones(m), Xr])
    if np.linalg.matrix_rank(Z) < p:
        const = [regions.feature_names[j] for j in np.flatnonzero(np.ptp(Xr, axis=0) == 0)]
        detail = f"constant features: {const}" if const else "collinear features"
        raise ValueError(
            f"The design matrix of {what} is rank deficient ({detail}); the coefficients are "
            "not identified. Drop those features or use a larger (merged) region."
        )
    names = ["intercept", *regions.feature_names]
    if task == "classification":
        if not np.isin(yr, (0.0, 1.0)).all():
            raise ValueError("For logistic inference y must hold 0/1 labels.")
        if yr.min() == yr.max():
            raise ValueError(
                f"All {m} rows of {what} have y = {yr[0]:g}; a logistic model cannot be fitted "
                "to a single class."
            )
        if _completely_separated(Z, yr):
            raise ValueError(
                f"The classes in {what} are perfectly separated by the features, so the "
                "logistic estimates do not exist (they diverge). Use a larger region or a "
                "penalised fit."
            )
        with warnings.catch_warnings():
            warnings.simplefilter("error", PerfectSeparationWarning)
            warnings.simplefilter("ignore", ConvergenceWarning)
            warnings.simplefilter("ignore", RuntimeWarning)  # exp overflow while diverging
            try:
                res = sm.Logit(yr, Z).fit(disp=0, method="newton", maxiter=100)
            except (PerfectSeparationError, PerfectSeparationWarning) as exc:
                raise ValueError(
                    f"The classes in {what} are perfectly separated; the logistic estimates "
                    "do not exist."
                ) from exc
            except np.linalg.LinAlgError as exc:
                raise ValueError(f"The logistic fit on {what} is singular: {exc}.") from exc
        if not res.mle_retvals.get("converged", True) or not np.isfinite(res.bse).all():
            raise ValueError(
                f"The logistic fit on {what} did not converge (the classes are probably "
                "quasi-perfectly separated); its standard errors are not meaningful. Use a "
                "larger region or a penalised fit."
            )
        model, stat = "logit", "z"
    else:
        res = sm.OLS(yr, Z).fit()
        model, stat = "ols", "t"
    ci = np.asarray(res.conf_int(alpha=alpha))
    df = pd.DataFrame(
        {
            "coef": np.asarray(res.params),
            "std_err": np.asarray(res.bse),
            stat: np.asarray(res.tvalues),
            "p_value": np.asarray(res.pvalues),
            "ci_low": ci[:, 0],
            "ci_high": ci[:, 1],
        },
        index=pd.Index(names, name="term"),
    )
    if ids is not None and len(ids) == 1 and (net.n_outputs == 1 or net.output == "softmax"
                                               and net.n_outputs == 2):
        r = ids[0]
        if net.n_outputs == 1:
            llm = np.concatenate([regions.intercept[r], regions.coef[r, 0]])
        else:
            diff_c = regions.coef[r, 1] - regions.coef[r, 0]
            llm = np.concatenate([[regions.intercept[r, 1] - regions.intercept[r, 0]], diff_c])
        df["llm_coef"] = llm
    df.attrs.update(
        {"n_obs": m, "model": model, "statistic": stat, "alpha": alpha,
         "region": ids if ids is not None else "mask"}
    )
    return (df, res) if return_result else df


def _completely_separated(Z: np.ndarray, y: np.ndarray) -> bool:
    """Whether some hyperplane puts every positive strictly on one side and every negative
    on the other: the LP ``s_i z_i . w >= 1`` (``s_i = +-1``) is feasible."""
    from scipy.optimize import linprog

    sgn = np.where(y > 0.5, 1.0, -1.0)
    res = linprog(
        np.zeros(Z.shape[1]),
        A_ub=-(sgn[:, None] * Z),
        b_ub=-np.ones(Z.shape[0]),
        bounds=[(None, None)] * Z.shape[1],
        method="highs",
    )
    return bool(res.status == 0)
