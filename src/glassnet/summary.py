"""Region tables and exact explanations built on :class:`~glassnet.regions.Regions`.

Everything here is computed from the regions' exact local linear models (LLMs) and the
rows they were found on, grouped by region with NumPy (``bincount``, one sort for the
rank-based AUC); there is no Python loop over rows.

Scales
------
Coefficients, intercepts and local contributions are on the network's *raw* output scale
``eta`` (before the link): log-odds for a sigmoid output, logits for softmax. Predictions
(``pred_mean``) and performance measures use the output after the link.

Several outputs
---------------
For a network with ``k > 1`` outputs the per-output quantities (``pred_mean``, ``intercept``,
``coef_<feature>``) get one column per output, suffixed ``[j]``. Performance columns are one
number per region: for softmax, accuracy is the share of rows whose arg-max class is the
label, and AUC is the macro average of the one-vs-rest AUCs of the classes that have both
positive and negative rows in the region (for two softmax outputs this is the ordinary
binary AUC of ``eta[1] - eta[0]``); for several sigmoid outputs (multi-label) accuracy and
AUC are averaged over the labels; for several identity outputs MSE is averaged over them.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import log_softmax
from scipy.stats import rankdata

from glassnet._validation import check_y
from glassnet.network import ReluNetwork
from glassnet.regions import Regions, local_models, unwrap

TASKS = ("classification", "regression")

# rows per chunk when per-row LLMs are gathered (keeps the (rows, k, d) buffer small)
_ROW_CHUNK = 1 << 16

__all__ = [
    "region_summary",
    "local_contributions",
    "feature_importance",
    "coefficient_distribution",
    "region_inference",
]


# ---------------------------------------------------------------------- helpers
def _check_regions(regions: Any) -> Regions:
    if not isinstance(regions, Regions):
        raise TypeError(
            f"Expected a Regions object (from glassnet.unwrap); got {type(regions).__name__}."
        )
    return regions


def _infer_task(net: ReluNetwork, task: str | None) -> str:
    if task is None:
        return "classification" if net.output in ("sigmoid", "softmax") else "regression"
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS} or None; got {task!r}.")
    return task


def _unwrapped_rows(regions: Regions, X: Any) -> np.ndarray:
    """Validate ``X`` as the very rows ``regions`` was built from."""
    X = regions.network.check_input(X)
    labels = regions.labels
    if labels is None or np.shape(labels)[0] != X.shape[0]:
        m = None if labels is None else np.shape(labels)[0]
        raise ValueError(
            f"X has {X.shape[0]} rows but the regions were unwrapped from {m} rows. Pass the "
            "same rows that were given to unwrap (for new data, call unwrap on it first)."
        )
    return X


def _row_eta(regions: Regions, X: np.ndarray) -> np.ndarray:
    """Raw output of every unwrapped row from its region's LLM (equal to the network's)."""
    labels = np.asarray(regions.labels)
    n, k = X.shape[0], regions.coef.shape[1]
    eta = np.empty((n, k))
    for s in range(0, n, _ROW_CHUNK):
        lab = labels[s : s + _ROW_CHUNK]
        eta[s : s + _ROW_CHUNK] = np.einsum("nkd,nd->nk", regions.coef[lab], X[s : s + _ROW_CHUNK])
        eta[s : s + _ROW_CHUNK] += regions.intercept[lab]
    return eta


def _check_same_rows(regions: Regions, pred: np.ndarray, labels: np.ndarray) -> None:
    """Cheap consistency check: per-region sums of the predictions must match unwrap's."""
    if regions.pred_sum is None:
        return
    R = len(regions)
    for j in range(pred.shape[1]):
        s = np.bincount(labels, weights=pred[:, j], minlength=R)
        ref = regions.pred_sum[:, j]
        if not np.allclose(s, ref, rtol=1e-7, atol=1e-7 * (1.0 + regions.counts)):
            raise ValueError(
                "X does not match the rows the regions were unwrapped from (the per-region "
                "predictions differ). Pass the same rows, in the same order, as to unwrap."
            )


def _suffixes(k: int) -> list[str]:
    return [""] if k == 1 else [f"[{j}]" for j in range(k)]


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _nanmean_rows(a: np.ndarray) -> np.ndarray:
    """Mean over axis 1 ignoring NaN, NaN where a row is all NaN (no warning)."""
    ok = ~np.isnan(a)
    return _safe_div(np.where(ok, a, 0.0).sum(axis=1), ok.sum(axis=1).astype(np.float64))


# ---------------------------------------------------------------------- targets
class _Target:
    """The target of a summary, encoded once: binary tasks for AUC plus accuracy/MSE rules."""

    def __init__(self, net: ReluNetwork, y: Any, n: int, task: str) -> None:
        self.task = task
        self.k = net.n_outputs
        self.link = net.output
        if task == "regression":
            arr = check_y(y, n)
            arr = arr[:, None] if arr.ndim == 1 else arr
            if arr.shape[1] != self.k:
                raise ValueError(
                    f"y has {arr.shape[1]} column(s) but the network has {self.k} output(s); "
                    "a regression summary compares each output with one target column."
                )
            self.values = arr
            self.response = arr
            return
        arr = check_y(y, n)
        if self.link == "softmax":
            if arr.ndim == 2:
                if arr.shape[1] != self.k:
                    raise ValueError(
                        f"A 2-D y must be one-hot with {self.k} columns; got {arr.shape[1]}."
                    )
                arr = arr.argmax(axis=1).astype(np.float64)
            classes = arr.astype(np.int64)
            if not (np.array_equal(classes, arr) and classes.min() >= 0 and classes.max() < self.k):
                raise ValueError(
                    f"y must hold class indices 0..{self.k - 1} (the order of the network's "
                    "outputs); encode string labels first, e.g. with LabelEncoder."
                )
            self.classes = classes
            self.response = np.eye(self.k)[classes]
            return
        arr = arr[:, None] if arr.ndim == 1 else arr
        if arr.shape[1] != self.k:
            raise ValueError(
                f"y has {arr.shape[1]} column(s) but the network has {self.k} output(s); "
                "binary classification needs one 0/1 label column per output."
            )
        if not np.isin(arr, (0.0, 1.0)).all():
            raise ValueError(
                "For classification y must hold 0/1 labels (1 = the class the network's "
                "output scores); encode other labels first."
            )
        self.labels = arr.astype(bool)
        self.response = arr

    @property
    def metric_names(self) -> tuple[str, ...]:
        return ("auc", "accuracy") if self.task == "classification" else ("mse", "rmse")

    # scores and binary labels of every binary task, from raw outputs of shape (..., k)
    def binary_tasks(self, eta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        if self.link == "softmax":
            if self.k == 2:
                return [(eta[..., 1] - eta[..., 0], self.classes == 1)]
            logp = log_softmax(eta, axis=-1)
            return [(logp[..., j], self.classes == j) for j in range(self.k)]
        if self.link == "identity" and self.task == "classification":
            # rank by the raw output; accuracy thresholds it at 0.5
            return [(eta[..., j], self.labels[:, j]) for j in range(self.k)]
        return [(eta[..., j], self.labels[:, j]) for j in range(self.k)]

    def correct(self, eta: np.ndarray) -> np.ndarray:
        """Per row (and region, for ``(n, G, k)`` input) share of correct predictions."""
        if self.link == "softmax":
            c = self.classes.reshape((-1,) + (1,) * (eta.ndim - 2))
            return (eta.argmax(axis=-1) == c).astype(np.float64)
        thr = 0.5 if self.link == "identity" else 0.0  # sigmoid: eta > 0 <=> p > 0.5
        lab = self.labels.reshape((self.labels.shape[0],) + (1,) * (eta.ndim - 2) + (self.k,))
        return ((eta > thr) == lab).mean(axis=-1)

    def sq_error(self, eta: np.ndarray, apply_link) -> np.ndarray:
        pred = eta if self.link == "identity" else apply_link(eta)
        y = self.values.reshape((self.values.shape[0],) + (1,) * (eta.ndim - 2) + (self.k,))
        return ((pred - y) ** 2).mean(axis=-1)


# ---------------------------------------------------------------------- grouped metrics
def grouped_auc(groups: np.ndarray, score: np.ndarray, positive: np.ndarray, n_groups: int):
    """ROC AUC of ``score`` for ``positive`` within every group, from one sort.

    Ranks are taken within each group (ties get their average rank) and the AUC is the
    Mann-Whitney statistic ``(sum of positive ranks - n1 (n1 + 1) / 2) / (n1 n0)``. Groups
    without both classes get NaN.
    """
    groups = np.asarray(groups, dtype=np.int64)
    n = groups.shape[0]
    counts = np.bincount(groups, minlength=n_groups)
    n1 = np.bincount(groups, weights=positive.astype(np.float64), minlength=n_groups)
    n0 = counts - n1
    if n == 0:
        return np.full(n_groups, np.nan)
    order = np.lexsort((score, groups))
    g = groups[order]
    s = score[order]
    new_run = np.empty(n, dtype=bool)
    new_run[0] = True
    np.not_equal(g[1:], g[:-1], out=new_run[1:])
    new_run[1:] |= s[1:] != s[:-1]
    run = np.cumsum(new_run) - 1
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(1, n + 1, dtype=np.float64) - start[g]
    avg = np.bincount(run, weights=rank) / np.bincount(run)
    pos_rank = np.bincount(g, weights=avg[run] * positive[order], minlength=n_groups)
    return _safe_div(pos_rank - n1 * (n1 + 1) / 2.0, n1 * n0)


def _auc_columns(score: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """AUC of every column of ``score`` (m, G) against one label vector (m,)."""
    n1 = float(positive.sum())
    n0 = positive.shape[0] - n1
    if n1 == 0 or n0 == 0:
        return np.full(score.shape[1], np.nan)
    ranks = rankdata(score, axis=0)
    return (positive.astype(np.float64) @ ranks - n1 * (n1 + 1) / 2.0) / (n1 * n0)


# ---------------------------------------------------------------------- summary table
def region_summary(
    regions: Regions,
    X: Any,
    y: Any = None,
    *,
    task: str | None = None,
    top: int | None = None,
    min_count: int = 1,
    coverage: float | None = None,
    global_top: int | None = 100,
    global_rows: int | None = 10_000,
    random_state: int = 0,
) -> pd.DataFrame:
    """One row per region, largest first: size, response, prediction, performance and LLM.

    Parameters
    ----------
    regions : Regions
        From ``unwrap(net, X)``.
    X : array-like or DataFrame of shape (n_samples, n_features)
        The same rows, in the same order, that were unwrapped.
    y : array-like, optional
        Target. Classification: 0/1 labels (one column per sigmoid output) or, for softmax,
        class indices ``0..k-1`` (or one-hot). Regression: one column per output. Without
        ``y`` the response and performance columns are left out.
    task : {"classification", "regression"}, optional
        Default: classification for sigmoid/softmax networks, regression otherwise.
    top : int, optional
        Keep only the ``top`` largest regions (after ``min_count`` and ``coverage``).
    min_count : int, default 1
        Keep only regions with at least this many rows.
    coverage : float in (0, 1], optional
        Keep the fewest largest regions that together hold this share of the rows (e.g.
        0.95 for "the regions covering 95% of rows").
    global_top : int or None, default 100
        Global performance (a region's LLM applied to *all* rows) is computed for this many
        of the largest regions kept; the others get NaN. None computes it for all of them.
    global_rows : int or None, default 10000
        For classification, global performance uses a uniform random sample of this many rows
        when there are more (``random_state`` fixes it); None uses every row. For regression
        with an identity output the global MSE is exact on all rows whatever this says
        (computed from the centred Gram matrix of ``[X, 1]``).
    random_state : int, default 0
        Seed of the global-performance sample.

    Returns
    -------
    DataFrame
        Columns: ``region``, ``count``, ``share``, ``cum_share``; with ``y``: ``y_mean``,
        ``y_std`` (for softmax, ``y_mean[j]``/``y_std[j]`` of the class indicators); then
        ``pred_mean`` (output after the link), ``local_auc``, ``local_accuracy`` and
        ``global_auc``, ``global_accuracy`` (classification) or ``local_mse``,
        ``local_rmse``, ``global_mse``, ``global_rmse`` (regression); then ``intercept``
        and ``coef_<feature>``. Per-output columns get a ``[j]`` suffix when the network
        has several outputs (see the module docstring for how metrics are aggregated).
        ``local_auc`` is NaN where a region lacks one of the classes. ``attrs`` holds the
        task, the overall network performance (``network_<metric>``) and the number of
        rows used for global performance.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork, unwrap, region_summary
    >>> net = ReluNetwork([np.eye(2), np.ones((1, 2))], [np.zeros(2), np.zeros(1)])
    >>> X = np.array([[1.0, 2.0], [3.0, 1.0], [-1.0, -1.0]])
    >>> region_summary(unwrap(net, X), X, [3.0, 4.0, 0.0])[["region", "count", "local_mse"]]
       region  count  local_mse
    0       0      2        0.0
    1       1      1        0.0
    """
    regions = _check_regions(regions)
    net = regions.network
    task = _infer_task(net, task)
    X = _unwrapped_rows(regions, X)
    if isinstance(min_count, bool) or not isinstance(min_count, (int, np.integer)):
        raise TypeError(f"min_count must be an integer; got {min_count!r}.")
    for name, v in (("top", top), ("global_top", global_top), ("global_rows", global_rows)):
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer))):
            raise TypeError(f"{name} must be a positive integer or None; got {v!r}.")
        if v is not None and v < 1:
            raise ValueError(f"{name} must be a positive integer or None; got {v}.")
    if coverage is not None and not 0 < coverage <= 1:
        raise ValueError(f"coverage must be in (0, 1]; got {coverage}.")

    labels = np.asarray(regions.labels, dtype=np.int64)
    n, R, k = X.shape[0], len(regions), net.n_outputs
    counts = regions.counts
    eta = _row_eta(regions, X)
    pred = net.apply_link(eta)
    _check_same_rows(regions, pred, labels)

    # regions kept: min_count, coverage, top (regions are already sorted by size)
    keep = np.flatnonzero(counts >= min_count)
    if coverage is not None:
        keep = keep[: regions.n_regions_covering(coverage)]
    if top is not None:
        keep = keep[:top]

    shares = counts / n
    cols: dict[str, np.ndarray] = {
        "region": keep,
        "count": counts[keep],
        "share": shares[keep],
        "cum_share": np.cumsum(shares)[keep],
    }
    attrs: dict[str, Any] = {"task": task, "n_samples": n, "n_regions": R}
    if y is not None:
        target = _Target(net, y, n, task)
        resp = target.response
        for j, sfx in enumerate(_suffixes(resp.shape[1])):
            s = np.bincount(labels, weights=resp[:, j], minlength=R)
            ss = np.bincount(labels, weights=(resp[:, j] - (s / counts)[labels]) ** 2, minlength=R)
            cols[f"y_mean{sfx}"] = (s / counts)[keep]
            cols[f"y_std{sfx}"] = np.sqrt(ss / counts)[keep]
    for j, sfx in enumerate(_suffixes(k)):
        cols[f"pred_mean{sfx}"] = (np.bincount(labels, weights=pred[:, j], minlength=R) / counts)[
            keep
        ]
    if y is not None:
        local = _local_metrics(target, eta, labels, R, counts, net)
        for name, v in local.items():
            cols[f"local_{name}"] = v[keep]
        overall = _local_metrics(target, eta, np.zeros(n, dtype=np.int64), 1, np.array([n]), net)
        for name, v in overall.items():
            attrs[f"network_{name}"] = float(v[0])
        gsel = keep if global_top is None else keep[:global_top]
        glob, used = _global_metrics(target, regions, X, gsel, global_rows, random_state)
        for name, v in glob.items():
            full = np.full(keep.shape[0], np.nan)
            full[: gsel.shape[0]] = v
            cols[f"global_{name}"] = full
        attrs["global_rows"] = used
        attrs["metric"] = target.metric_names[0]
    for j, sfx in enumerate(_suffixes(k)):
        cols[f"intercept{sfx}"] = regions.intercept[keep, j]
        for f, fname in enumerate(regions.feature_names):
            cols[f"coef_{fname}{sfx}"] = regions.coef[keep, j, f]
    df = pd.DataFrame(cols)
    df.attrs.update(attrs)
    return df


def _local_metrics(target, eta, labels, R, counts, net) -> dict[str, np.ndarray]:
    if target.task == "regression":
        mse = np.bincount(labels, weights=target.sq_error(eta, net.apply_link), minlength=R)
        mse = mse / counts
        return {"mse": mse, "rmse": np.sqrt(mse)}
    aucs = np.column_stack(
        [grouped_auc(labels, s, p, R) for s, p in target.binary_tasks(eta)]
    )
    acc = np.bincount(labels, weights=target.correct(eta), minlength=R) / counts
    return {"auc": _nanmean_rows(aucs), "accuracy": acc}


def _global_metrics(target, regions, X, sel, global_rows, random_state):
    """Performance of the LLMs of regions ``sel`` applied to all (or sampled) rows."""
    net = regions.network
    n = X.shape[0]
    coef, intercept = regions.coef[sel], regions.intercept[sel]
    if target.task == "regression" and net.output == "identity":
        return _global_mse_exact(X, target.values, coef, intercept), n
    rows = np.arange(n)
    if global_rows is not None and n > global_rows:
        rng = np.random.default_rng(random_state)
        rows = np.sort(rng.choice(n, size=global_rows, replace=False))
    out: dict[str, list[np.ndarray]] = {m: [] for m in target.metric_names}
    sub = _SubTarget(target, rows)
    Xs = X[rows]
    # chunks of regions keep the (rows, regions, k) score tensor near 32 MB
    step = max(1, (4 << 20) // max(1, rows.shape[0] * coef.shape[1]))
    for s in range(0, len(sel), step):
        eta = np.einsum("md,gkd->mgk", Xs, coef[s : s + step]) + intercept[s : s + step]
        if target.task == "regression":
            mse = sub.sq_error(eta, net.apply_link).mean(axis=0)
            out["mse"].append(mse)
            out["rmse"].append(np.sqrt(mse))
            continue
        aucs = np.column_stack([_auc_columns(sc, p) for sc, p in sub.binary_tasks(eta)])
        out["auc"].append(_nanmean_rows(aucs))
        out["accuracy"].append(sub.correct(eta).mean(axis=0))
    res = {m: (np.concatenate(v) if v else np.zeros(0)) for m, v in out.items()}
    return res, int(rows.shape[0])


class _SubTarget(_Target):
    """A :class:`_Target` restricted to some rows (no re-validation)."""

    def __init__(self, target: _Target, rows: np.ndarray) -> None:
        self.__dict__.update(target.__dict__)
        for name in ("values", "classes", "labels", "response"):
            if hasattr(target, name):
                setattr(self, name, getattr(target, name)[rows])


def _global_mse_exact(X, Y, coef, intercept) -> dict[str, np.ndarray]:
    """Exact MSE of many linear models on all rows, from centred second moments."""
    n = X.shape[0]
    mx, my = X.mean(axis=0), Y.mean(axis=0)
    Xc = X - mx
    Yc = Y - my
    G = Xc.T @ Xc  # (d, d)
    XY = Xc.T @ Yc  # (d, k)
    YY = (Yc**2).sum(axis=0)  # (k,)
    # e = Xc c - Yc + delta, with delta = mx.c + b - my; cross terms vanish (zero means)
    quad = np.einsum("gkd,de,gke->gk", coef, G, coef)
    cross = np.einsum("gkd,dk->gk", coef, XY)
    delta = coef @ mx + intercept - my
    sse = np.maximum(quad - 2.0 * cross + YY + n * delta**2, 0.0)
    mse = (sse / n).mean(axis=1)
    return {"mse": mse, "rmse": np.sqrt(mse)}


# ---------------------------------------------------------------------- explanations
def _network_of(model: Any) -> ReluNetwork:
    if isinstance(model, Regions):
        return model.network
    if isinstance(model, ReluNetwork):
        return model
    from glassnet.io import as_network

    return as_network(model)


def _feature_names(model: Any, net: ReluNetwork, X: Any) -> list[str]:
    if isinstance(model, Regions):
        return list(model.feature_names)
    if net.feature_names is not None:
        return list(net.feature_names)
    if hasattr(X, "columns"):
        return [str(c) for c in X.columns]
    return [f"x{j}" for j in range(net.n_features)]


def _check_output(output: int | None, k: int) -> int | None:
    if output is None:
        return None
    if isinstance(output, bool) or not isinstance(output, (int, np.integer)):
        raise TypeError(f"output must be an integer output index or None; got {output!r}.")
    if not 0 <= output < k:
        raise ValueError(f"output must be in 0..{k - 1} (the network has {k} outputs).")
    return int(output)


def local_contributions(
    model: Any,
    X: Any,
    baseline: Any = None,
    *,
    output: int | None = None,
) -> pd.DataFrame:
    """Exact additive decomposition of the network's raw output for every row.

    Inside its region a row's raw output is ``eta = coef @ x + intercept`` exactly, so

    * without a baseline: contribution of feature ``j`` = ``coef_j * x_j`` and
      ``base = intercept``;
    * with a baseline ``b``: contribution = ``coef_j * (x_j - b_j)`` and
      ``base = coef @ b + intercept`` (the row's own LLM evaluated at the baseline; note
      this is *not* the network's output at ``b`` when ``b`` lies in another region).

    In both cases ``base + sum_j contribution_j = eta`` up to float64 rounding. Each row
    uses the LLM of its own activation pattern, so any rows work, not only unwrapped ones.

    Parameters
    ----------
    model : Regions, ReluNetwork or a model :func:`glassnet.io.as_network` accepts
    X : array-like or DataFrame of shape (n_samples, n_features)
    baseline : array-like of shape (n_features,), "mean", "median" or None
        Reference point; "mean"/"median" take it from ``X``.
    output : int, optional
        Which output to decompose. Default: all of them (for ``k > 1`` outputs the result
        has a ``(row, output)`` MultiIndex).

    Returns
    -------
    DataFrame
        One column per feature, then ``base`` and ``output`` (the raw output ``eta``, the sum
        of the others). Indexed like ``X`` when it is a DataFrame.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork, local_contributions
    >>> net = ReluNetwork([np.eye(2), np.array([[2.0, -1.0]])], [np.zeros(2), np.ones(1)])
    >>> local_contributions(net, np.array([[1.0, 3.0]]))
        x0   x1  base  output
    0  2.0 -3.0   1.0     0.0
    """
    net = _network_of(model)
    names = _feature_names(model, net, X)
    index = X.index if hasattr(X, "index") and hasattr(X, "columns") else None
    Xa = net.check_input(X)
    n, d, k = Xa.shape[0], net.n_features, net.n_outputs
    output = _check_output(output, k)
    if baseline is None:
        b = None
    elif isinstance(baseline, str):
        if baseline not in ("mean", "median"):
            raise ValueError(
                f"baseline must be an array, 'mean', 'median' or None; got {baseline!r}."
            )
        b = Xa.mean(axis=0) if baseline == "mean" else np.median(Xa, axis=0)
    else:
        b = np.asarray(
            baseline.reindex(names).to_numpy() if isinstance(baseline, pd.Series) else baseline,
            dtype=np.float64,
        )
        if b.shape != (d,):
            raise ValueError(f"baseline must have shape ({d},); got {b.shape}.")
        if not np.isfinite(b).all():
            raise ValueError("baseline contains NaN or infinity (or names missing from X).")
    outs = range(k) if output is None else [output]
    contrib = np.empty((n, len(outs), d))
    base = np.empty((n, len(outs)))
    for s in range(0, n, _ROW_CHUNK):
        coef, intercept = local_models(net, Xa[s : s + _ROW_CHUNK])
        coef, intercept = coef[:, list(outs)], intercept[:, list(outs)]
        x = Xa[s : s + _ROW_CHUNK, None, :]
        if b is None:
            contrib[s : s + _ROW_CHUNK] = coef * x
            base[s : s + _ROW_CHUNK] = intercept
        else:
            contrib[s : s + _ROW_CHUNK] = coef * (x - b)
            base[s : s + _ROW_CHUNK] = intercept + coef @ b
    total = contrib.sum(axis=2) + base
    m = len(outs)
    data = np.concatenate([contrib, base[..., None], total[..., None]], axis=2).reshape(n * m, -1)
    rows = pd.RangeIndex(n) if index is None else index
    if m == 1 and k == 1 or output is not None:
        idx = rows
    else:
        idx = pd.MultiIndex.from_product([rows, list(outs)], names=[rows.name or "row", "output"])
    return pd.DataFrame(data, index=idx, columns=[*names, "base", "output"])


def _weighted_coefs(regions: Regions, X: Any) -> tuple[Regions, np.ndarray]:
    regions = _check_regions(regions)
    if X is not None:
        # the regions (and counts) of the given rows; unseen patterns get their exact LLM too
        regions = unwrap(regions.network, X)
    return regions, regions.counts.astype(np.float64)


def feature_importance(
    regions: Regions,
    X: Any = None,
    *,
    output: int | None = None,
    standardize: bool = False,
) -> pd.DataFrame:
    """Global importance of every feature from the exact local linear models.

    ``importance_j = sum_r n_r sum_o (s_j coef[r, o, j])^2``, normalised to sum to 1 over
    the features, where ``n_r`` is the number of rows in region ``r``, ``o`` runs over the
    outputs (all of them by default, or only ``output``), and ``s_j`` is the standard
    deviation of feature ``j`` in ``X`` when ``standardize`` is True (1 otherwise). It is the
    row-weighted mean squared local effect, so a region matters in proportion to its rows.
    Every feature is listed, including those with zero importance.

    Parameters
    ----------
    regions : Regions
    X : array-like, optional
        Rows to weight by. Default: the counts recorded by ``unwrap``. With ``X``, the rows'
        own regions (their exact LLMs) and counts are used.
    output : int, optional
        Restrict to one output.
    standardize : bool, default False
        Multiply coefficients by the features' standard deviations in ``X`` (effect of a
        one-standard-deviation change), so features on different scales compare fairly.

    Returns
    -------
    DataFrame indexed by feature, sorted by decreasing importance, with ``importance``
    (sums to 1 unless every coefficient is 0, then all 0), ``mean_sq_effect`` (the
    unnormalised count-weighted mean of ``sum_o (s_j coef)^2``) and, for a single output,
    ``mean_effect`` (count-weighted mean of ``s_j coef``).
    """
    if standardize and X is None:
        raise ValueError("standardize=True needs X to measure the features' standard deviations.")
    regions, w = _weighted_coefs(regions, X)
    k = regions.coef.shape[1]
    output = _check_output(output, k)
    coef = regions.coef if output is None else regions.coef[:, [output]]
    if standardize:
        coef = coef * regions.network.check_input(X).std(axis=0)
    msq = np.einsum("r,rkd->d", w, coef**2) / w.sum()
    total = msq.sum()
    imp = msq / total if total > 0 else np.zeros_like(msq)
    df = pd.DataFrame({"importance": imp, "mean_sq_effect": msq}, index=list(regions.feature_names))
    if coef.shape[1] == 1:
        df["mean_effect"] = w @ coef[:, 0, :] / w.sum()
    df.index.name = "feature"
    return df.sort_values("importance", ascending=False, kind="stable")


def coefficient_distribution(
    regions: Regions,
    X: Any = None,
    *,
    output: int = 0,
    quantiles: Sequence[float] = (0.05, 0.25, 0.5, 0.75, 0.95),
) -> pd.DataFrame:
    """Distribution of each feature's LLM coefficient over rows (regions weighted by count).

    Quantiles are weighted inverted-CDF quantiles: the smallest coefficient whose share of
    rows at or below it reaches ``q`` -- the quantile of the coefficient of a random row.

    Parameters
    ----------
    regions : Regions
    X : array-like, optional
        Rows to weight by (default: the unwrapped rows' counts).
    output : int, default 0
    quantiles : sequence of float in [0, 1]

    Returns
    -------
    DataFrame indexed by feature (plus a last row ``intercept``) with ``mean``, ``std``,
    ``min``, ``q<quantile>`` columns, ``max``, ``share_positive`` and ``share_negative``
    (shares of rows whose coefficient is > 0 or < 0).
    """
    regions, w = _weighted_coefs(regions, X)
    output = _check_output(output, regions.coef.shape[1])
    q = np.asarray(quantiles, dtype=np.float64)
    if q.ndim != 1 or not ((q >= 0) & (q <= 1)).all():
        raise ValueError("quantiles must be a 1-D sequence of numbers in [0, 1].")
    vals = np.column_stack([regions.coef[:, output, :], regions.intercept[:, output]])
    p = w / w.sum()
    mean = p @ vals
    std = np.sqrt(np.maximum(p @ (vals - mean) ** 2, 0.0))
    cols = {"mean": mean, "std": std, "min": vals.min(axis=0)}
    if q.size:
        qs = np.quantile(vals, q, axis=0, weights=np.broadcast_to(w[:, None], vals.shape),
                         method="inverted_cdf")
        for qi, row in zip(q, qs, strict=True):
            cols[f"q{qi:g}"] = row
    cols["max"] = vals.max(axis=0)
    cols["share_positive"] = p @ (vals > 0)
    cols["share_negative"] = p @ (vals < 0)
    df = pd.DataFrame(cols, index=[*regions.feature_names, "intercept"])
    df.index.name = "feature"
    return df


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
