"""Import fitted scikit-learn MLPs, glassnet estimators and pipelines ending in either.

A pipeline's scalers are folded into the network's first layer; a ``OneHotEncoder`` makes
the network's inputs the encoded columns (see :mod:`glassnet.io._pipeline`). Every import
is checked against the original model on seeded probe rows (:mod:`glassnet.io._verify`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from glassnet.io._compose import RELU, Affine, network_from_ops
from glassnet.io._pipeline import (
    InputEncoder,
    _sk,
    column_transformer,
    is_identity,
    onehot_blocks,
    scaler_affine,
    scaler_stats,
    selection_affine,
)
from glassnet.io._verify import check_agreement, probe_rows
from glassnet.network import ReluNetwork

_OUT_LINK = {"identity": "identity", "logistic": "sigmoid", "softmax": "softmax"}


def from_sklearn(estimator: Any) -> ReluNetwork:
    """Import a fitted scikit-learn MLP, glassnet estimator or pipeline as a ReluNetwork.

    Parameters
    ----------
    estimator : MLPClassifier, MLPRegressor, ReluNetClassifier, ReluNetRegressor, Pipeline
        A fitted ``MLPClassifier`` (binary, multi-class, multi-label) or ``MLPRegressor``
        with ``activation="relu"`` (or ``"identity"``), a fitted glassnet estimator, a
        ``FrozenEstimator`` wrapping one, or a ``Pipeline`` ending in one of these whose
        earlier steps are ``StandardScaler``, ``MinMaxScaler`` (``clip=False``),
        ``RobustScaler``, ``MaxAbsScaler`` (every other option supported exactly),
        ``"passthrough"``, a ``ColumnTransformer`` of those and ``OneHotEncoder``, or a
        ``OneHotEncoder``. Scalers are folded into the first layer, so the network reads
        raw units. With a one-hot encoder the network's inputs are the ENCODED columns
        (numeric columns in raw units, then ``<column>_<category>``), ``feature_groups``
        maps each categorical column to its one-hot columns, and
        :func:`glassnet.io.input_encoder` returns the function that encodes raw rows.

    Returns
    -------
    ReluNetwork
        Output link ``"sigmoid"`` for binary/multi-label classifiers (the single output of
        a binary classifier is the probability of ``classes_[1]``), ``"softmax"`` for
        multi-class, ``"identity"`` for regressors.

    Raises
    ------
    TypeError
        For another estimator type or an unsupported pipeline step (the message names the
        step), a subclass of a supported class, or a smooth activation (``tanh``,
        ``logistic``).
    ValueError
        If the estimator is not fitted.
    ImportMismatchError
        (a ``ValueError``) if the imported network does not reproduce the estimator's
        ``predict_proba``/``predict`` on seeded probe rows (see :mod:`glassnet.io`).
    """
    return import_sklearn(estimator)[0]


def import_sklearn(estimator: Any) -> tuple[ReluNetwork, Any]:
    """:func:`from_sklearn` and the raw-row encoder (None when the network reads raw rows)."""
    estimator = unfreeze(estimator)
    if is_pipeline(estimator):
        steps = list(estimator.steps)
        if not steps:
            raise ValueError("The pipeline has no steps.")
        final_name, final = steps[-1]
        final = unfreeze(final)
        pre = steps[:-1]
        where_final = f"pipeline step {len(steps) - 1} ({final_name!r}, {type(final).__name__})"
    else:
        final, pre, where_final = estimator, [], type(estimator).__name__
    own = _glassnet_estimator(final)
    if own:
        if not hasattr(final, "network_"):
            raise ValueError(f"{where_final} is not fitted yet; call fit first.")
        inner: ReluNetwork = final.network_
        final_ops: list[Affine | str] = _network_ops(inner)
        link = inner.output
        if not pre:
            return inner, _own_encoder(final)
    else:
        final_ops, link = _mlp_ops(final, where_final)
    encoder, pre_ops, stats = _preprocessing(pre)
    if own and _own_encoder(final) is not None and (encoder is not None or pre_ops):
        raise TypeError(
            f"{where_final} one-hot encodes categorical columns itself; steps before it "
            "would transform those columns first. Put the glassnet estimator first, or "
            "encode with a ColumnTransformer and give the estimator numeric columns."
        )
    names = _names(estimator, final, own) if encoder is None else list(encoder.feature_names_out)
    groups = None if encoder is None else (encoder.feature_groups or None)
    if encoder is None and own and not pre_ops and final.network_.feature_groups is not None:
        groups = dict(final.network_.feature_groups)
    net = network_from_ops([*pre_ops, *final_ops], output=link, feature_names=names,
                           feature_groups=groups)
    _verify(net, estimator, final, encoder, stats)
    return net, encoder


def unfreeze(est: Any) -> Any:
    """The estimator inside a ``sklearn.frozen.FrozenEstimator`` (sklearn >= 1.6)."""
    try:
        from sklearn.frozen import FrozenEstimator
    except ImportError:  # pragma: no cover - older scikit-learn
        return est
    while type(est) is FrozenEstimator:
        est = est.estimator
    return est


def is_pipeline(est: Any) -> bool:
    from sklearn.pipeline import Pipeline

    return type(est) is Pipeline


def _glassnet_estimator(est: Any) -> bool:
    from glassnet.estimators import ReluNetClassifier, ReluNetRegressor

    return type(est) in (ReluNetClassifier, ReluNetRegressor)


def _own_encoder(est: Any) -> Any:
    """A glassnet estimator's ``transform_inputs`` when it one-hot encodes columns."""
    if getattr(est, "feature_groups_", None) and hasattr(est, "transform_inputs"):
        return est.transform_inputs
    return None


def _network_ops(net: ReluNetwork) -> list[Affine | str]:
    ops: list[Affine | str] = []
    for i, (W, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        if i:
            ops.append(RELU)
        ops.append(Affine(np.asarray(W), np.asarray(b), f"network_ layer {i}"))
    return ops


def _mlp_ops(mlp: Any, where: str) -> tuple[list[Affine | str], str]:
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    cls = type(mlp).__name__
    if type(mlp) not in (MLPClassifier, MLPRegressor):
        raise TypeError(
            f"{where} is not supported: a pipeline or model must end in a fitted "
            "MLPClassifier, MLPRegressor, ReluNetClassifier or ReluNetRegressor (exactly those "
            "classes, not subclasses). For a torch or ONNX model use ReluNetwork.from_torch / "
            "from_onnx."
        )
    if not hasattr(mlp, "coefs_"):
        raise ValueError(f"{where} is not fitted yet; call fit(X, y) first.")
    if mlp.activation not in ("relu", "identity"):
        raise TypeError(
            f"{where} uses activation={mlp.activation!r}; only 'relu' (and 'identity') networks "
            "are exactly piecewise linear. Refit with activation='relu', or explain this network "
            "with glassnet.MixtureOfLinearModels, which accepts any activation."
        )
    link = _OUT_LINK.get(getattr(mlp, "out_activation_", None))
    if link is None or (type(mlp) is MLPRegressor and link != "identity"):
        raise TypeError(f"{where} has an unsupported output activation "
                        f"{getattr(mlp, 'out_activation_', None)!r} for a {cls}.")
    ops: list[Affine | str] = []
    n_layers = len(mlp.coefs_)
    for i, (W, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_, strict=True)):
        W64, b64 = np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if W64.ndim != 2 or b64.shape != (W64.shape[1],):
            raise ValueError(f"{where}: coefs_[{i}]/intercepts_[{i}] have inconsistent shapes.")
        ops.append(Affine(W64.T, b64, f"{where} coefs_[{i}]"))
        if i < n_layers - 1 and mlp.activation == "relu":
            ops.append(RELU)
    return ops, link


def _preprocessing(pre: list[tuple[str, Any]]) -> tuple[InputEncoder | None, list[Affine], Any]:
    """Encoder (if a one-hot encoder is present), affine maps, and probe statistics."""
    sk = _sk()
    encoder = None
    ops: list[Affine] = []
    stats = None
    for i, (name, step) in enumerate(pre):
        where = f"pipeline step {i} ({name!r}, {type(step).__name__})"
        if is_identity(step):
            continue
        first = encoder is None and not ops
        aff = scaler_affine(step, where)
        if aff is not None:
            if first:
                stats = scaler_stats(step)
            ops.append(aff)
            continue
        if type(step) in (sk["ColumnTransformer"], sk["OneHotEncoder"]):
            if type(step) is sk["OneHotEncoder"]:
                blocks, inner = onehot_blocks(step, where)
            else:
                blocks, inner = column_transformer(step, where)
            n_in = int(step.n_features_in_)
            if not any(b.kind == "onehot" for b in blocks):
                ops.append(selection_affine(blocks, inner, n_in, where))
                continue
            if not first:
                raise TypeError(
                    f"{where} one-hot encodes columns after another step transformed them; "
                    "put the ColumnTransformer/OneHotEncoder first in the pipeline."
                )
            encoder = InputEncoder(blocks, n_in, getattr(step, "feature_names_in_", None), where)
            ops.append(inner)
            continue
        raise TypeError(
            f"{where} is not supported: only StandardScaler, MinMaxScaler (clip=False), "
            "RobustScaler, MaxAbsScaler, OneHotEncoder, a ColumnTransformer of those, and "
            "'passthrough' can be imported exactly (exactly those classes, not subclasses). "
            "Transform the data yourself and import the final model alone."
        )
    return encoder, ops, stats


def _names(estimator: Any, final: Any, own: bool) -> list[str] | None:
    names = getattr(estimator, "feature_names_in_", None)
    if names is None and own and not is_pipeline(estimator):
        return list(final.network_.feature_names or []) or None
    return None if names is None else [str(n) for n in names]


def _verify(net: ReluNetwork, estimator: Any, final: Any, encoder: Any, stats: Any) -> None:
    """Compare ``net`` with the estimator's own predictions on seeded probe rows."""
    d_raw = encoder.n_features_in if encoder is not None else net.n_features
    X = probe_rows(d_raw)
    if stats is not None and stats[0].shape == (d_raw,):
        X = np.vstack([X, probe_rows(d_raw, *stats)])
    if encoder is not None:
        X_raw = encoder.probe_raw(X)
        X_net = encoder(X_raw)
    else:
        names = getattr(estimator, "feature_names_in_", None)
        X_raw = X
        if names is not None:
            import pandas as pd

            X_raw = pd.DataFrame(X, columns=list(names))
        X_net = X
    from sklearn.base import is_classifier

    is_clf = is_classifier(final) and hasattr(final, "predict_proba")
    coef_dtype = getattr(final, "coefs_", [np.zeros(1)])[0].dtype

    def reference() -> np.ndarray:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return estimator.predict_proba(X_raw) if is_clf else estimator.predict(X_raw)

    check_agreement(net, X_net, reference, model=type(final).__name__ + (
        " pipeline" if is_pipeline(estimator) else ""), float32=coef_dtype == np.float32)
