"""Parameter checks of the mixture of linear models (private).

One function validates every constructor argument of
:class:`~glassnet.mlm.MixtureOfLinearModels` at the start of ``fit`` (as scikit-learn does),
so that a bad value is reported by name before any work is done; persistence runs the same
check on a loaded mixture.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

LINKAGES = ("ward", "average", "complete", "single", "weighted")
COVARIANCES = ("full", "tied", "diag", "spherical")


def is_int(v: Any) -> bool:
    """An integer that is not a bool."""
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def is_real(v: Any) -> bool:
    """A finite real number that is not a bool."""
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and np.isfinite(v)


def check_params(est: Any) -> None:
    """Raise ``ValueError`` naming the first constructor argument of ``est`` that is invalid.

    Parameters
    ----------
    est : MixtureOfLinearModels
        The estimator whose parameters are checked (attributes as set by ``__init__``).
    """
    k = est.n_layer_clusters
    if isinstance(k, str):
        ks = [1] if k == "auto" else None
    elif is_int(k):
        ks = [k]
    else:
        ks = list(k) if isinstance(k, (Sequence, np.ndarray)) else None
    if not ks or not all(is_int(v) and v >= 1 for v in ks):
        raise ValueError(
            "n_layer_clusters must be 'auto', a positive integer or a sequence of positive "
            f"integers (one per hidden layer); got {k!r}."
        )
    if est.clustering not in ("gmm", "kmeans"):
        raise ValueError(f"clustering must be 'gmm' or 'kmeans'; got {est.clustering!r}.")
    if not is_int(est.n_perturb) or est.n_perturb < 0:
        raise ValueError(f"n_perturb must be a non-negative integer; got {est.n_perturb!r}.")
    if not is_real(est.perturb_var) or est.perturb_var < 0:
        raise ValueError(
            f"perturb_var must be a non-negative number; got {est.perturb_var!r}."
        )
    if not (est.n_epics == "auto" or (is_int(est.n_epics) and est.n_epics >= 1)):
        raise ValueError(f"n_epics must be 'auto' or a positive integer; got {est.n_epics!r}.")
    if est.linkage not in LINKAGES:
        raise ValueError(f"linkage must be one of {LINKAGES}; got {est.linkage!r}.")
    if est.weights not in ("soft", "hard"):
        raise ValueError(f"weights must be 'soft' or 'hard'; got {est.weights!r}.")
    if est.prior not in ("size", "uniform"):
        raise ValueError(f"prior must be 'size' or 'uniform'; got {est.prior!r}.")
    if est.covariance_type not in COVARIANCES:
        raise ValueError(
            f"covariance_type must be one of {COVARIANCES}; got {est.covariance_type!r}."
        )
    if est.covariance_source not in ("real", "augmented"):
        raise ValueError(
            "covariance_source must be 'real' or 'augmented'; "
            f"got {est.covariance_source!r}."
        )
    if not is_real(est.covariance_shrinkage) or est.covariance_shrinkage < 0:
        raise ValueError(
            f"covariance_shrinkage must be >= 0; got {est.covariance_shrinkage!r}."
        )
    if not is_real(est.reg_covar) or est.reg_covar < 0:
        raise ValueError(f"reg_covar must be a non-negative number; got {est.reg_covar!r}.")
    if est.penalty not in (None, "l1", "l2"):
        raise ValueError(f"penalty must be None, 'l1' or 'l2'; got {est.penalty!r}.")
    if est.penalty is not None and (not is_real(est.alpha) or est.alpha <= 0):
        raise ValueError(f"alpha must be a positive number; got {est.alpha!r}.")
    if est.task not in ("auto", "regression", "classification"):
        raise ValueError(
            f"task must be 'auto', 'regression' or 'classification'; got {est.task!r}."
        )
    if not is_real(est.validation_fraction) or not 0 < est.validation_fraction < 1:
        raise ValueError(
            f"validation_fraction must be in (0, 1); got {est.validation_fraction!r}."
        )
    if not is_real(est.selection_tol) or est.selection_tol < 0:
        raise ValueError(f"selection_tol must be >= 0; got {est.selection_tol!r}.")
    if not is_int(est.max_iter) or est.max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer; got {est.max_iter!r}.")
