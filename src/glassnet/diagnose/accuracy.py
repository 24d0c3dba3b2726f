"""Accuracy tables: every score on train and test with their gap, overall or per region."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from glassnet.diagnose._common import (
    CLASSIFICATION_METRICS,
    REGRESSION_METRICS,
    ModelView,
    check_xy,
    scores,
)

__all__ = ["accuracy_table", "region_labels"]


def region_labels(
    model: Any, X_train: Any, X_test: Any = None, *, by: str = "region", merger: Any = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Exact region of every row: activation regions of the network, or merged regions.

    Parameters
    ----------
    model : glassnet estimator, ReluNetwork, or any model :func:`glassnet.io.as_network` takes
        The network (ignored for ``by="merged"``).
    X_train : array-like of shape (n, d)
        Rows whose activation regions define the regions (numbered by decreasing count).
    X_test : array-like of shape (m, d), optional
        Rows placed in those regions; a test row whose activation pattern never occurs in
        ``X_train`` gets ``-1`` ("unseen region").
    by : {"region", "merged"}
        Activation regions (``glassnet.unwrap(model, X_train).labels``) or the merged regions
        of ``merger`` (``merger.apply``).
    merger : fitted RegionMerger, optional
        Required for ``by="merged"``.

    Returns
    -------
    labels_train, labels_test : ndarray of int
        ``labels_test`` is None when ``X_test`` is None.
    """
    if by == "merged":
        if merger is None or not hasattr(merger, "apply"):
            raise ValueError("by='merged' needs merger=, a fitted glassnet.RegionMerger.")
        lt = merger.apply(X_train)
        return np.asarray(lt), (None if X_test is None else np.asarray(merger.apply(X_test)))
    if by != "region":
        raise ValueError(f"by must be 'region' or 'merged'; got {by!r}.")
    from glassnet.regions import unwrap_in_memory

    regions = unwrap_in_memory(model, X_train)
    return regions.labels, (None if X_test is None else regions.assign(X_test))


def accuracy_table(
    model: Any,
    X_train: Any,
    y_train: Any,
    X_test: Any,
    y_test: Any,
    *,
    metrics: Any = None,
    by: str | None = None,
    merger: Any = None,
    min_rows: int = 30,
    task: str = "auto",
) -> pd.DataFrame:
    """Scores on the training and test rows and the gap ``test - train``.

    Parameters
    ----------
    model : fitted estimator or ReluNetwork
        A classifier with ``predict_proba`` or a regressor with ``predict``.
    X_train, y_train, X_test, y_test : array-like
        The two samples.
    metrics : sequence of str, optional
        Default: AUC, accuracy, F1, log-loss, Brier, KS (classification, threshold 0.5 for
        accuracy and F1) or RMSE, MAE, R2 (regression). See :mod:`glassnet._metrics`.
    by : {None, "region", "merged"}
        None: one row per metric. ``"region"``: one row per activation region of the network
        on ``X_train`` (exact; test rows placed by their activation pattern, unseen patterns
        pooled as region ``-1``). ``"merged"``: one row per merged region of ``merger``.
    merger : fitted RegionMerger, optional
        For ``by="merged"``.
    min_rows : int
        Per region: regions with fewer training rows are pooled into one row ``"small"``
        (their scores are too noisy to read one by one).
    task : {"auto", "classification", "regression"}
        See :class:`ModelView`.

    Returns
    -------
    DataFrame
        ``by=None``: index = metric, columns ``train``, ``test``, ``gap``. Per region: one row
        per region with ``region``, ``n_train``, ``n_test``, then ``<metric>_train``,
        ``<metric>_test``, ``<metric>_gap`` for each metric. Scores that are undefined (AUC
        on a one-class region) are NaN.
    """
    view = ModelView(model, task)
    X_train, y_train = check_xy(X_train, y_train, "X_train")
    X_test, y_test = check_xy(X_test, y_test, "X_test")
    out_tr, out_te = view.output(X_train), view.output(X_test)
    if by is None:
        tr = scores(view, y_train, out_tr, metrics)
        te = scores(view, y_test, out_te, metrics)
        frame = pd.DataFrame({"train": tr, "test": te})
        frame["gap"] = frame["test"] - frame["train"]
        frame.index.name = "metric"
        return frame
    lab_tr, lab_te = region_labels(model, X_train, X_test, by=by, merger=merger)
    ids, counts = np.unique(lab_tr, return_counts=True)
    small = set(ids[counts < min_rows].tolist())
    key_tr = np.array(["small" if r in small else str(r) for r in lab_tr], dtype=object)
    # a test row in an unseen activation pattern (-1) keeps its own key "-1"
    key_te = np.array(["small" if r in small else str(r) for r in lab_te], dtype=object)
    rows = []
    order = [str(r) for r in ids if r not in small] + (["small"] if small else [])
    if by == "region" and np.any(lab_te == -1):
        order.append("-1")
    for key in order:
        mtr, mte = key_tr == key, key_te == key
        row: dict[str, Any] = {"region": key, "n_train": int(mtr.sum()), "n_test": int(mte.sum())}
        tr = scores(view, y_train[mtr], out_tr[mtr], metrics) if mtr.any() else {}
        te = scores(view, y_test[mte], out_te[mte], metrics) if mte.any() else {}
        for m in tr.keys() | te.keys():
            row[f"{m}_train"] = tr.get(m, np.nan)
            row[f"{m}_test"] = te.get(m, np.nan)
            row[f"{m}_gap"] = row[f"{m}_test"] - row[f"{m}_train"]
        rows.append(row)
    frame = pd.DataFrame(rows)
    names = metrics or (CLASSIFICATION_METRICS if view.task == "classification"
                        else REGRESSION_METRICS)
    metric_cols = [f"{m}_{part}" for m in names for part in ("train", "test", "gap")]
    return frame[["region", "n_train", "n_test", *metric_cols]]
