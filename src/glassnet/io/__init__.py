"""Importers that turn trained models into :class:`~glassnet.ReluNetwork` objects."""

from __future__ import annotations

import os
from typing import Any

from glassnet.io._onnx import from_onnx
from glassnet.io._persist import GlassnetFormatError, load, register, save
from glassnet.io._sklearn import from_sklearn
from glassnet.io._torch import from_torch
from glassnet.network import ReluNetwork

__all__ = [
    "GlassnetFormatError",
    "as_network",
    "from_onnx",
    "from_sklearn",
    "from_torch",
    "load",
    "register",
    "save",
]


def as_network(model: Any) -> ReluNetwork:
    """Return the :class:`~glassnet.ReluNetwork` behind ``model``.

    Accepts a ReluNetwork (returned as is), a fitted glassnet estimator (its ``network_``),
    a fitted scikit-learn MLP or scaler pipeline ending in one, a torch
    ``nn.Sequential``, or an ONNX model (a path ending in ``.onnx``, its bytes, or an
    ``onnx.ModelProto``).
    """
    if isinstance(model, ReluNetwork):
        return model
    net = getattr(model, "network_", None)
    if isinstance(net, ReluNetwork):
        return net
    if type(model).__name__ in ("MLPClassifier", "MLPRegressor", "Pipeline"):
        return from_sklearn(model)
    if _is_torch_module(model):
        return from_torch(model)
    if _is_onnx_model(model):
        return from_onnx(model)
    raise TypeError(
        f"Cannot turn a {type(model).__name__} into a ReluNetwork. Pass a ReluNetwork, a fitted "
        "glassnet estimator, a fitted scikit-learn MLPClassifier/MLPRegressor, a torch "
        "nn.Sequential, or an ONNX model (path ending in .onnx, bytes, ModelProto)."
    )


def _is_onnx_model(obj: Any) -> bool:
    """ONNX bytes, an ``onnx.ModelProto``, or a path ending in ``.onnx``."""
    if isinstance(obj, (bytes, bytearray, memoryview)) or type(obj).__name__ == "ModelProto":
        return True
    return isinstance(obj, (str, os.PathLike)) and os.fspath(obj).lower().endswith(".onnx")


def _is_torch_module(obj: Any) -> bool:
    return any(
        c.__module__.startswith("torch.nn") and c.__name__ == "Module" for c in type(obj).__mro__
    )
