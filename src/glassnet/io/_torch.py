"""Import PyTorch ``nn.Sequential`` ReLU networks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from glassnet.io._compose import RELU, Affine, network_from_ops
from glassnet.io._verify import check_agreement, probe_rows
from glassnet.network import LINKS, ReluNetwork


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

    Layers are recognised by their EXACT class (``type(layer) is nn.Linear``): a subclass
    with its own ``forward``, a user class that happens to be called ``Flatten``, or a
    module with forward hooks is refused, naming it. As a last line of defence the module
    itself is run (evaluation mode, no gradients, modes restored afterwards) on seeded
    probe rows and the import is refused when the network disagrees (tolerance in
    :mod:`glassnet.io._verify`: 1e-6 for float64 modules, 1e-4 for float32, relative to
    the magnitude of the computation).

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
    ImportMismatchError
        (a ``ValueError``) when the network does not reproduce the module on probe rows.
    """
    import torch.nn as nn

    if output is not None and output not in LINKS:
        raise ValueError(f"output must be one of {LINKS}; got {output!r}.")
    if type(module) is nn.Linear:
        layers = [("0", module)]
    elif type(module) is nn.Sequential:
        _check_hooks(module, "the module")
        layers = list(_flatten(module, ""))
    else:
        raise TypeError(
            f"from_torch expects an nn.Sequential (or nn.Linear); got {type(module).__name__}"
            f"{_origin(module)}. Only these exact classes are read (a subclass may change "
            "forward); rewrite the forward pass as an nn.Sequential, export it to ONNX, or "
            "explain it with glassnet.MixtureOfLinearModels, which accepts any module."
        )
    ops: list[Affine | str] = []
    link = "identity"
    for i, (path, layer) in enumerate(layers):
        t = type(layer)
        name = t.__name__
        last = i == len(layers) - 1
        where = f"layer {path} ({name}{_origin(layer)})"
        _check_hooks(layer, where)
        if t is nn.Linear:
            W = _np(layer.weight, where)
            b = _np(layer.bias, where) if layer.bias is not None else np.zeros(W.shape[0])
            ops.append(Affine(W, b, where))
        elif t is nn.ReLU:
            ops.append(RELU)
        elif t is nn.BatchNorm1d:
            ops.append(_fold_batchnorm(layer, where))
        elif t in _no_ops():
            continue
        elif t is nn.Flatten:
            if layer.start_dim != 1 or layer.end_dim != -1:
                raise TypeError(
                    f"{where} flattens dims {layer.start_dim}..{layer.end_dim}; only "
                    "Flatten(start_dim=1) keeps rows apart."
                )
        elif t is nn.Sigmoid and last:
            link = "sigmoid"
        elif t is nn.Softmax and last:
            if layer.dim not in (None, 1, -1):
                raise TypeError(
                    f"{where}: softmax over dim={layer.dim} is not an output link over features."
                )
            link = "softmax"
        elif t is nn.LogSoftmax and last:
            raise TypeError(
                f"{where}: a final LogSoftmax returns log-probabilities, not an output link. "
                "Drop it (the logits before it are the network's raw output) and pass "
                "output='softmax'."
            )
        else:
            hint = (
                " Only ReLU networks are exactly piecewise linear; explain this network with "
                "glassnet.MixtureOfLinearModels instead."
                if name in _SMOOTH and t.__module__.startswith("torch.nn")
                else " Only the exact torch classes Linear, ReLU, BatchNorm1d, Identity, "
                "Dropout*, Flatten, Sequential (and a final Sigmoid/Softmax) are read; a "
                "subclass or a class of the same name may compute something else."
            )
            raise TypeError(f"Unsupported {where} in the torch module.{hint}")
    net = network_from_ops(ops, output=output or link, feature_names=feature_names)
    _verify(net, module, link)
    return net


def _no_ops() -> tuple:
    import torch.nn as nn

    return (nn.Identity, nn.Dropout, nn.Dropout1d, nn.AlphaDropout, nn.FeatureAlphaDropout)


def _origin(obj: Any) -> str:
    """`` from module.x`` for classes defined outside torch, so the message names them."""
    mod = type(obj).__module__
    return "" if mod.startswith("torch.") else f" from {mod}"


def _check_hooks(m: Any, where: str) -> None:
    hooks = ("_forward_hooks", "_forward_pre_hooks", "_forward_hooks_with_kwargs")
    if any(len(getattr(m, h, None) or {}) for h in hooks):
        raise TypeError(f"{where} has forward hooks, which may change its output; remove them.")


def _verify(net: ReluNetwork, module: Any, module_link: str) -> None:
    """Run the module itself (evaluation mode, no gradients) on seeded probe rows."""
    import torch

    params = list(module.parameters())
    dtype = params[0].dtype if params else torch.float32
    device = params[0].device if params else torch.device("cpu")
    X = probe_rows(net.n_features)
    ref_net = net if net.output == module_link else net.with_layers(
        net.weights, net.biases, output=module_link)
    modes = [(m, m.training) for m in module.modules()]

    def reference() -> np.ndarray:
        try:
            module.eval()
            with torch.no_grad():
                out = module(torch.as_tensor(X, dtype=dtype, device=device))
            return out.detach().cpu().double().numpy()
        finally:
            for m, mode in modes:
                m.training = mode

    check_agreement(ref_net, X, reference, model=f"torch {type(module).__name__}",
                    float32=dtype != torch.float64)


_SMOOTH = {
    "Tanh", "Sigmoid", "GELU", "ELU", "SELU", "SiLU", "Softplus", "LeakyReLU", "PReLU", "Mish",
    "Hardtanh", "Softmax",
}


def _flatten(seq: Any, prefix: str):
    import torch.nn as nn

    for name, child in seq.named_children():
        path = f"{prefix}{name}"
        if type(child) is nn.Sequential:
            _check_hooks(child, f"layer {path} (Sequential)")
            yield from _flatten(child, path + ".")
        else:
            yield path, child


def _np(t: Any, where: str = "a tensor") -> np.ndarray:
    import torch

    if t.dtype not in (torch.float32, torch.float64):
        raise TypeError(
            f"{where} holds {t.dtype} parameters; convert the module with module.float() or "
            "module.double() first (the import is checked against the module's own output)."
        )
    if t.is_meta or t.layout != torch.strided:
        raise TypeError(
            f"{where} holds {'meta' if t.is_meta else str(t.layout)} tensors without readable "
            "dense values; load the weights (or call .to_dense()) first."
        )
    return t.detach().cpu().double().numpy().copy()


def _fold_batchnorm(bn: Any, where: str) -> Affine:
    if bn.running_mean is None or bn.running_var is None:
        raise TypeError(
            f"{where} has no running statistics (track_running_stats=False), so it depends on "
            "the batch and cannot be folded into a fixed network."
        )
    mean, var = _np(bn.running_mean, where), _np(bn.running_var, where)
    gamma = _np(bn.weight, where) if bn.weight is not None else np.ones_like(mean)
    beta = _np(bn.bias, where) if bn.bias is not None else np.zeros_like(mean)
    if (var + bn.eps <= 0).any():
        raise ValueError(f"{where} has running_var + eps <= 0.")
    scale = gamma / np.sqrt(var + bn.eps)
    return Affine(np.diag(scale), beta - mean * scale, where)
