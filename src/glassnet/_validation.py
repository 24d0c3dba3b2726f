"""Input validation shared by every public entry point.

This module sits on the lowest floor of the package: it imports nothing from glassnet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def _is_dataframe(X: Any) -> bool:
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "to_numpy")


def feature_names_of(X: Any) -> list[str] | None:
    """Column names of a DataFrame-like ``X`` as strings, or None for arrays."""
    if _is_dataframe(X):
        return [str(c) for c in X.columns]
    return None


def check_X(
    X: Any,
    *,
    n_features: int | None = None,
    feature_names: Sequence[str] | None = None,
    name: str = "X",
    allow_empty: bool = False,
) -> np.ndarray:
    """Validate a 2-D numeric matrix and return it as a C-contiguous float64 array.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        The data. A DataFrame whose columns are a permutation of ``feature_names``
        is reordered to that order.
    n_features : int, optional
        The number of columns required.
    feature_names : sequence of str, optional
        Names the columns of a DataFrame must match (as a set; they are reordered).
    name : str
        How the argument is called in error messages.
    allow_empty : bool
        Whether zero rows are accepted.

    Raises
    ------
    TypeError
        If ``X`` holds non-numeric values or is a SciPy sparse matrix.
    ValueError
        If ``X`` is not 2-D, is empty, holds NaN or infinity, or has the wrong columns.
    """
    if X is None:
        raise ValueError(
            f"{name} is None; pass a 2-D array or DataFrame of shape (n_samples, n_features)."
        )
    if _is_dataframe(X):
        cols = [str(c) for c in X.columns]
        if feature_names is not None and cols != list(feature_names):
            missing = [f for f in feature_names if f not in cols]
            extra = [c for c in cols if c not in set(feature_names)]
            if missing or extra:
                raise ValueError(
                    f"{name} has columns that do not match the network's features: "
                    f"missing {missing[:10]}, unexpected {extra[:10]}. "
                    "Pass a DataFrame with exactly these columns (any order), or a NumPy array."
                )
            X = X[[X.columns[cols.index(f)] for f in feature_names]]
        non_numeric = [
            str(c) for c, dt in zip(X.columns, X.dtypes, strict=True) if not _numeric_dtype(dt)
        ]
        if non_numeric:
            raise TypeError(
                f"{name} has non-numeric columns {non_numeric[:10]}; encode them as numbers "
                "(for example one-hot) before using them with a network."
            )
        arr = X.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        if _is_sparse(X):  # np.asarray would wrap it in a 0-d object array: say what it is
            raise TypeError(
                f"{name} is a sparse matrix ({type(X).__name__}): sparse input is not "
                f"supported; convert with {name}.toarray()."
            )
        try:
            arr = np.asarray(X)
        except Exception as exc:  # ragged lists and the like
            raise ValueError(f"{name} could not be read as a 2-D numeric array: {exc}") from exc
        if arr.dtype == object or arr.dtype.kind in "USV":
            try:
                arr = arr.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"{name} holds non-numeric values ({arr.dtype}); encode them as numbers first."
                ) from exc
        if arr.dtype.kind == "c":
            raise TypeError(f"{name} holds complex numbers; only real values are supported.")
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} has dtype {arr.dtype}; a numeric array is required.")
    if arr.ndim != 2:
        hint = (
            " Reshape a single feature with X.reshape(-1, 1), a single row with"
            " X.reshape(1, -1)."
        )
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features); got shape {arr.shape}.{hint}"
        )
    if arr.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (0 rows); at least one row is required.")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(
            f"{name} has {arr.shape[1]} features, but the network expects {n_features}."
        )
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.isfinite(arr).all():
        bad = ~np.isfinite(arr)
        rows = np.flatnonzero(bad.any(axis=1))
        kind = "NaN" if np.isnan(arr).any() else "infinity"
        raise ValueError(
            f"{name} contains {kind} in {rows.size} row(s) (first: row {int(rows[0])}); "
            "impute or drop them first."
        )
    return arr


def _is_sparse(X: Any) -> bool:
    """Whether ``X`` is a SciPy sparse matrix or array (without importing SciPy)."""
    return type(X).__module__.startswith("scipy.sparse") and hasattr(X, "toarray")


def _numeric_dtype(dt: Any) -> bool:
    try:
        kind = np.dtype(dt).kind
    except TypeError:  # pandas extension dtypes
        kind = getattr(dt, "kind", "O")
    return kind in "biuf"


def check_y(y: Any, n_samples: int, *, name: str = "y", numeric: bool = True) -> np.ndarray:
    """Validate a target vector or matrix with ``n_samples`` rows.

    Numeric targets are returned as float64 (1-D stays 1-D); non-numeric ones only when
    ``numeric`` is False.
    """
    if y is None:
        raise ValueError(f"{name} is None.")
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    arr = np.asarray(y)
    if arr.ndim == 0 or arr.ndim > 2:
        raise ValueError(f"{name} must be 1-D or 2-D; got shape {arr.shape}.")
    if arr.shape[0] != n_samples:
        raise ValueError(f"{name} has {arr.shape[0]} rows but X has {n_samples}.")
    if numeric:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be numeric; got dtype {arr.dtype}.") from exc
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or infinity; drop or impute those rows first.")
    return arr


def check_chunk_size(chunk_size: int | None, default: int) -> int:
    if chunk_size is None:
        return default
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)):
        raise TypeError(f"chunk_size must be a positive integer or None; got {chunk_size!r}.")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer; got {chunk_size}.")
    return int(chunk_size)
