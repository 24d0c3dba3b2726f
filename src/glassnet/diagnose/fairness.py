"""Fairness by protected group: adverse impact ratio, standardised mean difference, gaps.

Definitions (each group ``g`` against the reference group ``r``):

* adverse impact ratio ``AIR = P(favourable decision | g) / P(favourable decision | r)``;
  the "four-fifths rule" reads AIR below 0.8 as adverse impact;
* standardised mean difference ``SMD = (mean score_g - mean score_r) / s_pooled`` with
  ``s_pooled^2 = ((n_g - 1) s_g^2 + (n_r - 1) s_r^2) / (n_g + n_r - 2)`` (Cohen's d on the
  model's score; |SMD| above about 0.3 is commonly reviewed);
* equal-opportunity gap: the share of truly favourable rows that get a favourable decision,
  in ``g`` minus in ``r``;
* calibration gap: calibration-in-the-large ``mean score - event rate`` in ``g`` minus in ``r``.

The favourable outcome is the library-wide default (:mod:`glassnet.decisions.favorable`):
the model's class 0, the absence of the modelled event (1 = default), unless
``favorable=`` says otherwise; the table records it in ``attrs["favorable"]`` and
``attrs["favorable_note"]``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from glassnet.decisions.favorable import DEFAULT_FAVORABLE, favorable_note
from glassnet.diagnose._common import ModelView, check_xy
from glassnet.diagnose.accuracy import region_labels

__all__ = ["fairness"]


def _pooled_smd(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return float("nan")
    s2 = ((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2)
    if s2 <= 0:
        return float("nan")
    return float((a.mean() - b.mean()) / np.sqrt(s2))


def _group_table(view: ModelView, y: np.ndarray, score: np.ndarray, decision: np.ndarray,
                 groups: np.ndarray, ref: Any, favorable: Any, min_group: int) -> pd.DataFrame:
    is_ref = groups == ref
    fav_dec = decision == favorable if view.task == "classification" else None
    rows = []
    ref_stats: dict[str, float] = {}
    for g in [ref, *[v for v in pd.unique(groups) if v != ref]]:
        m = groups == g
        n = int(m.sum())
        if n < min_group:
            continue
        row: dict[str, Any] = {"group": g, "n": n, "mean_score": float(score[m].mean())}
        row["smd"] = _pooled_smd(score[m], score[is_ref])
        if view.task == "classification":
            truly = y == favorable
            row["favorable_rate"] = float(fav_dec[m].mean())
            row["event_rate"] = float((y[m] == view.classes[1]).mean())
            tp = m & truly
            row["tpr_favorable"] = float(fav_dec[tp].mean()) if tp.any() else np.nan
            row["calibration"] = row["mean_score"] - row["event_rate"]
        rows.append(row)
        if g == ref:
            ref_stats = row
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    if view.task == "classification" and ref_stats:
        with np.errstate(divide="ignore", invalid="ignore"):
            frame["air"] = frame["favorable_rate"] / ref_stats["favorable_rate"]
        frame["eo_gap"] = frame["tpr_favorable"] - ref_stats["tpr_favorable"]
        frame["calibration_gap"] = frame["calibration"] - ref_stats["calibration"]
    return frame


def fairness(
    model: Any,
    X: Any,
    y: Any,
    *,
    protected: Any,
    reference_group: Any = None,
    favorable: Any = None,
    by: str | None = None,
    merger: Any = None,
    X_regions: Any = None,
    min_group: int = 30,
    task: str = "auto",
) -> pd.DataFrame:
    """Adverse impact ratio, SMD, equal-opportunity and calibration gaps by protected group.

    Parameters
    ----------
    model : fitted estimator or ReluNetwork
    X, y : array-like
        Rows to assess.
    protected : str or array-like of shape (n,)
        A column of ``X``, or the group of each row (for a variable the model does not use,
        such as SEX in the published TaiwanCredit protocol).
    reference_group : scalar, optional
        The group others are compared with (default: the largest group).
    favorable : label, optional
        The favourable outcome (classification), as a class label of the model. Default:
        the class at position :data:`~glassnet.decisions.DEFAULT_FAVORABLE` (0) of the
        model's classes, the library-wide default (:mod:`glassnet.decisions.favorable`):
        for a default model (1 = default) that is "repays", i.e. credit granted. For a 0/1
        target the label is the class index :mod:`glassnet.decisions` uses.
    by : {None, "region", "merged"}
        Also break the table down per activation region (found on ``X_regions``, default
        ``X``) or merged region of ``merger``, keeping groups with at least ``min_group``
        rows in the region.
    merger : fitted RegionMerger, optional
    X_regions : array-like, optional
    min_group : int
        Smallest group reported (smaller groups make the ratios noise).
    task : {"auto", "classification", "regression"}

    Returns
    -------
    DataFrame
        One row per group (reference first): ``group``, ``n``, ``mean_score`` (probability of
        the positive class, or the prediction), ``smd``; classification adds
        ``favorable_rate``, ``event_rate``, ``tpr_favorable``, ``calibration``, ``air``,
        ``eo_gap``, ``calibration_gap``. With ``by``, a leading ``region`` column
        (``"all"`` for the whole sample) and per-region rows. ``attrs["favorable"]`` is the
        favourable label used and ``attrs["favorable_note"]`` the sentence stating it.
    """
    view = ModelView(model, task)
    X, y = check_xy(X, y)
    if isinstance(protected, str):
        if not hasattr(X, "columns") or protected not in X.columns:
            raise ValueError(
                f"protected={protected!r} is not a column of X; pass the column name of a "
                "DataFrame or the group of each row as an array."
            )
        groups = X[protected].to_numpy()
    else:
        groups = np.asarray(protected)
        if groups.shape != (len(y),):
            raise ValueError(
                f"protected must hold one group per row ({len(y)}); got shape {groups.shape}."
            )
    if pd.isna(groups).any():
        raise ValueError("protected holds missing values; give them a group of their own.")
    if groups.dtype.kind == "f" and np.all(np.mod(groups, 1) == 0):
        # codes read from a CSV as floats (SEX 1.0/2.0) are labelled 1/2, as classes are
        groups = groups.astype(np.int64)
    values, counts = np.unique(groups, return_counts=True)
    if len(values) < 2:
        raise ValueError(f"protected has a single group {values.tolist()}; need at least two.")
    ref = values[np.argmax(counts)] if reference_group is None else reference_group
    if ref not in set(values.tolist()):
        raise ValueError(f"reference_group {ref!r} is not among the groups {values.tolist()}.")
    out = view.output(X)
    if out.ndim != 1:
        raise ValueError("fairness is defined here for binary classification and regression.")
    if view.task == "classification":
        favorable = view.classes[DEFAULT_FAVORABLE] if favorable is None else favorable
        if favorable not in set(view.classes.tolist()):
            raise ValueError(f"favorable {favorable!r} is not a class {view.classes.tolist()}.")
    decision = view.decide(out) if view.task == "classification" else out
    overall = _group_table(view, y, out, decision, groups, ref, favorable, min_group)
    if by is None:
        return _stated(overall, view, favorable)
    base = X if X_regions is None else X_regions
    _, lab = region_labels(model, base, X, by=by, merger=merger)
    parts = [overall.assign(region="all")]
    for r in np.unique(lab):
        m = lab == r
        g = groups[m]
        # a region enters only when the reference and at least one other group are large enough
        if np.sum(g == ref) < min_group or len([v for v in np.unique(g)
                                                if np.sum(g == v) >= min_group]) < 2:
            continue
        t = _group_table(view, y[m], out[m], decision[m], g, ref, favorable, min_group)
        parts.append(t.assign(region=str(r)))
    frame = pd.concat(parts, ignore_index=True)
    return _stated(frame[["region", *[c for c in frame.columns if c != "region"]]], view,
                   favorable)


def _stated(frame: pd.DataFrame, view: ModelView, favorable: Any) -> pd.DataFrame:
    """Record the favourable class on the table, so every copy of it says which it used."""
    if view.task == "classification":
        frame.attrs["favorable"] = favorable
        pos = [i for i, c in enumerate(view.classes.tolist()) if c == favorable]
        frame.attrs["favorable_note"] = favorable_note(pos[0] if pos else favorable,
                                                       classes=view.classes)
    return frame
