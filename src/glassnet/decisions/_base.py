"""What a decision is, for the network's kind of output, and the distance terms of the MILPs.

* binary (one sigmoid output): class 1 when the raw output ``eta`` is above the threshold's
  logit (0 for probability 0.5), class 0 otherwise, as ``predict`` does;
* multi-class (softmax): the class with the largest raw output;
* regression (identity output): no decision; the decision functions raise ValueError.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logit

from glassnet.decisions._milp import Model
from glassnet.network import ReluNetwork


def is_binary(net: ReluNetwork) -> bool:
    """One sigmoid output: class 1 above the threshold, class 0 below."""
    return net.task == "classification" and net.output == "sigmoid" and net.n_outputs == 1


def require_classifier(net: ReluNetwork, what: str) -> str:
    # ReluNetwork.task says classification or regression; a decision also needs one class
    # per row, which several sigmoid outputs (multi-label) do not give
    if net.task == "regression":
        task = "regression"
    elif is_binary(net):
        task = "binary"
    else:
        task = "multiclass" if net.output == "softmax" else "multilabel"
    if task in ("regression", "multilabel"):
        raise ValueError(
            f"{what} needs a decision: a binary classifier (one sigmoid output) or a "
            f"multi-class one (softmax); this network has a {net.output!r} output with "
            f"{net.n_outputs} output(s) ({task}). For a regression network, set a threshold "
            "on the output yourself and use output_bounds."
        )
    return task


def check_threshold(threshold: Any) -> float:
    """The logit of a probability threshold in (0, 1)."""
    try:
        t = float(threshold)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"threshold must be a probability in (0, 1); got {threshold!r}.") from exc
    if not 0.0 < t < 1.0:
        raise ValueError(f"threshold must be a probability in (0, 1); got {threshold!r}.")
    return float(logit(t))


def predict_class(net: ReluNetwork, eta: np.ndarray, level: float = 0.0) -> np.ndarray:
    """Decision of every row from raw outputs ``eta`` of shape (n, n_outputs)."""
    if net.n_outputs == 1:
        return (eta[:, 0] > level).astype(np.int64)
    return np.argmax(eta, axis=1).astype(np.int64)


def class_margin(eta: np.ndarray, target: int, level: float = 0.0) -> np.ndarray:
    """How far each row's raw output is inside class ``target`` (positive: it is there).

    Binary: ``eta - level`` for class 1, ``level - eta`` for class 0. Multi-class:
    ``eta[target] - max(other eta)``.
    """
    if eta.shape[1] == 1:
        return (eta[:, 0] - level) if target == 1 else (level - eta[:, 0])
    others = np.delete(eta, target, axis=1)
    return eta[:, target] - others.max(axis=1)


def check_class(net: ReluNetwork, value: Any, name: str) -> int:
    k = 2 if net.n_outputs == 1 else net.n_outputs
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < k:
        raise ValueError(f"{name} must be a class index in 0..{k - 1}; got {value!r}.")
    return int(value)


def add_target(m: Model, E: np.ndarray, e0: np.ndarray, target: int, level: float,
               margin: float, against: int | None = None) -> None:
    """Constrain the encoded outputs ``eta = E @ v + e0`` to class ``target`` by ``margin``.

    For multi-class, ``against`` restricts the comparison to one other class (the flip
    problem's disjunction is solved class by class); otherwise ``target`` must beat all.
    """
    if E.shape[0] == 1:
        if target == 1:
            m.add_expr_row(E[0], e0[0], level + margin, np.inf)
        else:
            m.add_expr_row(E[0], e0[0], -np.inf, level - margin)
        return
    others = [against] if against is not None else [j for j in range(E.shape[0]) if j != target]
    for j in others:
        m.add_expr_row(E[target] - E[j], e0[target] - e0[j], margin, np.inf)


def add_distance(m: Model, x0: np.ndarray, weights: np.ndarray, norm: str,
                 radius: float = np.inf) -> np.ndarray:
    """Add ``weights``-scaled L1 or L-infinity distance from ``x0`` (and the budget
    ``<= radius``); returns the cost vector. Weight-0 features move for free."""
    return m.add_ball(x0, weights, radius, norm)


def distance(x: np.ndarray, x0: np.ndarray, weights: np.ndarray, norm: str) -> np.ndarray:
    """Weighted L1 / L-infinity distance of rows ``x`` from ``x0`` (float64)."""
    w = np.where(np.isfinite(weights), weights, 0.0)
    diff = np.abs(np.atleast_2d(x) - x0) * w
    return diff.sum(axis=1) if norm == "l1" else diff.max(axis=1)


def check_norm(norm: Any, allowed=("l1", "linf")) -> str:
    if norm not in allowed:
        raise ValueError(f"norm must be one of {allowed}; got {norm!r}.")
    return norm


def input_names(net: ReluNetwork) -> list[str]:
    if net.feature_names:
        return list(net.feature_names)
    return [f"x{i}" for i in range(net.n_features)]


def group_index(net: ReluNetwork, groups: Any) -> dict[str, np.ndarray]:
    """Input indices per group, covering each input once, ordered by first input.

    ``groups`` maps a group name to input names or indices; None uses the network's
    ``feature_groups`` (one-hot encoded columns) if it has any; ``{}`` means no grouping.
    Inputs outside every group form their own group, named after the input.
    """
    names = input_names(net)
    if groups is None:
        groups = getattr(net, "feature_groups", None) or {}
    if not hasattr(groups, "items"):
        raise TypeError(
            f"groups must be a mapping name -> input names; got {type(groups).__name__}."
        )
    pos = {n: i for i, n in enumerate(names)}
    owner: dict[int, str] = {}
    members_of: dict[str, list[int]] = {}
    for g, members in groups.items():
        idx = []
        for mbr in members:
            if isinstance(mbr, (int, np.integer)) and not isinstance(mbr, bool):
                i = int(mbr)
                if not 0 <= i < len(names):
                    raise ValueError(
                        f"group {g!r}: input index {i} out of range 0..{len(names) - 1}."
                    )
            elif str(mbr) in pos:
                i = pos[str(mbr)]
            else:
                raise ValueError(f"group {g!r}: unknown input {mbr!r}; inputs are {names[:8]}...")
            if i in owner:
                raise ValueError(f"input {names[i]!r} is in two groups ({owner[i]!r}, {g!r}).")
            owner[i] = str(g)
            idx.append(i)
        members_of[str(g)] = idx
    out: dict[str, np.ndarray] = {}
    for i, n in enumerate(names):
        g = owner.get(i)
        if g is None:
            out[n] = np.array([i], dtype=np.intp)
        elif g not in out:
            out[g] = np.array(members_of[g], dtype=np.intp)
    return out
