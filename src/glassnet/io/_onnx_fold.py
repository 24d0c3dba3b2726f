"""Shapes of ONNX values and folding of element-wise maps into dense layers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from glassnet.io._compose import Affine
from glassnet.io._onnx_load import MAX_ELEMENTS


@dataclass
class _Scale:
    """Element-wise ``x -> s * x + t`` (``s``, ``t`` 1-D, length 1 meaning broadcast)."""

    s: np.ndarray
    t: np.ndarray
    source: str


# ---------------------------------------------------------------------- shapes and folding
def _input_shape(value_info: Any) -> tuple | None:
    t = value_info.type
    if t.WhichOneof("value") != "tensor_type" or not t.tensor_type.HasField("shape"):
        return None
    dims = t.tensor_type.shape.dim
    if len(dims) < 2:
        raise TypeError(
            f"The graph input {value_info.name!r} has rank {len(dims)}; rows of features "
            "(rank 2 or more) are required."
        )
    out = []
    for d in list(dims)[1:]:
        v = d.dim_value if d.HasField("dim_value") else 0
        out.append(int(v) if v > 0 else None)
    return tuple(out)


def _input_width(value_info: Any) -> int | None:
    shape = _input_shape(value_info)
    return _prod(shape) if shape is not None else None


def _prod(shape: tuple | None) -> int | None:
    if shape is None or any(s is None for s in shape):
        return None
    p = 1
    for s in shape:
        p *= s
    return p


def _require_2d(shape: tuple | None, where: str) -> None:
    if shape is not None and len(shape) != 1:
        raise TypeError(
            f"{where} acts on a tensor of rank {len(shape) + 1}; add a Flatten before it "
            "(only rows of features are supported)."
        )


def _as_row(C: np.ndarray, n: int, what: str) -> np.ndarray:
    if C.ndim > 2 or (C.ndim == 2 and C.shape[0] != 1):
        raise TypeError(f"{what} has shape {C.shape}; a bias must not vary across rows.")
    C = C.reshape(-1)
    if C.size == 1:
        return np.full(n, C[0])
    if C.size != n:
        raise ValueError(f"{what} has {C.size} values for {n} outputs.")
    return C


def _check_size(rows: int, cols: int, where: str) -> None:
    if rows * cols > MAX_ELEMENTS:
        raise ValueError(
            f"Folding {where} would build a {rows} x {cols} matrix, more than the "
            f"{MAX_ELEMENTS} elements allowed."
        )


def _fold(items: list, in_width: int | None) -> list:
    """Fold element-wise maps into dense layers, merge adjacent dense layers.

    Every matrix is size-checked before it is allocated, so a hostile graph cannot make a
    small file expand into a huge product.
    """
    # widths before each item, known from dense layers and vector constants
    widths: list[int | None] = [None] * (len(items) + 1)
    widths[0] = in_width
    for i, it in enumerate(items):
        w = widths[i]
        if isinstance(it, Affine):
            if w is not None and it.W.shape[1] != w:
                raise ValueError(
                    f"{it.source} expects {it.W.shape[1]} inputs but receives {w} "
                    "(wrong shapes between initializers)."
                )
            widths[i] = it.W.shape[1]
            widths[i + 1] = it.W.shape[0]
        elif isinstance(it, _Scale):
            n = max(it.s.size, it.t.size)
            if n > 1 and w is not None and n != w:
                raise ValueError(f"{it.source} has {n} values for {w} features.")
            widths[i + 1] = widths[i] = w if w is not None else (n if n > 1 else None)
        else:
            widths[i + 1] = w
    for i in range(len(items) - 1, -1, -1):  # fill unknown widths backwards
        if widths[i] is None and not isinstance(items[i], Affine):
            widths[i] = widths[i + 1]
    out: list = []
    pending: _Scale | None = None  # element-wise map waiting for the next dense layer
    for i, it in enumerate(items):
        if isinstance(it, _Scale):
            n = widths[i] or max(it.s.size, it.t.size)
            if it.s.size not in (1, n) or it.t.size not in (1, n):
                raise ValueError(f"{it.source} has constants of lengths that do not match {n}.")
            s = np.broadcast_to(it.s, (n,)).copy()
            t = np.broadcast_to(it.t, (n,)).copy()
            if pending is not None:
                with np.errstate(all="ignore"):
                    pending = _Scale(s * pending.s, s * pending.t + t, it.source)
            elif out and isinstance(out[-1], Affine):
                prev = out[-1]
                if prev.W.shape[0] != s.size:
                    raise ValueError(
                        f"{it.source} has {s.size} values for {prev.W.shape[0]} features."
                    )
                with np.errstate(all="ignore"):
                    out[-1] = Affine(s[:, None] * prev.W, s * prev.b + t, prev.source)
            else:
                pending = _Scale(s, t, it.source)
        elif isinstance(it, Affine):
            W, b = it.W, it.b
            if pending is not None:
                if pending.s.size != W.shape[1]:
                    raise ValueError(
                        f"{it.source} expects {W.shape[1]} inputs but receives {pending.s.size}."
                    )
                with np.errstate(all="ignore"):
                    W, b = W * pending.s[None, :], W @ pending.t + b
                pending = None
            if out and isinstance(out[-1], Affine):
                prev = out[-1]
                if W.shape[1] != prev.W.shape[0]:
                    raise ValueError(
                        f"{it.source} expects {W.shape[1]} inputs but {prev.source} gives "
                        f"{prev.W.shape[0]} (wrong shapes between initializers)."
                    )
                _check_size(W.shape[0], prev.W.shape[1], it.source)
                with np.errstate(all="ignore"):
                    out[-1] = Affine(W @ prev.W, W @ prev.b + b, prev.source)
            else:
                out.append(Affine(W, b, it.source))
        else:
            if pending is not None:
                out.append(_scale_matrix(pending))
                pending = None
            out.append(it)
    if pending is not None:
        out.append(_scale_matrix(pending))
    for op in out:
        if isinstance(op, Affine) and not (np.isfinite(op.W).all() and np.isfinite(op.b).all()):
            raise ValueError(f"{op.source} gives non-finite (overflowing or NaN) weights.")
    return out


def _scale_matrix(sc: _Scale) -> Affine:
    if sc.s.size == 1 and sc.t.size == 1:
        raise TypeError(
            f"{sc.source}: the number of features is unknown here; declare the graph input's shape."
        )
    _check_size(sc.s.size, sc.s.size, sc.source)
    return Affine(np.diag(sc.s), sc.t, sc.source)
