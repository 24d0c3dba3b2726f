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

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import log_softmax

from glassnet._metrics_grouped import auc_rows, grouped_auc  # grouped_auc: also imported from here
from glassnet._validation import check_y
from glassnet.explain import (  # the explanations are re-exported from glassnet.summary
    check_regions,
    check_task,
    coefficient_distribution,
    feature_importance,
    local_contributions,
    unwrapped_rows,
)
from glassnet.inference import region_inference
from glassnet.network import ReluNetwork
from glassnet.regions import Regions

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

    def accuracy_of_scores(self, scores: np.ndarray) -> np.ndarray:
        """Accuracy of each of many models from raw outputs laid out (models, k, rows).

        Equal to ``correct(scores.transpose(2, 0, 1)).mean(axis=0)``, without reductions
        over a strided view (the rows are contiguous here).
        """
        if self.link == "softmax":
            return (scores.argmax(axis=1) == self.classes).mean(axis=1)
        thr = 0.5 if self.link == "identity" else 0.0
        total = scores.shape[1] * scores.shape[2]
        if hasattr(np, "bitwise_count"):  # NumPy >= 2.0
            # wrong calls = set bits of (score > thr) XOR label, packed 8 to a byte: about
            # half the time of comparing and counting one byte per row and model
            miss = np.packbits(scores > thr, axis=-1)
            miss ^= np.packbits(self.labels.T, axis=-1)  # both padded with zero bits
            return (total - np.bitwise_count(miss).sum(axis=(1, 2))) / total
        hits = np.count_nonzero((scores > thr) == self.labels.T, axis=(1, 2))
        return hits / total

    def sq_error(self, eta: np.ndarray, apply_link) -> np.ndarray:
        pred = eta if self.link == "identity" else apply_link(eta)
        y = self.values.reshape((self.values.shape[0],) + (1,) * (eta.ndim - 2) + (self.k,))
        return ((pred - y) ** 2).mean(axis=-1)


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
    X_new: Any = None,
    by_group: bool = False,
    groups: Any = None,
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
    X_new : array-like, optional
        New rows (for example test rows); the share of them falling in regions none of
        ``X``'s rows occupy enters the fragmentation caveat.
    by_group : bool, default False
        Also report, per original column (``ReluNetwork.feature_groups``: the one-hot
        columns of a categorical column form one group), the region's mean contribution
        ``contrib_<group>`` = mean over the region's rows of ``sum_{j in G} coef_j x_j``.
        Exact and additive: ``intercept + sum_G contrib_G`` is the region's mean raw output.
    groups : mapping of str to list of str, optional
        Own groups ``{name: [feature names]}`` (implies ``by_group``).

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
        task, the overall network performance (``network_<metric>``), the number of
        rows used for global performance, ``tiny_region_share`` (share of rows in regions
        of fewer than 5 rows), ``unseen_share`` (with ``X_new``) and ``caveats``: a list
        holding one sentence with these figures when the regions are fragmented (see
        :mod:`glassnet.fragmentation` for the thresholds), else empty.

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
    regions = check_regions(regions)
    net = regions.network
    task = check_task(net, task)
    X = unwrapped_rows(regions, X)
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
    from glassnet.fragmentation import fragmentation_caveat, tiny_region_share

    caveat = fragmentation_caveat(regions, X_new)
    attrs: dict[str, Any] = {
        "task": task, "n_samples": n, "n_regions": R,
        "tiny_region_share": tiny_region_share(regions),
        "caveats": [] if caveat is None else [caveat],
    }
    if X_new is not None:
        attrs["unseen_share"] = regions.unseen_share(X_new)
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
    if by_group or groups is not None:
        from glassnet.explain import feature_groups_index

        index_of = feature_groups_index(net, list(regions.feature_names), groups)
        # mean of x per region and feature: the group's mean contribution is then exact
        xbar = np.column_stack(
            [np.bincount(labels, weights=X[:, f], minlength=R) for f in range(X.shape[1])]
        ) / counts[:, None]
        for j, sfx in enumerate(_suffixes(k)):
            for g, ix in index_of.items():
                c = (regions.coef[:, j, ix] * xbar[:, ix]).sum(axis=1)
                cols[f"contrib_{g}{sfx}"] = c[keep]
    df = pd.DataFrame(cols)
    df.attrs.update(attrs)
    return df


def _local_metrics(target, eta, labels, R, counts, net) -> dict[str, np.ndarray]:
    if target.task == "regression":
        mse = np.bincount(labels, weights=target.sq_error(eta, net.apply_link), minlength=R)
        mse = mse / counts
        return {"mse": mse, "rmse": np.sqrt(mse)}
    # one group (the whole network's figures): a plain sort, no grouping needed
    aucs = np.column_stack(
        [auc_rows(s[None], p) if R == 1 else grouped_auc(labels, s, p, R)
         for s, p in target.binary_tasks(eta)]
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
        c = coef[s : s + step]
        # one BLAS product for all regions of the chunk (einsum would not use BLAS here),
        # laid out (regions, outputs, rows) so that each region's scores are contiguous
        # for the sorts of the AUC; eta is a (rows, regions, outputs) view of it
        buf = (c.reshape(-1, c.shape[2]) @ Xs.T).reshape(c.shape[0], c.shape[1], -1)
        buf += intercept[s : s + step, :, None]
        eta = buf.transpose(2, 0, 1)
        if target.task == "regression":
            mse = sub.sq_error(eta, net.apply_link).mean(axis=0)
            out["mse"].append(mse)
            out["rmse"].append(np.sqrt(mse))
            continue
        out["accuracy"].append(sub.accuracy_of_scores(buf))
        # one score row per region for each binary task; auc_rows sorts them in one call
        aucs = np.column_stack([auc_rows(sc.T, p) for sc, p in sub.binary_tasks(eta)])
        out["auc"].append(_nanmean_rows(aucs))
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
