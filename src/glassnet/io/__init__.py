"""Importers that turn trained models into :class:`~glassnet.ReluNetwork` objects.

Every importer (scikit-learn, torch, ONNX) checks the network it built against the
original model on seeded probe rows and raises :class:`ImportMismatchError` (a
``ValueError``) on a disagreement; see ``docs/unwrapping.md``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.io._onnx import from_onnx
from glassnet.io._persist import GlassnetFormatError, load, register, save
from glassnet.io._sklearn import from_sklearn
from glassnet.io._torch import from_torch
from glassnet.io._verify import ImportMismatchError
from glassnet.network import ReluNetwork

__all__ = [
    "GlassnetFormatError",
    "ImportMismatchError",
    "as_network",
    "from_onnx",
    "from_sklearn",
    "from_torch",
    "input_encoder",
    "load",
    "register",
    "save",
]


def as_network(model: Any) -> ReluNetwork:
    """Return the :class:`~glassnet.ReluNetwork` behind ``model``.

    Accepts a ReluNetwork (returned as is), a :class:`~glassnet.Regions` (its network), a
    fitted glassnet estimator (its ``network_``), a ``FrozenEstimator`` around any of the
    scikit-learn models, a fitted scikit-learn ``MLPClassifier``/``MLPRegressor`` or a
    ``Pipeline`` ending in one or in a glassnet estimator (see
    :func:`~glassnet.io.from_sklearn`), a torch ``nn.Sequential``, or an ONNX model (a path
    ending in ``.onnx``, its bytes, or an ``onnx.ModelProto``).

    When the model one-hot encodes columns (a pipeline with a ``OneHotEncoder``, a glassnet
    estimator with categorical columns), the network reads the ENCODED columns and carries
    ``feature_groups``; :func:`input_encoder` gives the function that encodes raw rows.
    """
    if isinstance(model, ReluNetwork):
        return model
    from glassnet.io._sklearn import import_sklearn, is_pipeline, unfreeze
    from glassnet.regions import Regions

    if isinstance(model, Regions):
        return model.network
    model = unfreeze(model)
    net = getattr(model, "network_", None)
    if isinstance(net, ReluNetwork) and not is_pipeline(model):
        return net
    if _is_sklearn_model(model):
        return import_sklearn(model)[0]
    if _is_torch_module(model):
        return from_torch(model)
    if _is_onnx_model(model):
        return from_onnx(model)
    raise TypeError(
        f"Cannot turn a {type(model).__name__} into a ReluNetwork. Pass a ReluNetwork, Regions, "
        "a fitted glassnet estimator, a fitted scikit-learn MLPClassifier/MLPRegressor or a "
        "Pipeline ending in one (or in a glassnet estimator), a torch nn.Sequential, or an "
        "ONNX model (path ending in .onnx, bytes, ModelProto)."
    )


def input_encoder(model: Any) -> Callable[[Any], np.ndarray] | None:
    """The function turning raw rows into the inputs of ``as_network(model)``, or None.

    None means the network reads raw rows directly (scalers are folded into it). A
    function is returned for a pipeline with a ``OneHotEncoder`` (it applies the pipeline's
    own fitted encoders; numeric columns pass in raw units) and for a glassnet estimator
    with categorical columns (its ``transform_inputs``). Entry points such as
    :func:`glassnet.unwrap` apply it to raw rows before unwrapping, so
    ``net.forward(input_encoder(model)(X_raw))`` is the model's raw output on ``X_raw``.

    Parameters
    ----------
    model : any model :func:`as_network` accepts

    Returns
    -------
    callable or None
    """
    from glassnet.io._sklearn import _own_encoder, import_sklearn, is_pipeline, unfreeze

    model = unfreeze(model)
    if isinstance(model, ReluNetwork) or not _is_sklearn_model(model) and not hasattr(
        model, "network_"
    ):
        return None
    if is_pipeline(model):
        return import_sklearn(model)[1]
    return _own_encoder(model)


def _is_sklearn_model(obj: Any) -> bool:
    from glassnet.io._sklearn import _glassnet_estimator, is_pipeline

    if is_pipeline(obj) or _glassnet_estimator(obj):
        return True
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    return type(obj) in (MLPClassifier, MLPRegressor)


def _is_onnx_model(obj: Any) -> bool:
    """ONNX bytes, an ``onnx.ModelProto``, or a path ending in ``.onnx``."""
    if isinstance(obj, (bytes, bytearray, memoryview)) or type(obj).__name__ == "ModelProto":
        return True
    return isinstance(obj, (str, os.PathLike)) and os.fspath(obj).lower().endswith(".onnx")


def _is_torch_module(obj: Any) -> bool:
    return any(
        c.__module__.startswith("torch.nn") and c.__name__ == "Module" for c in type(obj).__mro__
    )
