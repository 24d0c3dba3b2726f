"""Input checks shared by every score in :mod:`glassnet._metrics` (one rule for each case).

1-D coercion with one message per failure (shape, emptiness, dtype, NaN), the pairing of
labels and scores, probability and bin-count checks, and the binary-target rule (positive
class 1 for 0/1 labels, else the larger label unless ``pos_label`` says otherwise).

This module imports nothing from glassnet, so every floor of the package may import it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["as_1d", "pair", "check_proba", "check_bins", "binary_target"]


def as_1d(a: Any, name: str, *, numeric: bool = True) -> np.ndarray:
    """``a`` as a 1-D array (an (n, 1) column is flattened), float64 and finite if ``numeric``."""
    arr = np.asarray(a)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got shape {arr.shape}. Pass one value per row.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass at least one row.")
    if numeric:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be numeric; got dtype {arr.dtype}.") from exc
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} holds NaN or infinity; drop or impute those rows first.")
    elif arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name} holds NaN; drop those rows first.")
    return arr


def pair(y: Any, score: Any, score_name: str = "score") -> tuple[np.ndarray, np.ndarray]:
    """Labels ``y`` (any dtype) and numeric ``score`` as 1-D arrays of one length."""
    y = as_1d(y, "y", numeric=False)
    s = as_1d(score, score_name)
    if len(y) != len(s):
        raise ValueError(f"y has {len(y)} rows but {score_name} has {len(s)}; they must match.")
    return y, s


def check_proba(p: np.ndarray, name: str = "proba") -> None:
    """Raise when ``p`` leaves [0, 1]."""
    if p.min() < 0.0 or p.max() > 1.0:
        raise ValueError(f"{name} must be probabilities in [0, 1]; got [{p.min():g}, {p.max():g}].")


def binary_target(y: Any, pos_label: Any = None) -> np.ndarray:
    """Return ``y`` as a float64 0/1 vector (1 = positive class).

    Parameters
    ----------
    y : array-like of shape (n,)
        Labels with at most two distinct values.
    pos_label : scalar, optional
        The positive label. Default: 1 when the labels are a subset of {0, 1} (or booleans),
        else the larger of the two labels.

    Returns
    -------
    ndarray of shape (n,)
        1.0 where ``y == pos_label``, else 0.0.
    """
    y = as_1d(y, "y", numeric=False)
    classes = np.unique(y)
    if len(classes) > 2:
        raise ValueError(
            f"y has {len(classes)} classes {classes[:5].tolist()}...; this score is binary. "
            "Pass a 2-D probability matrix for multi-class AUC, or one-vs-rest labels."
        )
    if pos_label is None:
        if y.dtype.kind == "b" or set(classes.tolist()) <= {0, 1}:
            pos_label = 1
        elif len(classes) == 2:
            pos_label = classes[1]
        else:
            raise ValueError(
                f"y holds the single label {classes[0]!r}, so the positive class is ambiguous; "
                "pass pos_label."
            )
    return (y == pos_label).astype(np.float64)


def check_bins(n_bins: int, name: str = "n_bins") -> int:
    """``n_bins`` as a positive int, else a ValueError naming ``name``."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"{name} must be a positive integer; got {n_bins!r}.")
    return int(n_bins)
