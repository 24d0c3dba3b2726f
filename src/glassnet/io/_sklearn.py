"""Import fitted scikit-learn multi-layer perceptrons (and scaler pipelines in front of them)."""

from __future__ import annotations

from typing import Any

import numpy as np

from glassnet.io._compose import RELU, Affine, network_from_ops
from glassnet.network import ReluNetwork

_OUT_LINK = {"identity": "identity", "logistic": "sigmoid", "softmax": "softmax"}


def from_sklearn(estimator: Any) -> ReluNetwork:
    """Import a fitted scikit-learn MLP as an exact :class:`~glassnet.ReluNetwork`.

    Parameters
    ----------
    estimator : MLPClassifier, MLPRegressor or Pipeline
        A fitted ``MLPClassifier`` (binary, multi-class, multi-label) or ``MLPRegressor``
        (one or several targets) with ``activation="relu"`` (or ``"identity"``). A
        ``Pipeline`` whose last step is such an MLP and whose earlier steps are affine
        scalers (``StandardScaler``, ``MinMaxScaler`` without clipping, ``MaxAbsScaler``,
        ``RobustScaler``, ``"passthrough"``) is imported with the scalers folded into the
        first layer, so local linear models speak in the original units.

    Returns
    -------
    ReluNetwork
        Output link ``"sigmoid"`` for binary/multi-label classifiers (the single output of
        a binary classifier is the probability of ``classes_[1]``), ``"softmax"`` for
        multi-class, ``"identity"`` for regressors.

    Raises
    ------
    TypeError
        For another estimator type, an unsupported pipeline step, or a smooth activation
        (``tanh``, ``logistic``): those networks are not piecewise linear; explain them with
        :class:`glassnet.MixtureOfLinearModels` instead.
    ValueError
        If the estimator is not fitted.
    """
    pre_ops: list[Affine | str] = []
    names = _feature_names(estimator)
    mlp = estimator
    if _is_pipeline(estimator):
        steps = [s for _, s in estimator.steps]
        if not steps:
            raise ValueError("The pipeline has no steps.")
        mlp = steps[-1]
        for i, step in enumerate(steps[:-1]):
            if step is None or step == "passthrough":
                continue
            pre_ops.append(_scaler_affine(step, i))
    cls = type(mlp).__name__
    if cls not in ("MLPClassifier", "MLPRegressor"):
        raise TypeError(
            f"from_sklearn expects a fitted MLPClassifier or MLPRegressor (or a Pipeline ending "
            f"in one); got {cls}. For other models use ReluNetwork.from_torch / from_onnx, or "
            "explain them with MixtureOfLinearModels."
        )
    if not hasattr(mlp, "coefs_"):
        raise ValueError(f"This {cls} is not fitted yet; call fit(X, y) first.")
    if mlp.activation not in ("relu", "identity"):
        raise TypeError(
            f"{cls} uses activation={mlp.activation!r}; only 'relu' (and 'identity') networks "
            "are exactly piecewise linear. Refit with activation='relu', or explain this network "
            "with glassnet.MixtureOfLinearModels, which accepts any activation."
        )
    ops: list[Affine | str] = list(pre_ops)
    n_layers = len(mlp.coefs_)
    for i, (W, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_, strict=True)):
        W64, b64 = np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)
        ops.append(Affine(W64.T, b64, f"coefs_[{i}]"))
        if i < n_layers - 1 and mlp.activation == "relu":
            ops.append(RELU)
    link = _OUT_LINK.get(mlp.out_activation_)
    if link is None:
        raise TypeError(f"Unsupported output activation {mlp.out_activation_!r} of {cls}.")
    return network_from_ops(ops, output=link, feature_names=names)


def _is_pipeline(est: Any) -> bool:
    return type(est).__name__ == "Pipeline" and hasattr(est, "steps")


def _feature_names(est: Any) -> list[str] | None:
    names = getattr(est, "feature_names_in_", None)
    if names is None:
        return None
    return [str(n) for n in names]


def _scaler_affine(step: Any, position: int) -> Affine:
    name = type(step).__name__
    if name == "StandardScaler":
        if not hasattr(step, "n_features_in_"):
            raise ValueError(f"Pipeline step {position} ({name}) is not fitted.")
        d = step.n_features_in_
        mean = step.mean_ if step.mean_ is not None else np.zeros(d)
        scale = step.scale_ if step.scale_ is not None else np.ones(d)
        return Affine(np.diag(1.0 / scale), -mean / scale, f"step {position} ({name})")
    if name == "MinMaxScaler":
        if getattr(step, "clip", False):
            raise TypeError(
                f"Pipeline step {position} (MinMaxScaler with clip=True) is not affine; "
                "refit it with clip=False to import the pipeline exactly."
            )
        where = f"step {position} ({name})"
        return Affine(np.diag(step.scale_), np.asarray(step.min_, dtype=np.float64), where)
    if name == "MaxAbsScaler":
        where = f"step {position} ({name})"
        return Affine(np.diag(1.0 / step.scale_), np.zeros(step.scale_.shape[0]), where)
    if name == "RobustScaler":
        d = step.n_features_in_
        center = step.center_ if step.center_ is not None else np.zeros(d)
        scale = step.scale_ if step.scale_ is not None else np.ones(d)
        return Affine(np.diag(1.0 / scale), -center / scale, f"step {position} ({name})")
    raise TypeError(
        f"Pipeline step {position} ({name}) is not supported: only affine scalers "
        "(StandardScaler, MinMaxScaler, MaxAbsScaler, RobustScaler) can be folded exactly into "
        "the network. Transform the data yourself and import the MLP alone."
    )
