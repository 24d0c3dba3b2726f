"""Import PyTorch ``nn.Sequential`` ReLU networks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet.io._compose import RELU, Affine, network_from_ops
from glassnet.network import LINKS, ReluNetwork

_NO_OPS = ("Identity", "Dropout", "Dropout1d", "AlphaDropout", "FeatureAlphaDropout", "Flatten")


def from_torch(
    module: Any,
    *,
    output: str | None = None,
    feature_names: Sequence[str] | None = None,
) -> ReluNetwork:
    """Import a PyTorch ``nn.Sequential`` as an exact :class:`~glassnet.ReluNetwork`.

    Supported layers: ``Linear``, ``ReLU``, ``Identity``, ``Dropout`` (and its variants),
    ``Flatten`` (inputs are 2-D rows), ``BatchNorm1d`` (folded into the adjacent linear map
    with its running statistics), nested ``Sequential``. A final ``Sigmoid`` or
    ``Softmax`` becomes the output link.

    The imported network is the module's **evaluation-mode** function: dropout is off and
    batch normalisation uses its running statistics, whatever ``module.training`` says.

    Parameters
    ----------
    module : torch.nn.Sequential or torch.nn.Linear
    output : {"identity", "sigmoid", "softmax"}, optional
        Overrides the link read from the module (for example ``"sigmoid"`` for a binary
        classifier trained with ``BCEWithLogitsLoss``, whose module ends in a Linear layer).
    feature_names : sequence of str, optional

    Raises
    ------
    TypeError
        For a module that is not a Sequential/Linear or holds an unsupported layer; the
        message names the layer and its position.
    """
    import torch.nn as nn

    if isinstance(module, nn.Linear):
        layers = [("0", module)]
    elif isinstance(module, nn.Sequential):
        layers = list(_flatten(module, ""))
    else:
        raise TypeError(
            f"from_torch expects an nn.Sequential (or nn.Linear); got {type(module).__name__}. "
            "Rewrite the forward pass as an nn.Sequential, export it to ONNX, or explain it "
            "with glassnet.MixtureOfLinearModels, which accepts any module."
        )
    ops: list[Affine | str] = []
    link = "identity"
    for i, (path, layer) in enumerate(layers):
        name = type(layer).__name__
        last = i == len(layers) - 1
        where = f"layer {path} ({name})"
        if isinstance(layer, nn.Linear):
            W = _np(layer.weight)
            b = _np(layer.bias) if layer.bias is not None else np.zeros(W.shape[0])
            ops.append(Affine(W, b, where))
        elif isinstance(layer, nn.ReLU):
            ops.append(RELU)
        elif isinstance(layer, nn.BatchNorm1d):
            ops.append(_fold_batchnorm(layer, where))
        elif name in _NO_OPS:
            continue
        elif isinstance(layer, nn.Sigmoid) and last:
            link = "sigmoid"
        elif isinstance(layer, nn.Softmax) and last:
            if layer.dim not in (None, 1, -1):
                raise TypeError(
                    f"{where}: softmax over dim={layer.dim} is not an output link over features."
                )
            link = "softmax"
        elif isinstance(layer, nn.LogSoftmax) and last:
            raise TypeError(
                f"{where}: a final LogSoftmax returns log-probabilities, not an output link. "
                "Drop it (the logits before it are the network's raw output) and pass "
                "output='softmax'."
            )
        else:
            hint = (
                " Only ReLU networks are exactly piecewise linear; explain this network with "
                "glassnet.MixtureOfLinearModels instead."
                if name in _SMOOTH
                else ""
            )
            raise TypeError(f"Unsupported {where} in the torch module.{hint}")
    if output is not None:
        if output not in LINKS:
            raise ValueError(f"output must be one of {LINKS}; got {output!r}.")
        link = output
    return network_from_ops(ops, output=link, feature_names=feature_names)


_SMOOTH = {
    "Tanh", "Sigmoid", "GELU", "ELU", "SELU", "SiLU", "Softplus", "LeakyReLU", "PReLU", "Mish",
    "Hardtanh", "Softmax",
}


def _flatten(seq: Any, prefix: str):
    import torch.nn as nn

    for name, child in seq.named_children():
        path = f"{prefix}{name}"
        if isinstance(child, nn.Sequential):
            yield from _flatten(child, path + ".")
        else:
            yield path, child


def _np(t: Any) -> np.ndarray:
    return t.detach().cpu().double().numpy().copy()


def _fold_batchnorm(bn: Any, where: str) -> Affine:
    if bn.running_mean is None or bn.running_var is None:
        raise TypeError(
            f"{where} has no running statistics (track_running_stats=False), so it depends on "
            "the batch and cannot be folded into a fixed network."
        )
    mean, var = _np(bn.running_mean), _np(bn.running_var)
    gamma = _np(bn.weight) if bn.weight is not None else np.ones_like(mean)
    beta = _np(bn.bias) if bn.bias is not None else np.zeros_like(mean)
    scale = gamma / np.sqrt(var + bn.eps)
    return Affine(np.diag(scale), beta - mean * scale, where)
