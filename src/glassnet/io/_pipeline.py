"""The preprocessing part of a scikit-learn pipeline, split into an encoder and affine maps.

Scalers (``StandardScaler``, ``MinMaxScaler``, ``RobustScaler``, ``MaxAbsScaler``) and a
``ColumnTransformer`` of scalers and passthrough columns are affine: they are folded into
the network's first layer, so the network reads raw rows. A ``OneHotEncoder`` is not
affine; when one is present (alone or inside a ``ColumnTransformer``, which must then be
the first step) the network's inputs are the ENCODED columns: the numeric columns in raw
units and the one-hot columns, with ``feature_groups`` mapping each original categorical
column to its one-hot columns, and :class:`InputEncoder` turns raw rows into those inputs
with the pipeline's own fitted encoders.

Only the exact classes listed here are accepted (``type(step) is StandardScaler``): a
subclass may transform differently, so it is refused naming the step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from glassnet.io._compose import Affine


def _sk():
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import (
        FunctionTransformer,
        MaxAbsScaler,
        MinMaxScaler,
        OneHotEncoder,
        RobustScaler,
        StandardScaler,
    )

    return {
        "StandardScaler": StandardScaler, "MinMaxScaler": MinMaxScaler,
        "RobustScaler": RobustScaler, "MaxAbsScaler": MaxAbsScaler,
        "OneHotEncoder": OneHotEncoder, "ColumnTransformer": ColumnTransformer,
        "FunctionTransformer": FunctionTransformer,
    }


def is_identity(step: Any) -> bool:
    """``None``, ``"passthrough"`` or a ``FunctionTransformer`` without functions."""
    if step is None or (isinstance(step, str) and step == "passthrough"):
        return True
    ft = _sk()["FunctionTransformer"]
    return type(step) is ft and step.func is None and step.inverse_func is None


def _fitted(step: Any, where: str) -> None:
    if not hasattr(step, "n_features_in_"):
        raise ValueError(f"{where} is not fitted; fit the pipeline first.")


def scaler_affine(step: Any, where: str) -> Affine | None:
    """The exact affine map of a fitted scaler, or None when ``step`` is not a scaler.

    Every option is read from the fitted attributes the scaler's own ``transform`` uses:
    ``with_mean``/``with_std``, ``with_centering``/``with_scaling`` (and through them
    ``quantile_range``/``unit_variance``), ``feature_range``. ``MinMaxScaler(clip=True)``
    is not affine and is refused.
    """
    sk = _sk()
    t = type(step)
    if t not in (sk["StandardScaler"], sk["MinMaxScaler"], sk["RobustScaler"],
                 sk["MaxAbsScaler"]):
        return None
    _fitted(step, where)
    d = int(step.n_features_in_)
    one, zero = np.ones(d), np.zeros(d)
    if t is sk["StandardScaler"]:
        # mean_ is fitted even with with_mean=False: transform ignores it then, so must we
        center = _vec(step.mean_, d) if step.with_mean else zero
        scale = _vec(step.scale_, d) if step.with_std else one
        return Affine(np.diag(1.0 / scale), -center / scale, where)
    if t is sk["RobustScaler"]:
        center = _vec(step.center_, d) if step.with_centering else zero
        scale = _vec(step.scale_, d) if step.with_scaling else one
        return Affine(np.diag(1.0 / scale), -center / scale, where)
    if t is sk["MinMaxScaler"]:
        if step.clip:
            raise TypeError(
                f"{where}: MinMaxScaler(clip=True) clips to feature_range, which is not "
                "affine; refit it with clip=False to import the pipeline exactly."
            )
        return Affine(np.diag(_vec(step.scale_, d)), _vec(step.min_, d), where)
    return Affine(np.diag(1.0 / _vec(step.scale_, d)), zero, where)  # MaxAbsScaler


def _vec(a: Any, d: int) -> np.ndarray:
    v = np.asarray(a, dtype=np.float64).reshape(-1)
    if v.shape != (d,) or not np.isfinite(v).all():
        raise ValueError(f"A fitted scaler attribute has shape {v.shape} or non-finite values.")
    return v


def scaler_stats(step: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """Location and spread of the data a scaler was fitted on (for probe rows)."""
    sk = _sk()
    t = type(step)
    with np.errstate(all="ignore"):
        if t is sk["StandardScaler"] and step.mean_ is not None and step.var_ is not None:
            return np.asarray(step.mean_, float), np.sqrt(np.asarray(step.var_, float)) + 1e-12
        if t is sk["MinMaxScaler"]:
            return np.asarray(step.data_min_, float), np.asarray(step.data_range_, float) + 1e-12
        if t is sk["RobustScaler"] and step.center_ is not None and step.scale_ is not None:
            return np.asarray(step.center_, float), np.asarray(step.scale_, float)
        if t is sk["MaxAbsScaler"]:
            return np.zeros_like(step.scale_, dtype=float), np.asarray(step.scale_, float)
    return None


@dataclass
class _Block:
    kind: str  # "numeric" or "onehot"
    raw: list[int]  # raw input columns
    encoder: Any = None  # fitted OneHotEncoder for "onehot"
    names: list[str] = field(default_factory=list)  # encoded input names


class InputEncoder:
    """Raw rows -> the network's inputs, with the pipeline's own fitted one-hot encoders.

    Numeric columns are passed in raw units (their scalers are folded into the network);
    categorical columns go through the fitted ``OneHotEncoder`` exactly as the pipeline
    does (``handle_unknown``, ``drop`` and infrequent categories included).

    Attributes
    ----------
    feature_names_out : tuple of str
        Names of the network's inputs, in order.
    feature_groups : dict of str to tuple of str
        Original categorical column -> its one-hot columns.
    n_features_in : int
        Number of raw columns.
    feature_names_in : ndarray of str or None
        Raw column names when the pipeline was fitted on a DataFrame.
    """

    def __init__(self, blocks: list[_Block], n_in: int, names_in: Any, where: str) -> None:
        self._blocks = blocks
        self.n_features_in = int(n_in)
        self.feature_names_in = None if names_in is None else [str(n) for n in names_in]
        self._where = where
        names = [n for b in blocks for n in b.names]
        if len(set(names)) != len(names):  # a column used twice: make the names unique
            names = [f"{i}:{n}" for i, n in enumerate(names)]
            k = 0
            for b in blocks:
                b.names = names[k : k + len(b.names)]
                k += len(b.names)
        self.feature_names_out = tuple(names)
        self.feature_groups: dict[str, tuple[str, ...]] = {}
        for b in blocks:
            if b.kind != "onehot":
                continue
            counts = list(getattr(b.encoder, "_n_features_outs", []))
            if len(counts) != len(b.raw) or sum(counts) != len(b.names):
                counts = [len(b.names)]  # cannot split per column: one group per encoder
                keys = ["+".join(self._raw_name(j) for j in b.raw)]
            else:
                keys = [self._raw_name(j) for j in b.raw]
            k = 0
            for key, c in zip(keys, counts, strict=True):
                if c:
                    g = key
                    if g in self.feature_groups:  # the same column one-hot encoded twice
                        g = f"{key} ({len(self.feature_groups)})"
                    self.feature_groups[g] = tuple(b.names[k : k + c])
                k += c
        # a group may not carry the name of an input outside it (see ReluNetwork)
        outside = set(names)
        for g in list(self.feature_groups):
            if g in outside and g not in self.feature_groups[g]:
                self.feature_groups[f"{g} (one-hot)"] = self.feature_groups.pop(g)

    def _raw_name(self, j: int) -> str:
        return self.feature_names_in[j] if self.feature_names_in is not None else f"x{j}"

    def __call__(self, X: Any) -> np.ndarray:
        """Encode raw rows (DataFrame with the fitted columns, or an array in their order)."""
        from sklearn.utils import _safe_indexing

        if getattr(X, "ndim", None) != 2 and not hasattr(X, "columns"):
            X = np.asarray(X, dtype=object if _has_text(X) else None)
        if getattr(X, "ndim", 2) != 2:
            raise ValueError(f"Expected 2-D raw rows for {self._where}; got {np.ndim(X)}-D.")
        if hasattr(X, "columns") and self.feature_names_in is not None:
            cols = [str(c) for c in X.columns]
            missing = [c for c in self.feature_names_in if c not in cols]
            if missing:
                raise ValueError(
                    f"The rows lack the column(s) {missing} that {self._where} was fitted on."
                )
            X = X.set_axis(cols, axis=1)
            pick = lambda idx: _safe_indexing(X, [self.feature_names_in[j] for j in idx], axis=1)  # noqa: E731
        else:
            if X.shape[1] != self.n_features_in:
                raise ValueError(
                    f"The rows have {X.shape[1]} columns but {self._where} was fitted on "
                    f"{self.n_features_in}."
                )
            pick = lambda idx: _safe_indexing(X, idx, axis=1)  # noqa: E731
        if X.shape[0] == 0:
            raise ValueError("No rows to encode.")
        parts = []
        for b in self._blocks:
            sub = pick(b.raw)
            if b.kind == "onehot":
                enc = b.encoder.transform(sub)
                enc = enc.toarray() if hasattr(enc, "toarray") else enc
                parts.append(np.asarray(enc, dtype=np.float64))
            else:
                try:
                    parts.append(np.asarray(sub, dtype=np.float64).reshape(X.shape[0], -1))
                except (TypeError, ValueError) as exc:
                    raise ValueError(
                        f"Numeric input column(s) {[self._raw_name(j) for j in b.raw]} hold "
                        f"non-numeric values: {exc}"
                    ) from None
        return np.hstack(parts)

    def probe_raw(self, X_numeric: np.ndarray) -> Any:
        """Raw probe rows: numeric values from ``X_numeric`` (n, n_features_in), each
        categorical column cycling through its fitted categories."""
        n = X_numeric.shape[0]
        cols: list[Any] = [X_numeric[:, j] for j in range(self.n_features_in)]
        for b in self._blocks:
            if b.kind != "onehot":
                continue
            for j, cats in zip(b.raw, b.encoder.categories_, strict=True):
                cats = np.asarray(cats)
                cols[j] = cats[np.arange(n) % len(cats)]
        if self.feature_names_in is not None:
            import pandas as pd

            return pd.DataFrame(dict(zip(self.feature_names_in, cols, strict=True)))
        if any(np.asarray(c).dtype.kind not in "biuf" for c in cols):
            return np.column_stack([np.asarray(c, dtype=object) for c in cols])
        return np.column_stack(cols).astype(np.float64)


def _has_text(X: Any) -> bool:
    try:
        np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        return True
    return False


def column_transformer(ct: Any, where: str) -> tuple[list[_Block], Affine]:
    """Blocks of a fitted ColumnTransformer and the affine map from its encoded inputs
    (numeric raw columns and one-hot columns, in output order) to its output."""
    sk = _sk()
    _fitted(ct, where)
    idx_of = getattr(ct, "_transformer_to_input_indices", None)
    out_of = getattr(ct, "output_indices_", None)
    if idx_of is None or out_of is None:
        raise TypeError(f"{where}: this scikit-learn version's ColumnTransformer is not supported.")
    names_in = getattr(ct, "feature_names_in_", None)
    entries = []
    for name, trans, _cols in ct.transformers_:
        sl = out_of.get(name, slice(0, 0))
        raw = [int(i) for i in idx_of.get(name, [])]
        if isinstance(trans, str) and trans == "drop" or not raw or sl.stop == sl.start:
            continue
        entries.append((sl.start, sl.stop, name, trans, raw))
    entries.sort()
    blocks: list[_Block] = []
    diag: list[np.ndarray] = []
    shift: list[np.ndarray] = []
    pos = 0
    for start, stop, name, trans, raw in entries:
        here = f"{where}, transformer {name!r} ({type(trans).__name__})"
        if start != pos:
            raise TypeError(f"{here}: unexpected output layout of the ColumnTransformer.")
        pos = stop
        raw_names = [str(names_in[j]) if names_in is not None else f"x{j}" for j in raw]
        if is_identity(trans):
            blocks.append(_Block("numeric", raw, names=raw_names))
            diag.append(np.ones(len(raw)))
            shift.append(np.zeros(len(raw)))
            continue
        if type(trans) is sk["OneHotEncoder"]:
            names = [str(n) for n in trans.get_feature_names_out(raw_names)]
            if len(names) != stop - start:
                raise TypeError(f"{here}: its output width does not match its feature names.")
            blocks.append(_Block("onehot", raw, encoder=trans, names=names))
            diag.append(np.ones(len(names)))
            shift.append(np.zeros(len(names)))
            continue
        aff = scaler_affine(trans, here)
        if aff is None:
            raise TypeError(
                f"{here} is not supported inside a ColumnTransformer: only StandardScaler, "
                "MinMaxScaler, RobustScaler, MaxAbsScaler, OneHotEncoder, 'passthrough' and "
                "'drop' can be imported exactly."
            )
        if aff.W.shape[0] != stop - start or aff.W.shape[1] != len(raw):
            raise TypeError(f"{here}: its output width does not match its columns.")
        blocks.append(_Block("numeric", raw, names=raw_names))
        diag.append(np.diag(aff.W).copy())
        shift.append(aff.b)
    if not blocks:
        raise ValueError(f"{where} outputs no columns.")
    return blocks, Affine(np.diag(np.concatenate(diag)), np.concatenate(shift), where)


def selection_affine(blocks: list[_Block], inner: Affine, n_in: int, where: str) -> Affine:
    """For a ColumnTransformer without one-hot blocks: raw rows -> its output, as one map."""
    S = np.zeros((inner.W.shape[1], n_in))
    r = 0
    for b in blocks:
        for j in b.raw:
            S[r, j] = 1.0
            r += 1
    return Affine(inner.W @ S, inner.b, where)


def onehot_blocks(ohe: Any, where: str) -> tuple[list[_Block], Affine]:
    """A OneHotEncoder used as a pipeline step of its own (every column categorical)."""
    _fitted(ohe, where)
    names_in = getattr(ohe, "feature_names_in_", None)
    raw = list(range(int(ohe.n_features_in_)))
    raw_names = [str(names_in[j]) if names_in is not None else f"x{j}" for j in raw]
    names = [str(n) for n in ohe.get_feature_names_out(raw_names)]
    w = len(names)
    return [_Block("onehot", raw, encoder=ohe, names=names)], Affine(np.eye(w), np.zeros(w), where)
