"""Checks and selections the Displays share; no matplotlib here.

:class:`~glassnet.plotting.ContributionDisplay` and the Displays of
:mod:`glassnet.plotting.decisions` all plot one row of ``X`` given by position, titled with
the row's own label (:func:`pick_row`), and keep the largest bars with the rest folded into
one ("other"), so the bars still add up to the total (:func:`fold_smallest`). Every
``top``/``max_features`` count is checked by :func:`check_top`.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def check_top(top: Any, name: str = "top") -> int | None:
    """``top`` as an int, or None; a ValueError naming ``name`` unless a positive integer."""
    if top is None:
        return None
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"{name} must be a positive integer or None; got {top!r}.")
    return int(top)


def pick_row(X: Any, row: Any) -> tuple[Any, Any]:
    """Row position ``row`` of ``X`` as a one-row table, and the label to title it with.

    Parameters
    ----------
    X : DataFrame or array-like
    row : int
        Position in ``X`` (not an index label).

    Returns
    -------
    Xr : DataFrame or ndarray
        ``X.iloc[[row]]`` for a DataFrame, a one-row 2-D array otherwise.
    label : object
        The row's index label for a DataFrame (what a reader knows it by), else ``row``.
    """
    n = np.shape(X)[0] if hasattr(X, "shape") else len(X)
    if isinstance(row, bool) or not isinstance(row, (int, np.integer)) or not 0 <= row < n:
        raise ValueError(f"row must be a position in 0..{n - 1}; got {row!r}.")
    if hasattr(X, "iloc"):
        return X.iloc[[row]], X.index[row]
    return np.asarray(X)[[row]], row


def fold_smallest(names: Any, values: Any, max_features: Any) -> tuple[list[str], np.ndarray]:
    """Keep the ``max_features`` largest ``values`` by size; sum the rest into one bar.

    Parameters
    ----------
    names : sequence of str
    values : array-like of float
        One per name.
    max_features : int or None
        None keeps every bar.

    Returns
    -------
    names : list of str
        The kept names, largest first, then ``"other (m)"`` for the ``m`` folded ones.
    values : ndarray
        Their values; they add up to the sum of the input values.
    """
    max_features = check_top(max_features, "max_features")
    names, values = list(names), np.asarray(values, dtype=np.float64)
    if max_features is None or max_features >= len(names):
        return names, values
    order = np.argsort(-np.abs(values), kind="stable")
    keep, rest = order[:max_features], order[max_features:]
    return ([names[i] for i in keep] + [f"other ({rest.size})"],
            np.r_[values[keep], values[rest].sum()])
