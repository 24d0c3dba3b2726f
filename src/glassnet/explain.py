"""Exact explanations from local linear models: contributions, importance, coefficients.

Split out of :mod:`glassnet.summary` (whose names still import from there).
Contributions and coefficients are on the network's raw output scale ``eta`` (log-odds for
a sigmoid output, logits for softmax). Features that encode one original column (the
one-hot columns of a categorical variable, ``ReluNetwork.feature_groups``) can be reported
as one group (``by_group=True`` or ``groups=``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from glassnet.io import as_network
from glassnet.network import ReluNetwork
from glassnet.regions import Regions, local_models, unwrap_in_memory

TASKS = ("classification", "regression")

# rows per chunk when per-row LLMs are gathered (keeps the (rows, k, d) buffer small)
_ROW_CHUNK = 1 << 16

__all__ = ["local_contributions", "feature_importance", "coefficient_distribution"]


# ---------------------------------------------------------------------- helpers
def check_regions(regions: Any) -> Regions:
    """Return ``regions`` if it is a :class:`Regions` object, else raise ``TypeError``."""
    if not isinstance(regions, Regions):
        raise TypeError(
            f"Expected a Regions object (from glassnet.unwrap); got {type(regions).__name__}."
        )
    return regions


def check_task(net: ReluNetwork, task: str | None) -> str:
    """The task asked for, or the network's own (:attr:`ReluNetwork.task`) when None."""
    if task is None:
        return net.task
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS} or None; got {task!r}.")
    return task


def unwrapped_rows(regions: Regions, X: Any) -> np.ndarray:
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


# ---------------------------------------------------------------------- explanations
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


def _encode_for(model: Any, X: Any) -> Any:
    """Raw rows -> the network's inputs, for a model with one-hot columns (a glassnet
    estimator with categorical columns, a pipeline with a OneHotEncoder)."""
    if isinstance(model, (Regions, ReluNetwork)):
        return X
    from glassnet.io import input_encoder

    encode = input_encoder(model)
    return X if encode is None else encode(X)


def feature_groups_index(
    net: ReluNetwork, names: Sequence[str], groups: Any = None
) -> dict[str, np.ndarray]:
    """Column indices of every group, covering each feature exactly once.

    ``groups=None`` takes the network's ``feature_groups`` (one-hot columns of one original
    column); a mapping ``{group: [feature names]}`` is used instead when given. Features in
    no group form their own group, named after the feature; groups are ordered by their
    first feature.
    """
    if groups is None:
        if hasattr(net, "groups_index") and net.feature_names is not None:
            return dict(net.groups_index())
        groups = {}
    if not isinstance(groups, Mapping):
        raise TypeError(
            f"groups must be a mapping {{group: [feature names]}}; got {type(groups).__name__}."
        )
    pos = {n: j for j, n in enumerate(names)}
    owner: dict[int, str] = {}
    for g, members in groups.items():
        if isinstance(members, str):
            members = [members]
        for m in members:
            if m not in pos:
                raise ValueError(
                    f"groups[{g!r}] names {m!r}, which is not a feature (features: "
                    f"{list(names)[:10]}{'...' if len(names) > 10 else ''})."
                )
            if pos[m] in owner:
                raise ValueError(f"Feature {m!r} is in groups {owner[pos[m]]!r} and {g!r}.")
            owner[pos[m]] = str(g)
    out: dict[str, list[int]] = {}
    for j, n in enumerate(names):
        out.setdefault(owner.get(j, n), []).append(j)
    return {g: np.asarray(ix, dtype=np.intp) for g, ix in out.items()}


def local_contributions(
    model: Any,
    X: Any,
    baseline: Any = None,
    *,
    output: int | None = None,
    by_group: bool = False,
    groups: Mapping[str, Sequence[str]] | None = None,
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
    With ``by_group=True`` (or ``groups``) the contribution of a group of features (for
    example the one-hot columns of one categorical column) is the sum of its features'
    contributions, so the decomposition stays exact.

    Parameters
    ----------
    model : Regions, ReluNetwork, glassnet estimator or a model ``as_network`` accepts
        A glassnet estimator with categorical columns takes raw rows (they are one-hot
        encoded with its ``transform_inputs``).
    X : array-like or DataFrame of shape (n_samples, n_features)
    baseline : array-like of shape (n_features,), "mean", "median" or None
        Reference point (in the network's inputs); "mean"/"median" take it from ``X``.
    output : int, optional
        Which output to decompose. Default: all of them (for ``k > 1`` outputs the result
        has a ``(row, output)`` MultiIndex).
    by_group : bool, default False
        One column per original column, from the network's ``feature_groups``.
    groups : mapping of str to list of str, optional
        Own groups ``{name: [feature names]}`` (implies ``by_group``); features in no
        group stay on their own.

    Returns
    -------
    DataFrame
        One column per feature (or group), then ``base`` and ``output`` (the raw output
        ``eta``, the sum of the others). Indexed like ``X`` when it is a DataFrame.

    Examples
    --------
    >>> import numpy as np
    >>> from glassnet import ReluNetwork, local_contributions
    >>> net = ReluNetwork([np.eye(2), np.array([[2.0, -1.0]])], [np.zeros(2), np.ones(1)])
    >>> local_contributions(net, np.array([[1.0, 3.0]]))
        x0   x1  base  output
    0  2.0 -3.0   1.0     0.0
    """
    net = as_network(model)
    index = X.index if hasattr(X, "index") and hasattr(X, "columns") else None
    X = _encode_for(model, X)
    names = _feature_names(model, net, X)
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
    if by_group or groups is not None:
        index_of = feature_groups_index(net, names, groups)
        names = list(index_of)
        contrib = np.stack([contrib[:, :, ix].sum(axis=2) for ix in index_of.values()], axis=2)
    m = len(outs)
    data = np.concatenate([contrib, base[..., None], total[..., None]], axis=2).reshape(n * m, -1)
    rows = pd.RangeIndex(n) if index is None else index
    if m == 1 and k == 1 or output is not None:
        idx = rows
    else:
        idx = pd.MultiIndex.from_product([rows, list(outs)], names=[rows.name or "row", "output"])
    return pd.DataFrame(data, index=idx, columns=[*names, "base", "output"])


def _weighted_coefs(regions: Regions, X: Any) -> tuple[Regions, np.ndarray]:
    regions = check_regions(regions)
    if X is not None:
        # the regions (and counts) of the given rows; unseen patterns get their exact LLM too
        regions = unwrap_in_memory(regions.network, X)
    return regions, regions.counts.astype(np.float64)


SCALES = ("std", "raw")


def feature_importance(
    regions: Regions,
    X: Any = None,
    *,
    output: int | None = None,
    scale: str | None = None,
    by_group: bool = False,
    groups: Mapping[str, Sequence[str]] | None = None,
    standardize: bool | None = None,
) -> pd.DataFrame:
    """Global importance of every feature (or group) from the exact local linear models.

    With ``scale="std"`` (the default whenever ``X`` is given), the effect of feature ``j``
    in region ``r`` is ``|coef[r, j]| * s_j``, with ``s_j`` the standard deviation of
    feature ``j`` over the rows of ``X``: the change of the raw output (log-odds for a
    sigmoid) when the feature moves by one standard deviation. Features on different
    scales then compare fairly (an amount in dollars and a 0/1 flag). ``scale="raw"``
    uses ``|coef[r, j]|``, the effect of one unit, which depends on the units.

    ``importance_j = sum_r n_r effect[r, j] / sum_r n_r``, normalised to sum to 1 over the
    features, where ``n_r`` is the number of rows in region ``r``: the mean over rows of the
    row's own local effect. Several outputs: the mean of the outputs' effects (or only
    ``output``). Every feature is listed, including those with zero importance.

    Groups (``by_group=True`` for the network's ``feature_groups``, e.g. the one-hot columns
    of a categorical column, or ``groups=``): a group's effect in region ``r`` is the
    standard deviation over the rows of ``X`` of its linear contribution
    ``sum_{j in G} coef[r, j] x_j``, i.e. ``sqrt(c_G' Cov(x_G) c_G)``, which is
    ``|coef_j| s_j`` for a single feature; with ``scale="raw"`` it is the Euclidean norm
    ``sqrt(sum_{j in G} coef[r, j]^2)``.

    Parameters
    ----------
    regions : Regions
    X : array-like, optional
        The rows (in the network's inputs): their standard deviations give the scale and
        their own regions (exact LLMs) and counts the weights. Default: the counts recorded
        by ``unwrap``, and ``scale="raw"``, since the scale needs rows.
    output : int, optional
        Restrict to one output.
    scale : {"std", "raw"}, optional
        Default ``"std"`` with ``X``, ``"raw"`` without.
    by_group, groups
        As in :func:`local_contributions`.
    standardize : bool, optional
        Older spelling: True is ``scale="std"``, False ``scale="raw"``.

    Returns
    -------
    DataFrame indexed by feature (or group), sorted by decreasing importance, with
    ``importance`` (sums to 1 unless every coefficient is 0, then all 0),
    ``mean_abs_effect`` (the unnormalised count-weighted mean effect) and, for a single
    output, ``mean_effect`` (count-weighted mean of the signed ``s_j coef_j``; NaN for a
    group of several features). The scale is named in the columns' title and in
    ``attrs["scale"]``; ``attrs["formula"]`` spells the formula.
    """
    if standardize is not None:
        if scale is not None and scale != ("std" if standardize else "raw"):
            raise ValueError("Give scale or standardize, not both.")
        scale = "std" if standardize else "raw"
    if scale is None:
        scale = "raw" if X is None else "std"
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES} or None; got {scale!r}.")
    if scale == "std" and X is None:
        raise ValueError(
            "scale='std' (standardize=True) needs X to measure the features' standard "
            "deviations; pass the rows, or scale='raw'."
        )
    regions, w = _weighted_coefs(regions, X)
    k = regions.coef.shape[1]
    output = _check_output(output, k)
    coef = regions.coef if output is None else regions.coef[:, [output]]
    names = list(regions.feature_names)
    Xa = None if X is None else regions.network.check_input(X)
    if by_group or groups is not None:
        index_of = feature_groups_index(regions.network, names, groups)
    else:
        index_of = {n: np.array([j], dtype=np.intp) for j, n in enumerate(names)}
    effect = np.empty((coef.shape[0], len(index_of)))
    signed = np.full(len(index_of), np.nan)
    for g, (_, ix) in enumerate(index_of.items()):
        c = coef[:, :, ix]  # (R, k', m)
        if scale == "std":
            cov = np.atleast_2d(np.cov(Xa[:, ix], rowvar=False, ddof=0))
            quad = np.einsum("rkm,mn,rkn->rk", c, cov, c)
            effect[:, g] = np.sqrt(np.maximum(quad, 0.0)).mean(axis=1)
        else:
            effect[:, g] = np.sqrt((c**2).sum(axis=2)).mean(axis=1)
        if ix.size == 1 and coef.shape[1] == 1:
            sj = float(np.sqrt(cov[0, 0])) if scale == "std" else 1.0
            signed[g] = w @ (c[:, 0, 0] * sj) / w.sum()
    mean_abs = w @ effect / w.sum()
    total = mean_abs.sum()
    imp = mean_abs / total if total > 0 else np.zeros_like(mean_abs)
    df = pd.DataFrame({"importance": imp, "mean_abs_effect": mean_abs}, index=list(index_of))
    if coef.shape[1] == 1:
        df["mean_effect"] = signed
    df.index.name = "group" if by_group or groups is not None else "feature"
    title = ("scale=std: effect of a one-standard-deviation change" if scale == "std"
             else "scale=raw: effect of a one-unit change")
    df.columns.name = title
    df.attrs["scale"] = scale
    df.attrs["formula"] = (
        "importance = sum_r n_r |coef_rj| s_j / sum_r n_r, normalised to sum to 1 (s_j: "
        "standard deviation of feature j in X)" if scale == "std" else
        "importance = sum_r n_r |coef_rj| / sum_r n_r, normalised to sum to 1 (raw units)"
    )
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
