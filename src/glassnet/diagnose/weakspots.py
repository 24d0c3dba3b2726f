"""Weak spots and overfit regions: slices of the data where the model does worse.

Slices come from histogram bins of one feature at a time, from the leaves of a shallow
decision tree fitted to the per-row loss (as PiML does), or, exactly, from the network's own
activation regions or merged regions. A slice is flagged when its score is worse than the
reference by more than ``threshold`` times the reference's absolute value (relative, so one
default works for AUC, log-loss and RMSE alike).
"""

from __future__ import annotations

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
)
from glassnet.diagnose.accuracy import region_labels

__all__ = ["weakspots", "overfit", "row_loss"]


def row_loss(view: ModelView, y: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Per-row loss: log-loss (classification, probabilities clipped to [1e-15, 1 - 1e-15])
    or squared error (regression)."""
    if view.task == "regression":
        return (np.asarray(y, dtype=np.float64) - out) ** 2
    p = np.clip(out, 1e-15, 1 - 1e-15)
    if p.ndim == 1:
        yb = (y == view.classes[1]).astype(np.float64)
        return -(yb * np.log(p) + (1 - yb) * np.log(1 - p))
    idx = np.searchsorted(view.classes, y)
    return -np.log(p[np.arange(len(y)), idx])


def _histogram_slices(F: pd.DataFrame, features: list[str], bins: int) -> list[tuple[str, Any]]:
    """(description, mask function) per equal-width bin of each feature (edges on ``F``)."""
    out = []
    for f in features:
        x = F[f].to_numpy(dtype=np.float64)
        lo, hi = float(x.min()), float(x.max())
        values = np.unique(x)
        if len(values) <= bins:
            for v in values:
                out.append((f"{f} == {v:g}", (lambda G, f=f, v=v: G[f].to_numpy() == v)))
            continue
        edges = np.linspace(lo, hi, bins + 1)
        for b in range(bins):
            a, c = edges[b], edges[b + 1]
            last = b == bins - 1
            desc = f"{f} in [{a:.4g}, {c:.4g}{']' if last else ')'}"

            def mask(G, f=f, a=a, c=c, first=b == 0, last=last):
                z = G[f].to_numpy(dtype=np.float64)
                # the outer bins are open so rows outside the reference range still fall in one
                m = np.ones(len(z), dtype=bool)
                if not first:
                    m &= z >= a
                if not last:
                    m &= z < c
                return m

            out.append((desc, mask))
    return out


def _tree_slices(F: pd.DataFrame, features: list[str], loss: np.ndarray, max_depth: int,
                 min_samples: int, random_state: Any) -> list[tuple[str, Any]]:
    from sklearn.tree import DecisionTreeRegressor

    tree = DecisionTreeRegressor(max_depth=max_depth, min_samples_leaf=min_samples,
                                 random_state=random_state)
    tree.fit(F[features].to_numpy(dtype=np.float64), loss)
    t = tree.tree_
    out = []

    def walk(node: int, conds: list[str]) -> None:
        if t.children_left[node] == -1:
            desc = " and ".join(conds) if conds else "all rows"
            out.append((desc, lambda G, node=node: tree.apply(
                G[features].to_numpy(dtype=np.float64)) == node))
            return
        name, thr = features[t.feature[node]], t.threshold[node]
        walk(t.children_left[node], [*conds, f"{name} <= {thr:.4g}"])
        walk(t.children_right[node], [*conds, f"{name} > {thr:.4g}"])

    walk(0, [])
    return out


def _slices(method: str, F: pd.DataFrame, features: list[str], *, bins: int, loss: Any,
            max_depth: int, min_samples: int, random_state: Any) -> list[tuple[str, Any]]:
    if method == "histogram":
        return _histogram_slices(F, features, bins)
    if method == "tree":
        return _tree_slices(F, features, loss, max_depth, min_samples, random_state)
    raise ValueError(
        f"method must be 'histogram', 'tree', 'region' or 'merged'; got {method!r}."
    )


def _features(F: pd.DataFrame, slice_features: Any) -> list[str]:
    if slice_features is None:
        return list(F.columns)
    if isinstance(slice_features, (str, int, np.integer)):
        slice_features = [slice_features]
    cols = list(F.columns)
    # integers are column positions (for arrays), anything else a column name
    feats = [cols[f] if isinstance(f, (int, np.integer)) and 0 <= f < len(cols) else str(f)
             for f in slice_features]
    missing = [f for f in feats if f not in F.columns]
    if missing or not feats:
        raise ValueError(
            f"slice_features {missing or feats} are not columns of X; choose from "
            f"{list(F.columns)[:20]}."
        )
    return feats


def _worse(metric: str, value: float, ref: float) -> float:
    """How much worse ``value`` is than ``ref`` (positive = worse), in metric units."""
    return HIGHER_IS_BETTER[metric] * (ref - value)


def weakspots(
    model: Any,
    X: Any,
    y: Any,
    *,
    slice_features: Any = None,
    method: str = "histogram",
    metric: str | None = None,
    threshold: float = 0.1,
    bins: int = 10,
    min_samples: int = 20,
    max_depth: int = 3,
    merger: Any = None,
    X_regions: Any = None,
    task: str = "auto",
    random_state: Any = 0,
) -> pd.DataFrame:
    """Slices where the model's score is worse than on all rows of ``X``.

    Parameters
    ----------
    model : fitted estimator or ReluNetwork
    X, y : array-like
        Rows to diagnose (usually the test rows).
    slice_features : str or sequence of str, optional
        Columns sliced by ``"histogram"`` and ``"tree"`` (default all).
    method : {"histogram", "tree", "region", "merged"}
        ``"histogram"``: ``bins`` equal-width bins of each slice feature on ``X``, one feature
        at a time (each distinct value when a feature has at most ``bins`` of them).
        ``"tree"``: the leaves of a ``DecisionTreeRegressor(max_depth, min_samples_leaf=
        min_samples)`` fitted to the per-row loss (:func:`row_loss`) on the slice features.
        ``"region"``: the network's activation regions (exact; regions found on
        ``X_regions``, default ``X``; rows of unseen patterns form region ``-1``).
        ``"merged"``: the merged regions of ``merger``.
    metric : str, optional
        Score per slice (default AUC / RMSE). Per-slice AUC is NaN on one-class slices, which
        are never flagged; use ``"log_loss"`` or ``"brier"`` to score them.
    threshold : float
        Relative: a slice is weak when its score is worse than the overall score by more than
        ``threshold * |overall|`` (0.1: ten per cent).
    bins, min_samples, max_depth : int
        Histogram bins; smallest slice reported (smaller ones are left out of the table);
        tree depth.
    merger : fitted RegionMerger, optional
        For ``method="merged"``.
    X_regions : array-like, optional
        For ``method="region"``: the rows that define the regions (e.g. the training rows).
    task : {"auto", "classification", "regression"}
    random_state : int, optional
        Tie-breaking of the tree.

    Returns
    -------
    DataFrame
        One row per slice with at least ``min_samples`` rows: ``slice``, ``n``, ``share``,
        ``<metric>``, ``overall``, ``worse_by`` (positive = worse, metric units), ``weak``
        (bool), sorted with the worst first.
    """
    view = ModelView(model, task)
    X, y = check_xy(X, y)
    metric = metric or default_metric(view)
    if threshold < 0:
        raise ValueError(f"threshold must be >= 0; got {threshold!r}.")
    out = view.output(X)
    overall = one_score(view, y, out, metric)
    if method in ("region", "merged"):
        base = X if X_regions is None else X_regions
        _, lab = region_labels(model, base, X, by=method, merger=merger)
        slices = [(f"{method} {r}", lab == r) for r in np.unique(lab)]
    else:
        F = as_frame(X)
        feats = _features(F, slice_features)
        loss = row_loss(view, y, out) if method == "tree" else None
        slices = [(d, m(F)) for d, m in _slices(method, F, feats, bins=bins, loss=loss,
                                                 max_depth=max_depth, min_samples=min_samples,
                                                 random_state=random_state)]
    rows = []
    for desc, mask in slices:
        mask = np.broadcast_to(np.asarray(mask, dtype=bool), (len(y),))
        n = int(mask.sum())
        if n < min_samples:
            continue
        value = one_score(view, y[mask], out[mask], metric)
        worse = _worse(metric, value, overall)
        rows.append({"slice": desc, "n": n, "share": n / len(y), metric: value,
                     "overall": overall, "worse_by": worse,
                     "weak": bool(np.isfinite(worse) and worse > threshold * abs(overall))})
    frame = pd.DataFrame(rows, columns=["slice", "n", "share", metric, "overall", "worse_by",
                                        "weak"])
    return frame.sort_values("worse_by", ascending=False, na_position="last",
                             ignore_index=True)


def overfit(
    model: Any,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    *,
    slice_features: Any = None,
    method: str = "histogram",
    metric: str | None = None,
    threshold: float = 0.1,
    bins: int = 10,
    min_samples: int = 20,
    max_depth: int = 3,
    merger: Any = None,
    task: str = "auto",
    random_state: Any = 0,
) -> pd.DataFrame:
    """Slices where the test score falls behind the training score (overfitting).

    The slices are built on the training rows (histogram edges, tree fitted to the test rows'
    per-row loss for ``"tree"``, activation or merged regions of the training rows) and
    applied to both samples.

    Parameters
    ----------
    model, X_train, y_train, X_test, y_test
        The model and the two samples.
    slice_features, method, metric, bins, min_samples, max_depth, merger, task, random_state
        As for :func:`weakspots`; ``min_samples`` applies to both samples.
    threshold : float
        Relative: a slice overfits when its test score is worse than its training score by
        more than ``threshold * |overall training score|``.

    Returns
    -------
    DataFrame
        One row per slice: ``slice``, ``n_train``, ``n_test``, ``train``, ``test``, ``gap``
        (test worse than train, positive = worse, metric units), ``overfit`` (bool), worst
        first.
    """
    view = ModelView(model, task)
    X_train, y_train = check_xy(X_train, y_train, "X_train")
    X_test, y_test = check_xy(X_test, y_test, "X_test")
    metric = metric or default_metric(view)
    out_tr, out_te = view.output(X_train), view.output(X_test)
    ref = one_score(view, y_train, out_tr, metric)
    if method in ("region", "merged"):
        lab_tr, lab_te = region_labels(model, X_train, X_test, by=method, merger=merger)
        pairs = [(f"{method} {r}", lab_tr == r, lab_te == r) for r in np.unique(lab_tr)]
    else:
        Ftr = as_frame(X_train)
        Fte = as_frame(X_test, Ftr.columns)
        feats = _features(Ftr, slice_features)
        if method == "tree":
            # the tree looks for the slices where the held-out loss is high
            sl = _tree_slices(Fte, feats, row_loss(view, y_test, out_te), max_depth,
                              min_samples, random_state)
        else:
            sl = _slices(method, Ftr, feats, bins=bins, loss=None, max_depth=max_depth,
                         min_samples=min_samples, random_state=random_state)
        pairs = [(d, m(Ftr), m(Fte)) for d, m in sl]
    rows = []
    for desc, mtr, mte in pairs:
        mtr = np.broadcast_to(np.asarray(mtr, dtype=bool), (len(y_train),))
        mte = np.broadcast_to(np.asarray(mte, dtype=bool), (len(y_test),))
        if mtr.sum() < min_samples or mte.sum() < min_samples:
            continue
        tr = one_score(view, y_train[mtr], out_tr[mtr], metric)
        te = one_score(view, y_test[mte], out_te[mte], metric)
        gap = _worse(metric, te, tr)
        rows.append({"slice": desc, "n_train": int(mtr.sum()), "n_test": int(mte.sum()),
                     "train": tr, "test": te, "gap": gap,
                     "overfit": bool(np.isfinite(gap) and gap > threshold * abs(ref))})
    frame = pd.DataFrame(rows, columns=["slice", "n_train", "n_test", "train", "test", "gap",
                                        "overfit"])
    frame.attrs["metric"] = metric
    return frame.sort_values("gap", ascending=False, na_position="last", ignore_index=True)
