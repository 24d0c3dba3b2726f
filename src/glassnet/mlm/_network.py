"""Read hidden-layer outputs and predictions from any feed-forward network (private).

:class:`glassnet.MixtureOfLinearModels` needs only two things from a network: the output of
every hidden layer (after its activation) and the network's prediction. This module wraps the
supported network kinds behind one small interface, :class:`NetworkAdapter`, so the mixture
never depends on the activation being ReLU:

* a :class:`~glassnet.ReluNetwork`;
* a fitted glassnet estimator exposing ``network_`` (a ReluNetwork);
* a fitted scikit-learn ``MLPClassifier``/``MLPRegressor`` of any activation, alone or as the
  last step of a ``Pipeline`` (the earlier steps transform the input first);
* a PyTorch module of any activation: its hidden layers are the outputs of the activation
  modules (``torch.nn.modules.activation``: ReLU, Tanh, Sigmoid, GELU, ...), in the order in
  which they run, captured with forward hooks.

Predictions are returned on a common scale: values for regression, class probabilities for
classification (the probability of the positive class, one column, for binary problems).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, softmax

from glassnet.io import from_onnx, is_onnx_model, is_torch_module
from glassnet.network import ReluNetwork

# Rows per forward pass, so that memory does not grow with the data.
_BATCH = 65536

_SK_ACT = {
    "identity": lambda z: z,
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "logistic": expit,
}


class NetworkAdapter:
    """Uniform view of a network: hidden outputs and predictions for validated rows.

    Attributes
    ----------
    kind : str
        ``"relu_network"``, ``"sklearn"`` or ``"torch"``.
    task : {"regression", "classification"} or None
        What the network says about its task (None when it cannot tell, e.g. a torch module
        ending in a Linear layer).
    classes : ndarray or None
        The class labels the network was fitted with, when it knows them.
    n_features : int or None
    feature_names : list of str or None
    """

    kind = "abstract"
    task: str | None = None
    classes: np.ndarray | None = None
    n_features: int | None = None
    feature_names: list[str] | None = None

    def run(self, X: np.ndarray, *, hidden: bool, task: str) -> tuple[list[np.ndarray], np.ndarray]:
        """Hidden-layer outputs (empty list when ``hidden`` is False) and the prediction.

        The prediction is 2-D: values for regression, probabilities for classification.
        """
        hs: list[list[np.ndarray]] = []
        outs = []
        for s in range(0, X.shape[0], _BATCH):
            h, o = self._run_batch(X[s : s + _BATCH], hidden)
            hs.append(h)
            outs.append(o)
        layers = [np.concatenate([h[i] for h in hs]) for i in range(len(hs[0]))] if hidden else []
        raw = np.concatenate(outs)
        if raw.ndim == 1:
            raw = raw[:, None]
        return layers, self._to_prediction(raw, task)

    # the raw output and how to turn it into probabilities
    _output_link = "identity"  # "identity" (values or logits), "sigmoid", "softmax", "proba"

    def _run_batch(self, X: np.ndarray, hidden: bool) -> tuple[list[np.ndarray], np.ndarray]:
        raise NotImplementedError

    def _to_prediction(self, raw: np.ndarray, task: str) -> np.ndarray:
        raw = np.asarray(raw, dtype=np.float64)
        if task == "regression":
            if self._output_link in ("sigmoid", "softmax", "proba"):
                raise ValueError(
                    "task='regression' was requested, but the network outputs probabilities "
                    f"({self._output_link}); use task='classification'."
                )
            return raw
        if self._output_link == "proba":
            return raw
        if self._output_link == "sigmoid":
            return expit(raw)
        if self._output_link == "softmax":
            return softmax(raw, axis=1)
        # raw logits of a classifier without an output activation
        return expit(raw) if raw.shape[1] == 1 else softmax(raw, axis=1)


class _ReluAdapter(NetworkAdapter):
    kind = "relu_network"

    def __init__(self, net: ReluNetwork, owner: Any = None) -> None:
        self.net = net
        self.n_features = net.n_features
        self.feature_names = list(net.feature_names) if net.feature_names is not None else None
        self._output_link = net.output
        self.task = "regression" if net.output == "identity" else "classification"
        if owner is not None:
            est_type = getattr(owner, "_estimator_type", None)
            if est_type in ("classifier", "regressor"):
                self.task = "classification" if est_type == "classifier" else "regression"
            classes = getattr(owner, "classes_", None)
            if classes is not None:
                self.classes = np.asarray(classes)
            names = getattr(owner, "feature_names_in_", None)
            if names is not None and self.feature_names is None:
                self.feature_names = [str(n) for n in names]
        self.n_hidden_layers = len(net.hidden_sizes)

    def _run_batch(self, X, hidden):
        hs = self.net._layer_values(X, post=True)
        a = hs[-1] if hs else X
        out = a @ self.net._Wt[-1] + self.net._b[-1]
        return (hs if hidden else []), out


class _SklearnAdapter(NetworkAdapter):
    kind = "sklearn"
    _output_link = "proba"

    def __init__(self, model: Any) -> None:
        self.pre = None
        mlp = model
        if type(model).__name__ == "Pipeline":
            if len(model.steps) < 1:
                raise ValueError("The pipeline has no steps.")
            mlp = model.steps[-1][1]
            self.pre = model[:-1] if len(model.steps) > 1 else None
        if not hasattr(mlp, "coefs_"):
            raise ValueError(f"This {type(mlp).__name__} is not fitted yet; call fit(X, y) first.")
        self.mlp = mlp
        self.is_classifier = type(mlp).__name__ == "MLPClassifier"
        self.task = "classification" if self.is_classifier else "regression"
        if self.is_classifier:
            self.classes = np.asarray(mlp.classes_)
            binarizer = getattr(mlp, "_label_binarizer", None)
            if getattr(binarizer, "y_type_", None) == "multilabel-indicator":
                raise ValueError("Multi-label MLPClassifiers are not supported by the mixture.")
        else:
            self._output_link = "identity"
        self.n_features = int(getattr(model, "n_features_in_", mlp.coefs_[0].shape[0]))
        names = getattr(model, "feature_names_in_", None)
        self.feature_names = [str(n) for n in names] if names is not None else None
        self.n_hidden_layers = len(mlp.coefs_) - 1
        self.act = _SK_ACT[mlp.activation]

    def _run_batch(self, X, hidden):
        Xt = X
        if self.pre is not None:
            if self.feature_names is not None:
                import pandas as pd

                Xt = pd.DataFrame(X, columns=self.feature_names)
            Xt = np.asarray(self.pre.transform(Xt), dtype=np.float64)
        hs = []
        a = Xt
        for W, b in zip(self.mlp.coefs_[:-1], self.mlp.intercepts_[:-1], strict=False):
            a = self.act(a @ W + b)
            hs.append(a)
        eta = a @ self.mlp.coefs_[-1] + self.mlp.intercepts_[-1]
        if self.is_classifier:
            out_act = self.mlp.out_activation_
            out = expit(eta) if out_act == "logistic" else softmax(eta, axis=1)
        else:
            out = eta
        return (hs if hidden else []), out


class _TorchAdapter(NetworkAdapter):
    kind = "torch"

    def __init__(self, module: Any) -> None:
        import torch

        self.module = module
        params = list(module.parameters())
        self.dtype = params[0].dtype if params else torch.float32
        self.device = params[0].device if params else torch.device("cpu")
        first_linear = next(
            (m for m in module.modules() if isinstance(m, torch.nn.Linear)), None
        )
        self.n_features = int(first_linear.in_features) if first_linear is not None else None
        self.n_hidden_layers = None  # known after the first pass

    def _run_batch(self, X, hidden):
        import torch

        captured: list[tuple[Any, Any]] = []

        def hook(mod, inp, out):
            captured.append((mod, out))

        handles = [
            m.register_forward_hook(hook)
            for m in self.module.modules()
            if type(m).__module__.startswith("torch.nn.modules.activation")
        ]
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.no_grad():
                out = self.module(torch.as_tensor(X, dtype=self.dtype, device=self.device))
        finally:
            for h in handles:
                h.remove()
            self.module.train(was_training)
        if not torch.is_tensor(out):
            raise TypeError(
                f"The torch module returned a {type(out).__name__}; a tensor of shape "
                "(n_samples, n_outputs) is required."
            )
        link = "identity"
        if captured and captured[-1][1] is out:
            last = type(captured[-1][0]).__name__
            if last in ("Sigmoid", "Softmax"):
                link = "sigmoid" if last == "Sigmoid" else "softmax"
            captured = captured[:-1]
        elif captured and type(captured[-1][0]).__name__ in ("Sigmoid", "Softmax"):
            if torch.equal(captured[-1][1], out):
                link = "sigmoid" if type(captured[-1][0]).__name__ == "Sigmoid" else "softmax"
                captured = captured[:-1]
        self._output_link = "proba" if link in ("sigmoid", "softmax") else "identity"
        if self._output_link == "proba":
            self.task = "classification"
        self.n_hidden_layers = len(captured)
        hs = [_to_2d(t) for _, t in captured] if hidden else []
        return hs, _to_2d(out)


def _to_2d(t: Any) -> np.ndarray:
    a = t.detach().cpu().double().numpy()
    return a.reshape(a.shape[0], -1)


def network_adapter(network: Any) -> NetworkAdapter:
    """Wrap ``network`` for the mixture of linear models.

    Raises
    ------
    TypeError
        For an object that is none of the supported network kinds.
    ValueError
        For an unfitted scikit-learn model or a network without hidden layers.
    """
    if isinstance(network, NetworkAdapter):
        return network
    if isinstance(network, ReluNetwork):
        adapter: NetworkAdapter = _ReluAdapter(network)
    elif isinstance(getattr(network, "network_", None), ReluNetwork):
        adapter = _ReluAdapter(network.network_, owner=network)
    elif type(network).__name__ in ("MLPClassifier", "MLPRegressor") or (
        type(network).__name__ == "Pipeline"
        and hasattr(network, "steps")
        and len(network.steps) > 0
        and type(network.steps[-1][1]).__name__ in ("MLPClassifier", "MLPRegressor")
    ):
        adapter = _SklearnAdapter(network)
    elif is_torch_module(network):
        adapter = _TorchAdapter(network)
    elif is_onnx_model(network):
        adapter = _ReluAdapter(from_onnx(network))
    elif network is None:
        raise TypeError("network is None; pass the fitted network to explain.")
    else:
        raise TypeError(
            f"Cannot explain a {type(network).__name__}: pass a ReluNetwork, a fitted glassnet "
            "estimator, a fitted scikit-learn MLPClassifier/MLPRegressor (any activation, "
            "optionally at the end of a Pipeline), a torch nn.Module (any activation) or an "
            "ONNX ReLU model (path ending in .onnx, bytes, ModelProto)."
        )
    if adapter.n_hidden_layers == 0:
        raise ValueError(
            "The network has no hidden layers, so there is nothing to cluster: a mixture of "
            "linear models needs at least one hidden layer (a linear model explains itself)."
        )
    return adapter
