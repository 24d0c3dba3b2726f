"""Translating ONNX operators into affine maps and ReLUs (private to ``glassnet.io``).

:class:`OpTranslator` is the second half of the ONNX importer in :mod:`glassnet.io._onnx`:
once the graph is read, checked and reduced to one chain of nodes, it reads their attributes
and constants (with sizes checked by :mod:`glassnet.io._onnx_load`) and turns each operator
into a dense layer, an element-wise scale or a ReLU, folded into dense layers by
:mod:`glassnet.io._onnx_fold`. Unsupported operators raise ``TypeError`` naming the node.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.io._compose import RELU, Affine
from glassnet.io._onnx_fold import (
    _as_row,
    _fold,
    _input_shape,
    _input_width,
    _prod,
    _require_2d,
    _Scale,
)
from glassnet.io._onnx_load import MAX_ELEMENTS as _MAX_ELEMENTS
from glassnet.io._onnx_load import tensor_to_array

# smooth activations: named in the refusal, with a pointer to the mixture of linear models
_SMOOTH = {"Tanh", "Sigmoid", "Softplus", "Elu", "Selu", "LeakyRelu", "PRelu", "Gelu",
           "HardSigmoid", "HardSwish", "Mish", "Softsign", "Celu", "ThresholdedRelu", "Erf",
           "Softmax", "LogSoftmax", "Clip"}


class OpTranslator:
    """Operator translation for the importer, which sets on itself, before calling
    :meth:`_to_ops`: ``nodes``, ``inits`` (initializers by name), ``producer`` (value ->
    (node, output position)), ``dynamic`` (values that depend on the input), ``input`` (the
    graph input), ``const_cache`` and ``_where(k)`` (a node's name for messages)."""

    nodes: list
    inits: dict[str, Any]
    producer: dict[str, tuple[int, int]]
    dynamic: set
    input: Any
    const_cache: dict[str, np.ndarray]

    def _where(self, k: int) -> str:  # pragma: no cover - the importer defines it
        raise NotImplementedError

    # ---------------------------------------------------------------- attributes and constants
    def _attr(self, k: int, name: str, default: Any) -> Any:
        from onnx import AttributeProto as A

        for a in self.nodes[k].attribute:
            if a.name != name:
                continue
            if a.type == A.INT:
                return int(a.i)
            if a.type == A.FLOAT:
                return float(a.f)
            if a.type == A.INTS:
                return [int(v) for v in a.ints]
            if a.type == A.FLOATS:
                return [float(v) for v in a.floats]
            if a.type == A.TENSOR:
                return tensor_to_array(a.t, f"attribute {name!r} of {self._where(k)}")
            raise ValueError(f"Attribute {name!r} of {self._where(k)} has an unexpected type.")
        return default

    def _const(self, name: str, user: int) -> np.ndarray:
        """Value of a constant (not input-dependent) tensor, as float64."""
        if name in self.const_cache:
            return self.const_cache[name]
        seen = name
        while name not in self.inits:
            k = self.producer[name][0]
            node = self.nodes[k]
            if node.op_type in ("Identity", "Cast") and len(node.input) == 1:
                name = node.input[0]
                continue
            if node.op_type == "Constant":
                arr = self._constant_node(k)
                break
            raise TypeError(
                f"{self._where(user)} reads a constant computed by {self._where(k)}, which is not "
                "supported; export with constant folding (torch: do_constant_folding=True)."
            )
        else:
            arr = tensor_to_array(self.inits[name], f"initializer {name!r}")
        if arr.dtype.kind not in "biuf":  # pragma: no cover - _np_dtype admits numbers only
            raise ValueError(f"The constant {name!r} is not numeric.")
        arr = arr.astype(np.float64)
        self.const_cache[seen] = arr
        return arr

    def _constant_node(self, k: int) -> np.ndarray:
        from onnx import AttributeProto as A

        for a in self.nodes[k].attribute:
            where = f"attribute {a.name!r} of {self._where(k)}"
            if a.name == "value" and a.type == A.TENSOR:
                return tensor_to_array(a.t, where)
            if a.name == "value_float" and a.type == A.FLOAT:
                return np.array(a.f)
            if a.name == "value_int" and a.type == A.INT:
                return np.array(a.i)
            if a.name in ("value_floats", "value_ints") and a.type in (A.FLOATS, A.INTS):
                vals = a.floats if a.type == A.FLOATS else a.ints
                if len(vals) > _MAX_ELEMENTS:  # pragma: no cover - protobuf bounds it first
                    raise ValueError(f"{where} is too large.")
                return np.array(list(vals), dtype=np.float64)
        raise TypeError(f"{self._where(k)} holds no numeric value this importer can read.")

    # ---------------------------------------------------------------- ops
    def _to_ops(self, chain: list[int]) -> list:
        items: list = []
        shape = _input_shape(self.input)  # non-batch dims, None when unknown
        for k in chain:
            node = self.nodes[k]
            op = node.op_type
            where = self._where(k)
            if op == "Relu":
                items.append(RELU)
            elif op == "Flatten":
                axis = self._attr(k, "axis", 1)
                rank = None if shape is None else len(shape) + 1
                if rank is not None and axis < 0:
                    axis += rank
                if axis != 1:
                    raise TypeError(f"{where} flattens from axis {axis}; only axis 1 keeps rows.")
                shape = (_prod(shape),)
            elif op == "Reshape":
                shape = self._reshape(k, shape)
            elif op in ("Gemm", "MatMul"):
                _require_2d(shape, where)
                items.append(self._dense(k))
                shape = (int(items[-1].W.shape[0]),)
            elif op in ("Add", "Sub", "Mul", "Div"):
                _require_2d(shape, where)
                items.append(self._elementwise(k))
            elif op == "BatchNormalization":
                _require_2d(shape, where)
                items.append(self._batchnorm(k))
            elif op == "Scaler" and (node.domain == "ai.onnx.ml"):
                _require_2d(shape, where)
                items.append(self._scaler(k))
            else:
                hint = (
                    " Only ReLU networks are exactly piecewise linear; explain this network "
                    "with glassnet.MixtureOfLinearModels instead."
                    if op in _SMOOTH
                    else ""
                )
                raise TypeError(f"Unsupported operator: {where} in the ONNX graph.{hint}")
        return _fold(items, _input_width(self.input))

    def _reshape(self, k: int, shape: tuple | None) -> tuple:
        node = self.nodes[k]
        where = self._where(k)
        if len(node.input) < 2 or node.input[1] in self.dynamic:
            raise TypeError(f"{where} has no constant target shape.")
        target = self._const(node.input[1], k).reshape(-1)
        allowzero = self._attr(k, "allowzero", 0)
        flat = _prod(shape)
        if target.size != 2 or not np.all(target == np.round(target)):
            raise TypeError(
                f"{where} reshapes to {target.tolist()}; only (rows, features) is supported."
            )
        t0, t1 = (int(v) for v in target)
        keeps_rows = (t0 == 0 and not allowzero) or (t0 == -1 and t1 > 0)
        if not keeps_rows or t1 < -1 or t1 == 0 or (t1 == -1 and t0 == -1):
            raise TypeError(
                f"{where} reshapes to {[t0, t1]}, which does not keep one row per sample; only "
                "[0, features], [0, -1] or [-1, features] is supported."
            )
        if t1 == -1:
            return (flat,)
        if flat is not None and flat != t1:
            if t0 == -1:
                raise TypeError(
                    f"{where} reshapes rows of {flat} values into rows of {t1}, which mixes "
                    "samples; import the value before it with output_name=."
                )
            raise ValueError(f"{where} reshapes {flat} features per row into {t1}.")
        return (t1,)

    def _dense(self, k: int) -> Affine:
        node = self.nodes[k]
        where = self._where(k)
        if node.op_type == "MatMul":
            if len(node.input) != 2 or node.input[0] not in self.dynamic:
                raise TypeError(
                    f"{where} multiplies the data from the left; only x @ W is supported."
                )
            B = self._const(node.input[1], k)
            if B.ndim != 2:
                raise TypeError(
                    f"{where} multiplies by a {B.ndim}-D tensor; a 2-D matrix is required."
                )
            return Affine(B.T, np.zeros(B.shape[1]), where)
        if len(node.input) < 2 or node.input[0] not in self.dynamic:
            raise TypeError(f"{where}: the data must be Gemm's first input A.")
        alpha = self._attr(k, "alpha", 1.0)
        beta = self._attr(k, "beta", 1.0)
        if self._attr(k, "transA", 0):
            raise TypeError(f"{where} transposes the data (transA=1), which mixes rows.")
        B = self._const(node.input[1], k)
        if B.ndim != 2:
            raise ValueError(f"{where}: B has shape {B.shape}; Gemm needs a 2-D matrix.")
        if self._attr(k, "transB", 0):
            B = B.T
        n_out = B.shape[1]
        with np.errstate(all="ignore"):
            W = alpha * B.T
            b = np.zeros(n_out)
            if len(node.input) > 2 and node.input[2]:
                C = self._const(node.input[2], k)
                b = beta * _as_row(C, n_out, f"{where}: C")
        return Affine(W, b, where)

    def _elementwise(self, k: int) -> _Scale:
        node = self.nodes[k]
        where = self._where(k)
        op = node.op_type
        if len(node.input) != 2:
            raise ValueError(f"{where} needs 2 inputs; got {len(node.input)}.")
        data_first = node.input[0] in self.dynamic
        c = self._const(node.input[1] if data_first else node.input[0], k)
        if c.ndim > 2 or (c.ndim == 2 and c.shape[0] != 1):
            raise TypeError(f"{where} broadcasts a constant of shape {c.shape} over rows.")
        c = c.reshape(-1)
        if c.size == 0:
            raise ValueError(f"{where} has an empty constant.")
        one, zero = np.ones(1), np.zeros(1)
        with np.errstate(all="ignore"):
            if op == "Add":
                return _Scale(one, c, where)
            if op == "Sub":
                return _Scale(one, -c, where) if data_first else _Scale(-one, c, where)
            if op == "Mul":
                return _Scale(c, zero, where)
            if not data_first:
                raise TypeError(f"{where} divides a constant by the data, which is not linear.")
            if np.any(c == 0):
                raise ValueError(f"{where} divides by zero.")
            return _Scale(1.0 / c, zero, where)

    def _batchnorm(self, k: int) -> _Scale:
        node = self.nodes[k]
        where = self._where(k)
        if len(node.input) != 5 or node.input[0] not in self.dynamic:
            raise ValueError(f"{where} needs the inputs X, scale, B, mean, var.")
        if self._attr(k, "training_mode", 0):
            raise TypeError(f"{where} runs in training mode; export the model in eval mode.")
        eps = self._attr(k, "epsilon", 1e-5)
        gamma, beta, mean, var = (self._const(name, k).reshape(-1) for name in node.input[1:])
        if not (gamma.shape == beta.shape == mean.shape == var.shape):
            raise ValueError(
                f"{where} has parameters of different lengths "
                f"{[a.shape[0] for a in (gamma, beta, mean, var)]}."
            )
        with np.errstate(all="ignore"):
            denom = var + eps
            if not np.all(denom > 0):
                raise ValueError(f"{where} has var + epsilon <= 0.")
            s = gamma / np.sqrt(denom)
            return _Scale(s, beta - mean * s, where)

    def _scaler(self, k: int) -> _Scale:
        where = self._where(k)
        offset = np.asarray(self._attr(k, "offset", [0.0]), dtype=np.float64).reshape(-1)
        scale = np.asarray(self._attr(k, "scale", [1.0]), dtype=np.float64).reshape(-1)
        if offset.size == 0 or scale.size == 0:
            raise ValueError(f"{where} has an empty offset or scale.")
        if offset.size > 1 and scale.size > 1 and offset.size != scale.size:
            raise ValueError(f"{where} has offset and scale of different lengths.")
        with np.errstate(all="ignore"):
            return _Scale(scale, -offset * scale, where)
