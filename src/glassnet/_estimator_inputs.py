"""Raw rows -> network inputs for the glassnet estimators: categorical one-hot and scaling.

Private helper of :mod:`glassnet.estimators`. Two fitted pieces live here:

* :class:`InputEncoder`: which original columns are categorical and their one-hot encoding
  (scikit-learn ``OneHotEncoder(handle_unknown="ignore")``). The encoded matrix keeps the
  original column order, each categorical column replaced in place by one 0/1 column per
  category seen in training. Its output is what ``network_`` takes as input.
* :func:`standardization`: mean and scale of the encoded numeric columns, used only while
  training; the estimators fold them into the first layer of ``network_``
  (:func:`fold_standardization`).

:class:`InputsMixin` gives the estimators their input methods (validation, encoding,
``transform_inputs``, ``get_feature_names_out``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data


def _is_frame(X: Any) -> bool:
    return hasattr(X, "columns") and hasattr(X, "dtypes") and hasattr(X, "iloc")


def _is_categorical_dtype(dt: Any) -> bool:
    """pandas ``category``, ``object`` and string dtypes are categorical; numbers, bools not."""
    return getattr(dt, "kind", "O") not in "biuf"


def categorical_columns(X: Any, categorical_features: Any) -> list[int]:
    """Positions of the categorical columns of ``X`` (sorted).

    Columns of a DataFrame with a ``category``, ``object`` or string dtype are always
    categorical; ``categorical_features`` (names or integer positions) adds others, for
    example integer-coded categories.
    """
    frame = _is_frame(X)
    n_cols = X.shape[1] if hasattr(X, "shape") and len(X.shape) == 2 else None
    found: set[int] = set()
    if frame:
        found = {j for j, dt in enumerate(X.dtypes) if _is_categorical_dtype(dt)}
    if categorical_features is None:
        return sorted(found)
    spec = categorical_features
    if isinstance(spec, (str, int, np.integer)):
        spec = [spec]
    try:
        spec = list(spec)
    except TypeError:
        raise TypeError(
            "categorical_features must be None or a list of column names or positions; got "
            f"{categorical_features!r}."
        ) from None
    names = [str(c) for c in X.columns] if frame else None
    for item in spec:
        if isinstance(item, (bool, np.bool_)):
            raise TypeError(
                "categorical_features must list column names or integer positions, not "
                f"booleans; got {categorical_features!r}."
            )
        if isinstance(item, (int, np.integer)):
            if n_cols is None or not 0 <= int(item) < n_cols:
                raise ValueError(
                    f"categorical_features position {item} is out of range for X with "
                    f"{n_cols} columns."
                )
            found.add(int(item))
        elif isinstance(item, str):
            if names is None:
                raise ValueError(
                    f"categorical_features names a column ({item!r}) but X has no column "
                    "names; pass a DataFrame or give integer positions."
                )
            if item not in names:
                raise ValueError(
                    f"categorical_features names {item!r}, which is not a column of X "
                    f"(columns: {names[:10]}{'...' if len(names) > 10 else ''})."
                )
            found.add(names.index(item))
        else:
            raise TypeError(
                f"categorical_features entries must be str or int; got {item!r}."
            )
    return sorted(found)


class InputEncoder:
    """One-hot encoding of some columns of raw rows, fitted on the training rows.

    Parameters
    ----------
    columns : list of str
        Names of the original columns (``x0, x1, ...`` for arrays).
    categorical : list of int
        Positions of the categorical columns.
    """

    def __init__(
        self,
        columns: Sequence[str],
        categorical: Sequence[int],
        categories: Sequence[Sequence[Any]] | None = None,
    ) -> None:
        self.columns = [str(c) for c in columns]
        self.categorical = [int(j) for j in categorical]
        self.numeric = [j for j in range(len(self.columns)) if j not in set(self.categorical)]
        self.categories: list[list[Any]] | None = None
        if categories is not None:
            self._layout([list(c) for c in categories])

    # ---- fit
    def fit(self, X: Any) -> InputEncoder:
        """Learn the categories of the categorical columns (sorted, as OneHotEncoder does)."""
        from sklearn.preprocessing import OneHotEncoder

        ohe = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64)
        ohe.fit(self._categorical_block(X))
        # plain Python values, so that the estimator's state saves as JSON
        self._layout([np.asarray(c).tolist() for c in ohe.categories_])
        return self

    def _layout(self, categories: list[list[Any]]) -> None:
        """Encoded layout: original column order, categorical columns expanded in place."""
        from sklearn.preprocessing import OneHotEncoder

        if len(categories) != len(self.categorical):
            raise ValueError("one list of categories per categorical column is needed.")
        self.categories = categories
        # the encoder that transforms; its categories are fixed, the fit only checks them
        self.ohe = OneHotEncoder(
            categories=[np.asarray(c, dtype=object) for c in categories],
            handle_unknown="ignore", sparse_output=False, dtype=np.float64,
        )
        width = max(len(c) for c in categories)
        self.ohe.fit(np.array([[c[i % len(c)] for c in categories] for i in range(width)],
                              dtype=object))
        names: list[str] = []
        groups: dict[str, tuple[str, ...]] = {}
        num_pos: list[int] = []
        cat_pos: list[int] = []
        k = 0
        cat_set = set(self.categorical)
        for j, col in enumerate(self.columns):
            if j in cat_set:
                cols = tuple(f"{col}_{v}" for v in categories[self.categorical.index(j)])
                cat_pos.extend(range(k, k + len(cols)))
            else:
                cols = (col,)
                num_pos.append(k)
            groups[col] = cols
            names.extend(cols)
            k += len(cols)
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(
                f"One-hot encoding produces duplicate feature names {dup[:5]}; rename the "
                "columns so that '<column>_<category>' does not clash with another column."
            )
        self.feature_names_out = names
        self.groups = groups
        self.num_pos = np.asarray(num_pos, dtype=np.intp)
        self.cat_pos = np.asarray(cat_pos, dtype=np.intp)

    @property
    def n_features_out(self) -> int:
        return len(self.feature_names_out)

    # ---- transform
    def transform(self, X: Any) -> np.ndarray:
        """Encoded float64 matrix ``(n, n_features_out)`` of raw rows ``X``."""
        n = X.shape[0]
        out = np.empty((n, self.n_features_out))
        if self.numeric:
            out[:, self.num_pos] = self._numeric_block(X)
        cat = self._categorical_block(X)
        with warnings.catch_warnings():
            # unknown categories are reported below, once, naming the columns
            warnings.simplefilter("ignore", UserWarning)
            enc = self.ohe.transform(cat)
        unknown = []
        start = 0
        for j, cats in zip(self.categorical, self.categories, strict=True):
            if n and (enc[:, start : start + len(cats)].sum(axis=1) == 0).any():
                unknown.append(self.columns[j])
            start += len(cats)
        if unknown:
            warnings.warn(
                f"glassnet: warning: column(s) {unknown[:10]} hold categories never seen in "
                "training; they are encoded as all zeros (no category's effect applies).",
                UserWarning,
                stacklevel=3,
            )
        out[:, self.cat_pos] = enc
        return out

    # ---- pieces
    def _take(self, X: Any, idx: list[int]) -> Any:
        if _is_frame(X):
            return X.iloc[:, idx]
        return np.asarray(X, dtype=object)[:, idx] if len(idx) else np.empty((X.shape[0], 0))

    def _numeric_block(self, X: Any) -> np.ndarray:
        block = self._take(X, self.numeric)
        try:
            if _is_frame(block):
                arr = block.to_numpy(dtype=np.float64, na_value=np.nan)
            else:
                arr = np.asarray(block, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"A numeric column of X holds values that are not numbers ({exc}); list "
                "categorical columns in categorical_features."
            ) from None
        bad = ~np.isfinite(arr)
        if bad.any():
            col = self.columns[self.numeric[int(np.flatnonzero(bad.any(axis=0))[0])]]
            raise ValueError(
                f"X holds NaN or infinity (column {col!r}); impute or drop those values first."
            )
        return arr

    def _categorical_block(self, X: Any) -> np.ndarray:
        block = self._take(X, self.categorical)
        import pandas as pd

        if _is_frame(block):
            arr = block.astype(object).to_numpy()
        else:
            arr = np.asarray(block, dtype=object)

        missing = pd.isna(arr)
        if missing.any():
            col = self.columns[self.categorical[int(np.flatnonzero(missing.any(axis=0))[0])]]
            raise ValueError(
                f"Categorical column {col!r} has missing values; fill them first (for example "
                "with a 'missing' category)."
            )
        return arr


def standardization(
    X: np.ndarray, w: np.ndarray, columns: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and scale of the columns of ``X`` (``columns`` only; others 0 and 1).

    The scale is the weighted standard deviation (``ddof=0``, as scikit-learn's
    ``StandardScaler``); a column that is constant (standard deviation at most 1e-12 times
    its magnitude) gets scale 1, so it is only centred.
    """
    d = X.shape[1]
    mean = np.zeros(d)
    scale = np.ones(d)
    cols = np.arange(d) if columns is None else np.asarray(columns, dtype=np.intp)
    if cols.size == 0:
        return mean, scale
    sub = X[:, cols]
    m = np.average(sub, axis=0, weights=w)
    s = np.sqrt(np.average((sub - m) ** 2, axis=0, weights=w))
    s = np.where(s > 1e-12 * np.maximum(np.abs(m), 1.0), s, 1.0)
    mean[cols] = m
    scale[cols] = s
    return mean, scale


def fold_standardization(
    weights: list[np.ndarray], biases: list[np.ndarray], mean: np.ndarray, scale: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """First layer trained on ``(x - mean) / scale`` -> the same function of raw ``x``.

    ``W (x - m) / s + b = (W / s) x + (b - (W / s) m)``.
    """
    Ws, bs = list(weights), list(biases)
    W0 = Ws[0] / scale[None, :]
    bs[0] = bs[0] - W0 @ mean
    Ws[0] = W0
    return Ws, bs


def unfold_standardization(
    weights: list[np.ndarray], biases: list[np.ndarray], mean: np.ndarray, scale: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Inverse of :func:`fold_standardization` (a raw-unit network -> standardised inputs)."""
    Ws, bs = list(weights), list(biases)
    bs[0] = bs[0] + Ws[0] @ mean
    Ws[0] = Ws[0] * scale[None, :]
    return Ws, bs


class InputsMixin:
    """Input handling of the glassnet estimators: validation, one-hot encoding of categorical
    columns, the standardisation statistics, ``transform_inputs`` and
    ``get_feature_names_out``. Needs ``categorical_features`` and ``standardize``."""

    # ---- input checks
    def _validate_fit(self, X: Any, y: Any) -> tuple[np.ndarray, Any]:
        """Validate the training rows, fit the one-hot encoder, return encoded rows and y."""
        cat = categorical_columns(X, self.categorical_features)
        self.categorical_features_, self.categories_ = [], None
        if not cat:
            X, y = self._validate_numeric(X, reset=True, y=y)
            return X, y
        from sklearn.utils.validation import (
            _check_feature_names,
            _check_n_features,
            check_consistent_length,
        )

        X = self._check_2d(X)
        _check_feature_names(self, X, reset=True)
        _check_n_features(self, X, reset=True)
        if y is None:
            raise ValueError("y is None; fit needs a target.")
        check_consistent_length(X, y)
        names = getattr(self, "feature_names_in_", None)
        columns = [str(c) for c in names] if names is not None else [
            f"x{j}" for j in range(X.shape[1])
        ]
        encoder = InputEncoder(columns, cat).fit(X)
        # the encoding is kept as plain data (names, categories) and rebuilt on use, so a
        # saved estimator (glassnet.io.save) holds no encoder object
        self.categorical_features_ = [columns[j] for j in cat]
        self.categories_ = encoder.categories
        y = np.asarray(y)
        if y.dtype.kind in "fc" and not np.isfinite(y).all():
            raise ValueError("y contains NaN or infinity.")
        return encoder.transform(X), y

    def _input_encoder(self) -> InputEncoder | None:
        """The fitted one-hot encoding, or None without categorical columns."""
        cats = getattr(self, "categorical_features_", None)
        if not cats:
            return None
        names = getattr(self, "feature_names_in_", None)
        columns = [str(c) for c in names] if names is not None else [
            f"x{j}" for j in range(self.n_features_in_)
        ]
        return InputEncoder(columns, [columns.index(c) for c in cats], self.categories_)

    @staticmethod
    def _check_2d(X: Any) -> Any:
        if not hasattr(X, "shape"):
            X = np.asarray(X, dtype=object)
        if len(X.shape) != 2:
            raise ValueError(
                f"Expected a 2D array or DataFrame of shape (n_samples, n_features); got shape "
                f"{X.shape}."
            )
        if X.shape[0] == 0:
            raise ValueError("Found array with 0 sample(s) (shape=(0, ...)); X needs rows.")
        return X

    def _validate_numeric(self, X: Any, *, reset: bool, y: Any = None) -> Any:
        try:
            if reset:
                return validate_data(self, X, y, dtype=np.float64, multi_output=True)
            return validate_data(self, X, reset=False, dtype=np.float64)
        except ValueError as exc:
            if "could not convert string to float" in str(exc):
                raise ValueError(
                    f"X holds text ({exc}); pass a DataFrame (text columns are one-hot "
                    "encoded) or list the columns in categorical_features."
                ) from exc
            raise

    def transform_inputs(self, X: Any) -> np.ndarray:
        """Raw rows -> the inputs of ``network_``: categorical columns one-hot encoded.

        Standardisation is not applied here: it is folded into the first layer of
        ``network_``, so ``network_.forward(est.transform_inputs(X))`` is the model's raw
        output on the original units. Without categorical columns this only validates ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features_in_)
            Raw rows with the columns seen in ``fit``.

        Returns
        -------
        ndarray of shape (n_samples, len(get_feature_names_out()))
            float64, columns in the order of :meth:`get_feature_names_out`.
        """
        check_is_fitted(self, "network_")
        encoder = self._input_encoder()
        if encoder is None:
            return self._validate_numeric(X, reset=False)
        from sklearn.utils.validation import _check_feature_names, _check_n_features

        X = self._check_2d(X)
        _check_feature_names(self, X, reset=False)
        _check_n_features(self, X, reset=False)
        return encoder.transform(X)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the network's inputs: numeric columns, then ``<column>_<category>``.

        Parameters
        ----------
        input_features : ignored
            Accepted for scikit-learn compatibility; the names come from ``fit``.

        Returns
        -------
        ndarray of str objects
        """
        check_is_fitted(self, "network_")
        return np.asarray(self._input_names(), dtype=object)

    def _input_names(self) -> list[str]:
        encoder = self._input_encoder()
        if encoder is not None:
            return list(encoder.feature_names_out)
        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            return [str(f) for f in names]
        return [f"x{j}" for j in range(self.n_features_in_)]

    def _set_standardization(self, X: np.ndarray, w: np.ndarray) -> None:
        """``input_mean_``/``input_scale_`` of the network inputs (one-hot columns: 0 and 1)."""
        encoder = self._input_encoder()
        if not self.standardize:
            self.input_mean_, self.input_scale_ = np.zeros(X.shape[1]), np.ones(X.shape[1])
            return
        cols = None if encoder is None else encoder.num_pos
        self.input_mean_, self.input_scale_ = standardization(X, w, cols)
