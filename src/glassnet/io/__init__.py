"""Importers that turn trained models into :class:`~glassnet.ReluNetwork` objects.

Every importer (scikit-learn, torch, ONNX) checks the network it built against the
original model on seeded probe rows and raises :class:`ImportMismatchError` (a
``ValueError``) on a disagreement; see ``docs/unwrapping.md``. :func:`load_model_file`
reads the model files of those libraries without running code stored in them.

``io`` only imports models. Saving and loading glassnet's own files is
:mod:`glassnet.persist` (``glassnet.save``, ``glassnet.load``), which sits above everything
it can save; ``glassnet.io.save``/``load``/``register``/``GlassnetFormatError`` were removed
from here when persistence moved (docs/persistence.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from glassnet.io._files import MODEL_FILE_SUFFIXES as MODEL_FILE_SUFFIXES
from glassnet.io._files import classes_of, load_model_file
from glassnet.io._onnx import from_onnx
from glassnet.io._sklearn import from_sklearn
from glassnet.io._torch import from_torch
from glassnet.io._verify import ImportMismatchError
from glassnet.network import ReluNetwork

__all__ = [
    "ImportMismatchError",
    "as_network",
    "classes_of",
    "from_onnx",
    "from_sklearn",
    "from_torch",
    "input_encoder",
    "is_onnx_model",
    "is_regions",
    "is_torch_module",
    "load_model_file",
]

# What makes an object unwrapped regions for :func:`as_network` (the attributes of
# :class:`~glassnet.Regions` that hold its exact local linear models); io sits below
# ``regions`` and so recognises them by these, without importing the class.
REGIONS_ATTRIBUTES = ("network", "counts", "packed_patterns", "coef", "intercept",
                      "max_abs_error")


def as_network(model: Any) -> ReluNetwork:
    """Return the :class:`~glassnet.ReluNetwork` behind ``model``.

    Accepts a ReluNetwork (returned as is), a :class:`~glassnet.Regions` (its network; see
    :func:`is_regions` for how one is recognised), a
    fitted glassnet estimator (its ``network_``), a ``FrozenEstimator`` around any of the
    scikit-learn models, a fitted scikit-learn ``MLPClassifier``/``MLPRegressor`` or a
    ``Pipeline`` ending in one or in a glassnet estimator (see
    :func:`~glassnet.io.from_sklearn`), a torch ``nn.Sequential``, or an ONNX model (a path
    ending in ``.onnx``, its bytes, or an ``onnx.ModelProto``).

    When the model one-hot encodes columns (a pipeline with a ``OneHotEncoder``, a glassnet
    estimator with categorical columns), the network reads the ENCODED columns and carries
    ``feature_groups``; :func:`input_encoder` gives the function that encodes raw rows.

    Parameters
    ----------
    model : object
        Any of the models above.

    Returns
    -------
    ReluNetwork

    Raises
    ------
    TypeError
        If ``model`` is none of them.
    """
    if isinstance(model, ReluNetwork):
        return model
    from glassnet.io._sklearn import import_sklearn, is_pipeline, unfreeze

    if is_regions(model):
        return model.network
    model = unfreeze(model)
    net = getattr(model, "network_", None)
    if isinstance(net, ReluNetwork) and not is_pipeline(model):
        return net
    if _is_sklearn_model(model):
        return import_sklearn(model)[0]
    if is_torch_module(model):
        return from_torch(model)
    if is_onnx_model(model):
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


def is_regions(obj: Any) -> bool:
    """Whether ``obj`` is unwrapped regions, which :func:`as_network` turns into their network.

    The rule (``io`` sits below :mod:`glassnet.regions`, so it cannot name the class): the
    object has every attribute in ``glassnet.io.REGIONS_ATTRIBUTES`` (``network``, ``counts``,
    ``packed_patterns``, ``coef``, ``intercept``, ``max_abs_error``) and its ``network`` is a
    :class:`~glassnet.ReluNetwork`. A :class:`~glassnet.Regions` passes; so does a
    look-alike holding the same exact local models. An object with only a ``network``
    attribute does not: a mixture of linear models, for one, keeps the network it explains
    in ``network`` but is not that network.

    Parameters
    ----------
    obj : object

    Returns
    -------
    bool
    """
    return (all(hasattr(obj, name) for name in REGIONS_ATTRIBUTES)
            and isinstance(getattr(obj, "network", None), ReluNetwork))


def is_onnx_model(obj: Any) -> bool:
    """Whether ``obj`` is an ONNX model :func:`from_onnx` reads.

    ONNX bytes, an ``onnx.ModelProto``, or a path ending in ``.onnx`` (the file itself is
    not opened here).

    Parameters
    ----------
    obj : object

    Returns
    -------
    bool
    """
    if isinstance(obj, (bytes, bytearray, memoryview)) or type(obj).__name__ == "ModelProto":
        return True
    return isinstance(obj, (str, os.PathLike)) and os.fspath(obj).lower().endswith(".onnx")


def is_torch_module(obj: Any) -> bool:
    """Whether ``obj`` is a torch ``nn.Module``, told without importing torch.

    Parameters
    ----------
    obj : object

    Returns
    -------
    bool
    """
    return any(
        c.__module__.startswith("torch.nn") and c.__name__ == "Module" for c in type(obj).__mro__
    )
