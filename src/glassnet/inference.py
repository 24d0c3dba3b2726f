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
from glassnet.explain import check_regions, check_task, unwrapped_rows
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
    table : DataFrame
        Indexed by ``intercept`` and the feature names with ``coef``, ``std_err``,
        ``z`` (logistic) or ``t`` (OLS), ``p_value``, ``ci_low``, ``ci_high``; for a single
        region of a one-output network also ``llm_coef``, the network's exact local
        coefficient (raw/logit scale) for comparison. ``attrs`` holds ``n_obs``, ``model``,
        ``region`` and ``statistic``.

        Columns that are constant within the rows, or linear combinations of the intercept
        and earlier columns (for example one one-hot column per complete category group),
        are not identified: they are dropped from the fit (see :func:`identified_columns`),
        their rows in the table are NaN, and ``attrs["dropped"]``
        (``{"constant": [...], "collinear": [...]}``) and ``attrs["note"]`` (one sentence,
        empty when nothing was dropped) say so.
    result : statsmodels results
        The fitted results object, only with ``return_result=True``.

    Raises
    ------
    ValueError
        Too few rows for the number of identified parameters, a single class, or perfect
        separation (logistic estimates do not exist).
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        PerfectSeparationError,
        PerfectSeparationWarning,
    )

    regions = check_regions(regions)
    net = regions.network
    task = check_task(net, task)
    X = unwrapped_rows(regions, X)
    n, d = X.shape
    yv = check_y(y, n)
    if yv.ndim != 1:
        raise ValueError("region_inference needs a 1-D y (one target or 0/1 label per row).")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}.")
    mask, ids = _rows_of(regions, region, n)
    Xr, yr = X[mask], yv[mask]
    m = Xr.shape[0]
    what = f"region {region}" if ids is not None and len(ids) == 1 else "the selected rows"
    feat = list(regions.feature_names)
    keep, constant, collinear = identified_columns(Xr) if m else ([], [], [])
    p = len(keep) + 1
    if m <= p:
        raise ValueError(
            f"{what} has {m} rows; a GLM with {len(keep)} identified features and an intercept "
            f"needs more than {p} rows (and many more for reliable standard errors). Merge "
            "small regions first."
        )
    Z = np.column_stack([np.ones(m), Xr[:, keep]])
    note = _dropped_note(what, [feat[j] for j in constant], [feat[j] for j in collinear])
    names = ["intercept", *feat]
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
    # dropped columns keep their row (NaN), so the table lines up with the LLM's terms
    rows = np.concatenate([[0], np.asarray(keep, dtype=np.intp) + 1])
    cols = {"coef": res.params, "std_err": res.bse, stat: res.tvalues, "p_value": res.pvalues,
            "ci_low": ci[:, 0], "ci_high": ci[:, 1]}
    full = {}
    for key, v in cols.items():
        full[key] = np.full(len(names), np.nan)
        full[key][rows] = np.asarray(v)
    df = pd.DataFrame(full, index=pd.Index(names, name="term"))
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
         "region": ids if ids is not None else "mask",
         "dropped": {"constant": [feat[j] for j in constant],
                     "collinear": [feat[j] for j in collinear]},
         "note": note}
    )
    return (df, res) if return_result else df


# a column is collinear when less than this share of its (standardised) norm lies outside
# the span of the intercept and the columns kept before it
_COLLINEAR_TOL = 1e-8


def identified_columns(X: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    """Columns of ``X`` that, with an intercept, give a full-rank design.

    Returns ``(keep, constant, collinear)``: constant columns (a single value in these
    rows: the intercept absorbs them) and columns that are linear combinations of the
    intercept and earlier kept columns (for example the last one-hot column of a category
    whose columns sum to one) are dropped; the others are kept, in order. Greedy
    Gram-Schmidt (twice, for stability) on centred, unit-norm columns.
    """
    m, d = X.shape
    constant = [j for j in range(d) if np.ptp(X[:, j]) == 0]
    basis = np.zeros((m, 0))
    keep: list[int] = []
    collinear: list[int] = []
    for j in range(d):
        if j in constant:
            continue
        v = X[:, j] - X[:, j].mean()  # centring = projecting out the intercept
        v = v / np.linalg.norm(v)
        r = v - basis @ (basis.T @ v)
        r = r - basis @ (basis.T @ r)
        nr = np.linalg.norm(r)
        if nr <= _COLLINEAR_TOL:
            collinear.append(j)
            continue
        basis = np.column_stack([basis, r / nr])
        keep.append(j)
    return keep, constant, collinear


def _dropped_note(what: str, constant: list[str], collinear: list[str]) -> str:
    parts = []
    if constant:
        parts.append(f"constant within {what} (absorbed by the intercept): {constant}")
    if collinear:
        parts.append(f"collinear with the intercept and earlier columns: {collinear}")
    if not parts:
        return ""
    return ("Dropped from the fit, their rows left NaN: " + "; ".join(parts)
            + ". The remaining coefficients are conditional on that choice.")


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
