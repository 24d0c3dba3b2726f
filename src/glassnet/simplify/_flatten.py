"""Flattening: a merged-region model becomes a one-hidden-layer ReLU network (F8).

:func:`flatten` builds a network with one hidden ReLU unit per merged region, starts it
from the merged regions' GLMs and fine-tunes every weight with Adam and early stopping
(:class:`glassnet.ReluNetClassifier` / :class:`glassnet.ReluNetRegressor`). The result is
an ordinary glassnet estimator: its ``network_`` can be unwrapped again, and with ``K``
hidden units it has at most ``sum_{i<=d} C(K, i)`` activation regions in ``d`` input
dimensions (the cells of an arrangement of ``K`` hyperplanes), far fewer than the deep
network it replaces.

Initialisation (:func:`flatten_init_network`)
----------------------------------------------
Hidden unit ``k`` starts as ``relu(s_k * (beta_k . x + alpha_k))``, where ``beta_k``,
``alpha_k`` are merged region ``k``'s GLM on the link scale (for several classes, the
class row that varies most from the class mean). The sign ``s_k`` is the one for which the
unit is active on the smaller share of the rows *outside* region ``k``, so that each unit
starts as a local correction near its region rather than a global slope. A constant
region's unit gets ``s_k = sign(alpha_k)`` (active everywhere, a bias). The output layer
starts as a GLM (logistic or least-squares, weak ridge) fitted on the hidden units'
activations of the training rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.utils.validation import check_is_fitted

from glassnet.network import ReluNetwork

__all__ = ["flatten", "flatten_init_network"]


def _check_merged(merger: Any) -> None:
    from glassnet.simplify._common import _PiecewiseGLM

    if not isinstance(merger, _PiecewiseGLM):
        raise TypeError(
            "flatten needs a fitted RegionMerger or RegionPruner; got "
            f"{type(merger).__name__}."
        )
    check_is_fitted(merger, "models_")
    if not np.isfinite(merger.coef_).all():
        raise ValueError(
            "The merged models have no linear coefficients (refit is not a linear model); "
            "flatten needs coef_ and intercept_ on the merged regions."
        )


def flatten_init_network(merger: Any, X: Any, y: Any) -> ReluNetwork:
    """The starting network of :func:`flatten` (see the module docstring).

    Parameters
    ----------
    merger : fitted RegionMerger or RegionPruner
    X : array-like of shape (n_samples, n_features)
        Rows used to choose the signs and fit the output layer.
    y : array-like of shape (n_samples,)

    Returns
    -------
    ReluNetwork
        One hidden layer of ``merger.n_regions_`` units; output link as the merged model's
        task (sigmoid for two classes, softmax for more, identity for regression).
    """
    _check_merged(merger)
    Xa = merger.network_.check_input(X)
    yv = merger._encode_y(y, Xa.shape[0])
    groups = merger.apply(Xa)
    K = merger.n_regions_
    coef, inter = merger.coef_, merger.intercept_  # (K, k, d), (K, k)
    if coef.shape[1] == 1:
        W = coef[:, 0, :].copy()
        b = inter[:, 0].copy()
    else:  # one unit per region: the class contrast that varies most within the region
        c = coef - coef.mean(axis=1, keepdims=True)
        row = np.argmax((c**2).sum(axis=2), axis=1)
        W = c[np.arange(K), row].copy()
        b = (inter - inter.mean(axis=1, keepdims=True))[np.arange(K), row]
    Z = Xa @ W.T + b  # (n, K)
    signs = np.ones(K)
    for k in range(K):
        if not np.any(W[k]):
            signs[k] = 1.0 if b[k] >= 0 else -1.0
            continue
        outside = groups != k
        if outside.any():
            pos = np.mean(Z[outside, k] > 0)
            signs[k] = 1.0 if pos <= 0.5 else -1.0
    W *= signs[:, None]
    b *= signs
    H = np.maximum(Xa @ W.T + b, 0.0)
    if merger.task_ == "classification":
        n_cls = len(merger.classes_)
        out = LogisticRegression(C=100.0, max_iter=2000).fit(H, yv)
        Wo = np.asarray(out.coef_, dtype=np.float64)
        bo = np.asarray(out.intercept_, dtype=np.float64)
        link = "sigmoid" if n_cls == 2 else "softmax"
    else:
        out = LinearRegression().fit(H, yv)
        Wo = np.atleast_2d(np.asarray(out.coef_, dtype=np.float64))
        bo = np.atleast_1d(np.asarray(out.intercept_, dtype=np.float64))
        link = "identity"
    return ReluNetwork([W, Wo], [b, bo], output=link,
                       feature_names=merger.network_.feature_names,
                       feature_groups=merger.network_.feature_groups)


def flatten(
    merger: Any,
    X: Any,
    y: Any,
    *,
    learning_rate: float = 0.01,
    batch_size: int = 64,
    max_epochs: int = 500,
    n_iter_no_change: int = 30,
    validation_fraction: float = 0.2,
    l1_reg: float = 0.0,
    random_state: Any = None,
    verbose: bool = False,
) -> Any:
    """Turn a merged-region model into a fine-tuned one-hidden-layer ReLU network.

    Parameters
    ----------
    merger : fitted RegionMerger or RegionPruner
        Its merged regions' GLMs initialise one hidden unit each (see the module docstring).
    X : array-like or DataFrame of shape (n_samples, n_features)
        Training rows (typically those the merger was fitted on).
    y : array-like of shape (n_samples,)
    learning_rate, batch_size, max_epochs, n_iter_no_change, validation_fraction, l1_reg
        Adam fine-tuning with early stopping on a held-out share of ``X`` (the weights of
        the best validation epoch are restored); see :class:`glassnet.ReluNetClassifier`.
    random_state : int, RandomState or None
        Validation split and batch order.
    verbose : bool
        Progress bar.

    Returns
    -------
    ReluNetClassifier or ReluNetRegressor
        Fitted, with ``network_`` of hidden layer size ``(merger.n_regions_,)``.
        ``flatten_init_`` holds the starting network.

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from sklearn.neural_network import MLPClassifier
    >>> from glassnet import RegionMerger, flatten
    >>> X, y = make_moons(400, noise=0.2, random_state=0)
    >>> mlp = MLPClassifier((16, 16), max_iter=800, random_state=0).fit(X, y)
    >>> merger = RegionMerger(mlp, n_regions=4).fit(X, y)
    >>> flat = flatten(merger, X, y, max_epochs=50, random_state=0)
    >>> flat.network_.hidden_sizes
    (4,)
    """
    from glassnet.estimators import ReluNetClassifier, ReluNetRegressor

    init = flatten_init_network(merger, X, y)
    cls = ReluNetClassifier if merger.task_ == "classification" else ReluNetRegressor
    est = cls(
        hidden_layer_sizes=init.hidden_sizes,
        learning_rate=learning_rate,
        batch_size=batch_size,
        max_epochs=max_epochs,
        n_iter_no_change=n_iter_no_change,
        validation_fraction=validation_fraction,
        l1_reg=l1_reg,
        random_state=random_state,
        verbose=verbose,
    )
    est.fit(X, y, init_network=init)
    est.flatten_init_ = init
    return est
