"""Reading a fitted mixture: coefficient tables, the EPIC summary and readable rules.

These are the interpretation steps of :class:`~glassnet.mlm.MixtureOfLinearModels`; the
estimator's ``coefficients``, ``summary`` and ``rules`` methods call them. Scores come from
:mod:`glassnet._metrics`, so the one-class rules (AUC undefined -> NaN) are the library's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from glassnet import _metrics
from glassnet._params import is_int, is_real
from glassnet.mlm import _linear as lin

__all__ = ["coefficient_table", "epic_rules", "epic_summary"]


def coefficient_table(mlm: Any, level: str = "epic", standardized: bool = False) -> pd.DataFrame:
    """Model coefficients as a table; see :meth:`MixtureOfLinearModels.coefficients`.

    Parameters
    ----------
    mlm : MixtureOfLinearModels
        A fitted mixture.
    level : {"epic", "cell"}
    standardized : bool
        Per standard deviation of each feature instead of per unit.

    Returns
    -------
    DataFrame
        One row per model (and output), columns ``level``, [``output``], ``intercept`` and one
        per feature.
    """
    check_is_fitted(mlm, "epics_")
    if level not in ("epic", "cell"):
        raise ValueError(f"level must be 'epic' or 'cell'; got {level!r}.")
    B = mlm._B_epic if level == "epic" else mlm._B_cell
    if standardized:
        # per standard deviation, around the training mean (the intercept is the
        # prediction at the mean row)
        coef = B[:, :, 1:]
        icpt = B[:, :, 0]
    else:
        coef = B[:, :, 1:] / mlm.feature_scale_
        icpt = B[:, :, 0] - coef @ mlm.feature_mean_
    G, K, d = coef.shape
    df = pd.DataFrame(coef.reshape(G * K, d), columns=mlm._feature_names())
    df.insert(0, "intercept", icpt.reshape(-1))
    df.insert(0, "output", np.tile(mlm._output_names(), G))
    df.insert(0, level, np.repeat(np.arange(G), K))
    if K == 1:
        df = df.drop(columns="output")
    return df


def epic_summary(mlm: Any) -> pd.DataFrame:
    """One row per EPIC; see :meth:`MixtureOfLinearModels.summary`.

    Parameters
    ----------
    mlm : MixtureOfLinearModels
        A fitted mixture.

    Returns
    -------
    DataFrame
    """
    check_is_fitted(mlm, "epics_")
    J = mlm.n_epics_
    ep = mlm.epics_[mlm.cell_labels_]
    Zf = (mlm.augmented_X_[mlm.augmented_is_real_] - mlm.feature_mean_) / mlm.feature_scale_
    resp = lin.link(lin.predict_groups(mlm._B_epic, Zf, ep), mlm._kind)
    Y, P = mlm._y_fit, mlm._network_targets(mlm._net_fit)
    rows = []
    for j in range(J):
        r = ep == j
        row = {
            "epic": j,
            "n_cells": int((mlm.epics_ == j).sum()),
            "n_samples": int(r.sum()),
            "share": float(r.mean()),
        }
        if mlm.task_ == "regression":
            row["y_mean"] = float(Y[r, 0].mean())
            row["network_mean"] = float(P[r, 0].mean())
            row["rmse"] = _metrics.rmse(Y[r].ravel(), resp[r].ravel())
        elif mlm._kind == "sigmoid":
            row["positive_rate"] = float(Y[r, 0].mean())
            row["network_mean"] = float(P[r, 0].mean())
            row["auc"] = _metrics.auc(Y[r, 0], resp[r, 0])  # NaN when one class
        else:
            row["accuracy"] = _metrics.accuracy(Y[r].argmax(1), resp[r].argmax(1))
        row["fidelity_rmse"] = float(np.sqrt(((resp[r] - P[r]) ** 2).sum(axis=1).mean()))
        rows.append(row)
    return pd.DataFrame(rows)


def epic_rules(
    mlm: Any,
    psi: float = 0.8,
    min_size: int | None = None,
    max_depth: int = 3,
    epics: Any = None,
) -> pd.DataFrame:
    """Readable rules describing each EPIC; see :meth:`MixtureOfLinearModels.rules`.

    Parameters
    ----------
    mlm : MixtureOfLinearModels
        A fitted mixture.
    psi, min_size, max_depth, epics
        As in :meth:`MixtureOfLinearModels.rules`.

    Returns
    -------
    DataFrame
        Columns ``epic``, ``rule``, ``n_samples``, ``purity`` and ``coverage``.
    """
    check_is_fitted(mlm, "epics_")
    from sklearn.tree import DecisionTreeClassifier

    if not is_real(psi) or not 0 < psi <= 1:
        raise ValueError(f"psi must be in (0, 1]; got {psi!r}.")
    Xr = mlm.augmented_X_[mlm.augmented_is_real_]
    n = Xr.shape[0]
    if min_size is None:
        min_size = max(5, int(np.ceil(0.01 * n)))
    if not is_int(min_size) or min_size < 1:
        raise ValueError(f"min_size must be a positive integer; got {min_size!r}.")
    if not is_int(max_depth) or max_depth < 1:
        raise ValueError(f"max_depth must be a positive integer; got {max_depth!r}.")
    which = range(mlm.n_epics_) if epics is None else [int(e) for e in epics]
    for e in which:
        if not 0 <= e < mlm.n_epics_:
            raise ValueError(f"EPIC {e} does not exist (there are {mlm.n_epics_}).")
    ep = mlm.epics_[mlm.cell_labels_]
    names = mlm._feature_names()
    binary = np.all((Xr == 0) | (Xr == 1), axis=0)
    seed = mlm.random_state if is_int(mlm.random_state) else 0
    out = []
    for j in which:
        target = ep == j
        size_j = int(target.sum())
        if size_j == 0:
            continue
        tree = DecisionTreeClassifier(max_depth=max_depth, random_state=seed)
        tree.fit(Xr, target)
        t = tree.tree_
        # class counts per node: value holds fractions (sklearn >= 1.4) or counts
        frac_pos = t.value[:, 0, list(tree.classes_).index(True)] if True in tree.classes_ \
            else np.zeros(t.node_count)
        if t.value[:, 0, :].sum(axis=1).max() > 1.0 + 1e-9:
            frac_pos = frac_pos / t.value[:, 0, :].sum(axis=1)
        sizes = t.n_node_samples
        stack: list[tuple[int, list[tuple[int, str, float]]]] = [(0, [])]
        while stack:
            node, path = stack.pop()
            if frac_pos[node] >= psi and sizes[node] >= min_size:
                npos = int(round(frac_pos[node] * sizes[node]))
                out.append({
                    "epic": j,
                    "rule": _render_rule(path, names, binary),
                    "n_samples": int(sizes[node]),
                    "purity": float(frac_pos[node]),
                    "coverage": npos / size_j,
                })
                continue
            left, right = t.children_left[node], t.children_right[node]
            if left == -1:
                continue
            f, thr = int(t.feature[node]), float(t.threshold[node])
            stack.append((right, [*path, (f, ">", thr)]))
            stack.append((left, [*path, (f, "<=", thr)]))
    df = pd.DataFrame(out, columns=["epic", "rule", "n_samples", "purity", "coverage"])
    if len(df):
        df = df.sort_values(["epic", "coverage"], ascending=[True, False], kind="stable")
    return df.reset_index(drop=True)

def _render_rule(path: list[tuple[int, str, float]], names: list[str], binary: np.ndarray) -> str:
    if not path:
        return "(all rows)"
    lo: dict[int, float] = {}
    hi: dict[int, float] = {}
    order: list[int] = []
    for f, op, thr in path:
        if f not in order:
            order.append(f)
        if op == ">":
            lo[f] = max(lo.get(f, -np.inf), thr)
        else:
            hi[f] = min(hi.get(f, np.inf), thr)
    parts = []
    for f in order:
        name = names[f]
        a, b = lo.get(f, -np.inf), hi.get(f, np.inf)
        if binary[f] and (0 <= a < 1 or 0 <= b < 1):
            parts.append(f"{name} == 1" if a > -np.inf else f"{name} == 0")
        elif a > -np.inf and b < np.inf:
            parts.append(f"{_fmt(a)} < {name} <= {_fmt(b)}")
        elif a > -np.inf:
            parts.append(f"{name} > {_fmt(a)}")
        else:
            parts.append(f"{name} <= {_fmt(b)}")
    return " and ".join(parts)


def _fmt(v: float) -> str:
    return f"{v:.4g}"
