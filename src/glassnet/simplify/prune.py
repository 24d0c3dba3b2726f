"""Pruning: keep the largest activation regions and attach every other one to them (F8).

:class:`RegionPruner` keeps the ``n_regions`` regions holding the most training rows
(ties: the region numbering of :func:`glassnet.unwrap`), attaches every other region to
the kept region whose **centre** (mean training row, in units of the feature standard
deviations) is nearest to its own centre, and refits one GLM per kept region on the rows
it now holds. A new row whose activation pattern was never seen goes to the kept region
whose centre is nearest to the row itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from glassnet.regions import unwrap
from glassnet.simplify._common import _PiecewiseGLM, check_positive_int, group_means

__all__ = ["RegionPruner"]


class RegionPruner(_PiecewiseGLM):
    """Keep the top-k regions by count, attach the rest to the nearest kept one, refit.

    Parameters
    ----------
    network : ReluNetwork, or a fitted glassnet / scikit-learn MLP / torch model
    n_regions : int
        Number of regions kept (default 10); at most the number of regions on ``X``.
    task : {"auto", "classification", "regression"}
    refit : scikit-learn estimator, optional
        Default ``LogisticRegression(C=100.0, max_iter=2000)`` / ``LinearRegression()``.
    scoring : str or callable, optional
        Used by :meth:`score` (see :class:`RegionMerger`).

    Attributes
    ----------
    network_, regions_, task_, classes_, n_regions_, region_to_merged_, merged_labels_,
    models_, constant_regions_, coef_, intercept_, n_features_in_, feature_names_in_
        As for :class:`RegionMerger`; merged region ``j`` is kept region ``kept_[j]``.
    kept_ : ndarray of shape (n_regions_,)
        Indices (in ``regions_``) of the kept regions.
    centres_ : ndarray of shape (n_regions_, n_features)
        Mean training row of each kept region (before attaching the others).

    Examples
    --------
    >>> from sklearn.datasets import make_moons
    >>> from sklearn.neural_network import MLPClassifier
    >>> from glassnet import RegionPruner
    >>> X, y = make_moons(400, noise=0.2, random_state=0)
    >>> mlp = MLPClassifier((16, 16), max_iter=800, random_state=0).fit(X, y)
    >>> RegionPruner(mlp, n_regions=5).fit(X, y).n_regions_
    5
    """

    def __init__(
        self,
        network: Any,
        *,
        n_regions: int = 10,
        task: str = "auto",
        refit: Any = None,
        scoring: Any = None,
    ) -> None:
        self.network = network
        self.n_regions = n_regions
        self.task = task
        self.refit = refit
        self.scoring = scoring

    def fit(self, X: Any, y: Any) -> RegionPruner:
        """Unwrap ``X``, keep the largest regions, attach the others and refit.

        Returns
        -------
        self
        """
        Xa, yv = self._validate_fit_input(X, y)
        k = check_positive_int(self.n_regions, "n_regions")
        self.regions_ = unwrap(self.network_, Xa)
        R = len(self.regions_)
        if k > R:
            raise ValueError(
                f"n_regions={k} is larger than the {R} activation regions the network has on X; "
                "ask for at most that many."
            )
        sd = Xa.std(axis=0)
        self._x_scale = np.where(sd > 0, sd, 1.0)
        _, centres = group_means(self.regions_.labels, Xa, R)
        self.kept_ = np.arange(k)  # regions are numbered by decreasing count
        self.centres_ = centres[: k].copy()
        self._nn = NearestNeighbors(n_neighbors=1).fit(self.centres_ / self._x_scale)
        mapping = np.empty(R, dtype=np.int64)
        mapping[:k] = np.arange(k)
        if R > k:
            mapping[k:] = self._nn.kneighbors(centres[k:] / self._x_scale)[1][:, 0]
        self.region_to_merged_ = mapping
        self.n_regions_ = k
        self.merged_labels_ = mapping[self.regions_.labels]
        with threadpool_limits(limits=1, user_api="blas"):
            self._fit_models(Xa, yv, self.merged_labels_)
        return self

    def _assign_unseen(self, X: np.ndarray) -> np.ndarray:
        check_is_fitted(self, "kept_")
        return self._nn.kneighbors(X / self._x_scale)[1][:, 0].astype(np.int64)
